"""HTTP, TLS, DNS/mDNS/LLMNR, DHCP and IP fragments with reassembly on, against tshark -2 with its default
preferences, on every fixture.

Each field's agreement over all fixtures is printed (frames where either side has the field); the
test fails below 95% for any field. Display filters on these fields must select the same frames.
"""
from __future__ import annotations

import subprocess

import pytest

import tui_sniffer
from tests.conftest import FIXTURE_CAPTURES, TSHARK, needs_tshark
from tui_sniffer.export.terminal_text import tshark_field_text
from tui_sniffer.filter import compile_filter

PCAPS = [path for path in FIXTURE_CAPTURES if path.suffix == ".pcap"]
FIELDS = [
    "_ws.col.Protocol", "_ws.col.Info", "frame.protocols",
    "tcp.reassembled_in", "tcp.segment", "tcp.segment.count", "tcp.reassembled.length", "tcp.pdu.size",
    "tcp.segment_data", "tcp.segment.overlap",
    "http.request.method", "http.request.uri", "http.request.full_uri", "http.response.code", "http.host",
    "http.user_agent", "http.cookie", "http.content_type", "http.content_length", "http.location",
    "http.server", "http.accept", "http.accept_encoding", "http.accept_language", "http.connection",
    "http.date", "http.last_modified", "http.transfer_encoding", "http.content_encoding",
    "http.request_number", "http.response_number", "http.request_in", "http.response_in", "http.time",
    "http.prev_request_in", "http.next_request_in", "http.prev_response_in", "http.next_response_in",
    "http.response_for.uri", "http.file_data", "http.chunk_size",
    "tls.record.content_type", "tls.record.version", "tls.record.length", "tls.handshake.type",
    "tls.handshake.extensions_server_name", "tls.handshake.ciphersuite", "tls.handshake.version",
    "tls.handshake.extensions.supported_version", "tls.alert_message.desc",
    "dns.id", "dns.flags.response", "dns.qry.name", "dns.qry.type", "dns.a", "dns.aaaa", "dns.cname",
    "dns.mx.mail_exchange", "dns.ns", "dns.ptr.domain_name", "dns.srv.target", "dns.txt",
    "dns.response_in", "dns.response_to", "dns.time", "dns.unsolicited", "dns.retransmit_request_in",
    "x509sat.uTF8String", "x509sat.printableString", "x509af.serialNumber", "x509af.utcTime", "x509ce.dNSName",
    "x509af.algorithm.id", "tls.handshake.ja3", "tls.handshake.ja3s", "tls.handshake.server_point",
    "dhcp.type", "dhcp.id", "dhcp.option.type", "dhcp.option.dhcp", "dhcp.option.value", "dhcp.hw.mac_addr",
    "dhcp.option.request_list_item", "dhcp.option.ip_address_lease_time", "dhcp.option.router",
    "ip.reassembled_in", "ip.fragment", "ip.fragment.count", "ip.reassembled.length", "ipv6.reassembled.in",
    "ipv6.fragment", "ipv6.fraghdr.offset", "ipv6.fraghdr.more", "icmp.resp_in", "icmpv6.resp_to",
    "udp.time_delta", "udp.stream", "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code",
]
FILTERS = {
    "http.response.code == 304": None, "tls.handshake.type == 1": None, "dns.flags.response == 1": None,
    "http.request": ["http_get_post", "http_keepalive", "lossy_transfer"], "http.content_length > 300": ["http_large"],
    "tcp.reassembled_in": ["http_large", "http_chunked_gzip", "tls12_chain", "lossy_transfer", "tcp_reorder"],
    "tcp.segment.overlap": ["lossy_transfer"],
    "tls.handshake.extensions_server_name": ["tls13", "demo"], "mdns": ["mdns_llmnr"], "llmnr": ["mdns_llmnr"],
    "dhcp.option.dhcp == 5": ["dhcp"], "ip.reassembled_in": ["ip_fragments"], "ipv6.fragment": ["ip_fragments"],
    "x509sat.uTF8String": ["tls12_chain", "tls12"], "tls.resumed": ["tls12_resume", "tls12_chain"],
}
"""Filters and the fixtures they are checked on (None: every fixture)."""


def _tshark_rows(path) -> list[list[str]]:
    """tshark -2's values of every compared field, frame by frame."""
    command = [TSHARK, "-n", "-2", "-r", str(path), "-T", "fields", *[part for name in FIELDS for part in ("-e", name)],
               "-E", "occurrence=a", "-E", "aggregator=,"]
    output = subprocess.run(command, capture_output=True, check=True).stdout.decode("utf-8", "replace")
    return [line.split("\t") for line in output.rstrip("\n").split("\n")]


@needs_tshark
def test_every_field_agrees_with_tshark_on_every_fixture(capsys):
    tally: dict[str, list[int]] = {name: [0, 0] for name in FIELDS}
    differences: dict[str, list[str]] = {}
    for path in PCAPS:
        expected = _tshark_rows(path)
        packets = list(tui_sniffer.open_capture(str(path)))
        assert len(packets) == len(expected), path.name
        for packet, row in zip(packets, expected):
            for name, theirs in zip(FIELDS, row):
                ours = tshark_field_text(",".join(packet.fields(name)))
                if not ours and not theirs:
                    continue
                tally[name][1] += 1
                if ours == theirs:
                    tally[name][0] += 1
                else:
                    differences.setdefault(name, []).append(f"{path.name}#{packet.number}: {ours[:80]!r} != {theirs[:80]!r}")
    percents = {name: 100.0 * matched / total for name, (matched, total) in tally.items() if total}
    with capsys.disabled():
        print("\nagreement with tshark -2 (frames where either side has the field):")
        for name, (matched, total) in tally.items():
            if total:
                print(f"  {name:45} {matched:4}/{total:<4} {percents[name]:6.1f}%")
    low = {name: differences.get(name, [])[:3] for name, percent in percents.items() if percent < 95.0}
    assert not low, low
    assert len(percents) > 40, "too few fields were seen on the fixtures to call this parity"


@needs_tshark
@pytest.mark.parametrize("text", FILTERS)
def test_filters_select_the_frames_tshark_selects(text):
    compiled = compile_filter(text)
    names = FILTERS[text]
    paths = [path for path in PCAPS if names is None or path.stem in names]
    for path in paths:
        ours = [packet.number for packet in tui_sniffer.open_capture(str(path)) if compiled.matches(packet)]
        output = subprocess.run([TSHARK, "-n", "-2", "-r", str(path), "-Y", text, "-T", "fields", "-e", "frame.number"],
                                capture_output=True, text=True, check=True).stdout
        assert ours == [int(number) for number in output.split()], f"{path.name}: {text}"
