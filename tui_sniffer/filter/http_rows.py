"""Which frames show HTTP, and what their request and status lines say, for the whole index at once.

The HTTP dissector claims a TCP payload, or a message TCP reassembly cut from the stream, when it
starts with a request or status line, and any other one in a conversation known to carry HTTP
(`http.conversation`: a message among the stream's first data frames) or on an HTTP port. So a
frame's HTTP follows from its stream, which messages it completes, and their first lines; all of
that comes from the index columns, a few payload reads and, with reassembly, the framing of the
streams that can carry HTTP at all. Only those are framed: streams on an HTTP port, with a payload
that starts like a message, or, where a message could start inside a segment (after a TLS record,
where segments overlap), with a payload holding `HTTP/1.`, which every first line contains.

Frames this reasoning does not cover (tunnels and fragments, the DNS ports, a SYN with data, several
TLS records that may show as one, a keep-alive the framing counted) are left to the per-packet path.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Generator, Iterable, Iterator

import numpy as np

from tui_sniffer.analysis.pairing import SEARCH_LIMIT
from tui_sniffer.dissect.frame import FrameInfo, TcpAnalysisFlag
from tui_sniffer.dissect.protocols.dns import DNS_PORTS
from tui_sniffer.dissect.protocols.http import HTTP_PORTS, first_line, status_description
from tui_sniffer.store.filter_columns import HTTP_METHOD_STARTS, HTTP_STATUS_STARTS, UNKNOWN
from tui_sniffer.store.summary import DOUBT_TRANSPORT, IP_PROTO_TCP

if TYPE_CHECKING:
    from tui_sniffer.analysis.reassembly import TcpReassembly

_FIRST_LINE_BYTES = 2048
"""How much of a message the dissector reads its first line from."""

_TOKEN = b"HTTP/1."
_SYN = 0x02
_TLS_TYPES = range(20, 25)
_NOT_DISSECTED = TcpAnalysisFlag.KEEP_ALIVE | TcpAnalysisFlag.RETRANSMISSION | TcpAnalysisFlag.OUT_OF_ORDER

REQUEST_LINE_FIELDS = ("http.request", "http.request.method", "http.request.uri", "http.request.version")
STATUS_LINE_FIELDS = ("http.response", "http.response.version", "http.response.code", "http.response.code.desc",
                      "http.response.phrase")
_STRING_FIELDS = frozenset(REQUEST_LINE_FIELDS[1:] + STATUS_LINE_FIELDS[1:2] + STATUS_LINE_FIELDS[3:])


@dataclass
class FirstLines:
    """The request lines, or the status lines: the rows showing exactly one, ascending, and its values."""

    fields: tuple[str, ...]
    rows: np.ndarray
    values: list[tuple]
    """Per row, the value of each of `fields`."""

    def column(self, field_name: str, start: int, stop: int) -> np.ndarray:
        """`field_name` over rows [start, stop) where it occurs once (an empty value elsewhere)."""
        position = self.fields.index(field_name)
        string = field_name in _STRING_FIELDS
        found = np.full(stop - start, "" if string else 0, dtype=object if string else np.int64)
        low, high = np.searchsorted(self.rows, (start, stop))
        for row, values in zip(self.rows[low:high].tolist(), self.values[low:high]):
            found[row - start] = values[position]
        return found


@dataclass
class ShownHttp:
    """Per index row: whether the counts are exact (`known`), how many HTTP layers, requests and
    responses the frame shows, and the request and status line values of rows showing one."""

    known: np.ndarray
    layers: np.ndarray
    requests: np.ndarray
    responses: np.ndarray
    request_lines: FirstLines
    status_lines: FirstLines

    def counts(self, field_name: str) -> np.ndarray:
        """How often `field_name` (`http` or `http.*`) occurs in each known row (UNKNOWN: dissect to tell)."""
        if field_name == "http":
            return self.layers
        if field_name in REQUEST_LINE_FIELDS:
            return self.requests
        if field_name in STATUS_LINE_FIELDS:
            return self.responses
        needed = self.requests if field_name.startswith("http.request.") else \
            self.responses if field_name.startswith("http.response.") else self.layers
        return np.where(needed == 0, 0, UNKNOWN).astype(np.int8)

    def values(self, field_name: str, start: int, stop: int) -> np.ndarray | None:
        """A request/status line field over rows [start, stop) where it occurs once, or None for other fields."""
        for lines in (self.request_lines, self.status_lines):
            if field_name in lines.fields:
                return lines.column(field_name, start, stop)
        return None


def line_values(head: bytes) -> dict[str, object] | None:
    """The fields a message's request or status line shows, as the dissector reads them, or None."""
    request, status = first_line(head[:_FIRST_LINE_BYTES])
    if request:
        method, uri, version = (part.decode("latin-1") for part in request.groups())
        return {"http.request": 1, "http.request.method": method, "http.request.uri": uri,
                "http.request.version": version}
    if status:
        version, code_text, phrase = (part.decode("latin-1") if part else "" for part in status.groups())
        code = int(code_text)
        return {"http.response": 1, "http.response.version": version, "http.response.code": code,
                "http.response.code.desc": status_description(code, phrase), "http.response.phrase": phrase}
    return None


class HttpRows:
    """Works out ShownHttp for every indexed row, with or without TCP reassembly (`framing` cuts the messages).

    `read_row` gives a row's bytes; `record_info` a frame's record and TCP facts (asked only for the few
    segments whose TCP analysis decides whether their payload is dissected at all).
    """

    def __init__(self, index, read_row: Callable[[int], bytes], record_info: Callable[[int], FrameInfo],
                 in_sequence: np.ndarray, framing: TcpReassembly | None = None) -> None:
        self.index = index
        self.read_row = read_row
        self.record_info = record_info
        self.in_sequence = in_sequence
        self.framing = framing
        count = index.count
        column = index.column
        self.streams = column("tcp_stream")
        self.lengths = column("payload_length")
        source_ports, destination_ports = column("src_port"), column("dst_port")
        self.tcp = (column("ip_version") != 0) & (column("ip_proto") == IP_PROTO_TCP) & \
            (column("layer_doubt") & DOUBT_TRANSPORT == 0) & (self.streams >= 0)
        self.known = self.tcp & ~np.isin(source_ports, DNS_PORTS) & ~np.isin(destination_ports, DNS_PORTS)
        stream_count = int(self.streams.max(initial=0)) + 1
        self.on_http_port = self._streams_where(np.isin(source_ports, list(HTTP_PORTS))
                                                | np.isin(destination_ports, list(HTTP_PORTS)), stream_count)
        self.payload_rows = np.flatnonzero(self.known & (self.lengths > 0))
        self.heads = column("payload_head")[self.payload_rows].astype(">u8").view(np.uint8).reshape(-1, 8)
        """The first payload bytes of each of `payload_rows`."""
        self.starts_like_message = np.zeros(count, bool)
        self.starts_like_message[self.payload_rows[self._heads_starting(
            HTTP_METHOD_STARTS + HTTP_STATUS_STARTS)]] = True
        self.with_message = self._streams_where(self.starts_like_message, stream_count)
        self.stream_count = stream_count
        self.layers = np.zeros(count, np.int8)
        self.requests = np.zeros(count, np.int8)
        self.responses = np.zeros(count, np.int8)
        self._first_lines: dict[tuple[str, ...], list[tuple[int, tuple]]] = {REQUEST_LINE_FIELDS: [],
                                                                             STATUS_LINE_FIELDS: []}
        self._texts: dict[str, str] = {}

    def steps(self, pause_seconds: float) -> Iterator[ShownHttp | None]:
        """Every row's HTTP, per segment (`framing` None) or as reassembly shows it: None after each
        `pause_seconds` of work (a caller may stop there), then the ShownHttp."""
        deadline = time.perf_counter() + pause_seconds
        for _ in self._per_segment() if self.framing is None else self._reassembled():
            if time.perf_counter() >= deadline:
                yield None
                deadline = time.perf_counter() + pause_seconds
        yield ShownHttp(self.known, self.layers, self.requests, self.responses,
                        self._kept_lines(REQUEST_LINE_FIELDS), self._kept_lines(STATUS_LINE_FIELDS))

    def _kept_lines(self, fields: tuple[str, ...]) -> FirstLines:
        """The lines of one kind noted so far, in row order."""
        found = sorted(self._first_lines[fields], key=lambda item: item[0])
        return FirstLines(fields, np.array([row for row, _ in found], np.int64), [values for _, values in found])

    # -- shared --------------------------------------------------------------------------------------

    def _streams_where(self, rows: np.ndarray, stream_count: int) -> np.ndarray:
        """A per-stream mask: the streams of the known rows selected by `rows`."""
        found = np.zeros(stream_count, bool)
        found[self.streams[rows & self.known]] = True
        return found

    def _heads_starting(self, prefixes: Iterable[bytes]) -> np.ndarray:
        """Which of `payload_rows` start with one of `prefixes` (each at most 8 bytes)."""
        found = np.zeros(len(self.heads), bool)
        for prefix in prefixes:
            found |= (self.heads[:, :len(prefix)] == np.frombuffer(prefix, np.uint8)).all(axis=1)
        return found

    def _stream_groups(self, rows: np.ndarray) -> Iterable[tuple[int, np.ndarray]]:
        """(stream, its rows ascending) for the streams of `rows`."""
        if not len(rows):
            return
        ordered = rows[np.argsort(self.streams[rows], kind="stable")]
        streams = self.streams[ordered]
        bounds = np.flatnonzero(np.diff(streams)) + 1
        for group in np.split(ordered, bounds):
            yield int(self.streams[group[0]]), group

    def _analysis_flags(self, row: int) -> TcpAnalysisFlag:
        tcp = self.record_info(row + 1).tcp
        return tcp.analysis.flags if tcp is not None and tcp.analysis is not None else TcpAnalysisFlag(0)

    def _early(self, streams: np.ndarray) -> np.ndarray:
        """Per row: one of its stream's first data frames, those pairing looks at for `http.conversation`
        (only for the streams selected by the per-stream mask `streams`)."""
        rows = np.flatnonzero((self.lengths > 0) & (self.streams >= 0) & streams[np.maximum(self.streams, 0)])
        ordered = rows[np.argsort(self.streams[rows], kind="stable")]
        positions = np.arange(len(ordered))
        first = np.ones(len(ordered), bool)
        first[1:] = self.streams[ordered[1:]] != self.streams[ordered[:-1]]
        rank = positions - np.maximum.accumulate(np.where(first, positions, 0))
        early = np.zeros(len(self.lengths), bool)
        early[ordered[rank < SEARCH_LIMIT]] = True
        return early

    def _show(self, row: int, lines: list[dict[str, object]], layers: int) -> None:
        """Note what a row shows: its HTTP layer count (2: two or more), its request and status lines, and
        their values where it shows one (the same texts kept once)."""
        self.layers[row] = min(layers, 2)
        for fields, counts in ((REQUEST_LINE_FIELDS, self.requests), (STATUS_LINE_FIELDS, self.responses)):
            kind = [line for line in lines if fields[0] in line]
            counts[row] = min(len(kind), 2)
            if len(kind) == 1:
                values = tuple(self._texts.setdefault(value, value) if isinstance(value, str) else value
                               for value in (kind[0][name] for name in fields))
                self._first_lines[fields].append((row, values))

    # -- without reassembly: every segment's payload is dissected on its own -------------------------

    def _per_segment(self) -> Iterator[None]:
        candidates = self.on_http_port | self.with_message
        rows = np.flatnonzero(self.known & (self.lengths > 0) & candidates[np.maximum(self.streams, 0)])
        early = self._early(candidates)
        for stream, stream_rows in self._stream_groups(rows):
            shown: dict[int, list[dict[str, object]]] = {}
            for row in stream_rows.tolist():
                if not self.in_sequence[row] and self._analysis_flags(row) & _NOT_DISSECTED:
                    continue
                line = None
                if self.starts_like_message[row]:
                    offset = int(self.index.column("payload_offset")[row])
                    line = line_values(self.read_row(row)[offset:offset + int(self.lengths[row])])
                shown[row] = [line] if line else []
            in_conversation = self.on_http_port[stream] or any(lines and early[row]
                                                               for row, lines in shown.items())
            for row, lines in shown.items():
                self._show(row, lines, 1 if lines or in_conversation else 0)
            yield

    # -- with reassembly: each message is dissected in the frame that completes it ---------------------

    def _reassembled(self) -> Iterator[None]:
        candidates = self.on_http_port | self.with_message | (yield from self._streams_with_token())
        rows = np.flatnonzero(self.known & candidates[np.maximum(self.streams, 0)])
        flags = self.index.column("tcp_flags")
        self.known[rows[(flags[rows] & _SYN != 0) & (self.lengths[rows] > 0)]] = False
        early = self._early(candidates)
        for stream, _ in self._stream_groups(rows):
            shown = self._completed_messages(stream)
            lines_of: dict[int, list[dict[str, object]]] = {}
            for row, messages in shown.items():
                if self.lengths[row] == 1 and self._analysis_flags(row) & TcpAnalysisFlag.KEEP_ALIVE:
                    self.known[row] = False
                    continue
                heads = [flow.read(start, min(end, start + _FIRST_LINE_BYTES))
                         for flow, start, end, kind in messages if kind == "http"]
                lines_of[row] = [line for line in map(line_values, heads) if line]
            in_conversation = self.on_http_port[stream] or any(lines and early[row]
                                                               for row, lines in lines_of.items())
            for row, lines in lines_of.items():
                kinds = [kind for _, _, _, kind in shown[row]]
                layers = len(kinds) if in_conversation else len(lines)
                if in_conversation and layers > 1 and all(kind == "tls" for kind in kinds):
                    self.known[row] = False  # whole TLS records in a row may show as one layer
                self._show(row, lines, layers)
            yield

    def _streams_with_token(self) -> Generator[None, None, np.ndarray]:
        """Streams where a message could start inside a segment and some payload holds `HTTP/1.`.

        In other streams every message starts where a segment does (segments in sequence, no TLS record
        ending inside one), so the payload heads already tell whether any starts with a first line.
        """
        rows, heads = self.payload_rows, self.heads
        doubtful_rows = ~self.in_sequence[rows] | \
            ((self.lengths[rows] >= 5) & np.isin(heads[:, 0], _TLS_TYPES) & (heads[:, 1] == 3))
        doubtful = np.zeros(self.stream_count, bool)
        doubtful[self.streams[rows[doubtful_rows]]] = True
        doubtful &= ~(self.on_http_port | self.with_message)
        found = np.zeros(self.stream_count, bool)
        offsets = self.index.column("payload_offset")
        scanned = rows[doubtful[self.streams[rows]]]
        for stream, stream_rows in self._stream_groups(scanned):
            for row in stream_rows.tolist():
                offset = int(offsets[row])
                if _TOKEN in self.read_row(row)[offset:offset + int(self.lengths[row])]:
                    found[stream] = True
                    break
            yield
        return found

    def _completed_messages(self, stream: int) -> dict[int, list[tuple[object, int, int, str | None]]]:
        """Row → (direction, start, end, kind) of every message dissected in that row, in stream order.

        As TcpReassembly's `pieces` divides a segment: a message is dissected in the segment that
        completed it, or in the FIN without data that closed it; a plain retransmission shows none.
        """
        shown: dict[int, list[tuple[object, int, int, str | None]]] = {}
        for direction in (0, 1):
            flow = self.framing.direction(stream, direction, keep=False)
            flow.frame_all()
            last = flow.messages[-1] if flow.messages else None
            for message in flow.messages:
                row = message.last_row
                segment = flow.segments.get(row)
                if segment is None:
                    if row in flow.left_out or row != flow.fin_row or message is not last:
                        continue
                elif segment[1] <= message.start or segment[0] >= message.end:
                    continue
                shown.setdefault(row, []).append((flow, message.start, message.end, message.kind))
        return shown


class HttpColumns:
    """A ColumnSource answering `http` and `http.*` from ShownHttp where it knows, everything else from `inner`."""

    def __init__(self, inner, shown: ShownHttp, start: int, stop: int) -> None:
        self._inner = inner
        self._shown = shown
        self._rows = slice(start, stop)

    def __len__(self) -> int:
        return len(self._inner)

    def column(self, field_name: str) -> np.ndarray | None:
        values = self._shown.values(field_name, self._rows.start, self._rows.stop)
        return self._inner.column(field_name) if values is None else values

    def occurrences(self, field_name: str) -> np.ndarray | None:
        inner = self._inner.occurrences(field_name)
        if field_name != "http" and not field_name.startswith("http."):
            return inner
        if inner is None:
            inner = np.full(len(self), UNKNOWN, np.int8)
        shown = self._shown
        return np.where(shown.known[self._rows], shown.counts(field_name)[self._rows], inner).astype(np.int8)
