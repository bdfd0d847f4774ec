"""Pilot tests of the app at 120×40: selection, tree/hex sync, expansion, go-to, panes, formats, copy."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from textual.worker import WorkerCancelled

from tui_sniffer import open_capture
from tui_sniffer.ui.app import SnifferApp
from tui_sniffer.ui.detail_tree import DetailTree
from tui_sniffer.ui.dialogs import HelpScreen, bindings_table
from tui_sniffer.ui.hex_pane import HexPane
from tui_sniffer.ui.packet_list import PacketList
from tui_sniffer.ui.start_screen import StartScreen
from tui_sniffer.ui.time_format import TimeFormat, format_time

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FIXTURE = FIXTURES / "http_get_post.pcap"
SIZE = (120, 40)


@pytest.fixture(autouse=True)
def private_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep recent files out of the real config directory."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


async def loaded(pilot) -> SnifferApp:
    """Wait until every worker finished (indexing, filtering; a filter run cancelled by a newer one
    counts as finished), every posted message is handled and no row on screen is a placeholder."""
    while True:
        try:
            await pilot.app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            continue
    await pilot.pause()
    while pilot.app.packet_list.rows_to_fill:
        await pilot.pause()
    return pilot.app


def tree_cursor_field(app: SnifferApp) -> str | None:
    node = app.detail_tree.cursor_node
    return node.data.field_name if node and node.data else None


async def test_opens_file_and_selects_first_packet() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        assert app.capture.indexed_count == 24
        assert app.packet_list.selected_number == 1
        assert app.selected_packet.number == 1
        assert isinstance(app.focused, PacketList)
        assert "Packets: 24 · Displayed: 24 (100.0%)" in str(app.query_one("#status-bar").render())
        assert app.packet_list.render_line(1).text.lstrip().startswith("1 0.000000")


async def test_vim_keys_move_the_selection() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("j", "j", "down")
        assert app.selected_packet.number == 4
        await pilot.press("k")
        assert app.selected_packet.number == 3
        await pilot.press("G")
        assert app.selected_packet.number == 24
        assert app.hex_pane.data == app.capture.packet_bytes(24)
        await pilot.press("g", "g")
        assert app.selected_packet.number == 1
        await pilot.press("ctrl+d")
        half_page = app.packet_list.visible_rows // 2
        assert app.selected_packet.number == 1 + half_page
        await pilot.press("ctrl+u")
        assert app.selected_packet.number == 1


async def test_rows_of_the_next_and_previous_screen_are_dissected_ahead() -> None:
    async with SnifferApp(str(FIXTURES / "lossy_transfer.pcap")).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        packet_list = app.packet_list
        height = packet_list.visible_rows
        assert len(app.displayed_packet_numbers) > 3 * height
        await pilot.press("pagedown", "pagedown")
        for _ in range(10 * height):
            if packet_list._uncached_nearby() is None:
                break
            await pilot.pause()
        top = int(packet_list.scroll_y)
        around = app.displayed_packet_numbers[top - height:top + 2 * height]
        assert all(int(number) in packet_list._rows for number in around)


async def test_rows_without_time_to_dissect_show_placeholders_then_fill(monkeypatch) -> None:
    from tui_sniffer.ui import packet_list as packet_list_module

    monkeypatch.setattr(packet_list_module, "_ROW_BUDGET_SECONDS", -1.0)  # no time at all: all placeholders
    async with SnifferApp(str(FIXTURES / "lossy_transfer.pcap")).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        packet_list = app.packet_list
        packet_list.action_bottom()
        count = len(app.displayed_packet_numbers)
        last = packet_list.render_line(packet_list.visible_rows)
        wire_length = int(app.capture.index.column("wire_length")[count - 1])
        assert last.text.split()[0] == str(count) and "…" in last.text and str(wire_length) in last.text
        assert packet_list.rows_to_fill > 0
        await loaded(pilot)
        summary = app.capture.dissect(count).summary
        assert summary.info[:20] in packet_list.render_line(packet_list.visible_rows).text


async def test_click_selects_a_row() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.click(PacketList, offset=(10, 5))
        assert app.selected_packet.number == 5


async def test_tree_selection_highlights_bytes_and_names_the_field() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("tab")
        assert isinstance(app.focused, DetailTree)
        await pilot.press("j", "j")
        assert tree_cursor_field(app) == "ip"
        assert app.hex_pane.highlight_range == range(14, 34)
        await pilot.press("enter")
        for _ in range(12):
            await pilot.press("j")
        assert tree_cursor_field(app) == "ip.src"
        assert app.hex_pane.highlight_range == range(26, 30)
        assert "ip.src — Source Address" in str(app.query_one("#status-bar").render())


async def test_status_bar_at_80_columns_keeps_the_field_description() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=(80, 24)) as pilot:
        app = await loaded(pilot)
        await pilot.press("tab", "j", "j", "enter", *["j"] * 12)
        assert tree_cursor_field(app) == "ip.src"
        await pilot.pause()
        bar = app.query_one("#status-bar")
        status = str(bar.render())
        assert bar.content_size.width == 78 and len(status) <= 78
        assert status.endswith("ip.src — Source Address") and "24/24" in status


async def test_hex_cursor_selects_the_deepest_field() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("tab", "tab")
        assert isinstance(app.focused, HexPane)
        await pilot.press("j", "l", "l", "l")
        assert app.hex_pane.cursor == 19
        assert tree_cursor_field(app) == "ip.id"
        await pilot.press("j")
        assert tree_cursor_field(app) == "tcp.srcport"
        assert app.hex_pane.cursor == 35
        await pilot.click(HexPane, offset=(6, 1))
        assert app.hex_pane.cursor == 0
        assert tree_cursor_field(app) == "eth.dst.ig"


async def test_expansion_is_kept_across_packets_and_e_E_expand_collapse_all() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("tab", "j", "j", "enter")
        tree = app.detail_tree
        assert tree.cursor_node.is_expanded and tree_cursor_field(app) == "ip"
        await pilot.press("shift+tab", "j")
        assert app.selected_packet.number == 2
        expanded = [node.data.field_name for node in tree.root.children if node.is_expanded]
        assert expanded == ["ip"]
        assert tree_cursor_field(app) == "ip"
        await pilot.press("e")
        assert all(node.is_expanded for node in tree._widget_nodes.values() if node.allow_expand)
        await pilot.press("j")
        assert all(node.is_expanded for node in tree._widget_nodes.values() if node.allow_expand)
        await pilot.press("E")
        assert not any(node.is_expanded for node in tree._widget_nodes.values())
        await pilot.press("j")
        assert not any(node.is_expanded for node in tree._widget_nodes.values())


def widget_node(tree: DetailTree, field_name: str):
    """The tree line of the field `field_name` in the shown packet."""
    return next(node for node in tree._widget_nodes.values() if node.data.field_name == field_name)


async def test_a_collapse_after_expand_all_is_kept_as_in_wireshark() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        tree = app.detail_tree
        await pilot.press("tab", "e")
        for field_name in ("ip", "tcp.flags"):
            tree.move_cursor(widget_node(tree, field_name), animate=False)
            await pilot.press("enter")
            assert not widget_node(tree, field_name).is_expanded
        await pilot.press("shift+tab", "j")
        assert app.selected_packet.number == 2
        assert not widget_node(tree, "ip").is_expanded and not widget_node(tree, "tcp.flags").is_expanded
        assert widget_node(tree, "eth").is_expanded and widget_node(tree, "tcp").is_expanded
        assert widget_node(tree, "tcp.options").is_expanded
        await pilot.press("E", "tab")
        tree.move_cursor(widget_node(tree, "tcp"), animate=False)
        await pilot.press("enter", "shift+tab", "j")
        assert app.selected_packet.number == 3
        expanded = {node.data.field_name for node in tree._widget_nodes.values() if node.is_expanded}
        assert expanded == {"tcp"}


async def test_go_to_packet() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("ctrl+g", "1", "7", "enter")
        assert app.selected_packet.number == 17
        await pilot.press("ctrl+g", "9", "9", "9", "enter")
        await pilot.pause()
        assert app.selected_packet.number == 17
        assert any("999 is not displayed" in str(note.message) for note in app._notifications)
        await pilot.press("ctrl+g", "escape")
        assert app.selected_packet.number == 17 and isinstance(app.focused, PacketList)


async def test_tab_cycles_panes_and_zoom_and_resize() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("tab", "tab")
        assert isinstance(app.focused, HexPane)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, DetailTree)
        await pilot.press("z")
        assert app.screen.maximized is app.detail_tree
        await pilot.press("z")
        assert app.screen.maximized is None
        await pilot.press("shift+tab")
        height = app.packet_list.size.height
        await pilot.press("plus", "plus")
        await pilot.pause()
        assert app.packet_list.size.height > height
        await pilot.press("minus", "minus", "minus", "minus")
        await pilot.pause()
        assert app.packet_list.size.height < height


async def test_layout_toggle_puts_tree_and_hex_side_by_side() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        tree, hex_pane = app.detail_tree, app.hex_pane
        assert tree.region.y < hex_pane.region.y
        await pilot.press("L")
        await pilot.pause()
        assert tree.region.y == hex_pane.region.y and tree.region.x < hex_pane.region.x
        assert hex_pane.bytes_per_line == 8
        await pilot.press("L")
        await pilot.pause()
        assert tree.region.y < hex_pane.region.y and hex_pane.bytes_per_line == 16


async def test_time_display_format_switch() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        timestamps = app.capture.index.column("timestamp_ns")
        for expected in (TimeFormat.ABSOLUTE, TimeFormat.DELTA, TimeFormat.EPOCH, TimeFormat.RELATIVE):
            await pilot.press("t")
            await pilot.pause()
            assert app.time_format is expected
            text = format_time(expected, int(timestamps[2]), int(timestamps[0]), int(timestamps[1]))
            assert text in app.packet_list.render_line(3).text


async def test_theme_switch() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        assert app.theme == "textual-dark"
        dark_header = app.packet_list.render_line(0)
        await pilot.press("T")
        await pilot.pause()
        assert app.theme == "textual-light"
        assert app.packet_list.render_line(0) != dark_header
        await pilot.press("T")
        assert app.theme == "textual-dark"


async def test_copy_tree_line_subtree_and_bytes() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("j", "j", "j", "tab", "j", "j")
        await pilot.press("c")
        assert app.clipboard == "Internet Protocol Version 4, Src: 127.0.0.1, Dst: 127.0.0.1"
        await pilot.press("C")
        assert app.clipboard.splitlines()[1] == "    0100 .... = Version: 4"
        await pilot.press("y")
        assert app.clipboard == app.capture.packet_bytes(4).hex()


async def test_help_lists_every_binding_and_palette_has_every_action() -> None:
    from tui_sniffer.ui.actions import APP_ACTIONS, TIME_FORMAT_ACTIONS

    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        console = Console(record=True, width=120, file=io.StringIO())
        console.print(bindings_table())
        help_text = console.export_text()
        for spec in APP_ACTIONS:
            assert spec.description in help_text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for spec in APP_ACTIONS + TIME_FORMAT_ACTIONS:
            assert spec.description in titles or not spec.in_palette


async def test_command_palette_runs_an_action() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"time of day")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.time_format is TimeFormat.ABSOLUTE


async def test_filter_bar_focuses_with_slash_and_escape_restores() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("slash")
        bar = app.query_one("#filter-bar")
        assert app.focused is bar
        await pilot.press(*"tcp")
        assert bar.value == "tcp"
        area = app.query_one("#filter-area")
        assert area.suggesting
        await pilot.press("escape")
        assert not area.suggesting and bar.value == "tcp" and app.focused is bar
        await pilot.press("escape")
        assert bar.value == "" and isinstance(app.focused, PacketList)


async def test_filter_bar_applies_a_valid_filter_and_rejects_an_invalid_one() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        bar = app.query_one("#filter-bar")
        await pilot.press("slash", *"http")
        assert bar.has_class("-valid")
        await pilot.press("enter")
        await loaded(pilot)
        assert 0 < len(app.displayed_packet_numbers) < 24
        assert all(app.capture.dissect(int(number)).summary.protocol == "HTTP"
                   for number in app.displayed_packet_numbers)
        assert f"Displayed: {len(app.displayed_packet_numbers)} (" in str(app.query_one("#status-bar").render())
        assert app.selected_packet.number in app.displayed_packet_numbers
        await pilot.press("slash", "ctrl+a", *"tcp.port ==")
        assert bar.has_class("-invalid")
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is bar
        assert any(note.title == "Invalid display filter" for note in app._notifications)
        await pilot.press("escape")
        assert bar.value == "http"
        await pilot.press("slash", "ctrl+u", "enter")
        await loaded(pilot)
        assert len(app.displayed_packet_numbers) == 24


async def test_start_screen_opens_a_capture() -> None:
    async with SnifferApp(None).run_test(size=SIZE) as pilot:
        await pilot.pause()
        app = pilot.app
        assert isinstance(app.screen, StartScreen)
        await pilot.press("enter")
        await loaded(pilot)
        assert not isinstance(app.screen, StartScreen)
        assert app.capture is not None and app.capture.indexed_count > 0
        assert app.selected_packet is not None


async def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.pcap"
    bogus.write_text("not a capture")
    async with SnifferApp(str(bogus)).run_test(size=SIZE) as pilot:
        await pilot.pause()
        app = pilot.app
        assert app.capture is None
        assert any("not a pcap" in str(note.message) for note in app._notifications)


async def test_truncated_file_shows_its_offset(tmp_path: Path) -> None:
    truncated = tmp_path / "cut.pcap"
    truncated.write_bytes(FIXTURE.read_bytes()[:2000])
    async with SnifferApp(str(truncated)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        assert app.capture.indexed_count == 15
        status = str(app.query_one("#status-bar").render())
        assert "cut short" in status and "byte offset 1893" in status


async def test_recent_file_is_remembered(tmp_path: Path) -> None:
    copy = tmp_path / "copy.pcap"
    shutil.copy(FIXTURE, copy)
    async with SnifferApp(str(copy)).run_test(size=SIZE) as pilot:
        await loaded(pilot)
    from tui_sniffer.ui.recent_files import load_recent_files

    assert load_recent_files()[0] == str(copy)


async def test_the_selected_field_stays_selected_on_the_next_packet() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("tab", "j", "j", "enter", *["j"] * 12)
        assert app.selected_node.field_name == "ip.src"
        await pilot.press("shift+tab", "j")
        assert app.selected_packet.number == 2 and tree_cursor_field(app) == "ip.src"
        assert app.selected_node.field_name == "ip.src" and app.selected_node in app.selected_packet.tree[2].children
        assert app.hex_pane.highlight_range == range(26, 30)
        assert "ip.src — Source Address" in str(app.query_one("#status-bar").render())


async def test_the_time_column_widens_for_long_captures(tmp_path: Path) -> None:
    source = open_capture(str(FIXTURE))
    source.index_all()
    late = tmp_path / "late.pcap"
    source.save_as(str(late), "pcap")
    data = bytearray(late.read_bytes())
    # push the last record's timestamp 20,000 s later (pcap record header: seconds first)
    offsets = source.index.column("file_offset")
    last_header = int(offsets[-1]) - 16
    seconds = int.from_bytes(data[last_header:last_header + 4], "little") + 20_000
    data[last_header:last_header + 4] = seconds.to_bytes(4, "little")
    late.write_bytes(bytes(data))
    async with SnifferApp(str(late)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("G")
        await loaded(pilot)
        timestamps = app.capture.index.column("timestamp_ns")
        shown = format_time(TimeFormat.RELATIVE, int(timestamps[-1]), int(timestamps[0]), 0)
        packet_list = app.packet_list
        line = packet_list.render_line(packet_list.cursor_row - int(packet_list.scroll_y) + 1).text
        assert len(shown) > 11 and f" {shown} " in line
