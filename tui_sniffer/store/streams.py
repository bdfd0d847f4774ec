"""Stream numbering: `tcp.stream` / `udp.stream` by first appearance of each address/port pair."""
from __future__ import annotations

import numpy as np

from tui_sniffer.store.summary import IP_PROTO_TCP, IP_PROTO_UDP, SummaryColumns

_MIX = np.uint64(0x9E3779B97F4A7C15)


def _endpoint_keys(summary: SummaryColumns, source: bool) -> np.ndarray:
    """A 64-bit key per packet for one endpoint (address and port), equal for equal endpoints."""
    address = (summary.ip4_src if source else summary.ip4_dst).astype(np.uint64)
    block = summary.ip6_src if source else summary.ip6_dst
    if block.any():
        halves = np.ascontiguousarray(block).view(np.uint64)
        ipv6_hash = (halves[:, 0] * _MIX) ^ halves[:, 1] ^ np.uint64(1 << 63)
        address = np.where(summary.ip_version == 6, ipv6_hash, address)
    port = (summary.src_port if source else summary.dst_port).astype(np.uint64)
    return (address * _MIX) ^ port


class StreamTable:
    """Assigns stream indexes in order of first appearance, across batches, like Wireshark."""

    def __init__(self) -> None:
        self._stream_of_pair: dict[tuple[int, int, int], int] = {}
        self.tcp_stream_count = 0
        self.udp_stream_count = 0

    def assign(self, summary: SummaryColumns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stream index columns (-1 where not TCP/UDP) and the direction (0 from the lower endpoint)."""
        count = len(summary.src_port)
        source_keys = _endpoint_keys(summary, True)
        destination_keys = _endpoint_keys(summary, False)
        direction = (source_keys > destination_keys).astype(np.uint8)
        low = np.minimum(source_keys, destination_keys)
        high = np.maximum(source_keys, destination_keys)
        has_ports = (summary.ip_version != 0) & ~summary.is_fragment
        tcp = np.full(count, -1, dtype=np.int32)
        udp = np.full(count, -1, dtype=np.int32)
        for protocol_number, streams in ((IP_PROTO_TCP, tcp), (IP_PROTO_UDP, udp)):
            rows = np.nonzero(has_ports & (summary.ip_proto == protocol_number))[0]
            if not len(rows):
                continue
            pairs = np.stack([low[rows], high[rows]], axis=1)
            unique_pairs, first_rows, inverse = np.unique(pairs, axis=0, return_index=True,
                                                          return_inverse=True)
            stream_of_unique = np.empty(len(unique_pairs), dtype=np.int32)
            for unique_number in np.argsort(first_rows, kind="stable"):
                key = (protocol_number, int(unique_pairs[unique_number, 0]), int(unique_pairs[unique_number, 1]))
                stream = self._stream_of_pair.get(key)
                if stream is None:
                    stream = self._next_stream(protocol_number)
                    self._stream_of_pair[key] = stream
                stream_of_unique[unique_number] = stream
            streams[rows] = stream_of_unique[inverse.reshape(-1)]
        return tcp, udp, direction

    def _next_stream(self, protocol_number: int) -> int:
        """The next free stream index for TCP or UDP."""
        if protocol_number == IP_PROTO_TCP:
            self.tcp_stream_count += 1
            return self.tcp_stream_count - 1
        self.udp_stream_count += 1
        return self.udp_stream_count - 1
