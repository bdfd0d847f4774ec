"""What a live capture is asked to do: interfaces, filter, output, stop conditions and ring buffer.

The stop conditions (`-c`, `-a`) and ring buffer (`-b`) take dumpcap's `key:value` words, parsed
here so the CLI and the TUI share one meaning of them; sizes are in kB of 1000 bytes, as in dumpcap.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Literal

from tui_sniffer.capture.records import CaptureError

_STOP_KEYS = ("duration", "filesize", "packets", "files")
_RING_KEYS = ("duration", "filesize", "packets", "files")


@dataclass(slots=True)
class StopConditions:
    """When a capture stops by itself (`-c N`, `-a duration:S|filesize:KB|packets:N|files:N`)."""

    packets: int | None = None
    duration_seconds: float | None = None
    filesize_kb: int | None = None
    files: int | None = None
    """With a ring buffer: stop once this many files were written."""


@dataclass(slots=True)
class RingBuffer:
    """When to switch to the next output file (`-b filesize:KB|duration:S|packets:N|files:N`)."""

    filesize_kb: int | None = None
    duration_seconds: float | None = None
    packets: int | None = None
    files: int | None = None
    """Keep only the newest this many files, deleting older ones (a ring); None keeps them all."""

    @property
    def switches(self) -> bool:
        """Whether any condition ever starts a new file."""
        return any(value is not None for value in (self.filesize_kb, self.duration_seconds, self.packets))


@dataclass(slots=True)
class LiveCaptureSettings:
    """Everything needed to start a capture, from the command line or the TUI."""

    interfaces: list[str]
    capture_filter: str = ""
    output_path: str | None = None
    """Where packets go (`-w`); None captures to a spool file in a private temporary directory."""
    output_format: Literal["pcap", "pcapng"] | None = None
    stop: StopConditions = field(default_factory=StopConditions)
    ring: RingBuffer | None = None
    snaplen: int = 262144


def _positive_number(key: str, text: str, flag: str, integer: bool) -> float | int:
    """The value of one `key:value` word, which must be a positive number."""
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise CaptureError(f"invalid {flag} {key}:{text!r}: it needs a positive {'whole ' if integer else ''}number")
    return value


def _parse_words(words: list[str], flag: str, keys: tuple[str, ...]) -> dict[str, float | int]:
    """`key:value` words to a dict, rejecting unknown keys as dumpcap does."""
    parsed: dict[str, float | int] = {}
    for word in words:
        key, colon, text = word.partition(":")
        if not colon or key not in keys:
            raise CaptureError(f"invalid or unknown {flag} flag {word!r} (use {', '.join(k + ':N' for k in keys)})")
        parsed[key] = _positive_number(key, text, flag, integer=key != "duration")
    return parsed


def parse_stop_conditions(words: list[str], packet_count: int | None = None) -> StopConditions:
    """`-a` words plus `-c N` as stop conditions (`-c` wins over `-a packets:N`, as in tshark)."""
    parsed = _parse_words(words, "-a", _STOP_KEYS)
    if packet_count is not None and packet_count <= 0:
        raise CaptureError(f"invalid -c {packet_count}: it needs a positive whole number")
    return StopConditions(packets=packet_count or parsed.get("packets"), duration_seconds=parsed.get("duration"),
                          filesize_kb=parsed.get("filesize"), files=parsed.get("files"))


def parse_ring_buffer(words: list[str]) -> RingBuffer | None:
    """`-b` words as a ring buffer, or None without any."""
    if not words:
        return None
    parsed = _parse_words(words, "-b", _RING_KEYS)
    ring = RingBuffer(filesize_kb=parsed.get("filesize"), duration_seconds=parsed.get("duration"),
                      packets=parsed.get("packets"), files=parsed.get("files"))
    if not ring.switches:
        raise CaptureError("a ring buffer (-b) needs a condition to switch files: filesize:KB, duration:S or packets:N")
    return ring


def ring_file_name(output_path: str, number: int, started: float | None = None) -> str:
    """dumpcap's name for file `number` of a ring: `out.pcapng` → `out_00001_20250101120000.pcapng`."""
    directory, base = os.path.split(output_path)
    stem, dot, extension = base.rpartition(".")
    if not dot:
        stem, extension = base, ""
    stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(started if started is not None else time.time()))
    return os.path.join(directory, f"{stem}_{number:05d}_{stamp}{'.' + extension if extension else ''}")
