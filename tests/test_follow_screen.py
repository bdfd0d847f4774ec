"""Pilot tests of Follow Stream at 120×40: open from a packet, sides and formats, HTTP, search, jump, save, filter out."""
from __future__ import annotations

from pathlib import Path

import pytest

from tui_sniffer.ui.app import SnifferApp
from tui_sniffer.ui.follow_screen import FollowScreen, FollowView

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SIZE = (120, 40)


@pytest.fixture(autouse=True)
def private_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep recent files out of the real config directory."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


async def settled(pilot) -> SnifferApp:
    """Wait until every worker finished and every posted message is handled."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return pilot.app


async def follow_from(pilot, number: int) -> FollowScreen:
    """Select packet `number` and open Follow Stream on it."""
    app = await settled(pilot)
    assert app.packet_list.go_to_number(number)
    await pilot.pause()
    await pilot.press("F")
    await settled(pilot)
    assert isinstance(app.screen, FollowScreen)
    return app.screen


def status(screen: FollowScreen) -> str:
    return str(screen.query_one("#follow-status").render())


async def test_follow_shows_the_conversation_and_switches_side_and_format() -> None:
    async with SnifferApp(str(FIXTURES / "http_get_post.pcap")).run_test(size=SIZE) as pilot:
        screen = await follow_from(pilot, 4)
        view = screen.query_one(FollowView)
        assert str(screen.query_one("#follow-title").render()) == "Follow TCP Stream (tcp.stream eq 0)"
        assert status(screen).startswith("Entire conversation (607 bytes) · ASCII · 3 chunks")
        assert view.lines[0].text == "GET /index.html HTTP/1.1" and not view.lines[0].from_server
        assert view.lines[-1].text == "</html>" and view.lines[-1].from_server
        await pilot.press("d")
        assert status(screen).startswith("127.0.0.1:48782 \u2192 127.0.0.1:8000 (88 bytes) · ASCII · 1 chunk")
        assert all(not line.from_server for line in view.lines)
        await pilot.press("d", "f")
        assert status(screen).startswith("127.0.0.1:8000 \u2192 127.0.0.1:48782 (519 bytes) · Hex Dump")
        assert view.lines[0].text.startswith("00000000  48 54 54 50 2f 31 2e 31")
        await pilot.press("f", "f", "f")
        assert "YAML" in status(screen) and view.lines[0].text == "peers:"


async def test_http_follow_shows_the_decoded_body() -> None:
    async with SnifferApp(str(FIXTURES / "http_chunked_gzip.pcap")).run_test(size=SIZE) as pilot:
        screen = await follow_from(pilot, 4)
        await pilot.press("h")
        await settled(pilot)
        view = screen.query_one(FollowView)
        assert str(screen.query_one("#follow-title").render()) == "Follow HTTP Stream (tcp.stream eq 0)"
        assert any(line.text == "<!DOCTYPE html>" for line in view.lines)


async def test_search_then_enter_jumps_to_the_chunks_packet() -> None:
    async with SnifferApp(str(FIXTURES / "http_get_post.pcap")).run_test(size=SIZE) as pilot:
        screen = await follow_from(pilot, 4)
        await pilot.press("slash", *"welcome", "enter")
        view = screen.query_one(FollowView)
        assert "Welcome" in view.lines[view.cursor].text
        await pilot.press("enter")
        app = await settled(pilot)
        assert not isinstance(app.screen, FollowScreen)
        assert app.selected_packet.number == 8


async def test_save_writes_the_shown_text(tmp_path: Path) -> None:
    target = tmp_path / "stream.txt"
    async with SnifferApp(str(FIXTURES / "http_get_post.pcap")).run_test(size=SIZE) as pilot:
        screen = await follow_from(pilot, 4)
        await pilot.press("w")
        screen.query_one("#follow-save").value = str(target)
        await pilot.press("enter")
        await pilot.pause()
    assert target.read_text().startswith("GET /index.html HTTP/1.1\nHost: 127.0.0.1:8000\n")


async def test_filter_out_this_stream_applies_the_negated_filter() -> None:
    async with SnifferApp(str(FIXTURES / "http_get_post.pcap")).run_test(size=SIZE) as pilot:
        await follow_from(pilot, 4)
        await pilot.press("x")
        app = await settled(pilot)
        assert app.applied_filter_text == "!(tcp.stream eq 0)"
        assert app.displayed_packet_numbers.tolist() == list(range(13, 25))


async def test_follow_needs_a_tcp_or_udp_packet_and_escape_goes_back() -> None:
    async with SnifferApp(str(FIXTURES / "demo.pcap")).run_test(size=SIZE) as pilot:
        app = await settled(pilot)
        await pilot.press("F")
        assert not isinstance(app.screen, FollowScreen)
        screen = await follow_from(pilot, 3)
        assert str(screen.query_one("#follow-title").render()).startswith("Follow UDP Stream (udp.stream eq")
        await pilot.press("escape")
        assert not isinstance(app.screen, FollowScreen)
