"""Vectorized filtering over the store's columns: every packet at once, three-valued.

A store that keeps some fields as numpy columns implements ColumnSource. `evaluate_columns` runs
the checked filter over those columns and says, per packet, whether it surely matches, surely does
not, or needs dissection (the filter reads a field the store does not keep, or a field occurs more
than once in that packet). Only the undecided packets are dissected and run through `matches`.

Column value representations (one entry per packet; anything where the field is absent):
integers and booleans any integer dtype; floats float64; times int64 nanoseconds (absolute: since
the epoch), or for time offsets float64 seconds, which are rounded to the nanosecond (an absolute
time in float seconds is not exact, so it is left to dissection); IPv4 uint32; IPv6 (n, 16) uint8
big-endian bytes; MAC uint64 holding the 48-bit address; text an object array of str.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING, Callable, Protocol

import numpy as np

from tui_sniffer.dissect.fields import FieldDef, FieldType, lookup
from tui_sniffer.filter import bound
from tui_sniffer.filter.values import ADDRESS_WIDTHS, AddressBlock

if TYPE_CHECKING:
    from tui_sniffer.filter import CompiledFilter

ALIAS_COLUMNS: dict[str, tuple[str, str]] = {
    "ip.addr": ("ip.src", "ip.dst"), "ipv6.addr": ("ipv6.src", "ipv6.dst"),
    "eth.addr": ("eth.src", "eth.dst"), "tcp.port": ("tcp.srcport", "tcp.dstport"),
    "udp.port": ("udp.srcport", "udp.dstport"),
}
"""Fields Wireshark emits twice per layer (source and destination): any-match over two columns."""


class ColumnSource(Protocol):
    """What the store offers the filter: per-packet columns and occurrence counts."""

    def __len__(self) -> int:
        """The number of packets (rows of every column)."""

    def column(self, field_name: str) -> np.ndarray | None:
        """The field's value in each packet (any value where absent), or None if not kept."""

    def occurrences(self, field_name: str) -> np.ndarray | None:
        """How often the field or protocol occurs in each packet's tree: 0, 1, 2 for "two or more"
        (an ICMP error quoting an IP header, a tunnel), -1 for "cannot tell in this packet" (an IP
        fragment Wireshark may reassemble); None if the store cannot tell for any packet."""


@dataclass(frozen=True, slots=True)
class ColumnVerdict:
    """Per packet: `surely` matches; `maybe` needs dissection; the rest surely do not match."""

    surely: np.ndarray
    maybe: np.ndarray


@dataclass(slots=True)
class _Vector:
    """A value expression over all packets: candidate value arrays, where exact, where absent."""

    arrays: list
    exact: np.ndarray
    absent: np.ndarray


_Truth = tuple[np.ndarray, np.ndarray]
"""(surely true, surely false) masks; rows in neither are unknown."""


def evaluate_columns(compiled: CompiledFilter, columns: ColumnSource, *,
                     resolve: Callable[[str], FieldDef | None] = lookup) -> ColumnVerdict:
    """Decide as many packets as the columns allow; the rest are `maybe` (dissect and `matches`)."""
    count = len(columns)
    if compiled.test is None:
        return ColumnVerdict(np.ones(count, bool), np.zeros(count, bool))
    surely_true, surely_false = _Evaluator(columns, count, resolve).test(compiled.test)
    return ColumnVerdict(surely_true, ~(surely_true | surely_false))


class _Evaluator:
    """Walks a checked filter, computing truth masks from columns."""

    def __init__(self, columns: ColumnSource, count: int,
                 resolve: Callable[[str], FieldDef | None]) -> None:
        self.columns = columns
        self.count = count
        self.resolve = resolve

    def unknown(self) -> _Truth:
        return np.zeros(self.count, bool), np.zeros(self.count, bool)

    def test(self, test: bound.Test) -> _Truth:
        if isinstance(test, bound.Both):
            (left_true, left_false), (right_true, right_false) = self.test(test.left), self.test(test.right)
            return left_true & right_true, left_false | right_false
        if isinstance(test, bound.Either):
            (left_true, left_false), (right_true, right_false) = self.test(test.left), self.test(test.right)
            return left_true | right_true, left_false & right_false
        if isinstance(test, bound.Negated):
            operand_true, operand_false = self.test(test.operand)
            return operand_false, operand_true
        if isinstance(test, bound.Exists):
            occurrences = self.occurrences(test.field)
            if occurrences is None:
                return self.unknown()
            present, absent = occurrences > 0, occurrences == 0
            return (present if test.field.layers is None else np.zeros(self.count, bool)), absent
        if isinstance(test, bound.Compare):
            return self.compare(test)
        if isinstance(test, bound.Membership):
            return self.membership(test)
        if isinstance(test, bound.Truthy):
            vector = self.vector(test.value)
            if vector is None:
                return self.unknown()
            nonzero = reduce(np.logical_or, [np.asarray(array) != 0 for array in vector.arrays])
            return self.decide(vector, nonzero)
        absent = self.absent(test.left)  # contains / matches: only absence is decidable
        return np.zeros(self.count, bool), absent

    def decide(self, vector: _Vector, result: np.ndarray) -> _Truth:
        result = np.broadcast_to(result, (self.count,))
        return vector.exact & result & ~vector.absent, (vector.exact & ~result) | vector.absent

    def compare(self, test: bound.Compare) -> _Truth:
        left, right = self.vector(test.left), self.vector(test.right)
        if left is None or right is None:
            return np.zeros(self.count, bool), self.absent(test.left)
        results = [_compare(test.relation, test.ftype, a, b) for a in left.arrays for b in right.arrays]
        combined = reduce(np.logical_and if test.quantifier == "all" else np.logical_or, results)
        return self.decide(_Vector([], left.exact & right.exact, left.absent | right.absent), combined)

    def membership(self, test: bound.Membership) -> _Truth:
        left = self.vector(test.left)
        if left is None:
            return np.zeros(self.count, bool), self.absent(test.left)
        combine = np.logical_and if test.quantifier == "all" else np.logical_or
        exact, matched = left.exact, np.zeros(self.count, bool)
        for low, high in test.elements:
            low_vector = self.vector(low)
            high_vector = self.vector(high) if high is not None else low_vector
            if low_vector is None or high_vector is None:
                return np.zeros(self.count, bool), left.absent
            exact = exact & low_vector.exact & high_vector.exact
            per_value = []
            for value in left.arrays:
                if high is None:
                    per_value.append(_against_any("==", test.ftype, value, low_vector.arrays))
                else:
                    per_value.append(_against_any(">=", test.ftype, value, low_vector.arrays)
                                     & _against_any("<=", test.ftype, value, high_vector.arrays))
            matched = matched | reduce(combine, per_value)
        return self.decide(_Vector([], exact, left.absent), matched)

    # -- values ----------------------------------------------------------------------------------

    def vector(self, value: bound.Value) -> _Vector | None:
        """A value expression over all packets, or None when the columns cannot compute it."""
        if isinstance(value, bound.Constant):
            return _Vector(list(value.values), np.ones(self.count, bool), np.zeros(self.count, bool))
        if isinstance(value, bound.ReferenceValues):
            return _Vector([np.zeros(self.count)], np.ones(self.count, bool), np.ones(self.count, bool))
        if isinstance(value, bound.FieldValues) and value.layers is None:
            arrays = self.field_arrays(value.definition)
            occurrences = self.occurrences(value)
            if arrays is None or occurrences is None:
                return None
            return _Vector(arrays, occurrences == 1, occurrences == 0)
        if isinstance(value, bound.ArithmeticOf) and value.ftype in _VECTOR_ARITHMETIC_TYPES:
            left, right = self.vector(value.left), self.vector(value.right)
            if left is None or right is None:
                return None
            absent = left.absent | right.absent
            operate = _INTEGER_OPERATIONS[value.operator]
            arrays = []
            for dividend in map(_as_int64, left.arrays):
                for divisor in map(_as_int64, right.arrays):
                    if value.operator in "/%":
                        by_zero = np.asarray(divisor) == 0
                        absent = absent | np.broadcast_to(by_zero, (self.count,))
                        divisor = np.where(by_zero, 1, divisor)
                    arrays.append(operate(dividend, divisor))
            return _Vector(arrays, left.exact & right.exact, absent)
        return None

    def field_arrays(self, definition: FieldDef) -> list | None:
        """The column(s) holding a field: itself, its two alias columns, or a bit of its parent."""
        names = ALIAS_COLUMNS.get(definition.name, (definition.name,))
        arrays = [self.columns.column(name) for name in names]
        if all(array is not None for array in arrays):
            if definition.ftype is FieldType.ABSOLUTE_TIME and any(array.dtype.kind == "f" for array in arrays):
                return None
            return [_comparable(definition.ftype, array) for array in arrays]
        parent = self.bit_parent(definition)
        if parent is None:
            return None
        parent_column = self.columns.column(parent.name)
        if parent_column is None:
            return None
        register = _as_int64(parent_column) << _lowest_bit_shift(parent.bitmask)
        bits = (register & definition.bitmask) >> _lowest_bit_shift(definition.bitmask)
        return [(bits != 0).astype(np.int64) if definition.ftype is FieldType.BOOLEAN else bits]

    def bit_parent(self, definition: FieldDef) -> FieldDef | None:
        """The integer field a bit field is cut from (`tcp.flags` for `tcp.flags.syn`), if known."""
        if not definition.bitmask or "." not in definition.name:
            return None
        parent = self.resolve(definition.name.rsplit(".", 1)[0])
        return parent if parent is not None and parent.ftype.is_integer else None

    def occurrences(self, field: bound.FieldValues) -> np.ndarray | None:
        definition = field.definition
        name = ALIAS_COLUMNS.get(definition.name, (definition.name,))[0]
        counts = self.columns.occurrences(name)
        if counts is None and self.columns.column(definition.name) is None:
            parent = self.bit_parent(definition)
            counts = self.columns.occurrences(parent.name) if parent is not None else None
        return None if counts is None else np.asarray(counts)

    def absent(self, value: bound.Value) -> np.ndarray:
        """Packets where a value surely has no values (its field is absent): relations are false there."""
        while isinstance(value, (bound.SliceOf, bound.AsBytes)):
            value = value.target
        if isinstance(value, bound.FunctionCall) and len(value.arguments) == 1:
            value = value.arguments[0]
        if isinstance(value, bound.FieldValues):
            occurrences = self.occurrences(value)
            if occurrences is not None:
                return occurrences == 0
        return np.zeros(self.count, bool)


def field_columns(columns: ColumnSource, definition: FieldDef,
                  resolve: Callable[[str], FieldDef | None] = lookup) -> tuple[list, np.ndarray] | None:
    """A field's value column(s) and occurrence counts, as the vectorized evaluator reads them, or None.

    Each value column is in comparable form (IPv6 as a (high, low) pair of uint64 arrays).
    """
    evaluator = _Evaluator(columns, len(columns), resolve)
    arrays = evaluator.field_arrays(definition)
    counts = evaluator.occurrences(bound.FieldValues(definition))
    if arrays is None or counts is None:
        return None
    return [(array.high, array.low) if isinstance(array, _Ipv6Halves) else array for array in arrays], counts


def _truncating_divide(a, b):
    """C integer division (rounds toward zero), as Wireshark computes `/`."""
    quotient = np.abs(a) // np.abs(b)
    return np.where((np.asarray(a) < 0) != (np.asarray(b) < 0), -quotient, quotient)


_INTEGER_OPERATIONS = {"&": np.bitwise_and, "+": np.add, "-": np.subtract, "*": np.multiply,
                       "/": _truncating_divide, "%": np.fmod}
_VECTOR_ARITHMETIC_TYPES = frozenset({FieldType.UINT8, FieldType.UINT16, FieldType.UINT24,
                                      FieldType.UINT32, FieldType.INT32, FieldType.FRAMENUM,
                                      FieldType.BOOLEAN})


def _lowest_bit_shift(mask: int) -> int:
    return (mask & -mask).bit_length() - 1 if mask else 0


def _as_int64(array):
    if isinstance(array, np.ndarray) and array.dtype.kind in "iub" and array.dtype != np.uint64:
        return array.astype(np.int64)
    return array


def _comparable(ftype: FieldType, array: np.ndarray):
    """A column in the form `_compare` expects (IPv6: two big-endian uint64 halves)."""
    if ftype is FieldType.IPV6:
        raw = np.ascontiguousarray(array).view(np.uint8).reshape(len(array), 16)
        halves = raw.view(">u8").astype(np.uint64)
        return _Ipv6Halves(halves[:, 0], halves[:, 1])
    if ftype is FieldType.BOOLEAN:
        return (np.asarray(array) != 0).astype(np.int64)
    if ftype is FieldType.RELATIVE_TIME and array.dtype.kind == "f":
        return np.rint(array * 1e9).astype(np.int64)
    return _as_int64(array)


@dataclass(frozen=True, slots=True)
class _Ipv6Halves:
    """128-bit addresses as high and low 64-bit halves (numpy has no 128-bit integers)."""

    high: np.ndarray
    low: np.ndarray


_UFUNCS = {"==": np.equal, "!=": np.not_equal, ">": np.greater, ">=": np.greater_equal,
           "<": np.less, "<=": np.less_equal}


def _against_any(relation: str, ftype: FieldType, values, bounds: list) -> np.ndarray:
    """Where `values relation bound` holds for at least one of the bounds."""
    return reduce(np.logical_or, [_compare(relation, ftype, values, bound_) for bound_ in bounds])


def _compare(relation: str, ftype: FieldType, left, right) -> np.ndarray:
    """Elementwise `left relation right` for a column (or constant) pair under `ftype`'s rules."""
    if ftype is FieldType.ETHER:
        left, right = (int.from_bytes(side, "big") if isinstance(side, bytes) else side
                       for side in (left, right))
    if ftype is FieldType.IPV6:
        return _compare_ipv6(relation, left, right)
    if ftype is FieldType.IPV4:
        mask = (1 << ADDRESS_WIDTHS[ftype]) - 1
        if isinstance(right, AddressBlock):
            mask, right = right.mask, right.network
        if mask != 0xFFFFFFFF:
            left, right = np.bitwise_and(left, mask), right & mask
    return np.asarray(_UFUNCS[relation](left, right), bool)


def _compare_ipv6(relation: str, left, right) -> np.ndarray:
    mask = (1 << 128) - 1
    if isinstance(right, AddressBlock):
        mask, right = right.mask, right.network
    high_mask, low_mask = np.uint64(mask >> 64), np.uint64(mask & 0xFFFFFFFFFFFFFFFF)
    left_high, left_low = left.high & high_mask, left.low & low_mask
    if isinstance(right, _Ipv6Halves):
        right_high, right_low = right.high & high_mask, right.low & low_mask
    else:
        right_high, right_low = np.uint64((right >> 64) & int(high_mask)), np.uint64(right & int(low_mask))
    if relation in ("==", "!="):
        equal = (left_high == right_high) & (left_low == right_low)
        return equal if relation == "==" else ~equal
    strict = _UFUNCS[relation[0]]
    result = strict(left_high, right_high) | ((left_high == right_high) & strict(left_low, right_low))
    if relation.endswith("="):
        result |= (left_high == right_high) & (left_low == right_low)
    return result
