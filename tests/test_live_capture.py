"""Real captures on `lo` while the test makes real traffic: TCP echo, HTTP (http.server and curl), UDP,
DNS (dnsmasq and dig) and ping arrive, a capture filter keeps only what it selects (in the kernel),
and what the spool holds reads back the same in tshark."""
from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import needs_tshark
from tests.live_traffic import (
    dns_query,
    dns_server,
    echo_server,
    http_get,
    http_server,
    infos,
    needs_root,
    ping,
    running_capture,
    udp_exchange,
)
from tui_sniffer import open_capture
from tui_sniffer.capture.bpf import CaptureFilterError
from tui_sniffer.capture.live import LiveCapture, LiveCaptureError
from tui_sniffer.capture.live_settings import LiveCaptureSettings
from tui_sniffer.dissect.tree import DissectedPacket

pytestmark = needs_root


def on_port(port: int):
    """A condition: the packet is TCP or UDP to or from `port`."""
    def test(packet: DissectedPacket) -> bool:
        ports = set(packet.fields("tcp.port")) | set(packet.fields("udp.port"))
        return str(port) in ports
    return test


def tcp_flag_sets(packets: list[DissectedPacket]) -> list[str]:
    """Each TCP packet's flags as Wireshark's Info shows them, e.g. `[SYN, ACK]`."""
    return [info[info.index("["):info.index("]") + 1] for info in infos(packets) if "[" in info]


def test_tcp_echo_with_capture_filter_keeps_only_that_port() -> None:
    with echo_server() as server, running_capture(
            LiveCaptureSettings(["lo"], f"tcp port {server.port}")) as run:
        assert server.exchange(b"hello", b"world") == [b"hello", b"world"]
        udp_exchange(b"not for this filter")
        ping(count=1)
        packets = run.wait_for(lambda packets: tcp_flag_sets(packets).count("[FIN, ACK]") == 2,
                               "both FINs of the echo connection")
        packets = run.stop()
    assert packets and all(on_port(server.port)(packet) for packet in packets)
    flags = tcp_flag_sets(packets)
    assert flags[:3] == ["[SYN]", "[SYN, ACK]", "[ACK]"]
    payloads = [packet.fields("tcp.payload") for packet in packets if packet.fields("tcp.len") != ["0"]]
    assert [b"hello".hex()] * 2 + [b"world".hex()] * 2 == [p[0].replace(":", "") for p in payloads]
    assert run.live.statistics().kernel_dropped == 0
    assert run.live.interfaces[0].filter == f"tcp port {server.port}"


def test_without_a_filter_every_kind_of_traffic_arrives(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hello from http.server\n")
    with http_server(tmp_path) as http_port, echo_server() as server, \
            running_capture(LiveCaptureSettings(["lo"])) as run:
        assert http_get(http_port, "/hello.txt") == b"hello from http.server\n"
        server.exchange(b"echo me")
        udp_port = udp_exchange(b"a datagram")
        ping(count=1)
        run.wait_for(lambda packets: any("Echo (ping) reply" in info for info in infos(packets))
                     and any(on_port(udp_port)(packet) for packet in packets)
                     and any(info.startswith("HTTP/1.0 200 OK") for info in infos(packets)),
                     "the HTTP response, the datagram and the ping reply")
        packets = run.stop()
    lines = infos(packets)
    assert any(line.startswith("GET /hello.txt HTTP/1.1") for line in lines)
    assert any("Echo (ping) request" in line for line in lines)
    assert any(on_port(server.port)(packet) for packet in packets)
    protocols = {packet.summary.protocol for packet in packets}
    assert {"TCP", "HTTP", "UDP", "ICMP"} <= protocols


def test_dns_query_and_response_arrive() -> None:
    with dns_server({"live.test": "10.20.30.40"}) as address, running_capture(
            LiveCaptureSettings(["lo"], f"udp port 53 and host {address}")) as run:
        assert dns_query(address, "live.test") == "10.20.30.40"
        packets = run.wait_for(lambda packets: any("response" in info and "10.20.30.40" in info
                                                   for info in infos(packets)), "the DNS response")
        packets = run.stop()
    assert all(packet.summary.protocol == "DNS" for packet in packets)
    assert any(info.startswith("Standard query 0x") and "A live.test" in info for info in infos(packets))


@needs_tshark
def test_spool_reads_back_the_same_in_tshark(tmp_path: Path) -> None:
    output = tmp_path / "out.pcapng"
    with echo_server() as server, running_capture(
            LiveCaptureSettings(["lo"], f"tcp port {server.port}", output_path=str(output))) as run:
        server.exchange(b"x" * 3000, b"y")
        run.wait_for(lambda packets: tcp_flag_sets(packets).count("[FIN, ACK]") == 2, "the connection's end")
        packets = run.stop()
    tshark = subprocess.run(["tshark", "-n", "-r", str(output), "-T", "fields", "-e", "frame.len",
                             "-e", "tcp.flags", "-e", "frame.interface_name"],
                            check=True, capture_output=True, text=True).stdout.splitlines()
    assert len(tshark) == len(packets)
    assert [line.split("\t")[0] for line in tshark] == [str(packet.summary.length) for packet in packets]
    assert {line.split("\t")[2] for line in tshark} == {"lo"}


def test_bad_capture_filter_is_refused_before_capturing() -> None:
    with pytest.raises(CaptureFilterError, match="can't parse filter expression: syntax error"):
        LiveCapture(LiveCaptureSettings(["lo"], "tcp prot 80"))


@pytest.mark.parametrize("name, message", [
    ("no-such-interface0", "there is no interface 'no-such-interface0'"),
    ("999", "there is no interface '999'"),
])
def test_unknown_interface_is_refused(name: str, message: str) -> None:
    with pytest.raises(LiveCaptureError, match=message):
        LiveCapture(LiveCaptureSettings([name]))


def test_interface_by_its_listing_number() -> None:
    from tui_sniffer.capture.interfaces import list_interfaces

    number = [interface.name for interface in list_interfaces()].index("lo") + 1
    live = LiveCapture(LiveCaptureSettings([str(number)]))
    try:
        assert live.interface_names == ["lo"]
    finally:
        live.close()
        live.discard()


def test_a_full_disk_stops_the_capture_and_counts_its_own_drops(tmp_path: Path) -> None:
    """A 64 KiB tmpfs fills up: the capture stops, says why, and counts what it could not store."""
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        output = small / "out.pcapng"
        receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        receiver.bind(("127.0.0.1", 0))
        port = receiver.getsockname()[1]
        with running_capture(LiveCaptureSettings(["lo"], f"udp port {port}", output_path=str(output))) as run, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            while not run.live.finished.wait(0.002):
                sender.sendto(b"z" * 1400, ("127.0.0.1", port))
            statistics = run.live.statistics()
        receiver.close()
        assert statistics.stop_reason == f"cannot write {output}: No space left on device"
        assert statistics.own_dropped > 0 and statistics.captured > 0
        with open_capture(str(output)) as written:
            written.index_all()
            assert written.indexed_count >= statistics.captured
    finally:
        subprocess.run(["umount", str(small)], check=True)
