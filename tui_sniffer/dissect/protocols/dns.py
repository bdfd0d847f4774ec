"""DNS, mDNS and LLMNR over UDP and TCP: header flags, questions and records parsed from the wire bytes."""
from __future__ import annotations

import struct

from tui_sniffer.dissect.engine import Dissection, MalformedError, handles_payload
from tui_sniffer.dissect.fields import Base, FieldType, protocol, register
from tui_sniffer.dissect.protocols.dns_records import RECORD_TYPES, TYPE_NAMES, add_record, read_name
from tui_sniffer.dissect.tree import TreeNode, bit_pattern, bytes_text

_OPCODES = {0: "Standard query", 1: "Inverse query", 2: "Server status request",
            4: "Zone change notification", 5: "Dynamic update"}
_RCODES = {0: "No error", 1: "Format error", 2: "Server failure", 3: "No such name",
           4: "Not implemented", 5: "Refused", 6: "Name exists", 7: "RRset exists",
           8: "RRset does not exist", 9: "Not authoritative", 10: "Name out of zone"}
_CLASSES = {1: "IN", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}
_PORTS = {53: ("dns", "DNS", "Domain Name System"),
          5353: ("mdns", "MDNS", "Multicast Domain Name System"),
          5355: ("llmnr", "LLMNR", "Link-local Multicast Name Resolution")}
DNS_PORTS = tuple(_PORTS)
"""The UDP/TCP ports whose payloads the dissector takes as DNS, mDNS or LLMNR."""

DNS = protocol("dns", "Domain Name System")
MDNS = protocol("mdns", "Multicast Domain Name System")
LLMNR = protocol("llmnr", "Link-local Multicast Name Resolution")
LENGTH = register("dns.length", "Length", FieldType.UINT16)
ID = register("dns.id", "Transaction ID", FieldType.UINT16, Base.HEX)
FLAGS = register("dns.flags", "Flags", FieldType.UINT16, Base.HEX)
RESPONSE = register("dns.flags.response", "Response", FieldType.BOOLEAN, bitmask=0x8000)
OPCODE = register("dns.flags.opcode", "Opcode", FieldType.UINT16, value_names=_OPCODES, bitmask=0x7800)
AUTHORITATIVE = register("dns.flags.authoritative", "Authoritative", FieldType.BOOLEAN, bitmask=0x400)
CONFLICT = register("dns.flags.conflict", "Conflict", FieldType.BOOLEAN, bitmask=0x400)
TRUNCATED = register("dns.flags.truncated", "Truncated", FieldType.BOOLEAN, bitmask=0x200)
RECDESIRED = register("dns.flags.recdesired", "Recursion desired", FieldType.BOOLEAN, bitmask=0x100)
TENTATIVE = register("dns.flags.tentative", "Tentative", FieldType.BOOLEAN, bitmask=0x100)
RECAVAIL = register("dns.flags.recavail", "Recursion available", FieldType.BOOLEAN, bitmask=0x80)
Z = register("dns.flags.z", "Z", FieldType.BOOLEAN, bitmask=0x40)
AUTHENTICATED = register("dns.flags.authenticated", "Answer authenticated", FieldType.BOOLEAN, bitmask=0x20)
CHECKDISABLE = register("dns.flags.checkdisable", "Non-authenticated data", FieldType.BOOLEAN, bitmask=0x10)
RCODE = register("dns.flags.rcode", "Reply code", FieldType.UINT16, value_names=_RCODES, bitmask=0xF)
COUNT_QUERIES = register("dns.count.queries", "Questions", FieldType.UINT16)
COUNT_ANSWERS = register("dns.count.answers", "Answer RRs", FieldType.UINT16)
COUNT_AUTH = register("dns.count.auth_rr", "Authority RRs", FieldType.UINT16)
COUNT_ADD = register("dns.count.add_rr", "Additional RRs", FieldType.UINT16)
QRY_NAME = register("dns.qry.name", "Name", FieldType.STRING)
QRY_NAME_LEN = register("dns.qry.name.len", "Name Length", FieldType.UINT16)
COUNT_LABELS = register("dns.count.labels", "Label Count", FieldType.UINT16)
QRY_TYPE = register("dns.qry.type", "Type", FieldType.UINT16, value_names=TYPE_NAMES)
QRY_CLASS = register("dns.qry.class", "Class", FieldType.UINT16, Base.HEX, value_names=_CLASSES)
QRY_QU = register("dns.qry.qu", '"QU" question', FieldType.BOOLEAN, bitmask=0x8000)
RESPONSE_IN = register("dns.response_in", "Response In", FieldType.FRAMENUM)
RESPONSE_TO = register("dns.response_to", "Request In", FieldType.FRAMENUM)
TIME = register("dns.time", "Time", FieldType.RELATIVE_TIME)
RETRANSMISSION = register("dns.retransmission", "Retransmission", FieldType.BOOLEAN)
RETRANSMIT_REQUEST_IN = register("dns.retransmit_request_in", "Retransmitted request. Original request in",
                                 FieldType.FRAMENUM)
RETRANSMIT_RESPONSE_IN = register("dns.retransmit_response_in", "Retransmitted response. Original response in",
                                  FieldType.FRAMENUM)
RETRANSMIT_REQUEST = register("dns.retransmit_request", "DNS query retransmission", FieldType.NONE)
RETRANSMIT_RESPONSE = register("dns.retransmit_response", "DNS response retransmission", FieldType.NONE)
UNSOLICITED = register("dns.unsolicited", "Unsolicited", FieldType.BOOLEAN)
EXTRANEOUS = register("dns.extraneous", "Extraneous data", FieldType.NONE)
EXTRANEOUS_DATA = register("dns.extraneous.data", "Extraneous Data Bytes", FieldType.BYTES)
EXTRANEOUS_LENGTH = register("dns.extraneous.length", "Extraneous Data Length", FieldType.INT32)

_PROTOCOL_NODES = {"dns": DNS, "mdns": MDNS, "llmnr": LLMNR}
_SECTIONS = ("Answers", "Authoritative nameservers", "Additional records")


def _flag_line(value: bool, set_text: str, clear_text: str) -> str:
    """The text after `Label: ` for a boolean flag."""
    return set_text if value else clear_text


def _port_protocol(dissection: Dissection) -> tuple[str, str, str] | None:
    """Which of DNS / mDNS / LLMNR the ports say this is, if any."""
    ports = (dissection.source_port, dissection.destination_port)
    for port in (5353, 5355, 53):
        if port in ports:
            return _PORTS[port]
    return None


@handles_payload("dns")
def dissect_dns_payload(dissection: Dissection, offset: int, end: int) -> bool:
    """Claim UDP/TCP payloads on the DNS, mDNS and LLMNR ports (TCP messages carry a length prefix)."""
    kind = _port_protocol(dissection)
    if kind is None or dissection.transport not in ("udp", "tcp"):
        return False
    try:
        dissect_message(dissection, offset, end, kind)
    except (MalformedError, struct.error, IndexError, ValueError):
        dissection.mark_malformed(kind[1], offset)
    return True


def dissect_message(dissection: Dissection, offset: int, end: int,
                    kind: tuple[str, str, str]) -> None:
    """One DNS message: header, questions, the three record sections, Info and generated links."""
    name, column, title = kind
    data = dissection.data[:end]
    start = offset
    length_prefix = None
    if dissection.transport == "tcp" and end - offset >= 2:
        length_prefix, = struct.unpack_from(">H", data, offset)
        offset += 2
    message = offset
    node = dissection.add_layer(_PROTOCOL_NODES[name], title, start, end - start)
    dissection.set_columns(column, "")
    identifier, flags, questions, answers, authorities, additionals = struct.unpack_from(">6H", data, message)
    is_response = bool(flags & 0x8000)
    node.label = f"{title} ({'response' if is_response else 'query'})"
    if length_prefix is not None:
        node.add(LENGTH, length_prefix, start, 2)
    node.add(ID, identifier, message, 2)
    opcode, rcode = (flags >> 11) & 0xF, flags & 0xF
    summary = _OPCODES.get(opcode, f"Unknown operation ({opcode})") + (" response" if is_response else "")
    if is_response:
        summary += ", " + _RCODES.get(rcode, f"Unknown error ({rcode})")
    _add_flags(node, flags, message + 2, summary, name)
    for definition, count, position in ((COUNT_QUERIES, questions, 4), (COUNT_ANSWERS, answers, 6),
                                        (COUNT_AUTH, authorities, 8), (COUNT_ADD, additionals, 10)):
        node.add(definition, count, message + position, 2)
    info = summary.split(",")[0] + f" 0x{identifier:04x}"
    if is_response and rcode:
        info += " " + _RCODES.get(rcode, f"Unknown error ({rcode})")
    position = message + 12
    if questions:
        queries = node.add_text("Queries", position, 0)
        for _ in range(questions):
            position, text = _add_question(queries, data, message, position, name)
            info += text
        queries.length = position - queries.offset
    for section, count in zip(_SECTIONS, (answers, authorities, additionals)):
        if not count:
            continue
        section_node = node.add_text(section, position, 0)
        for _ in range(count):
            position, text = add_record(section_node, data, message, position, name == "mdns")
            info += text
        section_node.length = position - section_node.offset
    _add_links(dissection, node)
    dissection.set_columns(column, info)
    if position < end and length_prefix is None:
        extra = data[position:end]
        extra_node = node.add(EXTRANEOUS, None, position, len(extra), label=f"Extraneous Data ({len(extra)} bytes)")
        extra_node.add(EXTRANEOUS_DATA, extra, position, len(extra), label=f"Extraneous Data Bytes: {bytes_text(extra)}")
        extra_node.add_generated(EXTRANEOUS_LENGTH, len(extra))


def _add_flags(node: TreeNode, flags: int, offset: int, summary: str, name: str) -> None:
    """The flags word with one line per bit, the lines Wireshark shows for queries or responses."""
    flags_node = node.add(FLAGS, flags, offset, 2, label=f"Flags: 0x{flags:04x} {summary}")
    is_response = bool(flags & 0x8000)

    def bit(definition, text: str, label: str | None = None) -> None:
        value = (flags & definition.bitmask) // (definition.bitmask & -definition.bitmask)
        flags_node.add_bits(definition, value, offset, 2, f"{label or definition.label}: {text}")
        if definition.ftype is FieldType.BOOLEAN:
            flags_node.children[-1].value = bool(value)

    bit(RESPONSE, _flag_line(is_response, "Message is a response", "Message is a query"))
    opcode = (flags >> 11) & 0xF
    bit(OPCODE, OPCODE.show(opcode))
    if name == "llmnr":
        unique_text = "The name is considered unique" if is_response else "None"
        bit(CONFLICT, _flag_line(flags & 0x400, "The name is not considered unique", unique_text))
        bit(TRUNCATED, _flag_line(flags & 0x200, "Message is truncated", "Message is not truncated"))
        bit(TENTATIVE, _flag_line(flags & 0x100, "Tentative", "Not tentative"))
        if is_response:
            bit(RCODE, RCODE.show(flags & 0xF))
        return
    if is_response:
        bit(AUTHORITATIVE, _flag_line(flags & 0x400, "Server is an authority for domain",
                                      "Server is not an authority for domain"))
    bit(TRUNCATED, _flag_line(flags & 0x200, "Message is truncated", "Message is not truncated"))
    bit(RECDESIRED, _flag_line(flags & 0x100, "Do query recursively", "Don't do query recursively"))
    if is_response:
        bit(RECAVAIL, _flag_line(flags & 0x80, "Server can do recursive queries",
                                 "Server can't do recursive queries"))
    bit(Z, f"reserved ({(flags >> 6) & 1})")
    if is_response:
        bit(AUTHENTICATED, _flag_line(flags & 0x20, "Answer/authority portion was authenticated by the server",
                                      "Answer/authority portion was not authenticated by the server"))
    elif flags & 0x20:
        bit(AUTHENTICATED, "Set", label="AD bit")
    bit(CHECKDISABLE, _flag_line(flags & 0x10, "Acceptable", "Unacceptable"))
    if is_response:
        bit(RCODE, RCODE.show(flags & 0xF))


def _add_question(parent: TreeNode, data: bytes, message: int, position: int, name: str) -> tuple[int, str]:
    """One question entry; returns where the next one starts and its Info text."""
    query_name, after_name, labels = read_name(data, message, position)
    record_type, record_class = struct.unpack_from(">HH", data, after_name)
    class_value = record_class & 0x7FFF if name == "mdns" else record_class
    class_name = _CLASSES.get(class_value, f"Unknown (0x{class_value:04x})")
    type_name = RECORD_TYPES.get(record_type, f"Unknown ({record_type})")
    suffix = (', "QU" question' if record_class & 0x8000 else ', "QM" question') if name == "mdns" else ""
    entry = parent.add_text(f"{query_name}: type {type_name}, class {class_name}{suffix}", position,
                            after_name + 4 - position)
    entry.add(QRY_NAME, query_name, position, after_name - position)
    entry.add_generated(QRY_NAME_LEN, len(query_name) if query_name != "<Root>" else 6)
    entry.add_generated(COUNT_LABELS, labels)
    entry.add(QRY_TYPE, record_type, after_name, 2)
    if name == "mdns":
        entry.add(QRY_CLASS, class_value, after_name + 2, 2,
                  label=f"{bit_pattern(record_class, 0x7FFF, 16)} = Class: {QRY_CLASS.show(class_value)}")
        entry.add_bits(QRY_QU, bool(record_class & 0x8000), after_name + 2, 2,
                       f'"QU" question: {bool(record_class & 0x8000)}')
    else:
        entry.add(QRY_CLASS, record_class, after_name + 2, 2)
    return after_name + 4, f" {type_name} {query_name}{suffix}"


def _add_links(dissection: Dissection, node: TreeNode) -> None:
    """`[Response In: N]`, `[Request In: N]`, `[Time: x]`, retransmissions and unsolicited responses, from the
    pairing of this frame's n-th message."""
    messages = dissection.frame.annotations.get("dns.messages")
    ordinal = sum(1 for layer in dissection.layers if layer.definition in _PROTOCOL_NODES.values()) - 1
    if not isinstance(messages, list) or not 0 <= ordinal < len(messages):
        return
    links = messages[ordinal]
    response_in, request_in, elapsed = (links.get(field.name) for field in (RESPONSE_IN, RESPONSE_TO, TIME))
    if isinstance(response_in, int):
        node.add_generated(RESPONSE_IN, response_in)
    if isinstance(request_in, int):
        node.add_generated(RESPONSE_TO, request_in)
    if isinstance(elapsed, float):
        node.add_generated(TIME, elapsed)
    for original_field, expert_field, kind in ((RETRANSMIT_REQUEST_IN, RETRANSMIT_REQUEST, "query"),
                                               (RETRANSMIT_RESPONSE_IN, RETRANSMIT_RESPONSE, "response")):
        original = links.get(original_field.name)
        if isinstance(original, int):
            word = "request" if kind == "query" else "response"
            identifier = next(child for child in node.children if child.definition is ID)
            identifier.add_expert(f"DNS {kind} retransmission. Original {word} in frame {original}", "Warning",
                                  "Protocol", expert_field)
            node.add_generated(original_field, original)
            node.add_generated(RETRANSMISSION, True, label="Retransmission: True")
    if links.get(UNSOLICITED.name):
        node.add_generated(UNSOLICITED, True, label="Unsolicited: True")