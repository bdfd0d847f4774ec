"""Our writers produce files that we, tshark and capinfos read back exactly, flushing only whole blocks."""
from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tui_sniffer.capture import (
    CaptureError,
    InterfaceInfo,
    PcapngWriter,
    PcapWriter,
    RawRecord,
    open_capture_file,
    open_writer,
)
from tui_sniffer.capture.writer import PENDING_LIMIT_BYTES

SECONDS_NS = 1_700_000_000 * 10**9


def records_on(interface_ids: list[int], link_types: list[int]) -> list[RawRecord]:
    """Records with nanosecond timestamps, varied lengths (to exercise padding) and some comments."""
    return [
        RawRecord(
            data=bytes([index % 256]) * (40 + index % 7),
            timestamp_ns=SECONDS_NS + index * 1_000_000_007,
            captured_length=40 + index % 7,
            wire_length=40 + index % 7 + (index % 3) * 100,
            link_type=link_types[interface_ids[index % len(interface_ids)]],
            interface_id=interface_ids[index % len(interface_ids)],
            comments=[f"packet {index}", "ünïcode ✓"] if index % 4 == 0 else [],
        )
        for index in range(25)
    ]


def read_records(path: Path) -> list[RawRecord]:
    with open_capture_file(str(path)) as capture:
        return list(capture.iter_records())


def capinfos_count(path: Path) -> int:
    if shutil.which("capinfos") is None:
        pytest.skip("capinfos is not installed")
    output = subprocess.run(["capinfos", "-c", "-M", str(path)], check=True, capture_output=True, text=True).stdout
    return int(output.split("Number of packets:")[1].split()[0])


def test_pcapng_round_trip_keeps_everything(tmp_path: Path) -> None:
    interfaces = [
        InterfaceInfo("eth0", "uplink", 1, 262144, 1, "not arp", "Linux"),
        InterfaceInfo("any", None, 276, 65535, 1, None, None),
    ]
    records = records_on([0, 1, 1], [1, 276])
    first = tmp_path / "first.pcapng"
    with PcapngWriter(str(first), interfaces, section_comment="round trip") as writer:
        for record in records:
            writer.write(record)
    with open_capture_file(str(first)) as capture:
        read_back = list(capture.iter_records())
        assert capture.interfaces == interfaces
        assert capture.section_comments == ["round trip"]
        second = tmp_path / "second.pcapng"
        with PcapngWriter(str(second), capture.interfaces, capture.section_comments[0]) as writer:
            for record in read_back:
                writer.write(record)
    assert read_back == records
    assert read_records(second) == records
    assert second.read_bytes() == first.read_bytes()
    assert capinfos_count(second) == len(records)


@pytest.mark.parametrize("nanosecond", [True, False], ids=["ns", "µs"])
def test_pcap_round_trip_and_tshark_times(tmp_path: Path, nanosecond: bool) -> None:
    records = records_on([0], [1])
    for record in records:
        record.comments = []
    path = tmp_path / "out.pcap"
    with PcapWriter(str(path), link_type=1, nanosecond=nanosecond) as writer:
        for record in records:
            writer.write(record)
    unit = 1 if nanosecond else 1000
    expected = [
        RawRecord(r.data, r.timestamp_ns // unit * unit, r.captured_length, r.wire_length, 1, 0) for r in records
    ]
    assert read_records(path) == expected
    with open_capture_file(str(path)) as capture:
        assert capture.nanosecond is nanosecond
    assert capinfos_count(path) == len(records)
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed")
    command = ["tshark", "-r", str(path), "-T", "fields", "-e", "frame.time_epoch"]
    times = subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()
    assert times == [f"{r.timestamp_ns // 10**9}.{r.timestamp_ns % 10**9:09d}" for r in expected]


ETH = InterfaceInfo("eth0", link_type=1)
ETH_SMALL = InterfaceInfo("eth1", link_type=1, snaplen=1500)
RAW = InterfaceInfo("tun0", link_type=101)


@pytest.mark.parametrize(
    ("name", "interfaces", "requested", "expected_writer"),
    [
        ("out.pcap", [ETH], None, PcapWriter),
        ("OUT.PCAP", [ETH, ETH_SMALL], None, PcapWriter),
        ("out.pcap", [ETH, RAW], None, PcapngWriter),
        ("out.pcapng", [ETH], None, PcapngWriter),
        ("out.cap", [ETH], None, PcapngWriter),
        ("out.pcapng", [ETH], "pcap", PcapWriter),
        ("out.pcap", [ETH], "pcapng", PcapngWriter),
    ],
)
def test_open_writer_chooses_the_format(tmp_path: Path, name: str, interfaces, requested, expected_writer) -> None:
    with open_writer(str(tmp_path / name), interfaces, format=requested) as writer:
        assert type(writer) is expected_writer
        writer.write(RawRecord(b"\x00" * 20, SECONDS_NS, 20, 20, interfaces[-1].link_type, len(interfaces) - 1))
    with open_capture_file(str(tmp_path / name)) as capture:
        assert capture.format_name == ("pcap" if expected_writer is PcapWriter else "pcapng")
        assert len(list(capture.iter_records())) == 1
        assert max(i.snaplen for i in capture.interfaces) == 262144


@pytest.mark.parametrize(
    ("interfaces", "requested", "message"),
    [
        ([ETH, RAW], "pcap", "a pcap file holds one link type"),
        ([ETH], "erf", "unknown capture file format 'erf'"),
    ],
)
def test_open_writer_refuses_what_it_cannot_write(tmp_path: Path, interfaces, requested, message: str) -> None:
    with pytest.raises(CaptureError, match=message):
        open_writer(str(tmp_path / "out.pcap"), interfaces, format=requested)


def test_writers_refuse_records_they_cannot_hold(tmp_path: Path) -> None:
    with PcapWriter(str(tmp_path / "a.pcap"), link_type=1) as writer:
        with pytest.raises(CaptureError, match="one link type"):
            writer.write(RawRecord(b"x", 0, 1, 1, link_type=101))
    with PcapngWriter(str(tmp_path / "a.pcapng"), [ETH]) as writer:
        with pytest.raises(CaptureError, match="names interface 1, but the file has 1"):
            writer.write(RawRecord(b"x", 0, 1, 1, interface_id=1))
    writer.close()
    with pytest.raises(CaptureError, match="closed"):
        writer.write(RawRecord(b"x", 0, 1, 1))
    with pytest.raises(CaptureError, match="cannot write .*: no such file or directory"):
        PcapWriter(str(tmp_path / "missing-dir" / "a.pcap"), link_type=1)


def test_binary_stream_destination_is_flushed_and_left_open() -> None:
    stream = io.BytesIO()
    with PcapngWriter(stream, [ETH]) as writer:
        writer.write(RawRecord(b"abc", SECONDS_NS, 3, 3))
    assert not stream.closed
    assert stream.getvalue().startswith(b"\x0a\x0d\x0d\x0a")
    assert len(stream.getvalue()) % 4 == 0


def test_dash_writes_to_stdout(tmp_path: Path) -> None:
    script = (
        "from tui_sniffer.capture import PcapWriter, RawRecord\n"
        "with PcapWriter('-', link_type=1) as writer:\n"
        "    writer.write(RawRecord(b'hello', 1_700_000_000_000_000_001, 5, 5))\n"
    )
    repo_root = str(Path(__file__).resolve().parent.parent)
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=repo_root, check=True).stdout
    (tmp_path / "stdout.pcap").write_bytes(output)
    assert read_records(tmp_path / "stdout.pcap") == [RawRecord(b"hello", 1_700_000_000_000_000_001, 5, 5)]


def test_a_reader_never_sees_half_a_block_while_the_writer_runs(tmp_path: Path) -> None:
    path = tmp_path / "spool.pcapng"
    record = RawRecord(b"\xab" * 1001, SECONDS_NS, 1001, 1001, comments=["kept"])
    with PcapngWriter(str(path), [ETH]) as writer:
        writer.flush()
        written = 0
        seen_before_flush = []
        while written * 1001 < 3 * PENDING_LIMIT_BYTES:
            writer.write(record)
            written += 1
            if written % 500 == 0:
                with open_capture_file(str(path)) as capture:
                    seen_before_flush.append(sum(len(batch) for batch in capture.scan()))  # no truncation error
        assert seen_before_flush[-1] > 0
        assert all(seen <= written for seen in seen_before_flush)
        writer.flush()
        with open_capture_file(str(path)) as capture:
            assert sum(len(batch) for batch in capture.scan()) == written
            assert capture.packet_comments[written - 1] == ["kept"]
