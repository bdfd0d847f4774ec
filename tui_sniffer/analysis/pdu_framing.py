"""Where an application message ends in one direction of a TCP byte stream: HTTP/1.x, TLS, DNS.

A framer looks at the stream from a message start and says where the message ends when the bytes
seen so far tell (the end may lie beyond them: more segments are needed), or up to which offset it
needs bytes before it can say more. These are the lengths Wireshark's dissectors ask TCP to
reassemble: HTTP headers plus Content-Length / chunked body / everything until FIN, one TLS record,
one length-prefixed DNS message.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Protocol

from tui_sniffer.dissect.protocols.dns import DNS_PORTS
from tui_sniffer.dissect.protocols.http import starts_message
from tui_sniffer.dissect.protocols.tls import looks_like_record

HEADER_LIMIT = 65536
"""How far HTTP headers are looked for before the message is taken to end with its segment."""

_NO_BODY_STATUS = re.compile(rb"^HTTP/1\.[01] (1\d\d|204|304)\b")
_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d+)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
_CHUNKED = re.compile(rb"^transfer-encoding[ \t]*:.*chunked", re.IGNORECASE | re.MULTILINE)


class StreamBytes(Protocol):
    """The bytes of one stream direction seen so far, addressed by stream offset."""

    available: int

    def read(self, start: int, end: int) -> bytes:
        """Bytes [start, min(end, available))."""


@dataclass(frozen=True, slots=True)
class MessageEnd:
    """A framer's answer: the end offset, or that it runs until FIN, or where to ask again."""

    end: int | None = None
    until_close: bool = False
    retry_at: int = 0
    resume: int | None = None
    """Where the framer continues next time (inside a chunked body), instead of from the start."""


def message_kind(head: bytes, ports: set[int]) -> str | None:
    """Which framer a message starting with `head` needs: "http", "tls", "dns", or None (no reassembly)."""
    if starts_message(head, 0, len(head)):
        return "http"
    if looks_like_record(head, 0, len(head)):
        return "tls"
    if ports & set(DNS_PORTS) and head:
        return "dns"
    return None


def find_message_end(kind: str, stream: StreamBytes, start: int, resume: int | None) -> MessageEnd:
    """Where the `kind` message starting at `start` ends, as far as the bytes seen so far tell."""
    if kind == "tls":
        return _prefixed_end(stream, start, 5, 3)
    if kind == "dns":
        return _prefixed_end(stream, start, 2, 0)
    if resume is not None:
        return _chunked_end(stream, resume)
    return _http_end(stream, start)


def _prefixed_end(stream: StreamBytes, start: int, header_length: int, length_at: int) -> MessageEnd:
    """A message whose header holds a 16-bit body length at `length_at` (TLS record, DNS over TCP)."""
    header = stream.read(start, start + header_length)
    if len(header) < header_length:
        return MessageEnd(retry_at=start + header_length)
    body_length, = struct.unpack_from(">H", header, length_at)
    return MessageEnd(start + header_length + body_length)


def _http_end(stream: StreamBytes, start: int) -> MessageEnd:
    """Headers up to the blank line, then a Content-Length or chunked body, none, or until FIN."""
    head = stream.read(start, start + HEADER_LIMIT)
    header_end = _blank_line_end(head)
    if header_end is None:
        if len(head) >= HEADER_LIMIT:
            return MessageEnd(start + len(head))
        return MessageEnd(retry_at=stream.available + 1)
    headers = head[:header_end]
    is_response = headers.startswith(b"HTTP/")
    body_start = start + header_end
    if is_response and _NO_BODY_STATUS.match(headers):
        return MessageEnd(body_start)
    if _CHUNKED.search(headers):
        return _chunked_end(stream, body_start)
    length = _CONTENT_LENGTH.search(headers)
    if length is not None:
        return MessageEnd(body_start + int(length.group(1)))
    if is_response:
        return MessageEnd(until_close=True)
    return MessageEnd(body_start)


def _blank_line_end(head: bytes) -> int | None:
    """The offset just past the empty line that ends the headers, if it is in `head`."""
    position = 0
    while True:
        line_end = head.find(b"\n", position)
        if line_end < 0:
            return None
        line = head[position:line_end]
        if position and line in (b"", b"\r"):
            return line_end + 1
        position = line_end + 1


def _chunked_end(stream: StreamBytes, position: int) -> MessageEnd:
    """Walk chunk-size lines from `position` to the last chunk and its trailer."""
    while True:
        line = stream.read(position, position + 1024)
        line_end = line.find(b"\n")
        if line_end < 0:
            if len(line) >= 1024:
                return MessageEnd(position + len(line))
            return MessageEnd(retry_at=stream.available + 1, resume=position)
        try:
            size = int(line[:line_end].split(b";")[0].strip() or b"x", 16)
        except ValueError:
            return MessageEnd(position + line_end + 1)
        if size == 0:
            return _trailer_end(stream, position + line_end + 1, position)
        following = position + line_end + 1 + size + 2
        if following > stream.available:
            return MessageEnd(retry_at=following + 1, resume=position)
        position = following


def _trailer_end(stream: StreamBytes, position: int, last_chunk: int) -> MessageEnd:
    """The end of the trailer lines after the last chunk (an empty line ends them)."""
    while True:
        line = stream.read(position, position + 1024)
        line_end = line.find(b"\n")
        if line_end < 0:
            return MessageEnd(retry_at=stream.available + 1, resume=last_chunk)
        position += line_end + 1
        if line[:line_end] in (b"", b"\r"):
            return MessageEnd(position)
