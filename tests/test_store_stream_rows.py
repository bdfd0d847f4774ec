"""The store's lookups: a stream's rows equal a scan of the stream column (while the index grows and on
fixtures), and IPv6 address numbers read back as the addresses tshark shows."""
from __future__ import annotations

import ipaddress
import subprocess

import numpy as np
import pytest

from tests.conftest import FIXTURES, needs_tshark
from tui_sniffer import open_capture
from tui_sniffer.capture import open_capture_file
from tui_sniffer.store.index import PacketIndex
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


@needs_tshark
@pytest.mark.parametrize("name", ["ipv6_loopback", "icmp_errors", "ip_fragments"])
@pytest.mark.parametrize("batch_records", [1, 5, 65536])
def test_ipv6_address_columns_equal_tshark_wherever_the_batches_end(name, batch_records):
    """Packets keep a number into one table of distinct addresses; read back, they are tshark's
    ipv6.src/ipv6.dst of every packet (None where not IPv6), however the file was batched."""
    path = FIXTURES / f"{name}.pcap"
    with open_capture_file(str(path)) as source:
        index = PacketIndex()
        for batch in source.scan(batch_records=batch_records):
            index.append_batch(batch)
    shown = subprocess.run(["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "occurrence=f",
                            "-e", "ipv6.src", "-e", "ipv6.dst"], capture_output=True, text=True, check=True)
    is_ipv6 = index.column("ip_version") == 6
    blocks = [index.ipv6_addresses(name, slice(0, index.count)) for name in ("ip6_src", "ip6_dst")]
    lines = shown.stdout.splitlines()
    assert len(lines) == index.count and is_ipv6.any()
    for row, line in enumerate(lines):
        expected = line.split("\t") if is_ipv6[row] else ["", ""]
        ours = [str(ipaddress.IPv6Address(bytes(index.ipv6_addresses(name, row)))) if is_ipv6[row] else ""
                for name in ("ip6_src", "ip6_dst")]
        assert ours == expected, f"frame {row + 1}"
        assert [bytes(block[row]) for block in blocks] == [bytes(index.ipv6_addresses(name, row))
                                                           for name in ("ip6_src", "ip6_dst")]
