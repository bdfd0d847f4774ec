"""Running a display filter over a capture's index: columns first, dissection only where still needed.

Rows are taken in chunks. The vectorized evaluator decides most rows of a chunk from the index's
columns; each row it cannot decide is dissected and tested with the per-packet evaluator, which
defines the result. Progress comes out at least every ~50 ms of work, so a worker can post matches
as they are found and stop between items.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from tui_sniffer.dissect.tree import DissectedPacket
from tui_sniffer.filter import CompiledFilter, evaluate_columns
from tui_sniffer.store.filter_columns import IndexColumns
from tui_sniffer.store.index import PacketIndex

CHUNK_ROWS = 1 << 16
"""Rows evaluated over columns at once: big enough for numpy, small enough to report often."""

REPORT_SECONDS = 0.05


@dataclass(frozen=True)
class FilterProgress:
    """Matches among the rows just examined, and how far the run has got.

    `frames` holds 1-based frame numbers (int64, ascending); rows 0…`rows_done`-1 of the index have
    been examined once this item arrives; `rows_total` is how many rows the run covers in all.
    """

    frames: np.ndarray
    rows_done: int
    rows_total: int


class FilterRun:
    """One filter over the rows of an index, dissecting (by frame number) only undecided rows."""

    def __init__(self, compiled: CompiledFilter, index: PacketIndex,
                 dissect: Callable[[int], DissectedPacket], *, own_tcp_payloads: bool = True) -> None:
        self.compiled = compiled
        self.index = index
        self.dissect = dissect
        self.own_tcp_payloads = own_tcp_payloads

    def progress(self, start_row: int = 0) -> Iterator[FilterProgress]:
        """Examine rows `start_row`… of those indexed now; the last item has `rows_done == rows_total`."""
        total = self.index.count
        reporter = _Reporter(total)
        row = start_row
        while row < total:
            stop = min(row + CHUNK_ROWS, total)
            columns = IndexColumns(self.index, row, stop, own_tcp_payloads=self.own_tcp_payloads)
            verdict = evaluate_columns(self.compiled, columns)
            sure_rows = np.flatnonzero(verdict.surely) + row
            reporter.add_sure(sure_rows)
            for undecided in (np.flatnonzero(verdict.maybe) + row).tolist():
                if self.compiled.matches(self.dissect(undecided + 1)):
                    reporter.add_match(undecided)
                item = reporter.item_if_due(undecided + 1)
                if item is not None:
                    yield item
            row = stop
            item = reporter.item_if_due(row)
            if item is not None:
                yield item
        yield reporter.item(total)


class _Reporter:
    """Collects matches and cuts them into progress items at most every REPORT_SECONDS."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sure_rows = np.zeros(0, np.int64)
        self.matched_rows: list[int] = []
        self.deadline = time.perf_counter() + REPORT_SECONDS

    def add_sure(self, rows: np.ndarray) -> None:
        self.sure_rows = np.concatenate([self.sure_rows, rows.astype(np.int64)])

    def add_match(self, row: int) -> None:
        self.matched_rows.append(row)

    def item_if_due(self, rows_done: int) -> FilterProgress | None:
        if time.perf_counter() < self.deadline:
            return None
        return self.item(rows_done)

    def item(self, rows_done: int) -> FilterProgress:
        """The matches among rows before `rows_done` not reported yet."""
        cut = int(np.searchsorted(self.sure_rows, rows_done))
        reported = np.concatenate([self.sure_rows[:cut], np.asarray(self.matched_rows, np.int64)])
        self.sure_rows = self.sure_rows[cut:]
        self.matched_rows = []
        self.deadline = time.perf_counter() + REPORT_SECONDS
        return FilterProgress(np.sort(reported) + 1, rows_done, self.total)
