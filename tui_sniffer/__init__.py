"""tui-sniffer: a terminal packet analyzer with Wireshark's semantics, usable headless from Python.

    cap = tui_sniffer.open_capture("fixtures/demo.pcapng")
    len(cap); cap[1].summary; cap[1].tree; cap[1].fields("tcp.seq")
"""
from tui_sniffer.capture import CaptureError
from tui_sniffer.session import Capture, open_capture

__all__ = ["Capture", "CaptureError", "open_capture"]
__version__ = "0.1.0"
