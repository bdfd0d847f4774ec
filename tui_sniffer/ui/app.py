"""The tui-sniffer app: owns the open capture, the displayed view and every pane's selection."""
from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Container, Vertical
from textual.screen import Screen
from textual.widgets import Tree
from textual.worker import get_current_worker

from tui_sniffer import Capture, CaptureError, open_capture
from tui_sniffer.capture.live_settings import LiveCaptureSettings
from tui_sniffer.dissect.tree import DissectedPacket, TreeNode
from tui_sniffer.ui.actions import ALL_ACTIONS, app_bindings, shown_keys
from tui_sniffer.ui.capture_turns import CaptureTurns
from tui_sniffer.ui.detail_tree import DetailTree, deepest_node_at, subtree_text
from tui_sniffer.ui.display_filter import DisplayFilterMixin
from tui_sniffer.ui.dialogs import ApplyAsFilterScreen, GoToScreen, HelpScreen
from tui_sniffer.filter import compile_filter
from tui_sniffer.ui.filter_bar import FilterArea, FilterBar
from tui_sniffer.ui.follow_screen import FollowOutcome, FollowScreen
from tui_sniffer.ui.hex_pane import HexPane
from tui_sniffer.ui.idle_collector import QUIET_SECONDS, IdleCollector
from tui_sniffer.ui.live_app import LiveCaptureMixin
from tui_sniffer.ui.messages import IndexingFinished, PacketsIndexed
from tui_sniffer.ui.packet_list import PacketList
from tui_sniffer.ui.selected_filter import selected_filter
from tui_sniffer.ui.recent_files import capture_interfaces, remember_file
from tui_sniffer.ui.start_screen import StartScreen
from tui_sniffer.ui.status_bar import StatusBar, StatusFacts
from tui_sniffer.ui.text_safety import printable
from tui_sniffer.ui.time_format import TimeFormat

_POST_INTERVAL_SECONDS = 0.1
_DARK_THEME, _LIGHT_THEME = "textual-dark", "textual-light"


class SnifferApp(LiveCaptureMixin, DisplayFilterMixin, App[None]):
    """Packet list, detail tree and hex pane over one capture, Wireshark style, keyboard first."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "tui-sniffer"
    BINDINGS = app_bindings()

    def __init__(self, path: str | None = None,
                 list_interfaces: Callable[[], list[str]] = capture_interfaces,
                 live_settings: LiveCaptureSettings | None = None) -> None:
        super().__init__()
        self.initial_path = path
        self.initial_live_settings = live_settings
        self.list_interfaces = list_interfaces
        self.capture: Capture | None = None
        self.displayed_packet_numbers = np.zeros(0, dtype=np.int64)
        self.time_format = TimeFormat.RELATIVE
        self.side_by_side = False
        self.list_share = 4
        self.tree_share = 5
        self.selected_packet: DissectedPacket | None = None
        self.selected_node: TreeNode | None = None
        self.applied_filter_text = ""
        self.status = StatusFacts()
        self.idle_collector = IdleCollector()
        self.capture_lock = CaptureTurns()
        """Taken around dissecting by the UI thread (`with`) and the filter worker (the caches are not thread-safe)."""

    def compose(self) -> ComposeResult:
        yield FilterArea(id="filter-area")
        with Vertical(id="panes"):
            yield PacketList(self.capture_lock, id="packet-list")
            with Container(id="details"):
                yield DetailTree(id="detail-tree")
                yield HexPane(id="hex-pane")
        yield StatusBar(id="status-bar")

    def on_mount(self) -> None:
        self.theme = _DARK_THEME
        self.query_one("#detail-tree").border_title = "Packet details"
        self.query_one("#hex-pane").border_title = "Packet bytes"
        self._apply_pane_sizes()
        self._refresh_status()
        self.idle_collector.start()
        self.set_interval(QUIET_SECONDS, self.idle_collector.collect_if_quiet)
        if self.initial_path:
            self.open_path(self.initial_path)
        elif self.initial_live_settings is None or not self.start_live_capture(self.initial_live_settings):
            self.push_screen(StartScreen(self.list_interfaces))

    @property
    def packet_list(self) -> PacketList:
        return self.query_one(PacketList)

    @property
    def detail_tree(self) -> DetailTree:
        return self.query_one(DetailTree)

    @property
    def hex_pane(self) -> HexPane:
        return self.query_one(HexPane)

    def open_path(self, path: str) -> bool:
        """Open a capture file and start indexing it; a failure is shown and leaves the old one open."""
        try:
            capture = open_capture(path)
        except (CaptureError, OSError) as error:
            self.notify(printable(str(error)), title="Cannot open capture", severity="error",
                        markup=False, timeout=10)
            return False
        self.show_capture(capture, Path(path).name)
        if path != "-":
            remember_file(path)
        self.index_capture(capture)
        return True

    def show_capture(self, capture: Capture, file_name: str, loading: bool = True) -> None:
        """Make `capture` the shown one: no filter, nothing displayed or selected yet (indexing fills it)."""
        self.capture = capture
        self.forget_display_filter()
        self.query_one(FilterBar).applied_text = ""
        self.query_one(FilterBar).value = ""
        self.displayed_packet_numbers = np.zeros(0, dtype=np.int64)
        self.status = StatusFacts(file_name=file_name, loading_progress=0.0 if loading else None,
                                  time_format_label=self.time_format.value)
        self.packet_list.set_capture(capture)
        self._show_packet(None)
        self.packet_list.focus()

    @work(thread=True, exclusive=True, group="indexing")
    def index_capture(self, capture: Capture) -> None:
        """Index the file in batches, posting progress at most every 100 ms (never touching widgets)."""
        worker = get_current_worker()
        last_post = 0.0
        while not worker.is_cancelled and capture.index_more():
            now = time.monotonic()
            if now - last_post >= _POST_INTERVAL_SECONDS:
                offsets = capture.index.column("file_offset")
                progress = int(offsets[-1]) / max(capture.file.size, 1) if len(offsets) else 0.0
                self.post_message(PacketsIndexed(capture.indexed_count, min(progress, 1.0)))
                last_post = now
        if worker.is_cancelled:
            capture.close()
            return
        self.post_message(IndexingFinished(capture.indexed_count, capture.error))

    def on_packets_indexed(self, message: PacketsIndexed) -> None:
        self.status.loading_progress = message.progress
        self._update_view()
        self._filter_rows_indexed_since()

    def on_indexing_finished(self, message: IndexingFinished) -> None:
        self.status.loading_progress = None
        if message.error is not None:
            self.status.problem = str(message.error)
            self.notify(printable(str(message.error)), title="Capture damaged", severity="warning",
                        markup=False, timeout=10)
        self._update_view()
        self._filter_rows_indexed_since()

    def _update_view(self) -> None:
        """Display every indexed packet unless a filter chose the view."""
        if self.capture is None or self.applied_filter_text:
            self._refresh_status()
            return
        count = self.capture.indexed_count
        if count != len(self.displayed_packet_numbers):
            self.displayed_packet_numbers = np.arange(1, count + 1, dtype=np.int64)
            self.packet_list.set_view(self.displayed_packet_numbers)
        self._refresh_status()

    def _refresh_status(self) -> None:
        """Push the current facts to the status bar."""
        self.status.packet_count = self.capture.indexed_count if self.capture is not None else 0
        self.status.displayed_count = len(self.displayed_packet_numbers)
        node = self.selected_node
        if node is not None and node.definition is not None:
            self.status.field_text = f"{node.definition.name} — {node.definition.blurb}"
        else:
            self.status.field_text = ""
        self.query_one(StatusBar).show(self.status)

    def on_packet_list_packet_selected(self, message: PacketList.PacketSelected) -> None:
        if self.capture is None or message.number != self.packet_list.selected_number:
            return  # the cursor has moved on (a key held down): only its latest packet is shown
        row = self.packet_list.cursor_row
        previous = int(self.displayed_packet_numbers[row - 1]) if row else message.number
        if previous == message.number - 1:
            previous = None  # the default, so the list's cached dissection of this row serves
        with self.capture_lock:
            packet = self.capture.dissect(message.number, previous)
        self._show_packet(packet)

    def _show_packet(self, packet: DissectedPacket | None) -> None:
        """Show `packet` in the tree and hex panes, the tree's cursor line selected (and lit in the hex)."""
        self.selected_packet = packet
        self.selected_node = None
        self.hex_pane.show_packet(packet)
        tree = self.detail_tree
        tree.show_packet(packet)
        if tree.cursor_node is not None and tree.cursor_node.data is not None:
            self._select_node(tree.cursor_node.data)  # the tree says nothing when its cursor line stays put
        self._refresh_status()

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[TreeNode]) -> None:
        if event.node.data is not None:
            self._select_node(event.node.data)
            self._refresh_status()

    def _select_node(self, node: TreeNode) -> None:
        """Make `node` the selected field and light its bytes in the hex pane."""
        self.selected_node = node
        hex_pane = self.hex_pane
        hex_pane.highlight(node.source, node.offset, node.length, move_cursor=not hex_pane.has_focus)

    def on_hex_pane_byte_selected(self, message: HexPane.ByteSelected) -> None:
        if self.selected_packet is None:
            return
        node = deepest_node_at(self.selected_packet, message.source, message.offset)
        if node is not None:
            self.detail_tree.select_field(node)

    def on_start_screen_capture_chosen(self, message: StartScreen.CaptureChosen) -> None:
        if self.open_path(message.path) and isinstance(self.screen, StartScreen):
            self.pop_screen()

    def on_filter_bar_editing_left(self, message: FilterBar.EditingLeft) -> None:
        self.packet_list.focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_focus_filter(self) -> None:
        self.screen.set_focus(self.query_one(FilterBar))  # at once: the keys typed next are the filter's

    def _selected_line_filter(self) -> str | None:
        """The Apply as Filter text of the selected tree line (None, said so, when it has none)."""
        if self.selected_packet is None or self.selected_node is None:
            self.notify("Select a line in the packet details first.", markup=False, timeout=3)
            return None
        text = selected_filter(self.selected_node, self.selected_packet)
        if text is None:
            self.notify("This line has no field or bytes to filter on.", markup=False, timeout=3)
        return text

    def action_apply_selected(self) -> None:
        """Apply `field == value` of the selected tree line as the display filter."""
        text = self._selected_line_filter()
        if text is not None:
            self.query_one(FilterBar).apply(text)

    def action_apply_selected_menu(self) -> None:
        """Offer Wireshark's Apply as Filter choices for the selected tree line."""
        text = self._selected_line_filter()
        if text is not None:
            bar = self.query_one(FilterBar)
            self.push_screen(ApplyAsFilterScreen(bar.value, text),
                             lambda chosen: chosen is not None and bar.apply(chosen))

    def action_goto_packet(self) -> None:
        self.push_screen(GoToScreen(), self._go_to)

    def _go_to(self, number: int | None) -> None:
        """Move the list to packet `number` (the go-to dialog's answer)."""
        if number is None:
            return
        if not self.packet_list.go_to_number(number):
            self.notify(f"Packet {number} is not displayed.", severity="warning", markup=False)
        self.packet_list.focus()

    def action_first_packet(self) -> None:
        self.packet_list.action_top()

    def action_last_packet(self) -> None:
        self.packet_list.action_bottom()

    def action_expand_all(self) -> None:
        self.detail_tree.expand_everything()

    def action_collapse_all(self) -> None:
        self.detail_tree.collapse_everything()

    def action_toggle_layout(self) -> None:
        self.side_by_side = not self.side_by_side
        self.query_one("#details").set_class(self.side_by_side, "-side-by-side")
        self._apply_pane_sizes()

    def action_zoom_pane(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
        elif isinstance(self.focused, (PacketList, DetailTree, HexPane)):
            screen.maximize(self.focused)

    def action_grow_pane(self) -> None:
        self._resize_focused_pane(1)

    def action_shrink_pane(self) -> None:
        self._resize_focused_pane(-1)

    def _resize_focused_pane(self, step: int) -> None:
        """Give the focused pane one tenth more (or less) of its split."""
        focused = self.focused
        if isinstance(focused, PacketList):
            self.list_share = max(1, min(9, self.list_share + step))
        elif isinstance(focused, (DetailTree, HexPane)):
            step = step if isinstance(focused, DetailTree) else -step
            self.tree_share = max(1, min(9, self.tree_share + step))
        self._apply_pane_sizes()

    def _apply_pane_sizes(self) -> None:
        """Set the fr sizes of the list, tree and hex panes from the shares."""
        self.packet_list.styles.height = f"{self.list_share}fr"
        self.query_one("#details").styles.height = f"{10 - self.list_share}fr"
        tree, hex_pane = self.detail_tree.styles, self.hex_pane.styles
        if self.side_by_side:
            tree.width, hex_pane.width = f"{self.tree_share}fr", f"{10 - self.tree_share}fr"
            tree.height = hex_pane.height = "1fr"
        else:
            tree.height, hex_pane.height = f"{self.tree_share}fr", f"{10 - self.tree_share}fr"
            tree.width = hex_pane.width = "1fr"

    def action_cycle_time_format(self) -> None:
        self.action_set_time_format(self.time_format.next().name)

    def action_set_time_format(self, name: str) -> None:
        """Show the Time column in format `name` (a `TimeFormat` member name)."""
        self.time_format = TimeFormat[name]
        self.packet_list.time_format = self.time_format
        self.packet_list.clear_rendered_rows()
        self.notify(f"Time: {self.time_format.value}", markup=False, timeout=2)

    def action_toggle_theme(self) -> None:
        self.theme = _LIGHT_THEME if self.theme == _DARK_THEME else _DARK_THEME
        self.packet_list.clear_rendered_rows()

    def action_copy_tree_line(self) -> None:
        if self.selected_node is not None:
            self._copy(self.selected_node.text, "tree line")

    def action_copy_subtree(self) -> None:
        if self.selected_node is not None:
            self._copy(subtree_text(self.selected_node), "subtree")

    def action_copy_packet_hex(self) -> None:
        if self.selected_packet is not None:
            self._copy(self.selected_packet.data.hex(), "packet bytes as hex")

    def _copy(self, text: str, what: str) -> None:
        """Put `text` on the system clipboard (OSC 52) and say so."""
        self.copy_to_clipboard(text)
        self.notify(f"Copied {what} ({len(text)} characters)", markup=False, timeout=2)

    def action_next_byte_source(self) -> None:
        packet = self.selected_packet
        if packet is not None and len(packet.data_sources) > 1:
            hex_pane = self.hex_pane
            hex_pane.show_source((hex_pane.source + 1) % len(packet.data_sources))

    def action_follow_stream(self) -> None:
        """Open Follow Stream on the selected packet's TCP or UDP stream."""
        packet = self.selected_packet
        streams = [(protocol, packet.values(f"{protocol}.stream")) for protocol in ("tcp", "udp")] if packet else []
        chosen = next(((protocol, values[0]) for protocol, values in streams if values), None)
        if self.capture is None or chosen is None:
            self.notify("Select a TCP or UDP packet to follow its stream.", markup=False, timeout=3)
            return
        self.push_screen(FollowScreen(self.capture, *chosen), self._after_follow)

    def _after_follow(self, outcome: FollowOutcome | None) -> None:
        """Go to the chunk's packet, or filter the stream out, as Follow Stream was left."""
        if outcome is None:
            return
        if outcome.go_to_frame is not None:
            self._go_to(outcome.go_to_frame)
        elif outcome.apply_filter is not None:
            bar = self.query_one(FilterBar)
            bar.value = bar.applied_text = outcome.apply_filter
            self.post_message(FilterBar.FilterRequested(compile_filter(outcome.apply_filter)))

    def action_open_start(self) -> None:
        if not isinstance(self.screen, StartScreen):
            self.push_screen(StartScreen(self.list_interfaces))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The built-in commands plus every registered action, so the palette reaches everything."""
        yield from super().get_system_commands(screen)
        for spec in ALL_ACTIONS:
            if spec.in_palette:
                yield SystemCommand(spec.description, f"keys: {shown_keys(spec.keys)}",
                                    partial(self.run_action, spec.action))

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.idle_collector.input_seen()
        await super().on_event(event)

    def on_unmount(self) -> None:
        self.idle_collector.stop()
        if self.capture is not None:
            self.capture.close()

