"""TCP: ports, relative and raw seq/ack, flags, window scaling, options, payload and its Info line."""
from __future__ import annotations

import struct

from scapy.layers.inet import TCP

from tui_sniffer.dissect.engine import Dissection, MalformedError, handles
from tui_sniffer.dissect.fields import Base, FieldType, protocol, register
from tui_sniffer.dissect.names import CHECKSUM_STATUS_NAMES
from tui_sniffer.dissect.frame import TcpAnalysisFlag, TcpFacts, TcpSegmentAnalysis
from tui_sniffer.dissect.protocols.data import add_data
from tui_sniffer.dissect.protocols.tcp_analysis_tree import (add_analysis_lines, add_closing_note,
                                                              add_conversation_lines, add_expert, add_flag_notes,
                                                              info_prefix)
from tui_sniffer.dissect.protocols.tcp_reassembled import dissect_segment_payload
from tui_sniffer.dissect.tree import TreeNode

_OPTION_KINDS = {0: "End of Option List", 1: "No-Operation", 2: "Maximum Segment Size",
                 3: "Window Scale", 4: "SACK Permitted", 5: "SACK", 8: "Time Stamp Option",
                 28: "User Timeout", 30: "Multipath TCP", 34: "TCP Fast Open Cookie"}

TCP_PROTOCOL = protocol("tcp", "Transmission Control Protocol")
SRCPORT = register("tcp.srcport", "Source Port", FieldType.UINT16)
DSTPORT = register("tcp.dstport", "Destination Port", FieldType.UINT16)
PORT = register("tcp.port", "Source or Destination Port", FieldType.UINT16)
STREAM = register("tcp.stream", "Stream index", FieldType.UINT32)
LEN = register("tcp.len", "TCP Segment Len", FieldType.UINT32)
SEQ = register("tcp.seq", "Sequence Number", FieldType.UINT32)
SEQ_RAW = register("tcp.seq_raw", "Sequence Number (raw)", FieldType.UINT32,
                   description="This shows the raw value of the sequence number")
NXTSEQ = register("tcp.nxtseq", "Next Sequence Number", FieldType.UINT32)
ACK = register("tcp.ack", "Acknowledgment Number", FieldType.UINT32)
ACK_RAW = register("tcp.ack_raw", "Acknowledgment number (raw)", FieldType.UINT32,
                   description="This shows the raw value of the acknowledgment number")
HDR_LEN = register("tcp.hdr_len", "Header Length", FieldType.UINT8, bitmask=0xF0,
                   description="Data offset in 32-bit words")
FLAGS = register("tcp.flags", "Flags", FieldType.UINT16, Base.HEX, bitmask=0x0FFF,
                 description="Flags (12 bits)")
_FLAG_BITS = [
    (register("tcp.flags.res", "Reserved", FieldType.BOOLEAN, bitmask=0xE00), 0xE00, None),
    (register("tcp.flags.ae", "Accurate ECN", FieldType.BOOLEAN, bitmask=0x100), 0x100, "AE"),
    (register("tcp.flags.cwr", "Congestion Window Reduced", FieldType.BOOLEAN, bitmask=0x80), 0x80, "CWR"),
    (register("tcp.flags.ece", "ECN-Echo", FieldType.BOOLEAN, bitmask=0x40), 0x40, "ECE"),
    (register("tcp.flags.urg", "Urgent", FieldType.BOOLEAN, bitmask=0x20), 0x20, "URG"),
    (register("tcp.flags.ack", "Acknowledgment", FieldType.BOOLEAN, bitmask=0x10), 0x10, "ACK"),
    (register("tcp.flags.push", "Push", FieldType.BOOLEAN, bitmask=0x08), 0x08, "PSH"),
    (register("tcp.flags.reset", "Reset", FieldType.BOOLEAN, bitmask=0x04), 0x04, "RST"),
    (register("tcp.flags.syn", "Syn", FieldType.BOOLEAN, bitmask=0x02), 0x02, "SYN"),
    (register("tcp.flags.fin", "Fin", FieldType.BOOLEAN, bitmask=0x01), 0x01, "FIN"),
]
FLAGS_STR = register("tcp.flags.str", "TCP Flags", FieldType.STRING)
WINDOW_VALUE = register("tcp.window_size_value", "Window", FieldType.UINT16,
                        description="The window size value from the TCP header")
WINDOW_SIZE = register("tcp.window_size", "Calculated window size", FieldType.UINT32,
                       description="The scaled window size (if scaling has been used)")
WINDOW_SCALEFACTOR = register("tcp.window_size_scalefactor", "Window size scaling factor",
                              FieldType.INT32, description="The window size scaling factor "
                              "(-1 when unknown, -2 when no scaling is used)")
CHECKSUM = register("tcp.checksum", "Checksum", FieldType.UINT16, Base.HEX)
CHECKSUM_STATUS = register("tcp.checksum.status", "Checksum Status", FieldType.UINT8,
                           value_names=CHECKSUM_STATUS_NAMES)
URGENT_POINTER = register("tcp.urgent_pointer", "Urgent Pointer", FieldType.UINT16)
OPTIONS = register("tcp.options", "TCP Options", FieldType.BYTES)
OPTION_KIND = register("tcp.option_kind", "Kind", FieldType.UINT8, value_names=_OPTION_KINDS,
                       description="This TCP option's kind")
OPTION_LEN = register("tcp.option_len", "Length", FieldType.UINT8)
OPTION_NOP = register("tcp.options.nop", "TCP Option - No-Operation (NOP)", FieldType.BYTES)
OPTION_EOL = register("tcp.options.eol", "TCP Option - End of Option List (EOL)", FieldType.BYTES)
OPTION_MSS = register("tcp.options.mss", "TCP Option - Maximum segment size", FieldType.NONE)
MSS_VAL = register("tcp.options.mss_val", "MSS Value", FieldType.UINT16)
OPTION_WSCALE = register("tcp.options.wscale", "TCP Option - Window scale", FieldType.NONE)
WSCALE_SHIFT = register("tcp.options.wscale.shift", "Shift count", FieldType.UINT8)
WSCALE_MULTIPLIER = register("tcp.options.wscale.multiplier", "Multiplier", FieldType.UINT16)
OPTION_SACK_PERM = register("tcp.options.sack_perm", "TCP Option - SACK permitted", FieldType.NONE)
OPTION_SACK = register("tcp.options.sack", "TCP Option - SACK", FieldType.NONE)
SACK_LE = register("tcp.options.sack_le", "TCP SACK Left Edge", FieldType.UINT32)
SACK_RE = register("tcp.options.sack_re", "TCP SACK Right Edge", FieldType.UINT32)
SACK_COUNT = register("tcp.options.sack.count", "TCP SACK Count", FieldType.UINT8)
DSACK_LE = register("tcp.options.sack.dsack_le", "TCP D-SACK Left Edge", FieldType.UINT32,
                    description="Duplicate SACK Left Edge")
DSACK_RE = register("tcp.options.sack.dsack_re", "TCP D-SACK Right Edge", FieldType.UINT32,
                    description="Duplicate SACK Right Edge")
DSACK = register("tcp.options.sack.dsack", "D-SACK Sequence", FieldType.NONE)
OPTION_TIMESTAMP = register("tcp.options.timestamp", "TCP Option - Timestamps", FieldType.NONE)
TSVAL = register("tcp.options.timestamp.tsval", "Timestamp value", FieldType.UINT32)
TSECR = register("tcp.options.timestamp.tsecr", "Timestamp echo reply", FieldType.UINT32)
PAYLOAD = register("tcp.payload", "TCP payload", FieldType.BYTES,
                   description="The TCP payload of this packet")


def flag_names(flags: int) -> str:
    """`SYN, ACK`: the set flags in Wireshark's order (low bit first), or `<None>`."""
    names = [name for _, bit, name in reversed(_FLAG_BITS) if name and flags & bit]
    return ", ".join(names) if names else "<None>"


def flag_letters(flags: int) -> str:
    """`·······AP···`: one letter per set bit of the 12 flag bits, a middle dot otherwise."""
    letters = "RRRACEUAPRSF"
    return "".join(letter if flags >> (11 - index) & 1 else "\u00b7"
                   for index, letter in enumerate(letters))


@handles(TCP)
def dissect_tcp(dissection: Dissection, layer: TCP, offset: int) -> int | None:
    """TCP header, generated seq/ack analysis from `FrameInfo.tcp`, options and the payload."""
    data = dissection.data
    available = min(dissection.payload_end, len(data)) - offset
    header_length = layer.dataofs * 4 if layer.dataofs is not None else 0
    if available < 20 or header_length < 20 or header_length > available:
        dissection.add_layer(TCP_PROTOCOL, "Transmission Control Protocol", offset, max(available, 0))
        raise MalformedError("TCP header cut short or bogus header length")
    source_port, destination_port = layer.sport, layer.dport
    flags = int(layer.flags)
    segment_length = dissection.payload_end - offset - header_length
    facts = dissection.frame.tcp
    seq_raw, ack_raw = layer.seq, layer.ack
    seq = _relative(seq_raw, facts.seq_base if facts else None)
    has_ack = bool(flags & 0x10)
    ack = _relative(ack_raw, facts.ack_base if facts else None) if has_ack else 0
    title = f"Transmission Control Protocol, Src Port: {source_port}, Dst Port: {destination_port}, " \
            f"Seq: {seq}" + (f", Ack: {ack}" if has_ack else "") + f", Len: {segment_length}"
    node = dissection.add_layer(TCP_PROTOCOL, title, offset, header_length)
    node.add(SRCPORT, source_port, offset, 2)
    node.add(DSTPORT, destination_port, offset + 2, 2)
    node.add(PORT, source_port, offset, 2, hidden=True)
    node.add(PORT, destination_port, offset + 2, 2, hidden=True)
    analysis = facts.analysis if facts else None
    if facts is not None:
        node.add_generated(STREAM, facts.stream)
    if analysis is not None:
        add_conversation_lines(node, analysis, _endpoint(dissection.network_source, source_port),
                               _endpoint(dissection.network_destination, destination_port))
    node.add_generated(LEN, segment_length)
    relative_note = "    (relative sequence number)" if facts else ""
    node.add(SEQ, seq, offset + 4, 4, label=f"Sequence Number: {seq}{relative_note}")
    node.add(SEQ_RAW, seq_raw, offset + 4, 4)
    next_seq = seq + segment_length + (1 if flags & 0x02 else 0) + (1 if flags & 0x01 else 0)
    node.add_generated(NXTSEQ, next_seq, label=f"Next Sequence Number: {next_seq}{relative_note}")
    ack_note = "    (relative ack number)" if facts and has_ack else ""
    node.add(ACK, ack, offset + 8, 4, label=f"Acknowledgment Number: {ack}{ack_note}")
    node.add(ACK_RAW, ack_raw, offset + 8, 4)
    node.add_bits(HDR_LEN, layer.dataofs, offset + 12, 1,
                  f"Header Length: {header_length} bytes ({layer.dataofs})")
    node.children[-1].value = header_length
    _add_flags(node, flags, offset + 12, (source_port, destination_port), analysis)
    window_value = layer.window
    node.add(WINDOW_VALUE, window_value, offset + 14, 2)
    scale = facts.window_scale if facts else -1
    if flags & 0x02:
        calculated_window = window_value
        node.add_generated(WINDOW_SIZE, calculated_window)
    else:
        calculated_window = window_value << scale if scale >= 0 else window_value
        node.add_generated(WINDOW_SIZE, calculated_window)
        scale_text = {-1: "-1 (unknown)", -2: "-2 (no window scaling used)"}.get(scale, str(1 << max(scale, 0)))
        node.add_generated(WINDOW_SCALEFACTOR, 1 << scale if scale >= 0 else scale,
                           label=f"Window size scaling factor: {scale_text}")
    node.add(CHECKSUM, layer.chksum, offset + 16, 2, label=f"Checksum: 0x{layer.chksum:04x} [unverified]")
    node.add_generated(CHECKSUM_STATUS, 2, label="Checksum Status: Unverified")
    node.add(URGENT_POINTER, layer.urgptr, offset + 18, 2)
    option_info = _add_options(node, data[offset + 20:offset + header_length], offset + 20,
                               facts, ack if has_ack else ack_raw)
    if analysis is not None:
        add_analysis_lines(node, analysis)
    dissection.transport = "tcp"
    dissection.source_port, dissection.destination_port = source_port, destination_port
    info = f"{source_port} \u2192 {destination_port} [{flag_names(flags)}] Seq={seq}"
    if has_ack:
        info += f" Ack={ack}"
    info += f" Win={calculated_window} Len={segment_length}{option_info}"
    dissection.set_columns("TCP", info)
    payload_start = offset + header_length
    if segment_length > 0:
        node.length = dissection.payload_end - offset
        payload = data[payload_start:dissection.payload_end]
        node.add(PAYLOAD, payload, payload_start, segment_length,
                 label=f"TCP payload ({segment_length} byte{'s' if segment_length != 1 else ''})")
    _dissect_payload(dissection, node, payload_start, analysis)
    if analysis is not None:
        dissection.info = info_prefix(analysis) + dissection.info
    return None


def _endpoint(address: str, port: int) -> str:
    """`10.0.0.1:80` or `[::1]:80`."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _dissect_payload(dissection: Dissection, node: TreeNode, payload_start: int,
                     analysis: TcpSegmentAnalysis | None) -> None:
    """Hand the payload on as Wireshark does: a keep-alive's byte is Data, and with reassembly off a
    retransmitted or out-of-order segment goes to no dissector (`tcp.no_subdissector_on_error`)."""
    flags = analysis.flags if analysis is not None else TcpAnalysisFlag(0)
    if flags & TcpAnalysisFlag.KEEP_ALIVE:
        if payload_start < dissection.payload_end:
            add_data(dissection, payload_start, dissection.payload_end)
    elif not (flags & (TcpAnalysisFlag.RETRANSMISSION | TcpAnalysisFlag.OUT_OF_ORDER)
              and dissection.frame.tcp_payload is None):
        dissect_segment_payload(dissection, node, payload_start)


def _relative(raw: int, base: int | None) -> int:
    """A sequence number relative to its direction's base, or the raw number when none is known."""
    return (raw - base) & 0xFFFFFFFF if base is not None else raw


def _add_flags(node: TreeNode, flags: int, offset: int, ports: tuple[int, int],
               analysis: TcpSegmentAnalysis | None) -> None:
    """The `Flags: 0x018 (PSH, ACK)` subtree with one line per bit, the notes on SYN, RST and FIN,
    and the letters summary."""
    flags_node = node.add(FLAGS, flags, offset, 2,
                          label=f"Flags: 0x{flags:03x} ({flag_names(flags)})")
    for definition, bit, _ in _FLAG_BITS:
        is_set = bool(flags & bit)
        value = (flags & bit) // (bit & -bit) if bit == 0xE00 else is_set
        flags_node.add_bits(definition, value, offset, 2,
                            f"{definition.label}: {'Set' if is_set else 'Not set'}", width_bits=12)
        flags_node.children[-1].value = is_set
        if is_set:
            add_flag_notes(flags_node.children[-1], flags, bit, *ports)
    letters_node = flags_node.add_generated(FLAGS_STR, flag_letters(flags), label=f"TCP Flags: {flag_letters(flags)}")
    if flags & 0x01 and analysis is not None:
        add_closing_note(letters_node, analysis)


def _add_options(node: TreeNode, options: bytes, offset: int, facts: TcpFacts | None, shown_ack: int) -> str:
    """Each TCP option as Wireshark draws it; returns the option text the Info column appends."""
    if not options:
        return ""
    options_node = node.add(OPTIONS, options, offset, len(options))
    names: list[str] = []
    info_parts: list[str] = []
    position = 0
    while position < len(options):
        kind = options[position]
        start = offset + position
        if kind in (0, 1):
            name = f"{_OPTION_KINDS[kind]} ({'EOL' if kind == 0 else 'NOP'})"
            option_node = options_node.add(OPTION_EOL if kind == 0 else OPTION_NOP,
                                           options[position:position + 1], start, 1,
                                           label=f"TCP Option - {name}")
            option_node.add(OPTION_KIND, kind, start, 1)
            names.append(name)
            position += 1
            if kind == 0:
                break
            continue
        if position + 1 >= len(options) or options[position + 1] < 2 \
                or position + options[position + 1] > len(options):
            options_node.add_text(f"TCP Option - {_OPTION_KINDS.get(kind, f'Unknown ({kind})')}: "
                                  "bogus length", start, len(options) - position)
            break
        length = options[position + 1]
        body = options[position + 2:position + length]
        name, info = _add_option(options_node, kind, length, body, start, facts, shown_ack)
        names.append(name)
        if info:
            info_parts.append(info)
        position += length
    options_node.label = f"Options: ({len(options)} bytes), " + ", ".join(names)
    return "".join(" " + part for part in info_parts)


def _add_option(parent: TreeNode, kind: int, length: int, body: bytes, start: int,
                facts: TcpFacts | None, shown_ack: int) -> tuple[str, str]:
    """One option with kind/length children; returns its name for the Options line and Info text."""
    if kind == 2 and length == 4:
        mss, = struct.unpack(">H", body)
        node = parent.add(OPTION_MSS, None, start, length,
                          label=f"TCP Option - Maximum segment size: {mss} bytes")
        _kind_and_length(node, kind, length, start)
        node.add(MSS_VAL, mss, start + 2, 2)
        return "Maximum segment size", f"MSS={mss}"
    if kind == 3 and length == 3:
        shift = body[0]
        node = parent.add(OPTION_WSCALE, None, start, length,
                          label=f"TCP Option - Window scale: {shift} (multiply by {1 << shift})")
        _kind_and_length(node, kind, length, start)
        node.add(WSCALE_SHIFT, shift, start + 2, 1)
        node.add_generated(WSCALE_MULTIPLIER, 1 << shift)
        return "Window scale", f"WS={1 << shift}"
    if kind == 4 and length == 2:
        node = parent.add(OPTION_SACK_PERM, None, start, length, label="TCP Option - SACK permitted")
        _kind_and_length(node, kind, length, start)
        return "SACK permitted", "SACK_PERM"
    if kind == 8 and length == 10:
        tsval, tsecr = struct.unpack(">II", body)
        node = parent.add(OPTION_TIMESTAMP, None, start, length,
                          label=f"TCP Option - Timestamps: TSval {tsval}, TSecr {tsecr}")
        _kind_and_length(node, kind, length, start)
        node.add(TSVAL, tsval, start + 2, 4)
        node.add(TSECR, tsecr, start + 6, 4)
        return "Timestamps", f"TSval={tsval} TSecr={tsecr}"
    if kind == 5 and (length - 2) % 8 == 0:
        base = facts.ack_base if facts else None
        edges = [struct.unpack_from(">II", body, index * 8) for index in range((length - 2) // 8)]
        relative_edges = [(_relative(left, base), _relative(right, base)) for left, right in edges]
        text = " ".join(f"{left}-{right}" for left, right in relative_edges)
        node = parent.add(OPTION_SACK, None, start, length, label=f"TCP Option - SACK {text}")
        _kind_and_length(node, kind, length, start)
        for index, (left, right) in enumerate(relative_edges):
            edge_offset = start + 2 + index * 8
            node.add(SACK_LE, left, edge_offset, 4, label=f"left edge = {left} (relative)")
            node.add(SACK_RE, right, edge_offset + 4, 4, label=f"right edge = {right} (relative)")
        node.add_generated(SACK_COUNT, len(edges))
        if relative_edges and _is_duplicate_sack(relative_edges, shown_ack):
            _add_duplicate_sack(node, relative_edges[0], start + 2)
        return "SACK", " ".join(f"SLE={left} SRE={right}" for left, right in relative_edges)
    name = _OPTION_KINDS.get(kind, f"Unknown ({kind})")
    node = parent.add_text(f"TCP Option - {name}", start, length)
    _kind_and_length(node, kind, length, start)
    return name, ""


def _kind_and_length(node: TreeNode, kind: int, length: int, start: int) -> None:
    """The `Kind:` and `Length:` children every option with a length byte has."""
    node.add(OPTION_KIND, kind, start, 1)
    node.add(OPTION_LEN, length, start + 1, 1)


def _is_duplicate_sack(edges: list[tuple[int, int]], ack: int) -> bool:
    """RFC 2883's D-SACK test as Wireshark makes it: the first block is at or below the ACK, or
    lies inside the second block."""
    first_right = edges[0][1]
    if _signed(first_right - ack) <= 0:
        return True
    return len(edges) > 1 and _signed(edges[1][0] - first_right) < 0 and _signed(first_right - edges[1][1]) <= 0


def _signed(difference: int) -> int:
    """A 32-bit sequence-number difference as a signed number."""
    difference &= 0xFFFFFFFF
    return difference - 0x1_0000_0000 if difference & 0x80000000 else difference


def _add_duplicate_sack(node: TreeNode, edges: tuple[int, int], start: int) -> None:
    """The generated D-SACK edges and the `D-SACK Sequence` warning under a SACK option."""
    left, right = edges
    node.add(DSACK_LE, left, start, 4, label=f"D-SACK Left Edge = {left} (relative)", generated=True)
    node.add(DSACK_RE, right, start + 4, 4, label=f"D-SACK Right Edge = {right} (relative)", generated=True)
    duplicate = node.add_text(DSACK.label, start, 8)
    add_expert(duplicate, DSACK, DSACK.label, "Warning")
