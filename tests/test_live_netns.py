"""Capture on a non-loopback interface: a veth pair into a fresh network namespace, with real ping and
HTTP (http.server inside the namespace, curl outside); several interfaces at once; and an interface
deleted mid-capture, which stops that capture with a message while its packets stay in the spool."""
from __future__ import annotations

import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import TSHARK, needs_tshark
from tests.live_traffic import WAIT_SECONDS, infos, needs_root, ping, running_capture, until, wait_until
from tui_sniffer import open_capture
from tui_sniffer.capture.live_settings import LiveCaptureSettings

pytestmark = [needs_root, pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 ('ip') is not installed")]


@dataclass(frozen=True)
class VethPair:
    """`outside` in this namespace (address `outside_address`) wired to `inside` in namespace `namespace`."""

    namespace: str
    outside: str
    inside: str
    outside_address: str
    inside_address: str


def ip(*arguments: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *arguments], capture_output=True, text=True, check=check)


@pytest.fixture
def veth_pair() -> Iterator[VethPair]:
    """A veth pair with unique names and a /24 of its own, torn down even when the test fails."""
    tag = f"{random.randrange(16 ** 5):05x}"
    subnet = f"10.{random.randrange(100, 250)}.{random.randrange(1, 250)}"
    pair = VethPair(f"tsn-{tag}", f"tsv{tag}o", f"tsv{tag}i", f"{subnet}.1", f"{subnet}.2")
    try:
        if ip("netns", "add", pair.namespace, check=False).returncode:
            pytest.skip("cannot create network namespaces here")
        ip("link", "add", pair.outside, "type", "veth", "peer", "name", pair.inside)
        ip("link", "set", pair.inside, "netns", pair.namespace)
        ip("addr", "add", f"{pair.outside_address}/24", "dev", pair.outside)
        ip("link", "set", pair.outside, "up")
        ip("-n", pair.namespace, "addr", "add", f"{pair.inside_address}/24", "dev", pair.inside)
        ip("-n", pair.namespace, "link", "set", pair.inside, "up")
        ip("-n", pair.namespace, "link", "set", "lo", "up")
        wait_until(lambda: "LOWER_UP" in ip("link", "show", pair.outside).stdout, "the veth link to come up")
        yield pair
    finally:
        ip("link", "del", pair.outside, check=False)
        ip("netns", "del", pair.namespace, check=False)


def test_ping_and_http_through_a_veth_pair(veth_pair: VethPair, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>inside the namespace</h1>\n")
    server = subprocess.Popen(["ip", "netns", "exec", veth_pair.namespace, sys.executable, "-m", "http.server",
                               "8080", "--bind", veth_pair.inside_address, "--directory", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with running_capture(LiveCaptureSettings([veth_pair.outside], "icmp or tcp port 8080 or arp")) as run:
            ping(veth_pair.inside_address, count=2)
            body = b""

            def fetched() -> bool:
                nonlocal body
                result = subprocess.run(["curl", "-s", "--max-time", "2",
                                         f"http://{veth_pair.inside_address}:8080/"], capture_output=True)
                body = result.stdout
                return result.returncode == 0

            wait_until(fetched, "http.server in the namespace to answer")
            assert body == b"<h1>inside the namespace</h1>\n"
            packets = run.wait_for(lambda packets: any(line.startswith("HTTP/1.0 200 OK") for line in infos(packets))
                                   and sum("[FIN, ACK]" in line for line in infos(packets)) >= 2,
                                   "the HTTP response and the close")
            packets = run.stop()
            spool = run.live.output_path
            lines = infos(packets)
            assert any("Echo (ping) request" in line for line in lines)
            assert any("Echo (ping) reply" in line for line in lines)
            assert any(line.startswith("GET / HTTP/1.1") for line in lines)
            sources = {packet.summary.source for packet in packets}
            assert {veth_pair.outside_address, veth_pair.inside_address} <= sources
            assert all(packet.fields("frame.interface_name") == [veth_pair.outside] for packet in packets)
            if TSHARK:
                tshark = subprocess.run([TSHARK, "-n", "-r", spool], capture_output=True, text=True, check=True)
                assert len(tshark.stdout.splitlines()) == len(packets)
    finally:
        server.terminate()
        server.wait()


@needs_tshark
def test_several_interfaces_at_once(veth_pair: VethPair, tmp_path: Path) -> None:
    output = tmp_path / "both.pcapng"
    settings = LiveCaptureSettings([veth_pair.outside, "lo"], "icmp", output_path=str(output))
    with running_capture(settings) as run:
        ping(veth_pair.inside_address, count=1)
        ping("127.0.0.1", count=1)
        run.wait_for(lambda packets: sum("Echo (ping) reply" in line for line in infos(packets)) >= 2,
                     "a ping reply on each interface")
        run.stop()
    names = subprocess.run([TSHARK, "-r", str(output), "-T", "fields", "-e", "frame.interface_name"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert set(names) == {veth_pair.outside, "lo"}


def test_interface_removed_mid_capture_stops_with_a_message_and_keeps_the_packets(veth_pair: VethPair) -> None:
    with running_capture(LiveCaptureSettings([veth_pair.outside], "icmp")) as run:
        ping(veth_pair.inside_address, count=1)
        run.wait_for(lambda packets: any("Echo (ping) reply" in line for line in infos(packets)), "the ping reply")
        ip("link", "del", veth_pair.outside)
        assert run.live.finished.wait(WAIT_SECONDS)
        statistics = run.live.statistics()
        message = f"capture on {veth_pair.outside} stopped: the interface was removed"
        assert statistics.problems == (message,) and statistics.stop_reason == message
        assert Path(run.live.output_path).exists()
        with open_capture(run.live.output_path) as spool:
            assert len(spool) >= 2 and spool.error is None


def test_interface_going_down_is_reported_by_the_cli(veth_pair: VethPair) -> None:
    process = subprocess.Popen([sys.executable, "-m", "tui_sniffer.cli", "-i", veth_pair.outside, "-f", "icmp"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parent.parent)
    try:
        assert process.stderr.readline().startswith(f"Capturing on '{veth_pair.outside}'")
        ping(veth_pair.inside_address, count=1)
        ip("link", "set", veth_pair.outside, "down")
        stdout, stderr = process.communicate(timeout=WAIT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 2
    assert f"tui-sniffer: capture on {veth_pair.outside} stopped: the interface went down" in stderr
    assert "Echo (ping) request" in stdout and "packets captured" in stderr


async def test_the_tui_says_when_its_interface_is_removed(veth_pair: VethPair) -> None:
    from tui_sniffer.ui.app import SnifferApp

    app = SnifferApp(None, live_settings=LiveCaptureSettings([veth_pair.outside], "icmp"))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.live is not None, "the capture to start")
        ping(veth_pair.inside_address, count=1)
        await until(pilot, lambda: len(app.displayed_packet_numbers) >= 2, "the ping in the list")
        ip("link", "del", veth_pair.outside)
        message = f"capture on {veth_pair.outside} stopped: the interface was removed"
        await until(pilot, lambda: any(n.message == message for n in app._notifications), "the notification")
        assert not app.live_running and app.live_unsaved and len(app.displayed_packet_numbers) >= 2
