"""Vectorized summary columns for a batch of raw records: addresses, ports, flags, without dissecting.

Every column is computed with numpy gathers over the batch's buffer, so a million packets cost a few
array operations per batch instead of a parse per packet. A field that does not apply to a packet
(a port of an ARP frame) holds 0 and its presence mask is False.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_sniffer.dissect import linktypes

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_ARP = 0x0806
ETHERTYPE_VLAN = 0x8100
IP_PROTO_ICMP = 1
IP_PROTO_TCP = 6
IP_PROTO_UDP = 17
IP_PROTO_ICMPV6 = 58

DOUBT_NETWORK = 1
"""`layer_doubt` bit: dissection may show IP/IPv6/ARP layers other than these columns say (an
unknown link type, stacked VLAN tags, a bogus IP header, a tunnel, an ICMP error quoting a packet)."""
DOUBT_TRANSPORT = 2
"""`layer_doubt` bit: dissection may show TCP/UDP/ICMP (and what they carry) other than these columns
say (a fragment, IPv6 extension headers, a transport header cut short or with a bogus length)."""

_KNOWN_LINK_TYPES = (linktypes.ETHERNET, linktypes.LINUX_SLL, linktypes.LINUX_SLL2, linktypes.NULL,
                     linktypes.RAW, linktypes.IPV4, linktypes.IPV6)
_STACKED_VLAN_TYPES = (ETHERTYPE_VLAN, 0x88A8, 0x9100)
_TUNNEL_PROTOCOLS = (4, 41)
"""IP in IP and IPv6 in IP: the dissector shows a second network layer."""
_IPV6_EXTENSION_HEADERS = (0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254)
_ICMP_QUERY_TYPES = (0, 8)
"""ICMP echo reply/request: the only ICMP messages whose layers the columns describe exactly."""
_HEAD_BYTES = 8


@dataclass(slots=True)
class SummaryColumns:
    """One batch's summary columns (one entry per packet)."""

    ethertype: np.ndarray          # uint16, 0 when the link layer carries none we know
    eth_src: np.ndarray            # uint64 (48-bit MAC), 0 without Ethernet
    eth_dst: np.ndarray
    ip_version: np.ndarray         # uint8: 4, 6 or 0
    ip_proto: np.ndarray           # uint8: the transport protocol number (IPv6: next header)
    ip4_src: np.ndarray            # uint32
    ip4_dst: np.ndarray
    ip6_src: np.ndarray            # (n, 16) uint8
    ip6_dst: np.ndarray
    ip_ttl: np.ndarray             # uint8 (IPv6: hop limit)
    is_fragment: np.ndarray        # bool: a non-first fragment (no transport header of its own)
    src_port: np.ndarray           # uint16 (TCP or UDP)
    dst_port: np.ndarray
    tcp_flags: np.ndarray          # uint16 (12 bits)
    tcp_seq: np.ndarray            # uint32 raw
    tcp_ack: np.ndarray
    tcp_window: np.ndarray         # uint16 raw
    transport_offset: np.ndarray   # uint32: where the TCP/UDP header starts in the frame
    payload_offset: np.ndarray     # uint32: where the transport payload starts in the frame
    payload_length: np.ndarray     # uint32: TCP segment / UDP payload length
    payload_head: np.ndarray       # uint64: the payload's first 8 bytes, big-endian, zero-padded
    vlan_tagged: np.ndarray        # bool: one 802.1Q tag sits between Ethernet and `ethertype`
    layer_doubt: np.ndarray        # uint8: DOUBT_* bits, where dissection may disagree with columns


def _gather_u8(buffer: np.ndarray, positions: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Bytes at `positions` where `valid`, 0 elsewhere (positions may run past the buffer)."""
    safe = np.where(valid, positions, 0)
    return np.where(valid, buffer[safe], 0).astype(np.uint8)


def _gather_be(buffer: np.ndarray, positions: np.ndarray, valid: np.ndarray, width: int) -> np.ndarray:
    """Big-endian unsigned integers of `width` bytes at `positions` where `valid`, 0 elsewhere."""
    value = np.zeros(len(positions), dtype=np.uint64)
    for index in range(width):
        value = (value << np.uint64(8)) | _gather_u8(buffer, positions + index, valid).astype(np.uint64)
    return value


def _gather_block(buffer: np.ndarray, positions: np.ndarray, valid: np.ndarray, width: int) -> np.ndarray:
    """A (n, width) uint8 block of bytes per packet (zeros where not valid)."""
    columns = [_gather_u8(buffer, positions + index, valid) for index in range(width)]
    return np.stack(columns, axis=1) if columns else np.zeros((len(positions), 0), np.uint8)


def summarize(buffer: bytes, data_positions: np.ndarray, captured_lengths: np.ndarray,
              link_types: np.ndarray) -> SummaryColumns:
    """Compute every summary column for packets whose data start at `data_positions` in `buffer`."""
    raw = np.frombuffer(buffer, dtype=np.uint8)
    start = data_positions.astype(np.int64)
    end = start + captured_lengths.astype(np.int64)

    def within(position: np.ndarray, width: int) -> np.ndarray:
        return position + width <= end

    count = len(start)
    ethertype = np.zeros(count, dtype=np.uint64)
    network = start.copy()
    eth_src = np.zeros(count, dtype=np.uint64)
    eth_dst = np.zeros(count, dtype=np.uint64)

    is_ethernet = link_types == linktypes.ETHERNET
    ok = is_ethernet & within(start, 14)
    eth_dst = np.where(ok, _gather_be(raw, start, ok, 6), 0).astype(np.uint64)
    eth_src = np.where(ok, _gather_be(raw, start + 6, ok, 6), 0).astype(np.uint64)
    outer_type = _gather_be(raw, start + 12, ok, 2)
    vlan = ok & (outer_type == ETHERTYPE_VLAN) & within(start, 18)
    ethertype = np.where(ok, np.where(vlan, _gather_be(raw, start + 16, vlan, 2), outer_type), ethertype)
    network = np.where(ok, start + np.where(vlan, 18, 14), network)

    for link_type, header, type_at in ((linktypes.LINUX_SLL, 16, 14), (linktypes.LINUX_SLL2, 20, 0)):
        ok = (link_types == link_type) & within(start, header)
        ethertype = np.where(ok, _gather_be(raw, start + type_at, ok, 2), ethertype)
        network = np.where(ok, start + header, network)

    ok = (link_types == linktypes.NULL) & within(start, 5)
    big_endian_family = _gather_be(raw, start, ok, 4)
    little_endian_family = sum(_gather_u8(raw, start + index, ok).astype(np.uint64) << np.uint64(8 * index)
                               for index in range(4))
    family = np.where(little_endian_family <= 0xFFFF, little_endian_family, big_endian_family)
    family_type = np.where(family == 2, ETHERTYPE_IPV4,
                           np.where(np.isin(family, (24, 28, 30)), ETHERTYPE_IPV6, 0))
    ethertype = np.where(ok, family_type, ethertype)
    network = np.where(ok, start + 4, network)

    ok = np.isin(link_types, (linktypes.RAW, linktypes.IPV4, linktypes.IPV6)) & within(start, 1)
    version = _gather_u8(raw, start, ok) >> 4
    raw_type = np.where(version == 4, ETHERTYPE_IPV4, np.where(version == 6, ETHERTYPE_IPV6, 0))
    ethertype = np.where(ok, raw_type, ethertype)
    network = np.where(ok, start, network)
    ethertype = ethertype.astype(np.uint16)

    is_ipv4 = (ethertype == ETHERTYPE_IPV4) & within(network, 20)
    is_ipv6 = (ethertype == ETHERTYPE_IPV6) & within(network, 40)
    header_words = _gather_u8(raw, network, is_ipv4) & 0x0F
    is_ipv4 &= header_words >= 5
    ip4_total = _gather_be(raw, network + 2, is_ipv4, 2).astype(np.int64)
    fragment_field = _gather_be(raw, network + 6, is_ipv4, 2)
    is_fragment = is_ipv4 & ((fragment_field & 0x1FFF) != 0)
    ip_proto = np.where(is_ipv4, _gather_u8(raw, network + 9, is_ipv4),
                        _gather_u8(raw, network + 6, is_ipv6)).astype(np.uint8)
    ip_ttl = np.where(is_ipv4, _gather_u8(raw, network + 8, is_ipv4),
                      _gather_u8(raw, network + 7, is_ipv6)).astype(np.uint8)
    ip4_src = _gather_be(raw, network + 12, is_ipv4, 4).astype(np.uint32)
    ip4_dst = _gather_be(raw, network + 16, is_ipv4, 4).astype(np.uint32)
    has_ipv6 = bool(is_ipv6.any())
    ip6_src = _gather_block(raw, network + 8, is_ipv6, 16) if has_ipv6 else np.zeros((count, 16), np.uint8)
    ip6_dst = _gather_block(raw, network + 24, is_ipv6, 16) if has_ipv6 else np.zeros((count, 16), np.uint8)
    ip6_payload = _gather_be(raw, network + 4, is_ipv6, 2).astype(np.int64)
    transport = np.where(is_ipv4, network + header_words.astype(np.int64) * 4, network + 40)
    network_end = np.where(is_ipv4, network + ip4_total, np.where(is_ipv6, network + 40 + ip6_payload, end))
    network_end = np.minimum(np.where(network_end < transport, end, network_end), end)
    ip_version = np.where(is_ipv4, 4, np.where(is_ipv6, 6, 0)).astype(np.uint8)

    has_transport = (is_ipv4 | is_ipv6) & ~is_fragment
    is_tcp = has_transport & (ip_proto == IP_PROTO_TCP) & within(transport, 20)
    is_udp = has_transport & (ip_proto == IP_PROTO_UDP) & within(transport, 8)
    has_ports = is_tcp | is_udp
    src_port = _gather_be(raw, transport, has_ports, 2).astype(np.uint16)
    dst_port = _gather_be(raw, transport + 2, has_ports, 2).astype(np.uint16)
    tcp_seq = _gather_be(raw, transport + 4, is_tcp, 4).astype(np.uint32)
    tcp_ack = _gather_be(raw, transport + 8, is_tcp, 4).astype(np.uint32)
    offset_and_flags = _gather_be(raw, transport + 12, is_tcp, 2)
    tcp_flags = (offset_and_flags & 0x0FFF).astype(np.uint16)
    tcp_header = ((offset_and_flags >> np.uint64(12)) * 4).astype(np.int64)
    tcp_window = _gather_be(raw, transport + 14, is_tcp, 2).astype(np.uint16)
    payload_start = np.where(is_tcp, transport + tcp_header, np.where(is_udp, transport + 8, end))
    payload_length = np.clip(network_end - payload_start, 0, None)
    payload_length = np.where(has_ports, payload_length, 0)
    head_length = np.minimum(payload_length, _HEAD_BYTES)
    payload_head = np.zeros(count, dtype=np.uint64)
    for index in range(_HEAD_BYTES):
        payload_head = (payload_head << np.uint64(8)) | \
            _gather_u8(raw, payload_start + index, index < head_length).astype(np.uint64)

    version_nibble = _gather_u8(raw, network, is_ipv4 | is_ipv6) >> 4
    icmp_type = _gather_u8(raw, transport, has_transport & within(transport, 1))
    udp_length = _gather_be(raw, transport + 4, is_udp, 2).astype(np.int64)
    known_link = np.isin(link_types, _KNOWN_LINK_TYPES)
    raw_ip_link = np.isin(link_types, (linktypes.RAW, linktypes.IPV4, linktypes.IPV6))
    network_doubt = ~known_link | (network > end) | np.isin(ethertype, _STACKED_VLAN_TYPES)
    network_doubt |= raw_ip_link & ~(is_ipv4 | is_ipv6)
    network_doubt |= (ethertype == ETHERTYPE_IPV4) & (~is_ipv4 | (version_nibble != 4) | (ip4_total < header_words * 4))
    network_doubt |= (ethertype == ETHERTYPE_IPV6) & (~is_ipv6 | (version_nibble != 6))
    network_doubt |= (is_ipv4 | is_ipv6) & np.isin(ip_proto, _TUNNEL_PROTOCOLS)
    network_doubt |= is_ipv4 & (ip_proto == IP_PROTO_ICMP) & ~np.isin(icmp_type, _ICMP_QUERY_TYPES)
    network_doubt |= is_ipv6 & (ip_proto == IP_PROTO_ICMPV6) & (icmp_type < 128)
    transport_doubt = network_doubt | (is_ipv4 & ((fragment_field & 0x3FFF) != 0))
    transport_doubt |= is_ipv6 & np.isin(ip_proto, _IPV6_EXTENSION_HEADERS)
    transport_doubt |= has_transport & (ip_proto == IP_PROTO_TCP) & \
        (~is_tcp | (tcp_header < 20) | (transport + np.maximum(tcp_header, 20) > network_end))
    transport_doubt |= has_transport & (ip_proto == IP_PROTO_UDP) & \
        (~is_udp | (transport + 8 > network_end) | (udp_length < 8) | (transport + udp_length != network_end))
    transport_doubt |= has_transport & np.isin(ip_proto, (IP_PROTO_ICMP, IP_PROTO_ICMPV6)) & \
        ~within(transport, 8)
    layer_doubt = (network_doubt * DOUBT_NETWORK | (transport_doubt | network_doubt) * DOUBT_TRANSPORT)

    return SummaryColumns(
        ethertype=ethertype, eth_src=eth_src, eth_dst=eth_dst, ip_version=ip_version,
        ip_proto=np.where(is_ipv4 | is_ipv6, ip_proto, 0).astype(np.uint8),
        ip4_src=ip4_src, ip4_dst=ip4_dst, ip6_src=ip6_src, ip6_dst=ip6_dst, ip_ttl=ip_ttl,
        is_fragment=is_fragment, src_port=src_port, dst_port=dst_port, tcp_flags=tcp_flags,
        tcp_seq=tcp_seq, tcp_ack=tcp_ack, tcp_window=tcp_window,
        transport_offset=np.where(has_ports, transport - start, 0).astype(np.uint32),
        payload_offset=np.clip(payload_start - start, 0, None).astype(np.uint32),
        payload_length=payload_length.astype(np.uint32), payload_head=payload_head,
        vlan_tagged=vlan, layer_doubt=layer_doubt.astype(np.uint8),
    )
