"""The packet list: a virtualized line-API view of the displayed packets, one dissected row at a time."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import numpy as np
from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.cache import LRUCache
from textual.events import Click, Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from tui_sniffer import Capture
from tui_sniffer.ui.capture_turns import CaptureTurns
from tui_sniffer.ui.coloring import COLOR_RULES, color_rule
from tui_sniffer.ui.text_safety import printable
from tui_sniffer.ui.time_format import TimeFormat, format_time

_GG_SECONDS = 1.0
_PREFETCH_DELAY_SECONDS = 0.05
_FILL_DELAY_SECONDS = 0.001
_ROW_BUDGET_SECONDS = 0.015
"""How long one repaint may spend dissecting rows. Rows past it are drawn first as placeholders
(number, time, length) and filled a row per event-loop turn, so a held key never waits for a
screenful of dissection."""
_NARROWEST_ADDRESS, _WIDEST_ADDRESS = 11, 24


@dataclass(slots=True)
class PacketRow:
    """The column texts of one packet (all but Time, which depends on the format) and its colour rule."""

    number: int
    source: str
    destination: str
    protocol: str
    length: str
    info: str
    rule: str | None


def packet_row(capture: Capture, number: int) -> PacketRow:
    """Dissect packet `number` and keep only what its list row shows."""
    packet = capture.dissect(number)
    summary = packet.summary
    row = number - 1
    rule = color_rule(summary.protocol, int(capture.index.column("ip_proto")[row]),
                      int(capture.index.column("tcp_flags")[row]), packet.malformed)
    return PacketRow(number, printable(summary.source), printable(summary.destination),
                     printable(summary.protocol), str(summary.length), printable(summary.info), rule)


def fit(text: str, width: int, right: bool = False) -> str:
    """`text` padded or cut (with an ellipsis) to exactly `width` cells."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    padding = " " * (width - cell_len(text))
    return padding + text if right else text + padding


class PacketList(ScrollView, can_focus=True):
    """Packet rows rendered on demand by `render_line`, with a fixed header line and a cursor row.

    Between keys, the rows of the next and the previous screen are dissected one per event-loop
    turn (`_prefetch_rows`), so paging finds them ready and a key waits for one row at most; rows
    a repaint has no time for show as placeholders until that loop fills them.
    """

    COMPONENT_CLASSES = {"packet-list--header", "packet-list--cursor", "packet-list--row", "packet-list--empty",
                         *(f"packet-list--{rule}" for rule in COLOR_RULES)}
    BINDINGS = [
        Binding("j,down", "cursor_down", "Next packet", show=False),
        Binding("k,up", "cursor_up", "Previous packet", show=False),
        Binding("g", "top_after_second_g", "First packet (gg)", show=False),
        Binding("home", "top", "First packet", show=False),
        Binding("G,end", "bottom", "Last packet", show=False),
        Binding("ctrl+d", "half_page_down", "Half page down", show=False),
        Binding("ctrl+u", "half_page_up", "Half page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
    ]

    @dataclass
    class PacketSelected(Message):
        """The cursor moved to packet `number`."""

        number: int

    def __init__(self, capture_lock: CaptureTurns, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.capture_lock = capture_lock
        """Held while dissecting a row, as the filter worker dissects in its own thread."""
        self.capture: Capture | None = None
        self.displayed_packet_numbers = np.zeros(0, dtype=np.int64)
        self.cursor_row = 0
        self.time_format = TimeFormat.RELATIVE
        self._rows: LRUCache[int, PacketRow] = LRUCache(4096)
        self._strips: LRUCache[tuple[int, bool], Strip] = LRUCache(1024)
        self._first_g_at = 0.0
        self._address_width = _NARROWEST_ADDRESS
        self._prefetch_timer: Timer | None = None
        self._prefetch_running = False
        self._repaint_dissection_seconds = 0.0
        self.empty_text = "No packets."

    @property
    def selected_number(self) -> int | None:
        """The frame number under the cursor, or None while nothing is displayed."""
        if not len(self.displayed_packet_numbers):
            return None
        return int(self.displayed_packet_numbers[self.cursor_row])

    @property
    def visible_rows(self) -> int:
        """How many packet rows fit under the header."""
        return max(self.scrollable_content_region.height - 1, 1)

    def set_capture(self, capture: Capture | None) -> None:
        """Show another capture (its view starts empty; `set_view` fills it)."""
        self.capture = capture
        self._rows.clear()
        self._address_width = _NARROWEST_ADDRESS
        self.cursor_row = 0
        self.set_view(np.zeros(0, dtype=np.int64))

    def set_view(self, displayed_packet_numbers: np.ndarray, near: int | None = None) -> None:
        """Display these frame numbers (ascending), the cursor on the packet selected before, or on the
        first displayed after it (else the last); `near` names another packet to aim for."""
        previous = self.selected_number
        anchor = near if near is not None else previous
        self.displayed_packet_numbers = displayed_packet_numbers
        count = len(displayed_packet_numbers)
        if anchor is not None and count:
            row = int(np.searchsorted(displayed_packet_numbers, anchor))
            self.cursor_row = min(row, count - 1)
        else:
            self.cursor_row = 0
        self.virtual_size = Size(0, count + 1)  # lines fit the width: never a horizontal scrollbar
        self.clear_rendered_rows()
        self._schedule_prefetch()
        if count and self.selected_number != previous:
            self.post_message(self.PacketSelected(self.selected_number))

    def clear_rendered_rows(self) -> None:
        """Forget rendered rows (after a resize, theme, time format or view change) and repaint."""
        self._strips.clear()
        self.refresh()

    def move_cursor(self, row: int) -> None:
        """Put the cursor on view row `row` (clamped), scroll it into sight, announce the packet."""
        count = len(self.displayed_packet_numbers)
        if not count:
            return
        row = max(0, min(row, count - 1))
        changed = row != self.cursor_row
        self.cursor_row = row
        if row < self.scroll_y:
            self.scroll_to(y=row, animate=False)
        elif row >= self.scroll_y + self.visible_rows:
            self.scroll_to(y=row - self.visible_rows + 1, animate=False)
        self.refresh()
        if changed:
            self.post_message(self.PacketSelected(self.selected_number))

    def go_to_number(self, number: int) -> bool:
        """Move the cursor to frame `number` if it is displayed; whether it was."""
        numbers = self.displayed_packet_numbers
        row = int(np.searchsorted(numbers, number))
        if row >= len(numbers) or numbers[row] != number:
            return False
        self.move_cursor(row)
        return True

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_top(self) -> None:
        self.move_cursor(0)

    def action_top_after_second_g(self) -> None:
        """`gg`: the second `g` within a second goes to the first packet."""
        now = time.monotonic()
        if now - self._first_g_at <= _GG_SECONDS:
            self._first_g_at = 0.0
            self.move_cursor(0)
        else:
            self._first_g_at = now

    def action_bottom(self) -> None:
        self.move_cursor(len(self.displayed_packet_numbers) - 1)

    def action_half_page_down(self) -> None:
        self._page(self.visible_rows // 2 or 1)

    def action_half_page_up(self) -> None:
        self._page(-(self.visible_rows // 2 or 1))

    def action_page_down(self) -> None:
        self._page(self.visible_rows)

    def action_page_up(self) -> None:
        self._page(-self.visible_rows)

    def _page(self, rows: int) -> None:
        """Move cursor and window together by `rows`, like a pager."""
        self.scroll_to(y=self.scroll_y + rows, animate=False)
        self.move_cursor(self.cursor_row + rows)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._schedule_prefetch()

    @property
    def rows_to_fill(self) -> int:
        """How many rows on screen show a placeholder, waiting to be dissected."""
        return sum(1 for row in self._window_rows() if int(self.displayed_packet_numbers[row]) not in self._rows)

    def _window_rows(self) -> range:
        """The view rows on screen."""
        top = int(self.scroll_y)
        return range(top, min(top + self.visible_rows, len(self.displayed_packet_numbers)))

    def _schedule_prefetch(self, delay: float = _PREFETCH_DELAY_SECONDS) -> None:
        """Start dissecting rows after `delay` (unless that is under way: it follows the window)."""
        if self._prefetch_running or self.capture is None:
            return
        if self._prefetch_timer is not None:
            if delay >= _PREFETCH_DELAY_SECONDS:
                return
            self._prefetch_timer.stop()
        self._prefetch_timer = self.set_timer(delay, self._prefetch_rows)

    async def _prefetch_rows(self) -> None:
        """Dissect the uncached rows on screen, then of the next and previous screen, one per turn.

        It yields after every row, so keys and repaints never wait for more than one row, and it
        follows the window if that moves meanwhile.
        """
        self._prefetch_timer = None
        self._prefetch_running = True
        try:
            while (nearby := self._uncached_nearby()) is not None:
                number, on_screen = nearby
                self._packet_row(number)
                if on_screen:
                    self.refresh()  # its placeholder gives way
                await asyncio.sleep(0)
        finally:
            self._prefetch_running = False

    def _uncached_nearby(self) -> tuple[int, bool] | None:
        """The first frame not cached, on screen, then on the next screen, then the previous one,
        and whether it is on screen."""
        if self.capture is None:
            return None
        window = self._window_rows()
        top, height = window.start, self.visible_rows
        below = range(top, min(top + 2 * height, len(self.displayed_packet_numbers)))
        above = range(top - 1, max(top - height, 0) - 1, -1)
        for row in (*below, *above):
            number = int(self.displayed_packet_numbers[row])
            if number not in self._rows:
                return number, row in window
        return None

    def _packet_row(self, number: int) -> PacketRow:
        """The columns of packet `number`, dissected on a cache miss."""
        assert self.capture is not None
        packet = self._rows.get(number)
        if packet is None:
            with self.capture_lock:
                packet = packet_row(self.capture, number)
            self._rows[number] = packet
        return packet

    def on_click(self, event: Click) -> None:
        """Clicking a row selects its packet."""
        line = event.get_content_offset(self)
        if line is not None and line.y >= 1:
            self.move_cursor(int(self.scroll_y) + line.y - 1)

    def on_resize(self, event: Resize) -> None:
        self.clear_rendered_rows()

    def on_focus(self) -> None:
        self.clear_rendered_rows()

    def on_blur(self) -> None:
        self.clear_rendered_rows()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def _column_widths(self, width: int) -> list[int]:
        """Widths of No., Time, Source, Destination, Protocol, Length, Info for a `width`-cell line."""
        last_number = int(self.displayed_packet_numbers[-1]) if len(self.displayed_packet_numbers) else 0
        number_width = max(len(str(last_number)), 3)
        time_width = self.time_format.column_width
        if last_number and self.capture is not None and self.time_format is not TimeFormat.DELTA:
            timestamps = self.capture.index.column("timestamp_ns")  # the last packet's time is the widest
            last_time = format_time(self.time_format, int(timestamps[last_number - 1]), int(timestamps[0]), 0)
            time_width = max(time_width, len(last_time))
        fixed = number_width + time_width + 8 + 6 + 6
        address_width = max(_NARROWEST_ADDRESS, min(self._address_width, (width - fixed) // 4))
        info_width = max(width - fixed - 2 * address_width - 1, 1)
        return [number_width, time_width, address_width, address_width, 8, 6, info_width]

    def _line(self, cells: list[str], style: Style, width: int) -> Strip:
        """One line of padded cells separated by single spaces, exactly `width` cells."""
        widths = self._column_widths(width)
        texts = [fit(cell, cell_width, right=index in (0, 5))
                 for index, (cell, cell_width) in enumerate(zip(cells, widths))]
        line = fit(" ".join(texts), width)
        return Strip([Segment(line, style)], width)

    def render_line(self, y: int) -> Strip:
        """Line `y` of the viewport: the header, or the row of the packet scrolled there."""
        width = self.scrollable_content_region.width
        if y == 0:
            self._repaint_dissection_seconds = 0.0  # a full repaint starts at the header
            header = ["No.", "Time", "Source", "Destination", "Protocol", "Length", "Info"]
            return self._line(header, self.get_component_rich_style("packet-list--header"), width)
        row = int(self.scroll_y) + y - 1
        if self.capture is not None and y == 2 and not len(self.displayed_packet_numbers):
            line = self.empty_text.center(width) if cell_len(self.empty_text) < width else self.empty_text
            return Strip([Segment(fit(line, width), self.get_component_rich_style("packet-list--empty"))], width)
        if self.capture is None or row >= len(self.displayed_packet_numbers):
            return Strip.blank(width, self.rich_style)
        number = int(self.displayed_packet_numbers[row])
        is_cursor = row == self.cursor_row
        key = (number, is_cursor)
        strip = self._strips.get(key)
        if strip is None:
            if number not in self._rows and self._repaint_dissection_seconds > _ROW_BUDGET_SECONDS:
                self._schedule_prefetch(delay=_FILL_DELAY_SECONDS)
                return self._render_row(row, number, None, is_cursor, width)
            started = time.perf_counter()
            strip = self._render_row(row, number, self._packet_row(number), is_cursor, width)
            self._repaint_dissection_seconds += time.perf_counter() - started
            self._strips[key] = strip
        return strip

    def _widen_addresses(self, needed: int) -> None:
        """Grow the address columns (never shrink, so rows do not jitter) to fit a new row."""
        needed = min(needed, _WIDEST_ADDRESS)
        if needed > self._address_width:
            self._address_width = needed
            self.call_later(self.clear_rendered_rows)

    def _render_row(self, row: int, number: int, packet: PacketRow | None, is_cursor: bool,
                    width: int) -> Strip:
        """Render one packet row, or (no `packet` yet) its placeholder: number, time and length."""
        assert self.capture is not None
        timestamps = self.capture.index.column("timestamp_ns")
        previous = int(self.displayed_packet_numbers[row - 1]) if row else number
        time_text = format_time(self.time_format, int(timestamps[number - 1]), int(timestamps[0]),
                                int(timestamps[previous - 1]))
        if packet is None:
            style = self.get_component_rich_style("packet-list--row")
            wire_length = str(int(self.capture.index.column("wire_length")[number - 1]))
            cells = [str(number), time_text, "…", "…", "…", wire_length, ""]
        else:
            self._widen_addresses(max(cell_len(packet.source), cell_len(packet.destination)))
            style = self.get_component_rich_style(f"packet-list--{packet.rule or 'row'}")
            cells = [str(number), time_text, packet.source, packet.destination, packet.protocol,
                     packet.length, packet.info]
        if is_cursor:
            style = style + self.get_component_rich_style("packet-list--cursor")
        return self._line(cells, style, width)
