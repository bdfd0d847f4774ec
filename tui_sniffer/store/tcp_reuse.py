"""Port reuse: the SYNs that start a new TCP conversation on endpoints an earlier one used.

Wireshark gives such a SYN a new `tcp.stream` (and `[TCP Port numbers reused]`) when its sequence
number differs from the one the conversation counts from in that direction: set by the direction's
first segment (a SYN's own number, otherwise one less) or, if that comes first, by the other side's
first acknowledgment (one less than it). A SYN with the same number is a retransmission.
"""
from __future__ import annotations

import numpy as np

_SYN, _ACK = 0x02, 0x10
_MASK = 0xFFFFFFFF
_UNKNOWN = -1


class PortReuse:
    """Each TCP stream's starting sequence numbers, kept across batches, and the SYNs that start over."""

    def __init__(self) -> None:
        self._base = np.full(1024, _UNKNOWN, dtype=np.int64)
        """Index stream * 2 + direction: the number that direction counts from, or -1 if not known yet."""
        self._batch: _Batch | None = None
        self._epoch_start: dict[int, int] = {}

    def splits(self, stream_of_pair: np.ndarray, pair_of_row: np.ndarray, direction: np.ndarray,
               flags: np.ndarray, seq: np.ndarray, ack: np.ndarray) -> list[tuple[int, int]]:
        """(row, pair) of each SYN in this batch that starts a new conversation, in row order.

        `stream_of_pair` is each pair's stream before this batch (-1 for a pair not seen before);
        the other arrays have one entry per TCP row of the batch.
        """
        batch = self._batch = _Batch(pair_of_row, direction, flags, seq, ack)
        self._epoch_start = {}
        bases: dict[int, list[int | None]] = {}
        found = []
        for row in self._syns_to_check(batch, stream_of_pair, pair_of_row, direction, flags).tolist():
            pair, side = int(pair_of_row[row]), int(direction[row])
            known = bases.get(pair)
            if known is None:
                known = bases[pair] = [self._known(int(stream_of_pair[pair]), 0),
                                       self._known(int(stream_of_pair[pair]), 1)]
            if known[side] is None:
                known[side] = batch.base(pair, side, self._epoch_start.get(pair, -1), row)
            syn_seq = int(seq[row])
            if known[side] is None:
                known[side] = syn_seq
            elif known[side] != syn_seq:
                found.append((row, pair))
                self._epoch_start[pair] = row
                known[side], known[1 - side] = syn_seq, None
        return found

    def _syns_to_check(self, batch: _Batch, stream_of_pair: np.ndarray, pair_of_row: np.ndarray,
                       direction: np.ndarray, flags: np.ndarray) -> np.ndarray:
        """The rows of pure SYNs that could start over: not a direction's very first segment."""
        syns = np.flatnonzero(flags & (_SYN | _ACK) == _SYN)
        groups = pair_of_row[syns].astype(np.int64) * 2 + direction[syns]
        first_rows = batch.first_rows[np.searchsorted(batch.groups, groups)]
        streams = stream_of_pair[pair_of_row[syns]]
        slots = np.clip(streams * 2 + direction[syns], 0, len(self._base) - 1)
        known_before = (streams >= 0) & (streams * 2 + 1 < len(self._base)) & (self._base[slots] != _UNKNOWN)
        return syns[known_before | (first_rows < syns)]

    def remember(self, latest_stream_of_pair: np.ndarray) -> None:
        """Keep the starting numbers of each pair's latest conversation for the next batches."""
        batch = self._batch
        if batch is None:
            return
        needed = 2 * (int(latest_stream_of_pair.max(initial=-1)) + 1)
        if needed > len(self._base):
            grown = np.full(max(needed, 2 * len(self._base)), _UNKNOWN, dtype=np.int64)
            grown[:len(self._base)] = self._base
            self._base = grown
        groups, bases = batch.groups, batch.first_bases
        slots = latest_stream_of_pair[groups // 2].astype(np.int64) * 2 + groups % 2
        unknown = (self._base[slots] == _UNKNOWN) & (bases != _UNKNOWN)
        self._base[slots[unknown]] = bases[unknown]
        for pair, start in self._epoch_start.items():
            for side in (0, 1):
                base = batch.base(pair, side, start - 1, batch.size)
                self._base[int(latest_stream_of_pair[pair]) * 2 + side] = _UNKNOWN if base is None else base
        self._batch = None

    def _known(self, stream: int, side: int) -> int | None:
        """The starting number of a stream's direction from earlier batches, if known."""
        slot = stream * 2 + side
        if stream < 0 or slot >= len(self._base) or self._base[slot] == _UNKNOWN:
            return None
        return int(self._base[slot])


class _Batch:
    """One batch's TCP rows grouped by (pair, direction), to find a direction's first segments."""

    def __init__(self, pair_of_row: np.ndarray, direction: np.ndarray, flags: np.ndarray, seq: np.ndarray,
                 ack: np.ndarray) -> None:
        self.size = len(pair_of_row)
        self._flags, self._seq, self._ack = flags, seq, ack
        group = pair_of_row.astype(np.int64) * 2 + direction
        self._by_group = np.argsort(group, kind="stable")
        self._groups = group[self._by_group]
        acking = np.flatnonzero(flags & _ACK)
        acked_group = pair_of_row[acking].astype(np.int64) * 2 + 1 - direction[acking]
        order = np.argsort(acked_group, kind="stable")
        self._by_acked_group, self._acked_groups = acking[order], acked_group[order]
        self.groups, self.first_rows, self.first_bases = self._first_bases()

    def base(self, pair: int, side: int, after: int, before: int) -> int | None:
        """The starting number of direction `side` set between rows `after` and `before` (exclusive)."""
        group = pair * 2 + side
        own = _first_between(self._by_group, self._groups, group, after, before)
        acked = _first_between(self._by_acked_group, self._acked_groups, group, after, before)
        if own is None and acked is None:
            return None
        if acked is None or (own is not None and own < acked):
            return int(self._seq[own]) if self._flags[own] & _SYN else (int(self._seq[own]) - 1) & _MASK
        return (int(self._ack[acked]) - 1) & _MASK

    def _first_bases(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (pair * 2 + direction) group seen here, the row of its first segment setting its
        starting number, and that number."""
        own_groups, own_first = np.unique(self._groups, return_index=True)
        acked_groups, acked_first = np.unique(self._acked_groups, return_index=True)
        groups = np.union1d(own_groups, acked_groups)
        own_rows = np.full(len(groups), self.size, dtype=np.int64)
        own_rows[np.searchsorted(groups, own_groups)] = self._by_group[own_first]
        acked_rows = np.full(len(groups), self.size, dtype=np.int64)
        acked_rows[np.searchsorted(groups, acked_groups)] = self._by_acked_group[acked_first]
        own = np.minimum(own_rows, self.size - 1)
        seq = self._seq[own].astype(np.int64)
        own_bases = np.where(self._flags[own] & _SYN, seq, (seq - 1) & _MASK)
        acked_bases = (self._ack[np.minimum(acked_rows, self.size - 1)].astype(np.int64) - 1) & _MASK
        own_first_row = own_rows < acked_rows
        return groups, np.where(own_first_row, own_rows, acked_rows), np.where(own_first_row, own_bases, acked_bases)


def _first_between(rows: np.ndarray, groups: np.ndarray, group: int, after: int, before: int) -> int | None:
    """The first row of `group` strictly between `after` and `before` (rows sorted by group, then row)."""
    start, stop = np.searchsorted(groups, group, "left"), np.searchsorted(groups, group, "right")
    candidates = rows[start:stop]
    position = np.searchsorted(candidates, after, "right")
    if position < len(candidates) and candidates[position] < before:
        return int(candidates[position])
    return None
