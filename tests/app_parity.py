"""Shared helpers for the application-protocol parity tests: read a capture through the public API, compare with tshark."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import tui_sniffer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TSHARK = shutil.which("tshark")


@dataclass
class Agreement:
    """How many compared frames matched tshark, and the first differences for the failure message."""

    compared: int
    matched: int
    differences: list[str]

    @property
    def percent(self) -> float:
        """The share of compared frames that matched, in percent (100 when none were compared)."""
        return 100.0 * self.matched / self.compared if self.compared else 100.0


def tshark_rows(path: Path, fields: list[str]) -> list[list[str]]:
    """tshark's Protocol, Info and the given fields for every frame, reassembly off, two passes (as the GUI shows)."""
    command = [TSHARK, "-n", "-2", "-r", str(path), "-o", "tcp.desegment_tcp_streams:FALSE",
               "-T", "fields", "-e", "_ws.col.Protocol", "-e", "_ws.col.Info",
               *[argument for name in fields for argument in ("-e", name)],
               "-E", "occurrence=a", "-E", "aggregator=,"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in output.rstrip("\n").split("\n")]


def compare_with_tshark(path: Path, protocols: set[str], fields: list[str]) -> Agreement:
    """Compare Protocol, Info and fields with tshark on every frame either side calls one of `protocols`."""
    packets = list(tui_sniffer.open_capture(str(path), reassemble=False))
    expected_rows = tshark_rows(path, fields)
    assert len(expected_rows) == len(packets), "frame count differs from tshark"
    compared = matched = 0
    differences: list[str] = []
    for packet, expected in zip(packets, expected_rows):
        ours = [packet.summary.protocol, packet.summary.info] + \
            [",".join(packet.fields(name)) for name in fields]
        if expected[0] not in protocols and ours[0] not in protocols:
            continue
        compared += 1
        if ours == expected:
            matched += 1
            continue
        for name, mine, theirs in zip(["protocol", "info", *fields], ours, expected):
            if mine != theirs:
                differences.append(f"{path.name}#{packet.number} {name}: ours={mine!r} tshark={theirs!r}")
    return Agreement(compared, matched, differences)
