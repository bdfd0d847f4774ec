"""Malformed and edge-case input for ARP, ICMP, DNS, HTTP and TLS: marked `[Malformed Packet]`, never an exception."""
from __future__ import annotations

import struct

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether

from tui_sniffer.dissect.engine import dissect_frame
from tui_sniffer.dissect.frame import FrameInfo
from tui_sniffer.dissect.protocols.dns_records import read_name, ttl_text
from tui_sniffer.dissect.tree import DissectedPacket


def dissect(frame_bytes: bytes, **annotations: object) -> DissectedPacket:
    """Dissect one Ethernet frame with the given analysis annotations."""
    info = FrameInfo(1, 1_700_000_000_000_000_000, len(frame_bytes), len(frame_bytes), link_type=1)
    info.annotations.update(annotations)
    return dissect_frame(info, frame_bytes)


def udp_frame(payload: bytes, sport: int = 40000, dport: int = 53) -> bytes:
    """An Ethernet/IPv4/UDP frame around `payload`."""
    return bytes(Ether() / IP(src="10.0.0.2", dst="10.0.0.1") / UDP(sport=sport, dport=dport) / payload)


def tcp_frame(payload: bytes, sport: int = 40000, dport: int = 4433) -> bytes:
    """An Ethernet/IPv4/TCP frame around `payload`."""
    return bytes(Ether() / IP(src="10.0.0.2", dst="10.0.0.1") / TCP(sport=sport, dport=dport, flags="PA") / payload)


DNS_HEADER = struct.pack(">6H", 0x1A2B, 0x0100, 1, 0, 0, 0)


@pytest.mark.parametrize(("payload", "reason"), [
    (DNS_HEADER + b"\x07example\x03co", "name cut short"),
    (DNS_HEADER + b"\xc0\x0c\x00\x01\x00\x01", "pointer to itself"),
    (DNS_HEADER[:7], "header cut short"),
    (struct.pack(">6H", 1, 0x8180, 0, 1, 0, 0) + b"\x00\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x40\x0a",
     "record data length past the end"),
])
def test_malformed_dns_is_marked_not_raised(payload: bytes, reason: str) -> None:
    """A broken DNS message is flagged malformed under the DNS protocol name."""
    packet = dissect(udp_frame(payload))
    assert packet.malformed, reason
    assert packet.summary.protocol == "DNS"
    assert packet.summary.info.endswith("[Malformed Packet]")
    assert any(layer.text == "[Malformed Packet: DNS]" for layer in packet.layers)


def test_dns_compression_pointer_is_followed() -> None:
    """A name that ends in a pointer reads the pointed-to labels and ends after the two pointer bytes."""
    message = DNS_HEADER + b"\x03www\x07example\x04test\x00" + b"\x04mail\xc0\x10"
    name, end, labels = read_name(message, 0, 30)
    assert (name, end, labels) == ("mail.example.test", 37, 3)


@pytest.mark.parametrize(("seconds", "text"), [(600, "600 (10 minutes)"), (3600, "3600 (1 hour)"),
                                               (90061, "90061 (1 day, 1 hour, 1 minute, 1 second)"),
                                               (0, "0 (0 seconds)")])
def test_ttl_text(seconds: int, text: str) -> None:
    """TTLs read the way Wireshark writes them."""
    assert ttl_text(seconds) == text


def test_dns_info_and_links_from_annotations() -> None:
    """A response's Info lists its answers; analysis annotations become generated links."""
    answer = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x02\x58\x00\x04\x0a\x00\x00\x01"
    payload = struct.pack(">6H", 0x1A2B, 0x8180, 1, 1, 0, 0) + b"\x07example\x03com\x00\x00\x01\x00\x01" + answer
    packet = dissect(udp_frame(payload, 53, 40000), **{"dns.messages": [{"dns.response_to": 3, "dns.time": 0.25}]})
    assert packet.summary.info == "Standard query response 0x1a2b A example.com A 10.0.0.1"
    assert packet.fields("dns.response_to") == ["3"]
    assert packet.fields("dns.a") == ["10.0.0.1"]


def test_arp_with_non_ethernet_addresses_keeps_them_as_bytes() -> None:
    """ARP for other hardware/protocol sizes shows its addresses as bytes instead of failing."""
    body = struct.pack(">HHBBH", 6, 0x0800, 8, 4, 1) + bytes(range(8)) + b"\x0a\x00\x00\x02" + \
        bytes(8) + b"\x0a\x00\x00\x01"
    packet = dissect(bytes(Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff", type=0x0806)) + body)
    assert packet.summary.protocol == "ARP" and not packet.malformed
    assert packet.fields("arp.src.hw") == ["0001020304050607"]


def test_icmp_echo_info_padding_and_reply_suffix() -> None:
    """Echo Info pads the type to 20 characters and appends the analysis link."""
    from scapy.layers.inet import ICMP

    frame = bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2", ttl=64) / ICMP(type=0, id=0x0D97, seq=1) / (b"x" * 8))
    packet = dissect(frame, **{"icmp.resp_to": 13})
    assert packet.summary.info == "Echo (ping) reply    id=0x0d97, seq=1/256, ttl=64 (request in 13)"
    assert packet.fields("icmp.checksum.status") == ["1"]


def test_http_request_info_keeps_tsharks_trailing_space_on_any_port() -> None:
    """HTTP is found by content on an unusual port; Info ends with tshark's space and the body type."""
    request = b"POST /form HTTP/1.1\r\nHost: h.test\r\nContent-Type: application/x-www-form-urlencoded\r\n" \
              b"Content-Length: 7\r\n\r\na=1&b=2"
    packet = dissect(tcp_frame(request, 50000, 9999))
    assert packet.summary.protocol == "HTTP"
    assert packet.summary.info == "POST /form HTTP/1.1  (application/x-www-form-urlencoded)"
    assert packet.fields("http.request.full_uri") == ["http://h.test/form"]
    assert packet.fields("http.content_length") == ["7"]
    assert packet.fields("urlencoded-form.key") == ["a", "b"]


def test_unknown_tcp_payload_is_left_to_data() -> None:
    """Bytes that are neither HTTP nor TLS on a non-HTTP port stay Data."""
    packet = dissect(tcp_frame(b"hello there\n", 50000, 5050))
    assert packet.summary.protocol == "TCP"
    assert packet.nodes("data")


def test_body_only_segment_is_continuation_in_an_http_conversation() -> None:
    """With analysis saying the conversation is HTTP, a body-only segment reads `Continuation`."""
    packet = dissect(tcp_frame(b"<html></html>", 8000, 50000), **{"http.conversation": True})
    assert (packet.summary.protocol, packet.summary.info) == ("HTTP", "Continuation")


@pytest.mark.parametrize("payload, columns", [
    (b"\x16\x03\x01\x00\x30\x01\x00\x00\x2c\x03\x03" + b"\x00" * 10, ("SSL", "")),
    (b"\x16\x03\x03\x00\x08\x02\x00\x00\x40\x03\x03\x00\x00", ("TLSv1.2", "[Server Hello Fragment]")),
    (b"\x15\x03\x03\x00\x02\x02", ("SSL", "")),
])
def test_truncated_tls_never_raises(payload: bytes, columns: tuple[str, str]) -> None:
    """As tshark without reassembly: a record that goes on past the segment is left out (the column falls
    back to "SSL"), a handshake message longer than its record is a fragment."""
    packet = dissect(tcp_frame(payload))
    assert (packet.summary.protocol, packet.summary.info) == columns
    assert not packet.malformed


def test_tls_alert_and_session_version_annotation() -> None:
    """A plaintext alert names level and description; the annotated session version sets the column."""
    packet = dissect(tcp_frame(b"\x15\x03\x03\x00\x02\x02\x28"), **{"tls.version": 0x0304})
    assert packet.summary.protocol == "TLSv1.3"
    assert packet.summary.info == "Alert (Level: Fatal, Description: Handshake Failure)"
    encrypted = dissect(tcp_frame(b"\x15\x03\x03\x00\x1a" + b"\x11" * 26))
    assert (encrypted.summary.protocol, encrypted.summary.info) == ("TLSv1.2", "Encrypted Alert")
