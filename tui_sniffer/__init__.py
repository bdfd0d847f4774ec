"""tui-sniffer: a terminal packet analyzer with Wireshark's semantics, usable headless from Python.

    cap = tui_sniffer.open_capture("fixtures/demo.pcapng")
    len(cap); cap[1].summary; cap[1].tree; cap[1].fields("tcp.seq")
    cap.filter("tcp.port == 80")      # matching frame numbers; a bad filter raises FilterError
"""
from tui_sniffer.capture import CaptureError
from tui_sniffer.filter.errors import FilterError
from tui_sniffer.session import Capture, open_capture

__all__ = ["Capture", "CaptureError", "FilterError", "open_capture"]
__version__ = "0.1.0"
