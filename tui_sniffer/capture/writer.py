"""Writing pcap and pcapng files (or stdout), whole records at a time so a concurrent reader never sees half of one."""
from __future__ import annotations

import os
import struct
import sys
from types import TracebackType
from typing import BinaryIO, Literal

from tui_sniffer.capture.pcapng_blocks import (
    ENHANCED_PACKET_BLOCK,
    IF_DESCRIPTION,
    IF_FILTER,
    IF_NAME,
    IF_OS,
    IF_TSRESOL,
    INTERFACE_DESCRIPTION_BLOCK,
    OPTION_COMMENT,
    SECTION_HEADER_BLOCK,
)
from tui_sniffer.capture.records import CaptureError, InterfaceInfo, RawRecord

PENDING_LIMIT_BYTES = 1024 * 1024
"""Whole records are collected up to this size before they are written out."""
SHB_USER_APPLICATION = 4
NANOSECOND_TSRESOL = 9


class _RecordSink:
    """Collects encoded whole records and writes them out in one piece, to a path, a binary file or stdout."""

    def __init__(self, destination: str | BinaryIO) -> None:
        self._pending = bytearray()
        self.bytes_written = 0
        """Every byte appended so far (headers included), whether or not it has reached the file yet."""
        self._fd: int | None = None
        self._stream: BinaryIO | None = None
        self._owns_stream = False
        if destination == "-":
            self._stream = sys.stdout.buffer
        elif isinstance(destination, (str, os.PathLike)):
            try:
                self._fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            except OSError as error:
                raise CaptureError(f"cannot write {destination}: {error.strerror.lower()}") from None
        else:
            self._stream = destination
        self._closed = False

    def append(self, encoded: bytes | bytearray) -> None:
        """Queue one whole encoded record (or header), writing the queue out once it is large."""
        if self._closed:
            raise CaptureError("cannot write to a closed capture writer")
        self._pending += encoded
        self.bytes_written += len(encoded)
        if len(self._pending) >= PENDING_LIMIT_BYTES:
            self._write_pending()

    def _write_pending(self) -> None:
        """Hand every queued byte to the OS (or the stream), so it holds only whole records."""
        if self._fd is not None:
            view = memoryview(self._pending)
            while view:
                view = view[os.write(self._fd, view) :]
            view.release()
        else:
            self._stream.write(self._pending)
        self._pending.clear()

    def flush(self) -> None:
        """Make everything written so far visible to readers of the file."""
        if self._closed:
            return
        self._write_pending()
        if self._stream is not None:
            self._stream.flush()

    def close(self) -> None:
        """Flush and release the file; a stream passed in (or stdout) is flushed but left open."""
        if self._closed:
            return
        try:
            self.flush()
        finally:  # a full disk must not leak the file descriptor
            self._closed = True
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class _CaptureWriter:
    """What both writers share: a sink, flushing, closing and the context-manager protocol."""

    _sink: _RecordSink

    def flush(self) -> None:
        """Write out every whole record written so far."""
        self._sink.flush()

    @property
    def bytes_written(self) -> int:
        """The size the file has once flushed: every header and record written so far."""
        return self._sink.bytes_written

    def close(self) -> None:
        """Flush and close the destination."""
        self._sink.close()

    def __enter__(self) -> _CaptureWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class PcapWriter(_CaptureWriter):
    """Writes a classic pcap file with one link type, in native little-endian byte order."""

    def __init__(
        self, destination: str | BinaryIO, link_type: int, snaplen: int = 262144, nanosecond: bool = True
    ) -> None:
        self.link_type = link_type
        self.nanosecond = nanosecond
        self._fraction_unit = 1 if nanosecond else 1000
        self._fractions_per_second = 1_000_000_000 // self._fraction_unit
        self._record_header = struct.Struct("<IIII")
        self._sink = _RecordSink(destination)
        magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
        self._sink.append(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, link_type))

    def write(self, record: RawRecord) -> None:
        """Append one record; its link type must be the file's, since pcap holds only one."""
        if record.link_type != self.link_type:
            raise CaptureError(
                f"a pcap file holds one link type ({self.link_type}); this record has {record.link_type}"
            )
        self.write_packet(record.interface_id, record.timestamp_ns, record.data, record.wire_length)

    def write_packet(self, interface_id: int, timestamp_ns: int, data: bytes, wire_length: int) -> None:
        """Append one packet of the file's link type (pcap has no interfaces, so `interface_id` is unused)."""
        seconds, fraction = divmod(timestamp_ns // self._fraction_unit, self._fractions_per_second)
        self._sink.append(self._record_header.pack(seconds, fraction, len(data), wire_length) + data)


_PADDING = [b"", b"\x00", b"\x00\x00", b"\x00\x00\x00"]
_LENGTH = struct.Struct("<I")


def _option(code: int, value: bytes) -> bytes:
    """One pcapng option, padded to 32 bits."""
    return struct.pack("<HH", code, len(value)) + value + b"\x00" * (-len(value) % 4)


def _options(options: list[bytes]) -> bytes:
    """An options list with its end marker, or nothing when there are no options."""
    return b"".join(options) + struct.pack("<HH", 0, 0) if options else b""


def _block(block_type: int, body: bytes) -> bytes:
    """A whole pcapng block: type, lengths around the body (which is already 32-bit aligned)."""
    length = len(body) + 12
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


class PcapngWriter(_CaptureWriter):
    """Writes a little-endian pcapng section with the given interfaces and nanosecond timestamps."""

    def __init__(
        self, destination: str | BinaryIO, interfaces: list[InterfaceInfo], section_comment: str | None = None
    ) -> None:
        self.interfaces = list(interfaces)
        self._sink = _RecordSink(destination)
        section_options = [_option(SHB_USER_APPLICATION, b"tui-sniffer")]
        if section_comment:
            section_options.insert(0, _option(OPTION_COMMENT, section_comment.encode()))
        section_body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + _options(section_options)
        self._sink.append(_block(SECTION_HEADER_BLOCK, section_body))
        for interface in self.interfaces:
            self._sink.append(_block(INTERFACE_DESCRIPTION_BLOCK, self._interface_body(interface)))
        self._enhanced_head = struct.Struct("<IIIIIII")

    @staticmethod
    def _interface_body(interface: InterfaceInfo) -> bytes:
        """An IDB body; timestamps are always written in nanoseconds, whatever the source used."""
        options = [_option(IF_TSRESOL, bytes([NANOSECOND_TSRESOL]))]
        for code, text in (
            (IF_NAME, interface.name),
            (IF_DESCRIPTION, interface.description),
            (IF_OS, interface.os),
        ):
            if text:
                options.append(_option(code, text.encode()))
        if interface.filter:
            options.append(_option(IF_FILTER, b"\x00" + interface.filter.encode()))
        return struct.pack("<HHI", interface.link_type, 0, interface.snaplen) + _options(options)

    def write(self, record: RawRecord) -> None:
        """Append one record as an enhanced packet block on its interface, keeping its comments."""
        options = b""
        if record.comments:
            options = _options([_option(OPTION_COMMENT, comment.encode()) for comment in record.comments])
        self.write_packet(record.interface_id, record.timestamp_ns, record.data, record.wire_length, options)

    def write_packet(self, interface_id: int, timestamp_ns: int, data: bytes, wire_length: int,
                     options: bytes = b"") -> None:
        """Append one packet as an enhanced packet block (the live capture's fast path: no record object)."""
        if not 0 <= interface_id < len(self.interfaces):
            raise CaptureError(f"record names interface {interface_id}, but the file has {len(self.interfaces)}")
        padding = -len(data) % 4
        block_length = 32 + len(data) + padding + len(options)
        self._sink.append(
            self._enhanced_head.pack(ENHANCED_PACKET_BLOCK, block_length, interface_id,
                                     (timestamp_ns >> 32) & 0xFFFFFFFF, timestamp_ns & 0xFFFFFFFF,
                                     len(data), wire_length)
            + data + _PADDING[padding] + options + _LENGTH.pack(block_length)
        )


def open_writer(
    path: str, interfaces: list[InterfaceInfo], format: Literal["pcap", "pcapng"] | None = None
) -> PcapWriter | PcapngWriter:
    """A writer for `path`: pcapng unless asked for pcap or the name ends in .pcap and one link type will do."""
    link_types = {interface.link_type for interface in interfaces}
    if format is None:
        format = "pcap" if path.lower().endswith(".pcap") and len(link_types) == 1 else "pcapng"
    if format == "pcapng":
        return PcapngWriter(path, interfaces)
    if format != "pcap":
        raise CaptureError(f"unknown capture file format {format!r}; use 'pcap' or 'pcapng'")
    if len(link_types) != 1:
        raise CaptureError(f"a pcap file holds one link type, but the interfaces have {sorted(link_types)}")
    return PcapWriter(path, interfaces[0].link_type, snaplen=max(i.snaplen for i in interfaces))
