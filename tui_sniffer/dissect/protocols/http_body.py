"""An HTTP message body as tshark shows it: chunks de-chunked and gzip/deflate decoded into their own byte
sources, `File Data`, and the content as text lines, JSON, a form, a media type or data."""
from __future__ import annotations

import zlib
from typing import Iterator
from urllib.parse import unquote_plus

from tui_sniffer.dissect.engine import Dissection
from tui_sniffer.dissect.fields import FieldType, protocol, register
from tui_sniffer.dissect.protocols.data import DATA, DATA_DATA, DATA_LEN, add_data
from tui_sniffer.dissect.protocols.json_text import add_json
from tui_sniffer.dissect.tree import TreeNode, bytes_text

FILE_DATA = register("http.file_data", "File Data", FieldType.STRING)
CHUNK_SIZE = register("http.chunk_size", "Chunk size", FieldType.UINT32)
CHUNK_DATA = register("http.chunk_data", "Chunk data", FieldType.BYTES)
CHUNK_BOUNDARY = register("http.chunk_boundary", "Chunk boundary", FieldType.BYTES)
TEXT_LINES = protocol("data-text-lines", "Line-based text data")
MEDIA = protocol("media", "Media Type")
MEDIA_TYPE = register("media.type", "Media type", FieldType.BYTES)
FORM = protocol("urlencoded-form", "HTML Form URL Encoded")
FORM_KEY = register("urlencoded-form.key", "Key", FieldType.STRING)
FORM_VALUE = register("urlencoded-form.value", "Value", FieldType.STRING)

DECHUNKED_SOURCE = "De-chunked entity body"
UNCOMPRESSED_SOURCE = "Uncompressed entity body"
_DECOMPRESSORS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def add_body(dissection: Dissection, node: TreeNode, start: int, end: int, headers: dict[str, str],
             is_request: bool) -> str:
    """De-chunk and decode the body [start, end), then show it; returns the Info suffix its content gives."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _add_chunks(node, dissection.data, start, end, "request" if is_request else "response")
        with dissection.reading_source(DECHUNKED_SOURCE, body):
            return _decode_and_show(dissection, node, 0, len(body), headers)
    return _decode_and_show(dissection, node, start, end, headers)


def chunk_spans(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(size line start, its length, chunk size) of each chunk in [start, end), up to the last (size 0)."""
    position = start
    while position < end:
        line_end = data.find(b"\n", position, end)
        if line_end < 0:
            return
        try:
            size = int(data[position:line_end].split(b";")[0].strip(), 16)
        except ValueError:
            return
        yield position, line_end + 1 - position, size
        if size == 0:
            return
        position = line_end + 1 + size + 2


def header_fields(head: bytes) -> dict[str, str]:
    """The header lines of a message head (first line skipped) as lower-case name to value."""
    fields = {}
    for line in head.split(b"\n")[1:]:
        name, colon, value = line.decode("latin-1").partition(":")
        if colon:
            fields[name.strip().lower()] = value.strip()
    return fields


def decoded_body(headers: dict[str, str], body: bytes) -> bytes:
    """A body de-chunked and gzip/deflate-decoded as its headers say (what HTTP Follow shows)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = b"".join(body[line + length:line + length + size] for line, length, size in
                        chunk_spans(body, 0, len(body)))
    return _decompressed(headers, body) or body


def _decompressed(headers: dict[str, str], body: bytes) -> bytes | None:
    """The body with its gzip/deflate Content-Encoding undone, or None if it has none or is damaged."""
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding not in _DECOMPRESSORS or not body:
        return None
    try:
        return zlib.decompressobj(_DECOMPRESSORS[encoding]).decompress(body)
    except zlib.error:
        return None


def _add_chunks(node: TreeNode, data: bytes, start: int, end: int, kind: str) -> bytes:
    """`HTTP chunked response` with a `Data chunk (N octets)` per chunk; returns the de-chunked body."""
    chunked = node.add_text(f"HTTP chunked {kind}", start, end - start)
    parts = []
    for position, size_length, size in chunk_spans(data, start, end):
        if size == 0:
            last = chunked.add_text("End of chunked encoding", position, size_length)
            last.add(CHUNK_SIZE, 0, position, size_length, label="Chunk size: 0 octets")
            trailer_start = position + size_length
            trailer_end = data.find(b"\n", trailer_start, end)
            if trailer_end >= 0:
                chunked.add_text("\\r\\n", trailer_start, trailer_end + 1 - trailer_start)
            break
        chunk_start = position + size_length
        chunk = data[chunk_start:chunk_start + size]
        item = chunked.add_text(f"Data chunk ({size} octets)", position, size_length + size + 2)
        item.add(CHUNK_SIZE, size, position, size_length, label=f"Chunk size: {size} octets")
        item.add(CHUNK_DATA, chunk, chunk_start, len(chunk), label=f"Chunk data: {bytes_text(chunk)}")
        boundary = data[chunk_start + size:chunk_start + size + 2]
        item.add(CHUNK_BOUNDARY, boundary, chunk_start + size, len(boundary),
                 label=f"Chunk boundary: {boundary.hex()}")
        parts.append(chunk)
    return b"".join(parts)


def _decode_and_show(dissection: Dissection, node: TreeNode, start: int, end: int, headers: dict[str, str]) -> str:
    """Undo a gzip/deflate Content-Encoding into `Uncompressed entity body`, then show the content."""
    body = dissection.data[start:end]
    decoded = _decompressed(headers, body)
    if decoded is not None:
        encoding = headers["content-encoding"].strip().lower()
        node.add_text(f"Content-encoded entity body ({encoding}): {len(body)} bytes -> {len(decoded)} bytes",
                      start, end - start, source=dissection.current_source)
        with dissection.reading_source(UNCOMPRESSED_SOURCE, decoded):
            return show_content(dissection, node, 0, len(decoded), headers.get("content-type", ""))
    return show_content(dissection, node, start, end, headers.get("content-type", ""))


def show_content(dissection: Dissection, node: TreeNode, start: int, end: int, content_type_header: str) -> str:
    """`File Data: N bytes` and the body by its media type; returns the Info suffix (` (text/html)`)."""
    body = dissection.data[start:end]
    size = len(body)
    if not size:
        return ""
    source = dissection.current_source
    node.add(FILE_DATA, string_value(body), start, size, label=f"File Data: {size} bytes", source=source)
    content_type = content_type_header.split(";")[0].strip().lower()
    if content_type.startswith("text/") and content_type != "text/xml":
        _add_text_lines(dissection, body, start, content_type)
        return f" ({content_type})"
    if content_type == "application/json":
        parsed = add_json(dissection, start, end, content_type)
        dissection.protocol_column = "HTTP/JSON"
        if not parsed:
            _add_text_lines(dissection, body, start, content_type)
        return ", JavaScript Object Notation (application/json)"
    if content_type == "application/x-www-form-urlencoded":
        _add_form(dissection, body, start, content_type)
        return f" ({content_type})"
    if content_type == "application/octet-stream":
        add_data(dissection, start, end)
        return ""
    if content_type:
        media = dissection.add_layer(MEDIA, "Media Type", start, size)
        media.add(MEDIA_TYPE, body, start, size, label=f"Media type: {content_type} ({size} bytes)")
        return f" ({content_type})"
    data_node = node.add(DATA, None, start, size, label=f"Data ({size} bytes)", source=source)
    data_node.add(DATA_DATA, body, start, size, label=f"Data: {bytes_text(body)}")
    data_node.add_generated(DATA_LEN, size)
    dissection.protocols.append(DATA.name)
    return ""


def string_value(raw: bytes) -> str:
    """Bytes as the value of a Wireshark string field: up to the first NUL, non-ASCII bytes as U+FFFD."""
    end = raw.find(b"\0")
    return (raw if end < 0 else raw[:end]).decode("ascii", errors="replace")


def _add_text_lines(dissection: Dissection, body: bytes, start: int, content_type: str) -> None:
    """`Line-based text data: text/html (13 lines)` with one line per line of the body."""
    line_count = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    text = dissection.add_layer(TEXT_LINES, f"Line-based text data: {content_type} ({line_count} lines)",
                                start, len(body))
    position = start
    for line in body.splitlines(keepends=True):
        text.add_text(line.decode("latin-1").replace("\r", "\\r").replace("\n", "\\n"), position, len(line))
        position += len(line)


def _add_form(dissection: Dissection, body: bytes, start: int, content_type: str) -> None:
    """`HTML Form URL Encoded` with a `Form item: "key" = "value"` per pair."""
    form = dissection.add_layer(FORM, f"HTML Form URL Encoded: {content_type}", start, len(body))
    position = start
    for pair in body.split(b"&"):
        key, _, value = pair.decode("latin-1").partition("=")
        key, value = unquote_plus(key), unquote_plus(value)
        item = form.add_text(f'Form item: "{key}" = "{value}"', position, len(pair))
        item.add(FORM_KEY, key, position, len(key))
        item.add(FORM_VALUE, value, position + len(key) + 1, len(pair) - len(key) - 1)
        position += len(pair) + 1
