"""The rows of one TCP/UDP stream by binary search, so per-stream analysis never scans every packet."""
from __future__ import annotations

import numpy as np

_MIN_REGROUP_ROWS = 65536


class StreamRows:
    """Rows grouped by the value of one stream column, kept current as the (append-only) index grows.

    Rows indexed since the last grouping are scanned directly; the grouping is redone once that tail
    outgrows an eighth of what is grouped, so growth costs O(n log n) in all and a lookup stays
    O(log n + rows of the stream + tail).
    """

    def __init__(self) -> None:
        self._grouped = (0, np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int32))
        """(rows grouped, their row numbers ordered by stream then row, the stream of each)."""

    def rows(self, values: np.ndarray, stream: int, start: int, stop: int) -> np.ndarray:
        """Ascending rows in [start, stop) whose value in `values` (the column's indexed rows) is `stream`."""
        if stream < 0:
            return np.empty(0, dtype=np.int64)
        grouped_until, order, streams = self._grouped
        if len(values) - grouped_until > max(grouped_until // 8, _MIN_REGROUP_ROWS):
            grouped_until, order, streams = self._regroup(values)
        key = streams.dtype.type(stream)  # a Python int would make numpy convert the whole column per search
        low, high = np.searchsorted(streams, key, "left"), np.searchsorted(streams, key, "right")
        grouped = order[low:high].astype(np.int64)
        grouped = grouped[np.searchsorted(grouped, start):np.searchsorted(grouped, stop)]
        tail_start = max(grouped_until, start)
        if tail_start >= stop:
            return grouped
        tail = np.flatnonzero(values[tail_start:stop] == stream) + tail_start
        return np.concatenate((grouped, tail)) if len(grouped) else tail

    def _regroup(self, values: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
        """Group every row that belongs to a stream (value ≥ 0) by stream, rows ascending within each."""
        members = np.flatnonzero(values >= 0)
        order = members[np.argsort(values[members], kind="stable")].astype(np.int32)
        self._grouped = (len(values), order, values[order].astype(np.int32))
        return self._grouped
