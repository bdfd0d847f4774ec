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
            if name not in self._columns:
                if name.startswith("ip6_") and not values.any():
                    continue
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

    def has_column(self, name: str) -> bool:
        """Whether a column exists (IPv6 address columns appear only once IPv6 is seen)."""
        return name in self._columns

    def nbytes(self) -> int:
        """Memory held by the columns, for benchmarks."""
        return sum(array.nbytes for array in self._columns.values())
