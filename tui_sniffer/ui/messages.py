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
class FilterProgressed(Message):
    """The filter worker has tested `progress` (0–1) of the packets."""

    progress: float


@dataclass
class FilterApplied(Message):
    """The filter `text` matched `displayed_packet_numbers` (ascending frame numbers)."""

    text: str
    displayed_packet_numbers: np.ndarray
