"""The `tui-sniffer` command: the TUI by default, tshark-like headless output with `-r`."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Iterator, NoReturn, Sequence

import numpy as np

from tui_sniffer.analysis.follow import FollowRequest, follow_stream, parse_follow_request, tshark_report
from tui_sniffer.capture import CaptureError, open_writer
from tui_sniffer.capture.records import RawRecord
from tui_sniffer.dissect.fields import all_fields
from tui_sniffer.dissect.tree import DissectedPacket
from tui_sniffer.export.json_tree import packet_json
from tui_sniffer.export.terminal_text import printable_output, tshark_field_text
from tui_sniffer.export.text import TIME_FORMATS, hex_dump_lines, summary_line, time_text, tree_lines
from tui_sniffer.process_memory import return_freed_blocks_to_os
from tui_sniffer.session import Capture, open_capture



class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line and exits 2, never with a traceback."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"tui-sniffer: {message}\n(see 'tui-sniffer --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The command line, with tshark's option letters where tshark has one."""
    parser = _Parser(prog="tui-sniffer", description="A terminal packet analyzer with Wireshark's "
                     "semantics. With a FILE (or none) it opens the TUI; with -r it prints like tshark.")
    parser.add_argument("file", nargs="?", help="capture file to open in the TUI")
    parser.add_argument("-r", dest="read_file", metavar="FILE",
                        help="read FILE (pcap/pcapng, gzip too; '-' for stdin) and print, like tshark")
    parser.add_argument("-V", dest="verbose", action="store_true", help="print each packet's detail tree")
    parser.add_argument("-x", dest="hex", action="store_true", help="print each packet's hex/ASCII dump")
    parser.add_argument("-c", dest="count", type=int, metavar="N", help="stop after N packets")
    parser.add_argument("-T", dest="output_format", choices=("text", "fields", "json"), default="text",
                        help="output format")
    parser.add_argument("-e", dest="fields", action="append", default=[], metavar="FIELD",
                        help="field to print with -T fields (repeatable; _ws.col.* columns too)")
    parser.add_argument("-E", dest="field_options", action="append", default=[], metavar="KEY=VALUE",
                        help="-T fields options: separator=, header=y, occurrence=f|l|a, aggregator=, quote=d|s|n")
    parser.add_argument("-w", dest="write_file", metavar="FILE",
                        help="write the packets read to FILE (pcapng, or pcap by extension; '-' is stdout)")
    parser.add_argument("-t", dest="time_format", choices=TIME_FORMATS, default="r",
                        help="time column: r relative, a absolute, ad absolute with date, d delta, e epoch")
    parser.add_argument("-Y", dest="display_filter", metavar="FILTER",
                        help="display filter in Wireshark's syntax")
    parser.add_argument("-n", dest="no_resolution", action="store_true",
                        help="no network name resolution (the default here; accepted for tshark habits)")
    parser.add_argument("-q", dest="quiet", action="store_true", help="print no per-packet lines")
    parser.add_argument("-z", dest="statistics", action="append", default=[], metavar="follow,PROTO,MODE,N",
                        help="after reading, print stream N's payload like tshark: PROTO tcp|udp|http, "
                        "MODE ascii|hex|raw|yaml (optionally ,FIRST[-LAST] chunks)")
    parser.add_argument("-G", dest="glossary", nargs="?", const="fields", choices=("fields", "protocols"),
                        help="list the registered fields (or protocols) and exit")
    parser.add_argument("--frame", dest="frames", action="append", default=[], metavar="N[-M]",
                        help="only these frame numbers (repeatable), e.g. --frame 1000000 or --frame 5-9")
    live = parser.add_argument_group(
        "live capture", "-i captures (needs root or CAP_NET_RAW). It opens the TUI, or prints like tshark "
        "when output is not a terminal or with -c, -a, -b, -V, -x, -T, -q or -Y.")
    live.add_argument("-D", dest="list_interfaces", action="store_true",
                      help="list the interfaces to capture on and exit")
    live.add_argument("-i", dest="interfaces", action="append", default=[], metavar="INTERFACE",
                      help="capture on INTERFACE (a name, or its number in -D); repeat for several")
    live.add_argument("-f", dest="capture_filter", metavar="FILTER",
                      help="capture filter in libpcap (tcpdump) syntax, applied in the kernel")
    live.add_argument("-a", dest="autostop", action="append", default=[], metavar="KEY:VALUE",
                      help="stop after duration:SECONDS, filesize:KB, packets:N or files:N")
    live.add_argument("-b", dest="ring_buffer", action="append", default=[], metavar="KEY:VALUE",
                      help="with -w: switch files after filesize:KB, duration:SECONDS or packets:N; "
                      "files:N keeps only the newest N")
    return parser


class _TerminalSafeOutput:
    """Standard output on a terminal: packet text is written with control characters spelled out."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(printable_output(text))

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tui-sniffer` command; a closed pipe (`| head`) ends it quietly.

    On a terminal, payload bytes in printed text never reach it as escape sequences (tshark would
    print them raw); piped output stays byte-for-byte what tshark prints.
    """
    return_freed_blocks_to_os()
    if sys.stdout.isatty():
        sys.stdout = _TerminalSafeOutput(sys.stdout)
    try:
        return _run(argv)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130


def _run(argv: Sequence[str] | None) -> int:
    """Parse the command line and run the chosen mode."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    options = build_parser().parse_args(arguments)
    if options.glossary:
        return _print_glossary(options.glossary)
    if options.list_interfaces:
        from tui_sniffer.cli_live import print_interfaces

        return print_interfaces()
    if options.interfaces:
        return _capture_live(options)
    for flag, value in (("-f", options.capture_filter), ("-a", options.autostop), ("-b", options.ring_buffer)):
        if value:
            print(f"tui-sniffer: {flag} applies to live capture and needs -i (use -Y to filter a file)",
                  file=sys.stderr)
            return 2
    if options.read_file is None:
        from tui_sniffer.ui import run_tui

        return run_tui(options.file)
    return _print_capture(options)


def _print_glossary(kind: str) -> int:
    """`-G fields` / `-G protocols`, in tshark's tab-separated glossary layout."""
    for definition in all_fields():
        if definition.is_protocol:
            if kind == "protocols":
                print(f"{definition.label}\t{definition.label}\t{definition.name}")
            elif not definition.name.startswith("_"):
                print(f"P\t{definition.label}\t{definition.name}")
        elif kind == "fields":
            print(f"F\t{definition.label}\t{definition.name}\t{definition.ftype.value}\t"
                  f"{definition.protocol}\t\t{definition.base.value}\t0x{definition.bitmask:x}\t"
                  f"{definition.description}")
    return 0


def _frame_selection(specifications: list[str]) -> list[tuple[int, int]]:
    """`--frame 5 --frame 9-12` as inclusive ranges."""
    ranges = []
    for specification in specifications:
        first, _, last = specification.partition("-")
        try:
            ranges.append((int(first), int(last or first)))
        except ValueError:
            _Parser(prog="tui-sniffer").error(f"--frame takes N or N-M, not {specification!r}")
    return ranges


def _selected_numbers(capture: Capture, frames: list[tuple[int, int]]) -> Iterator[int]:
    """The frame numbers to print: all in order, or only the selected ones that exist."""
    if not frames:
        yield from capture.frame_numbers()
        return
    for first, last in frames:
        for number in range(first, last + 1):
            if not capture.has_frame(number):
                return
            yield number


_DISPLAYED_DELTA = "frame.time_delta_displayed"
"""A field whose value depends on which frames the filter shows: such a filter is tested frame by frame."""


def _passing(capture: Capture, compiled, numbers: Iterator[int]) -> Iterator[int]:
    """The frame numbers among `numbers` that pass a display filter, found with `Capture.iter_filter`."""
    shown = np.zeros(capture.index.count + 1, bool)
    for progress in capture.iter_filter(compiled):
        shown[progress.frames] = True
    return (number for number in numbers if shown[number])


def _print_capture(options: argparse.Namespace) -> int:
    """Read a capture and print it the way tshark does with the same options."""
    try:
        capture = open_capture(options.read_file)
    except CaptureError as error:
        print(f"tui-sniffer: {error}", file=sys.stderr)
        return 2
    matcher = _compile_display_filter(options.display_filter)
    follow_requests = _follow_requests(options.statistics)
    if matcher is False or follow_requests is None:
        return 2
    field_options = _field_options(options.field_options)
    writer = open_writer(options.write_file, capture.file.interfaces) if options.write_file else None
    to_stdout = not (options.write_file == "-")
    digits = 9 if capture.file.nanosecond else 6
    printed = 0
    previous_displayed: int | None = None
    with capture:
        capture.index_all()  # two passes, like tshark -2: replies and reassembly ahead are known
        if options.output_format == "json" and to_stdout:
            print("[")
        selected = _selected_numbers(capture, _frame_selection(options.frames))
        sequential = matcher is not None and _DISPLAYED_DELTA in matcher.field_names
        if matcher is not None and options.count:  # tshark's -c counts the packets read, not shown
            selected = (number for number in selected if number <= options.count)
        if matcher is not None and not sequential:
            selected = _passing(capture, matcher, selected)
        if options.quiet and writer is None:
            selected = ()  # nothing to print or write per packet (-q -z follow…): no need to dissect any
        for number in selected:
            packet = capture.dissect(number, previous_displayed or number)  # the first shown: delta 0
            if sequential and not matcher.matches(packet):
                continue
            previous_displayed = packet.number
            if writer is not None:
                _write_packet(writer, capture, packet)
            if to_stdout and not options.quiet:
                _print_packet(options, capture, packet, field_options, digits, first=printed == 0)
            printed += 1
            if options.count and printed >= options.count:
                break
        if options.output_format == "json" and to_stdout:
            print("\n]")
        for request in follow_requests:
            followed = follow_stream(capture, request.protocol, request.stream)
            print(tshark_report(followed, request.mode, request.first_chunk, request.last_chunk), end="")
        if writer is not None:
            writer.close()
        if capture.error is not None and not (options.count and printed >= options.count):
            print(f"tui-sniffer: the file \"{options.read_file}\" {capture.error}", file=sys.stderr)
            return 2
    return 0


def _capture_live(options: argparse.Namespace) -> int:
    """`-i`: capture in the TUI, or headless printing each packet as it arrives like tshark."""
    from tui_sniffer.cli_live import capture_and_print, live_settings, wants_headless

    if options.read_file or options.file:
        print("tui-sniffer: -i captures live; it cannot be combined with -r or a FILE", file=sys.stderr)
        return 2
    try:
        settings = live_settings(options)
    except CaptureError as error:
        print(f"tui-sniffer: {error}", file=sys.stderr)
        return 2
    if not wants_headless(options):
        from tui_sniffer.ui import run_tui

        return run_tui(None, live_settings=settings)
    matcher = _compile_display_filter(options.display_filter)
    if matcher is False:
        return 2
    field_options = _field_options(options.field_options)
    shown = {"previous": None, "printed": 0}

    def print_packet(capture: Capture, number: int) -> None:
        """Print frame `number` if it passes -Y, as the file mode would."""
        packet = capture.dissect(number, shown["previous"])
        if matcher is not None and not matcher.matches(packet):
            return
        shown["previous"] = number
        digits = 9 if capture.file.nanosecond else 6
        _print_packet(options, capture, packet, field_options, digits, first=shown["printed"] == 0)
        shown["printed"] += 1

    json_output = options.output_format == "json" and not options.quiet
    if json_output:
        print("[")
    status = capture_and_print(settings, None if options.quiet else print_packet)
    if json_output:
        print("\n]")
    return status


def _follow_requests(specifications: list[str]) -> list[FollowRequest] | None:
    """The parsed `-z follow,…` requests, or None after printing why one is not understood."""
    requests = []
    for specification in specifications:
        if not specification.startswith("follow,"):
            print(f"tui-sniffer: -z {specification}: only follow,… is available (no other statistics yet)",
                  file=sys.stderr)
            return None
        try:
            requests.append(parse_follow_request(specification))
        except ValueError as error:
            print(f"tui-sniffer: follow - {error}", file=sys.stderr)
            return None
    return requests


def _compile_display_filter(text: str | None):
    """The compiled `-Y` filter, None without one, or False after printing an error."""
    if text is None:
        return None
    from tui_sniffer.filter import FilterError, compile_filter, format_error

    try:
        return compile_filter(text)
    except FilterError as error:
        print(f"tui-sniffer: {format_error(text, error)}", file=sys.stderr)
        return False


def _field_options(specifications: list[str]) -> dict[str, str]:
    """`-E key=value` options with tshark's defaults."""
    result = {"separator": "\t", "header": "n", "occurrence": "a", "aggregator": ",", "quote": "n"}
    named_separators = {"/t": "\t", "/s": " "}
    for specification in specifications:
        key, equals, value = specification.partition("=")
        if not equals or key not in result:
            _Parser(prog="tui-sniffer").error(f"invalid -E option {specification!r}")
        result[key] = named_separators.get(value, value)
    return result


def _print_packet(options: argparse.Namespace, capture: Capture, packet: DissectedPacket,
                  field_options: dict[str, str], digits: int, first: bool) -> None:
    """Print one packet in the chosen output format."""
    if options.output_format == "fields":
        if first and field_options["header"] == "y":
            print(field_options["separator"].join(options.fields))
        print(field_options["separator"].join(_field_value(packet, name, field_options)
                                              for name in options.fields))
        return
    if options.output_format == "json":
        timestamp = capture.frame_info(packet.number).timestamp_ns
        document = json.dumps(packet_json(packet, timestamp), indent=2, ensure_ascii=False)
        print(("" if first else ",\n") + "\n".join("  " + line for line in document.splitlines()), end="")
        return
    if options.verbose:
        print("\n".join(tree_lines(packet.tree)))
    else:
        info = capture.frame_info(packet.number)
        since_displayed = info.since_previous_displayed if options.time_format == "d" else info.since_previous
        print(summary_line(packet.summary, time_text(options.time_format, info.since_first, since_displayed,
                                                     info.timestamp_ns, digits)))
    if options.hex:
        if not options.verbose:
            print()
        print("\n".join(hex_dump_lines(packet.data)))
    if options.verbose or options.hex:
        print()


def _field_value(packet: DissectedPacket, name: str, field_options: dict[str, str]) -> str:
    """One `-e` column: every occurrence joined by the aggregator (or the first/last only)."""
    values = packet.fields(name)
    occurrence = field_options["occurrence"]
    if values and occurrence == "f":
        values = values[:1]
    elif values and occurrence == "l":
        values = values[-1:]
    elif occurrence.isdigit() and int(occurrence) > 0:
        values = values[int(occurrence) - 1:int(occurrence)]
    text = field_options["aggregator"].join(tshark_field_text(value) for value in values)
    quote = {"d": '"', "s": "'"}.get(field_options["quote"], "")
    return f"{quote}{text}{quote}" if quote else text


def _write_packet(writer, capture: Capture, packet: DissectedPacket) -> None:
    """Append one packet, with its original metadata, to the `-w` output."""
    info = capture.frame_info(packet.number)
    writer.write(RawRecord(data=packet.data, timestamp_ns=info.timestamp_ns,
                           captured_length=info.captured_length, wire_length=info.wire_length,
                           link_type=info.link_type, interface_id=info.interface_id,
                           comments=list(info.comments)))


if __name__ == "__main__":
    sys.exit(main())
