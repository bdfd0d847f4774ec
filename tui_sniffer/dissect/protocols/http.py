"""HTTP/1.x found by content on any TCP port: request/status line, each header as its field, and the body."""
from __future__ import annotations

import base64
import binascii
import re

from tui_sniffer.dissect.engine import Dissection, handles_payload
from tui_sniffer.dissect.fields import FieldType, protocol, register
from tui_sniffer.dissect.protocols.http_body import add_body, show_content
from tui_sniffer.dissect.tree import TreeNode

HTTP_METHODS = ("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT")
"""The request methods that open a message the dissector recognises."""
_REQUEST_LINE = re.compile(rb"^(%s) (\S+) (HTTP/1\.[01])\r?\n" % b"|".join(m.encode() for m in HTTP_METHODS))
_STATUS_LINE = re.compile(rb"^(HTTP/1\.[01]) (\d{3})(?: ([^\r\n]*))?\r?\n")
HTTP_PORTS = frozenset({80, 8080, 3128, 3132, 5985, 8088, 11371, 1900, 2869, 2710})
"""Ports whose every TCP payload the dissector takes as HTTP (a message, else a continuation)."""
_STATUS_TEXT = {100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created", 202: "Accepted",
                204: "No Content", 206: "Partial Content", 301: "Moved Permanently", 302: "Found",
                303: "See Other", 304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
                400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                405: "Method Not Allowed", 408: "Request Time-out", 409: "Conflict", 410: "Gone",
                411: "Length Required", 413: "Request Entity Too Large", 415: "Unsupported Media Type",
                429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented",
                502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"}

HTTP = protocol("http", "Hypertext Transfer Protocol")
CHAT = register("http.chat", "Formatted text", FieldType.NONE)
REQUEST = register("http.request", "Request", FieldType.BOOLEAN)
RESPONSE = register("http.response", "Response", FieldType.BOOLEAN)
METHOD = register("http.request.method", "Request Method", FieldType.STRING)
URI = register("http.request.uri", "Request URI", FieldType.STRING)
URI_PATH = register("http.request.uri.path", "Request URI Path", FieldType.STRING)
URI_QUERY = register("http.request.uri.query", "Request URI Query", FieldType.STRING)
URI_QUERY_PARAMETER = register("http.request.uri.query.parameter", "Request URI Query Parameter", FieldType.STRING)
REQUEST_VERSION = register("http.request.version", "Request Version", FieldType.STRING)
RESPONSE_VERSION = register("http.response.version", "Response Version", FieldType.STRING)
CODE = register("http.response.code", "Status Code", FieldType.UINT16)
CODE_DESC = register("http.response.code.desc", "Status Code Description", FieldType.STRING)
PHRASE = register("http.response.phrase", "Response Phrase", FieldType.STRING)
REQUEST_LINE = register("http.request.line", "Request line", FieldType.STRING)
RESPONSE_LINE = register("http.response.line", "Response line", FieldType.STRING)
CONTENT_LENGTH_HEADER = register("http.content_length_header", "Content-Length", FieldType.STRING)
CONTENT_LENGTH = register("http.content_length", "Content length", FieldType.UINT64)
FULL_URI = register("http.request.full_uri", "Full request URI", FieldType.STRING)
REQUEST_IN = register("http.request_in", "Request in frame", FieldType.FRAMENUM,
                      description="This packet is a response to the packet with this number")
RESPONSE_IN = register("http.response_in", "Response in frame", FieldType.FRAMENUM,
                       description="This packet will be responded in the packet with this number")
NEXT_REQUEST_IN = register("http.next_request_in", "Next request in frame", FieldType.FRAMENUM,
                           description="The next HTTP request starts in packet number")
NEXT_RESPONSE_IN = register("http.next_response_in", "Next response in frame", FieldType.FRAMENUM,
                            description="The next HTTP response starts in packet number")
PREV_REQUEST_IN = register("http.prev_request_in", "Prev request in frame", FieldType.FRAMENUM,
                           description="The previous HTTP request starts in packet number")
PREV_RESPONSE_IN = register("http.prev_response_in", "Prev response in frame", FieldType.FRAMENUM,
                            description="The previous HTTP response starts in packet number")
REQUEST_NUMBER = register("http.request_number", "Request number", FieldType.UINT32)
RESPONSE_NUMBER = register("http.response_number", "Response number", FieldType.UINT32)
RESPONSE_FOR_URI = register("http.response_for.uri", "Request URI", FieldType.STRING)
TIME = register("http.time", "Time since request", FieldType.RELATIVE_TIME,
                description="Time since the request was sent")
_REQUEST_LINKS = (PREV_REQUEST_IN, RESPONSE_IN, NEXT_REQUEST_IN)
_RESPONSE_LINKS = (TIME, PREV_REQUEST_IN, PREV_RESPONSE_IN, REQUEST_IN, NEXT_REQUEST_IN, NEXT_RESPONSE_IN,
                   RESPONSE_FOR_URI)
HEADERS = {name.lower(): register(field, name, FieldType.STRING) for name, field in (
    ("Host", "http.host"), ("User-Agent", "http.user_agent"), ("Accept", "http.accept"),
    ("Accept-Language", "http.accept_language"), ("Cookie", "http.cookie"),
    ("Set-Cookie", "http.set_cookie"), ("Content-Type", "http.content_type"),
    ("Location", "http.location"), ("Server", "http.server"), ("Date", "http.date"),
    ("Last-Modified", "http.last_modified"), ("Connection", "http.connection"),
    ("Transfer-Encoding", "http.transfer_encoding"), ("Content-Encoding", "http.content_encoding"),
    ("Referer", "http.referer"), ("Authorization", "http.authorization"),
    ("Cache-Control", "http.cache_control"), ("Upgrade", "http.upgrade"),
    ("Proxy-Authenticate", "http.proxy_authenticate"), ("Proxy-Authorization", "http.proxy_authorization"),
    ("WWW-Authenticate", "http.www_authenticate"), ("X-Forwarded-For", "http.x_forwarded_for"),
    ("Sec-WebSocket-Accept", "http.sec_websocket_accept"),
    ("Sec-WebSocket-Extensions", "http.sec_websocket_extensions"),
    ("Sec-WebSocket-Key", "http.sec_websocket_key"), ("Sec-WebSocket-Protocol", "http.sec_websocket_protocol"),
    ("Sec-WebSocket-Version", "http.sec_websocket_version"), ("HTTP2-Settings", "http.http2_settings"))}
HEADERS["accept-encoding"] = register("http.accept_encoding", "Accept Encoding", FieldType.STRING)
COOKIE_PAIR = register("http.cookie_pair", "Cookie pair", FieldType.STRING)
AUTH_BASIC = register("http.authbasic", "Credentials", FieldType.STRING)

def starts_message(data: bytes, offset: int, end: int) -> bool:
    """Whether the bytes at `offset` begin an HTTP/1.x request or status line."""
    request, status = first_line(data[offset:min(end, offset + 2048)])
    return bool(request or status)


def first_line(head: bytes) -> tuple[re.Match | None, re.Match | None]:
    """The request line, or the status line, that a message starting with `head` opens with (each None if not)."""
    return _REQUEST_LINE.match(head), _STATUS_LINE.match(head)


def status_description(code: int, phrase: str) -> str:
    """`[Status Code Description]`: Wireshark's name for the code, else the response's own phrase."""
    return _STATUS_TEXT.get(code, phrase)


@handles_payload("http")
def dissect_http_payload(dissection: Dissection, offset: int, end: int) -> bool:
    """Claim a TCP payload that starts an HTTP/1.x message, or continues an HTTP conversation."""
    if dissection.transport != "tcp":
        return False
    request, status = first_line(dissection.data[offset:min(end, offset + 2048)])
    if request or status:
        dissect_message(dissection, offset, end, request, status)
        return True
    continuing = dissection.frame.annotations.get("http.conversation") is True or \
        {dissection.source_port, dissection.destination_port} & HTTP_PORTS
    if not continuing:
        return False
    node = dissection.add_layer(HTTP, "Hypertext Transfer Protocol", offset, end - offset)
    body_start = _add_stray_header_lines(dissection, node, offset, end)
    if body_start < end:
        show_content(dissection, node, body_start, end, "")
    dissection.set_columns("HTTP", "Continuation")
    return True


def _add_stray_header_lines(dissection: Dissection, node: TreeNode, offset: int, end: int) -> int:
    """Continuation lines holding a colon, which tshark reads as bad headers; returns where data starts."""
    data = dissection.data
    while offset < end:
        line_end = next((index for index in range(offset, end) if data[index] in b"\r\n"), end)
        if b":" not in data[offset:line_end]:
            return offset
        if line_end < end and data[line_end] == 0x0D:
            line_end += 1
        if line_end < end and data[line_end] == 0x0A:
            line_end += 1
        shown = data[offset:line_end].decode("latin-1").replace("\r", "\\r").replace("\n", "\\n")
        line = node.add_text(shown, offset, line_end - offset)
        line.add_expert("Illegal characters found in header name", "Warning", "Protocol")
        offset = line_end
    return offset


def dissect_message(dissection: Dissection, offset: int, end: int, request: re.Match | None,
                    status: re.Match | None) -> None:
    """First line, headers, generated links and the body that is in this segment."""
    data = dissection.data
    node = dissection.add_layer(HTTP, "Hypertext Transfer Protocol", offset, end - offset)
    first_line_end = data.index(b"\n", offset) + 1
    first_line = data[offset:first_line_end].decode("latin-1")
    shown_line = first_line.replace("\r", "\\r").replace("\n", "\\n")
    line_node = node.add_text(shown_line, offset, first_line_end - offset)
    line_node.add_expert(shown_line, "Chat", "Sequence", CHAT)
    line_field = REQUEST_LINE if request else RESPONSE_LINE
    if request:
        method, uri, version = (part.decode("latin-1") for part in request.groups())
        line_node.add(METHOD, method, offset, len(method))
        _add_uri(line_node, uri, offset + len(method) + 1)
        line_node.add(REQUEST_VERSION, version, offset + len(method) + len(uri) + 2, len(version))
    else:
        version, code_text, phrase = (part.decode("latin-1") if part else "" for part in status.groups())
        code = int(code_text)
        line_node.add(RESPONSE_VERSION, version, offset, len(version))
        line_node.add(CODE, code, offset + 9, 3)
        line_node.add_generated(CODE_DESC, status_description(code, phrase))
        line_node.add(PHRASE, phrase, offset + 13, len(phrase))
    position = first_line_end
    headers: dict[str, str] = {}
    body_start = None
    while position < end:
        line_end = data.find(b"\n", position, end)
        if line_end < 0:
            break
        raw_line = data[position:line_end + 1].decode("latin-1")
        if raw_line in ("\r\n", "\n"):
            node.add_text("\\r\\n", position, line_end + 1 - position)
            body_start = line_end + 1
            break
        _add_header(node, raw_line, position, line_field, headers)
        position = line_end + 1
    host = headers.get("host")
    if request and host is not None:
        uri = request.group(2).decode("latin-1")
        full_uri = uri if uri.startswith("http") else f"http://{host}{uri}"
        node.add_generated(FULL_URI, full_uri)
    node.add(REQUEST if request else RESPONSE, True, 0, 0, hidden=True)
    _add_links(dissection, node, bool(request))
    info = first_line.rstrip("\r\n") + " "
    dissection.protocol_column = "HTTP"
    if body_start is not None and body_start < end:
        info += add_body(dissection, node, body_start, end, headers, bool(request))
    dissection.set_columns(dissection.protocol_column, info)


def _add_header(node: TreeNode, raw_line: str, offset: int, line_field, headers: dict[str, str]) -> None:
    """One header line: its own field when Wireshark has one, always the hidden request/response line."""
    shown = raw_line.replace("\r", "\\r").replace("\n", "\\n")
    name, _, value = raw_line.partition(":")
    value = value.strip()
    key = name.strip().lower()
    headers[key] = value
    length = len(raw_line)
    if key == "content-length":
        header = node.add(CONTENT_LENGTH_HEADER, value, offset, length, label=shown)
        if value.isdigit():
            header.add_generated(CONTENT_LENGTH, int(value))
    elif key in HEADERS:
        header = node.add(HEADERS[key], value, offset, length, label=shown)
        if key == "cookie":
            _add_cookie_pairs(header, raw_line, offset)
        elif key == "authorization" and value.lower().startswith("basic "):
            _add_basic_credentials(header, value, offset + length)
    else:
        node.add(line_field, raw_line, offset, length, label=shown)
        return
    node.add(line_field, raw_line, offset, length, hidden=True)


def _add_uri(line_node: TreeNode, uri: str, offset: int) -> None:
    """`Request URI` with its path, query and each query parameter, as tshark splits them."""
    uri_node = line_node.add(URI, uri, offset, len(uri))
    path, question, query = uri.partition("?")
    if not question:
        return
    uri_node.add(URI_PATH, path, offset, len(path))
    query_start = offset + len(path) + 1
    query_node = uri_node.add(URI_QUERY, query, query_start, len(query))
    for parameter in query.split("&"):
        query_node.add(URI_QUERY_PARAMETER, parameter, query_start, len(parameter))
        query_start += len(parameter) + 1


def _add_cookie_pairs(header: TreeNode, raw_line: str, offset: int) -> None:
    """A `Cookie pair: name=value` for each cookie in a Cookie header."""
    position = raw_line.index(":") + 1
    for pair in raw_line[position:].rstrip("\r\n").split(";"):
        stripped = pair.strip()
        if stripped:
            header.add(COOKIE_PAIR, stripped, offset + position + pair.index(stripped), len(stripped))
        position += len(pair) + 1


def _add_basic_credentials(header: TreeNode, value: str, line_end: int) -> None:
    """`Credentials: user:pass` decoded from `Authorization: Basic …`."""
    try:
        credentials = base64.b64decode(value.split(None, 1)[1], validate=True).decode("latin-1")
    except (binascii.Error, IndexError, ValueError):
        return
    header.add(AUTH_BASIC, credentials, line_end, 0)


def _add_links(dissection: Dissection, node: TreeNode, is_request: bool) -> None:
    """`[HTTP request 2/4]`, `[Response in frame]`, `[Time since request]`… from the HTTP pairing analysis."""
    messages = dissection.frame.annotations.get("http.messages")
    ordinal = sum(1 for layer in dissection.layers if layer.definition is HTTP) - 1
    if not isinstance(messages, list) or ordinal >= len(messages):
        return
    links = messages[ordinal]
    number_field, kind = (REQUEST_NUMBER, "request") if is_request else (RESPONSE_NUMBER, "response")
    number = links.get(number_field.name)
    if not isinstance(number, tuple):
        return
    node.add_generated(number_field, number[0], label=f"HTTP {kind} {number[0]}/{number[1]}")
    for definition in _REQUEST_LINKS if is_request else _RESPONSE_LINKS:
        value = links.get(definition.name)
        if value is not None:
            node.add_generated(definition, value)
