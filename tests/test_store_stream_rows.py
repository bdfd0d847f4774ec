"""A stream's rows by lookup equal a scan of the stream column, while the index grows and on fixtures."""
from __future__ import annotations

import numpy as np

from tests.conftest import FIXTURES
from tui_sniffer import open_capture
from tui_sniffer.store.stream_rows import StreamRows


def test_rows_equal_a_scan_as_the_column_grows():
    values = np.random.default_rng(7).integers(-1, 40, 300_000).astype(np.int32)
    lookup = StreamRows()
    for indexed in (500, 70_000, 90_000, 200_000, 300_000):
        column = values[:indexed]
        for stream in (0, 3, 39, 41):
            for start, stop in ((0, indexed), (indexed // 3, indexed // 2), (indexed - 10, indexed)):
                expected = np.flatnonzero(column[start:stop] == stream) + start
                assert np.array_equal(lookup.rows(column, stream, start, stop), expected)
        assert len(lookup.rows(column, -1, 0, indexed)) == 0


def test_capture_stream_rows_equal_a_scan_on_a_fixture():
    with open_capture(str(FIXTURES / "http_keepalive.pcapng")) as capture:
        capture.index_all()
        index = capture.index
        for column in ("tcp_stream", "udp_stream"):
            values = index.column(column)
            for stream in range(int(values.max()) + 1):
                assert np.array_equal(index.stream_rows(column, stream), np.flatnonzero(values == stream))
