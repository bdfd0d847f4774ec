"""UDP conversation timestamps: the time since the conversation's first packet and since its previous one."""
from __future__ import annotations

import numpy as np

from tui_sniffer.store.index import PacketIndex


class UdpTimes:
    """`udp.time_relative` and `udp.time_delta` for a packet, from the rows of its `udp.stream`."""

    def __init__(self, index: PacketIndex) -> None:
        self._index = index
        self._rows: dict[int, tuple[int, np.ndarray]] = {}

    def annotations(self, row: int, stream: int) -> dict[str, object]:
        """The two times (seconds) for the packet in `row`, which belongs to UDP stream `stream`."""
        known = self._rows.get(stream)
        if known is None or (known[1][-1] < row and known[0] != self._index.count):
            rows = self._index.stream_rows("udp_stream", stream)
            known = self._rows[stream] = (self._index.count, rows)
        rows = known[1]
        position = int(np.searchsorted(rows, row))
        timestamps = self._index.column("timestamp_ns")
        now = int(timestamps[row])
        previous = int(timestamps[rows[position - 1]]) if position else now
        return {"udp.time_relative": (now - int(timestamps[rows[0]])) / 1e9, "udp.time_delta": (now - previous) / 1e9}
