"""The packet index seen as the display filter's ColumnSource: Wireshark field names over index rows.

Every answer must agree with what dissecting the packet would give, or say "cannot tell": a value
column is only trusted where its field occurs exactly once, and `occurrences` reports -1 wherever
the index's `layer_doubt` bits say dissection may show other layers (fragments, tunnels, ICMP errors
quoting a packet, bogus headers, unknown link types). Fields the index does not keep still get a
cheap answer where their protocol surely is absent (no `dns.*` without a DNS port, no HTTP request
field in a payload that does not start with a request method), so only the rest need dissecting.
"""
from __future__ import annotations

from functools import cached_property
from typing import Callable

import numpy as np

from tui_sniffer.dissect import linktypes
from tui_sniffer.dissect.fields import lookup
from tui_sniffer.dissect.protocols.dns import DNS_PORTS
from tui_sniffer.dissect.protocols.http import HTTP_METHODS
from tui_sniffer.store.index import PacketIndex
from tui_sniffer.store.summary import (DOUBT_NETWORK, DOUBT_TRANSPORT, ETHERTYPE_ARP, IP_PROTO_ICMP,
                                       IP_PROTO_ICMPV6, IP_PROTO_TCP, IP_PROTO_UDP)

UNKNOWN = -1
"""An occurrence count meaning "dissect to find out"."""

HTTP_METHOD_STARTS = tuple(f"{method} ".encode() for method in HTTP_METHODS)
"""What a request line starts with, in the HTTP dissector's reading."""

HTTP_STATUS_STARTS = (b"HTTP/1.0", b"HTTP/1.1")
"""What a status line starts with, in the dissector's reading."""

_HTTP_ANYWHERE_FIELDS = frozenset({"http", "http.file_data"})
"""HTTP entries a continuation segment (no request or status line) can show too."""

_HTTP_REQUEST_FIELDS = frozenset({"http.request", "http.request.method", "http.request.uri",
                                  "http.request.version", "http.request.line", "http.request.full_uri"})
_HTTP_RESPONSE_FIELDS = frozenset({"http.response", "http.response.code", "http.response.code.desc",
                                   "http.response.phrase", "http.response.version", "http.response.line"})
_HEAD_BYTES = 8
_FIN, _SYN, _ACK = 0x01, 0x02, 0x10
Remember = Callable[[str, Callable[[], object]], object]
"""Keeps a whole-index array under a name, working it out with the callable the first time."""
_ARP_IPV4_LENGTH = 28


class IndexColumns:
    """A ColumnSource over rows [start, stop) of a packet index (frame number = row + 1).

    `own_tcp_payloads` says each TCP segment's payload is dissected on its own (no reassembly);
    without it nothing is claimed about what application data a TCP segment shows. `remember`
    keeps arrays worked out over the whole index (relative sequence bases) from chunk to chunk.
    """

    def __init__(self, index: PacketIndex, start: int = 0, stop: int | None = None, *,
                 own_tcp_payloads: bool = True, remember: Remember | None = None) -> None:
        self.index = index
        self.start = start
        self.stop = index.count if stop is None else stop
        self.own_tcp_payloads = own_tcp_payloads
        self.remember: Remember = remember if remember is not None else (lambda name, compute: compute())
        self._columns: dict[str, np.ndarray | None] = {}
        self._occurrences: dict[str, np.ndarray | None] = {}

    def __len__(self) -> int:
        return self.stop - self.start

    def _raw(self, name: str) -> np.ndarray:
        """An index column over this source's rows."""
        return self.index.column(name)[self.start:self.stop]

    # -- ColumnSource ----------------------------------------------------------------------------

    def column(self, field_name: str) -> np.ndarray | None:
        """The field's value per row (meaningful where it occurs once), or None if not kept."""
        if field_name not in self._columns:
            make = _VALUE_COLUMNS.get(field_name)
            self._columns[field_name] = None if make is None else make(self)
        return self._columns[field_name]

    def occurrences(self, field_name: str) -> np.ndarray | None:
        """0/1 where the index knows how often the field occurs, UNKNOWN where it cannot tell."""
        if field_name not in self._occurrences:
            self._occurrences[field_name] = self._count(field_name)
        return self._occurrences[field_name]

    def _count(self, field_name: str) -> np.ndarray | None:
        if field_name in _VALUE_PRESENCE:
            return _VALUE_PRESENCE[field_name](self)
        if field_name in _PRESENCE:
            return _PRESENCE[field_name](self)
        definition = lookup(field_name)
        if definition is None:
            return None
        parent_name = field_name.rsplit(".", 1)[0]
        if definition.bitmask and parent_name in _VALUE_PRESENCE:
            return _VALUE_PRESENCE[parent_name](self)
        if field_name.startswith("http."):
            return self._http_field_count(field_name)
        protocol = definition.protocol
        if protocol in _PRESENCE:
            return _at_most_unknown(_PRESENCE[protocol](self))
        return None

    # -- masks -----------------------------------------------------------------------------------

    @cached_property
    def network_doubt(self) -> np.ndarray:
        return (self._raw("layer_doubt") & DOUBT_NETWORK) != 0

    @cached_property
    def transport_doubt(self) -> np.ndarray:
        return (self._raw("layer_doubt") & DOUBT_TRANSPORT) != 0

    @cached_property
    def is_ethernet(self) -> np.ndarray:
        return self._raw("link_type") == linktypes.ETHERNET

    @cached_property
    def has_ethernet_header(self) -> np.ndarray:
        return self.is_ethernet & (self._raw("captured_length") >= 14)

    @cached_property
    def is_ieee_802_3(self) -> np.ndarray:
        """Ethernet frames with a length instead of an EtherType (802.3/LLC), which scapy reads differently."""
        return self.has_ethernet_header & ~self._raw("vlan_tagged") & (self._raw("ethertype") <= 1500)

    def transport_is(self, protocol_number: int) -> np.ndarray:
        """Rows whose (first) IP layer carries this transport protocol."""
        return (self._raw("ip_version") != 0) & (self._raw("ip_proto") == protocol_number)

    @cached_property
    def application_rows(self) -> np.ndarray:
        """Rows where TCP or UDP hands a payload to an application dissector."""
        carried = self._raw("payload_length") > 0
        tcp = self.transport_is(IP_PROTO_TCP)
        if not self.own_tcp_payloads:
            carried = carried | tcp
        return carried & (tcp | self.transport_is(IP_PROTO_UDP))

    @cached_property
    def dns_port_rows(self) -> np.ndarray:
        return np.isin(self._raw("src_port"), DNS_PORTS) | np.isin(self._raw("dst_port"), DNS_PORTS)

    @cached_property
    def head(self) -> np.ndarray:
        """The first payload bytes as an (n, 8) array (zeros past the payload)."""
        return self._raw("payload_head").astype(">u8").view(np.uint8).reshape(len(self), _HEAD_BYTES)

    def head_starts(self, prefixes: tuple[bytes, ...]) -> np.ndarray:
        """Rows whose payload starts with one of `prefixes` (each at most 8 bytes)."""
        head, found = self.head, np.zeros(len(self), bool)
        for prefix in prefixes:
            expected = np.frombuffer(prefix, np.uint8)
            found |= (head[:, :len(expected)] == expected).all(axis=1)
        return found

    def tracked(self, mask: np.ndarray, doubt: np.ndarray) -> np.ndarray:
        """An occurrence column: 1 where `mask`, 0 elsewhere, UNKNOWN where `doubt`."""
        return np.where(doubt, UNKNOWN, mask.astype(np.int8)).astype(np.int8)

    def application(self, possible: np.ndarray) -> np.ndarray:
        """An application entry's counts: 0 where it surely is absent, UNKNOWN where `possible`."""
        return np.where(self.transport_doubt | possible, UNKNOWN, 0).astype(np.int8)

    def _http_field_count(self, field_name: str) -> np.ndarray:
        possible = self.application_rows & ~self.dns_port_rows & self.transport_is(IP_PROTO_TCP)
        if field_name not in _HTTP_ANYWHERE_FIELDS and self.own_tcp_payloads:
            request = self.head_starts(HTTP_METHOD_STARTS)
            status = self.head_starts(HTTP_STATUS_STARTS)
            if field_name in _HTTP_REQUEST_FIELDS:
                possible = possible & request
            elif field_name in _HTTP_RESPONSE_FIELDS:
                possible = possible & status
            else:
                possible = possible & (request | status)
        return self.application(possible)

    # -- frame helpers ---------------------------------------------------------------------------

    def nanoseconds_since(self, reference: np.ndarray | int) -> np.ndarray:
        """Timestamps minus `reference` (nanoseconds): filters compare times as whole nanoseconds, as
        Wireshark's nstime, so `frame.time_epoch == 1700000000.123456000` matches exactly."""
        return self._raw("timestamp_ns") - reference

    def previous_timestamps(self) -> np.ndarray:
        """Each row's previous row's timestamp (the first frame's own for frame 1)."""
        timestamps = self.index.column("timestamp_ns")
        before = timestamps[max(self.start - 1, 0):self.stop - 1]
        if self.start == 0:
            before = np.concatenate([timestamps[:1], before])
        return before

    def network_start(self) -> np.ndarray:
        """Where the network header starts in each frame, per link type (0 where unknown)."""
        link_type = self._raw("link_type")
        start = np.where(self.is_ethernet, 14 + 4 * self._raw("vlan_tagged").astype(np.int64), 0)
        start = np.where(link_type == linktypes.LINUX_SLL, 16, start)
        return np.where(link_type == linktypes.LINUX_SLL2, 20, start)


    @cached_property
    def relative_numbers(self) -> tuple[np.ndarray, np.ndarray]:
        """Each row's relative sequence and acknowledgment numbers, as the TCP dissector computes them."""
        seq_base, ack_base = self.remember("sequence_bases", lambda: _sequence_bases(self.index))
        seq_base, ack_base = seq_base[self.start:self.stop], ack_base[self.start:self.stop]
        raw_seq, raw_ack = self._raw("tcp_seq").astype(np.int64), self._raw("tcp_ack").astype(np.int64)
        has_ack = (self._raw("tcp_flags") & _ACK) != 0
        relative_ack = np.where(ack_base >= 0, (raw_ack - ack_base) & 0xFFFFFFFF, raw_ack)
        return (raw_seq - seq_base) & 0xFFFFFFFF, np.where(has_ack, relative_ack, 0)


def _sequence_bases(index: PacketIndex) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the base its direction's relative sequence numbers count from and the reverse
    direction's (-1: none seen), over the whole index: the first SYN's seq, else the first seq − 1."""
    count = index.count
    streams = index.column("tcp_stream").astype(np.int64)
    keys = streams * 2 + index.column("flow_direction")
    rows = np.flatnonzero(streams >= 0)
    flags = index.column("tcp_flags")
    seq = index.column("tcp_seq").astype(np.int64)
    direction_count = int(keys[rows].max()) + 2 if len(rows) else 0
    base_row = np.full(direction_count, -1, np.int64)
    for candidates in (rows, rows[(flags[rows] & _SYN) != 0]):
        found_keys, first_positions = np.unique(keys[candidates], return_index=True)
        base_row[found_keys] = candidates[first_positions]
    bases = np.full(direction_count, -1, np.int64)
    known = base_row >= 0
    chosen = base_row[known]
    bases[known] = np.where((flags[chosen] & _SYN) != 0, seq[chosen], (seq[chosen] - 1) & 0xFFFFFFFF)
    seq_base, ack_base = np.zeros(count, np.int64), np.full(count, -1, np.int64)
    seq_base[rows], ack_base[rows] = bases[keys[rows]], bases[keys[rows] ^ 1]
    return seq_base, ack_base


def _at_most_unknown(counts: np.ndarray) -> np.ndarray:
    """A field of a protocol: absent where the protocol is, otherwise unknown (dissect to find out)."""
    return np.where(counts == 0, 0, UNKNOWN).astype(np.int8)


def _ipv6_block(source: IndexColumns, name: str) -> np.ndarray:
    return source.index.ipv6_addresses(name, slice(source.start, source.stop))


def _ip_presence(source: IndexColumns) -> np.ndarray:
    return source.tracked(source._raw("ip_version") == 4, source.network_doubt)


def _ipv6_presence(source: IndexColumns) -> np.ndarray:
    return source.tracked(source._raw("ip_version") == 6, source.network_doubt)


def _transport_presence(protocol_number: int, version: int) -> Callable[[IndexColumns], np.ndarray]:
    def presence(source: IndexColumns) -> np.ndarray:
        carried = source.transport_is(protocol_number) & (source._raw("ip_version") == version
                                                           if version else True)
        return source.tracked(carried, source.transport_doubt)
    return presence


def _eth_header_presence(source: IndexColumns) -> np.ndarray:
    return source.tracked(source.has_ethernet_header, source.is_ieee_802_3)


def _eth_type_presence(source: IndexColumns) -> np.ndarray:
    return source.tracked(source.has_ethernet_header, source.is_ieee_802_3)


def _arp_presence(source: IndexColumns) -> np.ndarray:
    """ARP where its EtherType says so; a request cut short (scapy then reads no ARP) is left to dissection."""
    is_arp = source._raw("ethertype") == ETHERTYPE_ARP
    complete = source.network_start() + _ARP_IPV4_LENGTH <= source._raw("captured_length").astype(np.int64)
    return source.tracked(is_arp, source.network_doubt | (is_arp & ~complete))


def _dns_presence(source: IndexColumns) -> np.ndarray:
    return source.application(source.application_rows & source.dns_port_rows)


def _tls_presence(source: IndexColumns) -> np.ndarray:
    """TLS on TCP off the DNS ports (a record, or an unknown one inside a TLS conversation)."""
    return source.application(source.application_rows & ~source.dns_port_rows & source.transport_is(IP_PROTO_TCP))


_PRESENCE: dict[str, Callable[[IndexColumns], np.ndarray]] = {
    "frame": lambda source: np.ones(len(source), np.int8),
    "eth": lambda source: source.tracked(source.is_ethernet, source.is_ieee_802_3),
    "vlan": lambda source: source.tracked(source.is_ethernet & source._raw("vlan_tagged"),
                                          source.network_doubt),
    "ip": _ip_presence, "ipv6": _ipv6_presence, "arp": _arp_presence,
    "tcp": _transport_presence(IP_PROTO_TCP, 0), "udp": _transport_presence(IP_PROTO_UDP, 0),
    "icmp": _transport_presence(IP_PROTO_ICMP, 4), "icmpv6": _transport_presence(IP_PROTO_ICMPV6, 6),
    "dns": _dns_presence, "mdns": _dns_presence, "llmnr": _dns_presence,
    "http": lambda source: source._http_field_count("http"), "tls": _tls_presence,
}
"""Protocols whose presence the index can tell (or rule out); their fields are absent where they are."""

_FRAME_FIELDS = {
    "frame.number": lambda source: np.arange(source.start + 1, source.stop + 1, dtype=np.int64),
    "frame.len": lambda source: source._raw("wire_length"),
    "frame.cap_len": lambda source: source._raw("captured_length"),
    "frame.time": lambda source: source.nanoseconds_since(0),
    "frame.time_epoch": lambda source: source.nanoseconds_since(0),
    "frame.time_relative": lambda source: source.nanoseconds_since(
        int(source.index.column("timestamp_ns")[0]) if len(source.index) else 0),
    "frame.time_delta": lambda source: source.nanoseconds_since(source.previous_timestamps()),
}
_ETH_FIELDS = {
    "eth.src": lambda source: source._raw("eth_src"),
    "eth.dst": lambda source: source._raw("eth_dst"),
    "eth.type": lambda source: np.where(source._raw("vlan_tagged"), 0x8100, source._raw("ethertype")),
}
_IP_FIELDS = {
    "ip.src": lambda source: source._raw("ip4_src"), "ip.dst": lambda source: source._raw("ip4_dst"),
    "ip.proto": lambda source: source._raw("ip_proto"), "ip.ttl": lambda source: source._raw("ip_ttl"),
}
_IPV6_FIELDS = {
    "ipv6.src": lambda source: _ipv6_block(source, "ip6_src"),
    "ipv6.dst": lambda source: _ipv6_block(source, "ip6_dst"),
    "ipv6.nxt": lambda source: source._raw("ip_proto"), "ipv6.hlim": lambda source: source._raw("ip_ttl"),
}
_TCP_FIELDS = {
    "tcp.srcport": lambda source: source._raw("src_port"), "tcp.dstport": lambda source: source._raw("dst_port"),
    "tcp.flags": lambda source: source._raw("tcp_flags"), "tcp.seq_raw": lambda source: source._raw("tcp_seq"),
    "tcp.ack_raw": lambda source: source._raw("tcp_ack"),
    "tcp.window_size_value": lambda source: source._raw("tcp_window"),
    "tcp.len": lambda source: source._raw("payload_length"),
    "tcp.hdr_len": lambda source: source._raw("payload_offset").astype(np.int64)
    - source._raw("transport_offset"),
    "tcp.stream": lambda source: source._raw("tcp_stream"),
    "tcp.seq": lambda source: source.relative_numbers[0],
    "tcp.ack": lambda source: source.relative_numbers[1],
    "tcp.nxtseq": lambda source: source.relative_numbers[0] + source._raw("payload_length")
    + (source._raw("tcp_flags") & _SYN != 0) + (source._raw("tcp_flags") & _FIN != 0),
}
_UDP_FIELDS = {
    "udp.srcport": lambda source: source._raw("src_port"), "udp.dstport": lambda source: source._raw("dst_port"),
    "udp.length": lambda source: source._raw("payload_length").astype(np.int64) + 8,
    "udp.stream": lambda source: source._raw("udp_stream"),
}

_VALUE_COLUMNS: dict[str, Callable[[IndexColumns], np.ndarray]] = {
    **_FRAME_FIELDS, **_ETH_FIELDS, **_IP_FIELDS, **_IPV6_FIELDS, **_TCP_FIELDS, **_UDP_FIELDS}
"""Fields the index keeps a value of (the filter evaluates them vectorized)."""

_VALUE_PRESENCE: dict[str, Callable[[IndexColumns], np.ndarray]] = {
    **{name: _PRESENCE["frame"] for name in _FRAME_FIELDS},
    "eth.src": _eth_header_presence, "eth.dst": _eth_header_presence, "eth.type": _eth_type_presence,
    **{name: _ip_presence for name in _IP_FIELDS}, **{name: _ipv6_presence for name in _IPV6_FIELDS},
    **{name: _PRESENCE["tcp"] for name in _TCP_FIELDS}, **{name: _PRESENCE["udp"] for name in _UDP_FIELDS},
}
"""How often each kept field occurs: once wherever its layer is (its value column is exact there)."""
