"""Running a display filter over a capture's index: columns first, dissection only where still needed.

Rows are taken in chunks. The vectorized evaluator decides most rows of a chunk from the index's
columns, and `http`/`http.*` from where each HTTP message is shown (see `http_rows`, worked out once
for the whole index); each row it cannot decide is tested with the per-packet evaluator, which
defines the result, on as little of the packet as the filter needs (see `light`). Progress comes
out at least every ~50 ms of work, so a worker can post matches as they are found and stop between
items.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from tui_sniffer.dissect.tree import DissectedPacket
from tui_sniffer.filter import ColumnSource, CompiledFilter, evaluate_columns
from tui_sniffer.filter.http_rows import HttpColumns
from tui_sniffer.filter.light import (FRAME, ColumnRows, FieldCache, LightDissector, PartialPacket,
                                      is_light_field, reads_values_only)
from tui_sniffer.store.filter_columns import IndexColumns
from tui_sniffer.store.index import PacketIndex

CHUNK_ROWS = 1 << 16
"""Rows evaluated over columns at once: big enough for numpy, small enough to report often."""

REPORT_SECONDS = 0.05
"""The longest stretch of work between two progress items."""

_QUESTION_FIELDS = frozenset({"dns.qry.name", "dns.qry.type"})

MoreColumns = Callable[[ColumnSource, int, int], ColumnSource]
"""Adds columns computed elsewhere (TCP analysis) to the index's, for rows [start, stop)."""


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
    """One filter over the rows of an index, dissecting (by frame number) only what is still undecided.

    `more_columns` lets analysis add what it knows as columns (`tcp.analysis.*`). An undecided row
    is first tried without dissection (a PartialPacket from the columns, the cache
    and, with `light`, the application dissectors run on the payload alone); only if some field the
    filter reads is still unknown is the frame dissected, and what that showed goes to the cache.
    """

    def __init__(self, compiled: CompiledFilter, index: PacketIndex, dissect: Callable[[int], DissectedPacket],
                 *, own_tcp_payloads: bool = True, cache: FieldCache | None = None,
                 light: LightDissector | None = None, more_columns: MoreColumns | None = None) -> None:
        self.compiled = compiled
        self.index = index
        self.dissect = dissect
        self.own_tcp_payloads = own_tcp_payloads
        self.more_columns = more_columns
        self.cache = cache if cache is not None else FieldCache()
        self.light = light
        self.partial_ok = compiled.test is not None and reads_values_only(compiled.test)

    def progress(self, start_row: int = 0) -> Iterator[FilterProgress]:
        """Examine rows `start_row`… of those indexed now; the last item has `rows_done == rows_total`."""
        total = self.index.count
        self.cache.follow(total)
        reporter = _Reporter(total)
        shown_http = None
        if self.light is not None and start_row < total and _reads_http(self.compiled):
            for shown_http in self.light.shown_http(REPORT_SECONDS):
                if shown_http is None:
                    yield reporter.item(start_row)
        row = start_row
        while row < total:
            stop = min(row + CHUNK_ROWS, total)
            columns: ColumnSource = IndexColumns(self.index, row, stop, own_tcp_payloads=self.own_tcp_payloads,
                                                 remember=self.cache.derived)
            if self.more_columns is not None:
                columns = self.more_columns(columns, row, stop)
            if shown_http is not None:
                columns = HttpColumns(columns, shown_http, row, stop)
            verdict = evaluate_columns(self.compiled, columns)
            reporter.add_sure(np.flatnonzero(verdict.surely) + row)
            undecided_rows = (np.flatnonzero(verdict.maybe) + row).tolist()
            column_rows = ColumnRows(columns, row, self.compiled.field_names) if undecided_rows else None
            for undecided in undecided_rows:
                if self.matches(undecided, column_rows):
                    reporter.add_match(undecided)
                item = reporter.item_if_due(undecided + 1)
                if item is not None:
                    yield item
            row = stop
            item = reporter.item_if_due(row)
            if item is not None:
                yield item
        yield reporter.item(total)

    def matches(self, row: int, column_rows: ColumnRows | None) -> bool:
        """Whether an undecided row passes: from known values if they suffice, else by dissecting it."""
        packet = self.partial_packet(row, column_rows) if self.partial_ok else None
        if packet is not None:
            return self.compiled.matches(packet)
        dissected = self.dissect(row + 1)
        for name in self.compiled.field_names:
            self.cache.put(name, row, dissected.values(name))
        return self.compiled.matches(dissected)

    def partial_packet(self, row: int, column_rows: ColumnRows | None) -> PartialPacket | None:
        """The filter's fields for `row` without full dissection, or None if one of them needs it."""
        values: dict[str, list] = {}
        light_names = []
        frame_bytes = None
        for name in self.compiled.field_names:
            if name == FRAME and self.light is not None:
                frame_bytes = self.light.read_row(row)
                values[name] = [None]
                continue
            known = self.cache.get(name, row)
            if known is None and column_rows is not None:
                known = column_rows.values(name, row)
            if known is not None:
                values[name] = list(known)
            elif self.light is not None and is_light_field(name):
                light_names.append(name)
            else:
                return None
        if light_names:
            light_values = self.light_values(row, light_names)
            if light_values is None:
                return None
            for name in light_names:
                values[name] = light_values[name]
                self.cache.put(name, row, values[name])
        return PartialPacket(values, frame_bytes)

    def light_values(self, row: int, names: list[str]) -> dict[str, list] | None:
        """Application fields of `row` read from its payload alone (DNS questions straight from the bytes)."""
        light = self.light
        assert light is not None
        if set(names) <= _QUESTION_FIELDS:
            questions = light.dns_questions(row)
            if questions is not None:
                return dict(zip(("dns.qry.name", "dns.qry.type"), questions))
        packet = light.packet(row)
        return None if packet is None else {name: packet.values(name) for name in names}


def _reads_http(compiled: CompiledFilter) -> bool:
    """Whether a filter reads `http` or an `http.*` field."""
    return any(name == "http" or name.startswith("http.") for name in compiled.field_names)


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
