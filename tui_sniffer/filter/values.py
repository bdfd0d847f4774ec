"""The filter's value domain: how each field type's values are held, compared, sliced and printed.

Field values arrive as the dissector gives them (IPv4 as dotted text, MACs as colon text); the
evaluator turns them into comparable forms once (IPv4/IPv6 as ints, MACs as bytes, times as whole
nanoseconds) and compares them with Wireshark's rules: addresses by the shorter prefix, byte strings
by length first.
"""
from __future__ import annotations

import ipaddress
import operator
import socket
from dataclasses import dataclass
from typing import Callable

from tui_sniffer.dissect.fields import FieldType, Timestamp
from tui_sniffer.filter.errors import FilterError
from tui_sniffer.filter.syntax import Range

Comparator = Callable[[object, object], bool]

ADDRESS_WIDTHS = {FieldType.IPV4: 32, FieldType.IPV6: 128}
BYTE_TYPES = frozenset({FieldType.BYTES, FieldType.ETHER, FieldType.PROTOCOL})
NUMERIC_TYPES = frozenset({FieldType.UINT8, FieldType.UINT16, FieldType.UINT24, FieldType.UINT32,
                           FieldType.UINT64, FieldType.INT32, FieldType.FRAMENUM, FieldType.BOOLEAN,
                           FieldType.FLOAT, FieldType.RELATIVE_TIME, FieldType.ABSOLUTE_TIME})
UNSIGNED_WRAP = {FieldType.UINT8: 1 << 32, FieldType.UINT16: 1 << 32, FieldType.UINT24: 1 << 32,
                 FieldType.UINT32: 1 << 32, FieldType.FRAMENUM: 1 << 32, FieldType.UINT64: 1 << 64}
"""Unary minus on an unsigned value wraps in Wireshark's 32/64-bit storage (`tcp.port > -1` is false)."""

_OPERATORS: dict[str, Callable[[object, object], bool]] = {
    "==": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge,
    "<": operator.lt, "<=": operator.le,
}


@dataclass(frozen=True, slots=True)
class AddressBlock:
    """An IPv4/IPv6 network (`10.0.0.0/8`); compared after masking both sides with the shorter prefix."""

    network: int
    mask: int

    @classmethod
    def of(cls, address: int, prefix: int, width: int) -> AddressBlock:
        """The block of `prefix` leading bits of `address` in a `width`-bit address space."""
        mask = ((1 << prefix) - 1) << (width - prefix)
        return cls(address & mask, mask)


def runtime_converter(ftype: FieldType) -> Callable[[object], object] | None:
    """How to turn a dissected value of `ftype` into the comparable form (None: use it as it is)."""
    return _CONVERTERS.get(ftype)


def _ipv4_number(value: object) -> int:
    if isinstance(value, int):
        return value
    return int.from_bytes(socket.inet_aton(str(value)), "big")


def _ipv6_number(value: object) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, (bytes, bytearray)):
        return int.from_bytes(value, "big")
    return int.from_bytes(socket.inet_pton(socket.AF_INET6, str(value)), "big")


def _ether_bytes(value: object) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, int):
        return value.to_bytes(6, "big")
    return bytes.fromhex(str(value).replace(":", "").replace("-", "").replace(".", ""))


def time_nanoseconds(value: object) -> int:
    """A time as whole nanoseconds, the form filters compare times in (Wireshark's nstime is exact):
    a Timestamp's own, seconds (float) rounded, an integer taken as nanoseconds already."""
    if isinstance(value, Timestamp):
        return value.nanoseconds
    if isinstance(value, float):
        return round(value * 1e9)
    return int(value)  # type: ignore[call-overload]


_CONVERTERS: dict[FieldType, Callable[[object], object]] = {
    FieldType.IPV4: _ipv4_number, FieldType.IPV6: _ipv6_number, FieldType.ETHER: _ether_bytes,
    FieldType.BOOLEAN: lambda value: 1 if value else 0, FieldType.FLOAT: float,
    FieldType.RELATIVE_TIME: time_nanoseconds, FieldType.ABSOLUTE_TIME: time_nanoseconds,
}


def comparator(relation: str, ftype: FieldType) -> Comparator:
    """A two-value test for `==`, `!=`, `>`, `>=`, `<`, `<=` under `ftype`'s ordering rules."""
    test = _OPERATORS[relation]
    if ftype in ADDRESS_WIDTHS:
        full_mask = (1 << ADDRESS_WIDTHS[ftype]) - 1

        def compare_addresses(left: object, right: object) -> bool:
            mask = full_mask
            if isinstance(left, AddressBlock):
                mask &= left.mask
                left = left.network
            if isinstance(right, AddressBlock):
                mask &= right.mask
                right = right.network
            return test(left & mask, right & mask)  # type: ignore[operator]
        return compare_addresses
    if ftype in BYTE_TYPES and relation not in ("==", "!="):
        return lambda left, right: test((len(left), left), (len(right), right))  # type: ignore[arg-type]
    return test


def as_bytes(ftype: FieldType, value: object) -> bytes:
    """A value's bytes, for slices, `contains` and `matches` on non-string types."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if ftype is FieldType.IPV4:
        return int(value).to_bytes(4, "big")  # type: ignore[call-overload]
    if ftype is FieldType.IPV6:
        return int(value).to_bytes(16, "big")  # type: ignore[call-overload]
    raise TypeError(f"{ftype} values have no bytes")


_STORAGE_WIDTHS = {FieldType.BOOLEAN: 1, FieldType.UINT8: 1, FieldType.UINT16: 2, FieldType.UINT24: 3,
                   FieldType.UINT32: 4, FieldType.INT32: 4, FieldType.FRAMENUM: 4, FieldType.UINT64: 8,
                   FieldType.FLOAT: 8, FieldType.ABSOLUTE_TIME: 8, FieldType.RELATIVE_TIME: 8}


def value_length(ftype: FieldType, value: object) -> int:
    """What `len()` gives: the byte length of a value (integers count their storage width)."""
    if ftype in _STORAGE_WIDTHS:
        return _STORAGE_WIDTHS[ftype]
    return len(as_bytes(ftype, value))


def as_text(ftype: FieldType, value: object) -> str:
    """What `string()` gives for a non-string field: decimal numbers, dotted/colon addresses."""
    if ftype is FieldType.IPV4:
        return socket.inet_ntoa(int(value).to_bytes(4, "big"))  # type: ignore[call-overload]
    if ftype is FieldType.IPV6:
        return str(ipaddress.IPv6Address(int(value)))  # type: ignore[call-overload]
    if ftype is FieldType.ETHER:
        return bytes(value).hex(":")  # type: ignore[call-overload]
    return str(value)


@dataclass(frozen=True, slots=True)
class SliceRange:
    """One parsed range: `start` (negative counts from the end) and `length` (None: to the end)."""

    start: int
    length: int | None


def parse_range(range_node: Range) -> SliceRange:
    """Parse `i:j`, `i-j`, `i`, `:j` or `i:` as tshark's drange does, with its error messages."""
    text = range_node.text
    stripped = text.strip()

    def fail(message: str) -> FilterError:
        return FilterError(message, range_node.start, range_node.end)

    if stripped.startswith(":"):
        start_text, separator, rest = "0", ":", stripped[1:]
    else:
        digits = len(stripped) - len(stripped.lstrip("-"))
        body = stripped[digits:]
        number_length = len(body) - len(body.lstrip("0123456789"))
        start_text = stripped[:digits + number_length]
        if not start_text.lstrip("-") or digits > 1:
            raise fail(f'"{text}" is not a valid number.')
        separator, rest = stripped[len(start_text):len(start_text) + 1], stripped[len(start_text) + 1:]
    start = int(start_text)
    if separator == "":
        return SliceRange(start, 1)
    rest = rest.strip()
    if separator == ":" and rest == "":
        return SliceRange(start, None)
    if separator not in ":-" or not _is_signed_integer(rest):
        raise fail(f'"{text}" is not a valid range.')
    if separator == ":":
        length = int(rest)
        if length <= 0:
            raise fail(f"Range {stripped} isn't valid because length {length} isn't positive")
        return SliceRange(start, length)
    end = int(rest)
    if start >= end:
        raise fail(f"Range {stripped} isn't valid because {start} is greater or equal than {end}")
    return SliceRange(start, end - start + 1)


def _is_signed_integer(text: str) -> bool:
    return text.lstrip("-").isdigit() and len(text) - len(text.lstrip("-")) <= 1


def cut(data: bytes, ranges: tuple[SliceRange, ...]) -> bytes | None:
    """The concatenated slices of `data`, or None when any slice runs outside it."""
    pieces = []
    size = len(data)
    for piece in ranges:
        start = piece.start if piece.start >= 0 else size + piece.start
        if start < 0 or start >= size:
            return None
        end = size if piece.length is None else start + piece.length
        if end > size:
            return None
        pieces.append(data[start:end])
    return b"".join(pieces)


def layer_numbers(ranges: tuple[SliceRange, ...], layer_count: int) -> set[int]:
    """The 1-based layer numbers that `#n` / `#[ranges]` select among `layer_count` layers."""
    selected: set[int] = set()
    for piece in ranges:
        first = piece.start if piece.start >= 0 else layer_count + 1 + piece.start
        last = layer_count if piece.length is None else first + piece.length - 1
        selected.update(range(max(first, 1), min(last, layer_count) + 1))
    return selected
