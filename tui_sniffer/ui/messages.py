"""Messages the indexing and filter workers post to the app (which owns all state)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
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


@dataclass
class FilterMatchesFound(Message):
    """Filter run `run` found `frames` (ascending) and has examined rows up to `rows_done` of `rows_total`."""

    run: int
    frames: np.ndarray
    rows_done: int
    rows_total: int


@dataclass
class FilterApplied(Message):
    """Filter run `run` of display filter `text` has examined every row up to `rows_total`."""

    run: int
    text: str
    rows_total: int
