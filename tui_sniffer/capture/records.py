"""The values a capture source hands out: records, batches of record metadata, interfaces and errors."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MAX_CAPTURED_LENGTH = 256 * 1024 * 1024
"""A captured length above this is bogus, not a packet: it means the file is corrupt."""


class CaptureError(Exception):
    """A capture file cannot be read; the message says what went wrong and where."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        """The byte offset in the (decompressed) file where the problem is, when there is one."""


class TruncatedCaptureError(CaptureError):
    """The file ends in the middle of a record; every whole record before it was delivered."""

    def __init__(self, offset: int, cut_part: str = "a packet") -> None:
        super().__init__(f"file is cut short in the middle of {cut_part} at byte offset {offset}", offset)
        self.offset: int = offset


@dataclass(slots=True)
class InterfaceInfo:
    """One capture interface (a pcapng IDB, or the pcap global header), so records can name their link type."""

    name: str | None = None
    description: str | None = None
    link_type: int = 1
    snaplen: int = 262144
    timestamp_resolution_ns: int = 1000
    """Nanoseconds per timestamp tick, rounded to a whole number (at least 1)."""
    filter: str | None = None
    os: str | None = None


@dataclass(slots=True)
class RawRecord:
    """One packet as captured: its bytes and the metadata a file or live source records with it."""

    data: bytes
    timestamp_ns: int
    captured_length: int
    wire_length: int
    link_type: int = 1
    interface_id: int = 0
    comments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RecordBatch:
    """The metadata of many consecutive records as arrays, plus the file chunk holding their bytes."""

    buffer: bytes
    data_positions: np.ndarray
    """int64: where each packet's data starts inside `buffer`."""
    file_offsets: np.ndarray
    """int64: where each packet's data starts in the (decompressed) file, for `read_packet`."""
    captured_lengths: np.ndarray
    """uint32"""
    wire_lengths: np.ndarray
    """uint32"""
    timestamps_ns: np.ndarray
    """int64: nanoseconds since the epoch."""
    interface_ids: np.ndarray
    """uint16"""
    link_types: np.ndarray
    """uint16"""

    def __len__(self) -> int:
        return len(self.data_positions)

    def packet_data(self, index: int) -> bytes:
        """The captured bytes of the batch's `index`-th record, sliced from the chunk."""
        start = int(self.data_positions[index])
        return self.buffer[start : start + int(self.captured_lengths[index])]
