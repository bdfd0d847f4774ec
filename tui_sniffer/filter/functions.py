"""Display-filter functions: `len count upper lower string min max abs`, their checks and their values.

Each function maps the values of its arguments in one packet to a list of result values (a field
that is absent gives no values, so `count(http.host) == 0` is false, as in Wireshark).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from tui_sniffer.dissect.fields import FieldType
from tui_sniffer.filter import bound
from tui_sniffer.filter.errors import FilterError
from tui_sniffer.filter.syntax import Call, CharConst, DottedField, Layer, String, Word
from tui_sniffer.filter.values import UNSIGNED_WRAP, as_text, value_length

if TYPE_CHECKING:
    from tui_sniffer.filter.semantics import Checker, Hint

_ARITY = {"len": (1, 1), "count": (1, 1), "upper": (1, 1), "lower": (1, 1), "string": (1, 1),
          "min": (1, None), "max": (1, None), "abs": (1, 1)}
_NOT_STRINGABLE = frozenset({FieldType.BOOLEAN, FieldType.BYTES, FieldType.PROTOCOL, FieldType.STRING,
                             FieldType.RELATIVE_TIME, FieldType.ABSOLUTE_TIME, FieldType.NONE})
_NUMERIC = frozenset({FieldType.UINT8, FieldType.UINT16, FieldType.UINT24, FieldType.UINT32,
                      FieldType.UINT64, FieldType.INT32, FieldType.FRAMENUM, FieldType.FLOAT,
                      FieldType.RELATIVE_TIME})
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def check_call(checker: Checker, node: Call, hint: Hint) -> bound.Value:
    """Check a function call's name, argument count and argument types."""
    name = node.name
    require_known(node)
    fewest, most = _ARITY[name]
    if len(node.arguments) < fewest:
        raise FilterError(f"Function {name} needs at least {fewest} arguments.", node.start, node.name_end)
    if most is not None and len(node.arguments) > most:
        raise FilterError(f"Function {name} can only accept {most} arguments.", node.start, node.name_end)
    if name in ("min", "max"):
        return _check_extreme(checker, node, hint)
    argument = node.arguments[0]
    if name == "abs":
        value = checker.check_value(argument, hint)
        if value.ftype not in _NUMERIC:
            raise FilterError(f"'{checker.source(argument)}' is not a valid argument to 'abs'()",
                              argument.start, argument.end)
        if isinstance(value, bound.Constant):
            return bound.Constant(tuple(_magnitude(value.ftype, item) for item in value.values), value.ftype)
        return bound.FunctionCall(name, (value,), value.ftype)
    field = checker.field_of(argument) if isinstance(argument, (Word, DottedField, Layer)) else None
    if name in ("upper", "lower"):
        if field is None or field.ftype is not FieldType.STRING:
            raise FilterError(f"Only string type fields can be used as parameter for {name}()",
                              argument.start, argument.end)
        return bound.FunctionCall(name, (field,), FieldType.STRING)
    if field is None:
        raise FilterError(f"Only fields can be used as parameter for {name}()", argument.start, argument.end)
    if name == "string":
        if field.ftype in _NOT_STRINGABLE:
            raise FilterError(f'String conversion for field "{field.definition.name}" is not supported',
                              argument.start, argument.end)
        return bound.FunctionCall(name, (field,), FieldType.STRING)
    return bound.FunctionCall(name, (field,), FieldType.UINT32)


def require_known(node: Call) -> None:
    """Fail as tshark's parser does on an unknown function name."""
    if node.name not in _ARITY:
        raise FilterError(f"Function '{node.name}' does not exist", node.start, node.name_end)


def _check_extreme(checker: Checker, node: Call, hint: Hint) -> bound.Value:
    """`min`/`max`: arguments of one type; literals take the type of the first non-literal."""
    typed = next((argument for argument in node.arguments if not checker.is_constant(argument)), None)
    if typed is None and hint is None:
        first = node.arguments[0]
        raise FilterError(f"Argument '{checker.source(first)}' is not valid for {node.name}()",
                          first.start, first.end)
    if typed is not None:
        reference = checker.check_value(typed, None)
        argument_hint = (reference.ftype, getattr(reference, "definition", None))
    else:
        argument_hint = hint
        reference = checker.check_value(node.arguments[0], hint)
    values = []
    for argument in node.arguments:
        if isinstance(argument, (String, CharConst)):
            raise FilterError(f"Argument '{argument.text}' is not valid for {node.name}()",
                              argument.start, argument.end)
        value = checker.check_value(argument, argument_hint)
        if value.ftype is not reference.ftype:
            raise FilterError(f"Arguments to '{node.name}' must have the same type (expected "
                              f"{reference.ftype.value}, got {value.ftype.value})", argument.start,
                              argument.end)
        values.append(value)
    return bound.FunctionCall(node.name, tuple(values), reference.ftype)


def _magnitude(ftype: FieldType, value) -> object:
    """`abs()`; an unsigned value that unary minus wrapped (`abs(-80)`) counts as negative, as in tshark."""
    wrap = UNSIGNED_WRAP.get(ftype)
    if wrap and value >= wrap // 2:
        return wrap - value
    return abs(value)


def apply(call: bound.FunctionCall, argument_values: list[list[object]]) -> list[object]:
    """The function's result values for one packet, given each argument's values."""
    name = call.name
    values = argument_values[0]
    argument_type = call.arguments[0].ftype
    if name == "len":
        return [value_length(argument_type, value) for value in values]
    if name == "count":
        return [len(values)] if values else []
    if name == "upper":
        return [str(value).translate(_ASCII_UPPER) for value in values]
    if name == "lower":
        return [str(value).translate(_ASCII_LOWER) for value in values]
    if name == "string":
        return [as_text(argument_type, value) for value in values]
    if name == "abs":
        return [_magnitude(argument_type, value) for value in values]
    pooled = [value for argument in argument_values for value in argument]
    if not pooled:
        return []
    return [min(pooled) if name == "min" else max(pooled)]  # type: ignore[type-var]
