"""Capture filters compile exactly as tcpdump compiles them (same libpcap), bad ones and a missing
libpcap say what is wrong; interfaces are listed as the system sees them."""
from __future__ import annotations

import ctypes.util
import json
import shutil
import subprocess

import pytest

from tui_sniffer.capture import bpf
from tui_sniffer.capture.bpf import CaptureFilterError, capture_filter_problem, compile_capture_filter
from tui_sniffer.capture.interfaces import (
    NetworkInterface,
    list_interfaces,
    packet_counters,
    resolve_interface,
)

needs_tcpdump = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed")


@needs_tcpdump
@pytest.mark.parametrize("expression, link_type, tcpdump_type", [
    ("tcp port 80", 1, "EN10MB"),
    ("host 10.0.0.5 and (udp port 53 or icmp)", 1, "EN10MB"),
    ("ip6 or tcp[tcpflags] & tcp-syn != 0", 1, "EN10MB"),
    ("ether src 00:11:22:33:44:55 and not arp", 1, "EN10MB"),
    ("udp", 101, "RAW"),
    ("tcp dst port 443", 113, "LINUX_SLL"),
])
def test_programs_match_tcpdump(expression: str, link_type: int, tcpdump_type: str) -> None:
    result = subprocess.run(["tcpdump", "-dd", "-y", tcpdump_type, expression], capture_output=True, text=True)
    if result.returncode:
        pytest.skip(f"tcpdump cannot compile for {tcpdump_type} here: {result.stderr.strip()}")
    assert compile_capture_filter(expression, link_type).disassembly() == result.stdout.split("\n")[:-1]


@pytest.mark.parametrize("expression, reason", [
    ("tcp prot 80", "can't parse filter expression: syntax error"),
    ("port 99999", "illegal port number 99999 > 65535"),
    ("host not-a-host.invalid", "unknown host 'not-a-host.invalid'"),
    ("ip broadcast", "netmask not known, so 'ip broadcast' not supported"),
])
def test_bad_filters_say_why(expression: str, reason: str) -> None:
    with pytest.raises(CaptureFilterError) as raised:
        compile_capture_filter(expression)
    assert str(raised.value) == f"invalid capture filter {expression!r}: {reason}"
    assert capture_filter_problem(expression) == str(raised.value)


def test_empty_filter_is_no_problem() -> None:
    assert capture_filter_problem("") is None and capture_filter_problem("  ") is None
    assert capture_filter_problem("tcp", (1, 101)) is None


def test_missing_libpcap_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    monkeypatch.setattr(bpf, "_LIBPCAP_NAMES", ("libpcap-that-is-not-there.so",))
    bpf._libpcap.cache_clear()
    bpf.compile_capture_filter.cache_clear()
    try:
        with pytest.raises(CaptureFilterError, match="capture filters need libpcap, which is not installed: "
                                                     r"install libpcap \(Debian/Ubuntu: apt-get install libpcap0.8"):
            compile_capture_filter("tcp")
        assert "libpcap0.8" in capture_filter_problem("tcp")
    finally:
        bpf._libpcap.cache_clear()


def test_interfaces_are_the_systems() -> None:
    interfaces = list_interfaces()
    lo = next(interface for interface in interfaces if interface.name == "lo")
    assert lo.is_loopback and lo.is_up and lo.description == "Loopback" and lo.link_type == 1
    assert "127.0.0.1" in lo.addresses
    assert lo.listing_line(3).startswith("3. lo (Loopback) [up, loopback] 127.0.0.1")
    assert "lo" in packet_counters()
    number = [interface.name for interface in interfaces].index("lo") + 1
    assert resolve_interface(str(number)).name == "lo" and resolve_interface("lo").index == lo.index
    assert resolve_interface("no-such-interface0") is None
    if shutil.which("ip"):
        shown = json.loads(subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True, check=True).stdout)
        for entry in shown:
            ours = next(interface for interface in interfaces if interface.name == entry["ifname"])
            assert ours.index == entry["ifindex"]
            assert sorted(ours.addresses) == sorted(address["local"] for address in entry.get("addr_info", []))
            assert ours.is_up == ("UP" in entry["flags"])


@pytest.mark.parametrize("interface, line", [
    (NetworkInterface("eth0", 2, "e1000e", ["10.0.0.2"], True, True), "1. eth0 (e1000e) [up] 10.0.0.2"),
    (NetworkInterface("wlan0", 3, "iwlwifi", [], True, False), "1. wlan0 (iwlwifi) [up, no carrier]"),
    (NetworkInterface("tun0", 4, "", [], False, False, hardware_type=65534), "1. tun0 [down]"),
])
def test_listing_lines(interface: NetworkInterface, line: str) -> None:
    assert interface.listing_line(1) == line
