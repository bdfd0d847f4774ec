"""The packet index: per packet only file offset, lengths, time, interface and summary columns.

Columns live in numpy arrays that grow by doubling as batches arrive, so a million packets take a
little over a hundred bytes each and no Python object per packet. The index is filled by one
writer (the indexing worker) while readers look at `count` and the columns.
"""
from __future__ import annotations

from dataclasses import fields

import numpy as np

from tui_sniffer.store.stream_rows import StreamRows
from tui_sniffer.store.streams import StreamTable
from tui_sniffer.store.summary import SummaryColumns, summarize

_RECORD_COLUMNS = {
    "file_offset": np.int64, "captured_length": np.uint32, "wire_length": np.uint32,
    "timestamp_ns": np.int64, "interface_id": np.uint16, "link_type": np.uint16,
}
_STREAM_COLUMNS = {"tcp_stream": np.int32, "udp_stream": np.int32, "flow_direction": np.uint8}
_IPV6_ADDRESS_COLUMNS = ("ip6_src", "ip6_dst")
"""Kept as `<name>_id` columns: a number per packet into one table of the distinct addresses."""


class Ipv6AddressTable:
    """Each distinct IPv6 address once, numbered from 1 (0 stands for none: all-zero bytes), so an
    address column costs 4 bytes per packet instead of 16."""

    def __init__(self) -> None:
        self._addresses = np.zeros((1, 16), dtype=np.uint8)
        self._number_of: dict[bytes, int] = {bytes(16): 0}

    def numbers(self, block: np.ndarray) -> np.ndarray:
        """The number of each 16-byte row of `block` (0 for all-zero rows), adding addresses not seen before."""
        present = np.flatnonzero(block.any(axis=1))
        result = np.zeros(len(block), dtype=np.uint32)
        distinct, where = np.unique(np.ascontiguousarray(block[present]).view(np.dtype((np.void, 16))).ravel(),
                                    return_inverse=True)
        numbers = np.empty(len(distinct), dtype=np.uint32)
        new_addresses = []
        for position, address in enumerate(distinct.tolist()):
            number = self._number_of.get(address)
            if number is None:
                number = self._number_of[address] = len(self._number_of)
                new_addresses.append(np.frombuffer(address, dtype=np.uint8))
            numbers[position] = number
        if new_addresses:
            self._addresses = np.concatenate((self._addresses, np.stack(new_addresses)))
        result[present] = numbers[where.reshape(-1)]
        return result

    def nbytes(self) -> int:
        """Memory held by the distinct addresses (the lookup dict included, roughly)."""
        return self._addresses.nbytes + 100 * len(self._number_of)

    def addresses(self, numbers: np.ndarray | int) -> np.ndarray:
        """The 16 address bytes of each number (one row of 16 for a single number)."""
        return self._addresses[numbers]


class PacketIndex:
    """Growable columns describing every packet read so far (0-based rows; frame number = row + 1)."""

    def __init__(self, expected_packets: int = 1024) -> None:
        self.count = 0
        self._capacity = max(expected_packets, 16)
        self._columns: dict[str, np.ndarray] = {}
        summary_shapes = {column.name: None for column in fields(SummaryColumns)}
        for name, dtype in {**_RECORD_COLUMNS, **_STREAM_COLUMNS}.items():
            self._columns[name] = np.zeros(self._capacity, dtype=dtype)
        self._summary_names = list(summary_shapes)
        self._ipv6_addresses = Ipv6AddressTable()
        self.streams = StreamTable()
        self._stream_rows = {name: StreamRows() for name in ("tcp_stream", "udp_stream")}

    def __len__(self) -> int:
        return self.count

    def column(self, name: str) -> np.ndarray:
        """A read-only view of one column over the packets indexed so far."""
        view = self._columns[name][:self.count]
        view.flags.writeable = False
        return view

    def stream_rows(self, column: str, stream: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Ascending rows in [start, stop) of TCP or UDP stream `stream` (`column` "tcp_stream"/"udp_stream")."""
        values = self.column(column)
        return self._stream_rows[column].rows(values, stream, start, len(values) if stop is None else stop)

    @property
    def column_names(self) -> list[str]:
        """Every column the index keeps."""
        return list(self._columns)

    def append_batch(self, batch) -> range:
        """Add a `RecordBatch` from a capture file scan; returns the rows it occupies."""
        summary = summarize(batch.buffer, batch.data_positions, batch.captured_lengths, batch.link_types)
        size = len(batch)
        first = self.count
        self._reserve(first + size)
        rows = slice(first, first + size)
        self._columns["file_offset"][rows] = batch.file_offsets
        self._columns["captured_length"][rows] = batch.captured_lengths
        self._columns["wire_length"][rows] = batch.wire_lengths
        self._columns["timestamp_ns"][rows] = batch.timestamps_ns
        self._columns["interface_id"][rows] = batch.interface_ids
        self._columns["link_type"][rows] = batch.link_types
        for name in self._summary_names:
            values = getattr(summary, name)
            if name in _IPV6_ADDRESS_COLUMNS:
                if f"{name}_id" not in self._columns and not values.any():
                    continue
                name, values = f"{name}_id", self._ipv6_addresses.numbers(values)
            if name not in self._columns:
                self._columns[name] = np.zeros((self._capacity,) + values.shape[1:], dtype=values.dtype)
            self._columns[name][rows] = values
        tcp_stream, udp_stream, direction = self.streams.assign(summary)
        self._columns["tcp_stream"][rows] = tcp_stream
        self._columns["udp_stream"][rows] = udp_stream
        self._columns["flow_direction"][rows] = direction
        self.count = first + size
        return range(first, first + size)

    def _reserve(self, needed: int) -> None:
        """Grow every column (by doubling) so `needed` rows fit."""
        if needed <= self._capacity:
            return
        capacity = self._capacity
        while capacity < needed:
            capacity *= 2
        for name, array in self._columns.items():
            grown = np.zeros((capacity,) + array.shape[1:], dtype=array.dtype)
            grown[:self.count] = array[:self.count]
            self._columns[name] = grown
        self._capacity = capacity

    def ipv6_addresses(self, name: str, rows: slice | int = slice(None)) -> np.ndarray:
        """Column `name` ("ip6_src" or "ip6_dst") over `rows` as 16 address bytes per packet, zeros
        where it is not IPv6 (the `<name>_id` columns appear once IPv6 is seen)."""
        if f"{name}_id" not in self._columns:
            return np.zeros((len(range(self.count)[rows]), 16) if isinstance(rows, slice) else 16, np.uint8)
        return self._ipv6_addresses.addresses(self.column(f"{name}_id")[rows])

    def nbytes(self) -> int:
        """Memory held by the columns, for benchmarks."""
        return sum(array.nbytes for array in self._columns.values()) + self._ipv6_addresses.nbytes()
