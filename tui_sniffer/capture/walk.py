"""The contract between the chunked file reader and the per-format record walkers (pcap, pcapng)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tui_sniffer.capture.records import CaptureError, RecordBatch


@dataclass(slots=True)
class WalkStep:
    """How far one walk over a chunk got, and why it stopped there."""

    batch: RecordBatch | None
    stop_position: int
    """Position in the chunk of the first byte not consumed (the header of the next record)."""
    needed_bytes: int = 0
    """Bytes from `stop_position` that must be in the chunk to go on; 0 when the batch filled up."""
    error: CaptureError | None = None
    """A corrupt record at `stop_position`: raise it once the batch is delivered."""


class RecordWalker(Protocol):
    """Walks the records of one format through consecutive chunks of a file, keeping state between them."""

    start_offset: int
    """Where the first record header is in the file (after any file header the opener already read)."""

    def walk(self, chunk: bytes, position: int, max_records: int, chunk_offset: int) -> WalkStep:
        """Walk whole records from `position` in `chunk` (which starts at file offset `chunk_offset`)."""
        ...
