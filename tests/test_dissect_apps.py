"""Parity of the ARP, ICMP, ICMPv6, DNS, HTTP and TLS dissectors with tshark, on the fixtures and on crafted frames."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest
from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRRSOA
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (ICMPv6DestUnreach, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_RS,
                                ICMPv6NDOptDstLLAddr, ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo,
                                ICMPv6NDOptSrcLLAddr, IPv6)
from scapy.layers.l2 import ARP, Ether
from scapy.utils import wrpcap

import tui_sniffer
from app_parity import FIXTURES, TSHARK, compare_with_tshark

ICMP_FIELDS = ["icmp.type", "icmp.code", "icmp.checksum", "icmp.checksum.status", "icmp.ident", "icmp.seq",
               "icmp.seq_le", "icmp.data_time", "icmp.resp_to", "icmpv6.type", "icmpv6.code", "icmpv6.checksum",
               "icmpv6.checksum.status", "icmpv6.echo.identifier", "icmpv6.echo.sequence_number",
               "icmpv6.resp_to", "icmpv6.nd.ns.target_address", "icmpv6.nd.na.flag", "icmpv6.opt.type",
               "icmpv6.opt.mtu", "icmpv6.opt.prefix", "icmpv6.nd.ra.flag", "data.len"]
ARP_FIELDS = ["arp.hw.type", "arp.proto.type", "arp.hw.size", "arp.proto.size", "arp.opcode", "arp.src.hw_mac",
              "arp.src.proto_ipv4", "arp.dst.hw_mac", "arp.dst.proto_ipv4", "arp.isgratuitous", "arp.isprobe",
              "arp.isannouncement"]
DNS_FIELDS = ["dns.length", "dns.id", "dns.flags", "dns.flags.response", "dns.flags.opcode", "dns.flags.rcode",
              "dns.flags.recdesired", "dns.flags.authenticated", "dns.count.queries", "dns.count.answers",
              "dns.count.auth_rr", "dns.count.add_rr", "dns.qry.name", "dns.qry.name.len", "dns.count.labels",
              "dns.qry.type", "dns.qry.class", "dns.resp.name", "dns.resp.type", "dns.resp.class", "dns.resp.ttl",
              "dns.resp.len", "dns.a", "dns.aaaa", "dns.cname", "dns.mx.preference", "dns.mx.mail_exchange",
              "dns.ns", "dns.ptr.domain_name", "dns.soa.mname", "dns.soa.rname", "dns.soa.serial_number",
              "dns.soa.minimum_ttl", "dns.srv.service", "dns.srv.port", "dns.srv.target", "dns.txt",
              "dns.txt.length", "dns.rr.udp_payload_size", "dns.opt.code", "dns.response_to"]
HTTP_FIELDS = ["http.request.method", "http.request.uri", "http.request.version", "http.response.version",
               "http.response.code", "http.response.code.desc", "http.response.phrase", "http.host",
               "http.user_agent", "http.accept", "http.accept_language", "http.content_type",
               "http.content_length", "http.content_length_header", "http.server", "http.date",
               "http.last_modified", "http.request.full_uri", "http.connection", "http.transfer_encoding",
               "http.content_encoding", "http.location", "urlencoded-form.key", "urlencoded-form.value"]
TLS_FIELDS = ["tls.record.content_type", "tls.record.opaque_type", "tls.record.version", "tls.record.length",
              "tls.handshake.type", "tls.handshake.length", "tls.handshake.version", "tls.handshake.random",
              "tls.handshake.session_id", "tls.handshake.cipher_suites_length", "tls.handshake.ciphersuite",
              "tls.handshake.comp_method", "tls.handshake.extension.type", "tls.handshake.extension.len",
              "tls.handshake.extensions_server_name", "tls.handshake.extensions.supported_version",
              "tls.handshake.extensions_supported_group", "tls.handshake.extensions_key_share_group",
              "tls.handshake.extensions_ec_point_format", "tls.handshake.extensions_alpn_str",
              "tls.handshake.certificate_length", "tls.alert_message.desc"]
TLS_COLUMNS = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "TLS", "SSLv3"}

PARITY_CASES = [
    ("ping.pcap", {"ICMP", "ICMPv6"}, ICMP_FIELDS, 100.0),
    ("demo.pcap", {"ARP"}, ARP_FIELDS, 100.0),
    ("dns_udp.pcap", {"DNS"}, DNS_FIELDS, 100.0),
    ("dns_tcp.pcap", {"DNS"}, DNS_FIELDS, 100.0),
    ("demo.pcap", {"DNS"}, DNS_FIELDS, 100.0),
    ("http_get_post.pcap", {"HTTP"}, HTTP_FIELDS + ["data.len"], 100.0),
    ("http_keepalive.pcap", {"HTTP"}, HTTP_FIELDS + ["data.len"], 100.0),
    ("http_chunked_gzip.pcap", {"HTTP"}, HTTP_FIELDS + ["data.len"], 100.0),
    ("http_large.pcap", {"HTTP"}, HTTP_FIELDS + ["data.len"], 100.0),
    ("ipv6_loopback.pcap", {"HTTP"}, HTTP_FIELDS + ["data.len"], 100.0),
    ("demo.pcap", {"HTTP"}, HTTP_FIELDS + ["data.len"], 100.0),
    ("null_loopback.pcap", {"HTTP", "ICMP"}, HTTP_FIELDS + ICMP_FIELDS, 100.0),
    ("any_sll2.pcap", {"HTTP", "ICMP"}, HTTP_FIELDS + ICMP_FIELDS, 100.0),
    ("lossy_transfer.pcap", {"HTTP"}, HTTP_FIELDS, 90.0),  # retransmissions need TCP analysis
    ("tls13.pcap", TLS_COLUMNS, TLS_FIELDS, 100.0),
    ("tls12.pcap", TLS_COLUMNS, TLS_FIELDS, 100.0),
    ("demo.pcap", TLS_COLUMNS, TLS_FIELDS, 100.0),
]


def _require_tshark() -> None:
    """Skip when the oracle is not installed."""
    if TSHARK is None:
        pytest.skip("tshark is not installed: parity with it cannot be measured")


def _check(path: Path, protocols: set[str], fields: list[str], minimum: float) -> None:
    """Compare, print the agreement figure, and fail below `minimum` percent or when nothing was compared."""
    agreement = compare_with_tshark(path, protocols, fields)
    print(f"{path.name} {sorted(protocols)}: {agreement.matched}/{agreement.compared} frames agree "
          f"({agreement.percent:.1f}%)")
    assert agreement.compared > 0, f"no {sorted(protocols)} frames in {path.name}"
    assert agreement.percent >= minimum, "\n".join(agreement.differences[:20])


@pytest.mark.parametrize(("fixture", "protocols", "fields", "minimum"), PARITY_CASES,
                         ids=[f"{case[0]}-{'/'.join(sorted(case[1]))[:20]}" for case in PARITY_CASES])
def test_fixture_parity_with_tshark(fixture: str, protocols: set[str], fields: list[str], minimum: float) -> None:
    """Protocol, Info and the protocol's fields match tshark on every relevant frame of a real capture."""
    _require_tshark()
    path = FIXTURES / fixture
    if not path.exists():
        pytest.skip(f"fixture {fixture} has not been recorded")
    _check(path, protocols, fields, minimum)


def crafted_frames() -> list[Ether]:
    """Frames real captures lack: ARP variants, ICMP errors, neighbour discovery, mDNS/LLMNR, SOA, DNS over TCP."""
    host, router = "f8:d0:bd:4e:12:34", "00:1b:21:3a:56:78"
    unicast, broadcast = Ether(src=host, dst=router), Ether(src=host, dst="ff:ff:ff:ff:ff:ff")
    query = IP(src="10.0.0.2", dst="10.0.0.1") / UDP(sport=40000, dport=53) / \
        DNS(id=0x1234, rd=1, qd=DNSQR(qname="nx.example.test", qtype="A"))
    soa = DNSRRSOA(rrname="example.test", mname="ns1.example.test", rname="hostmaster.example.test",
                   serial=2024010101, refresh=3600, retry=600, expire=86400, minimum=300, ttl=300)
    tcp_query = bytes(DNS(id=5, qd=DNSQR(qname="example.test", qtype="MX")))
    node_multicast = Ether(src=host, dst="33:33:ff:00:00:01")
    return [
        broadcast / ARP(op=1, hwsrc=host, psrc="10.0.0.2", pdst="10.0.0.1"),
        unicast / ARP(op=2, hwsrc=router, psrc="10.0.0.1", hwdst=host, pdst="10.0.0.2"),
        broadcast / ARP(op=1, hwsrc=host, psrc="10.0.0.2", pdst="10.0.0.2"),
        broadcast / ARP(op=1, hwsrc=host, psrc="0.0.0.0", pdst="10.0.0.9"),
        broadcast / ARP(op=2, hwsrc=host, psrc="10.0.0.2", hwdst="ff:ff:ff:ff:ff:ff", pdst="10.0.0.2"),
        unicast / query,
        unicast / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=53, dport=40000) / DNS(
            id=0x1234, qr=1, aa=1, rd=1, ra=1, rcode=3, qd=DNSQR(qname="nx.example.test", qtype="A"), ns=soa),
        unicast / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=3, code=3) / query,
        unicast / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=11, code=0) /
        IP(src="10.0.0.2", dst="192.0.2.8", ttl=1) / TCP(sport=5555, dport=80, flags="S"),
        unicast / IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(type=8, id=1, seq=7) / (b"\x01" * 48),
        Ether(dst="01:00:5e:00:00:fb") / IP(src="10.0.0.2", dst="224.0.0.251") / UDP(sport=5353, dport=5353) /
        DNS(id=0, qd=DNSQR(qname="printer.local", qtype="PTR")),
        Ether(dst="01:00:5e:00:00:fb") / IP(src="10.0.0.7", dst="224.0.0.251") / UDP(sport=5353, dport=5353) /
        DNS(id=0, qr=1, aa=1, qd=[], an=DNSRR(rrname="printer.local", type="A", rdata="10.0.0.7", ttl=120)),
        Ether(dst="01:00:5e:00:00:fc") / IP(src="10.0.0.2", dst="224.0.0.252") / UDP(sport=51000, dport=5355) /
        DNS(id=0x77, qd=DNSQR(qname="wpad", qtype="A")),
        unicast / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5355, dport=51000) /
        DNS(id=0x77, qr=1, qd=DNSQR(qname="wpad", qtype="A"), an=DNSRR(rrname="wpad", type="A", rdata="10.0.0.1")),
        node_multicast / IPv6(src="fe80::2", dst="ff02::1:ff00:1") / ICMPv6ND_NS(tgt="fe80::1") /
        ICMPv6NDOptSrcLLAddr(lladdr=host),
        unicast / IPv6(src="fe80::1", dst="fe80::2") / ICMPv6ND_NA(tgt="fe80::1", R=1, S=1, O=1) /
        ICMPv6NDOptDstLLAddr(lladdr=router),
        node_multicast / IPv6(src="fe80::2", dst="ff02::2") / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=host),
        unicast / IPv6(src="fe80::1", dst="ff02::1") / ICMPv6ND_RA(routerlifetime=1800) /
        ICMPv6NDOptSrcLLAddr(lladdr=router) / ICMPv6NDOptMTU(mtu=1500) /
        ICMPv6NDOptPrefixInfo(prefix="2001:db8::", prefixlen=64),
        unicast / IPv6(src="fe80::1", dst="fe80::2") / ICMPv6DestUnreach(code=4) /
        IPv6(src="fe80::2", dst="fe80::1") / UDP(sport=1234, dport=9999) / b"hello",
        unicast / IP(src="10.0.0.2", dst="10.0.0.1") / TCP(sport=40001, dport=53, flags="PA") /
        (struct.pack(">H", len(tcp_query)) + tcp_query),
    ]


def test_crafted_frames_parity_with_tshark(tmp_path: Path) -> None:
    """Every crafted frame's Protocol, Info and fields match tshark."""
    _require_tshark()
    path = tmp_path / "crafted.pcap"
    frames = crafted_frames()
    for index, frame in enumerate(frames):
        frame.time = 1_700_000_000 + index / 100
    wrpcap(str(path), frames)
    _check(path, {"ARP", "ICMP", "ICMPv6", "DNS", "MDNS", "LLMNR"},
           ARP_FIELDS + ICMP_FIELDS + DNS_FIELDS + ["ip.src", "udp.dstport", "tcp.dstport"], 100.0)


@pytest.mark.parametrize("fixture", ["dns_udp", "mdns_llmnr", "demo", "icmp_errors", "dns_tcp", "ip_fragments", "dhcp", "http_get_post"])
def test_dns_pairing_reads_the_index_as_dissection_would(fixture: str) -> None:
    """Request/response pairing takes a plain DNS datagram's ID and QR bit from the index's payload
    head instead of dissecting it: for every packet that is what its dissection says."""
    with tui_sniffer.open_capture(str(FIXTURES / f"{fixture}.pcap")) as capture:
        capture.index_all()
        for row in range(len(capture)):
            dissected = capture.dissect(row + 1)
            expected = list(zip(dissected.values("dns.id"), map(bool, dissected.values("dns.flags.response"))))
            assert capture.pairing._dns_messages(row) == expected, f"frame {row + 1}"
