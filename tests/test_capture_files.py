"""Reading pcap files every way they come (µs/ns, both byte orders, gzip, stdin, pipes) gives the same records."""
from __future__ import annotations

import gzip
import os
import shutil
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from scapy.layers.dns import DNS, DNSQR
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from tui_sniffer.capture import (
    CaptureError,
    PcapWriter,
    RawRecord,
    TruncatedCaptureError,
    open_capture_file,
)

BASE_NS = 1_700_000_000_123_456_000


def sample_records() -> list[RawRecord]:
    """Ten realistic Ethernet frames with microsecond timestamps (what every pcap flavour can hold)."""
    packets = [
        Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=40000, dport=80, flags="S"),
        Ether() / IP(src="10.0.0.2", dst="10.0.0.1") / TCP(sport=80, dport=40000, flags="SA"),
        Ether() / IP() / TCP(flags="PA") / (b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
        Ether() / IP() / UDP(sport=5353, dport=53) / DNS(qd=DNSQR(qname="example.com")),
        Ether() / IP() / UDP() / (b"x" * 555),
        Ether() / IPv6() / UDP() / b"hello",
        Ether() / IP() / ICMP() / (b"\x00" * 56),
        Ether() / IP() / TCP() / (b"\xff" * 1),
        Ether() / IP() / TCP() / (b"y" * 2),
        Ether() / IP() / TCP() / (b"z" * 3),
    ]
    return [
        RawRecord(
            data=bytes(packet),
            timestamp_ns=BASE_NS + index * 1_001_000,
            captured_length=len(packet),
            wire_length=len(packet) + (4 if index == 4 else 0),
            link_type=1,
        )
        for index, packet in enumerate(packets)
    ]


def write_pcap(path: Path, records: list[RawRecord], nanosecond: bool = False) -> Path:
    """Write records with our own writer."""
    with PcapWriter(str(path), link_type=1, nanosecond=nanosecond) as writer:
        for record in records:
            writer.write(record)
    return path


def write_big_endian_pcap(path: Path, records: list[RawRecord], nanosecond: bool) -> Path:
    """Craft a big-endian pcap by hand, as SPARC or PowerPC machines wrote them."""
    unit = 1 if nanosecond else 1000
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    parts = [struct.pack(">IHHiIII", magic, 2, 4, 0, 0, 65535, 1)]
    for record in records:
        seconds, fraction = divmod(record.timestamp_ns // unit, 1_000_000_000 // unit)
        parts.append(struct.pack(">IIII", seconds, fraction, len(record.data), record.wire_length) + record.data)
    path.write_bytes(b"".join(parts))
    return path


def run_tool(*command: str) -> None:
    """Run a Wireshark/tcpdump tool, or skip the test if it is not installed."""
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed")
    subprocess.run(command, check=True, capture_output=True)


def read_all(path: str | Path, **scan_options: int) -> list[RawRecord]:
    """Every record of a file, through scan() with the given batch and chunk sizes."""
    with open_capture_file(str(path)) as capture:
        if not scan_options:
            return list(capture.iter_records())
        return [
            RawRecord(
                batch.packet_data(row),
                int(batch.timestamps_ns[row]),
                int(batch.captured_lengths[row]),
                int(batch.wire_lengths[row]),
                int(batch.link_types[row]),
                int(batch.interface_ids[row]),
            )
            for batch in capture.scan(**scan_options)
            for row in range(len(batch))
        ]


def make_microsecond(tmp: Path, records: list[RawRecord]) -> Path:
    return write_pcap(tmp / "usec.pcap", records)


def make_nanosecond_by_editcap(tmp: Path, records: list[RawRecord]) -> Path:
    run_tool("editcap", "-F", "nsecpcap", str(make_microsecond(tmp, records)), str(tmp / "nsec.pcap"))
    return tmp / "nsec.pcap"


def make_modified_pcap_by_editcap(tmp: Path, records: list[RawRecord]) -> Path:
    run_tool("editcap", "-F", "modpcap", str(make_microsecond(tmp, records)), str(tmp / "mod.pcap"))
    return tmp / "mod.pcap"


def make_pcapng_by_editcap(tmp: Path, records: list[RawRecord]) -> Path:
    run_tool("editcap", "-F", "pcapng", str(make_microsecond(tmp, records)), str(tmp / "out.pcapng"))
    return tmp / "out.pcapng"


def make_by_tcpdump(tmp: Path, records: list[RawRecord]) -> Path:
    run_tool("tcpdump", "-r", str(make_microsecond(tmp, records)), "-w", str(tmp / "tcpdump.pcap"))
    return tmp / "tcpdump.pcap"


def make_by_scapy(tmp: Path, records: list[RawRecord]) -> Path:
    packets = []
    for record in records:
        packet = Ether(record.data)
        packet.time = record.timestamp_ns // 1000 / 1e6
        packet.wirelen = record.wire_length
        packets.append(packet)
    wrpcap(str(tmp / "scapy.pcap"), packets)
    return tmp / "scapy.pcap"


def make_gzip(tmp: Path, records: list[RawRecord]) -> Path:
    source = make_pcapng_by_editcap(tmp, records)
    (tmp / "out.pcapng.gz").write_bytes(gzip.compress(source.read_bytes()))
    return tmp / "out.pcapng.gz"


def make_gzip_in_two_members(tmp: Path, records: list[RawRecord]) -> Path:
    raw = make_microsecond(tmp, records).read_bytes()
    (tmp / "two.pcap.gz").write_bytes(gzip.compress(raw[:100]) + gzip.compress(raw[100:]))
    return tmp / "two.pcap.gz"


MAKERS = {
    "pcap µs (our writer)": make_microsecond,
    "pcap ns (editcap)": make_nanosecond_by_editcap,
    "pcap µs big-endian": lambda tmp, records: write_big_endian_pcap(tmp / "be.pcap", records, False),
    "pcap ns big-endian": lambda tmp, records: write_big_endian_pcap(tmp / "be-ns.pcap", records, True),
    "modified pcap (editcap)": make_modified_pcap_by_editcap,
    "pcap (tcpdump)": make_by_tcpdump,
    "pcap (scapy)": make_by_scapy,
    "pcapng (editcap)": make_pcapng_by_editcap,
    "pcapng gzip": make_gzip,
    "pcap gzip in two members": make_gzip_in_two_members,
}


@pytest.mark.parametrize("maker", MAKERS.values(), ids=MAKERS.keys())
def test_every_flavour_reads_the_same_records(tmp_path: Path, maker) -> None:
    records = sample_records()
    assert read_all(maker(tmp_path, records)) == records


@pytest.mark.parametrize("maker", MAKERS.values(), ids=MAKERS.keys())
def test_tiny_chunks_and_batches_give_the_same_records(tmp_path: Path, maker) -> None:
    records = sample_records()
    assert read_all(maker(tmp_path, records), batch_records=3, chunk_bytes=7) == records


def test_nanoseconds_survive_in_nanosecond_pcap(tmp_path: Path) -> None:
    records = [
        RawRecord(b"\x01" * 60, BASE_NS + offset, 60, 60) for offset in (0, 1, 999_999_999, 1_000_000_001)
    ]
    path = write_pcap(tmp_path / "ns.pcap", records, nanosecond=True)
    assert read_all(path) == records
    with open_capture_file(str(path)) as capture:
        assert capture.nanosecond and capture.format_name == "pcap"
        assert capture.interfaces[0].timestamp_resolution_ns == 1


def test_file_facts(tmp_path: Path) -> None:
    path = make_microsecond(tmp_path, sample_records())
    with open_capture_file(str(path)) as capture:
        assert (capture.format_name, capture.nanosecond, capture.size) == ("pcap", False, path.stat().st_size)
        assert capture.interfaces[0].link_type == 1 and capture.interfaces[0].snaplen == 262144
        assert capture.section_comments == [] and capture.packet_comments == {}


def test_batch_offsets_point_at_packet_data(tmp_path: Path) -> None:
    records = sample_records()
    path = make_microsecond(tmp_path, records)
    raw = path.read_bytes()
    with open_capture_file(str(path)) as capture:
        batches = list(capture.scan(batch_records=4))
        assert [len(batch) for batch in batches] == [4, 4, 2]
        offsets = [int(offset) for batch in batches for offset in batch.file_offsets]
    expected, position = [], 24
    for record in records:
        expected.append(position + 16)
        position += 16 + len(record.data)
    assert offsets == expected
    assert [raw[offset : offset + len(r.data)] for offset, r in zip(offsets, records)] == [r.data for r in records]


def test_read_packet_works_from_another_thread_during_a_scan(tmp_path: Path) -> None:
    records = sample_records() * 50
    path = write_pcap(tmp_path / "many.pcap", records)
    with open_capture_file(str(path)) as capture:
        scanned = [
            (int(offset), int(length))
            for batch in capture.scan(chunk_bytes=512)
            for offset, length in zip(batch.file_offsets, batch.captured_lengths)
        ]
        read_in_thread: list[bytes] = []

        def read_every_packet() -> None:
            read_in_thread.extend(capture.read_packet(offset, length) for offset, length in scanned)

        reader = threading.Thread(target=read_every_packet)
        reader.start()
        rescanned = sum(len(batch) for batch in capture.scan(chunk_bytes=512))
        reader.join()
    assert rescanned == len(records)
    assert read_in_thread == [record.data for record in records]


def test_read_packet_past_the_end_is_an_error(tmp_path: Path) -> None:
    path = make_microsecond(tmp_path, sample_records())
    with open_capture_file(str(path)) as capture:
        with pytest.raises(TruncatedCaptureError):
            capture.read_packet(capture.size - 10, 100)


def record_header_offsets(records: list[RawRecord]) -> list[int]:
    """Where each record's 16-byte header starts in a pcap file we wrote."""
    offsets, position = [], 24
    for record in records:
        offsets.append(position)
        position += 16 + len(record.data)
    return offsets


@pytest.mark.parametrize(
    ("cut_record", "bytes_into_record"),
    [(3, 1), (3, 15), (3, 16), (3, 20), (9, 16 + 3), (0, 8)],
    ids=["in header start", "in header end", "after header", "in data", "last record", "first record"],
)
@pytest.mark.parametrize("chunk_bytes", [8 * 1024 * 1024, 10])
def test_truncated_file_yields_whole_records_then_names_the_cut_one(
    tmp_path: Path, cut_record: int, bytes_into_record: int, chunk_bytes: int
) -> None:
    records = sample_records()
    raw = make_microsecond(tmp_path, records).read_bytes()
    cut_offset = record_header_offsets(records)[cut_record]
    (tmp_path / "cut.pcap").write_bytes(raw[: cut_offset + bytes_into_record])
    delivered = []
    with open_capture_file(str(tmp_path / "cut.pcap")) as capture:
        with pytest.raises(TruncatedCaptureError) as raised:
            for batch in capture.scan(chunk_bytes=chunk_bytes):
                delivered.extend(batch.packet_data(row) for row in range(len(batch)))
    assert delivered == [record.data for record in records[:cut_record]]
    assert raised.value.offset == cut_offset
    assert str(raised.value) == f"file is cut short in the middle of a packet at byte offset {cut_offset}"


def test_cut_at_a_record_boundary_is_not_an_error(tmp_path: Path) -> None:
    records = sample_records()
    raw = make_microsecond(tmp_path, records).read_bytes()
    (tmp_path / "cut.pcap").write_bytes(raw[: record_header_offsets(records)[5]])
    assert read_all(tmp_path / "cut.pcap") == records[:5]


def test_truncated_gzip_capture_reports_the_cut_record(tmp_path: Path) -> None:
    records = sample_records()
    raw = make_microsecond(tmp_path, records).read_bytes()
    cut_offset = record_header_offsets(records)[6]
    (tmp_path / "cut.pcap.gz").write_bytes(gzip.compress(raw[: cut_offset + 30]))
    with open_capture_file(str(tmp_path / "cut.pcap.gz")) as capture:
        with pytest.raises(TruncatedCaptureError) as raised:
            list(capture.scan())
    assert raised.value.offset == cut_offset


def test_bogus_captured_length_is_reported_after_the_good_records(tmp_path: Path) -> None:
    records = sample_records()
    raw = bytearray(make_microsecond(tmp_path, records).read_bytes())
    bad_offset = record_header_offsets(records)[4]
    struct.pack_into("<I", raw, bad_offset + 8, 0x7FFFFFFF)
    (tmp_path / "bogus.pcap").write_bytes(raw)
    delivered = 0
    with open_capture_file(str(tmp_path / "bogus.pcap")) as capture:
        with pytest.raises(CaptureError) as raised:
            for batch in capture.scan():
                delivered += len(batch)
    assert delivered == 4
    assert not isinstance(raised.value, TruncatedCaptureError)
    assert raised.value.offset == bad_offset and f"byte offset {bad_offset}" in str(raised.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"GET / HTTP/1.1\r\n\r\n", "not a pcap or pcapng file (starts with 'GET ')"),
        (b"\x00\x01\x02\x03\x04", "not a pcap or pcapng file (starts with 00 01 02 03)"),
        (gzip.compress(b"hello, world"), "not a pcap or pcapng file (starts with 'hell')"),
        (b"\x1f\x8b\x08\x00garbage-not-deflate", "the gzip data is corrupt"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "file is cut short in the middle of the pcap file header at byte offset 0"),
        (struct.pack("<IHHiIII", 0xA1B2C3D4, 9, 0, 0, 0, 65535, 1), "unsupported pcap version 9"),
    ],
    ids=["empty", "http", "binary", "gzip text", "corrupt gzip", "short header", "bad version"],
)
def test_unreadable_files_raise_capture_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.cap"
    path.write_bytes(content)
    with pytest.raises(CaptureError, match=".*" + message.replace("(", r"\(").replace(")", r"\)")):
        open_capture_file(str(path))


def test_missing_file_and_directory_raise_capture_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="cannot open .*nope.pcap: no such file or directory"):
        open_capture_file(str(tmp_path / "nope.pcap"))
    with pytest.raises(CaptureError, match="it is a directory"):
        open_capture_file(str(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files whatever their permissions")
def test_unreadable_file_raises_capture_error(tmp_path: Path) -> None:
    path = make_microsecond(tmp_path, sample_records())
    path.chmod(0)
    with pytest.raises(CaptureError, match="permission denied"):
        open_capture_file(str(path))


def test_closed_file_cannot_be_read(tmp_path: Path) -> None:
    capture = open_capture_file(str(make_microsecond(tmp_path, sample_records())))
    capture.close()
    capture.close()
    with pytest.raises(CaptureError, match="closed"):
        capture.read_packet(40, 10)


def test_gzip_spool_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(spool_dir))
    path = make_gzip(tmp_path, sample_records())
    with open_capture_file(str(path)) as capture:
        assert len(list(capture.iter_records())) == 10
        assert capture.size == (tmp_path / "out.pcapng").stat().st_size
    assert list(spool_dir.iterdir()) == []


READ_STDIN = (
    "import sys; from tui_sniffer.capture import open_capture_file\n"
    "with open_capture_file('-') as capture:\n"
    "    records = list(capture.iter_records())\n"
    "print(capture.format_name, len(records), records[-1].timestamp_ns, records[-1].data.hex())\n"
)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("stdin_kind", ["pipe", "redirected file"])
def test_stdin_reads_the_same_records(tmp_path: Path, compress: bool, stdin_kind: str) -> None:
    records = sample_records()
    content = make_microsecond(tmp_path, records).read_bytes()
    if compress:
        content = gzip.compress(content)
    repo_root = str(Path(__file__).resolve().parent.parent)
    command = [sys.executable, "-c", READ_STDIN]
    if stdin_kind == "pipe":
        result = subprocess.run(command, input=content, capture_output=True, cwd=repo_root, check=True)
    else:
        (tmp_path / "stdin.bin").write_bytes(content)
        with open(tmp_path / "stdin.bin", "rb") as stdin:
            result = subprocess.run(command, stdin=stdin, capture_output=True, cwd=repo_root, check=True)
    expected = f"pcap 10 {records[-1].timestamp_ns} {records[-1].data.hex()}"
    assert result.stdout.decode().strip() == expected


def test_fifo_is_spooled(tmp_path: Path) -> None:
    records = sample_records()
    content = make_microsecond(tmp_path, records).read_bytes()
    fifo = tmp_path / "capture.fifo"
    os.mkfifo(fifo)
    feeder = threading.Thread(target=lambda: fifo.write_bytes(content))
    feeder.start()
    try:
        assert read_all(fifo) == records
    finally:
        feeder.join()
