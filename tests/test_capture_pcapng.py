"""pcapng blocks crafted byte by byte (sections in both byte orders, every packet block, odd resolutions) read right."""
from __future__ import annotations

import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tui_sniffer.capture import (
    CaptureError,
    InterfaceInfo,
    PcapngWriter,
    RawRecord,
    TruncatedCaptureError,
    open_capture_file,
)

SECONDS = 1_700_000_000


def option(order: str, code: int, value: bytes) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + b"\x00" * (-len(value) % 4)


def options(order: str, *encoded: bytes) -> bytes:
    return b"".join(encoded) + struct.pack(order + "HH", 0, 0) if encoded else b""


def block(order: str, block_type: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    return struct.pack(order + "II", block_type, len(body) + 12) + body + struct.pack(order + "I", len(body) + 12)


def section(order: str, *comments: str) -> bytes:
    body = struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1)
    return block(order, 0x0A0D0D0A, body + options(order, *(option(order, 1, c.encode()) for c in comments)))


def interface(order: str, link_type: int, snaplen: int = 0, *encoded_options: bytes) -> bytes:
    return block(order, 1, struct.pack(order + "HHI", link_type, 0, snaplen) + options(order, *encoded_options))


def enhanced(order: str, interface_id: int, ticks: int, data: bytes, *comments: str, wire: int | None = None) -> bytes:
    head = struct.pack(order + "IIIII", interface_id, ticks >> 32, ticks & 0xFFFFFFFF, len(data), wire or len(data))
    padded = data + b"\x00" * (-len(data) % 4)
    return block(order, 6, head + padded + options(order, *(option(order, 1, c.encode()) for c in comments)))


def obsolete(order: str, interface_id: int, ticks: int, data: bytes) -> bytes:
    head = struct.pack(order + "HHIIII", interface_id, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data))
    return block(order, 2, head + data)


def simple(order: str, data: bytes, wire: int) -> bytes:
    return block(order, 3, struct.pack(order + "I", wire) + data)


def packet(tag: int, length: int) -> bytes:
    return bytes([tag]) * length


@dataclass
class Crafted:
    """A crafted file and what a correct reader must find in it."""

    content: bytes
    records: list[RawRecord]
    interfaces: list[InterfaceInfo]
    section_comments: list[str]
    packet_comments: dict[int, list[str]]


def crafted_multi_section() -> Crafted:
    """Three sections (LE, BE, LE) with five interfaces and every kind of packet block and skipped block."""
    le, be = "<", ">"
    parts = [
        section(le, "first section"),
        interface(
            le, 1, 65535,
            option(le, 2, b"eth0"), option(le, 3, b"Ethernet port"),
            option(le, 11, b"\x00tcp port 80"), option(le, 12, b"Linux 6.1"),
        ),
        interface(le, 101, 0, option(le, 9, bytes([9]))),
        block(le, 4, struct.pack("<HH", 0, 0)),  # name resolution block: skipped
        enhanced(le, 0, SECONDS * 1_000_000 + 123_456, packet(1, 60), "first", "second"),
        enhanced(le, 1, SECONDS * 1_000_000_000 + 123_456_789, packet(2, 41)),
        block(le, 5, struct.pack("<III", 0, 0, 0)),  # interface statistics block: skipped
        simple(le, packet(3, 70), 70),
        block(le, 0xBEEF, b"unknown block body"),  # unknown block: skipped
        obsolete(le, 1, SECONDS * 1_000_000_000 + 5, packet(4, 33)),
        section(be, "second section"),
        interface(be, 276, 64, option(be, 9, bytes([0x80 | 20])), option(be, 14, struct.pack(">q", 10))),
        enhanced(be, 0, (SECONDS << 20) + (1 << 19), packet(5, 50), wire=1500),
        simple(be, packet(6, 64), 100),
        section(le),
        interface(le, 228, 0, option(le, 9, bytes([3]))),
        interface(le, 229, 0, option(le, 9, bytes([12]))),
        enhanced(le, 0, SECONDS * 1000 + 7, packet(7, 20)),
        enhanced(le, 1, 1000 * 10**12 + 12_345_678_999, packet(8, 40), "picoseconds"),
    ]
    records = [
        RawRecord(packet(1, 60), SECONDS * 10**9 + 123_456_000, 60, 60, 1, 0, ["first", "second"]),
        RawRecord(packet(2, 41), SECONDS * 10**9 + 123_456_789, 41, 41, 101, 1),
        RawRecord(packet(3, 70), 0, 70, 70, 1, 0),
        RawRecord(packet(4, 33), SECONDS * 10**9 + 5, 33, 33, 101, 1),
        RawRecord(packet(5, 50), (SECONDS + 10) * 10**9 + 500_000_000, 50, 1500, 276, 2),
        RawRecord(packet(6, 64), 0, 64, 100, 276, 2),
        RawRecord(packet(7, 20), SECONDS * 10**9 + 7_000_000, 20, 20, 228, 3),
        RawRecord(packet(8, 40), 1000 * 10**9 + 12_345_678, 40, 40, 229, 4, ["picoseconds"]),
    ]
    interfaces = [
        InterfaceInfo("eth0", "Ethernet port", 1, 65535, 1000, "tcp port 80", "Linux 6.1"),
        InterfaceInfo(None, None, 101, 0, 1, None, None),
        InterfaceInfo(None, None, 276, 64, 954, None, None),
        InterfaceInfo(None, None, 228, 0, 1_000_000, None, None),
        InterfaceInfo(None, None, 229, 0, 1, None, None),
    ]
    comments = {0: ["first", "second"], 7: ["picoseconds"]}
    return Crafted(b"".join(parts), records, interfaces, ["first section", "second section"], comments)


@pytest.fixture
def multi_section_file(tmp_path: Path) -> tuple[Path, Crafted]:
    crafted = crafted_multi_section()
    path = tmp_path / "crafted.pcapng"
    path.write_bytes(crafted.content)
    return path, crafted


@pytest.mark.parametrize("chunk_bytes", [8 * 1024 * 1024, 1, 100])
def test_multi_section_file_reads_every_block_kind(multi_section_file, chunk_bytes: int) -> None:
    path, crafted = multi_section_file
    with open_capture_file(str(path)) as capture:
        batches = list(capture.scan(chunk_bytes=chunk_bytes, batch_records=3))
        records = [
            RawRecord(
                batch.packet_data(row), int(batch.timestamps_ns[row]), int(batch.captured_lengths[row]),
                int(batch.wire_lengths[row]), int(batch.link_types[row]), int(batch.interface_ids[row]),
            )
            for batch in batches
            for row in range(len(batch))
        ]
        assert capture.interfaces == crafted.interfaces
        assert capture.section_comments == crafted.section_comments
        assert capture.packet_comments == crafted.packet_comments
        assert capture.nanosecond
    expected = [RawRecord(r.data, r.timestamp_ns, r.captured_length, r.wire_length, r.link_type, r.interface_id)
                for r in crafted.records]
    assert records == expected


def test_iter_records_attaches_comments(multi_section_file) -> None:
    path, crafted = multi_section_file
    with open_capture_file(str(path)) as capture:
        assert list(capture.iter_records()) == crafted.records


def test_first_section_is_known_before_scanning_and_a_rescan_adds_nothing(multi_section_file) -> None:
    path, crafted = multi_section_file
    with open_capture_file(str(path)) as capture:
        assert capture.format_name == "pcapng"
        assert capture.interfaces == crafted.interfaces[:2]
        assert capture.section_comments == ["first section"]
        for _ in range(2):
            assert sum(len(batch) for batch in capture.scan()) == 8
        assert capture.interfaces == crafted.interfaces
        assert capture.section_comments == crafted.section_comments


def test_read_packet_finds_data_in_every_block_kind(multi_section_file) -> None:
    path, crafted = multi_section_file
    with open_capture_file(str(path)) as capture:
        located = [(int(o), int(n)) for b in capture.scan() for o, n in zip(b.file_offsets, b.captured_lengths)]
        assert [capture.read_packet(offset, length) for offset, length in located] == [r.data for r in crafted.records]


def tshark_fields(path: Path, *fields: str) -> list[list[str]]:
    """Rows of `tshark -T fields` output, or skip when tshark is missing."""
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed, so Wireshark's reading cannot be compared")
    command = ["tshark", "-r", str(path), "-T", "fields"]
    for field in fields:
        command += ["-e", field]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in output.splitlines()]


def epoch_text(timestamp_ns: int) -> str:
    """A timestamp as tshark prints frame.time_epoch; simple packet blocks have none (we give 0)."""
    return f"{timestamp_ns // 10**9}.{timestamp_ns % 10**9:09d}" if timestamp_ns else ""


WIRESHARK_ENCAPSULATION = {1: "1", 101: "7", 276: "210", 228: "129", 229: "130"}
"""Wireshark's own numbers (frame.encap_type) for the link types in these tests."""


def test_tshark_agrees_on_the_crafted_file(multi_section_file) -> None:
    path, crafted = multi_section_file
    # tshark 4.0's frame.interface_id is section-local, so the encapsulation shows which interface it used
    fields = ("frame.encap_type", "frame.len", "frame.cap_len", "frame.time_epoch", "frame.comment")
    ours = [
        [WIRESHARK_ENCAPSULATION[r.link_type], str(r.wire_length), str(r.captured_length),
         epoch_text(r.timestamp_ns), ",".join(r.comments)]
        for r in crafted.records
    ]
    assert tshark_fields(path, *fields) == ours


def test_capinfos_numbers_interfaces_globally_like_we_do(multi_section_file) -> None:
    path, crafted = multi_section_file
    if shutil.which("capinfos") is None:
        pytest.skip("capinfos is not installed")
    report = subprocess.run(["capinfos", "-I", str(path)], check=True, capture_output=True, text=True).stdout
    assert f"Number of interfaces in file: {len(crafted.interfaces)}" in report
    for number, expected in enumerate(crafted.interfaces):
        encapsulation = report.split(f"Interface #{number} info:")[1].split("Encapsulation = ")[1].split("\n")[0]
        assert f"({WIRESHARK_ENCAPSULATION[expected.link_type]} - " in encapsulation


def test_our_multi_interface_writer_is_read_by_tshark(tmp_path: Path) -> None:
    interfaces = [
        InterfaceInfo(name="eth0", link_type=1, snaplen=262144, timestamp_resolution_ns=1),
        InterfaceInfo(name="tun0", link_type=101, snaplen=65535, timestamp_resolution_ns=1),
    ]
    raw_ip = bytes.fromhex("4500001c0001000040117ccd7f0000017f000001") + bytes(8)  # IPv4/UDP
    ethernet = bytes.fromhex("ffffffffffff0000000000010800") + raw_ip
    records = [
        RawRecord(ethernet, SECONDS * 10**9 + 1, len(ethernet), len(ethernet), 1, 0, ["on eth0"]),
        RawRecord(raw_ip, SECONDS * 10**9 + 2, len(raw_ip), len(raw_ip), 101, 1),
        RawRecord(ethernet, SECONDS * 10**9 + 3, len(ethernet), 1514, 1, 0),
    ]
    path = tmp_path / "two-links.pcapng"
    with PcapngWriter(str(path), interfaces, section_comment="written by a test") as writer:
        for record in records:
            writer.write(record)
    with open_capture_file(str(path)) as capture:
        assert list(capture.iter_records()) == records
        assert [i.name for i in capture.interfaces] == ["eth0", "tun0"]
        assert capture.section_comments == ["written by a test"]
    fields = ("frame.interface_id", "frame.encap_type", "frame.time_epoch", "frame.len", "frame.comment")
    assert tshark_fields(path, *fields) == [
        ["0", "1", f"{SECONDS}.000000001", str(len(ethernet)), "on eth0"],
        ["1", "7", f"{SECONDS}.000000002", str(len(raw_ip)), ""],
        ["0", "1", f"{SECONDS}.000000003", "1514", ""],
    ]


def simple_file() -> tuple[bytes, list[int]]:
    """SHB, IDB and three EPBs, with the offset of each EPB."""
    head = section("<") + interface("<", 1, 65535)
    packets = [enhanced("<", 0, SECONDS * 10**6 + n, packet(n, 30 + n)) for n in range(3)]
    offsets = [len(head), len(head) + len(packets[0]), len(head) + len(packets[0]) + len(packets[1])]
    return head + b"".join(packets), offsets


def patched(content: bytes, offset: int, fmt: str, value: int) -> bytes:
    buffer = bytearray(content)
    struct.pack_into(fmt, buffer, offset, value)
    return bytes(buffer)


def corrupt_second_block(how: str) -> tuple[bytes, int]:
    """The simple file with its second EPB corrupted in one way, and that block's offset."""
    content, offsets = simple_file()
    at = offsets[1]
    length = struct.unpack_from("<I", content, at + 4)[0]
    mutations = {
        "length not a multiple of 4": lambda: patched(content, at + 4, "<I", length + 1),
        "length shorter than a block": lambda: patched(content, at + 4, "<I", 8),
        "length absurdly long": lambda: patched(content, at + 4, "<I", 0x7FFFFFF0),
        "trailing length differs": lambda: patched(content, at + length - 4, "<I", length + 4),
        "captured length overruns": lambda: patched(content, at + 20, "<I", 1000),
        "undeclared interface": lambda: patched(content, at + 8, "<I", 5),
    }
    return mutations[how](), at


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("length not a multiple of 4", "a bogus block length of"),
        ("length shorter than a block", "a bogus block length of 8"),
        ("length absurdly long", "a bogus block length of 2147483632"),
        ("trailing length differs", "a trailing length that differs"),
        ("captured length overruns", "a captured length of 1000 that overruns it"),
        ("undeclared interface", "an undeclared interface 5"),
    ],
)
def test_corrupt_block_is_reported_after_the_good_records(tmp_path: Path, how: str, message: str) -> None:
    content, bad_offset = corrupt_second_block(how)
    (tmp_path / "bad.pcapng").write_bytes(content)
    delivered = 0
    with open_capture_file(str(tmp_path / "bad.pcapng")) as capture:
        with pytest.raises(CaptureError) as raised:
            for batch in capture.scan():
                delivered += len(batch)
    assert delivered == 1
    assert not isinstance(raised.value, TruncatedCaptureError)
    assert raised.value.offset == bad_offset
    assert str(raised.value).startswith(f"pcapng block at byte offset {bad_offset} has {message}")


@pytest.mark.parametrize("bytes_into_block", [1, 11, 12, 40])
def test_truncated_pcapng_names_the_cut_packet_block(tmp_path: Path, bytes_into_block: int) -> None:
    content, offsets = simple_file()
    (tmp_path / "cut.pcapng").write_bytes(content[: offsets[2] + bytes_into_block])
    delivered = []
    with open_capture_file(str(tmp_path / "cut.pcapng")) as capture:
        with pytest.raises(TruncatedCaptureError) as raised:
            for batch in capture.scan(chunk_bytes=16):
                delivered.extend(batch.packet_data(row) for row in range(len(batch)))
    assert delivered == [packet(0, 30), packet(1, 31)]
    assert raised.value.offset == offsets[2]
    expected_part = "a packet" if bytes_into_block >= 4 else "a pcapng block"
    assert str(raised.value) == f"file is cut short in the middle of {expected_part} at byte offset {offsets[2]}"


def test_file_cut_inside_an_interface_block_opens_then_scan_reports_it(tmp_path: Path) -> None:
    shb = section("<")
    (tmp_path / "cut.pcapng").write_bytes(shb + interface("<", 1, 65535)[:10])
    with open_capture_file(str(tmp_path / "cut.pcapng")) as capture:
        assert capture.interfaces == []
        with pytest.raises(TruncatedCaptureError, match=f"a pcapng block at byte offset {len(shb)}"):
            list(capture.scan())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (section("<")[:8] + b"ABCD" + section("<")[12:], "unknown byte-order magic 41424344"),
        (patched(section("<"), 12, "<H", 2), "unsupported version 2"),
        (section("<")[:10], "cut short in the middle of a pcapng block at byte offset 0"),
        (
            section("<") + block("<", 1, struct.pack("<HHI", 1, 0, 0) + struct.pack("<HH", 2, 100) + b"eth0"),
            None,
        ),
    ],
    ids=["byte-order magic", "version", "short section header", "option overruns"],
)
def test_broken_section_header_fails_to_open(tmp_path: Path, content: bytes, message: str | None) -> None:
    (tmp_path / "bad.pcapng").write_bytes(content)
    if message is None:  # damage after the section header: open works, the scan names the block
        with open_capture_file(str(tmp_path / "bad.pcapng")) as capture:
            with pytest.raises(CaptureError, match="option 2 runs past the end of its block at byte offset 28"):
                list(capture.scan())
        return
    with pytest.raises(CaptureError, match=message):
        open_capture_file(str(tmp_path / "bad.pcapng"))
