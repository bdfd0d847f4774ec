"""The fast path (index columns first, dissection only where undecided) gives exactly what dissecting
every frame gives: on every fixture, with and without TCP reassembly, and on crafted odd packets
(fragments, tunnels, ICMP errors quoting packets, stacked VLANs, bogus and cut-short headers)."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest
from scapy.all import (ARP, DNS, DNSQR, ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6DestUnreach, ICMPv6EchoRequest,
                       IPv6, IPv6ExtHdrHopByHop, Raw, raw, wrpcap)

import tui_sniffer
from tests.conftest import FIXTURE_CAPTURES
from tests.test_filter_parity import PARITY_FILTERS
from tui_sniffer.filter import compile_filter
from tui_sniffer.filter.light import FieldCache, LightDissector, is_light_field
from tui_sniffer.store.filter_columns import IndexColumns

HTTP_FILTERS = [
    'http', '!http', 'tcp && !http', 'http.request', 'http.response', 'http.request.method == "GET"',
    'http.request.method == "POST"', 'http.request.method > "G"', 'http.request.method in {"GET", "HEAD"}',
    'http.request.method ~ "get"', 'http.request.uri == "/"', 'http.request.uri contains "a"',
    'http.request.version == "HTTP/1.1"', 'http.request.uri.path', 'http.response.code == 200',
    'http.response.code != 200', 'http.response.code in {200..299}', 'http.response.phrase == "OK"',
    'http.response.code.desc contains "Found"', 'http.response.version == "HTTP/1.0"', 'count(http) == 2',
    'count(http.request) == 2', 'http.request.method == "GET" && tcp.len > 100', 'http.host',
    'http.content_length > 0', 'http.file_data', 'http.response_in', 'http.request_in', 'http.request.full_uri',
]
"""HTTP as filter/http_rows.py decides it from where messages are shown, and what it leaves to dissection."""

ODD_PACKET_FILTERS = PARITY_FILTERS + HTTP_FILTERS + [
    "vlan", "eth.type == 0x8100", "eth.type", "eth.src", "ip.src == 10.0.0.1", "ip.proto == 4", "ipv6.nxt == 17",
    "count(ip.src) == 2", "count(udp) == 2", "ip.hdr_len > 20", "tcp.hdr_len < 20", "udp.length == 4",
    "frame.len < 60", "arp.opcode == 1", "tcp.stream", "udp.stream >= 0", "icmp.code == 3", "dns.qry.name",
    "http.request.version == \"HTTP/1.1\"", "ip.dst == 10.0.0.0/8 and udp.srcport == 53", "ipv6.hlim == 64",
]


_HTTP_GET = b"GET /index.html HTTP/1.1\r\nHost: example.test\r\n\r\n"
_HTTP_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
_CLIENT, _SERVER = "10.0.0.1", "10.0.0.2"


def _with_bytes_set(frame: bytes, position: int, value: bytes) -> bytes:
    """A frame with `value` written over its bytes at `position` (to make a header bogus)."""
    return frame[:position] + value + frame[position + len(value):]


def _odd_ethernet_frames() -> dict[str, bytes]:
    """Ethernet frames, by what is odd about them, where the index's summary alone could misjudge
    what dissection shows."""
    ether = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    dns_query = UDP(sport=40000, dport=53) / DNS(rd=1, qd=DNSQR(qname="www.example.test"))
    dns_packet = raw(IP(src=_CLIENT, dst=_SERVER, id=7) / dns_query)
    header, body = dns_packet[:20], dns_packet[20:]
    fragments = [header[:2] + struct.pack(">H", 20 + len(piece)) + header[4:6] + struct.pack(">H", flags) +
                 header[8:] + piece for piece, flags in ((body[:16], 0x2000), (body[16:], 2))]
    ip = IP(src=_CLIENT, dst=_SERVER)
    plain_tcp = raw(ether / ip / TCP(sport=40010, dport=80))
    return {
        "first fragment": raw(Ether(type=0x0800) / Raw(fragments[0])),
        "later fragment": raw(Ether(type=0x0800) / Raw(fragments[1])),
        "VLAN": raw(ether / Dot1Q(vlan=5) / ip / TCP(sport=40001, dport=80, flags="S")),
        "QinQ": raw(ether / Dot1Q(vlan=5) / Dot1Q(vlan=6) / ip / UDP(sport=1, dport=2)),
        "ICMP error": raw(ether / IP(src=_SERVER, dst=_CLIENT) / ICMP(type=3, code=3) / ip / dns_query),
        "IP in IP": raw(ether / ip / IP(src="192.168.1.1", dst="192.168.1.2") /
                        TCP(sport=40002, dport=80, flags="PA") / _HTTP_GET),
        "IPv6 in IP": raw(ether / ip / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=5353, dport=5353)),
        "IPv6 hop-by-hop": raw(ether / IPv6(src="2001:db8::1", dst="ff02::1") / IPv6ExtHdrHopByHop() /
                               UDP(sport=3, dport=4) / b"x"),
        "ICMPv6 echo": raw(ether / IPv6(src="2001:db8::1", dst="2001:db8::2") / ICMPv6EchoRequest(id=1, seq=1)),
        "ICMPv6 error": raw(ether / IPv6(src="2001:db8::2", dst="2001:db8::1") / ICMPv6DestUnreach() /
                            IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=5, dport=53)),
        "HTTP request": raw(ether / ip / TCP(sport=40003, dport=80, flags="PA") / _HTTP_GET),
        "HTTP response": raw(ether / IP(src=_SERVER, dst=_CLIENT) / TCP(sport=80, dport=40003, flags="PA") /
                             _HTTP_OK),
        "two requests in a segment": raw(ether / ip / TCP(sport=40004, dport=8000, flags="PA") / (_HTTP_GET * 2)),
        "not quite a request": raw(ether / ip / TCP(sport=40005, dport=8000, flags="PA") / b"GETX / HTTP/1.1\r\n"),
        "HTTP on the DNS port": raw(ether / ip / TCP(sport=40006, dport=53, flags="PA") / _HTTP_GET),
        "TLS record": raw(ether / ip / TCP(sport=40007, dport=443, flags="PA") /
                          bytes.fromhex("16030100050100000100")),
        "DNS cut short": raw(ether / ip / UDP(sport=40008, dport=53) / b"\x00\x01"),
        "ARP": raw(ether / ARP(psrc=_CLIENT, pdst=_SERVER)),
        "ARP cut short": raw(ether / ARP(psrc=_CLIENT, pdst=_SERVER))[:20],
        "UDP": raw(ether / ip / UDP(sport=6, dport=7) / b"hi"),
        "802.3 length": raw(Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff", type=40) / (b"\xaa" * 40)),
        "802.1ad": raw(Ether(type=0x88A8) / Dot1Q(vlan=7) / ip / UDP(sport=8, dport=9)),
        "TCP offset 3": _with_bytes_set(raw(ether / ip / TCP(sport=40009, dport=80) / b"data"), 14 + 32, b"\x35"),
        "UDP length 4": _with_bytes_set(raw(ether / ip / UDP(sport=10, dport=53) / b"abcd"), 14 + 24, b"\x00\x04"),
        "IPv4 header length 16": _with_bytes_set(plain_tcp, 14, b"\x44"),
        "IP version 5": _with_bytes_set(plain_tcp, 14, b"\x55"),
        "IPv4 total length 12": _with_bytes_set(plain_tcp, 16, b"\x00\x0c"),
        "IPv4 longer than captured": raw(ether / ip / TCP(sport=40013, dport=80, flags="PA") / _HTTP_GET)[:40],
    }


@pytest.fixture(scope="module")
def odd_captures(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("odd")
    ethernet, raw_ip, unknown = folder / "odd_ethernet.pcap", folder / "odd_raw.pcap", folder / "odd_user0.pcap"
    wrpcap(str(ethernet), [Raw(frame) for frame in _odd_ethernet_frames().values()], linktype=1)
    raw_frames = [raw(IP(src=_CLIENT, dst=_SERVER) / UDP(sport=1, dport=53) / (b"\x00" * 12)),
                  raw(IPv6(src="::1", dst="::1") / TCP(sport=1, dport=2)), b"\x55" * 30]
    wrpcap(str(raw_ip), [Raw(frame) for frame in raw_frames], linktype=101)
    wrpcap(str(unknown), [Raw(raw(IP(src=_CLIENT, dst=_SERVER) / UDP(sport=1, dport=2)))], linktype=147)
    return [ethernet, raw_ip, unknown]


def _assert_fast_equals_dissection(path: Path, texts: list[str], reassemble: bool) -> None:
    with tui_sniffer.open_capture(str(path), reassemble=reassemble) as capture:
        packets = [capture.dissect(number) for number in capture.frame_numbers()]
        for text in texts:
            compiled = compile_filter(text)
            expected = [packet.number for packet in packets if compiled.matches(packet)]
            assert capture.filter(text) == expected, (path.name, text, reassemble)


@pytest.mark.parametrize("reassemble", [True, False], ids=["reassembled", "per-segment"])
@pytest.mark.parametrize("path", [path for path in FIXTURE_CAPTURES if path.suffix == ".pcapng"],
                         ids=lambda path: path.stem)
def test_every_fixture_filters_as_dissection_does(path, reassemble):
    _assert_fast_equals_dissection(path, PARITY_FILTERS + HTTP_FILTERS, reassemble)


TCP_ANALYSIS_FILTERS = ["tcp.analysis", "tcp.analysis.flags", "tcp.analysis.retransmission",
                        "tcp.analysis.duplicate_ack", "tcp.analysis.zero_window", "tcp.analysis.out_of_order",
                        "tcp.analysis.ack_rtt > 0.0001", "tcp.analysis.bytes_in_flight > 1000",
                        "!tcp.analysis.flags && tcp.len > 0", "tcp.analysis.keep_alive || tcp.analysis.window_update"]


@pytest.mark.parametrize("path", [path for path in FIXTURE_CAPTURES if path.suffix == ".pcapng"],
                         ids=lambda path: path.stem)
def test_tcp_analysis_columns_filter_as_dissection_does(path):
    _assert_fast_equals_dissection(path, TCP_ANALYSIS_FILTERS, True)


@pytest.mark.parametrize("reassemble", [True, False], ids=["reassembled", "per-segment"])
def test_odd_packets_filter_as_dissection_does(odd_captures, reassemble):
    for path in odd_captures:
        _assert_fast_equals_dissection(path, ODD_PACKET_FILTERS, reassemble)


def test_odd_packets_are_left_to_dissection_where_the_columns_cannot_tell(odd_captures):
    labels = list(_odd_ethernet_frames())
    with tui_sniffer.open_capture(str(odd_captures[0]), reassemble=False) as capture:
        capture.index_all()
        tcp_counts = IndexColumns(capture.index, own_tcp_payloads=True).occurrences("tcp")
    undecided = {label for label, count in zip(labels, tcp_counts) if count < 0}
    assert undecided == {"first fragment", "later fragment", "QinQ", "ICMP error", "IP in IP", "IPv6 in IP",
                         "IPv6 hop-by-hop", "ICMPv6 error", "TCP offset 3", "UDP length 4", "IPv4 header length 16",
                         "IP version 5", "IPv4 total length 12", "IPv4 longer than captured", "802.1ad"}


def test_column_decisions_need_no_dissection_on_plain_traffic():
    dissected = []
    with tui_sniffer.open_capture(str(FIXTURE_CAPTURES[0].parent / "tcp_chat_5050.pcapng")) as capture:
        capture.dissect = lambda number, previous=None: dissected.append(number)  # type: ignore[method-assign]
        capture.filter("tcp.port == 5050 and tcp.len > 0 or ip.src == 10.0.0.0/8 and tcp.flags.syn == 1")
    assert dissected == []


@pytest.mark.parametrize("reassemble", [True, False], ids=["reassembled", "per-segment"])
def test_payload_only_reading_gives_the_dissectors_values(odd_captures, reassemble):
    """Wherever the light reader answers, every light field it shows equals full dissection's."""
    compared = 0
    for path in [*(path for path in FIXTURE_CAPTURES if path.suffix == ".pcapng"), odd_captures[0]]:
        with tui_sniffer.open_capture(str(path), reassemble=reassemble) as capture:
            capture.index_all()
            light = LightDissector(capture.index, capture._read_row, capture._record_info, FieldCache(),
                                   reassembled=reassemble)
            for row in range(capture.index.count):
                packet, questions = light.packet(row), light.dns_questions(row)
                full = capture.dissect(row + 1)
                if questions is not None:
                    assert list(questions) == [full.values("dns.qry.name"), full.values("dns.qry.type")], path.name
                if packet is None:
                    continue
                names = {node.definition.name for node in [*packet.walk(), *full.walk()]
                         if node.definition is not None and is_light_field(node.definition.name)}
                for name in names:
                    assert packet.values(name) == full.values(name), (path.name, row + 1, name)
                    compared += 1
    assert compared > 500


def test_values_seen_by_dissection_are_remembered_for_the_next_filter():
    with tui_sniffer.open_capture(str(FIXTURE_CAPTURES[0].parent / "tcp_chat_5050.pcapng")) as capture:
        capture.index_all()
        dissect, dissected = capture.dissect, []
        capture.dissect = lambda number, previous=None: dissected.append(number) or dissect(number)  # type: ignore
        first = capture.filter("tcp.window_size > 1000")
        count_after_first = len(dissected)
        second = capture.filter("tcp.window_size < 70000 and tcp.port == 5050")
    assert first and second and count_after_first > 0
    assert len(dissected) == count_after_first
