"""The command line's live modes: `-D` lists interfaces, `-i` captures and prints like tshark.

The capture runs in its own thread (`LiveCapture`, like dumpcap) writing every packet to the spool
or the `-w` file; this thread reads that growing file back through a `Capture` and prints packets
as they arrive, so slow printing never makes the kernel drop packets.
"""
from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tui_sniffer.capture.interfaces import list_interfaces
from tui_sniffer.capture.live import LiveCapture, LiveStatistics
from tui_sniffer.capture.live_settings import LiveCaptureSettings, parse_ring_buffer, parse_stop_conditions
from tui_sniffer.capture.records import CaptureError
from tui_sniffer.session import Capture, open_growing_capture

_WAIT_SECONDS = 0.25
"""The longest the printer sleeps between looks at the file when no wake-up comes."""
HEADLESS_OPTIONS = ("count", "autostop", "ring_buffer", "verbose", "hex", "quiet", "display_filter")
"""Options that make `-i` print like tshark instead of opening the TUI."""

PacketPrinter = Callable[[Capture, int], None]
"""Prints frame `number` of the capture (and decides, with -Y, whether to)."""


def print_interfaces() -> int:
    """`-D`: one numbered line per interface, tshark's layout plus state and addresses."""
    interfaces = list_interfaces()
    if not interfaces:
        print("tui-sniffer: no interfaces found (is /sys/class/net there?)", file=sys.stderr)
        return 2
    for number, interface in enumerate(interfaces, 1):
        print(interface.listing_line(number))
    return 0


def wants_headless(options: argparse.Namespace) -> bool:
    """Whether a live capture prints like tshark (output not a terminal, or a printing/stopping option)."""
    explicit = any(getattr(options, name) for name in HEADLESS_OPTIONS) or options.output_format != "text"
    return explicit or not sys.stdout.isatty()


def live_settings(options: argparse.Namespace) -> LiveCaptureSettings:
    """The capture the command line asks for (raises CaptureError for bad -a/-b words)."""
    return LiveCaptureSettings(
        interfaces=list(options.interfaces), capture_filter=options.capture_filter or "",
        output_path=options.write_file, stop=parse_stop_conditions(options.autostop, options.count),
        ring=parse_ring_buffer(options.ring_buffer),
    )


@contextmanager
def _stop_on_signals(live: LiveCapture) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) ends the capture cleanly, as in tshark, instead of interrupting the printer."""
    previous = {number: signal.signal(number, lambda *_: live.request_stop())
                for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def capture_and_print(settings: LiveCaptureSettings, print_packet: PacketPrinter | None,
                      on_start: Callable[[Capture | None], None] = lambda capture: None) -> int:
    """Capture until a stop condition or Ctrl-C, printing each packet as it is written; the exit status."""
    try:
        live = LiveCapture(settings)
    except CaptureError as error:
        print(f"tui-sniffer: {error}", file=sys.stderr)
        return 2
    names = " and ".join(f"'{name}'" for name in live.interface_names)
    print(f"Capturing on {names}" + (f" with filter {settings.capture_filter!r}" if settings.capture_filter
                                      else ""), file=sys.stderr)
    capture = None
    if print_packet is not None and settings.ring is None and settings.output_path != "-":
        capture = open_growing_capture(live.output_path)
    try:
        with _stop_on_signals(live):
            live.start_in_thread()
            on_start(capture)
            printed_through = 0
            while True:
                live.written.clear()
                finished = live.finished.is_set()
                if capture is not None:
                    if finished:
                        capture.finish_growing()
                    printed_through = _print_new(capture, printed_through, print_packet)
                if finished:
                    break
                live.written.wait(_WAIT_SECONDS)
    finally:
        live.request_stop()
        live.finished.wait()
        if capture is not None:
            capture.close()
        live.discard()
    return _report_end(live.statistics(), live)


def _print_new(capture: Capture, printed_through: int, print_packet: PacketPrinter) -> int:
    """Index what the capture wrote since the last look and print it; the last frame printed."""
    capture.index_all()
    for number in range(printed_through + 1, capture.indexed_count + 1):
        print_packet(capture, number)
    sys.stdout.flush()
    return capture.indexed_count


def _report_end(statistics: LiveStatistics, live: LiveCapture) -> int:
    """tshark's closing lines on stderr (captured, dropped, problems); 2 if the capture failed."""
    for problem in statistics.problems:
        print(f"tui-sniffer: {problem}", file=sys.stderr)
    failed = statistics.stop_reason.startswith(("cannot", "capture on"))
    if failed and statistics.stop_reason not in statistics.problems:
        print(f"tui-sniffer: {statistics.stop_reason}", file=sys.stderr)
    plural = "" if statistics.captured == 1 else "s"
    print(f"{statistics.captured} packet{plural} captured", file=sys.stderr)
    dropped = statistics.kernel_dropped + statistics.own_dropped
    if dropped:
        print(f"{dropped} packets dropped ({statistics.kernel_dropped} by the kernel, "
              f"{statistics.own_dropped} by tui-sniffer)", file=sys.stderr)
    if settings_wrote_files(live):
        print("Files: " + ", ".join(live.files), file=sys.stderr)
    return 2 if failed else 0


def settings_wrote_files(live: LiveCapture) -> bool:
    """Whether the user asked for output files worth naming at the end (a ring buffer)."""
    return live.settings.ring is not None
