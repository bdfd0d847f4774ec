"""Capture files opened for reading: format detection, chunked scanning and random access to packets."""
from __future__ import annotations

import os
from collections.abc import Iterator
from types import TracebackType
from typing import Literal

from tui_sniffer.capture.pcap import FILE_HEADER_LENGTH, PcapLayout, PcapWalker, is_pcap_magic
from tui_sniffer.capture.pcapng import PCAPNG_MAGIC, PcapngWalker
from tui_sniffer.capture.pcapng_blocks import PcapngCatalog
from tui_sniffer.capture.records import (
    CaptureError,
    InterfaceInfo,
    RawRecord,
    RecordBatch,
    TruncatedCaptureError,
)
from tui_sniffer.capture.spool import open_capture_bytes
from tui_sniffer.capture.walk import RecordWalker

DEFAULT_BATCH_RECORDS = 65536
DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024
PREAMBLE_CHUNK_BYTES = 64 * 1024
"""Enough to read a pcapng section header and its interfaces when opening, without scanning packets."""


def open_capture_file(path: str, growing: bool = False) -> CaptureFile:
    """Open a pcap or pcapng file (plain or gzip; `-` is stdin) for scanning and random access.

    `growing` says a live capture is still appending to the file (see `CaptureFile.growing`)."""
    fd = open_capture_bytes(path)
    try:
        return CaptureFile(path, fd, growing)
    except BaseException:
        os.close(fd)
        raise


def _describe_start(first_bytes: bytes) -> str:
    """The first bytes of a file the way an error message should quote them."""
    if all(32 <= byte < 127 for byte in first_bytes):
        return repr(first_bytes.decode("ascii"))
    return first_bytes.hex(" ")


class CaptureFile:
    """A readable capture: its interfaces and comments, a chunked record scan and thread-safe packet reads."""

    def __init__(self, path: str, fd: int, growing: bool = False) -> None:
        self.path = path
        self._fd: int | None = fd
        self.size = os.fstat(fd).st_size
        """Bytes in the file (for a growing file: as far as a scan has read)."""
        self.growing = growing
        """A writer is still appending whole records: a scan that reaches the end yields None ("nothing
        new yet") and waits for the rest of a partly written record instead of calling it cut short.
        The writer's owner sets it to False once the file is complete."""
        first_four = os.pread(fd, 4, 0)
        if not first_four:
            raise CaptureError(f"{path}: the file is empty")
        self._pcap_layout: PcapLayout | None = None
        self._pcapng_catalog: PcapngCatalog | None = None
        if first_four == PCAPNG_MAGIC:
            self.format_name: Literal["pcap", "pcapng"] = "pcapng"
            self._pcapng_catalog = PcapngCatalog()
            self._read_pcapng_preamble()
        elif is_pcap_magic(first_four):
            self.format_name = "pcap"
            self._pcap_layout = PcapLayout(os.pread(fd, FILE_HEADER_LENGTH, 0))
        else:
            raise CaptureError(f"{path}: not a pcap or pcapng file (starts with {_describe_start(first_four)})")

    def _read_pcapng_preamble(self) -> None:
        """Learn the first section's comments and interfaces now; later ones are learned as the scan meets them."""
        try:
            next(self.scan(batch_records=1, chunk_bytes=PREAMBLE_CHUNK_BYTES), None)
        except CaptureError:
            if not self._pcapng_catalog.sections_seen:
                raise
            # damage after the first section header is reported by scan(), after the records before it

    @property
    def interfaces(self) -> list[InterfaceInfo]:
        """Every interface, numbered globally across pcapng sections (grows as a scan meets later sections)."""
        if self._pcap_layout is not None:
            return [self._pcap_layout.interface]
        return self._pcapng_catalog.interfaces

    @property
    def section_comments(self) -> list[str]:
        """The comments of every section header seen so far (pcap files have none)."""
        return self._pcapng_catalog.section_comments if self._pcapng_catalog else []

    @property
    def packet_comments(self) -> dict[int, list[str]]:
        """Comments of the packets scanned so far, keyed by 0-based record index (they are rare)."""
        return self._pcapng_catalog.packet_comments if self._pcapng_catalog else {}

    @property
    def nanosecond(self) -> bool:
        """Whether timestamps are finer than microseconds (on any interface)."""
        if self._pcap_layout is not None:
            return self._pcap_layout.nanosecond
        return any(interface.timestamp_resolution_ns < 1000 for interface in self.interfaces)

    def _open_fd(self) -> int:
        """The file descriptor, or an error if the file was closed."""
        if self._fd is None:
            raise CaptureError(f"{self.path}: the capture file is closed")
        return self._fd

    def _new_walker(self) -> RecordWalker:
        """A fresh walker for one pass over the file."""
        if self._pcap_layout is not None:
            return PcapWalker(self._pcap_layout)
        return PcapngWalker(self._pcapng_catalog)

    def scan(
        self, batch_records: int = DEFAULT_BATCH_RECORDS, chunk_bytes: int = DEFAULT_CHUNK_BYTES
    ) -> Iterator[RecordBatch | None]:
        """Read the file front to back in chunks, yielding record metadata batches; raise on damage after them.

        Only a `growing` file yields None: its end was reached for now; the next step reads on from there."""
        if batch_records < 1 or chunk_bytes < 1:
            raise ValueError("scan needs at least one record per batch and one byte per chunk")
        fd = self._open_fd()
        walker = self._new_walker()
        chunk = b""
        chunk_offset = read_offset = walker.start_offset
        position = 0
        needed_bytes = 1
        while True:
            if needed_bytes:
                leftover = chunk[position:]
                read_size = max(chunk_bytes, needed_bytes - len(leftover))
                data = os.pread(fd, read_size, read_offset)
                if not data:
                    if self.growing:
                        yield None
                        continue
                    if leftover:
                        raise TruncatedCaptureError(chunk_offset + position, _cut_part(self.format_name, leftover))
                    return
                read_offset += len(data)
                self.size = max(self.size, read_offset)
                chunk_offset += position
                chunk = leftover + data
                position = 0
            step = walker.walk(chunk, position, batch_records, chunk_offset)
            if step.batch is not None:
                yield step.batch
            if step.error is not None:
                raise step.error
            position, needed_bytes = step.stop_position, step.needed_bytes

    def iter_records(self) -> Iterator[RawRecord]:
        """Every record with its bytes and comments, one object each: for tests and small files.

        For a growing file: the records written so far."""
        interfaces = self.interfaces
        record_index = 0
        for batch in self.scan():
            if batch is None:
                return
            for row in range(len(batch)):
                interface_id = int(batch.interface_ids[row])
                yield RawRecord(
                    data=batch.packet_data(row),
                    timestamp_ns=int(batch.timestamps_ns[row]),
                    captured_length=int(batch.captured_lengths[row]),
                    wire_length=int(batch.wire_lengths[row]),
                    link_type=interfaces[interface_id].link_type,
                    interface_id=interface_id,
                    comments=list(self.packet_comments.get(record_index, ())),
                )
                record_index += 1

    def read_packet(self, file_offset: int, captured_length: int) -> bytes:
        """One packet's bytes by its file offset; uses pread so any thread may call it during a scan."""
        data = os.pread(self._open_fd(), captured_length, file_offset)
        if len(data) != captured_length:
            raise TruncatedCaptureError(file_offset)
        return data

    def close(self) -> None:
        """Release the file (a spooled temp file disappears with it); safe to call twice."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> CaptureFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CaptureFile({self.path!r}, format={self.format_name}, size={self.size})"


_PACKET_BLOCK_TYPES = {
    packed for block_type in (2, 3, 6) for packed in (bytes([block_type, 0, 0, 0]), bytes([0, 0, 0, block_type]))
}
"""The leading four bytes of an obsolete, simple or enhanced packet block, in either byte order."""


def _cut_part(format_name: str, leftover: bytes) -> str:
    """What a truncated file was cut in the middle of, for the error message."""
    if format_name == "pcap" or leftover[:4] in _PACKET_BLOCK_TYPES:
        return "a packet"
    return "a pcapng block"
