"""HTTP/1.x found by content on any TCP port: request/status line, each header as its field, and the body."""
from __future__ import annotations

import re
from urllib.parse import unquote_plus

from tui_sniffer.dissect.engine import Dissection, handles_payload
from tui_sniffer.dissect.fields import FieldType, protocol, register
from tui_sniffer.dissect.protocols.data import DATA, DATA_DATA, DATA_LEN
from tui_sniffer.dissect.tree import TreeNode

_METHODS = ("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT")
_REQUEST_LINE = re.compile(rb"^(%s) (\S+) (HTTP/1\.[01])\r?\n" % b"|".join(m.encode() for m in _METHODS))
_STATUS_LINE = re.compile(rb"^(HTTP/1\.[01]) (\d{3})(?: ([^\r\n]*))?\r?\n")
_HTTP_PORTS = {80, 8080, 3128, 3132, 5985, 8088, 11371, 1900, 2869, 2710}
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
FILE_DATA = register("http.file_data", "File Data", FieldType.STRING)
REQUEST_IN = register("http.request_in", "Request in frame", FieldType.FRAMENUM)
RESPONSE_IN = register("http.response_in", "Response in frame", FieldType.FRAMENUM)
TIME = register("http.time", "Time since request", FieldType.RELATIVE_TIME)
HEADERS = {name.lower(): register(field, name, FieldType.STRING) for name, field in (
    ("Host", "http.host"), ("User-Agent", "http.user_agent"), ("Accept", "http.accept"),
    ("Accept-Language", "http.accept_language"), ("Cookie", "http.cookie"),
    ("Set-Cookie", "http.set_cookie"), ("Content-Type", "http.content_type"),
    ("Location", "http.location"), ("Server", "http.server"), ("Date", "http.date"),
    ("Last-Modified", "http.last_modified"), ("Connection", "http.connection"),
    ("Transfer-Encoding", "http.transfer_encoding"), ("Content-Encoding", "http.content_encoding"),
    ("Referer", "http.referer"), ("Authorization", "http.authorization"),
    ("Cache-Control", "http.cache_control"))}
HEADERS["accept-encoding"] = register("http.accept_encoding", "Accept Encoding", FieldType.STRING)

TEXT_LINES = protocol("data-text-lines", "Line-based text data")
MEDIA = protocol("media", "Media Type")
MEDIA_TYPE = register("media.type", "Media type", FieldType.BYTES)
FORM = protocol("urlencoded-form", "HTML Form URL Encoded")
FORM_KEY = register("urlencoded-form.key", "Key", FieldType.STRING)
FORM_VALUE = register("urlencoded-form.value", "Value", FieldType.STRING)


def starts_message(data: bytes, offset: int, end: int) -> bool:
    """Whether the bytes at `offset` begin an HTTP/1.x request or status line."""
    head = data[offset:min(end, offset + 2048)]
    return bool(_REQUEST_LINE.match(head) or _STATUS_LINE.match(head))


@handles_payload("http")
def dissect_http_payload(dissection: Dissection, offset: int, end: int) -> bool:
    """Claim a TCP payload that starts an HTTP/1.x message, or continues an HTTP conversation."""
    if dissection.transport != "tcp":
        return False
    head = dissection.data[offset:min(end, offset + 2048)]
    request, status = _REQUEST_LINE.match(head), _STATUS_LINE.match(head)
    if request or status:
        dissect_message(dissection, offset, end, request, status)
        return True
    continuing = dissection.frame.annotations.get("http.conversation") is True or \
        {dissection.source_port, dissection.destination_port} & _HTTP_PORTS
    if not continuing:
        return False
    node = dissection.add_layer(HTTP, "Hypertext Transfer Protocol", offset, end - offset)
    body_start = _add_stray_header_lines(dissection, node, offset, end)
    if body_start < end:
        _add_body(dissection, node, body_start, end, "")
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
        line_node.add(URI, uri, offset + len(method) + 1, len(uri))
        line_node.add(REQUEST_VERSION, version, offset + len(method) + len(uri) + 2, len(version))
    else:
        version, code_text, phrase = (part.decode("latin-1") if part else "" for part in status.groups())
        code = int(code_text)
        line_node.add(RESPONSE_VERSION, version, offset, len(version))
        line_node.add(CODE, code, offset + 9, 3)
        line_node.add_generated(CODE_DESC, _STATUS_TEXT.get(code, phrase))
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
    _add_links(dissection, node)
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    info = first_line.rstrip("\r\n") + " "
    if body_start is not None and body_start < end:
        _add_body(dissection, node, body_start, end, content_type)
        if content_type:
            info += f" ({content_type})"
    dissection.set_columns("HTTP", info)


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
        node.add(HEADERS[key], value, offset, length, label=shown)
    else:
        node.add(line_field, raw_line, offset, length, label=shown)
        return
    node.add(line_field, raw_line, offset, length, hidden=True)


def _add_links(dissection: Dissection, node: TreeNode) -> None:
    """`[Response in frame]`, `[Request in frame]`, `[Time since request]` from analysis annotations."""
    annotations = dissection.frame.annotations
    for definition in (TIME, REQUEST_IN, RESPONSE_IN):
        value = annotations.get(definition.name)
        if value is not None:
            node.add_generated(definition, value)


def _add_body(dissection: Dissection, node: TreeNode, start: int, end: int, content_type: str) -> None:
    """`File Data: N bytes` and the body as text lines, a form, a media type or data, as tshark shows it."""
    body = dissection.data[start:end]
    size = len(body)
    node.add(FILE_DATA, body.decode("latin-1"), start, size, label=f"File Data: {size} bytes")
    if content_type.startswith("text/"):
        line_count = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
        text = dissection.add_layer(TEXT_LINES, f"Line-based text data: {content_type} ({line_count} lines)",
                                    start, size)
        position = start
        for line in body.splitlines(keepends=True):
            text.add_text(line.decode("latin-1").replace("\r", "\\r").replace("\n", "\\n"), position, len(line))
            position += len(line)
    elif content_type == "application/x-www-form-urlencoded":
        form = dissection.add_layer(FORM, f"HTML Form URL Encoded: {content_type}", start, size)
        position = start
        for pair in body.split(b"&"):
            key, _, value = pair.decode("latin-1").partition("=")
            key, value = unquote_plus(key), unquote_plus(value)
            item = form.add_text(f'Form item: "{key}" = "{value}"', position, len(pair))
            item.add(FORM_KEY, key, position, len(key))
            item.add(FORM_VALUE, value, position + len(key) + 1, len(pair) - len(key) - 1)
            position += len(pair) + 1
    elif content_type:
        media = dissection.add_layer(MEDIA, "Media Type", start, size)
        media.add(MEDIA_TYPE, body, start, size, label=f"Media type: {content_type} ({size} bytes)")
    else:
        data_node = node.add(DATA, None, start, size, label=f"Data ({size} bytes)")
        data_node.add(DATA_DATA, body, start, size, label=f"Data: {body.hex()}")
        data_node.add_generated(DATA_LEN, size)
        dissection.protocols.append(DATA.name)
