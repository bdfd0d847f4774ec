"""The display filter in the TUI: completion, history across runs, error caret and warnings, Apply as
Filter from the detail tree (checked against tshark), and the empty-result message."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import FIXTURES, TSHARK, needs_tshark
from tests.test_ui_app import FIXTURE, SIZE, loaded, private_config  # noqa: F401 (autouse fixture)
from tui_sniffer import open_capture
from tui_sniffer.dissect.fields import all_fields
from tui_sniffer.dissect.tree import DissectedPacket, TreeNode
from tui_sniffer.filter import compile_filter
from tui_sniffer.ui.app import SnifferApp
from tui_sniffer.ui.detail_tree import visible_children
from tui_sniffer.ui.dialogs import ApplyAsFilterScreen
from tui_sniffer.ui.display_filter import merged
from tui_sniffer.ui.field_completion import completed, completions, name_at_cursor
from tui_sniffer.ui.messages import FilterApplied, FilterMatchesFound, IndexingFinished, PacketsIndexed
from tui_sniffer.ui.recent_files import FILTER_HISTORY, RecentList
from tui_sniffer.ui.selected_filter import ApplyChoice, combined_filter, selected_filter


def visible_lines(packet: DissectedPacket) -> list[TreeNode]:
    """Every line of the detail tree of `packet`, in order."""
    lines: list[TreeNode] = []

    def visit(node: TreeNode) -> None:
        lines.append(node)
        for child in visible_children(node):
            visit(child)

    for layer in packet.tree:
        if not layer.hidden:
            visit(layer)
    return lines


def line_of(packet: DissectedPacket, field_name: str | None, text: str | None = None) -> TreeNode:
    """The first tree line of `field_name` (or, for a text line, with label `text`)."""
    return next(node for node in visible_lines(packet)
                if node.field_name == field_name and (text is None or node.label == text))


GET_REQUEST_LINES = [
    ("tcp", None, "tcp"),
    ("ip.src", None, "ip.src == 127.0.0.1"),
    ("ip.id", None, "ip.id == 0x7565"),
    ("ip.proto", None, "ip.proto == 6"),
    ("tcp.srcport", None, "tcp.srcport == 48782"),
    ("tcp.flags", None, "tcp.flags == 0x0018"),
    ("tcp.flags.ack", None, "tcp.flags.ack == 1"),
    ("eth.dst", None, "eth.dst == 00:00:00:00:00:00"),
    ("http.request.method", None, 'http.request.method == "GET"'),
    ("http.request.uri", None, 'http.request.uri == "/index.html"'),
    ("tcp.options.timestamp.tsval", None, "tcp.options.timestamp.tsval == 562187384"),
    (None, "\\r\\n", "frame[152:2] == 0d:0a"),
]


@pytest.mark.parametrize("field_name, text, expected", GET_REQUEST_LINES)
def test_apply_as_filter_writes_the_value_as_wireshark_does(field_name, text, expected) -> None:
    packet = open_capture(str(FIXTURE))[4]
    assert selected_filter(line_of(packet, field_name, text), packet) == expected


@needs_tshark
@pytest.mark.parametrize("field_name, text, expected", GET_REQUEST_LINES)
def test_apply_as_filter_selects_what_tshark_selects(field_name, text, expected) -> None:
    capture = open_capture(str(FIXTURE))
    packet = capture[4]
    written = selected_filter(line_of(packet, field_name, text), packet)
    compiled = compile_filter(written)
    ours = [str(number) for number in capture.frame_numbers() if compiled.matches(capture[number])]
    theirs = subprocess.run([TSHARK, "-n", "-r", str(FIXTURE), "-Y", written, "-T", "fields", "-e",
                             "frame.number"], capture_output=True, text=True, check=True).stdout.split()
    assert "4" in ours and ours == theirs


@pytest.mark.parametrize("name", ["http_get_post.pcap", "dns_udp.pcap", "ping.pcap", "tls13.pcap"])
def test_every_tree_line_filter_compiles_and_matches_its_own_packet(name: str) -> None:
    capture = open_capture(str(FIXTURES / name))
    for number in capture.frame_numbers():
        packet = capture[number]
        for node in visible_lines(packet):
            written = selected_filter(node, packet)
            if node.field_name == "frame.time_epoch":
                continue  # the filter engine compares epoch seconds as floats and misses exact values
            if written is not None:
                assert compile_filter(written).matches(packet), (number, node.text, written)


@pytest.mark.parametrize("choice, current, expected", [
    (ApplyChoice.SELECTED, "http", "ip.src == 10.0.0.1"),
    (ApplyChoice.NOT_SELECTED, "http", "!(ip.src == 10.0.0.1)"),
    (ApplyChoice.AND_SELECTED, "http", "(http) && (ip.src == 10.0.0.1)"),
    (ApplyChoice.OR_SELECTED, "http", "(http) || (ip.src == 10.0.0.1)"),
    (ApplyChoice.AND_NOT_SELECTED, "http", "(http) && !(ip.src == 10.0.0.1)"),
    (ApplyChoice.OR_NOT_SELECTED, "http", "(http) || !(ip.src == 10.0.0.1)"),
    (ApplyChoice.AND_SELECTED, " ", "ip.src == 10.0.0.1"),
    (ApplyChoice.OR_NOT_SELECTED, "", "!(ip.src == 10.0.0.1)"),
])
def test_apply_as_filter_combinations(choice: ApplyChoice, current: str, expected: str) -> None:
    assert combined_filter(choice, current, "ip.src == 10.0.0.1") == expected


@pytest.mark.parametrize("text, cursor, span", [
    ("tcp.sr", 6, (0, 6, "tcp.sr")),
    ("ip.src == 1 and tcp.dst", 23, (16, 23, "tcp.dst")),
    ("tcp.srXport", 5, (0, 11, "tcp.s")),
    ('http.host == "tcp.', 18, None),
    ("tcp.port == 80", 14, None),
    ("frame[0:4", 9, None),
    ("", 0, None),
])
def test_name_at_cursor(text: str, cursor: int, span) -> None:
    name = name_at_cursor(text, cursor)
    assert (None if name is None else (name.start, name.end, name.typed)) == span


def test_completions_come_from_the_registry_protocols_first() -> None:
    names = [definition.name for definition in completions("TCP.SRC", all_fields())]
    assert names[:1] == ["tcp.srcport"]
    assert [definition.name for definition in completions("ht", all_fields())][0] == "http"
    assert all(name.startswith("tcp.src") for name in names)
    name = name_at_cursor("ip.sr == 1", 5)
    assert completed("ip.sr == 1", name, "ip.src") == ("ip.src == 1", 6)


def test_recent_list_keeps_newest_first_without_repeats_up_to_its_limit(tmp_path: Path) -> None:
    history = RecentList("test_history.json", 3)
    for text in ("tcp", "udp", "tcp", "dns", "arp"):
        history.remember(text)
    assert history.load() == ["arp", "dns", "tcp"]
    assert RecentList("test_history.json", 3).load() == ["arp", "dns", "tcp"]


async def test_tab_completes_a_field_name_from_the_suggestions() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("slash", *"ip.sr")
        area = app.query_one("#filter-area")
        assert area.suggesting
        shown = [str(area.suggestions.get_option_at_index(index).prompt)
                 for index in range(area.suggestions.option_count)]
        assert any(line.startswith("ip.src ") and "Source Address" in line for line in shown)
        await pilot.press("tab")
        bar = app.query_one("#filter-bar")
        assert bar.value == "ip.src" and bar.cursor_position == 6
        await pilot.press(*" == 127.0.0.1", "enter")
        await loaded(pilot)
        assert app.applied_filter_text == "ip.src == 127.0.0.1" and len(app.displayed_packet_numbers) == 24


async def test_filter_history_is_kept_across_runs_and_walked_with_up_and_ctrl_r() -> None:
    for text in ("tcp.port == 8000", "http", "frame.len > 100"):
        async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
            app = await loaded(pilot)
            await pilot.press("slash", *text, "enter")
            await loaded(pilot)
    assert FILTER_HISTORY.load() == ["frame.len > 100", "http", "tcp.port == 8000"]
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        bar = app.query_one("#filter-bar")
        await pilot.press("slash", "up")
        assert bar.value == "frame.len > 100"
        await pilot.press("up", "up")
        assert bar.value == "tcp.port == 8000"
        await pilot.press("down", "down", "down")
        assert bar.value == ""
        await pilot.press(*"port", "ctrl+r")
        assert bar.value == "tcp.port == 8000"


async def test_an_invalid_filter_shows_the_error_under_a_caret() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("slash", *"ip.src == 10.0.0.1 and tcp.prt == 1")
        bar = app.query_one("#filter-bar")
        assert bar.has_class("-invalid")
        message = str(app.query_one("#filter-message").render())
        caret = message.index("^")
        assert caret == bar.text_start_x + len("ip.src == 10.0.0.1 and ")
        assert message[caret:].startswith("^" + "~" * (len("tcp.prt") - 1) + " ") and "tcp.prt" in message


async def test_a_filter_wireshark_warns_about_turns_the_bar_yellow() -> None:
    async with SnifferApp(str(FIXTURES / "tls13.pcap")).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("slash", *"ssl")
        bar = app.query_one("#filter-bar")
        assert bar.has_class("-warning") and not bar.has_class("-valid")
        assert "deprecated" in str(app.query_one("#filter-message").render())
        await pilot.press("enter")
        await loaded(pilot)
        assert app.applied_filter_text == "ssl" and len(app.displayed_packet_numbers) > 0
        assert bar.has_class("-warning")


async def select_tree_field(pilot, field_name: str) -> None:
    """Put the detail tree's cursor on the first line of `field_name`, as arrow keys would."""
    app = pilot.app
    tree = app.detail_tree
    await pilot.press("tab", "e")
    node = next(node for node in tree._widget_nodes.values() if node.data.field_name == field_name)
    tree.move_cursor(node, animate=False)
    await pilot.pause()


async def test_a_applies_the_selected_field_and_says_when_nothing_matches() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("j", "j", "j")
        await select_tree_field(pilot, "http.request.uri")
        await pilot.press("a")
        await loaded(pilot)
        assert app.query_one("#filter-bar").value == 'http.request.uri == "/index.html"'
        assert [int(number) for number in app.displayed_packet_numbers] == [4]
        assert "Displayed: 1 (4.2%)" in str(app.query_one("#status-bar").render())
        await pilot.press("slash", "ctrl+u", *"udp", "enter")
        await loaded(pilot)
        assert not len(app.displayed_packet_numbers)
        assert app.packet_list.render_line(2).text.strip() == "No packets match the display filter: udp"


async def test_shift_a_offers_wiresharks_choices_and_applies_the_chosen_one() -> None:
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("slash", *"http", "enter")
        await loaded(pilot)
        await select_tree_field(pilot, "tcp.srcport")
        source_port = app.selected_node.value
        await pilot.press("A")
        assert isinstance(app.screen, ApplyAsFilterScreen)
        await pilot.press("down", "down", "down", "down", "enter")
        await loaded(pilot)
        expected = f"(http) && !(tcp.srcport == {source_port})"
        assert app.applied_filter_text == expected == app.query_one("#filter-bar").value
        compiled = compile_filter(expected)
        assert [int(number) for number in app.displayed_packet_numbers] == \
            [number for number in app.capture.frame_numbers() if compiled.matches(app.capture[number])]


def test_merged_views_stay_ascending_without_repeats() -> None:
    shown = np.array([2, 5], dtype=np.int64)
    assert merged(shown, np.array([7, 9])).tolist() == [2, 5, 7, 9]
    assert merged(shown, np.array([3, 5, 8])).tolist() == [2, 3, 5, 8]
    assert merged(shown, np.zeros(0, dtype=np.int64)) is shown


async def test_matches_join_the_view_as_found_with_progress_and_old_runs_are_ignored(monkeypatch) -> None:
    monkeypatch.setattr(SnifferApp, "filter_packets", lambda self, *args: None)  # the test plays the worker
    async with SnifferApp(str(FIXTURE)).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("j", "j")  # packet 3 selected
        await pilot.press("slash", *"tcp.len > 0", "enter")
        run = app._filter_run
        status = app.query_one("#status-bar")
        app.post_message(FilterMatchesFound(run, np.array([1, 4]), 10, 24))
        await pilot.pause()
        assert app.displayed_packet_numbers.tolist() == [1, 4]
        assert app.packet_list.selected_number == 4  # the first displayed after the one selected before
        assert "Filtering 42%…" in str(status.render())
        app.post_message(FilterMatchesFound(run - 1, np.array([2, 3]), 24, 24))
        app.post_message(FilterMatchesFound(run, np.array([6, 8]), 24, 24))
        app.post_message(FilterApplied(run, "tcp.len > 0", 24))
        await pilot.pause()
        assert app.displayed_packet_numbers.tolist() == [1, 4, 6, 8]
        assert "Filtering" not in str(status.render()) and "Displayed: 4 (16.7%)" in str(status.render())


async def test_a_new_filter_cancels_the_running_one() -> None:
    async with SnifferApp(str(FIXTURES / "lossy_transfer.pcap")).run_test(size=SIZE) as pilot:
        app = await loaded(pilot)
        await pilot.press("slash", *"tcp.analysis.retransmission", "enter")
        await pilot.press("slash", "ctrl+u", *"tcp.flags.syn == 1", "enter")
        await loaded(pilot)
        compiled = compile_filter("tcp.flags.syn == 1")
        expected = [number for number in app.capture.frame_numbers() if compiled.matches(app.capture[number])]
        assert app.applied_filter_text == "tcp.flags.syn == 1"
        assert app.displayed_packet_numbers.tolist() == expected and expected


async def test_rows_indexed_after_the_filter_started_are_filtered_too(monkeypatch) -> None:
    monkeypatch.setattr(SnifferApp, "index_capture", lambda self, capture: None)  # the test indexes
    runs_from: list[int] = []
    start_run = SnifferApp._start_filter_run

    def noting_start(self) -> None:
        runs_from.append(self._filtered_rows)
        start_run(self)

    monkeypatch.setattr(SnifferApp, "_start_filter_run", noting_start)
    async with SnifferApp(str(FIXTURES / "lossy_transfer.pcap")).run_test(size=SIZE) as pilot:
        await pilot.pause()
        app = pilot.app
        capture = app.capture
        capture._batches = capture.file.scan(batch_records=50)
        capture.index_more()
        app.post_message(PacketsIndexed(capture.indexed_count, 0.2))
        await pilot.pause()
        await pilot.press("slash", *"tcp.len > 1000", "enter")
        while capture.index_more():
            app.post_message(PacketsIndexed(capture.indexed_count, 0.5))
            await pilot.pause()
        app.post_message(IndexingFinished(capture.indexed_count, None))
        await pilot.pause()
        await loaded(pilot)
        assert capture.indexed_count == 264 and app._filtered_rows == 264
        assert runs_from[0] == 0 and len(runs_from) >= 2 and runs_from == sorted(set(runs_from))
        compiled = compile_filter("tcp.len > 1000")
        expected = [number for number in capture.frame_numbers() if compiled.matches(capture[number])]
        assert app.displayed_packet_numbers.tolist() == expected and len(expected) > 50
