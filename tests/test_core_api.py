"""The public Python API: open_capture, len, indexing, iteration, summaries, trees and fields."""
from __future__ import annotations

import pytest

import tui_sniffer
from tests.conftest import FIXTURES


def test_open_capture_gives_frames_numbered_from_one():
    cap = tui_sniffer.open_capture(str(FIXTURES / "tcp_chat_5050.pcap"))
    assert len(cap) > 10
    first = cap[1]
    assert first.summary.number == 1
    assert first.summary.protocol == "TCP"
    assert "[SYN]" in first.summary.info and "Seq=0" in first.summary.info
    assert [node.field_name for node in first.tree[:4]] == ["frame", "eth", "ip", "tcp"]
    assert first.fields("tcp.seq") == ["0"]
    assert first.fields("tcp.flags.syn") == ["1"]
    assert first.fields("ip.addr") == ["127.0.0.1", "127.0.0.1"]
    assert [packet.summary.number for packet in cap] == list(range(1, len(cap) + 1))
    with pytest.raises(IndexError):
        cap[len(cap) + 1]


def test_tree_nodes_carry_field_value_and_byte_range():
    cap = tui_sniffer.open_capture(str(FIXTURES / "tcp_chat_5050.pcap"))
    packet = cap[1]
    source_port = packet.nodes("tcp.srcport")[0]
    assert source_port.label.startswith("Source Port: ")
    assert packet.data[source_port.offset:source_port.offset + 2] == source_port.value.to_bytes(2, "big")
    assert packet.nodes("tcp.stream")[0].generated


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"GET / HTTP/1.1\r\n\r\n", "not a pcap or pcapng"),
])
def test_unreadable_files_raise_capture_error(tmp_path, content, message):
    path = tmp_path / "bad.pcap"
    path.write_bytes(content)
    with pytest.raises(tui_sniffer.CaptureError, match=message):
        tui_sniffer.open_capture(str(path))


def test_missing_file_raises_capture_error(tmp_path):
    with pytest.raises(tui_sniffer.CaptureError):
        tui_sniffer.open_capture(str(tmp_path / "nope.pcap"))


def test_indexing_is_incremental():
    cap = tui_sniffer.open_capture(str(FIXTURES / "lossy_transfer.pcap"))
    assert cap.indexed_count == 0 and not cap.complete
    rows = cap.index_more()
    assert len(rows) > 0 and cap.indexed_count == len(rows)
    cap.index_all()
    assert cap.complete and cap.error is None
