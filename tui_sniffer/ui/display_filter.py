"""Running the display filter for the app: a cancellable worker over `Capture.iter_filter`.

A new filter cancels the running one (messages of an old run are recognised by their run number and
dropped). Matches join the view as they are found, with the progress in the status bar. While a
file is still loading (or a live capture grows), rows indexed after a run started are filtered by a
follow-up run from where the last one stopped. The worker and the UI thread take turns on the capture through
`capture_lock` (its dissection caches are not thread-safe): the worker one progress item (~50 ms of
work) at a time, and only while the UI thread leaves the capture alone.
"""
from __future__ import annotations

import time

import numpy as np
from textual import work
from textual.worker import get_current_worker

from tui_sniffer import Capture
from tui_sniffer.filter import CompiledFilter
from tui_sniffer.ui.capture_turns import CaptureTurns
from tui_sniffer.ui.filter_bar import FilterBar
from tui_sniffer.ui.messages import FilterApplied, FilterMatchesFound
from tui_sniffer.ui.text_safety import printable

_POST_INTERVAL_SECONDS = 0.1


def merged(shown: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Ascending frame numbers of both (appending when `found` all come after, the usual case)."""
    if not len(found):
        return shown
    if not len(shown) or found[0] > shown[-1]:
        return np.concatenate([shown, found])
    return np.union1d(shown, found)


class DisplayFilterMixin:
    """The app's side of display filtering (see the module docstring)."""

    capture_lock: CaptureTurns
    active_filter: CompiledFilter | None = None
    """The applied filter (None: every packet is displayed)."""
    _filter_run = 0
    _filter_running = False
    _filtered_rows = 0
    """Index rows 0…n-1 that the active filter has examined."""
    _selection_before_filter: int | None = None
    """The packet selected when the filter was applied: the cursor goes to it (or the next displayed)."""

    def forget_display_filter(self) -> None:
        """Stop any filter run and display every packet (the view is refilled by `_update_view`)."""
        self.workers.cancel_group(self, "filter")
        self._filter_run += 1
        self._filter_running = False
        self.active_filter = None
        self.applied_filter_text = ""
        self.status.activity = ""
        self.packet_list.empty_text = "No packets."
        self.displayed_packet_numbers = np.zeros(0, dtype=np.int64)

    def on_filter_bar_filter_requested(self, message: FilterBar.FilterRequested) -> None:
        self.packet_list.focus()
        if self.capture is None:
            return
        self._selection_before_filter = self.packet_list.selected_number
        self.forget_display_filter()
        if message.compiled.is_empty:
            self._update_view()
            return
        self.active_filter = message.compiled
        self.applied_filter_text = message.compiled.text
        self.packet_list.empty_text = f"Filtering… no packets match {printable(message.compiled.text)} yet"
        self.packet_list.set_view(self.displayed_packet_numbers)
        self._filtered_rows = 0
        self._start_filter_run()

    def _start_filter_run(self) -> None:
        """Filter the rows indexed since the last run of the active filter."""
        self._filter_running = True
        self.status.activity = "Filtering…"
        self._refresh_status()
        self.filter_packets(self.capture, self.active_filter, self._filter_run, self._filtered_rows)

    def _filter_rows_indexed_since(self) -> None:
        """While a file loads or a live capture grows: filter the rows indexed after the last run, once it finished."""
        if self.active_filter is not None and not self._filter_running and self.capture is not None \
                and self.capture.indexed_count > self._filtered_rows:
            self._start_filter_run()

    @work(thread=True, exclusive=True, group="filter")
    def filter_packets(self, capture: Capture, compiled: CompiledFilter, run: int, start_row: int) -> None:
        """Examine rows `start_row`… against `compiled`, posting matches at most every 100 ms."""
        worker = get_current_worker()
        progress = capture.iter_filter(compiled, start_row)
        found: list[np.ndarray] = []
        last_post = time.monotonic()
        rows_total = start_row
        while not worker.is_cancelled:
            with self.capture_lock.worker():
                item = next(progress, None)
            if item is None:
                break
            found.append(item.frames)
            rows_total = item.rows_total
            if time.monotonic() - last_post >= _POST_INTERVAL_SECONDS or item.rows_done == item.rows_total:
                frames = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
                self.post_message(FilterMatchesFound(run, frames, item.rows_done, item.rows_total))
                found = []
                last_post = time.monotonic()
        if not worker.is_cancelled:
            self.post_message(FilterApplied(run, compiled.text, rows_total))

    def on_filter_matches_found(self, message: FilterMatchesFound) -> None:
        if message.run != self._filter_run:
            return
        if len(message.frames):
            shown = self.displayed_packet_numbers = merged(self.displayed_packet_numbers, message.frames)
            target = self._selection_before_filter
            self.packet_list.set_view(shown, near=target)
            if target is not None and shown[-1] >= target:
                self._selection_before_filter = None  # reached: from now on the cursor stays put
        self.status.activity = f"Filtering {message.rows_done / max(message.rows_total, 1) * 100:.0f}%…"
        self._refresh_status()

    def on_filter_applied(self, message: FilterApplied) -> None:
        if message.run != self._filter_run:
            return
        self._filter_running = False
        self._filtered_rows = message.rows_total
        self._selection_before_filter = None
        self.status.activity = ""
        self.packet_list.empty_text = f"No packets match the display filter: {printable(message.text)}"
        if not len(self.displayed_packet_numbers):
            self._show_packet(None)
            self.packet_list.refresh()
        self._refresh_status()
        self._filter_rows_indexed_since()
