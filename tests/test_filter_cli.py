"""`tui-sniffer -r FILE -Y FILTER` prints exactly what `tshark -2 -Y` prints, with any output option."""
from __future__ import annotations

import subprocess

import pytest

from tests.conftest import FIXTURES, TSHARK, needs_tshark
from tests.test_core_cli import run_cli, tshark_output

LAB_FILTERS = ["http", "tcp.port == 80", "ip.dst == 10.10.0.1 or ip.src == 10.10.0.1", "tcp.seq == 1",
               "tcp.flags.fin == 1", "dns.qry.name contains \"example\"", "!tcp", "udp.port in {53, 5353}"]


@needs_tshark
@pytest.mark.parametrize("text", LAB_FILTERS)
def test_filtered_fields_equal_tsharks(text):
    arguments = ["-r", str(FIXTURES / "demo.pcapng"), "-Y", text, "-T", "fields", "-e", "frame.number",
                 "-e", "ip.src", "-e", "tcp.srcport", "-e", "frame.time_delta_displayed"]
    assert run_cli(*arguments).stdout.decode() == tshark_output(*arguments)


@needs_tshark
@pytest.mark.parametrize("name, text", [("tcp_chat_5050.pcap", "tcp.port == 5050 and tcp.len > 0"),
                                        ("tcp_refused.pcapng", "tcp.flags.reset == 1"),
                                        ("ping.pcap", "icmp.type == 8")])
def test_filtered_summary_lines_equal_tsharks(name, text):
    for extra in ([], ["-c", "2"], ["-t", "d"]):
        arguments = ["-r", str(FIXTURES / name), "-Y", text, *extra]
        assert run_cli(*arguments).stdout.decode() == tshark_output(*arguments), extra


def _frame_blocks(text: str) -> dict[str, str]:
    """`-V` output cut into one block per frame, without the filter-dependent displayed-delta line."""
    blocks = {}
    for block in text.split("\n\n"):
        if block.startswith("Frame "):
            kept = [line for line in block.splitlines() if "previous displayed frame" not in line]
            blocks[block.split(":", 1)[0]] = "\n".join(kept)
    return blocks


@needs_tshark
def test_filtered_trees_are_the_frames_tshark_shows_printed_as_without_a_filter():
    source = str(FIXTURES / "demo.pcapng")
    filtered = _frame_blocks(run_cli("-r", source, "-Y", "dns or http", "-V").stdout.decode())
    unfiltered = _frame_blocks(run_cli("-r", source, "-V").stdout.decode())
    expected = tshark_output("-r", source, "-Y", "dns or http", "-T", "fields", "-e", "frame.number").split()
    assert list(filtered) == [f"Frame {number}" for number in expected]
    assert all(filtered[name] == unfiltered[name] for name in filtered)


@needs_tshark
def test_filtered_write_holds_the_packets_tshark_writes(tmp_path):
    ours, theirs = tmp_path / "ours.pcapng", tmp_path / "theirs.pcapng"
    source = str(FIXTURES / "http_keepalive.pcapng")
    assert run_cli("-r", source, "-Y", "tcp.len > 0", "-w", str(ours)).returncode == 0
    subprocess.run([TSHARK, "-n", "-r", source, "-Y", "tcp.len > 0", "-w", str(theirs)], check=True,
                   capture_output=True)
    listing = ["-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "tcp.seq_raw"]
    assert tshark_output("-r", str(ours), *listing) == tshark_output("-r", str(theirs), *listing) != ""


def test_a_bad_filter_prints_the_error_with_a_caret_and_exits_2():
    result = run_cli("-r", str(FIXTURES / "demo.pcapng"), "-Y", "tcp.port == 80 and ip.scr")
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.decode() == ("tui-sniffer: ip.scr is neither a field nor a protocol name.\n"
                                      "    tcp.port == 80 and ip.scr\n"
                                      "                       ^~~~~~\n")
