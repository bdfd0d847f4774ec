"""Wireshark's default colouring rules, reduced to a rule name the packet list maps to theme styles."""
from __future__ import annotations

TCP_FIN, TCP_SYN, TCP_RST = 0x01, 0x02, 0x04
IP_PROTO_TCP, IP_PROTO_UDP = 6, 17

COLOR_RULES = ("bad", "arp", "icmp", "rst", "http", "dns", "syn-fin", "tcp", "udp")

_PROTOCOL_RULES = {"ARP": "arp", "RARP": "arp", "ICMP": "icmp", "ICMPV6": "icmp",
                   "HTTP": "http", "HTTP2": "http", "DNS": "dns", "MDNS": "dns", "LLMNR": "dns"}


def color_rule(protocol: str, ip_proto: int, tcp_flags: int, malformed: bool) -> str | None:
    """The first matching rule in Wireshark's order (bad before RST before HTTP before SYN/FIN…)."""
    if malformed:
        return "bad"
    by_protocol = _PROTOCOL_RULES.get(protocol.upper())
    if by_protocol in ("arp", "icmp"):
        return by_protocol
    if ip_proto == IP_PROTO_TCP and tcp_flags & TCP_RST:
        return "rst"
    if by_protocol is not None:
        return by_protocol
    if ip_proto == IP_PROTO_TCP:
        return "syn-fin" if tcp_flags & (TCP_SYN | TCP_FIN) else "tcp"
    if ip_proto == IP_PROTO_UDP:
        return "udp"
    return None
