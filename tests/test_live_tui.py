"""Live capture in the TUI (Pilot, 120×40) on `lo` with real traffic: packets appear as they arrive,
the list follows the newest until the user moves away (G resumes), stop/start/restart/filter change
from the keyboard and the palette, save (pcapng/pcap, all/displayed), the quit prompt, the start
screen's interface picker and its capture-filter check, and the no-privilege message."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from tests.live_traffic import echo_server, needs_root, until
from tui_sniffer import open_capture
from tui_sniffer.capture.interfaces import NetworkInterface
from tui_sniffer.capture.live_settings import LiveCaptureSettings
from tui_sniffer.ui.app import SnifferApp
from tui_sniffer.capture.live import LiveStatistics
from tui_sniffer.ui.live_app import capture_state_forms
from tui_sniffer.ui.live_dialogs import CaptureFilterScreen, SaveCaptureScreen
from tui_sniffer.ui.live_widgets import CaptureFilterInput, InterfacePicker, rate_text, sparkline
from tui_sniffer.ui.start_screen import StartScreen

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def private_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep recent files out of the real config directory."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@asynccontextmanager
async def capturing_app(capture_filter: str):
    """The app started as `tui-sniffer -i lo -f FILTER`, once its capture runs."""
    app = SnifferApp(None, live_settings=LiveCaptureSettings(["lo"], capture_filter))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.live is not None, "the capture to start")
        yield app, pilot


def status_line(app: SnifferApp) -> str:
    return str(app.query_one("#status-bar").render())


def infos(app: SnifferApp) -> list[str]:
    with app.capture_lock:  # the filter worker may be dissecting too
        return [app.capture.dissect(n).summary.info for n in range(1, app.capture.indexed_count + 1)]


def connection_closed(app: SnifferApp) -> bool:
    return app.capture is not None and sum("[FIN, ACK]" in info for info in infos(app)) == 2


@pytest.mark.parametrize("width, expected", [
    ([0, 0, 0], "   "),
    ([1, 2, 4, 8], "▁▂▄█"),
    ([0, 5], " █"),
])
def test_sparkline_scales_to_the_peak(width: list[float], expected: str) -> None:
    assert sparkline(width, len(width)) == expected


@pytest.mark.parametrize("rate, text", [(None, "–"), (3.4, "3 pkt/s"), (1234, "1.2k pkt/s"), (56789, "57k pkt/s")])
def test_rate_text(rate, text: str) -> None:
    assert rate_text(rate) == text


@needs_root
async def test_packets_appear_live_and_the_list_follows_the_newest(tmp_path: Path) -> None:
    with echo_server() as server:
        async with capturing_app(f"tcp port {server.port}") as (app, pilot):
            assert "● " in status_line(app) and "lo" in status_line(app)
            await asyncio.to_thread(server.exchange, b"first")
            await until(pilot, lambda: connection_closed(app), "the first connection")
            await until(pilot, lambda: app.packet_list.selected_number == app.capture.indexed_count,
                        "the cursor on the newest packet")
            await until(pilot, lambda: app.selected_packet is not None
                        and app.selected_packet.number == app.capture.indexed_count, "the newest packet's tree")
            lines = [app.packet_list.render_line(y).text for y in range(1, 4)]
            assert "[SYN]" in lines[0] and "[SYN, ACK]" in lines[1] and "[ACK]" in lines[2]

            await pilot.press("k")  # the user looks at an older packet: the list stops following
            looked_at = app.packet_list.selected_number
            first_count = app.capture.indexed_count
            await asyncio.to_thread(server.exchange, b"second")
            await until(pilot, lambda: len(app.displayed_packet_numbers) >= 2 * first_count, "the second connection")
            await pilot.pause()
            assert app.packet_list.selected_number == looked_at

            await pilot.press("G")  # resume following
            await asyncio.to_thread(server.exchange, b"third")
            await until(pilot, lambda: app.capture.indexed_count >= 3 * first_count, "the third connection")
            await until(pilot, lambda: app.packet_list.selected_number == app.capture.indexed_count,
                        "the cursor to follow")

            await pilot.press("ctrl+e")
            await until(pilot, lambda: "■ " in status_line(app), "the capture to stop")
            assert not app.live_running and app.live_unsaved


@needs_root
async def test_stop_save_and_reopen_the_same_packets(tmp_path: Path) -> None:
    saved = tmp_path / "saved.pcap"
    with echo_server() as server:
        async with capturing_app(f"tcp port {server.port}") as (app, pilot):
            await asyncio.to_thread(server.exchange, b"save me")
            await until(pilot, lambda: connection_closed(app), "the connection")
            await pilot.press("ctrl+e")
            await until(pilot, lambda: "■ " in status_line(app), "the capture to stop and be indexed to its end")
            count = app.capture.indexed_count
            shown = infos(app)
            await pilot.press("ctrl+s")
            assert isinstance(app.screen, SaveCaptureScreen)
            name_input = app.screen.query_one("#save-name")
            name_input.value = str(tmp_path / "saved.pcapng")
            await pilot.click("#pcap")
            assert name_input.value == str(saved)
            name_input.focus()
            await pilot.press("enter")
            await until(pilot, lambda: saved.exists() and not app.live_unsaved, "the file to be saved")
            with open_capture(str(saved)) as reopened:
                assert len(reopened) == count
                assert [packet.summary.info for packet in reopened] == shown
            assert app.open_path(str(saved))
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert infos(app) == shown


@needs_root
async def test_quit_with_unsaved_packets_asks_first(tmp_path: Path) -> None:
    with echo_server() as server:
        async with capturing_app(f"tcp port {server.port}") as (app, pilot):
            await asyncio.to_thread(server.exchange, b"unsaved")
            await until(pilot, lambda: app.capture.indexed_count > 0, "a packet")
            await pilot.press("q")
            await until(pilot, lambda: isinstance(app.screen, SaveCaptureScreen), "the save prompt")
            await pilot.click("#cancel")
            await pilot.pause()
            assert not isinstance(app.screen, SaveCaptureScreen) and app.is_running
            spool = Path(app.live.output_path)
            await pilot.press("q")
            await until(pilot, lambda: isinstance(app.screen, SaveCaptureScreen), "the save prompt again")
            await pilot.click("#discard")
            await until(pilot, lambda: not app.is_running, "the app to quit")
    assert not spool.exists()


@needs_root
async def test_capture_filter_change_restarts_with_the_new_filter() -> None:
    with echo_server() as first, echo_server() as second:
        async with capturing_app(f"tcp port {first.port}") as (app, pilot):
            old_live = app.live
            await pilot.press("ctrl+k")
            assert isinstance(app.screen, CaptureFilterScreen)
            filter_input = app.screen.query_one(CaptureFilterInput)
            filter_input.value = "tcp prot 1"
            await pilot.pause()
            assert filter_input.has_class("-invalid")
            assert "syntax error" in str(app.screen.query_one("#capture-filter-dialog-problem").render())
            filter_input.value = f"tcp port {second.port}"
            await pilot.pause()
            assert filter_input.has_class("-valid")
            await pilot.press("enter")
            await until(pilot, lambda: app.live is not old_live, "the restart")
            assert app.live_settings.capture_filter == f"tcp port {second.port}"
            assert f"filter: tcp port {second.port}" in status_line(app) or app.live_running
            await asyncio.to_thread(first.exchange, b"not captured")
            await asyncio.to_thread(second.exchange, b"captured")
            await until(pilot, lambda: connection_closed(app), "the second server's connection")
            with app.capture_lock:
                ports = {port for n in range(1, app.capture.indexed_count + 1)
                         for port in app.capture.dissect(n).fields("tcp.port")}
            assert str(second.port) in ports and str(first.port) not in ports
            await pilot.press("ctrl+r")  # restart: the unsaved packets are asked about first
            await until(pilot, lambda: isinstance(app.screen, SaveCaptureScreen), "the save prompt")
            await pilot.click("#discard")
            await until(pilot, lambda: app.capture.indexed_count == 0 and app.live_running, "the fresh capture")


def fixed_interfaces() -> list[NetworkInterface]:
    """Interfaces that exist nowhere (except lo), so the picker's rows do not depend on the machine."""
    return [NetworkInterface("lo", 1, "Loopback", ["127.0.0.1", "::1"], True, True, True, 772),
            NetworkInterface("test0", 9, "veth", ["10.9.9.9"], True, True, False, 1)]


async def test_start_screen_checks_the_capture_filter_as_you_type() -> None:
    app = SnifferApp(None, list_interfaces=fixed_interfaces)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        picker = app.screen.query_one(InterfacePicker)
        lines = [str(option.prompt) for option in picker.query_one("#interface-options").options]
        assert lines[0].startswith("  lo           Loopback     up, loopback")
        assert "127.0.0.1, ::1" in lines[0] and "test0" in lines[1]
        picker.query_one(CaptureFilterInput).focus()
        await pilot.press(*"port 8O")
        assert picker.query_one(CaptureFilterInput).has_class("-invalid")
        assert "invalid capture filter" in str(picker.query_one("#capture-filter-problem").render())
        await pilot.press("backspace", "0")
        assert picker.query_one(CaptureFilterInput).has_class("-valid")
        assert str(picker.query_one("#capture-filter-problem").render()) == ""


@needs_root
async def test_enter_on_an_interface_starts_capturing_there() -> None:
    app = SnifferApp(None, list_interfaces=fixed_interfaces)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        picker = app.screen.query_one(InterfacePicker)
        picker.query_one(CaptureFilterInput).value = "icmp"
        picker.query_one("#interface-options").focus()
        await pilot.press("enter")
        await until(pilot, lambda: app.live_running, "the capture to start")
        assert not isinstance(app.screen, StartScreen)
        assert app.live.interface_names == ["lo"] and app.live_settings.capture_filter == "icmp"


async def test_without_privilege_the_app_says_how_and_keeps_running(monkeypatch: pytest.MonkeyPatch) -> None:
    """The socket refuses as it does for an unprivileged user (the CLI test drops to nobody for real)."""
    import tui_sniffer.capture.live as live_module

    def refuse(*_args, **_kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(live_module, "PacketSocket", refuse)
    app = SnifferApp(None, live_settings=LiveCaptureSettings(["lo"]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        messages = [notification.message for notification in app._notifications]
        assert any("you don't have permission to capture on lo" in message
                   and live_module.PRIVILEGE_FIX in message for message in messages)
        assert app.is_running and app.live is None
        assert isinstance(app.screen, StartScreen)  # to pick a file or another interface instead


@needs_root
async def test_a_display_filter_keeps_applying_to_new_packets() -> None:
    with echo_server() as server:
        async with capturing_app(f"tcp port {server.port}") as (app, pilot):
            await asyncio.to_thread(server.exchange, b"before")
            await until(pilot, lambda: connection_closed(app), "the first connection")
            await pilot.press("slash", *"tcp.flags.syn == 1", "enter")
            await until(pilot, lambda: app.applied_filter_text == "tcp.flags.syn == 1", "the filter")
            assert len(app.displayed_packet_numbers) == 2
            await asyncio.to_thread(server.exchange, b"after")
            await until(pilot, lambda: len(app.displayed_packet_numbers) == 4, "the new SYNs to be displayed")
            with app.capture_lock:
                shown = [app.capture.dissect(int(n)).summary.info for n in app.displayed_packet_numbers]
            assert [("[SYN]" in info, "[SYN, ACK]" in info) for info in shown] == [(True, False), (False, True)] * 2
            assert app.packet_list.selected_number == int(app.displayed_packet_numbers[-1])


async def test_start_screen_opens_when_the_demo_is_also_a_recent_file() -> None:
    from tui_sniffer.ui.recent_files import demo_captures, remember_file

    for demo in demo_captures():
        remember_file(str(demo))
    app = SnifferApp(None, list_interfaces=fixed_interfaces)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)


async def test_space_marks_several_interfaces_and_the_palette_offers_capture_actions() -> None:
    app = SnifferApp(None, list_interfaces=fixed_interfaces)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        picker = app.screen.query_one(InterfacePicker)
        options = picker.query_one("#interface-options")
        options.focus()
        options.highlighted = 0
        await pilot.press("space", "down", "space")
        assert picker.chosen == ["lo", "test0"]
        assert [str(option.prompt)[0] for option in options.options] == ["●", "●"]
        await pilot.press("space")
        assert picker.chosen == ["lo"]
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Live capture: start (again)", "Live capture: stop", "Live capture: restart (asks to save "
                "unsaved packets)", "Save the packets (all or displayed) as pcapng or pcap"} <= titles


def test_capture_state_forms_from_full_to_tiny() -> None:
    running = LiveStatistics(captured=12, kernel_dropped=2, own_dropped=1, bytes_written=0, elapsed_seconds=3725.2,
                             packets_per_second=3.4, running=True, stop_reason="", problems=())
    assert capture_state_forms(running, ["lo", "eth0"], "tcp port 80") == (
        "● Capturing on lo, eth0 · filter: tcp port 80 · Captured: 12 · Dropped: 3 (kernel 2, own 1) · 3 pkt/s · 1:02:05",
        "● lo, eth0 [tcp port 80] · 12 pkts · 3 dropped · 3 pkt/s · 1:02:05",
        "● lo, eth0 · 12 pkts · 3 dropped · 1:02:05",
        "● 12")
    stopped = replace(running, running=False, kernel_dropped=0, own_dropped=0)
    assert capture_state_forms(stopped, ["lo"], "")[:2] == (
        "■ Stopped on lo · Captured: 12 · Dropped: 0 (kernel 0, own 0) · 1:02:05", "■ lo · 12 pkts · 0 dropped · 1:02:05")
