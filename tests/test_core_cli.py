"""The headless command line against tshark on the same files, and its handling of bad input."""
from __future__ import annotations

import json
import struct
import subprocess
import sys

import pytest

from tests.conftest import FIXTURES, TSHARK, needs_tshark

CLI = [sys.executable, "-m", "tui_sniffer.cli"]


def run_cli(*arguments: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run `tui-sniffer` with arguments, capturing text output."""
    return subprocess.run([*CLI, *arguments], input=stdin, capture_output=True, timeout=120)


def tshark_output(*arguments: str) -> str:
    """tshark's stdout for the same arguments, in two passes: what Wireshark shows once a file is loaded."""
    result = subprocess.run([TSHARK, "-n", "-2", *arguments],
                            capture_output=True, timeout=120)
    return result.stdout.decode()


@needs_tshark
@pytest.mark.parametrize("name", ["tcp_chat_5050.pcap", "tcp_refused.pcapng", "ping.pcap", "any_sll2.pcap"])
def test_summary_lines_equal_tsharks(name):
    ours = run_cli("-r", str(FIXTURES / name)).stdout.decode()
    assert ours == tshark_output("-r", str(FIXTURES / name))


@needs_tshark
def test_fields_output_equals_tsharks_with_separator_and_columns():
    fields = ["frame.number", "ip.src", "tcp.dstport", "tcp.flags", "tcp.seq", "tcp.ack",
              "tcp.window_size", "_ws.col.Protocol", "_ws.col.Info", "ip.addr"]
    arguments = ["-r", str(FIXTURES / "tcp_chat_5050.pcapng"), "-T", "fields", "-E", "separator=,"]
    for name in fields:
        arguments += ["-e", name]
    assert run_cli(*arguments).stdout.decode() == tshark_output(*arguments)


def test_stdin_pipe_reads_like_a_file():
    data = (FIXTURES / "ping.pcap").read_bytes()
    piped = run_cli("-r", "-", stdin=data)
    assert piped.returncode == 0
    assert piped.stdout == run_cli("-r", str(FIXTURES / "ping.pcap")).stdout


def test_count_verbose_and_hex():
    result = run_cli("-r", str(FIXTURES / "tcp_chat_5050.pcap"), "-c", "1", "-V", "-x")
    text = result.stdout.decode()
    assert text.startswith("Frame 1: ")
    assert "Transmission Control Protocol, Src Port:" in text
    assert "    Flags: 0x002 (SYN)" in text
    assert "[Stream index: 0]" in text
    assert "\n0000  00 00 00 00 00 00 00 00 00 00 00 00 08 00 45 00" in text
    assert "Frame 2:" not in text


def test_json_output_parses_with_layers():
    result = run_cli("-r", str(FIXTURES / "ping.pcap"), "-T", "json", "-c", "2")
    documents = json.loads(result.stdout)
    assert len(documents) == 2
    layers = documents[0]["_source"]["layers"]
    assert list(layers)[:3] == ["frame", "eth", "ip"]
    assert layers["frame"]["frame.number"] == "1"


def test_write_keeps_every_packet(tmp_path):
    output = tmp_path / "copy.pcapng"
    assert run_cli("-r", str(FIXTURES / "http_get_post.pcap"), "-w", str(output)).returncode == 0
    same_content = ["-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "_ws.col.Info"]
    original = run_cli("-r", str(FIXTURES / "http_get_post.pcap"), *same_content).stdout
    assert original.count(b"\n") == 24
    assert run_cli("-r", str(output), *same_content).stdout == original
    hex_lines = [line for line in run_cli("-r", str(output), "-x").stdout.splitlines() if line[:2] == b"00"]
    original_hex = [line for line in run_cli("-r", str(FIXTURES / "http_get_post.pcap"), "-x").stdout.splitlines()
                    if line[:2] == b"00"]
    assert hex_lines == original_hex and len(hex_lines) > 24


def test_glossary_lists_registered_fields():
    lines = run_cli("-G", "fields").stdout.decode().splitlines()
    assert "F\tSource Port\ttcp.srcport\tFT_UINT16\ttcp\t\tBASE_DEC\t0x0\t" in lines


@pytest.mark.parametrize("arguments, message", [
    (["-r", "x.pcap", "--bogus"], b"unrecognized arguments: --bogus"),
    (["-i", "no-such-interface0"], b"there is no interface 'no-such-interface0' (tui-sniffer -D lists them)"),
    (["-r", "/nonexistent.pcap"], b"no such file"),
])
def test_bad_command_lines_fail_clearly(arguments, message):
    result = run_cli(*arguments)
    assert result.returncode == 2
    assert message in result.stderr
    assert b"Traceback" not in result.stderr


def test_truncated_file_prints_whole_packets_then_the_offset(tmp_path):
    data = (FIXTURES / "tcp_chat_5050.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:-10])
    whole = run_cli("-r", str(FIXTURES / "tcp_chat_5050.pcap")).stdout.decode().splitlines()
    result = run_cli("-r", str(cut))
    assert result.returncode != 0
    assert result.stdout.decode().splitlines() == whole[:-1]
    error = result.stderr.decode()
    last_record_offset = _last_record_offset(data)
    assert f"byte offset {last_record_offset}" in error
    assert error.count("\n") == 1 and "Traceback" not in error


def _last_record_offset(pcap: bytes) -> int:
    """The file offset of the last record header of a little-endian pcap."""
    offset, last = 24, 24
    while offset < len(pcap):
        last = offset
        captured_length, = struct.unpack_from("<I", pcap, offset + 8)
        offset += 16 + captured_length
    return last


def _pcap(frames: list[bytes]) -> bytes:
    """A little-endian microsecond pcap of Ethernet frames."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for number, frame in enumerate(frames):
        out += struct.pack("<IIII", 1_700_000_000 + number, 0, len(frame), len(frame)) + frame
    return out


def test_malformed_packet_is_marked_and_the_rest_still_prints(tmp_path):
    good = (FIXTURES / "tcp_chat_5050.pcap").read_bytes()[40:40 + 74]
    bogus_offset = bytearray(good)
    bogus_offset[14 + 20 + 12] = 0xF0  # TCP header length 60 bytes in a 40-byte header
    bogus_ip_length = bytearray(good)
    bogus_ip_length[14] = 0x42  # IPv4 header length 8 bytes: impossible
    path = tmp_path / "malformed.pcap"
    path.write_bytes(_pcap([good, bytes(bogus_offset), bytes(bogus_ip_length), good]))
    result = run_cli("-r", str(path), "-V")
    assert result.returncode == 0
    text = result.stdout.decode()
    assert text.count("Frame ") >= 4 and "Frame 4:" in text
    assert "[Malformed Packet: TCP]" in text
    assert "[Malformed Packet: IP]" in text
    summary = run_cli("-r", str(path)).stdout.decode().splitlines()
    assert len(summary) == 4
    assert summary[1].endswith("[Malformed Packet]") and summary[2].endswith("[Malformed Packet]")
