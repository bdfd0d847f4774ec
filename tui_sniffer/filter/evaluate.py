"""The per-packet evaluator: a checked filter → nested closures over a dissected packet.

Every value expression yields the list of its values in the packet (one per field occurrence);
relations quantify over value pairs, so `ip.addr == X` is true when any address is X and
`ip.addr != X` when none is, exactly Wireshark 4.0's multi-occurrence rules.
"""
from __future__ import annotations

from typing import Callable

from tui_sniffer.dissect.fields import FieldType
from tui_sniffer.dissect.tree import DissectedPacket, TreeNode
from tui_sniffer.filter import bound, functions
from tui_sniffer.filter.values import (UNSIGNED_WRAP, as_bytes, comparator, cut, layer_numbers,
                                       runtime_converter)

ValueReader = Callable[[DissectedPacket], list]
PacketTest = Callable[[DissectedPacket], bool]


def compile_test(test: bound.Test) -> PacketTest:
    """A function telling whether a dissected packet passes `test`."""
    if isinstance(test, bound.Both):
        left, right = compile_test(test.left), compile_test(test.right)
        return lambda packet: left(packet) and right(packet)
    if isinstance(test, bound.Either):
        left, right = compile_test(test.left), compile_test(test.right)
        return lambda packet: left(packet) or right(packet)
    if isinstance(test, bound.Negated):
        operand = compile_test(test.operand)
        return lambda packet: not operand(packet)
    if isinstance(test, bound.Exists):
        nodes = _node_reader(test.field)
        return lambda packet: bool(nodes(packet))
    if isinstance(test, bound.Compare):
        return _compile_compare(test)
    if isinstance(test, bound.Membership):
        return _compile_membership(test)
    if isinstance(test, bound.Contains):
        return _quantified(compile_value(test.left), compile_value(test.right), test.quantifier,
                           lambda haystack, needle: needle in haystack)  # type: ignore[operator]
    if isinstance(test, bound.Matches):
        search = test.pattern.search
        left = compile_value(test.left)
        if test.quantifier == "all":
            return lambda packet: _all_nonempty(search(value) for value in left(packet))
        return lambda packet: any(search(value) for value in left(packet))
    if isinstance(test, bound.Truthy):
        values = compile_value(test.value)
        return lambda packet: any(_is_nonzero(value) for value in values(packet))
    raise TypeError(f"not a test: {test!r}")


def _all_nonempty(results) -> bool:
    """`all`, but false for no values at all (a comparison on an absent field is false)."""
    seen = False
    for result in results:
        if not result:
            return False
        seen = True
    return seen


def _quantified(left: ValueReader, right: ValueReader, quantifier: str,
                test: Callable[[object, object], bool]) -> PacketTest:
    """Apply a two-value test over every (left, right) pair, needing any or all of them to hold."""
    if quantifier == "all":
        return lambda packet: _all_nonempty(test(a, b) for a in left(packet) for b in right(packet))
    return lambda packet: any(test(a, b) for a in left(packet) for b in right(packet))


def _compile_compare(test: bound.Compare) -> PacketTest:
    compare = comparator(test.relation, test.ftype)
    left = compile_value(test.left)
    if isinstance(test.right, bound.Constant) and len(test.right.values) == 1:
        constant = test.right.values[0]
        if test.quantifier == "all":
            return lambda packet: _all_nonempty(compare(value, constant) for value in left(packet))
        return lambda packet: any(compare(value, constant) for value in left(packet))
    return _quantified(left, compile_value(test.right), test.quantifier, compare)


def _compile_membership(test: bound.Membership) -> PacketTest:
    """Each set element is tried on its own (with the quantifier); the set matches if any element does."""
    element_tests = [_element_test(test, low, high) for low, high in test.elements]
    left = compile_value(test.left)

    def matches(packet: DissectedPacket) -> bool:
        values = left(packet)
        return bool(values) and any(element(packet, values) for element in element_tests)
    return matches


def _element_test(test: bound.Membership, low: bound.Value, high: bound.Value | None):
    equal, at_least, at_most = (comparator(relation, test.ftype) for relation in ("==", ">=", "<="))
    low_values = compile_value(low)
    high_values = compile_value(high) if high is not None else None
    combine = all if test.quantifier == "all" else any

    def element(packet: DissectedPacket, values: list) -> bool:
        lows = low_values(packet)
        if high_values is None:
            return combine(any(equal(value, bound_) for bound_ in lows) for value in values)
        highs = high_values(packet)
        return combine(any(at_least(value, bound_) for bound_ in lows)
                       and any(at_most(value, bound_) for bound_ in highs) for value in values)
    return element


def _is_nonzero(value: object) -> bool:
    if isinstance(value, (bytes, bytearray)):
        return any(value)
    return bool(value)


# -- values ------------------------------------------------------------------------------------


def compile_value(value: bound.Value) -> ValueReader:
    """A function giving the list of a value expression's values in a packet."""
    if isinstance(value, bound.Constant):
        constants = list(value.values)
        return lambda packet: constants
    if isinstance(value, bound.FieldValues):
        return _field_reader(value)
    if isinstance(value, bound.ReferenceValues):
        return lambda packet: []
    if isinstance(value, bound.SliceOf):
        target, target_type, ranges = compile_value(value.target), value.target.ftype, value.ranges
        return lambda packet: [piece for piece in (cut(as_bytes(target_type, item), ranges)
                                                   for item in target(packet)) if piece is not None]
    if isinstance(value, bound.AsBytes):
        target, target_type = compile_value(value.target), value.target.ftype
        return lambda packet: [as_bytes(target_type, item) for item in target(packet)]
    if isinstance(value, bound.FunctionCall):
        call = value
        readers = [compile_value(argument) for argument in value.arguments]
        return lambda packet: functions.apply(call, [reader(packet) for reader in readers])
    if isinstance(value, bound.Negation):
        operand, wrap = compile_value(value.operand), UNSIGNED_WRAP.get(value.ftype)
        if wrap:
            return lambda packet: [(-item) % wrap for item in operand(packet)]
        return lambda packet: [-item for item in operand(packet)]
    if isinstance(value, bound.ArithmeticOf):
        return _arithmetic_reader(value)
    raise TypeError(f"not a value: {value!r}")


def _arithmetic_reader(value: bound.ArithmeticOf) -> ValueReader:
    left, right = compile_value(value.left), compile_value(value.right)
    operate = _ARITHMETIC[value.operator]
    if value.ftype is FieldType.FLOAT:
        operate = _FLOAT_ARITHMETIC.get(value.operator, operate)

    def results(packet: DissectedPacket) -> list:
        produced = []
        for a in left(packet):
            for b in right(packet):
                result = operate(a, b)
                if result is not None:
                    produced.append(result)
        return produced
    return results


def _divide(a, b):
    if b == 0:
        return None
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b >= 0) else -quotient


def _remainder(a, b):
    if b == 0:
        return None
    return a - b * _divide(a, b)


def _bitwise_and(a, b):
    if isinstance(a, (bytes, bytearray)):
        if len(a) != len(b):
            return None
        return bytes(x & y for x, y in zip(a, b))
    return a & b


_ARITHMETIC = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
               "/": _divide, "%": _remainder, "&": _bitwise_and}
_FLOAT_ARITHMETIC = {"/": lambda a, b: a / b if b else None}


def _node_reader(field: bound.FieldValues) -> Callable[[DissectedPacket], list[TreeNode]]:
    """The tree nodes of a field (only those in the selected layers, with `#`)."""
    name = field.definition.name
    if field.layers is None:
        return lambda packet: packet.nodes(name)
    protocol, ranges = field.definition.protocol, field.layers

    def layered(packet: DissectedPacket) -> list[TreeNode]:
        if not packet.nodes(name):
            return []
        numbered: list[tuple[int, TreeNode]] = []
        layer = 0
        for node in packet.walk():
            definition = node.definition
            if definition is None:
                continue
            if definition.is_protocol and definition.name == protocol:
                layer += 1
            if definition.name == name:
                numbered.append((layer, node))
        selected = layer_numbers(ranges, layer)
        return [node for number, node in numbered if number in selected]
    return layered


def _field_reader(field: bound.FieldValues) -> ValueReader:
    """A field's values in their comparable form (protocols: the bytes they span)."""
    nodes = _node_reader(field)
    if field.ftype in (FieldType.PROTOCOL, FieldType.NONE):
        if field.whole_tvb:
            return lambda packet: [packet.data_sources[node.source][1][node.offset:]
                                   for node in nodes(packet)]
        return lambda packet: [packet.node_bytes(node) for node in nodes(packet)]
    convert = runtime_converter(field.ftype)
    if field.layers is None:
        name = field.definition.name
        if convert is None:
            return lambda packet: packet.values(name)
        return lambda packet: [convert(value) for value in packet.values(name)]
    if convert is None:
        return lambda packet: [node.value for node in nodes(packet)]
    return lambda packet: [convert(node.value) for node in nodes(packet)]
