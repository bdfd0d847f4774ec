"""Follow Stream: one conversation's payload, client and server in two colours, Wireshark's window in a terminal.

The followed stream is read in a worker; the view is a line-API scroll view whose cursor sits on a
chunk (Enter jumps to its packet). Keys switch the side shown, the format and TCP/HTTP, search the
text, save it to a file, or filter the stream out of the packet list.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input, Label

from tui_sniffer.analysis.follow import (SHOW_MODE_NAMES, SHOW_MODES, SIDES, FollowedStream, ShownLine,
                                         follow_stream, shown_lines, side_label)
from tui_sniffer.session import Capture


@dataclass(frozen=True, slots=True)
class FollowOutcome:
    """What the user asked for on leaving: a packet to go to, or a filter to apply (else just back)."""

    go_to_frame: int | None = None
    apply_filter: str | None = None


class FollowView(ScrollView, can_focus=True):
    """The followed text: a cursor line, client lines and server lines in their own styles, search hits marked."""

    COMPONENT_CLASSES = {"follow-view--client", "follow-view--server", "follow-view--heading",
                         "follow-view--cursor", "follow-view--match"}
    BINDINGS = [
        Binding("j,down", "move(1)", "Next line", show=False),
        Binding("k,up", "move(-1)", "Previous line", show=False),
        Binding("ctrl+d,pagedown", "move(20)", "Page down", show=False),
        Binding("ctrl+u,pageup", "move(-20)", "Page up", show=False),
        Binding("g,home", "move(-1_000_000_000)", "First line", show=False),
        Binding("G,end", "move(1_000_000_000)", "Last line", show=False),
        Binding("right_square_bracket", "next_chunk(1)", "Next chunk", show=False),
        Binding("left_square_bracket", "next_chunk(-1)", "Previous chunk", show=False),
        Binding("enter", "choose", "Go to this chunk's packet", show=False),
    ]

    @dataclass
    class ChunkChosen(Message):
        """The user pressed Enter on a line of chunk `chunk`."""

        chunk: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[ShownLine] = []
        self.cursor = 0
        self.search_text = ""

    def show_lines(self, lines: list[ShownLine], keep_chunk: int | None = None) -> None:
        """Show new lines, keeping the cursor on chunk `keep_chunk` when it is still there."""
        self.lines = lines
        rows = [row for row, line in enumerate(lines) if keep_chunk is not None and line.chunk == keep_chunk]
        self.cursor = rows[0] if rows else 0
        self.virtual_size = Size(max((len(line.text) for line in lines), default=0) + 1, len(lines))
        self._scroll_to_cursor()
        self.refresh()

    @property
    def cursor_chunk(self) -> int | None:
        """The chunk the cursor line belongs to."""
        return self.lines[self.cursor].chunk if self.lines else None

    def action_move(self, delta: int) -> None:
        """Move the cursor by `delta` lines."""
        if self.lines:
            self.cursor = max(0, min(self.cursor + delta, len(self.lines) - 1))
            self._scroll_to_cursor()
            self.refresh()

    def action_next_chunk(self, direction: int) -> None:
        """Move the cursor to the first line of the next (or previous) chunk."""
        current = self.cursor_chunk
        rows = range(self.cursor + 1, len(self.lines)) if direction > 0 else range(self.cursor - 1, -1, -1)
        for row in rows:
            chunk = self.lines[row].chunk
            if chunk is not None and chunk != current and (direction > 0 or self._starts_chunk(row)):
                self.action_move(row - self.cursor)
                return

    def _starts_chunk(self, row: int) -> bool:
        """Whether line `row` is the first line of its chunk."""
        return row == 0 or self.lines[row - 1].chunk != self.lines[row].chunk

    def action_choose(self) -> None:
        if self.cursor_chunk is not None:
            self.post_message(self.ChunkChosen(self.cursor_chunk))

    def find(self, text: str, direction: int = 1) -> bool:
        """Move to the next (or previous) line containing `text`, case-insensitively; whether one was found."""
        self.search_text = text
        wanted = text.lower()
        count = len(self.lines)
        for step in range(1, count + 1):
            row = (self.cursor + direction * step) % count
            if wanted and wanted in self.lines[row].text.lower():
                self.action_move(row - self.cursor)
                return True
        self.refresh()
        return False

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and self.lines:
            self.action_move(int(self.scroll_y) + offset.y - self.cursor)

    def _scroll_to_cursor(self) -> None:
        """Scroll so the cursor line is visible."""
        height = self.scrollable_content_region.height
        if self.cursor < self.scroll_y:
            self.scroll_to(y=self.cursor, animate=False)
        elif height and self.cursor >= self.scroll_y + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def render_line(self, y: int) -> Strip:
        """One line of text, styled by side, with search hits and the cursor marked."""
        width = self.scrollable_content_region.width
        row = int(self.scroll_y) + y
        if row >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        line = self.lines[row]
        kind = "heading" if line.chunk is None else "server" if line.from_server else "client"
        style = self.get_component_rich_style(f"follow-view--{kind}")
        if row == self.cursor:
            style += self.get_component_rich_style("follow-view--cursor")
        text = line.text.expandtabs(8)
        segments = self._marked_segments(text, style)
        strip = Strip(segments).crop(int(self.scroll_x), int(self.scroll_x) + width)
        return strip.adjust_cell_length(width, style if row == self.cursor else self.rich_style)

    def _marked_segments(self, text: str, style: Style) -> list[Segment]:
        """`text` as segments, the search hits in the match style."""
        wanted = self.search_text.lower()
        if not wanted:
            return [Segment(text, style)]
        match_style = style + self.get_component_rich_style("follow-view--match")
        segments, position, lowered = [], 0, text.lower()
        while (found := lowered.find(wanted, position)) >= 0:
            segments += [Segment(text[position:found], style), Segment(text[found:found + len(wanted)], match_style)]
            position = found + len(wanted)
        segments.append(Segment(text[position:], style))
        return segments


class FollowScreen(Screen[FollowOutcome | None]):
    """Follow TCP/UDP (or HTTP) Stream for one stream of the open capture."""

    DEFAULT_CSS = """
    FollowScreen { layout: vertical; }
    FollowScreen #follow-title { height: 1; background: $panel; text-style: bold; width: 1fr; }
    FollowScreen #follow-view { height: 1fr; background: $background; }
    FollowScreen #follow-status { height: 1; background: $surface; width: 1fr; }
    FollowScreen #follow-keys { height: 1; color: $text-muted; width: 1fr; }
    FollowScreen Input { height: 1; display: none; }
    FollowScreen Input.-shown { display: block; }
    FollowView > .follow-view--client { color: $text-error; }
    FollowView > .follow-view--server { color: $text-primary; }
    FollowView > .follow-view--heading { color: $text-muted; }
    FollowView > .follow-view--cursor { background: $block-cursor-blurred-background; }
    FollowView:focus > .follow-view--cursor { background: $boost; text-style: bold; }
    FollowView > .follow-view--match { background: $warning-muted; }
    """
    BINDINGS = [
        Binding("escape,b", "back", "Back to the packet list"),
        Binding("d", "cycle_side", "Direction: both / client / server"),
        Binding("f", "cycle_mode", "Format: ASCII, Hex Dump, C Arrays, Raw, YAML"),
        Binding("h", "toggle_http", "TCP bytes / HTTP messages"),
        Binding("slash", "search", "Find"),
        Binding("n", "find_next(1)", "Find next", show=False),
        Binding("N", "find_next(-1)", "Find previous", show=False),
        Binding("w", "save", "Save the shown text"),
        Binding("x", "filter_out", "Filter out this stream"),
    ]
    _KEYS = "d direction · f format · h TCP/HTTP · / find (n/N) · [ ] chunks · Enter go to packet · " \
            "w save · x filter out · Esc back"

    def __init__(self, capture: Capture, protocol: str, stream: int) -> None:
        super().__init__()
        self.capture = capture
        self.protocol = protocol
        self.stream = stream
        self.followed: FollowedStream | None = None
        self.side = "both"
        self.mode = "ascii"

    def compose(self) -> ComposeResult:
        yield Label("", id="follow-title", markup=False)
        yield FollowView(id="follow-view")
        yield Input(placeholder="find (Enter)", id="follow-search", compact=True)
        yield Input(placeholder="save to file (Enter)", id="follow-save", compact=True)
        yield Label("", id="follow-status", markup=False)
        yield Label(self._KEYS, id="follow-keys", markup=False)

    def on_mount(self) -> None:
        self.query_one(FollowView).focus()
        self._load()

    @dataclass
    class StreamFollowed(Message):
        """The worker has read the stream."""

        followed: FollowedStream

    def _load(self) -> None:
        """Say the stream is being read and read it in a worker."""
        self.query_one("#follow-title", Label).update(f"Following {self.protocol.upper()} stream {self.stream}…")
        self._read_stream(self.protocol)

    @work(thread=True, exclusive=True, group="follow")
    def _read_stream(self, protocol: str) -> None:
        """Read the stream's chunks off the event loop and post them."""
        self.post_message(self.StreamFollowed(follow_stream(self.capture, protocol, self.stream)))

    def on_follow_screen_stream_followed(self, message: StreamFollowed) -> None:
        self.followed = message.followed
        self._render_text(None)

    def _render_text(self, keep_chunk: int | None) -> None:
        """Lay out the text for the chosen side and format, and say what is shown."""
        followed = self.followed
        if followed is None:
            return
        kind = {"tcp": "TCP", "udp": "UDP", "http": "HTTP"}[followed.protocol]
        self.query_one("#follow-title", Label).update(f"Follow {kind} Stream ({followed.filter})")
        lines = shown_lines(followed, self.mode, self.side)
        self.query_one(FollowView).show_lines(lines, keep_chunk)
        chunks = sum(1 for chunk in followed.chunks
                     if self.side == "both" or chunk.from_server == (self.side == "server"))
        empty = "  (no payload)" if not chunks else ""
        self.query_one("#follow-status", Label).update(
            f"{side_label(followed, self.side)} · {SHOW_MODE_NAMES[self.mode]} · {chunks} chunk{'' if chunks == 1 else 's'} · "
            f"client {followed.client or '-'}, server {followed.server or '-'}{empty}")

    def action_cycle_side(self) -> None:
        self.side = SIDES[(SIDES.index(self.side) + 1) % len(SIDES)]
        self._render_text(self.query_one(FollowView).cursor_chunk)

    def action_cycle_mode(self) -> None:
        self.mode = SHOW_MODES[(SHOW_MODES.index(self.mode) + 1) % len(SHOW_MODES)]
        self._render_text(self.query_one(FollowView).cursor_chunk)

    def action_toggle_http(self) -> None:
        if self.protocol == "udp":
            self.notify("HTTP follows TCP streams only.", markup=False, timeout=3)
            return
        self.protocol = "tcp" if self.protocol == "http" else "http"
        self._load()

    def action_search(self) -> None:
        self._show_input("#follow-search")

    def action_save(self) -> None:
        field = self._show_input("#follow-save")
        if not field.value:
            field.value = f"follow-{self.protocol}-stream-{self.stream}.txt"

    def _show_input(self, selector: str) -> Input:
        """Reveal and focus one of the bottom inputs."""
        field = self.query_one(selector, Input)
        field.add_class("-shown")
        field.focus()
        return field

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        event.input.remove_class("-shown")
        view = self.query_one(FollowView)
        view.focus()
        if event.input.id == "follow-search":
            if event.value and not view.find(event.value):
                self.notify(f"Not found: {event.value}", markup=False, timeout=3)
        elif event.value.strip():
            self._save(Path(event.value.strip()).expanduser())

    def _save(self, path: Path) -> None:
        """Write the shown text to `path`."""
        text = "\n".join(line.text for line in self.query_one(FollowView).lines) + "\n"
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            self.notify(str(error), title="Cannot save", severity="error", markup=False)
            return
        self.notify(f"Saved {len(text):,} characters to {path}", markup=False, timeout=4)

    def action_find_next(self, direction: int) -> None:
        view = self.query_one(FollowView)
        if view.search_text and not view.find(view.search_text, direction):
            self.notify(f"Not found: {view.search_text}", markup=False, timeout=3)

    def on_follow_view_chunk_chosen(self, message: FollowView.ChunkChosen) -> None:
        if self.followed is not None:
            self.dismiss(FollowOutcome(go_to_frame=self.followed.chunks[message.chunk].frame))

    def action_filter_out(self) -> None:
        transport = "udp" if self.protocol == "udp" else "tcp"
        self.dismiss(FollowOutcome(apply_filter=f"!({transport}.stream eq {self.stream})"))

    def action_back(self) -> None:
        for field in self.query(Input):
            if field.has_class("-shown"):
                field.remove_class("-shown")
                self.query_one(FollowView).focus()
                return
        self.dismiss(None)
