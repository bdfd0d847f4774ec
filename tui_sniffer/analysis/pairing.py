"""Cross-packet facts the application dissectors show: which request a reply answers (and which
reply a request got), and what a conversation negotiated.

Like Wireshark once a file is loaded (tshark -2), a frame learns from frames before and after it.
Candidates are narrowed with the index's columns (same stream or protocol) and dissected plainly,
nearest first, so a lookup touches a handful of packets, not the file.
"""
from __future__ import annotations

import ipaddress
from typing import Callable

import numpy as np

from tui_sniffer.dissect.tree import DissectedPacket
from tui_sniffer.dissect.protocols.dns import DNS_PORTS
from tui_sniffer.store.index import PacketIndex

_IPV6_FRAGMENT = 44
SEARCH_LIMIT = 2000
"""How many candidate frames a lookup dissects at most before giving up (and how many of a stream's
first data frames are looked at for HTTP and TLS)."""
_DNS_HEADER_BYTES = 12

_ECHO_KINDS = (("icmp", 1, 8, 0, "icmp.ident", "icmp.seq"),
               ("icmpv6", 58, 128, 129, "icmpv6.echo.identifier", "icmpv6.echo.sequence_number"))


class RequestPairing:
    """Annotations for one frame from the frames before it (`icmp.resp_to`, `dns.response_to`…)."""

    def __init__(self, index: PacketIndex, plain_dissection: Callable[[int], DissectedPacket],
                 is_complete: Callable[[], bool] = lambda: True) -> None:
        self._index = index
        self._plain = plain_dissection
        self._is_complete = is_complete
        self._stream_facts: dict[tuple[str, int], dict[str, object]] = {}

    def annotations(self, row: int) -> dict[str, object]:
        """Every annotation that applies to the packet in `row`."""
        index = self._index
        protocol = int(index.column("ip_proto")[row])
        facts: dict[str, object] = {}
        if protocol == _IPV6_FRAGMENT:
            protocol = 58  # a reassembled IPv6 datagram (ICMPv6 is the fragmented one worth pairing)
        if protocol in (1, 58):
            facts.update(self._echo_annotations(row, protocol))
            facts.update(self._quoted_stream(row))
        tcp_stream = int(index.column("tcp_stream")[row])
        udp_stream = int(index.column("udp_stream")[row])
        if udp_stream >= 0 or tcp_stream >= 0:
            facts.update(self._dns_annotations(row, tcp_stream, udp_stream))
        if tcp_stream >= 0:
            facts.update(self._stream_annotations(row, tcp_stream))
        return facts

    def _rows_around(self, row: int, rows: np.ndarray, later: bool) -> np.ndarray:
        """Of the ascending `rows`, those after (or before) `row`, nearest first, at most the search limit."""
        if later:
            return rows[np.searchsorted(rows, row, "right"):][:SEARCH_LIMIT]
        return rows[:np.searchsorted(rows, row, "left")][::-1][:SEARCH_LIMIT]

    def _seconds_between(self, first_row: int, second_row: int, nanoseconds_per_unit: float) -> float:
        """The time from one packet to another, in seconds (1e9) or milliseconds (1e6)."""
        timestamps = self._index.column("timestamp_ns")
        return (int(timestamps[second_row]) - int(timestamps[first_row])) / nanoseconds_per_unit

    def _quoted_stream(self, row: int) -> dict[str, object]:
        """`icmp.quoted_udp_stream`: the UDP stream of the datagram an ICMP/ICMPv6 error quotes, which
        Wireshark shows as the quoted header's `[Stream index]`."""
        packet = self._plain(row)
        ports, addresses = packet.values("udp.srcport") + packet.values("udp.dstport"), \
            (packet.values("ip.src") + packet.values("ip.dst"))[1::2] or \
            (packet.values("ipv6.src") + packet.values("ipv6.dst"))[1::2]
        if len(ports) != 2 or len(addresses) != 2:
            return {}
        index = self._index
        source_ports, destination_ports = index.column("src_port"), index.column("dst_port")
        same_ports = (((source_ports == ports[0]) & (destination_ports == ports[1])) |
                      ((source_ports == ports[1]) & (destination_ports == ports[0])))
        candidates = same_ports & (index.column("udp_stream") >= 0)
        wanted = {ipaddress.ip_address(str(address)) for address in addresses}
        for candidate in self._rows_around(row, np.flatnonzero(candidates), later=False).tolist():
            if self._addresses(candidate) == wanted:
                return {"icmp.quoted_udp_stream": int(index.column("udp_stream")[candidate])}
        return {}

    def _addresses(self, row: int) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        """The source and destination IP addresses of a row, from the index."""
        index = self._index
        if int(index.column("ip_version")[row]) == 4:
            return {ipaddress.IPv4Address(int(index.column(name)[row])) for name in ("ip4_src", "ip4_dst")}
        return {ipaddress.IPv6Address(bytes(index.ipv6_addresses(name, row))) for name in ("ip6_src", "ip6_dst")}

    def _echo_annotations(self, row: int, protocol: int) -> dict[str, object]:
        """`icmp.resp_in` for an echo request, `icmp.resp_to` and `icmp.resptime` for a reply (ICMPv6 alike)."""
        packet = self._plain(row)
        for prefix, number, request_type, reply_type, ident_field, seq_field in _ECHO_KINDS:
            own_type = packet.values(f"{prefix}.type")[:1]
            if number != protocol or own_type not in ([request_type], [reply_type]):
                continue
            is_reply = own_type == [reply_type]
            wanted_type = request_type if is_reply else reply_type
            ident, sequence = packet.values(ident_field)[:1], packet.values(seq_field)[:1]
            protocols = self._index.column("ip_proto")
            same_protocol = (protocols == protocol) | (protocols == _IPV6_FRAGMENT) if number == 58 \
                else protocols == protocol
            for candidate in self._rows_around(row, np.flatnonzero(same_protocol), later=not is_reply).tolist():
                other = self._plain(candidate)
                if other.values(f"{prefix}.type")[:1] == [wanted_type] and \
                        other.values(ident_field)[:1] == ident and other.values(seq_field)[:1] == sequence:
                    if not is_reply:
                        return {f"{prefix}.resp_in": candidate + 1}
                    return {f"{prefix}.resp_to": candidate + 1,
                            f"{prefix}.resptime": self._seconds_between(candidate, row, 1e6)}
            if not is_reply and self._is_complete():
                return {f"{prefix}.no_resp": True}
        return {}

    def _dns_annotations(self, row: int, tcp_stream: int, udp_stream: int) -> dict[str, object]:
        """`dns.messages`: for each DNS message in the frame, in order, how it pairs: `dns.response_in` for a
        query, `dns.response_to` and `dns.time` for a response, `dns.retransmit_request_in` /
        `dns.retransmit_response_in` for a repeat of an earlier one, `dns.unsolicited` for a response
        nothing asked for (all within one conversation, as Wireshark matches them)."""
        messages = self._dns_messages(row)
        if not messages:
            return {}
        column, stream = ("udp_stream", udp_stream) if udp_stream >= 0 else ("tcp_stream", tcp_stream)
        stream_rows = self._index.stream_rows(column, stream)
        return {"dns.messages": [self._dns_links(row, stream_rows, identifier, is_response)
                                 for identifier, is_response in messages]}

    def _dns_links(self, row: int, stream_rows: np.ndarray, identifier: int, is_response: bool) -> dict[str, object]:
        """How one DNS message pairs with the others of its conversation."""
        links: dict[str, object] = {}
        earlier_response = None
        for candidate in self._rows_around(row, stream_rows, later=False).tolist():
            earlier = self._dns_messages(candidate)
            if (identifier, False) in earlier:
                if not is_response:
                    links["dns.retransmit_request_in"] = candidate + 1
                    break
                links.update({"dns.response_to": candidate + 1,
                              "dns.time": self._seconds_between(candidate, row, 1e9)})
                if earlier_response is not None:
                    links["dns.retransmit_response_in"] = earlier_response + 1
                break
            if (identifier, True) in earlier:
                if not is_response:
                    break
                earlier_response = candidate if earlier_response is None else earlier_response
        if is_response:
            if "dns.response_to" not in links:
                links["dns.unsolicited"] = True
            return links
        for candidate in self._rows_around(row, stream_rows, later=True).tolist():
            if (identifier, True) in self._dns_messages(candidate):
                links["dns.response_in"] = candidate + 1
                break
        return links

    def _dns_messages(self, row: int) -> list[tuple[int, bool]]:
        """(transaction id, is a response) of each DNS message in a row. Where the index's columns are
        sure of the layers, a row on no DNS port has none and a plain datagram on one gives its ID and
        QR bit from the payload's first bytes; other rows are dissected."""
        index = self._index
        if index.column("layer_doubt")[row]:
            return _dns_messages(self._plain(row))
        if int(index.column("src_port")[row]) not in DNS_PORTS and int(index.column("dst_port")[row]) not in DNS_PORTS:
            return []
        if index.column("udp_stream")[row] >= 0 and index.column("payload_length")[row] >= _DNS_HEADER_BYTES and \
                index.column("captured_length")[row] >= int(index.column("payload_offset")[row]) + _DNS_HEADER_BYTES:
            head = int(index.column("payload_head")[row])
            return [(head >> 48, bool(head >> 47 & 1))]
        return _dns_messages(self._plain(row))

    def _stream_annotations(self, row: int, tcp_stream: int) -> dict[str, object]:
        """`http.conversation` and `tls.version`: what the frames of this TCP stream showed."""
        known = self._learn_stream(tcp_stream)
        facts: dict[str, object] = {}
        if "first_http_row" in known:
            facts["http.conversation"] = True
        if "server_hello_row" in known:
            facts["tls.version"] = known["tls_version"]
        if known.get("resumed_ccs_row") == row:
            facts["tls.resumed"] = True
        return facts

    def _learn_stream(self, tcp_stream: int) -> dict[str, object]:
        """Scan a stream's first data frames (once, as far as indexed) for HTTP and a ServerHello.

        The scan ends at the first HTTP message (TLS can follow only a CONNECT) or at the server's
        ChangeCipherSpec (what follows is encrypted), so a long download or TLS session costs a
        few dissections, not one per data frame.
        """
        known = self._stream_facts.setdefault(("tcp", tcp_stream), {"scanned": 0, "scanned_until": 0})
        start = int(known["scanned_until"])
        row = self._index.count
        if row <= start or int(known["scanned"]) >= SEARCH_LIMIT or _stream_learnt(known):
            return known
        stream_rows = self._index.stream_rows("tcp_stream", tcp_stream, start, row)
        with_payload = stream_rows[self._index.column("payload_length")[stream_rows] > 0]
        for candidate in with_payload[:SEARCH_LIMIT - int(known["scanned"])].tolist():
            known["scanned"] = int(known["scanned"]) + 1
            packet = self._plain(candidate)
            if "first_http_row" not in known and packet.nodes("http"):
                known["first_http_row"] = candidate
            if "CONNECT" in packet.values("http.request.method"):
                known["http_connect"] = True
            negotiated = packet.values("tls.handshake.extensions.supported_version") or \
                packet.values("tls.handshake.version")[:1]
            if "server_hello_row" not in known and 2 in packet.values("tls.handshake.type") and negotiated:
                known["server_hello_row"] = candidate
                known["tls_version"] = negotiated[-1]
            if "server_ccs_row" not in known and packet.nodes("tls"):
                _follow_tls_handshake(known, packet, candidate)
            if _stream_learnt(known):
                break
        else:
            known["scanned_until"] = row
        return known


def _stream_learnt(known: dict[str, object]) -> bool:
    """Whether later frames of a stream can change what is known of it: not after an HTTP message
    unless a CONNECT opened a tunnel, and not after the server's ChangeCipherSpec."""
    return "server_ccs_row" in known or ("first_http_row" in known and not known.get("http_connect"))


def _follow_tls_handshake(known: dict[str, object], packet: DissectedPacket, row: int) -> None:
    """Wireshark's session resumption guess, up to the server's ChangeCipherSpec: a TLS 1.2 server
    that changes ciphers without a ServerHelloDone, holding a session ID or ticket, resumes a session
    (the expert note `This session reuses previously negotiated keys`)."""
    source_port = (packet.values("tcp.srcport") or [None])[0]
    from_server = source_port is not None and known.get("server_port") == source_port
    message: object = None
    for layer in packet.nodes("tls"):
        for node in layer.walk():
            name = node.definition.name if node.definition is not None else None
            if name == "tls.handshake.type":
                message = node.value
                if message == 2:
                    known["server_port"] = source_port
                    from_server = True
                elif message == 14 and from_server:
                    known["server_hello_done"] = True
                elif message == 4 and from_server:
                    known["session_ticket"] = True
            elif name == "tls.handshake.session_id_length" and message == 2 and from_server:
                known["session_id"] = bool(node.value)
            elif name == "tls.handshake.extension.type":
                known["last_extension"] = node.value
            elif name == "tls.handshake.extension.len" and message == 1 and known.get("last_extension") == 35:
                known["session_ticket"] = known.get("session_ticket") or bool(node.value)
            elif name == "tls.change_cipher_spec" and from_server:
                known["server_ccs_row"] = row
                if known.get("tls_version") != 0x0304 and not known.get("server_hello_done") and \
                        (known.get("session_ticket") or known.get("session_id")):
                    known["resumed_ccs_row"] = row
                return


def _dns_messages(packet: DissectedPacket) -> list[tuple[int, bool]]:
    """(transaction id, is a response) of each DNS message in a packet, in order."""
    return list(zip(packet.values("dns.id"), (bool(flag) for flag in packet.values("dns.flags.response"))))
