"""Text renderings tshark prints: the one-line summary, the indented detail tree and the hex dump."""
from __future__ import annotations

import datetime as _dt
from typing import Iterable, Iterator

from tui_sniffer.dissect.tree import ColumnTexts, TreeNode

TIME_FORMATS = ("r", "a", "ad", "d", "e")
"""tshark's `-t` formats: relative to first, absolute, absolute with date, delta, epoch."""


def time_text(format_code: str, since_first: float, since_previous: float, timestamp_ns: int,
              digits: int) -> str:
    """The Time column in one of tshark's `-t` formats, with `digits` fractional digits."""
    if format_code == "r":
        return f"{since_first:.{digits}f}"
    if format_code == "d":
        return f"{since_previous:.{digits}f}"
    seconds, nanoseconds = divmod(timestamp_ns, 1_000_000_000)
    fraction = f"{nanoseconds:09d}"[:digits]
    if format_code == "e":
        return f"{seconds}.{fraction}"
    moment = _dt.datetime.fromtimestamp(seconds).astimezone()
    clock = f"{moment:%H:%M:%S}.{fraction}"
    return f"{moment:%Y-%m-%d} {clock}" if format_code == "ad" else clock


def summary_line(summary: ColumnTexts, time_column: str) -> str:
    """One packet as tshark's default output prints it (column widths as tshark pads them)."""
    return (f"{summary.number:>5} {time_column:>10} {summary.source:>12} \u2192 "
            f"{summary.destination:<12} {summary.protocol} {summary.length} {summary.info}")


def tree_lines(nodes: Iterable[TreeNode], depth: int = 0) -> Iterator[str]:
    """The detail tree as `tshark -V` prints it: four spaces per level, hidden fields left out."""
    for node in nodes:
        if node.hidden:
            continue
        yield "    " * depth + node.text
        yield from tree_lines(node.children, depth + 1)


def hex_dump_lines(data: bytes) -> Iterator[str]:
    """`0000  45 00 …  E.` lines as `tshark -x` prints them, printable ASCII only."""
    for offset in range(0, len(data), 16):
        chunk = data[offset:offset + 16]
        hex_part = " ".join(f"{byte:02x}" for byte in chunk)
        ascii_part = "".join(chr(byte) if 0x20 <= byte < 0x7F else "." for byte in chunk)
        yield f"{offset:04x}  {hex_part:<47}   {ascii_part}"
