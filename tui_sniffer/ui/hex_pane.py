"""The hex pane: offset, hex bytes and ASCII of one data source, with the selected field highlighted."""
from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Click, Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_sniffer.dissect.tree import DissectedPacket
from tui_sniffer.ui.text_safety import ascii_cell, printable


def bytes_per_line_for(width: int) -> int:
    """16 bytes a line like Wireshark when the pane is wide enough, else 8."""
    return 16 if width >= 74 else 8


class HexPane(ScrollView, can_focus=True):
    """A line-API hex dump with a byte cursor; a tab line appears when there are several byte sources."""

    COMPONENT_CLASSES = {"hex-pane--offset", "hex-pane--highlight", "hex-pane--cursor",
                         "hex-pane--tab", "hex-pane--tab-active"}
    BINDINGS = [
        Binding("l,right", "move(1)", "Next byte", show=False),
        Binding("h,left", "move(-1)", "Previous byte", show=False),
        Binding("j,down", "move_lines(1)", "Next line", show=False),
        Binding("k,up", "move_lines(-1)", "Previous line", show=False),
        Binding("ctrl+d,pagedown", "move_lines(8)", "Page down", show=False),
        Binding("ctrl+u,pageup", "move_lines(-8)", "Page up", show=False),
        Binding("home", "move(-1_000_000_000)", "First byte", show=False),
        Binding("G,end", "move(1_000_000_000)", "Last byte", show=False),
    ]

    @dataclass
    class ByteSelected(Message):
        """The user put the hex cursor on byte `offset` of data source `source`."""

        source: int
        offset: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.packet: DissectedPacket | None = None
        self.source = 0
        self.cursor = 0
        self.highlight_range = range(0)

    @property
    def data(self) -> bytes:
        """The bytes of the data source shown."""
        if self.packet is None:
            return b""
        return self.packet.data_sources[self.source][1]

    @property
    def has_tabs(self) -> bool:
        """Whether a byte-source tab line is shown (more than one source)."""
        return self.packet is not None and len(self.packet.data_sources) > 1

    @property
    def bytes_per_line(self) -> int:
        return bytes_per_line_for(self.scrollable_content_region.width)

    def show_packet(self, packet: DissectedPacket | None) -> None:
        """Show the frame bytes of `packet`, cursor at the start, nothing highlighted."""
        self.packet = packet
        self.source = 0
        self.cursor = 0
        self.highlight_range = range(0)
        self._update_size()
        self.scroll_to(y=0, animate=False)

    def show_source(self, source: int) -> None:
        """Switch to data source `source` (e.g. reassembled TCP data)."""
        if self.packet is None or not 0 <= source < len(self.packet.data_sources):
            return
        if source != self.source:
            self.source = source
            self.cursor = 0
            self.highlight_range = range(0)
            self._update_size()

    def highlight(self, source: int, offset: int, length: int, move_cursor: bool = True) -> None:
        """Highlight `length` bytes at `offset` of `source`; bring them into view unless told not to."""
        self.show_source(source)
        self.highlight_range = range(offset, offset + length)
        if length and move_cursor:
            self.cursor = offset
            self._scroll_to_cursor()
        self.refresh()

    def _update_size(self) -> None:
        """Recompute the virtual size from the data length and pane width."""
        lines = -(-len(self.data) // self.bytes_per_line) + self.has_tabs
        self.virtual_size = Size(0, lines)  # lines fit the width: never a horizontal scrollbar
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        """Scroll so the cursor's line is visible."""
        line = self.cursor // self.bytes_per_line + self.has_tabs
        height = self.scrollable_content_region.height
        if line < self.scroll_y + self.has_tabs:
            self.scroll_to(y=max(line - self.has_tabs, 0), animate=False)
        elif line >= self.scroll_y + height:
            self.scroll_to(y=line - height + 1, animate=False)

    def action_move(self, delta: int) -> None:
        """Move the byte cursor by `delta` and tell the app which byte is selected."""
        if not self.data:
            return
        self.cursor = max(0, min(self.cursor + delta, len(self.data) - 1))
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.ByteSelected(self.source, self.cursor))

    def action_move_lines(self, lines: int) -> None:
        self.action_move(lines * self.bytes_per_line)

    def on_click(self, event: Click) -> None:
        """Clicking a hex or ASCII cell puts the cursor on that byte; clicking a tab switches source."""
        offset = event.get_content_offset(self)
        if offset is None or self.packet is None:
            return
        if self.has_tabs and offset.y == 0:
            self._click_tab(offset.x)
            return
        line = int(self.scroll_y) + offset.y - self.has_tabs
        column = self._byte_column(offset.x)
        if column is not None:
            self.cursor = 0
            self.action_move(line * self.bytes_per_line + column)

    def _byte_column(self, x: int) -> int | None:
        """Which byte of a line the cell at `x` shows (hex or ASCII part), if any."""
        per_line = self.bytes_per_line
        hex_start = self._offset_width() + 2
        ascii_start = hex_start + per_line * 3 + 2
        if hex_start <= x < hex_start + per_line * 3 + 1:
            relative = x - hex_start
            return min((relative - (relative > 24)) // 3, per_line - 1)
        if ascii_start <= x < ascii_start + per_line:
            return x - ascii_start
        return None

    def _click_tab(self, x: int) -> None:
        """Switch to the source whose tab label is under `x`."""
        position = 0
        for source, label in enumerate(self._tab_labels()):
            if position <= x < position + len(label):
                self.show_source(source)
                return
            position += len(label)

    def _tab_labels(self) -> list[str]:
        """`Frame (154 bytes)`-style tab labels, one per source."""
        assert self.packet is not None
        return [f" {printable(name)} ({len(data)} bytes) " for name, data in self.packet.data_sources]

    def on_resize(self, event: Resize) -> None:
        self._update_size()

    def _offset_width(self) -> int:
        return max(4, len(f"{max(len(self.data) - 1, 0):x}"))

    def render_line(self, y: int) -> Strip:
        """Viewport line `y`: the source tabs, or one line of the dump."""
        width = self.scrollable_content_region.width
        if self.packet is None:
            return Strip.blank(width, self.rich_style)
        if self.has_tabs and y == 0:
            return self._render_tabs(width)
        line = int(self.scroll_y) + y - self.has_tabs
        start = line * self.bytes_per_line
        if start >= len(self.data) or line < 0:
            return Strip.blank(width, self.rich_style)
        return self._render_dump_line(start, width)

    def _render_tabs(self, width: int) -> Strip:
        """The tab line naming every byte source, the shown one emphasized."""
        segments = [Segment(label, self.get_component_rich_style(
                        "hex-pane--tab-active" if source == self.source else "hex-pane--tab"))
                    for source, label in enumerate(self._tab_labels())]
        return Strip(segments).adjust_cell_length(width, self.rich_style)

    def _render_dump_line(self, start: int, width: int) -> Strip:
        """Offset, hex and ASCII of the bytes from `start`, highlight and cursor styled."""
        base = self.rich_style
        styles = {"highlight": self.get_component_rich_style("hex-pane--highlight"),
                  "cursor": self.get_component_rich_style("hex-pane--cursor")}
        chunk = self.data[start:start + self.bytes_per_line]
        segments = [Segment(f"{start:0{self._offset_width()}x}",
                            self.get_component_rich_style("hex-pane--offset")), Segment("  ", base)]
        ascii_segments = []
        for index, byte in enumerate(chunk):
            style = self._byte_style(start + index, base, styles)
            if index == 8:
                segments.append(Segment(" ", base))
            segments.append(Segment(f"{byte:02x}", style))
            segments.append(Segment(" ", base))
            ascii_segments.append(Segment(ascii_cell(byte), style))
        missing = self.bytes_per_line - len(chunk)
        segments.append(Segment(" " * (missing * 3 + (len(chunk) <= 8 < self.bytes_per_line) + 1), base))
        return Strip(segments + ascii_segments).adjust_cell_length(width, base)

    def _byte_style(self, position: int, base: Style, styles: dict[str, Style]) -> Style:
        """The style of byte `position`: cursor (when focused) over highlight over plain."""
        if position == self.cursor and self.has_focus:
            return styles["cursor"]
        if position in self.highlight_range:
            return styles["highlight"]
        return base
