"""Parsing of the rarely-seen pcapng blocks and options: section headers, interfaces, comments."""
from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from tui_sniffer.capture.records import CaptureError, InterfaceInfo

SECTION_HEADER_BLOCK = 0x0A0D0D0A
INTERFACE_DESCRIPTION_BLOCK = 1
OBSOLETE_PACKET_BLOCK = 2
SIMPLE_PACKET_BLOCK = 3
ENHANCED_PACKET_BLOCK = 6
BYTE_ORDER_MAGIC = 0x1A2B3C4D

OPTION_END = 0
OPTION_COMMENT = 1
IF_NAME = 2
IF_DESCRIPTION = 3
IF_TSRESOL = 9
IF_FILTER = 11
IF_OS = 12
IF_TSOFFSET = 14


@dataclass(slots=True, frozen=True)
class TimestampScale:
    """How one interface's timestamp ticks become nanoseconds: ticks * multiplier // divisor + offset."""

    multiplier: int = 1000
    divisor: int = 1
    offset_ns: int = 0

    @classmethod
    def from_options(cls, tsresol: int, tsoffset_seconds: int) -> TimestampScale:
        """Build the scale from if_tsresol (10^-n, or 2^-n when the high bit is set) and if_tsoffset."""
        exponent = tsresol & 0x7F
        if tsresol & 0x80:
            multiplier, divisor = 1_000_000_000, 1 << exponent
        elif exponent <= 9:
            multiplier, divisor = 10 ** (9 - exponent), 1
        else:
            multiplier, divisor = 1, 10 ** (exponent - 9)
        return cls(multiplier, divisor, tsoffset_seconds * 1_000_000_000)

    @property
    def nanoseconds_per_tick(self) -> int:
        """The tick length rounded to whole nanoseconds, at least 1, for `InterfaceInfo`."""
        return max(1, round(self.multiplier / self.divisor))


@dataclass(slots=True)
class PcapngCatalog:
    """What a pcapng file declares besides packets, shared by every scan of it and filled as blocks appear."""

    interfaces: list[InterfaceInfo] = field(default_factory=list)
    timestamp_scales: list[TimestampScale] = field(default_factory=list)
    section_comments: list[str] = field(default_factory=list)
    sections_seen: int = 0
    packet_comments: dict[int, list[str]] = field(default_factory=dict)


@dataclass(slots=True)
class ByteOrder:
    """The precompiled structs for one section's byte order, so the hot loop does no format parsing."""

    prefix: str
    u32: struct.Struct = field(init=False)
    head: struct.Struct = field(init=False)
    enhanced: struct.Struct = field(init=False)
    obsolete: struct.Struct = field(init=False)
    option_head: struct.Struct = field(init=False)

    def __post_init__(self) -> None:
        self.u32 = struct.Struct(self.prefix + "I")
        self.head = struct.Struct(self.prefix + "II")
        self.enhanced = struct.Struct(self.prefix + "IIIIIII")
        self.obsolete = struct.Struct(self.prefix + "IIHHIIII")
        self.option_head = struct.Struct(self.prefix + "HH")


LITTLE_ENDIAN = ByteOrder("<")
BIG_ENDIAN = ByteOrder(">")


def section_byte_order(chunk: bytes, position: int, file_offset: int) -> ByteOrder:
    """The byte order a section header declares with its byte-order magic (needs 12 bytes at `position`)."""
    magic = chunk[position + 8 : position + 12]
    if magic == b"\x4d\x3c\x2b\x1a":
        return LITTLE_ENDIAN
    if magic == b"\x1a\x2b\x3c\x4d":
        return BIG_ENDIAN
    raise CaptureError(
        f"pcapng section header at byte offset {file_offset} has an unknown byte-order magic {magic.hex()}",
        file_offset,
    )


def iter_options(
    chunk: bytes, start: int, end: int, order: ByteOrder, block_offset: int
) -> Iterator[tuple[int, bytes]]:
    """Yield (code, value) for each option between `start` and `end`, stopping at opt_endofopt."""
    position = start
    while position + 4 <= end:
        code, length = order.option_head.unpack_from(chunk, position)
        if code == OPTION_END:
            return
        value_start = position + 4
        if value_start + length > end:
            raise CaptureError(
                f"pcapng option {code} runs past the end of its block at byte offset {block_offset}", block_offset
            )
        yield code, chunk[value_start : value_start + length]
        position = value_start + ((length + 3) & ~3)


def option_text(value: bytes) -> str:
    """An option's UTF-8 string value (writers sometimes leave a trailing NUL)."""
    return value.rstrip(b"\x00").decode("utf-8", "replace")


def comments_in(chunk: bytes, start: int, end: int, order: ByteOrder, block_offset: int) -> list[str]:
    """Every opt_comment among the options between `start` and `end`."""
    return [
        option_text(value)
        for code, value in iter_options(chunk, start, end, order, block_offset)
        if code == OPTION_COMMENT
    ]


def parse_section_header(chunk: bytes, position: int, block_end: int, order: ByteOrder, block_offset: int) -> list[str]:
    """Check a section header block's version and return its comments."""
    (major,) = struct.unpack_from(order.prefix + "H", chunk, position + 12)
    if major != 1:
        raise CaptureError(
            f"pcapng section header at byte offset {block_offset} has unsupported version {major}", block_offset
        )
    return comments_in(chunk, position + 24, block_end - 4, order, block_offset)


def parse_interface(
    chunk: bytes, position: int, block_end: int, order: ByteOrder, block_offset: int
) -> tuple[InterfaceInfo, TimestampScale]:
    """Read an interface description block: link type, snaplen and the options we show or need."""
    if block_end - position < 20:
        raise CaptureError(f"pcapng interface block at byte offset {block_offset} is too short", block_offset)
    link_type, _reserved, snaplen = struct.unpack_from(order.prefix + "HHI", chunk, position + 8)
    interface = InterfaceInfo(link_type=link_type, snaplen=snaplen)
    tsresol, tsoffset = 6, 0
    for code, value in iter_options(chunk, position + 16, block_end - 4, order, block_offset):
        if code == IF_NAME:
            interface.name = option_text(value)
        elif code == IF_DESCRIPTION:
            interface.description = option_text(value)
        elif code == IF_TSRESOL and value:
            tsresol = value[0]
        elif code == IF_FILTER and value[:1] == b"\x00":
            interface.filter = option_text(value[1:])
        elif code == IF_OS:
            interface.os = option_text(value)
        elif code == IF_TSOFFSET and len(value) == 8:
            (tsoffset,) = struct.unpack(order.prefix + "q", value)
    scale = TimestampScale.from_options(tsresol, tsoffset)
    interface.timestamp_resolution_ns = scale.nanoseconds_per_tick
    return interface, scale
