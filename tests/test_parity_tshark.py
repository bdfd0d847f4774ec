"""Parity with tshark on every fixture: frame counts, Protocol/Info columns and field values.

tshark runs with TCP reassembly off (reassembly has its own parity tests) and in two passes, so
request/reply links point both ways as in Wireshark's window. The Info column includes TCP analysis'
expert prefixes (`[TCP Dup ACK 7#1]`, `[TCP Retransmission]`), which tests/test_analysis_tcp.py
checks field by field.
"""
from __future__ import annotations

import subprocess


import tui_sniffer
from tests.conftest import FIXTURE_CAPTURES, TSHARK, needs_tshark

COMPARED_FIELDS = ["frame.len", "frame.cap_len", "frame.protocols", "eth.src", "eth.dst", "eth.type",
                   "ip.src", "ip.dst", "ip.ttl", "ip.id", "ip.flags", "ip.proto", "ip.len",
                   "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport", "tcp.stream", "tcp.seq",
                   "tcp.seq_raw", "tcp.ack", "tcp.nxtseq", "tcp.len", "tcp.flags", "tcp.hdr_len",
                   "tcp.window_size_value", "tcp.window_size", "tcp.window_size_scalefactor",
                   "tcp.options.mss_val", "tcp.options.timestamp.tsval", "udp.srcport", "udp.dstport",
                   "udp.length", "udp.stream", "sll.etype", "null.family"]


def _tshark_rows(path, fields: list[str]) -> list[list[str]]:
    command = [TSHARK, "-n", "-2", "-r", str(path), "-o", "tcp.desegment_tcp_streams:FALSE", "-T", "fields",
               *[argument for name in fields for argument in ("-e", name)],
               "-E", "occurrence=a", "-E", "aggregator=,"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in output.splitlines()]


def _agreement(path) -> dict[str, tuple[int, int]]:
    """Matches and totals per compared column for one capture."""
    expected = _tshark_rows(path, ["_ws.col.Protocol", "_ws.col.Info", *COMPARED_FIELDS])
    capture = tui_sniffer.open_capture(str(path), reassemble=False)
    packets = list(capture)
    assert len(packets) == len(expected), f"{path.name}: {len(packets)} frames, tshark has {len(expected)}"
    tally: dict[str, list[int]] = {}
    for packet, row in zip(packets, expected):
        checks = {"Protocol+Info": [packet.summary.protocol, packet.summary.info] == row[:2]}
        for name, value in zip(COMPARED_FIELDS, row[2:]):
            checks["fields"] = checks.get("fields", True) and ",".join(packet.fields(name)) == value
        for name, ok in checks.items():
            entry = tally.setdefault(name, [0, 0])
            entry[0] += ok
            entry[1] += 1
    return {name: (matched, total) for name, (matched, total) in tally.items()}


@needs_tshark
def test_every_fixture_agrees_with_tshark(capsys):
    totals: dict[str, list[int]] = {}
    lines = []
    for path in FIXTURE_CAPTURES:
        figures = _agreement(path)
        lines.append(f"{path.name:28}" + "  ".join(f"{name} {matched}/{total}" for name, (matched, total)
                                                   in figures.items()))
        for name, (matched, total) in figures.items():
            entry = totals.setdefault(name, [0, 0])
            entry[0] += matched
            entry[1] += total
    summary = {name: 100.0 * matched / total for name, (matched, total) in totals.items()}
    with capsys.disabled():
        print("\n" + "\n".join(lines))
        print("tshark agreement over all fixtures: " +
              ", ".join(f"{name} {percent:.1f}%" for name, percent in summary.items()))
    assert summary["Protocol+Info"] >= 95.0
    assert summary["fields"] >= 97.0
