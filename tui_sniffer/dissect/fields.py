"""The field registry: every Wireshark field is declared here once, by name, type and label.

Protocol modules declare their fields with :func:`register` at import time; the filter's semantic
check, the detail tree's labels, the `-T fields` output, `-G fields` and autocompletion all read
the same :class:`FieldDef`.
"""
from __future__ import annotations

import datetime as _dt
import ipaddress
from dataclasses import dataclass
from enum import Enum
from typing import Mapping


class FieldType(Enum):
    """Wireshark's field types (the `FT_*` names `tshark -G fields` prints)."""

    PROTOCOL = "FT_PROTOCOL"
    NONE = "FT_NONE"
    BOOLEAN = "FT_BOOLEAN"
    UINT8 = "FT_UINT8"
    UINT16 = "FT_UINT16"
    UINT24 = "FT_UINT24"
    UINT32 = "FT_UINT32"
    UINT64 = "FT_UINT64"
    INT32 = "FT_INT32"
    FRAMENUM = "FT_FRAMENUM"
    FLOAT = "FT_DOUBLE"
    IPV4 = "FT_IPv4"
    IPV6 = "FT_IPv6"
    ETHER = "FT_ETHER"
    STRING = "FT_STRING"
    BYTES = "FT_BYTES"
    ABSOLUTE_TIME = "FT_ABSOLUTE_TIME"
    RELATIVE_TIME = "FT_RELATIVE_TIME"

    @property
    def is_integer(self) -> bool:
        """Whether values are Python ints compared numerically."""
        return self in _INTEGER_TYPES

    @property
    def byte_width(self) -> int:
        """Width in bytes of an unsigned integer type (used to pad hex output)."""
        return {FieldType.UINT8: 1, FieldType.UINT16: 2, FieldType.UINT24: 3,
                FieldType.UINT32: 4, FieldType.UINT64: 8}.get(self, 4)


_INTEGER_TYPES = {FieldType.UINT8, FieldType.UINT16, FieldType.UINT24, FieldType.UINT32,
                  FieldType.UINT64, FieldType.INT32, FieldType.FRAMENUM}


class Base(Enum):
    """How an integer field is shown (Wireshark's `BASE_*`)."""

    NONE = "BASE_NONE"
    DEC = "BASE_DEC"
    HEX = "BASE_HEX"
    DEC_HEX = "BASE_DEC_HEX"
    HEX_DEC = "BASE_HEX_DEC"
    UNIX_TIME = "ABSOLUTE_TIME_UNIX"


class Timestamp(float):
    """Seconds since the epoch as a float (what filters compare) that keeps its exact nanoseconds."""

    nanoseconds: int

    def __new__(cls, nanoseconds: int) -> Timestamp:
        moment = super().__new__(cls, nanoseconds / 1e9)
        moment.nanoseconds = nanoseconds
        return moment


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One Wireshark field: its filter name, type, human label and how its values are shown."""

    name: str
    label: str
    ftype: FieldType
    base: Base = Base.NONE
    value_names: Mapping[int, str] | None = None
    bitmask: int = 0
    description: str = ""

    @property
    def protocol(self) -> str:
        """The protocol a field belongs to: the part of its name before the first dot."""
        return self.name.split(".", 1)[0]

    @property
    def is_protocol(self) -> bool:
        """Whether this entry is a protocol (`tcp`) rather than a field (`tcp.port`)."""
        return self.ftype is FieldType.PROTOCOL

    @property
    def blurb(self) -> str:
        """The description shown in the status bar and by `-G fields`."""
        return self.description or self.label

    def value_name(self, value: object) -> str | None:
        """The name Wireshark gives an integer value (`6` → `TCP`), if any."""
        if self.value_names is None or not isinstance(value, int):
            return None
        return self.value_names.get(value)

    def show(self, value: object) -> str:
        """The value as the detail tree shows it after `Label: `."""
        if self.ftype is FieldType.BOOLEAN:
            return "Set" if value else "Not set"
        if self.ftype.is_integer and isinstance(value, int):
            number = _integer_text(value, self.base, self.ftype)
            name = self.value_name(value)
            return f"{name} ({number})" if name is not None else number
        return display_value(self.ftype, value)

    def export(self, value: object) -> str:
        """The value as `tshark -T fields` prints it (a present FT_NONE field prints `1`)."""
        if self.ftype is FieldType.NONE:
            return "1"
        if self.ftype is FieldType.BOOLEAN:
            return "1" if value else "0"
        if self.ftype.is_integer and isinstance(value, int):
            if self.base in (Base.HEX, Base.HEX_DEC):
                return f"0x{value:0{self.ftype.byte_width * 2}x}"
            return str(value)
        if self.ftype is FieldType.BYTES and isinstance(value, (bytes, bytearray)):
            return value.hex()
        if self.ftype is FieldType.RELATIVE_TIME and isinstance(value, float):
            return f"{value:.9f}"
        if self.ftype is FieldType.ABSOLUTE_TIME and self.base is Base.UNIX_TIME and isinstance(value, float):
            seconds, nanoseconds = divmod(_nanoseconds(value), 1_000_000_000)
            return f"{seconds}.{nanoseconds:09d}"
        return display_value(self.ftype, value)


def _integer_text(value: int, base: Base, ftype: FieldType) -> str:
    """An integer in the field's base, as Wireshark prints it in the tree."""
    width = ftype.byte_width * 2
    if base is Base.HEX:
        return f"0x{value:0{width}x}"
    if base is Base.HEX_DEC:
        return f"0x{value:0{width}x} ({value})"
    if base is Base.DEC_HEX:
        return f"{value} (0x{value:0{width}x})"
    return str(value)


def display_value(ftype: FieldType, value: object) -> str:
    """A non-integer value as text (addresses, strings, bytes, times)."""
    if ftype is FieldType.BYTES and isinstance(value, (bytes, bytearray)):
        return value.hex(":") if value else "<MISSING>"
    if ftype is FieldType.ABSOLUTE_TIME and isinstance(value, float):
        seconds, nanoseconds = divmod(_nanoseconds(value), 1_000_000_000)
        return absolute_time_text(seconds, nanoseconds)
    if ftype is FieldType.RELATIVE_TIME and isinstance(value, float):
        return f"{value:.9f} seconds"
    if ftype is FieldType.IPV6 and isinstance(value, str):
        return str(ipaddress.IPv6Address(value))
    return str(value)


def _nanoseconds(epoch_seconds: float) -> int:
    """Exact nanoseconds of a Timestamp, or the nearest microsecond-rounded value of a float."""
    if isinstance(epoch_seconds, Timestamp):
        return epoch_seconds.nanoseconds
    return round(epoch_seconds * 1e6) * 1000


def absolute_time_text(epoch_seconds: float, nanoseconds: int | None = None) -> str:
    """Wireshark's absolute time text, e.g. `Nov 21, 2026 06:16:50.123456000 UTC`."""
    moment = _dt.datetime.fromtimestamp(int(epoch_seconds), _dt.timezone.utc)
    if nanoseconds is None:
        nanoseconds = round((epoch_seconds - int(epoch_seconds)) * 1e9)
    return f"{moment:%b} {moment.day:2d}, {moment:%Y %H:%M:%S}.{nanoseconds:09d} UTC"


REGISTRY: dict[str, FieldDef] = {}


def register(name: str, label: str, ftype: FieldType, base: Base = Base.NONE, *,
             value_names: Mapping[int, str] | None = None, bitmask: int = 0,
             description: str = "") -> FieldDef:
    """Declare a field once; declaring the same name twice is a programming error."""
    if name in REGISTRY:
        raise ValueError(f"field {name!r} is declared twice")
    if ftype.is_integer and base is Base.NONE:
        base = Base.DEC
    definition = FieldDef(name, label, ftype, base, value_names, bitmask, description)
    REGISTRY[name] = definition
    return definition


def protocol(name: str, label: str) -> FieldDef:
    """Declare a protocol entry (`tcp`, `http`), which filters test for presence."""
    return register(name, label, FieldType.PROTOCOL)


def lookup(name: str) -> FieldDef | None:
    """The field or protocol named `name`, or None (after every protocol module is loaded)."""
    from tui_sniffer.dissect import protocols  # noqa: F401  (registers every field)

    return REGISTRY.get(name)


def all_fields() -> list[FieldDef]:
    """Every registered field and protocol, sorted by name."""
    from tui_sniffer.dissect import protocols  # noqa: F401

    return sorted(REGISTRY.values(), key=lambda definition: definition.name)
