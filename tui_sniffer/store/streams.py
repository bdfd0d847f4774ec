"""Stream numbering: `tcp.stream` / `udp.stream` by first appearance of each address/port pair, and
a new `tcp.stream` where a SYN starts a new conversation on a pair already used (port reuse)."""
from __future__ import annotations

import numpy as np

from tui_sniffer.store.summary import IP_PROTO_TCP, IP_PROTO_UDP, SummaryColumns
from tui_sniffer.store.tcp_reuse import PortReuse

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


def _pair_keys(pairs: np.ndarray) -> np.ndarray:
    """One 64-bit key per (lower, higher) endpoint-key pair, equal for equal pairs (two different pairs
    share one with odds of about 1 in 40 million over a million conversations)."""
    return (pairs[:, 0] * _MIX) ^ ((pairs[:, 1] << np.uint64(29)) | (pairs[:, 1] >> np.uint64(35)))


class _PairStreams:
    """The latest stream number of each endpoint pair of one protocol, as sorted arrays (no Python
    object per pair: a million short conversations would otherwise cost ~100 MB of dict entries)."""

    def __init__(self) -> None:
        self._keys = np.empty(0, dtype=np.uint64)
        self._streams = np.empty(0, dtype=np.int64)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The stream of each pair key, -1 where the pair was never seen."""
        if not len(self._keys):
            return np.full(len(keys), -1, dtype=np.int64)
        positions, seen = self._find(keys)
        return np.where(seen, self._streams[positions], -1)

    def store(self, keys: np.ndarray, streams: np.ndarray) -> None:
        """Make each pair key's stream the given one (the last given where a key repeats)."""
        last = len(keys) - 1 - np.unique(keys[::-1], return_index=True)[1]
        keys, streams = keys[last], streams[last]
        positions, seen = self._find(keys)
        self._streams[positions[seen]] = streams[seen]
        new_keys, new_streams = keys[~seen], streams[~seen]
        at = np.searchsorted(self._keys, new_keys)
        self._keys = np.insert(self._keys, at, new_keys)
        self._streams = np.insert(self._streams, at, new_streams)

    def _find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each key is (or would go) in the sorted keys, and whether it is there."""
        if not len(self._keys):
            return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=bool)
        positions = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return positions, self._keys[positions] == keys


class StreamTable:
    """Assigns stream indexes in order of first appearance, across batches, like Wireshark."""

    def __init__(self) -> None:
        self._streams_of_pairs = {IP_PROTO_TCP: _PairStreams(), IP_PROTO_UDP: _PairStreams()}
        self._tcp_reuse = PortReuse()
        self.restarted_tcp_streams: set[int] = set()
        """TCP streams a SYN started on endpoints an earlier stream used (Wireshark's reused ports)."""
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
            inverse = inverse.reshape(-1)
            pair_streams = self._streams_of_pairs[protocol_number]
            keys = _pair_keys(unique_pairs)
            known = pair_streams.lookup(keys)
            restarts = []
            if protocol_number == IP_PROTO_TCP:
                restarts = self._tcp_reuse.splits(known, inverse, direction[rows], summary.tcp_flags[rows],
                                                  summary.tcp_seq[rows], summary.tcp_ack[rows])
            streams[rows] = self._number(protocol_number, keys, known, first_rows, inverse, restarts)
            if protocol_number == IP_PROTO_TCP:
                self._tcp_reuse.remember(pair_streams.lookup(keys))
        return tcp, udp, direction

    def _number(self, protocol_number: int, keys: np.ndarray, known: np.ndarray,
                first_rows: np.ndarray, pair_of_row: np.ndarray, restarts: list[tuple[int, int]]) -> np.ndarray:
        """One batch's stream numbers: a pair seen before keeps its stream; a new pair, and a SYN that
        starts over on a used pair, take the next numbers in the order they appear."""
        stream_of_pair = known.copy()
        events = sorted([(int(first_rows[pair]), 0, pair) for pair in np.flatnonzero(known < 0).tolist()]
                        + [(row, 1, pair) for row, pair in restarts])
        new_conversations = []
        numbered_pairs, numbered_streams = [], []
        for row, restarted, pair in events:
            stream = self._next_stream(protocol_number)
            numbered_pairs.append(pair)
            numbered_streams.append(stream)
            if restarted:
                new_conversations.append((row, pair, stream))
                self.restarted_tcp_streams.add(stream)
            else:
                stream_of_pair[pair] = stream
        if numbered_pairs:
            self._streams_of_pairs[protocol_number].store(keys[numbered_pairs],
                                                          np.array(numbered_streams, dtype=np.int64))
        numbers = stream_of_pair[pair_of_row]
        positions = np.arange(len(pair_of_row))
        for row, pair, stream in new_conversations:
            numbers[(pair_of_row == pair) & (positions >= row)] = stream
        return numbers.astype(np.int32)

    def _next_stream(self, protocol_number: int) -> int:
        """The next free stream index for TCP or UDP."""
        if protocol_number == IP_PROTO_TCP:
            self.tcp_stream_count += 1
            return self.tcp_stream_count - 1
        self.udp_stream_count += 1
        return self.udp_stream_count - 1
