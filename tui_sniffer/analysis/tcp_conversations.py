"""Per-stream TCP facts from the packet index: relative sequence bases and window scaling.

Wireshark numbers a direction's sequence space from its SYN (or, seen mid-stream, from the first
segment's seq − 1), and scales windows only once both SYNs announced a window-scale option.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from tui_sniffer.dissect.frame import TcpFacts
from tui_sniffer.store.index import PacketIndex

_SYN = 0x02
UNKNOWN_SCALE = -1
NO_SCALING = -2


class _FirstRows:
    """The first row seen for each stream direction key, in one growable array (no dict entry each)."""

    def __init__(self) -> None:
        self._rows = np.full(1024, -1, dtype=np.int64)

    def note(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """Record each key's first row among `rows` (ascending), for keys that have none yet."""
        unique_keys, first_positions = np.unique(keys, return_index=True)
        needed = int(unique_keys[-1]) + 1
        if needed > len(self._rows):
            grown = np.full(max(needed, 2 * len(self._rows)), -1, dtype=np.int64)
            grown[:len(self._rows)] = self._rows
            self._rows = grown
        fresh = self._rows[unique_keys] < 0
        self._rows[unique_keys[fresh]] = rows[first_positions[fresh]]

    def get(self, key: int) -> int | None:
        """The first row of `key`, or None if none was seen."""
        row = int(self._rows[key]) if key < len(self._rows) else -1
        return row if row >= 0 else None


class TcpConversations:
    """Learns each stream direction's first segment and SYN as batches are indexed."""

    def __init__(self, index: PacketIndex, read_packet: Callable[[int], bytes]) -> None:
        self._index = index
        self._read_packet = read_packet
        self._first_row = _FirstRows()
        self._syn_row = _FirstRows()
        self._window_shift: dict[int, int | None] = {}

    def observe(self, rows: range) -> None:
        """Record the first segment and first SYN of every stream direction among `rows`."""
        if not len(rows):
            return
        window = slice(rows.start, rows.stop)
        streams = self._index.column("tcp_stream")[window]
        is_tcp = streams >= 0
        if not is_tcp.any():
            return
        keys = streams.astype(np.int64) * 2 + self._index.column("flow_direction")[window]
        flags = self._index.column("tcp_flags")[window]
        for table, mask in ((self._first_row, is_tcp), (self._syn_row, is_tcp & (flags & _SYN != 0))):
            candidate_rows = np.flatnonzero(mask)
            if len(candidate_rows):
                table.note(keys[candidate_rows], candidate_rows + rows.start)

    def facts(self, row: int) -> TcpFacts | None:
        """The TCP facts for one indexed packet, or None if it is not a TCP segment."""
        stream = int(self._index.column("tcp_stream")[row])
        if stream < 0:
            return None
        direction = int(self._index.column("flow_direction")[row])
        key, reverse_key = stream * 2 + direction, stream * 2 + 1 - direction
        return TcpFacts(stream=stream, seq_base=self._base(key), ack_base=self._base(reverse_key),
                        window_scale=self._window_scale(key, reverse_key))

    def _base(self, key: int) -> int | None:
        """The sequence number a direction's relative numbers count from."""
        row = self._syn_row.get(key)
        if row is None:
            row = self._first_row.get(key)
        if row is None:
            return None
        seq = int(self._index.column("tcp_seq")[row])
        is_syn = int(self._index.column("tcp_flags")[row]) & _SYN
        return seq if is_syn else (seq - 1) & 0xFFFFFFFF

    def _window_scale(self, key: int, reverse_key: int) -> int:
        """This direction's window shift, -1 when no SYN was seen, -2 when scaling is not in use."""
        own, other = self._announced_shift(key), self._announced_shift(reverse_key)
        if own is UNKNOWN_SCALE and other is UNKNOWN_SCALE:
            return UNKNOWN_SCALE
        if own is None or other is None:
            return NO_SCALING
        if own is UNKNOWN_SCALE or other is UNKNOWN_SCALE:
            return UNKNOWN_SCALE
        return own

    def _announced_shift(self, key: int) -> int | None:
        """The shift a direction's SYN announced: None if it had no option, -1 if no SYN was seen."""
        row = self._syn_row.get(key)
        if row is None:
            return UNKNOWN_SCALE
        if key not in self._window_shift:
            data = self._read_packet(row)
            header_start = int(self._index.column("transport_offset")[row])
            header_end = int(self._index.column("payload_offset")[row])
            self._window_shift[key] = _window_scale_option(data, header_start, header_end)
        return self._window_shift[key]


def _window_scale_option(data: bytes, header_start: int, header_end: int) -> int | None:
    """The window-scale shift among a SYN's options (between its fixed header and payload), if any."""
    position = header_start + 20
    while position < header_end:
        kind = data[position]
        if kind == 0:
            return None
        if kind == 1:
            position += 1
            continue
        length = data[position + 1] if position + 1 < header_end else 0
        if kind == 3 and length == 3 and position + 2 < header_end:
            return min(data[position + 2], 14)
        if length < 2:
            return None
        position += length
    return None
