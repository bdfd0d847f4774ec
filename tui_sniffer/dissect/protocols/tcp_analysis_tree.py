"""The generated TCP lines that come from other segments: completeness, connection state,
[Timestamps], [SEQ/ACK analysis] with its expert flags, and the Info prefixes like `[TCP Dup ACK 7#1]`.

Labels, layout and the order of the Info prefixes follow Wireshark's packet-tcp.c; the connection
state is tui-sniffer's own addition (Wireshark has no such field) and says so in its label.
"""
from __future__ import annotations

from tui_sniffer.dissect.fields import FieldDef, FieldType, register
from tui_sniffer.dissect.frame import TcpAnalysisFlag as Flag, TcpSegmentAnalysis
from tui_sniffer.dissect.tree import TreeNode, bit_pattern

COMPLETENESS = register("tcp.completeness", "Conversation completeness", FieldType.UINT8,
                        description="The completeness of the conversation capture")
_COMPLETENESS_BITS = [
    (register("tcp.completeness.rst", "RST", FieldType.BOOLEAN, bitmask=0x20), 0x20, "R"),
    (register("tcp.completeness.fin", "FIN", FieldType.BOOLEAN, bitmask=0x10), 0x10, "F"),
    (register("tcp.completeness.data", "Data", FieldType.BOOLEAN, bitmask=0x08), 0x08, "D"),
    (register("tcp.completeness.ack", "ACK", FieldType.BOOLEAN, bitmask=0x04), 0x04, "A"),
    (register("tcp.completeness.syn-ack", "SYN-ACK", FieldType.BOOLEAN, bitmask=0x02), 0x02, "S"),
    (register("tcp.completeness.syn", "SYN", FieldType.BOOLEAN, bitmask=0x01), 0x01, "S"),
]
COMPLETENESS_FLAGS = register("tcp.completeness.str", "Completeness Flags", FieldType.STRING)
STATE = register("tcp.tui_state", "Connection state after this segment (tui-sniffer)", FieldType.NONE,
                 description="tui-sniffer's own field, not Wireshark's: each side's RFC 793 TCP state "
                             "once this segment is delivered")
CLIENT_STATE = register("tcp.tui_state.client", "Client state", FieldType.STRING,
                        description="tui-sniffer's own field: the connecting side's TCP state "
                                    "(SYN_SENT, ESTABLISHED, FIN_WAIT1…) after this segment")
SERVER_STATE = register("tcp.tui_state.server", "Server state", FieldType.STRING,
                        description="tui-sniffer's own field: the listening side's TCP state "
                                    "(SYN_RECV, ESTABLISHED, CLOSE_WAIT…) after this segment")
TIME_RELATIVE = register("tcp.time_relative", "Time since first frame in this TCP stream",
                         FieldType.RELATIVE_TIME, description="Time relative to first frame in this TCP stream")
TIME_DELTA = register("tcp.time_delta", "Time since previous frame in this TCP stream", FieldType.RELATIVE_TIME,
                      description="Time delta from previous frame in this TCP stream")
ANALYSIS = register("tcp.analysis", "SEQ/ACK analysis", FieldType.NONE,
                    description="This frame has some of the TCP analysis shown")
ACKS_FRAME = register("tcp.analysis.acks_frame", "This is an ACK to the segment in frame", FieldType.FRAMENUM,
                      description="Which previous segment is this an ACK for")
ACK_RTT = register("tcp.analysis.ack_rtt", "The RTT to ACK the segment was", FieldType.RELATIVE_TIME,
                   description="How long time it took to ACK the segment (RTT)")
INITIAL_RTT = register("tcp.analysis.initial_rtt", "iRTT", FieldType.RELATIVE_TIME,
                       description="How long it took for the SYN to ACK handshake (iRTT)")
BYTES_IN_FLIGHT = register("tcp.analysis.bytes_in_flight", "Bytes in flight", FieldType.UINT32,
                           description="How many bytes are now in flight for this connection")
PUSH_BYTES_SENT = register("tcp.analysis.push_bytes_sent", "Bytes sent since last PSH flag", FieldType.UINT32,
                           description="How many bytes have been sent since the last PSH flag")
ANALYSIS_FLAGS = register("tcp.analysis.flags", "TCP Analysis Flags", FieldType.NONE,
                          description="This frame has some of the TCP analysis flags set")
RTO = register("tcp.analysis.rto", "The RTO for this segment was", FieldType.RELATIVE_TIME,
               description="How long transmission was delayed before this segment was retransmitted (RTO)")
RTO_FRAME = register("tcp.analysis.rto_frame", "RTO based on delta from frame", FieldType.FRAMENUM,
                     description="This is the frame we measure the RTO from")
DUPLICATE_ACK = register("tcp.analysis.duplicate_ack", "Duplicate ACK", FieldType.NONE,
                         description="This is a duplicate ACK")
DUPLICATE_ACK_NUMBER = register("tcp.analysis.duplicate_ack_num", "Duplicate ACK #", FieldType.UINT32,
                                description="This is duplicate ACK number #")
DUPLICATE_ACK_FRAME = register("tcp.analysis.duplicate_ack_frame", "Duplicate to the ACK in frame",
                               FieldType.FRAMENUM, description="This is a duplicate to the ACK in frame #")


def _expert(name: str, message: str, severity: str) -> tuple[FieldDef, str, str]:
    """An expert note of the Sequence group: its field, message and severity."""
    return register(name, message, FieldType.NONE), message, severity


_RETRANSMISSION = _expert("tcp.analysis.retransmission", "This frame is a (suspected) retransmission", "Note")
_FAST = _expert("tcp.analysis.fast_retransmission", "This frame is a (suspected) fast retransmission", "Note")
_SPURIOUS = _expert("tcp.analysis.spurious_retransmission", "This frame is a (suspected) spurious retransmission",
                    "Note")
_OUT_OF_ORDER = _expert("tcp.analysis.out_of_order", "This frame is a (suspected) out-of-order segment", "Warning")
_REUSED = _expert("tcp.analysis.reused_ports",
                  "A new tcp session is started with the same ports as an earlier session in this trace", "Note")
_LOST = _expert("tcp.analysis.lost_segment", "Previous segment(s) not captured (common at capture start)", "Warning")
_ACK_LOST = _expert("tcp.analysis.ack_lost_segment", "ACKed segment that wasn't captured (common at capture start)",
                    "Warning")
_WINDOW_UPDATE = _expert("tcp.analysis.window_update", "TCP window update", "Chat")
_WINDOW_FULL = _expert("tcp.analysis.window_full", "TCP window specified by the receiver is now completely full",
                       "Warning")
_KEEP_ALIVE = _expert("tcp.analysis.keep_alive", "TCP keep-alive segment", "Note")
_KEEP_ALIVE_ACK = _expert("tcp.analysis.keep_alive_ack", "ACK to a TCP keep-alive segment", "Note")
_ZW_PROBE = _expert("tcp.analysis.zero_window_probe", "TCP Zero Window Probe", "Note")
_ZERO_WINDOW = _expert("tcp.analysis.zero_window", "TCP Zero Window segment", "Warning")
_ZW_PROBE_ACK = _expert("tcp.analysis.zero_window_probe_ack", "ACK to a TCP Zero Window Probe", "Note")
CONNECTION_SYN = register("tcp.connection.syn", "Connection establish request (SYN)", FieldType.NONE)
CONNECTION_SYNACK = register("tcp.connection.synack", "Connection establish acknowledge (SYN+ACK)", FieldType.NONE)
CONNECTION_FIN = register("tcp.connection.fin", "Connection finish (FIN)", FieldType.NONE)
CONNECTION_RST = register("tcp.connection.rst", "Connection reset (RST)", FieldType.NONE)
FIN_ACTIVE = _expert("tcp.connection.fin_active", "This frame initiates the connection closing", "Note")
FIN_PASSIVE = _expert("tcp.connection.fin_passive", "This frame undergoes the connection closing", "Note")

_FLAG_NOTES: list[tuple[Flag, list[tuple[FieldDef, str, str]], str]] = [
    (Flag.REUSED_PORTS, [_REUSED], "TCP Port numbers reused"),
    (Flag.RETRANSMISSION, [_RETRANSMISSION], "TCP Retransmission"),
    (Flag.FAST_RETRANSMISSION, [_FAST, _RETRANSMISSION], "TCP Fast Retransmission"),
    (Flag.SPURIOUS_RETRANSMISSION, [_SPURIOUS, _RETRANSMISSION], "TCP Spurious Retransmission"),
    (Flag.OUT_OF_ORDER, [_OUT_OF_ORDER], "TCP Out-Of-Order"),
    (Flag.LOST_SEGMENT, [_LOST], "TCP Previous segment not captured"),
    (Flag.ACK_LOST_SEGMENT, [_ACK_LOST], "TCP ACKed unseen segment"),
    (Flag.WINDOW_UPDATE, [_WINDOW_UPDATE], "TCP Window Update"),
    (Flag.WINDOW_FULL, [_WINDOW_FULL], "TCP Window Full"),
    (Flag.KEEP_ALIVE, [_KEEP_ALIVE], "TCP Keep-Alive"),
    (Flag.KEEP_ALIVE_ACK, [_KEEP_ALIVE_ACK], "TCP Keep-Alive ACK"),
    (Flag.DUPLICATE_ACK, [], ""),
    (Flag.ZERO_WINDOW_PROBE, [_ZW_PROBE], "TCP ZeroWindowProbe"),
    (Flag.ZERO_WINDOW, [_ZERO_WINDOW], "TCP ZeroWindow"),
    (Flag.ZERO_WINDOW_PROBE_ACK, [_ZW_PROBE_ACK], "TCP ZeroWindowProbeAck"),
]
"""Each flag's expert notes and Info text, in the order packet-tcp.c prints them."""
_COMPLETENESS_NAMES = {1: "Incomplete, SYN_SENT", 3: "Incomplete, CLIENT_ESTABLISHED", 7: "Incomplete, ESTABLISHED",
                       15: "Incomplete, DATA", 31: "Complete, WITH_DATA", 47: "Complete, WITH_DATA",
                       63: "Complete, WITH_DATA", 23: "Complete, NO_DATA", 39: "Complete, NO_DATA",
                       55: "Complete, NO_DATA"}


def add_expert(parent: TreeNode, definition: FieldDef, message: str, severity: str,
               group: str = "Sequence") -> TreeNode:
    """Wireshark's `[Expert Info (Note/Sequence): …]` node: the note's own field, severity and group."""
    expert = parent.add_text(f"Expert Info ({severity}/{group}): {message}", generated=True)
    expert.add_generated(definition, None, label=message)
    expert.add_text(f"Severity level: {severity}", generated=True)
    expert.add_text(f"Group: {group}", generated=True)
    return expert


def add_conversation_lines(node: TreeNode, analysis: TcpSegmentAnalysis, sender: str, receiver: str) -> None:
    """`[Conversation completeness: …]` with its bits, and tui-sniffer's connection state of both sides."""
    value = analysis.completeness
    shown = _COMPLETENESS_NAMES.get(value, "Incomplete")
    completeness = node.add_generated(COMPLETENESS, value, label=f"Conversation completeness: {shown} ({value})")
    for definition, bit, _ in _COMPLETENESS_BITS:
        present = bool(value & bit)
        completeness.add(definition, present, 0, 0, label=f"{bit_pattern(value & bit, bit, 8)} = "
                         f"{definition.label}: {'Present' if present else 'Absent'}")
    letters = "".join(letter if value & bit else "\u00b7" for _, bit, letter in _COMPLETENESS_BITS)
    completeness.add_generated(COMPLETENESS_FLAGS, letters, label=f"Completeness Flags: {letters}")
    client, server = (sender, receiver) if analysis.sender_is_client else (receiver, sender)
    state = node.add_generated(STATE, None, label=f"{STATE.label}: client {client} {analysis.client_state}, "
                               f"server {server} {analysis.server_state}")
    state.add_generated(CLIENT_STATE, analysis.client_state)
    state.add_generated(SERVER_STATE, analysis.server_state)


def add_analysis_lines(node: TreeNode, analysis: TcpSegmentAnalysis) -> None:
    """The `[Timestamps]` subtree and, when Wireshark has anything to say, `[SEQ/ACK analysis]`."""
    timestamps = node.add_text("Timestamps", generated=True)
    timestamps.add_generated(TIME_RELATIVE, analysis.time_relative)
    timestamps.add_generated(TIME_DELTA, analysis.time_delta)
    if not analysis.has_analysis:
        return
    tree = node.add_generated(ANALYSIS, None, label="SEQ/ACK analysis")
    if analysis.acks_frame:
        tree.add_generated(ACKS_FRAME, analysis.acks_frame)
        if analysis.ack_rtt:
            tree.add_generated(ACK_RTT, analysis.ack_rtt)
    if analysis.initial_rtt:
        tree.add_generated(INITIAL_RTT, analysis.initial_rtt)
    if analysis.bytes_in_flight:
        tree.add_generated(BYTES_IN_FLIGHT, analysis.bytes_in_flight)
        tree.add_generated(PUSH_BYTES_SENT, analysis.push_bytes_sent)
    if not analysis.flags:
        return
    flags = tree.add_generated(ANALYSIS_FLAGS, None, label="TCP Analysis Flags")
    for flag, notes, _ in _FLAG_NOTES:
        if not analysis.flags & flag:
            continue
        for definition, message, severity in notes:
            add_expert(flags, definition, message, severity)
        if flag is Flag.RETRANSMISSION and analysis.rto:
            flags.add_generated(RTO, analysis.rto)
            flags.add_generated(RTO_FRAME, analysis.rto_frame)
        if flag is Flag.DUPLICATE_ACK and analysis.duplicate_ack_number:
            flags.add_generated(DUPLICATE_ACK, None, label="This is a TCP duplicate ack")
            tree.add_generated(DUPLICATE_ACK_NUMBER, analysis.duplicate_ack_number)
            frame = tree.add_generated(DUPLICATE_ACK_FRAME, analysis.duplicate_ack_frame)
            add_expert(frame, DUPLICATE_ACK, f"Duplicate ACK (#{analysis.duplicate_ack_number})", "Note")


def info_prefix(analysis: TcpSegmentAnalysis) -> str:
    """`[TCP Window Full] [TCP Retransmission] `: each flag's Info text, the last printed first."""
    texts = []
    for flag, _, text in _FLAG_NOTES:
        if analysis.flags & flag:
            if flag is Flag.DUPLICATE_ACK:
                if analysis.duplicate_ack_number:
                    texts.append(f"TCP Dup ACK {analysis.duplicate_ack_frame}#{analysis.duplicate_ack_number}")
            else:
                texts.append(text)
    return "".join(f"[{text}] " for text in reversed(texts))


def add_flag_notes(bit_node: TreeNode, flags: int, bit: int, source_port: int, destination_port: int) -> None:
    """The chat/warning notes Wireshark hangs on the SYN, RST and FIN flag bits."""
    if bit == 0x02:
        if flags & 0x10:
            message = f"Connection establish acknowledge (SYN+ACK): server port {source_port}"
            add_expert(bit_node, CONNECTION_SYNACK, message, "Chat")
        else:
            add_expert(bit_node, CONNECTION_SYN, f"Connection establish request (SYN): server port "
                       f"{destination_port}", "Chat")
    elif bit == 0x04:
        add_expert(bit_node, CONNECTION_RST, CONNECTION_RST.label, "Warning")
    elif bit == 0x01:
        add_expert(bit_node, CONNECTION_FIN, CONNECTION_FIN.label, "Chat")


def add_closing_note(flags_string_node: TreeNode, analysis: TcpSegmentAnalysis) -> None:
    """Whether a FIN starts the close or answers the other side's FIN (on the `[TCP Flags: …]` line)."""
    definition, message, severity = FIN_ACTIVE if analysis.fin_initiates_close else FIN_PASSIVE
    add_expert(flags_string_node, definition, message, severity)
