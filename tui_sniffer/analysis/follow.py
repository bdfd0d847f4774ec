"""Follow Stream: the payload of one TCP or UDP conversation (or its HTTP messages) in order, per side.

Chunks come from the index and reassembly's segment lists, not from dissection: a TCP chunk is the
new bytes of one segment (bytes seen before are left out), a UDP chunk one datagram's payload, an
HTTP chunk one message head or its de-chunked, decoded body. The client (node 0) is the side that
sent the conversation's first packet. The formatters print what `tshark -q -z follow,…` prints and
what Wireshark's Follow window shows (ASCII, hex dump, C arrays, raw, YAML).
"""
from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tui_sniffer.dissect.protocols.http_body import decoded_body, header_fields

if TYPE_CHECKING:
    from tui_sniffer.session import Capture

FOLLOW_PROTOCOLS = ("tcp", "udp", "http")
TSHARK_MODES = ("ascii", "hex", "raw", "yaml")
SHOW_MODES = ("ascii", "hex", "carray", "raw", "yaml")
_SEPARATOR = "=" * 67


@dataclass(frozen=True, slots=True)
class FollowChunk:
    """Bytes one side sent, as one unit of the conversation (a segment, datagram or HTTP part)."""

    frame: int
    from_server: bool
    data: bytes
    timestamp_ns: int


@dataclass(slots=True)
class Endpoint:
    """One side of the conversation: its address and port."""

    host: str
    port: int
    is_ipv6: bool = False

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if self.is_ipv6 else f"{self.host}:{self.port}"


@dataclass(slots=True)
class FollowedStream:
    """A followed conversation: its two sides and its chunks in the order they were captured."""

    protocol: str
    stream: int
    client: Endpoint | None
    server: Endpoint | None
    chunks: list[FollowChunk] = field(default_factory=list)

    @property
    def filter(self) -> str:
        """The display filter that selects this conversation (`tcp.stream eq 3`)."""
        transport = "udp" if self.protocol == "udp" else "tcp"
        return f"{transport}.stream eq {self.stream}"

    def byte_count(self, from_server: bool | None = None) -> int:
        """Bytes sent by the server (True), the client (False) or both (None)."""
        return sum(len(chunk.data) for chunk in self.chunks
                   if from_server is None or chunk.from_server == from_server)


def follow_stream(capture: Capture, protocol: str, stream: int) -> FollowedStream:
    """The chunks of TCP/UDP stream `stream` (`protocol` "tcp", "udp" or "http"), indexing the whole file."""
    if protocol not in FOLLOW_PROTOCOLS:
        raise ValueError(f"cannot follow {protocol!r}; choose one of {', '.join(FOLLOW_PROTOCOLS)}")
    capture.index_all()
    index = capture.index
    column = "udp_stream" if protocol == "udp" else "tcp_stream"
    rows = index.stream_rows(column, stream)
    followed = FollowedStream(protocol, stream, None, None)
    if not len(rows):
        return followed
    first = int(rows[0])
    timestamps = index.column("timestamp_ns")
    if protocol == "udp":
        chunks = _datagrams(capture, rows)
    elif protocol == "tcp":
        chunks = _segments(capture, stream)
    else:
        chunks = _http_parts(capture, stream)
        if not chunks:
            return followed
        first = min(chunks)[2]
    chunks.sort(key=lambda chunk: chunk[0])  # stable: each direction's stretches stay in stream order
    followed.client, followed.server = _endpoint(index, first, True), _endpoint(index, first, False)
    client_direction = int(index.column("flow_direction")[first])
    followed.chunks = [FollowChunk(row + 1, direction != client_direction, data, int(timestamps[row]))
                       for _, direction, row, data in chunks]
    return followed


def _endpoint(index, row: int, source: bool) -> Endpoint:
    """The source (or destination) address and port of packet `row`."""
    side = "src" if source else "dst"
    port = int(index.column(f"{side}_port")[row])
    if int(index.column("ip_version")[row]) == 6:
        address = ipaddress.IPv6Address(bytes(index.ipv6_addresses(f"ip6_{side}", row)))
        return Endpoint(str(address), port, is_ipv6=True)
    return Endpoint(str(ipaddress.IPv4Address(int(index.column(f"ip4_{side}")[row]))), port)


def _datagrams(capture: Capture, rows: np.ndarray) -> list[tuple[int, int, int, bytes]]:
    """(row, direction, row, payload) of each UDP datagram."""
    index = capture.index
    chunks = []
    for row in rows.tolist():
        length = int(index.column("payload_length")[row])
        if length:
            offset = int(index.column("payload_offset")[row])
            direction = int(index.column("flow_direction")[row])
            chunks.append((row, direction, row, capture.packet_bytes(row + 1)[offset:offset + length]))
    return chunks


def _segments(capture: Capture, stream: int) -> list[tuple[int, int, int, bytes]]:
    """(row delivered at, direction, row that carried it, bytes) of each stretch of new bytes, both
    directions: an out-of-order segment waits for the one that fills the gap before it, as tshark's
    follow hands them out (each still named by its own packet)."""
    chunks = []
    for direction in (0, 1):
        flow = capture.framing.direction(stream, direction, every_segment=True)
        chunks += [(delivered, direction, row, data) for delivered, row, data in flow.deliveries()]
    return chunks


def _http_parts(capture: Capture, stream: int) -> list[tuple[int, int, int, bytes]]:
    """(row, direction, row, bytes) of each HTTP message's head and decoded body, in the frame showing it."""
    chunks = []
    for direction in (0, 1):
        flow = capture.framing.direction(stream, direction)
        flow.frame_all()
        for message in flow.messages:
            if message.kind != "http":
                continue
            data = flow.read(message.start, message.end)
            head_end = data.find(b"\r\n\r\n")
            head_end = head_end + 4 if head_end >= 0 else len(data)
            chunks.append((message.last_row, direction, message.last_row, data[:head_end]))
            body = decoded_body(header_fields(data[:head_end]), data[head_end:])
            if body:
                chunks.append((message.last_row, direction, message.last_row, body))
    return chunks


@dataclass(frozen=True, slots=True)
class FollowRequest:
    """A parsed `-z follow,PROTO,MODE,STREAM[,FIRST[-LAST]]`."""

    protocol: str
    mode: str
    stream: int
    first_chunk: int = 1
    last_chunk: int | None = None


def parse_follow_request(text: str) -> FollowRequest:
    """Parse tshark's follow argument; ValueError carries tshark's complaint (`Invalid display mode.`)."""
    parts = text.split(",")
    if len(parts) < 3 or parts[0] != "follow" or parts[1] not in FOLLOW_PROTOCOLS:
        raise ValueError(f"Invalid -z argument \"{text}\"; follow takes follow,{'|'.join(FOLLOW_PROTOCOLS)},"
                         f"{'|'.join(TSHARK_MODES)},STREAM")
    if parts[2] not in TSHARK_MODES:
        raise ValueError("Invalid display mode.")
    if len(parts) < 4 or not parts[3].isdigit():
        raise ValueError("Invalid stream index (only stream numbers are supported, not address pairs).")
    if len(parts) == 4:
        return FollowRequest(parts[1], parts[2], int(parts[3]))
    first, dash, last = parts[4].partition("-")
    if len(parts) > 5 or not first.isdigit() or (dash and not last.isdigit()):
        raise ValueError("Invalid range.")
    first_chunk, last_chunk = int(first), int(last) if dash else int(first)
    if first_chunk < 1 or first_chunk > last_chunk:
        raise ValueError("Invalid range value.")
    return FollowRequest(parts[1], parts[2], int(parts[3]), first_chunk, last_chunk)


def tshark_report(followed: FollowedStream, mode: str, first_chunk: int = 1, last_chunk: int | None = None) -> str:
    """What `tshark -q -z follow,PROTO,MODE,STREAM[,FIRST[-LAST]]` prints for this conversation."""
    chosen = followed.chunks[first_chunk - 1:last_chunk]
    skipped = followed.chunks[:first_chunk - 1]
    if mode == "yaml":
        return _yaml_peers(followed) + "".join(yaml_chunk(chunk) for chunk in chosen)
    client, server = (str(followed.client), str(followed.server)) if followed.client else (":0", ":0")
    lines = [f"\n{_SEPARATOR}\n", f"Follow: {followed.protocol},{mode}\n", f"Filter: {followed.filter}\n",
             f"Node 0: {client}\n", f"Node 1: {server}\n"]
    offsets = {False: sum(len(c.data) for c in skipped if not c.from_server),
               True: sum(len(c.data) for c in skipped if c.from_server)}
    for chunk in chosen:
        prefix = "\t" if chunk.from_server else ""
        if mode == "ascii":
            lines.append(f"{prefix}{len(chunk.data)}\n{ascii_text(chunk.data, keep_tabs=False)}\n")
        elif mode == "raw":
            lines.append(f"{prefix}{chunk.data.hex()}\n")
        else:
            lines.append(hex_dump(chunk.data, offsets[chunk.from_server], prefix))
        offsets[chunk.from_server] += len(chunk.data)
    lines.append(f"{_SEPARATOR}\n")
    return "".join(lines)


def ascii_text(data: bytes, keep_tabs: bool = True) -> str:
    """Printable ASCII kept, CR and LF (and tabs, unless tshark's CLI rules apply) kept, the rest as dots."""
    kept = b"\r\n\t" if keep_tabs else b"\r\n"
    return "".join(chr(byte) if 0x20 <= byte < 0x7F or byte in kept else "." for byte in data)


def hex_dump(data: bytes, offset: int = 0, prefix: str = "") -> str:
    """tshark's follow hex dump: upper-case offset, 16 bytes in two groups of eight, ASCII split likewise.

    Like tshark, a line whose ASCII column ends in a space loses that space.
    """
    lines = []
    for start in range(0, len(data), 16):
        row = data[start:start + 16]
        hex_part = " ".join(f"{byte:02x}" for byte in row[:8])
        shown = "".join(chr(byte) if 0x20 <= byte < 0x7F else "." for byte in row)
        if len(row) >= 8:
            hex_part += "  " + " ".join(f"{byte:02x}" for byte in row[8:])
            shown = shown[:8] + " " + shown[8:]
        if shown.endswith(" "):
            shown = shown[:-1]
        lines.append(f"{prefix}{offset + start:08X}  {hex_part.rstrip():<48}  {shown}\n")
    return "".join(lines)


def c_array(chunk: FollowChunk, number: int) -> str:
    """One chunk as Wireshark's "C Arrays" view writes it: `char peer0_0[] = { /* Packet 4 */ … };`."""
    lines = [f"char peer{int(chunk.from_server)}_{number}[] = {{ /* Packet {chunk.frame} */\n"]
    for start in range(0, len(chunk.data), 8):
        row = ", ".join(f"0x{byte:02x}" for byte in chunk.data[start:start + 8])
        last = start + 8 >= len(chunk.data)
        lines.append(row + (" };\n" if last else ",\n"))
    return "".join(lines)


def yaml_chunk(chunk: FollowChunk) -> str:
    """One chunk as tshark's YAML follow output writes it (base64 in 57-byte lines)."""
    seconds, nanoseconds = divmod(chunk.timestamp_ns, 1_000_000_000)
    timestamp = seconds + nanoseconds / 1e9  # a double, as tshark prints it (…713624954)
    lines = [f"  - packet: {chunk.frame}\n", f"    peer: {int(chunk.from_server)}\n",
             f"    timestamp: {timestamp:.9f}\n", "    data: !!binary |\n"]
    for start in range(0, len(chunk.data), 57):
        lines.append(f"      {base64.b64encode(chunk.data[start:start + 57]).decode()}\n")
    return "".join(lines)


def _yaml_peers(followed: FollowedStream) -> str:
    """The `peers:` header of the YAML output."""
    lines = ["peers:\n"]
    for number, endpoint in enumerate((followed.client, followed.server)):
        host, port = (endpoint.host, endpoint.port) if endpoint else ("", 0)
        lines += [f"  - peer: {number}\n", f"    host: {host}\n", f"    port: {port}\n"]
    return "".join(lines) + "packets:\n"


SIDES = ("both", "client", "server")
SHOW_MODE_NAMES = {"ascii": "ASCII", "hex": "Hex Dump", "carray": "C Arrays", "raw": "Raw", "yaml": "YAML"}
_RAW_LINE_BYTES = 32


@dataclass(frozen=True, slots=True)
class ShownLine:
    """One line of the Follow window: its text and the chunk it shows (None for a heading)."""

    text: str
    chunk: int | None
    from_server: bool = False


def side_label(followed: FollowedStream, side: str) -> str:
    """`Entire conversation (2,555 bytes)` or `10.0.0.2:33778 → 10.0.0.1:80 (262 bytes)`, as Wireshark words it."""
    if side == "both" or followed.client is None:
        return f"Entire conversation ({followed.byte_count():,} bytes)"
    from_server = side == "server"
    source, destination = (followed.server, followed.client) if from_server else (followed.client, followed.server)
    return f"{source} \u2192 {destination} ({followed.byte_count(from_server):,} bytes)"


def shown_lines(followed: FollowedStream, mode: str, side: str = "both") -> list[ShownLine]:
    """The Follow window's text in `mode` (one of SHOW_MODES) for one side or both, a chunk per block."""
    lines: list[ShownLine] = []
    if mode == "yaml":
        lines += [ShownLine(text, None) for text in _yaml_peers(followed).splitlines()]
    offsets = {False: 0, True: 0}
    counts = {False: 0, True: 0}
    for number, chunk in enumerate(followed.chunks):
        if side != "both" and chunk.from_server != (side == "server"):
            continue
        texts = _chunk_lines(chunk, mode, offsets[chunk.from_server], counts[chunk.from_server])
        lines += [ShownLine(text, number, chunk.from_server) for text in texts]
        offsets[chunk.from_server] += len(chunk.data)
        counts[chunk.from_server] += 1
    return lines


def _chunk_lines(chunk: FollowChunk, mode: str, offset: int, number: int) -> list[str]:
    """One chunk's lines in a show mode (`offset` and `number` count within the chunk's side)."""
    if mode == "ascii":
        text = ascii_text(chunk.data).replace("\r\n", "\n").removesuffix("\n")
        return text.split("\n")
    if mode == "hex":
        return hex_dump(chunk.data, offset).splitlines()
    if mode == "carray":
        return c_array(chunk, number).splitlines()
    if mode == "raw":
        hex_text = chunk.data.hex()
        step = _RAW_LINE_BYTES * 2
        return [hex_text[start:start + step] for start in range(0, len(hex_text), step)]
    return yaml_chunk(chunk).splitlines()
