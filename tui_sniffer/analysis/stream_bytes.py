"""The bytes of one TCP direction placed at their sequence offsets, and which packet first carried each.

Segments may arrive out of order or twice; each byte belongs to the first segment (in capture order)
that carried it. That decides when a message is complete (when its last missing byte arrives), what
Follow Stream delivers and when, and where to read any stretch of the stream from.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True, slots=True)
class Stretch:
    """Bytes [start, end) of the stream first carried by the segment in `row`, which begins at `origin`."""

    start: int
    end: int
    row: int
    origin: int


class StreamCoverage:
    """Which segment first delivered each stretch of a direction's byte stream."""

    def __init__(self, read_payload: Callable[[int], bytes]) -> None:
        self._read_payload = read_payload
        self.stretches: list[Stretch] = []
        self._stretch_starts: list[int] = []
        self._segments: list[tuple[int, int, int]] = []
        """(start, row, end) of every segment added, in stream order then capture order."""
        self.contiguous = 0
        """Where the stream's first gap begins: bytes [0, contiguous) have all arrived."""

    def add(self, row: int, start: int, end: int) -> None:
        """A segment carrying bytes [start, end); its bytes nobody carried before become its stretches."""
        insort(self._segments, (start, row, end))
        position = max(start, 0)
        index = bisect_right(self._stretch_starts, position) - 1
        if index >= 0 and self.stretches[index].end > position:
            position = self.stretches[index].end
        index += 1
        while position < end:
            following = self.stretches[index].start if index < len(self.stretches) else end
            if following > position:
                piece_end = min(following, end)
                self.stretches.insert(index, Stretch(position, piece_end, row, start))
                self._stretch_starts.insert(index, position)
                index += 1
                position = piece_end
            if index < len(self.stretches) and self.stretches[index].start <= position:
                position = max(position, self.stretches[index].end)
                index += 1
        self._advance_contiguous()

    def _advance_contiguous(self) -> None:
        """Move the end of the gap-free prefix past every stretch that now joins it."""
        index = bisect_right(self._stretch_starts, self.contiguous) - 1
        index = max(index, 0)
        while index < len(self.stretches) and self.stretches[index].start <= self.contiguous:
            self.contiguous = max(self.contiguous, self.stretches[index].end)
            index += 1

    def stretch_at(self, offset: int) -> Stretch | None:
        """The stretch holding stream byte `offset`, if it has arrived."""
        index = bisect_right(self._stretch_starts, offset) - 1
        if index >= 0 and self.stretches[index].end > offset:
            return self.stretches[index]
        return None

    def stretches_in(self, start: int, end: int) -> list[Stretch]:
        """The stretches overlapping [start, end), in stream order."""
        index = max(bisect_right(self._stretch_starts, start) - 1, 0)
        found = []
        while index < len(self.stretches) and self.stretches[index].start < end:
            if self.stretches[index].end > start:
                found.append(self.stretches[index])
            index += 1
        return found

    def read(self, start: int, end: int) -> bytes:
        """Stream bytes [start, end), from the segments that first carried them (up to the first gap)."""
        parts = []
        for stretch in self.stretches_in(start, end):
            if stretch.start > start:
                break
            payload = self._read_payload(stretch.row)
            stop = min(stretch.end, end)
            parts.append(payload[start - stretch.origin:stop - stretch.origin])
            start = stop
        return b"".join(parts)

    def completed_by(self, start: int, end: int) -> int:
        """The row whose arrival made [start, end) whole (the latest first carrier of any of its bytes)."""
        return max(stretch.row for stretch in self.stretches_in(start, end))

    def segments_in(self, start: int, end: int) -> list[tuple[int, int, int]]:
        """(row, offset in [start, end), byte count) of every segment with bytes in [start, end), repeats
        included, in stream order then capture order."""
        index = bisect_left(self._segments, (start,))
        while index > 0 and self._segments[index - 1][2] > start:
            index -= 1
        found = []
        for segment_start, row, segment_end in self._segments[index:]:
            if segment_start >= end:
                break
            overlap_start, overlap_end = max(segment_start, start), min(segment_end, end)
            if overlap_end > overlap_start:
                found.append((row, overlap_start - start, overlap_end - overlap_start))
        return found

    def deliveries(self) -> list[tuple[int, Stretch]]:
        """Each stretch with the row at which it could be delivered in order (after every byte before it)."""
        delivered, latest = [], -1
        for stretch in self.stretches:
            latest = max(latest, stretch.row)
            delivered.append((latest, stretch))
        return delivered
