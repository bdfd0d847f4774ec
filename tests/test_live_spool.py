"""Following a capture file while a writer appends to it: whole records are indexed as they arrive, a
half-written record at the end means "not yet" (never "cut short") until the writer finishes."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether

from tui_sniffer.capture import InterfaceInfo, PcapngWriter, PcapWriter, RawRecord, open_capture_file
from tui_sniffer.capture.live_settings import (
    RingBuffer,
    StopConditions,
    parse_ring_buffer,
    parse_stop_conditions,
    ring_file_name,
)
from tui_sniffer.capture.records import CaptureError
from tui_sniffer.session import open_growing_capture

BASE_NS = 1_700_000_000_000_000_123


def frames(count: int) -> list[bytes]:
    """`count` distinct Ethernet frames (alternating TCP and UDP) of varying length."""
    return [bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2")
                  / (TCP(sport=1000 + n, dport=80) if n % 2 else UDP(sport=1000 + n, dport=53))
                  / (b"p" * n)) for n in range(count)]


def open_writer_on(path: Path, kind: str) -> PcapWriter | PcapngWriter:
    """A writer of `kind` with its header flushed, as a live capture starts its spool."""
    if kind == "pcap":
        writer = PcapWriter(str(path), link_type=1)
    else:
        writer = PcapngWriter(str(path), [InterfaceInfo(name="lo", link_type=1)])
    writer.flush()
    return writer


def encoded_record(kind: str, data: bytes, number: int) -> bytes:
    """The bytes one record takes in a file of `kind`, made by our writer on a scratch file."""
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / f"tui-sniffer-record-{os.getpid()}.{kind}"
    writer = open_writer_on(scratch, kind)
    header_length = writer.bytes_written
    writer.write_packet(0, BASE_NS + number, data, len(data))
    writer.close()
    encoded = scratch.read_bytes()[header_length:]
    scratch.unlink()
    return encoded


@pytest.mark.parametrize("kind", ["pcap", "pcapng"])
def test_growing_file_is_indexed_as_records_arrive(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"spool.{kind}"
    writer = open_writer_on(path, kind)
    capture = open_growing_capture(str(path))
    assert capture.index_more() == range(0, 0) and not capture.complete
    data = frames(6)
    for number, frame in enumerate(data[:3]):
        writer.write_packet(0, BASE_NS + number, frame, len(frame))
    writer.flush()
    capture.index_all()
    assert capture.indexed_count == 3 and not capture.complete and capture.error is None
    assert [capture.packet_bytes(n) for n in (1, 2, 3)] == data[:3]

    writer.close()
    with open(path, "ab") as raw:  # half of the fourth record, as if the writer were mid-way through it
        fourth = encoded_record(kind, data[3], 3)
        raw.write(fourth[:len(fourth) // 2])
    capture.index_all()
    assert capture.indexed_count == 3 and capture.error is None and not capture.complete
    with open(path, "ab") as raw:
        raw.write(fourth[len(fourth) // 2:] + encoded_record(kind, data[4], 4))
    capture.index_all()
    assert capture.indexed_count == 5 and capture.packet_bytes(4) == data[3]
    assert capture.frame_info(4).timestamp_ns == BASE_NS + 3
    capture.finish_growing()
    capture.index_all()
    assert capture.complete and capture.error is None
    assert [packet.data for packet in capture] == data[:3] + [data[3], data[4]]


def test_a_finished_file_with_a_cut_record_is_damage_again(tmp_path: Path) -> None:
    path = tmp_path / "spool.pcapng"
    writer = open_writer_on(path, "pcapng")
    data = frames(2)
    writer.write_packet(0, BASE_NS, data[0], len(data[0]))
    writer.close()
    with open(path, "ab") as raw:
        raw.write(encoded_record("pcapng", data[1], 1)[:20])
    capture = open_growing_capture(str(path))
    capture.index_all()
    assert capture.indexed_count == 1 and capture.error is None
    capture.finish_growing()
    capture.index_all()
    assert capture.complete and "cut short" in str(capture.error)


def test_scan_of_a_growing_file_says_not_yet_with_none(tmp_path: Path) -> None:
    path = tmp_path / "spool.pcapng"
    writer = open_writer_on(path, "pcapng")
    capture_file = open_capture_file(str(path), growing=True)
    scan = capture_file.scan(batch_records=2, chunk_bytes=7)
    assert next(scan) is None
    for number, frame in enumerate(frames(3)):
        writer.write_packet(0, BASE_NS + number, frame, len(frame))
    writer.flush()
    batches = []
    while (batch := next(scan)) is not None:
        batches.append(batch)
    assert sum(map(len, batches)) == 3 and max(map(len, batches)) <= 2
    assert list(capture_file.iter_records())[2].data == frames(3)[2]
    capture_file.growing = False
    assert next(scan, "ended") == "ended"
    writer.close()


@pytest.mark.parametrize("words, count, expected", [
    ([], None, StopConditions()),
    ([], 20, StopConditions(packets=20)),
    (["duration:2.5", "filesize:100"], None, StopConditions(duration_seconds=2.5, filesize_kb=100)),
    (["packets:7"], 3, StopConditions(packets=3)),
    (["files:4"], None, StopConditions(files=4)),
])
def test_stop_conditions_parse_like_dumpcap(words, count, expected) -> None:
    assert parse_stop_conditions(words, count) == expected


@pytest.mark.parametrize("words, expected", [
    ([], None),
    (["filesize:1000"], RingBuffer(filesize_kb=1000)),
    (["duration:60", "files:5"], RingBuffer(duration_seconds=60.0, files=5)),
    (["packets:10", "files:2"], RingBuffer(packets=10, files=2)),
])
def test_ring_buffer_parses_like_dumpcap(words, expected) -> None:
    assert parse_ring_buffer(words) == expected


@pytest.mark.parametrize("parse, words, message", [
    (parse_stop_conditions, ["dur:3"], "invalid or unknown -a flag 'dur:3'"),
    (parse_stop_conditions, ["duration:0"], "positive number"),
    (parse_stop_conditions, ["packets:1.5"], "positive whole number"),
    (parse_ring_buffer, ["files:3"], "needs a condition to switch files"),
    (parse_ring_buffer, ["size:3"], "invalid or unknown -b flag"),
])
def test_bad_stop_and_ring_words_say_what_is_wrong(parse, words, message) -> None:
    with pytest.raises(CaptureError, match=message):
        parse(words)


def test_ring_file_names_follow_dumpcap() -> None:
    started = 1_700_000_000.0
    stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(started))
    assert ring_file_name("/x/out.pcapng", 3, started) == f"/x/out_00003_{stamp}.pcapng"
    assert ring_file_name("out", 12, started) == f"out_00012_{stamp}"


def test_write_and_write_packet_encode_a_record_alike(tmp_path: Path) -> None:
    data = frames(1)[0]
    path = tmp_path / "one.pcapng"
    writer = open_writer_on(path, "pcapng")
    header = writer.bytes_written
    writer.write(RawRecord(data=data, timestamp_ns=BASE_NS, captured_length=len(data), wire_length=len(data)))
    writer.close()
    assert path.read_bytes()[header:] == encoded_record("pcapng", data, 0)
