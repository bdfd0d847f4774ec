"""HTTP request/response pairs per TCP stream, numbered and linked the way Wireshark shows them.

The messages come from reassembly's framing of both stream directions (no dissection): each is
shown in the frame that completes it (or, without reassembly, in its first segment). Requests are
numbered in order; as in Wireshark, a response answers the latest request if that one is still
unanswered (with pipelining, earlier requests stay without a response).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from tui_sniffer.analysis.reassembly import TcpReassembly

_FIRST_LINE = re.compile(rb"^(?:([A-Z]+) (\S+) HTTP/1\.[01]|HTTP/1\.[01] \d{3})")
_HOST = re.compile(rb"^host[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)


@dataclass(slots=True)
class _Message:
    """One HTTP message: where it is shown, when, and what a response needs to know of its request."""

    row: int
    start: int
    is_request: bool
    full_uri: str | None = None


@dataclass(slots=True)
class _Transaction:
    """A request and the response that answered it (either may be missing)."""

    request: _Message | None
    response: _Message | None = None


class HttpTransactions:
    """`[HTTP request 2/4]`, `[Response in frame]`, `[Time since request]`… for each HTTP message."""

    def __init__(self, reassembly: TcpReassembly, shown_in_last_segment: bool) -> None:
        self._reassembly = reassembly
        self._shown_in_last_segment = shown_in_last_segment
        self._streams: dict[int, tuple[int, dict[int, list[dict[str, object]]]]] = {}

    def annotations(self, row: int) -> dict[str, object]:
        """`http.messages`: the links of each HTTP message shown in frame `row`, in the order shown."""
        index = self._reassembly.index
        stream = int(index.column("tcp_stream")[row])
        if stream < 0:
            return {}
        known = self._streams.get(stream)
        if known is None or known[0] != index.count:
            known = (index.count, self._link_stream(stream))
            self._streams[stream] = known
        messages = known[1].get(row)
        return {"http.messages": messages} if messages else {}

    def _link_stream(self, stream: int) -> dict[int, list[dict[str, object]]]:
        """Every HTTP message of a stream with its links, grouped by the row that shows it."""
        messages = sorted(self._messages(stream, 0) + self._messages(stream, 1),
                          key=lambda message: (message.row, message.start))
        transactions: list[_Transaction] = []
        for message in messages:
            if message.is_request:
                transactions.append(_Transaction(message))
                continue
            latest = transactions[-1] if transactions else None
            if latest is not None and latest.request is not None and latest.response is None:
                latest.response = message
            else:
                transactions.append(_Transaction(None, message))
        by_row: dict[int, list[dict[str, object]]] = {}
        timestamps = self._reassembly.index.column("timestamp_ns")
        total = len(transactions)
        for number, transaction in enumerate(transactions, 1):
            before = transactions[number - 2] if number > 1 else None
            after = transactions[number] if number < total else None
            request, response = transaction.request, transaction.response
            common = {"http.prev_request_in": _row_frame(before and before.request)}
            if request is not None:
                by_row.setdefault(request.row, []).append({
                    "http.request_number": (number, total), **common,
                    "http.response_in": _row_frame(response),
                    "http.next_request_in": _row_frame(after and after.request)})
            if response is not None:
                by_row.setdefault(response.row, []).append({
                    "http.response_number": (number, total),
                    "http.time": (int(timestamps[response.row]) - int(timestamps[request.row])) / 1e9
                    if request else None, **common,
                    "http.prev_response_in": _row_frame(before and before.response),
                    "http.request_in": _row_frame(request),
                    "http.next_request_in": _row_frame(after and after.request),
                    "http.next_response_in": _row_frame(after and after.response),
                    "http.response_for.uri": request.full_uri if request else None})
        return by_row

    def _messages(self, stream: int, direction: int) -> list[_Message]:
        """The HTTP messages one direction of a stream carries, framed to the end of what is indexed."""
        flow = self._reassembly.direction(stream, direction)
        flow.frame_all()
        found = []
        for message in flow.messages:
            if message.kind != "http":
                continue
            head = flow.read(message.start, min(message.end, message.start + 8192))
            first_line = _FIRST_LINE.match(head)
            if first_line is None:
                continue
            row = message.last_row if self._shown_in_last_segment else flow.first_row_at(message.start)
            is_request = first_line.group(1) is not None
            found.append(_Message(row, message.start, is_request,
                                  _full_uri(first_line.group(2), head) if is_request else None))
        return found


def _row_frame(message: _Message | None) -> int | None:
    """The frame number showing a message, if there is one."""
    return message.row + 1 if message is not None else None


def _full_uri(uri: bytes, head: bytes) -> str | None:
    """`http://host/path` from a request's URI and Host header, as `[Full request URI]` shows."""
    text = uri.decode("latin-1")
    if text.startswith("http"):
        return text
    host = _HOST.search(head)
    return f"http://{host.group(1).decode('latin-1')}{text}" if host else None

