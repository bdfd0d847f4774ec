"""Table-driven tests of the UI's pure helpers: text safety, time formats, colouring, fitting, recents."""
from __future__ import annotations

from pathlib import Path

import pytest

from tui_sniffer import open_capture
from tui_sniffer.ui.coloring import color_rule
from tui_sniffer.ui.detail_tree import deepest_node_at, subtree_text
from tui_sniffer.ui.hex_pane import bytes_per_line_for
from tui_sniffer.ui.packet_list import fit
from tui_sniffer.ui.recent_files import load_recent_files, remember_file
from tui_sniffer.ui.text_safety import ascii_cell, printable, safe_text
from tui_sniffer.ui.time_format import TimeFormat, format_time

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "http_get_post.pcap"


@pytest.mark.parametrize("raw, shown", [
    ("plain", "plain"),
    ("\x1b[2J", "\\x1b[2J"),
    ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
    ("a\x9bb", "a\\x9bb"),
    ("bidi\u202eevil", "bidi\\u202eevil"),
    ("bad utf8 \udcff", "bad utf8 \\udcff"),
    ("tab\tnew\nline", "tab\\x09new\\x0aline"),
    ("[bold red]x[/]", "[bold red]x[/]"),
])
def test_printable_spells_out_unsafe_characters(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_safe_text_never_parses_markup() -> None:
    text = safe_text("[bold red]x[/] [link=http://evil]y[/link]")
    assert text.plain == "[bold red]x[/] [link=http://evil]y[/link]"
    assert not text.spans


@pytest.mark.parametrize("byte, cell", [(0x41, "A"), (0x20, " "), (0x1B, "·"), (0x7F, "·"), (0xFF, "·")])
def test_ascii_cell(byte: int, cell: str) -> None:
    assert ascii_cell(byte) == cell


@pytest.mark.parametrize("time_format, expected", [
    (TimeFormat.RELATIVE, "1.500000"),
    (TimeFormat.DELTA, "0.250000"),
    (TimeFormat.EPOCH, "1700000001.500000"),
])
def test_format_time(time_format: TimeFormat, expected: str) -> None:
    first, previous, this = 1_700_000_000_000_000_000, 1_700_000_001_250_000_000, 1_700_000_001_500_000_000
    assert format_time(time_format, this, first, previous) == expected


def test_absolute_time_is_time_of_day_with_microseconds() -> None:
    text = format_time(TimeFormat.ABSOLUTE, 1_700_000_001_500_123_000, 0, 0)
    assert len(text) == 15 and text[2] == ":" and text.endswith(".500123")


def test_time_formats_cycle_through_all() -> None:
    seen = [TimeFormat.RELATIVE]
    for _ in range(4):
        seen.append(seen[-1].next())
    assert seen[-1] is TimeFormat.RELATIVE and set(seen) == set(TimeFormat)


@pytest.mark.parametrize("protocol, ip_proto, tcp_flags, malformed, rule", [
    ("TCP", 6, 0x010, False, "tcp"),
    ("TCP", 6, 0x002, False, "syn-fin"),
    ("TCP", 6, 0x011, False, "syn-fin"),
    ("TCP", 6, 0x014, False, "rst"),
    ("HTTP", 6, 0x018, False, "http"),
    ("HTTP", 6, 0x004, False, "rst"),
    ("DNS", 17, 0, False, "dns"),
    ("UDP", 17, 0, False, "udp"),
    ("ARP", 0, 0, False, "arp"),
    ("ICMP", 1, 0, False, "icmp"),
    ("TCP", 6, 0x010, True, "bad"),
    ("LLC", 0, 0, False, None),
])
def test_color_rules_follow_wireshark_order(protocol: str, ip_proto: int, tcp_flags: int,
                                            malformed: bool, rule: str | None) -> None:
    assert color_rule(protocol, ip_proto, tcp_flags, malformed) == rule


@pytest.mark.parametrize("text, width, right, expected", [
    ("abc", 5, False, "abc  "),
    ("abc", 5, True, "  abc"),
    ("abcdef", 4, False, "abc…"),
    ("abc", 0, False, ""),
])
def test_fit(text: str, width: int, right: bool, expected: str) -> None:
    assert fit(text, width, right) == expected


@pytest.mark.parametrize("width, per_line", [(120, 16), (74, 16), (73, 8), (40, 8)])
def test_hex_line_width(width: int, per_line: int) -> None:
    assert bytes_per_line_for(width) == per_line


@pytest.mark.parametrize("offset, field_name", [
    (0, "eth.dst.ig"), (12, "eth.type"), (23, "ip.proto"), (27, "ip.src"),
    (35, "tcp.srcport"),
])
def test_deepest_visible_node_at_byte(offset: int, field_name: str) -> None:
    with open_capture(str(FIXTURE)) as capture:
        packet = capture[4]
        node = deepest_node_at(packet, 0, offset)
    assert node is not None and node.field_name == field_name and not node.hidden


def test_subtree_text_indents_visible_children_only() -> None:
    with open_capture(str(FIXTURE)) as capture:
        ethernet = capture[4].tree[1]
    text = subtree_text(ethernet)
    assert text.splitlines()[0].startswith("Ethernet II")
    assert "    Destination: " in text and "        Address: " in text
    assert "resolved" not in text


def test_recent_files_newest_first_without_duplicates(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    first, second = tmp_path / "a.pcap", tmp_path / "b.pcap"
    remember_file(str(first))
    remember_file(str(second))
    remember_file(str(first))
    assert load_recent_files() == [str(first), str(second)]
    assert (tmp_path / "tui-sniffer" / "recent.json").is_file()


def test_idle_collector_holds_full_collections_until_input_is_quiet() -> None:
    import gc

    from tui_sniffer.ui.idle_collector import QUIET_SECONDS, IdleCollector

    thresholds = gc.get_threshold()
    collector = IdleCollector()
    collector.start()
    try:
        assert gc.get_threshold()[:2] == thresholds[:2] and gc.get_threshold()[2] > thresholds[2]
        gc.collect()
        assert not collector.collect_if_quiet()  # nothing due yet
        for _ in range(thresholds[2]):
            gc.collect(1)
        collector.input_seen()
        assert not collector.collect_if_quiet()  # due, but the user is typing
        collector.last_input -= QUIET_SECONDS
        assert collector.collect_if_quiet()
        assert gc.get_count()[2] == 0
    finally:
        collector.stop()
    assert gc.get_threshold() == thresholds


@pytest.mark.parametrize("width, shown", [
    (120, "http_get_post.pcap · Packets: 24 · Displayed: 24 (100.0%) · ip.src — Source Address · ? help"),
    (78, "http_get_post.pcap · Displayed: 24/24 (100.0%) · ip.src — Source Address"),
    (60, "http_get_post.pcap · 24/24 · ip.src — Source Address"),
    (40, "24/24 · ip.src — Source Address"),
    (20, "24/24 · ip.src — So…"),
])
def test_status_bar_gives_up_the_least_useful_parts_first(width: int, shown: str) -> None:
    from tui_sniffer.ui.status_bar import StatusFacts, status_text

    facts = StatusFacts("http_get_post.pcap", 24, 24, field_text="ip.src — Source Address")
    assert status_text(facts, width).plain == shown


@pytest.mark.parametrize("width, shown", [
    (100, "a_rather_…e.pcapng · 400/1000 · Load 45% · Filtering 12%… · tcp.len — TCP Segment Len"),
    (78, "400/1000 · Load 45% · Filtering 12%… · tcp.len — TCP Segment Len"),
])
def test_status_bar_shortens_a_long_file_name_and_keeps_progress(width: int, shown: str) -> None:
    from tui_sniffer.ui.status_bar import StatusFacts, status_text

    facts = StatusFacts("a_rather_long_capture_file_name.pcapng", 1000, 400, loading_progress=0.45,
                        activity="Filtering 12%…", field_text="tcp.len — TCP Segment Len")
    assert status_text(facts, width).plain == shown


def test_capture_turns_hold_the_worker_back_while_the_ui_uses_the_capture(monkeypatch) -> None:
    from tui_sniffer.ui import capture_turns

    clock = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(capture_turns, "monotonic", lambda: clock[0])
    monkeypatch.setattr(capture_turns, "sleep", sleep)
    turns = capture_turns.CaptureTurns()
    with turns.worker():
        pass
    assert slept == []  # nobody else: the worker goes at once
    with turns:
        clock[0] += 0.01
    with turns.worker():
        assert clock[0] >= 100.01 + capture_turns.UI_GRACE_SECONDS
    assert slept == [pytest.approx(capture_turns.UI_GRACE_SECONDS)]
