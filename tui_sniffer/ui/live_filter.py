"""A display filter that keeps applying while a live capture grows: packets indexed after the filter
ran are tested in a worker and the matching ones join the view (the list still follows the newest).

The app's own filter worker tests the packets indexed when the filter was requested; this takes
over from the last count the app had shown before that, so nothing falls between the two (packets
tested twice are merged once)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from textual import work
from textual.message import Message
from textual.worker import get_current_worker

from tui_sniffer.dissect.engine import dissect_frame
from tui_sniffer.filter import FilterError, compile_filter
from tui_sniffer.session import Capture


@dataclass
class LivePacketsFiltered(Message):
    """Of `capture`'s packets up to `through`, these `matching` frame numbers pass display filter `text`."""

    capture: Capture
    text: str
    matching: np.ndarray
    through: int


class LiveFilterMixin:
    """Extends an applied display filter to the packets a live capture adds (see the module docstring)."""

    _live_seen_count = 0
    """How many packets of the live capture the app had taken into its view (UI thread only)."""
    _live_filter_from = 0
    _live_filtered_through = 0
    _live_filtering = False

    def on_filter_bar_filter_requested(self, message) -> None:
        self._live_filter_from = self._live_seen_count

    def on_filter_applied(self, message) -> None:
        self._live_filtered_through = self._live_filter_from

    def _extend_live_filter(self, indexed_count: int) -> None:
        """Test the packets indexed since the filter last ran, unless that is already under way."""
        self._live_seen_count = indexed_count
        if not self.applied_filter_text or self._live_filtering or indexed_count <= self._live_filtered_through:
            return
        self._live_filtering = True
        self.filter_live_packets(self.capture, self.applied_filter_text, self._live_filtered_through, indexed_count)

    @work(thread=True, group="live-filter")
    def filter_live_packets(self, capture: Capture, text: str, after: int, through: int) -> None:
        """Test frames `after`+1 … `through` (dissected uncached, so thread-safe) and post the matches."""
        worker = get_current_worker()
        try:
            compiled = compile_filter(text)
        except FilterError:
            compiled = None
        matching = []
        for number in range(after + 1, through + 1):
            if worker.is_cancelled or compiled is None:
                break
            if compiled.matches(dissect_frame(capture.frame_info(number), capture.packet_bytes(number))):
                matching.append(number)
        self.post_message(LivePacketsFiltered(capture, text, np.array(matching, dtype=np.int64), through))

    def on_live_packets_filtered(self, message: LivePacketsFiltered) -> None:
        self._live_filtering = False
        if message.capture is not self.capture or message.text != self.applied_filter_text:
            return
        self._live_filtered_through = max(self._live_filtered_through, message.through)

        def add_matches() -> None:
            merged = np.union1d(self.displayed_packet_numbers, message.matching)
            if len(merged) != len(self.displayed_packet_numbers):
                self.displayed_packet_numbers = merged
                self.packet_list.set_view(merged)
            self._refresh_status()

        self._follow_newest(add_matches)
        self._extend_live_filter(self._live_seen_count)

    def _follow_newest(self, update_view: Callable[[], None]) -> None:
        """Update the view; if the cursor was on the newest packet and in sight, move it to the new newest."""
        packet_list = self.packet_list
        count = len(self.displayed_packet_numbers)
        following = count == 0 or (packet_list.cursor_row >= count - 1
                                    and packet_list.scroll_y + packet_list.visible_rows >= count)
        update_view()
        if following and len(self.displayed_packet_numbers) > count:
            packet_list.action_bottom()
