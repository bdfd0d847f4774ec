"""ICMP (v4): echo with tshark's id/seq Info and data timestamp, and errors that quote the offending packet."""
from __future__ import annotations

import struct
from dataclasses import replace

from scapy.layers.inet import ICMP, IP
from scapy.packet import Packet

from tui_sniffer.dissect.engine import Dissection, handles, walk_layers
from tui_sniffer.dissect.fields import (Base, FieldDef, FieldType, Timestamp, absolute_time_text, protocol,
                                       register)
from tui_sniffer.dissect.names import CHECKSUM_STATUS_NAMES
from tui_sniffer.dissect.protocols.data import DATA, DATA_DATA, DATA_LEN
from tui_sniffer.dissect.tree import TreeNode, bytes_text

_TYPES = {0: "Echo (ping) reply", 3: "Destination unreachable", 4: "Source quench (flow control)",
          5: "Redirect", 8: "Echo (ping) request", 9: "Router advertisement",
          10: "Router solicitation", 11: "Time-to-live exceeded", 12: "Parameter problem",
          13: "Timestamp request", 14: "Timestamp reply", 15: "Information request",
          16: "Information reply", 17: "Address mask request", 18: "Address mask reply"}
_CODES = {
    3: {0: "Network unreachable", 1: "Host unreachable", 2: "Protocol unreachable",
        3: "Port unreachable", 4: "Fragmentation needed", 5: "Source route failed",
        6: "Destination network unknown", 7: "Destination host unknown", 8: "Source host isolated",
        9: "Network administratively prohibited", 10: "Host administratively prohibited",
        11: "Network unreachable for TOS", 12: "Host unreachable for TOS",
        13: "Communication administratively filtered", 14: "Host precedence violation",
        15: "Precedence cutoff in effect"},
    5: {0: "Redirect for network", 1: "Redirect for host", 2: "Redirect for TOS and network",
        3: "Redirect for TOS and host"},
    11: {0: "Time to live exceeded in transit", 1: "Fragment reassembly time exceeded"},
    12: {0: "Pointer indicates the error", 1: "Required option missing", 2: "Bad length"},
}
_ERROR_TYPES = {3, 4, 5, 11, 12}
_QUOTED_PROTOCOLS = {"ip", "ipv6", "tcp", "udp", "icmp", "icmpv6"}

ICMP_PROTOCOL = protocol("icmp", "Internet Control Message Protocol")
TYPE = register("icmp.type", "Type", FieldType.UINT8, value_names=_TYPES)
CODE = register("icmp.code", "Code", FieldType.UINT8)
CHECKSUM = register("icmp.checksum", "Checksum", FieldType.UINT16, Base.HEX)
CHECKSUM_STATUS = register("icmp.checksum.status", "Checksum Status", FieldType.UINT8,
                           value_names=CHECKSUM_STATUS_NAMES)
IDENT = register("icmp.ident", "Identifier (BE)", FieldType.UINT16, Base.DEC_HEX)
IDENT_LE = register("icmp.ident_le", "Identifier (LE)", FieldType.UINT16, Base.DEC_HEX)
SEQ = register("icmp.seq", "Sequence Number (BE)", FieldType.UINT16, Base.DEC_HEX)
SEQ_LE = register("icmp.seq_le", "Sequence Number (LE)", FieldType.UINT16, Base.DEC_HEX)
UNUSED = register("icmp.unused", "Unused", FieldType.BYTES)
MTU = register("icmp.mtu", "MTU of next hop", FieldType.UINT16)
POINTER = register("icmp.pointer", "Pointer", FieldType.UINT32)
GATEWAY = register("icmp.redir_gw", "Gateway Address", FieldType.IPV4)
RESP_IN = register("icmp.resp_in", "Response frame", FieldType.FRAMENUM)
RESP_TO = register("icmp.resp_to", "Request frame", FieldType.FRAMENUM)
RESPTIME = register("icmp.resptime", "Response time", FieldType.FLOAT)
NO_RESP = register("icmp.no_resp", "No response seen", FieldType.NONE,
                   description="No corresponding response frame was seen")
DATA_TIME = register("icmp.data_time", "Timestamp from icmp data", FieldType.ABSOLUTE_TIME)
DATA_TIME_RELATIVE = register("icmp.data_time_relative", "Timestamp from icmp data (relative)",
                              FieldType.RELATIVE_TIME)


def internet_checksum(data: bytes) -> int:
    """The 16-bit one's-complement sum RFC 1071 defines (0 when the checksummed bytes are intact)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def add_checksum(node: TreeNode, checksum_field: FieldDef, status_field: FieldDef, checksum: int, covered: bytes,
                 offset: int, complete: bool) -> None:
    """`Checksum: 0x1234 [correct]` and its generated status, verified when every byte was captured."""
    if not complete:
        node.add(checksum_field, checksum, offset, 2, label=f"Checksum: 0x{checksum:04x} [unverified]")
        node.add_generated(status_field, 2, label="Checksum Status: Unverified")
        return
    good = internet_checksum(covered) == 0
    verdict = "correct" if good else "incorrect"
    node.add(checksum_field, checksum, offset, 2, label=f"Checksum: 0x{checksum:04x} [{verdict}]")
    node.add_generated(status_field, 1 if good else 0,
                       label=f"Checksum Status: {'Good' if good else 'Bad'}")


def add_nested_data(dissection: Dissection, node: TreeNode, offset: int, end: int) -> None:
    """`Data (N bytes)` inside the message's own subtree, as tshark nests echo data under ICMP."""
    payload = dissection.data[offset:end]
    if not payload:
        return
    size = len(payload)
    data_node = node.add(DATA, None, offset, size, label=f"Data ({size} byte{'s' if size != 1 else ''})")
    data_node.add(DATA_DATA, payload, offset, size, label=f"Data: {bytes_text(payload)}")
    data_node.add_generated(DATA_LEN, size)
    dissection.protocols.append(DATA.name)


def add_quoted_packet(dissection: Dissection, node: TreeNode, offset: int, end: int,
                      quoted: Packet) -> None:
    """The offending packet an error quotes: its IP and transport headers nest in the ICMP subtree, the rest follows at top level."""
    quoted_stream = dissection.frame.annotations.get("icmp.quoted_udp_stream")
    frame = dissection.frame if quoted_stream is None else \
        replace(dissection.frame, annotations={"udp.stream": quoted_stream})
    inner = Dissection(frame, dissection.data[:end])
    walk_layers(inner, quoted, offset)
    for layer in inner.layers:
        if layer.definition is not None and layer.definition.name in _QUOTED_PROTOCOLS:
            node.children.append(layer)
        elif layer.definition is not None and layer.definition.name != "_ws.malformed":
            dissection.layers.append(layer)
    dissection.protocols.extend(inner.protocols)


def echo_timestamp(payload: bytes, frame_seconds: int) -> tuple[int, int, bool] | None:
    """The `struct timeval` ping puts first in its data, as tshark guesses it (seconds, µs, little-endian)."""
    if len(payload) <= 8:
        return None
    big, little = struct.unpack_from(">I", payload)[0], struct.unpack_from("<I", payload)[0]
    is_little = abs(little - frame_seconds) < abs(big - frame_seconds)
    seconds = little if is_little else big
    microseconds = struct.unpack_from("<I" if is_little else ">I", payload, 4)[0]
    if microseconds >= 1_000_000 or abs(seconds - frame_seconds) >= 86400:
        return None
    return seconds, microseconds, is_little


def request_reply_suffix(dissection: Dissection, node: TreeNode, response_in_field: FieldDef,
                         request_field: FieldDef, response_time_field: FieldDef,
                         no_response_field: FieldDef, no_response_text: str) -> str:
    """Generated request/response links from analysis annotations (keyed by field name); returns the Info suffix."""
    annotations = dissection.frame.annotations
    suffix = ""
    response_in = annotations.get(response_in_field.name)
    request_frame = annotations.get(request_field.name)
    if isinstance(response_in, int):
        node.add_generated(response_in_field, response_in)
        suffix = f" (reply in {response_in})"
    elif annotations.get(no_response_field.name):
        seen = node.add_generated(no_response_field, None, label=no_response_field.label)
        seen.add_expert(no_response_text, "Warning", "Sequence")
        suffix = " (no response found!)"
    if isinstance(request_frame, int):
        node.add_generated(request_field, request_frame)
        response_time = annotations.get(response_time_field.name)
        if isinstance(response_time, float):
            node.add_generated(response_time_field, response_time,
                               label=f"{response_time_field.label}: {response_time:.3f} ms")
        suffix = f" (request in {request_frame})"
    return suffix


@handles(ICMP)
def dissect_icmp(dissection: Dissection, layer: ICMP, offset: int) -> int | None:
    """The ICMP header, echo identifiers, error codes and the quoted packet, with tshark's Info."""
    data = dissection.data
    end = dissection.payload_end
    node = dissection.add_layer(ICMP_PROTOCOL, "Internet Control Message Protocol", offset,
                                end - offset)
    if end - offset < 4:
        dissection.set_columns("ICMP", "")
        dissection.mark_malformed("ICMP", offset)
        return None
    icmp_type, code, checksum = struct.unpack_from(">BBH", data, offset)
    type_text = _TYPES.get(icmp_type, "Unknown ICMP (obsolete or malformed?)")
    node.add(TYPE, icmp_type, offset, 1, label=f"Type: {icmp_type} ({type_text})")
    code_text = _CODES.get(icmp_type, {}).get(code)
    node.add(CODE, code, offset + 1, 1,
             label=f"Code: {code} ({code_text})" if code_text else f"Code: {code}")
    complete = dissection.frame.captured_length >= dissection.frame.wire_length
    add_checksum(node, CHECKSUM, CHECKSUM_STATUS, checksum, data[offset:end], offset + 2, complete)
    info = f"{type_text:<20}" + (f" ({code_text})" if code_text else "")
    if icmp_type in (0, 8, 13, 14, 15, 16, 17, 18) and end - offset >= 8:
        ident, sequence = struct.unpack_from(">HH", data, offset + 4)
        ident_le, sequence_le = struct.unpack_from("<HH", data, offset + 4)
        node.add(IDENT, ident, offset + 4, 2)
        node.add(IDENT_LE, ident_le, offset + 4, 2)
        node.add(SEQ, sequence, offset + 6, 2)
        node.add(SEQ_LE, sequence_le, offset + 6, 2)
        ttl = getattr(layer.underlayer, "ttl", None) if isinstance(layer.underlayer, IP) else None
        info += f" id=0x{ident:04x}, seq={sequence}/{sequence_le}" + (f", ttl={ttl}" if ttl is not None else "")
        info += request_reply_suffix(dissection, node, RESP_IN, RESP_TO, RESPTIME, NO_RESP,
                                     "No response seen to ICMP request")
        data_start = offset + 8
        if icmp_type in (0, 8):
            data_start = _add_echo_timestamp(dissection, node, data_start, end)
        add_nested_data(dissection, node, data_start, end)
    elif icmp_type in _ERROR_TYPES and end - offset >= 8:
        _add_error_header(node, icmp_type, code, data, offset)
        if end - offset > 8:
            add_quoted_packet(dissection, node, offset + 8, end, IP(data[offset + 8:end]))
    else:
        add_nested_data(dissection, node, offset + 4, end)
    dissection.set_columns("ICMP", info)
    return None


def _add_echo_timestamp(dissection: Dissection, node: TreeNode, offset: int, end: int) -> int:
    """The data timestamp fields when the echo data starts with one; returns where the data then starts."""
    frame = dissection.frame
    frame_seconds = frame.timestamp_ns // 1_000_000_000
    guess = echo_timestamp(dissection.data[offset:end], frame_seconds)
    if guess is None:
        return offset
    seconds, microseconds, _ = guess
    node.add(DATA_TIME, Timestamp(seconds * 1_000_000_000 + microseconds * 1000), offset, 8,
             label=f"Timestamp from icmp data: {absolute_time_text(seconds, microseconds * 1000)}")
    relative_ns = frame.timestamp_ns - (seconds * 1_000_000_000 + microseconds * 1000)
    node.add_generated(DATA_TIME_RELATIVE, relative_ns / 1e9,
                       label=f"Timestamp from icmp data (relative): {relative_ns / 1e9:.9f} seconds")
    return offset + 8


def _add_error_header(node: TreeNode, icmp_type: int, code: int, data: bytes, offset: int) -> None:
    """The four bytes after the checksum of an error message: unused, MTU, pointer or gateway."""
    rest = data[offset + 4:offset + 8]
    if icmp_type == 3 and code == 4:
        node.add(UNUSED, rest[:2], offset + 4, 2, label=f"Unused: {rest[:2].hex()}")
        node.add(MTU, struct.unpack(">H", rest[2:])[0], offset + 6, 2)
    elif icmp_type == 5:
        node.add(GATEWAY, ".".join(str(octet) for octet in rest), offset + 4, 4)
    elif icmp_type == 12:
        node.add(POINTER, rest[0], offset + 4, 1)
        node.add(UNUSED, rest[1:], offset + 5, 3, label=f"Unused: {rest[1:].hex()}")
    else:
        node.add(UNUSED, rest, offset + 4, 4, label=f"Unused: {rest.hex()}")

