"""Capture sources and sinks: pcap/pcapng readers (plain, gzip, stdin) with byte offsets, and writers."""
from __future__ import annotations

from tui_sniffer.capture.records import (
    CaptureError,
    InterfaceInfo,
    RawRecord,
    RecordBatch,
    TruncatedCaptureError,
)
from tui_sniffer.capture.source import CaptureFile, open_capture_file
from tui_sniffer.capture.writer import PcapngWriter, PcapWriter, open_writer

__all__ = [
    "CaptureError",
    "CaptureFile",
    "InterfaceInfo",
    "PcapWriter",
    "PcapngWriter",
    "RawRecord",
    "RecordBatch",
    "TruncatedCaptureError",
    "open_capture_file",
    "open_writer",
]
