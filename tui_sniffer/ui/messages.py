"""Messages the indexing worker posts to the app (which owns all state)."""
from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from tui_sniffer import CaptureError


@dataclass
class PacketsIndexed(Message):
    """More packets were indexed; `indexed_count` in total, `progress` of the file read (0–1)."""

    indexed_count: int
    progress: float


@dataclass
class IndexingFinished(Message):
    """The whole file was indexed, or reading stopped at `error` (a truncated file, say)."""

    indexed_count: int
    error: CaptureError | None
