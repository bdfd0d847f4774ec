"""Cross-packet facts the application dissectors show: which request a reply answers, and what
a conversation negotiated earlier.

Like tshark's single pass, a frame only learns about frames before it. Candidates are narrowed
with the index's columns (same stream, reversed addresses) and dissected plainly, newest first,
so a lookup touches a handful of packets, not the file.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from tui_sniffer.dissect.tree import DissectedPacket
from tui_sniffer.store.index import PacketIndex

_SEARCH_LIMIT = 2000
"""How many earlier candidate frames a lookup dissects at most before giving up."""

_ECHO_KINDS = (("icmp", 1, 8, 0, "icmp.ident", "icmp.seq"),
               ("icmpv6", 58, 128, 129, "icmpv6.echo.identifier", "icmpv6.echo.sequence_number"))


class RequestPairing:
    """Annotations for one frame from the frames before it (`icmp.resp_to`, `dns.response_to`…)."""

    def __init__(self, index: PacketIndex, plain_dissection: Callable[[int], DissectedPacket]) -> None:
        self._index = index
        self._plain = plain_dissection
        self._stream_facts: dict[tuple[str, int], dict[str, object]] = {}

    def annotations(self, row: int) -> dict[str, object]:
        """Every annotation that applies to the packet in `row`."""
        index = self._index
        protocol = int(index.column("ip_proto")[row])
        facts: dict[str, object] = {}
        if protocol in (1, 58):
            facts.update(self._echo_annotations(row, protocol))
        tcp_stream = int(index.column("tcp_stream")[row])
        udp_stream = int(index.column("udp_stream")[row])
        if udp_stream >= 0 or tcp_stream >= 0:
            facts.update(self._dns_annotations(row, tcp_stream, udp_stream))
        if tcp_stream >= 0:
            facts.update(self._stream_annotations(row, tcp_stream))
        return facts

    def _earlier_rows(self, row: int, mask: np.ndarray) -> np.ndarray:
        """Rows before `row` where `mask` holds, newest first, at most the search limit."""
        candidates = np.nonzero(mask[:row])[0]
        return candidates[::-1][:_SEARCH_LIMIT]

    def _echo_annotations(self, row: int, protocol: int) -> dict[str, object]:
        """`icmp.resp_to` / `icmpv6.resp_to` for an echo reply whose request came earlier."""
        packet = self._plain(row)
        for prefix, number, request_type, reply_type, ident_field, seq_field in _ECHO_KINDS:
            if number != protocol or packet.values(f"{prefix}.type")[:1] != [reply_type]:
                continue
            ident, sequence = packet.values(ident_field)[:1], packet.values(seq_field)[:1]
            index = self._index
            same_protocol = index.column("ip_proto")[:row] == protocol
            for candidate in self._earlier_rows(row, same_protocol):
                earlier = self._plain(int(candidate))
                if earlier.values(f"{prefix}.type")[:1] == [request_type] and \
                        earlier.values(ident_field)[:1] == ident and earlier.values(seq_field)[:1] == sequence:
                    return {f"{prefix}.resp_to": int(candidate) + 1}
        return {}

    def _dns_annotations(self, row: int, tcp_stream: int, udp_stream: int) -> dict[str, object]:
        """`dns.response_to` and `dns.time` for a DNS response whose query came earlier."""
        packet = self._plain(row)
        identifiers = packet.values("dns.id")
        if not identifiers or not any(packet.values("dns.flags.response")[:1]):
            return {}
        column, stream = ("udp_stream", udp_stream) if udp_stream >= 0 else ("tcp_stream", tcp_stream)
        same_stream = self._index.column(column)[:row] == stream
        for candidate in self._earlier_rows(row, same_stream):
            earlier = self._plain(int(candidate))
            if earlier.values("dns.id")[:1] == identifiers[:1] and \
                    not any(earlier.values("dns.flags.response")[:1]):
                timestamps = self._index.column("timestamp_ns")
                return {"dns.response_to": int(candidate) + 1,
                        "dns.time": (int(timestamps[row]) - int(timestamps[candidate])) / 1e9}
        return {}

    def _stream_annotations(self, row: int, tcp_stream: int) -> dict[str, object]:
        """`http.conversation` and `tls.version`: what earlier frames of this TCP stream showed."""
        known = self._learn_stream(tcp_stream, row)
        facts: dict[str, object] = {}
        first_http = known.get("first_http_row")
        if isinstance(first_http, int) and first_http < row:
            facts["http.conversation"] = True
        server_hello = known.get("server_hello_row")
        if isinstance(server_hello, int) and server_hello < row:
            facts["tls.version"] = known["tls_version"]
        return facts

    def _learn_stream(self, tcp_stream: int, row: int) -> dict[str, object]:
        """Scan a stream's first data frames before `row` (once each) for HTTP and a ServerHello."""
        known = self._stream_facts.setdefault(("tcp", tcp_stream), {"scanned": 0, "scanned_until": 0})
        start = int(known["scanned_until"])
        if row <= start or int(known["scanned"]) >= _SEARCH_LIMIT or \
                ("first_http_row" in known and "server_hello_row" in known):
            return known
        index = self._index
        window = slice(start, row)
        offsets = np.nonzero((index.column("tcp_stream")[window] == tcp_stream) &
                             (index.column("payload_length")[window] > 0))[0]
        for candidate in (offsets[:_SEARCH_LIMIT - int(known["scanned"])] + start).tolist():
            known["scanned"] = int(known["scanned"]) + 1
            packet = self._plain(candidate)
            if "first_http_row" not in known and packet.nodes("http"):
                known["first_http_row"] = candidate
            negotiated = packet.values("tls.handshake.extensions.supported_version")
            if "server_hello_row" not in known and 2 in packet.values("tls.handshake.type") and negotiated:
                known["server_hello_row"] = candidate
                known["tls_version"] = negotiated[-1]
        known["scanned_until"] = row
        return known
