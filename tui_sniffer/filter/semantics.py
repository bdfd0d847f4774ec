"""The semantic check: resolve names against the field registry, type every value, convert literals.

It follows Wireshark 4.0's semcheck: a literal takes the type of the field on the other side of its
relation, the left side of a comparison must not be a constant, and the messages (and the spans
they point at) are tshark's.
"""
from __future__ import annotations

from typing import Callable

from tui_sniffer.dissect.fields import FieldDef, FieldType
from tui_sniffer.filter import bound, functions, regex
from tui_sniffer.filter.errors import FilterError
from tui_sniffer.filter.literals import TYPE_LABELS, convert_literal
from tui_sniffer.filter.syntax import (Arithmetic, Call, CharConst, Comparison, DottedField, Layer,
                                       Logical, Negate, Node, Not, Reference, Slice, String, Word)
from tui_sniffer.filter.values import UNSIGNED_WRAP, parse_range

Resolver = Callable[[str], "FieldDef | None"]
Hint = "tuple[FieldType, FieldDef | None] | None"

_QUANTIFIERS = {"==": ("==", "any"), "!=": ("!=", "all"), "===": ("==", "all"), "!==": ("!=", "any")}
_INTEGER_FAMILY = frozenset({FieldType.UINT8, FieldType.UINT16, FieldType.UINT24, FieldType.UINT32,
                             FieldType.UINT64, FieldType.INT32, FieldType.FRAMENUM,
                             FieldType.BOOLEAN})
_SLICEABLE = frozenset({FieldType.STRING, FieldType.BYTES, FieldType.ETHER, FieldType.PROTOCOL,
                        FieldType.IPV4, FieldType.IPV6})
_SEARCHABLE = frozenset({FieldType.STRING, FieldType.BYTES, FieldType.ETHER, FieldType.PROTOCOL})
_ARITHMETIC_TYPES = {
    "+": _INTEGER_FAMILY - {FieldType.BOOLEAN} | {FieldType.FLOAT, FieldType.RELATIVE_TIME},
    "-": _INTEGER_FAMILY - {FieldType.BOOLEAN} | {FieldType.FLOAT, FieldType.RELATIVE_TIME},
    "*": _INTEGER_FAMILY - {FieldType.BOOLEAN} | {FieldType.FLOAT},
    "/": _INTEGER_FAMILY - {FieldType.BOOLEAN} | {FieldType.FLOAT},
    "%": _INTEGER_FAMILY - {FieldType.BOOLEAN},
    "&": _INTEGER_FAMILY | {FieldType.BYTES, FieldType.ETHER, FieldType.IPV4, FieldType.IPV6},
}
_NEGATABLE = _INTEGER_FAMILY - {FieldType.BOOLEAN} | {FieldType.FLOAT, FieldType.RELATIVE_TIME}


HEX_LOOKING_PROTOCOLS = frozenset({"aaf", "acf", "a11", "a21", "a615a", "adb", "bfd", "c1222", "c15",
                                   "dc", "dcc", "e100", "e164", "e212", "fc", "fc00", "fefd", "ff"})
"""Wireshark protocols whose names read as hex bytes: tshark takes `frame[0] == ff` to mean the
`ff` protocol (never present here), not the byte 0xff, so we must resolve them the same way."""


def with_wireshark_names(resolve: Resolver) -> Resolver:
    """`resolve`, plus the hex-looking Wireshark protocol names we do not dissect (always absent)."""
    def lookup(name: str) -> FieldDef | None:
        found = resolve(name)
        if found is None and name in HEX_LOOKING_PROTOCOLS:
            return FieldDef(name, name, FieldType.PROTOCOL)
        return found
    return lookup


def compatible(left: FieldType, right: FieldType) -> bool:
    """Whether two field types may be compared (Wireshark's `compatible_ftypes`)."""
    if left in _INTEGER_FAMILY:
        return right in _INTEGER_FAMILY
    if left in (FieldType.BYTES, FieldType.ETHER):
        return right in (FieldType.BYTES, FieldType.ETHER)
    return left is right


class Checker:
    """Checks one filter's syntax tree; `text` is the filter, for messages that quote it."""

    def __init__(self, text: str, resolve: Resolver) -> None:
        self.text = text
        self.resolve = resolve

    def source(self, node: Node) -> str:
        """The filter text a node was parsed from."""
        return self.text[node.start:node.end]

    # -- tests -----------------------------------------------------------------------------------

    def check_test(self, node: Node) -> bound.Test:
        """A node in test position: an existence test, relation or logical combination."""
        if isinstance(node, Logical):
            left, right = self.check_test(node.left), self.check_test(node.right)
            return bound.Both(left, right) if node.operator == "and" else bound.Either(left, right)
        if isinstance(node, Not):
            return bound.Negated(self.check_test(node.operand))
        if isinstance(node, Comparison):
            return self.check_relation(node)
        if isinstance(node, (Word, DottedField, Layer)):
            field = self.field_of(node)
            if field is None:
                raise FilterError(f"{self.source(node)} is neither a field nor a protocol name.",
                                  node.start, node.end)
            return bound.Exists(field)
        if isinstance(node, Reference):
            text, start, end = self.describe(node)
            raise FilterError(f"{text} is neither a field nor a protocol name.", start, end)
        if isinstance(node, Call):
            functions.require_known(node)
            raise FilterError("You cannot test whether a function is present.", node.start, node.name_end)
        if isinstance(node, (String, CharConst)):
            raise FilterError(f"{node.text} is neither a field nor a protocol name.", node.start, node.end)
        return bound.Truthy(self.check_value(node, None))

    def check_relation(self, node: Comparison) -> bound.Test:
        operator_text = self.text[node.operator_start:node.operator_end]
        left = self.check_left(node.left, operator_text)
        if node.operator in _QUANTIFIERS:
            relation, quantifier = _QUANTIFIERS[node.operator]
        else:
            relation, quantifier = node.operator, "any"
        quantifier = node.quantifier or quantifier
        if node.operator == "in":
            return self.check_membership(node, left, quantifier)
        if node.operator == "contains":
            self.require_searchable(node.left, left, operator_text)
            right = self.check_value(node.right, (left.ftype, _definition(left)), partial=True)
            self.require_compatible(node.left, node.right, left, right)
            return bound.Contains(_whole_tvb(left), right, quantifier)
        if node.operator == "matches":
            if not isinstance(node.right, String):
                raise FilterError("Matches requires a double quoted string on the right side.",
                                  node.right.start, node.right.end)
            pattern = regex.compile_pattern(node.right.value, text=left.ftype is FieldType.STRING)
            self.require_searchable(node.left, left, operator_text)
            return bound.Matches(_whole_tvb(left), pattern, quantifier)
        if left.ftype is FieldType.NONE:
            raise FilterError(f"{self.source(node.left)} (type=Label) cannot participate in "
                              f"{operator_text} comparison.", node.left.start, node.left.end)
        right = self.check_value(node.right, (left.ftype, _definition(left)))
        left, right = self.unify(node.left, node.right, left, right)
        return bound.Compare(relation, left, right, quantifier, left.ftype)

    def check_left(self, node: Node, operator_text: str) -> bound.Value:
        """The left side of a relation: a field, function, slice or arithmetic on them."""
        if isinstance(node, Call) and node.name == "abs" and len(node.arguments) == 1 \
                and self.is_constant(node.arguments[0]):
            argument = node.arguments[0]
            if not isinstance(argument, (Arithmetic, Negate)):
                raise FilterError("Need a field or field-like value on the LHS.", argument.start, argument.end)
            node = argument
        if self.is_constant(node):
            if isinstance(node, (Arithmetic, Negate)):
                leaf = _leftmost(node)
                raise FilterError("Constant arithmetic expression on the LHS is invalid.",
                                  leaf.start, leaf.end)
            raise FilterError(f'Left side of "{operator_text}" expression must be a field or function, '
                              f"not {self.source(node)}.", node.start, node.end)
        return self.check_value(node, None)

    def check_membership(self, node: Comparison, left: bound.Value, quantifier: str) -> bound.Test:
        hint = (left.ftype, _definition(left))
        elements = []
        assert isinstance(node.right, tuple)
        for element in node.right:
            low = self.check_value(element.low, hint)
            self.require_compatible(node.left, element.low, left, low)
            high = None
            if element.high is not None:
                high = self.check_value(element.high, hint)
                self.require_compatible(node.left, element.high, left, high)
            elements.append((low, high))
        return bound.Membership(left, tuple(elements), quantifier, left.ftype)

    def require_searchable(self, node: Node, value: bound.Value, operator_text: str) -> None:
        if value.ftype not in _SEARCHABLE:
            raise FilterError(f"{self.source(node)} (type={TYPE_LABELS[value.ftype]}) cannot participate "
                              f"in {operator_text} comparison.", node.start, node.end)

    def require_compatible(self, left_node: Node, right_node: Node, left: bound.Value,
                           right: bound.Value) -> None:
        if isinstance(right, bound.Constant) or compatible(left.ftype, right.ftype):
            return
        left_text = self.describe(left_node)[0]
        right_text, start, end = self.describe(right_node)
        raise FilterError(f"{left_text} and {right_text} are not of compatible types.", start, end)

    def describe(self, node: Node) -> tuple[str, int, int]:
        """How tshark names a node in messages, and the span it points at (`${f}`: `f <FT_…>`)."""
        if isinstance(node, Reference):
            definition = self.reference_definition(node)
            return f"{self.source(node.target)} <{definition.ftype.value}>", node.target.start, node.target.end
        return self.source(node), node.start, node.end

    def reference_definition(self, node: Reference) -> FieldDef:
        """The field `${name}` refers to; an unknown name is an undefined macro to tshark."""
        field = self.field_of(node.target)
        if field is None:
            raise FilterError(f"macro '{self.source(node.target)}' does not exist")
        return field.definition

    def unify(self, left_node: Node, right_node: Node, left: bound.Value,
              right: bound.Value) -> tuple[bound.Value, bound.Value]:
        """Make two compared values comparable: a slice meets other byte-holding values as bytes."""
        if isinstance(right, bound.Constant):
            return left, right
        left_slice, right_slice = left.ftype is FieldType.BYTES, right.ftype is FieldType.BYTES
        if left_slice != right_slice and (left.ftype in _SLICEABLE and right.ftype in _SLICEABLE):
            if isinstance(left, bound.SliceOf) or isinstance(right, bound.SliceOf):
                return (left if left_slice else bound.AsBytes(left),
                        right if right_slice else bound.AsBytes(right))
        self.require_compatible(left_node, right_node, left, right)
        return left, right

    # -- values ----------------------------------------------------------------------------------

    def is_constant(self, node: Node) -> bool:
        """Whether a node holds no field at all (a literal, or arithmetic on literals)."""
        if isinstance(node, Word):
            return node.is_literal or self.resolve(node.text) is None
        if isinstance(node, (String, CharConst)):
            return True
        if isinstance(node, Negate):
            return self.is_constant(node.operand)
        if isinstance(node, Arithmetic):
            return self.is_constant(node.left) and self.is_constant(node.right)
        return False

    def field_of(self, node: Node) -> bound.FieldValues | None:
        """The field a name (`tcp.port`, `.tcp.port`, `ip.addr#2`) stands for, or None for a literal."""
        if isinstance(node, Layer):
            field = self.field_of(node.target)
            if field is None:
                raise FilterError(f"{self.source(node.target)} is not a valid field",
                                  node.target.start, node.target.end)
            return bound.FieldValues(field.definition, tuple(parse_range(piece) for piece in node.ranges))
        if isinstance(node, DottedField):
            definition = self.resolve(node.name)
            if definition is None:
                raise FilterError(f'"{node.name}" is not a valid protocol or protocol field.',
                                  node.start, node.end)
            return bound.FieldValues(definition)
        if isinstance(node, Word) and not node.is_literal:
            definition = self.resolve(node.text)
            return bound.FieldValues(definition) if definition is not None else None
        return None

    def check_value(self, node: Node, hint: Hint, *, partial: bool = False) -> bound.Value:
        """A node in value position; literals are converted to the hinted type."""
        if isinstance(node, (Word, DottedField, Layer)):
            field = self.field_of(node)
            if field is not None:
                return field
        if isinstance(node, (Word, String, CharConst)):
            if hint is None:
                raise FilterError(f"{self.source(node)} is neither a field nor a protocol name.",
                                  node.start, node.end)
            ftype, definition = hint
            return bound.Constant((convert_literal(node, ftype, definition, partial=partial),), ftype)
        if isinstance(node, Slice):
            return self.check_slice(node)
        if isinstance(node, Reference):
            return bound.ReferenceValues(self.reference_definition(node))
        if isinstance(node, Call):
            return functions.check_call(self, node, hint)
        if isinstance(node, Negate):
            return self.check_negate(node, hint)
        if isinstance(node, Arithmetic):
            return self.check_arithmetic(node, hint)
        raise FilterError(f'"{self.source(node)}" was unexpected in this context.', node.start, node.end)

    def check_slice(self, node: Slice) -> bound.Value:
        target = None if self.is_constant(node.target) else self.check_value(node.target, None)
        if target is None or target.ftype not in _SLICEABLE:
            label = TYPE_LABELS[target.ftype] if target is not None else "constant"
            raise FilterError(f'"{self.source(node.target)}" is a {label} and cannot be sliced into a '
                              "sequence of bytes.", node.target.start, node.target.end)
        return bound.SliceOf(target, tuple(parse_range(piece) for piece in node.ranges))

    def check_negate(self, node: Negate, hint: Hint) -> bound.Value:
        _require_operand(node.operand)
        operand = self.check_value(node.operand, hint)
        if operand.ftype not in _NEGATABLE:
            raise FilterError(f"{operand.ftype.value} cannot -.", node.operand.start, node.operand.end)
        if isinstance(operand, bound.Constant):
            wrap = UNSIGNED_WRAP.get(operand.ftype)
            negated = tuple((-value) % wrap if wrap else -value for value in operand.values)  # type: ignore[operator]
            return bound.Constant(negated, operand.ftype)
        return bound.Negation(operand, operand.ftype)

    def check_arithmetic(self, node: Arithmetic, hint: Hint) -> bound.Value:
        if isinstance(node.left, (String, CharConst)):
            raise FilterError("Constant arithmetic expression on the LHS is invalid.",
                              node.left.start, node.left.end)
        _require_operand(node.right)
        if not self.is_constant(node.left):
            left = _arithmetic_operand(node.operator, self.check_value(node.left, None), node.left)
            right = self.check_value(node.right, (left.ftype, _definition(left)))
        elif not self.is_constant(node.right):
            right = self.check_value(node.right, None)
            left = self.check_value(node.left, (right.ftype, _definition(right)))
            _arithmetic_operand(node.operator, left, node.left)
        elif hint is not None:
            left = _arithmetic_operand(node.operator, self.check_value(node.left, hint), node.left)
            right = self.check_value(node.right, hint)
        else:
            leaf = _leftmost(node)
            raise FilterError("Constant arithmetic expression on the LHS is invalid.", leaf.start, leaf.end)
        _arithmetic_operand(node.operator, right, node.right)
        self.require_compatible(node.left, node.right, left, right)
        return bound.ArithmeticOf(node.operator, left, right, left.ftype)


def _arithmetic_operand(operator: str, value: bound.Value, node: Node) -> bound.Value:
    """Fail with tshark's "FT_X cannot +." unless the operand's type supports the operator."""
    if value.ftype not in _ARITHMETIC_TYPES[operator]:
        raise FilterError(f"{value.ftype.value} cannot {operator}.", node.start, node.end)
    return value


def _definition(value: bound.Value) -> FieldDef | None:
    """The field behind a value, whose value names a literal may use."""
    if isinstance(value, bound.FieldValues):
        return value.definition
    if isinstance(value, (bound.ArithmeticOf, bound.Negation)):
        return _definition(value.left if isinstance(value, bound.ArithmeticOf) else value.operand)
    return None


def _whole_tvb(value: bound.Value) -> bound.Value:
    """Protocols searched by `contains`/`matches` extend to the end of the data, as in Wireshark."""
    if isinstance(value, bound.FieldValues) and value.ftype is FieldType.PROTOCOL:
        return bound.FieldValues(value.definition, value.layers, whole_tvb=True)
    return value


def _require_operand(node: Node) -> None:
    """Quoted strings and character constants cannot take part in arithmetic."""
    if isinstance(node, (String, CharConst)):
        raise FilterError(f"{node.text} is not a valid arithmetic operand.", node.start, node.end)


def _leftmost(node: Node) -> Node:
    while isinstance(node, (Arithmetic, Negate)):
        node = node.left if isinstance(node, Arithmetic) else node.operand
    return node

