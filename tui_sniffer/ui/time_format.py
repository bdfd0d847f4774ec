"""The packet list's time column formats, like Wireshark's View → Time Display Format."""
from __future__ import annotations

import time
from enum import Enum


class TimeFormat(Enum):
    """How the Time column shows a packet's timestamp."""

    RELATIVE = "Seconds since beginning of capture"
    ABSOLUTE = "Time of day"
    DELTA = "Seconds since previous displayed packet"
    EPOCH = "Seconds since 1970-01-01 (epoch)"

    @property
    def column_width(self) -> int:
        """Characters the column needs for typical values."""
        return {TimeFormat.ABSOLUTE: 15, TimeFormat.EPOCH: 17}.get(self, 11)

    def next(self) -> TimeFormat:
        """The format after this one, cycling."""
        formats = list(TimeFormat)
        return formats[(formats.index(self) + 1) % len(formats)]


def format_time(time_format: TimeFormat, timestamp_ns: int, first_ns: int,
                previous_displayed_ns: int) -> str:
    """The Time column text of one packet, with microsecond precision as Wireshark shows it."""
    if time_format is TimeFormat.RELATIVE:
        return f"{(timestamp_ns - first_ns) / 1e9:.6f}"
    if time_format is TimeFormat.DELTA:
        return f"{(timestamp_ns - previous_displayed_ns) / 1e9:.6f}"
    if time_format is TimeFormat.EPOCH:
        seconds, nanoseconds = divmod(timestamp_ns, 1_000_000_000)
        return f"{seconds}.{nanoseconds // 1000:06d}"
    seconds, nanoseconds = divmod(timestamp_ns, 1_000_000_000)
    return time.strftime("%H:%M:%S", time.localtime(seconds)) + f".{nanoseconds // 1000:06d}"
