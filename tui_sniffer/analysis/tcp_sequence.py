"""Wireshark's TCP sequence analysis of one conversation, segment by segment, in capture order.

This follows packet-tcp.c (tcp_analyze_sequence_number and the conversation bookkeeping around it
in dissect_tcp) check for check, so the expert flags, the acknowledged frame, the RTTs, bytes in
flight and the completeness agree with Wireshark's. The state of a conversation is kept between
calls, so a capture that grows (a live capture) is analysed on from where it stopped.
"""
from __future__ import annotations

from typing import Callable

from tui_sniffer.analysis.tcp_state import SideState, deliver
from tui_sniffer.dissect.frame import TcpAnalysisFlag as Flag

_FIN, _SYN, _RST, _PSH, _ACK = 0x01, 0x02, 0x04, 0x08, 0x10
_SYN_FIN_RST = _SYN | _FIN | _RST
_MASK, _HALF = 0xFFFFFFFF, 0x80000000
_MAX_UNACKED_SEGMENTS = 1000
_FAST_RETRANSMISSION_WINDOW_NS = 20_000_000
_DEFAULT_OUT_OF_ORDER_NS = 3_000_000
_WINDOW_SCALE, _SACK_PERMITTED, _SACK, _TIMESTAMPS = 3, 4, 5, 8
_SACK_MINIMUM = 10
"""The option bytes of the smallest SACK option (one block)."""
_TIMESTAMPS_BYTES = 10

_RETRANSMISSION, _LOST, _ACK_LOST, _KEEP_ALIVE, _DUP_ACK, _ZERO_WINDOW, _ZW_PROBE, _ZW_PROBE_ACK, \
    _KEEP_ALIVE_ACK, _OUT_OF_ORDER, _FAST_RETRANSMISSION, _WINDOW_UPDATE, _WINDOW_FULL, _REUSED_PORTS, \
    _SPURIOUS = (int(flag) for flag in (
        Flag.RETRANSMISSION, Flag.LOST_SEGMENT, Flag.ACK_LOST_SEGMENT, Flag.KEEP_ALIVE, Flag.DUPLICATE_ACK,
        Flag.ZERO_WINDOW, Flag.ZERO_WINDOW_PROBE, Flag.ZERO_WINDOW_PROBE_ACK, Flag.KEEP_ALIVE_ACK,
        Flag.OUT_OF_ORDER, Flag.FAST_RETRANSMISSION, Flag.WINDOW_UPDATE, Flag.WINDOW_FULL,
        Flag.REUSED_PORTS, Flag.SPURIOUS_RETRANSMISSION))

HAS_ANALYSIS = 0x1_0000
"""Result bit: Wireshark keeps analysis for this frame, so it draws `[SEQ/ACK analysis]`."""
FIN_ACTIVE = 0x2_0000
"""Result bit: this FIN is the first of the conversation (Wireshark's `fin_active` expert note)."""

COMPLETENESS_SYN, COMPLETENESS_SYN_ACK, COMPLETENESS_ACK, COMPLETENESS_DATA, COMPLETENESS_FIN, \
    COMPLETENESS_RST = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20

OptionReader = Callable[[int], bytes]
"""Returns the TCP option bytes of the packet in an index row (for SACK blocks and window scale)."""


def _completeness_bits(flags: int, length: int) -> int:
    """The completeness bits one segment after the first adds: SYN-ACK, ACK or data, FIN-ACK, RST."""
    handshake = flags & (_SYN | _ACK)
    bits = COMPLETENESS_SYN_ACK if handshake == _SYN | _ACK else 0
    if handshake == _ACK:
        bits |= COMPLETENESS_DATA if length else COMPLETENESS_ACK
    if flags & (_FIN | _ACK) == _FIN | _ACK:
        bits |= COMPLETENESS_FIN
    if flags & _RST:
        bits |= COMPLETENESS_RST
    return bits


def _signed(value: int) -> int:
    """A 32-bit difference as the signed number C's `(gint32)` cast makes of it."""
    value &= _MASK
    return value - 0x1_0000_0000 if value & _HALF else value


class _Flow:
    """One direction of a conversation: Wireshark's tcp_flow_t with its sequence-analysis info."""

    __slots__ = ("base_seq", "base_set", "win_scale", "window", "is_first_ack", "valid_bif", "push_bytes_sent",
                 "push_set_last", "segments", "segments_sorted", "nextseq", "nextseq_frame", "nextseq_time",
                 "maxseqtobeacked", "lastack", "lastack_time", "lastnondupack", "dupacknum",
                 "last_segment_flags", "closing_initiator", "last_row", "last_option_bytes", "syn_options", "side")

    def __init__(self) -> None:
        self.base_seq = self.nextseq = self.nextseq_frame = self.nextseq_time = 0
        self.maxseqtobeacked = self.lastack = self.lastack_time = self.lastnondupack = self.dupacknum = 0
        self.push_bytes_sent = self.last_segment_flags = 0
        self.base_set = self.is_first_ack = self.push_set_last = self.closing_initiator = False
        self.valid_bif = True
        self.win_scale = -1
        self.window = _MASK
        self.segments: list[list[int]] = []
        """Sent but not yet acknowledged: [seq, nextseq, frame, time ns], oldest first."""
        self.segments_sorted = True
        """Whether `segments` ascend in both seq and nextseq, so an ACK can stop at the first kept one."""
        self.last_row = -1
        self.last_option_bytes = 0
        self.syn_options = -1
        """A bit per option kind this direction's SYN carried (1 << 4: SACK permitted…); -1 before a SYN."""
        self.side = SideState()


class ConversationFacts:
    """What a finished conversation's segments still need from it once its analysis state is dropped."""

    __slots__ = ("first_time", "first_rtt", "completeness", "first_segment_bits", "first_row", "client_direction")

    def __init__(self, conversation: TcpConversation) -> None:
        self.first_time, self.first_rtt = conversation.first_time, conversation.first_rtt
        self.completeness, self.first_segment_bits = conversation.completeness, conversation.first_segment_bits
        self.first_row, self.client_direction = conversation.first_row, conversation.client_direction

    def shown_completeness(self, first: bool) -> int:
        """The completeness tshark -2 (and the GUI) shows on a segment: the first pass's result, plus,
        after the first segment, what a first segment other than a SYN added on the second pass."""
        return self.completeness | (0 if first else self.first_segment_bits)


class TcpConversation(ConversationFacts):
    """One TCP conversation (one `tcp.stream`) being analysed segment by segment in capture order."""

    __slots__ = ("flows", "previous_time", "packets", "syn_time", "states", "_states_pending", "_read_options", "_sack_cache", "_sack_threshold")

    def __init__(self, read_options: OptionReader, time: int, *, reused: bool = False) -> None:
        self.flows = (_Flow(), _Flow())
        self.first_time = self.previous_time = time
        self.syn_time = self.first_rtt = 0
        self.completeness = COMPLETENESS_SYN if reused else 0
        self.first_segment_bits = 0
        self.first_row = -1
        self.packets = 1 if reused else 0
        """Packets seen; a conversation started by a reused port counts its SYN as already seen."""
        self.client_direction = -1
        self.states = 0
        """The client's state number in the low nibble, the server's in the high one."""
        self._states_pending = True
        self._read_options = read_options
        self._sack_cache: tuple[int, int] = (-1, 0)
        self._sack_threshold: int | None = None

    def analyse(self, row: int, time: int, direction: int, flags: int, seq: int, ack: int, length: int,
                window: int, option_bytes: int, reused: bool = False) -> tuple:
        """Analyse the next segment; returns (flag bits, acked frame, RTT, bytes in flight, bytes since
        PSH, time since the previous segment, states, and None or the rarer (dup-ACK number, its frame,
        RTO, RTO frame))."""
        frame = row + 1
        fwd, rev = self.flows[direction], self.flows[1 - direction]
        found = _REUSED_PORTS | HAS_ANALYSIS if reused else 0
        if flags & (_SYN | _ACK) == _SYN | _ACK and fwd.base_set and seq != fwd.base_seq:
            fwd.base_seq = seq
            found |= _REUSED_PORTS | HAS_ANALYSIS
        if self.first_row < 0:
            self.first_row = row
        self._complete(direction, flags, ack, length)
        self.packets += 1
        time_delta, self.previous_time = time - self.previous_time, time

        found, duplicate = self._check_flags(fwd, rev, frame, time, flags, seq, ack, length, window, found)
        found, rto, rto_frame = self._check_retransmission(fwd, rev, time, flags, seq, length, found)
        self._remember_sent(fwd, frame, time, flags, seq, ack, length, window, found)
        found, acked_frame, rtt = self._acknowledge(rev, frame, time, ack, found)
        found, in_flight, push_bytes = self._bytes_in_flight(fwd, rev, flags, length, found)
        self._after_analysis(fwd, rev, row, time, flags, seq, ack, length, option_bytes)
        if flags & _FIN:
            if not rev.closing_initiator:
                fwd.closing_initiator = True
                found |= FIN_ACTIVE
        if flags & _SYN_FIN_RST or self._states_pending:
            self._follow_states(direction, flags, seq, ack, length)
        rare = (duplicate[0], duplicate[1], rto, rto_frame) if duplicate[0] or rto_frame else None
        return found, acked_frame, rtt, in_flight, push_bytes, time_delta, self.states, rare

    def _follow_states(self, direction: int, flags: int, seq: int, ack: int, length: int) -> None:
        """Deliver the segment to both sides' state machines; they change again only on a SYN, FIN or
        RST, or on the ACK a sent SYN or FIN still waits for."""
        fwd, rev = self.flows[direction].side, self.flows[1 - direction].side
        deliver(fwd, rev, flags, seq, ack, length)
        client, server = (fwd, rev) if direction == self.client_direction else (rev, fwd)
        self.states = client.state() | server.state() << 4
        self._states_pending = client.awaits_ack() or server.awaits_ack()

    def _complete(self, direction: int, flags: int, ack: int, length: int) -> None:
        """Move the conversation completeness on, as Wireshark's first pass does: a SYN that opens the
        conversation, then every SYN-ACK, ACK (with or without data), FIN-ACK and RST after it."""
        handshake = flags & (_SYN | _ACK)
        if self.client_direction < 0:
            self.client_direction = 1 - direction if handshake == _SYN | _ACK else direction
        if self.packets == 0:
            if handshake == _SYN:
                self.completeness = COMPLETENESS_SYN | (COMPLETENESS_DATA if length else 0)
            else:
                self.first_segment_bits = _completeness_bits(flags, length)
                self._assume_open(direction, handshake, ack)
            return
        self.completeness |= _completeness_bits(flags, length)

    def _assume_open(self, direction: int, handshake: int, ack: int) -> None:
        """A capture that starts after the SYN: the handshake (or its first half) already happened."""
        if handshake == _SYN | _ACK:
            client = self.flows[1 - direction].side
            client.syn_sent, client.syn_end = True, ack
        else:
            self.flows[direction].side.assume_established()
            self.flows[1 - direction].side.assume_established()

    def _check_flags(self, fwd: _Flow, rev: _Flow, frame: int, time: int, flags: int, seq: int, ack: int,
                     length: int, window: int, found: int) -> tuple[int, tuple[int, int]]:
        """The base numbers and the checks up to duplicate ACKs, in packet-tcp.c's order."""
        if not fwd.base_set:
            fwd.base_seq = seq if flags & _SYN else (seq - 1) & _MASK
            fwd.base_set = True
        if not rev.base_set and flags & _ACK:
            rev.base_seq = (ack - 1) & _MASK
            rev.base_set = True
        if flags & _ACK:
            rev.valid_bif = True
        duplicate = (0, 0)
        plain = not flags & _SYN_FIN_RST
        if length == 1 and seq == fwd.nextseq and rev.window == 0:
            found |= _ZW_PROBE | HAS_ANALYSIS
        else:
            if window == 0 and plain:
                found |= _ZERO_WINDOW | HAS_ANALYSIS
            if fwd.nextseq and _signed(fwd.nextseq - seq) < 0 and not flags & _RST:
                found |= _LOST | HAS_ANALYSIS
                fwd.valid_bif = False
            if length <= 1 and seq == (fwd.nextseq - 1) & _MASK and plain:
                found |= _KEEP_ALIVE | HAS_ANALYSIS
            repeats = length == 0 and seq == fwd.nextseq and ack == fwd.lastack and plain
            if repeats and window and window != fwd.window:
                found |= _WINDOW_UPDATE | HAS_ANALYSIS
            if length and plain and rev.win_scale != -1:
                shift = 0 if rev.is_first_ack or rev.win_scale == -2 else rev.win_scale
                if (seq + length) & _MASK == (rev.lastack + (rev.window << shift)) & _MASK:
                    found |= _WINDOW_FULL | HAS_ANALYSIS
            if repeats and window and window == fwd.window and rev.last_segment_flags & _KEEP_ALIVE:
                found |= _KEEP_ALIVE_ACK | HAS_ANALYSIS
            elif repeats and window == 0 and fwd.window == 0 and rev.last_segment_flags & _ZW_PROBE:
                found |= _ZW_PROBE_ACK | HAS_ANALYSIS
            elif repeats and window and window == fwd.window:
                fwd.dupacknum += 1
                found |= _DUP_ACK | HAS_ANALYSIS
                duplicate = (fwd.dupacknum, fwd.lastnondupack)
        if ack != fwd.lastack:
            fwd.lastnondupack = frame
            fwd.dupacknum = 0
        if rev.maxseqtobeacked and _signed(rev.maxseqtobeacked - ack) < 0 and flags & _ACK:
            found |= _ACK_LOST | HAS_ANALYSIS
            rev.maxseqtobeacked = rev.nextseq
        return found, duplicate

    def _check_retransmission(self, fwd: _Flow, rev: _Flow, time: int, flags: int, seq: int, length: int,
                              found: int) -> tuple[int, int, int]:
        """Retransmission, fast or spurious retransmission, or out of order, for data, SYN and FIN."""
        if not (length or flags & (_SYN | _FIN)) or found & _KEEP_ALIVE:
            return found, 0, 0
        not_advanced = bool(fwd.nextseq) and _signed(seq - fwd.nextseq) < 0
        if length > 1 and (fwd.nextseq - 1) & _MASK == seq:
            not_advanced = False
        if length and rev.lastack and _signed((seq + length - rev.lastack) & _MASK) <= 0:
            return found | _SPURIOUS | HAS_ANALYSIS, 0, 0
        since_ack = time - rev.lastack_time
        if not_advanced and rev.dupacknum >= 2 and rev.lastack == seq \
                and 0 <= since_ack < _FAST_RETRANSMISSION_WINDOW_NS:
            return found | _FAST_RETRANSMISSION | HAS_ANALYSIS, 0, 0
        since_highest = time - fwd.nextseq_time
        threshold = self.first_rtt or _DEFAULT_OUT_OF_ORDER_NS
        ends_at = (seq + length + (1 if flags & (_SYN | _FIN) else 0)) & _MASK
        if not_advanced and 0 <= since_highest < threshold and fwd.nextseq != ends_at:
            return found | _OUT_OF_ORDER | HAS_ANALYSIS, 0, 0
        if not not_advanced:
            return found, 0, 0
        if fwd.segments:
            oldest = fwd.segments[0]
            return found | _RETRANSMISSION | HAS_ANALYSIS, time - oldest[3], oldest[2]
        return found | _RETRANSMISSION | HAS_ANALYSIS, since_highest, fwd.nextseq_frame

    def _remember_sent(self, fwd: _Flow, frame: int, time: int, flags: int, seq: int, ack: int, length: int,
                       window: int, found: int) -> None:
        """Queue the segment as unacknowledged and move this direction's highest sequence number on."""
        nextseq = (seq + length) & _MASK
        segments = fwd.segments
        if (length or flags & (_SYN | _FIN)) and len(segments) < _MAX_UNACKED_SEGMENTS:
            if flags & (_SYN | _FIN):
                nextseq = (nextseq + 1) & _MASK
            if segments and (_signed(seq - segments[-1][0]) < 0 or _signed(nextseq - segments[-1][1]) < 0):
                fwd.segments_sorted = False
            segments.append([seq, nextseq, frame, time])
        probe = found & _ZW_PROBE
        if (_signed(fwd.nextseq - nextseq) < 0 or not fwd.nextseq) and not probe:
            fwd.nextseq, fwd.nextseq_frame, fwd.nextseq_time = nextseq, frame, time
        if (seq == fwd.maxseqtobeacked or not fwd.maxseqtobeacked) and not probe:
            fwd.maxseqtobeacked = fwd.nextseq
        fwd.window, fwd.lastack, fwd.lastack_time = window, ack, time
        fwd.last_segment_flags = found & 0xFFFF

    def _acknowledge(self, rev: _Flow, frame: int, time: int, ack: int, found: int) -> tuple[int, int, int]:
        """Drop the reverse direction's segments this ACK covers; the oldest exactly-acked one is reported."""
        segments = rev.segments
        acked_frame = rtt = 0
        kept: list[list[int]] = []
        for position, segment in enumerate(segments):
            seq, nextseq = segment[0], segment[1]
            if ack == nextseq:
                if not acked_frame:
                    acked_frame, rtt = segment[2], time - segment[3]
                    found |= HAS_ANALYSIS
                continue
            if _signed(ack - nextseq) < 0:
                if _signed(seq - ack) < 0:
                    segment[0] = ack
                elif rev.segments_sorted:
                    kept.extend(segments[position:])
                    break
                kept.append(segment)
        if len(kept) != len(segments):
            rev.segments = kept
            if not kept:
                rev.segments_sorted = True
        return found, acked_frame, rtt

    def _bytes_in_flight(self, fwd: _Flow, rev: _Flow, flags: int, length: int,
                         found: int) -> tuple[int, int, int]:
        """Unacknowledged bytes after this segment (minus SACKed ones) and bytes since the last PSH."""
        segments = fwd.segments
        if not (length and segments and fwd.valid_bif):
            return found, 0, 0
        base = fwd.base_seq
        first, last = (segments[0][0] - base) & _MASK, (segments[-1][1] - base) & _MASK
        if not fwd.segments_sorted or first > last:
            first = min((segment[0] - base) & _MASK for segment in segments)
            last = max((segment[1] - base) & _MASK for segment in segments)
        in_flight = (last - first - self._sacked_bytes(rev)) & _MASK
        found |= HAS_ANALYSIS
        if not 0 < in_flight < 2_000_000_000:
            in_flight = 0
        elif flags & (_SYN | _FIN):
            in_flight -= 1
        fwd.push_bytes_sent = length if fwd.push_set_last else (fwd.push_bytes_sent + length) & _MASK
        fwd.push_set_last = bool(flags & _PSH)
        return found, in_flight, fwd.push_bytes_sent

    def _sacked_bytes(self, rev: _Flow) -> int:
        """The bytes the other direction's latest segment reported in SACK blocks.

        Its options are read only if they could hold a SACK block: not when the handshake showed
        SACK was not permitted, nor when they are no longer than the timestamps both SYNs agreed on.
        """
        row = rev.last_row
        if self._sack_threshold is None:
            self._sack_threshold = _SACK_MINIMUM + self._option_bytes_taken()
        if row < 0 or rev.last_option_bytes < self._sack_threshold:
            return 0
        if self._sack_cache[0] != row:
            self._sack_cache = (row, _sack_total(self._read_options(row)))
        return self._sack_cache[1]

    def _option_bytes_taken(self) -> int:
        """Option bytes every segment spends before any SACK block (a large number if SACK is off)."""
        client, server = (flow.syn_options for flow in self.flows)
        if client < 0 or server < 0:
            return 0
        both = client & server
        if not both & 1 << _SACK_PERMITTED:
            return 40
        return _TIMESTAMPS_BYTES if both & 1 << _TIMESTAMPS else 0

    def _after_analysis(self, fwd: _Flow, rev: _Flow, row: int, time: int, flags: int, seq: int, ack: int,
                        length: int, option_bytes: int) -> None:
        """What dissect_tcp does after the analysis: SYN bookkeeping, iRTT, window scaling, states."""
        if flags & _SYN:
            if not flags & _ACK:
                self.syn_time = time
            fwd.is_first_ack = True
        if flags & (_SYN | _ACK) == _ACK:
            if self.syn_time and not self.first_rtt:
                self.first_rtt = time - self.syn_time
            fwd.is_first_ack = False
        fwd.last_row, fwd.last_option_bytes = row, option_bytes
        if flags & _SYN:
            options = dict(_options(self._read_options(row))) if option_bytes else {}
            fwd.syn_options = sum(1 << kind for kind in options if kind < 64)
            self._sack_threshold = None
            shift = options.get(_WINDOW_SCALE)
            if shift is not None and len(shift) == 1:
                fwd.win_scale = min(shift[0], 14)
            if fwd.win_scale == -1:
                fwd.win_scale = rev.win_scale = -2
            elif flags & _ACK and rev.win_scale == -2:
                fwd.win_scale = -2


def _options(options: bytes):
    """(kind, body) of each well-formed TCP option, stopping at End of Option List or a bad length."""
    position = 0
    while position < len(options):
        kind = options[position]
        if kind == 0:
            return
        if kind == 1:
            position += 1
            continue
        if position + 1 >= len(options) or options[position + 1] < 2 \
                or position + options[position + 1] > len(options):
            return
        length = options[position + 1]
        yield kind, options[position + 2:position + length]
        position += length


def _sack_total(options: bytes) -> int:
    """The bytes covered by the SACK blocks among the options; like Wireshark, only the first three
    blocks count (packet-tcp.c keeps MAX_TCP_SACK_RANGES - 1 of them for bytes in flight)."""
    for kind, body in _options(options):
        if kind == _SACK and len(body) % 8 == 0:
            total = 0
            for start in range(0, min(len(body), 24), 8):
                left = int.from_bytes(body[start:start + 4], "big")
                right = int.from_bytes(body[start + 4:start + 8], "big")
                total += (right - left) & _MASK
            return total
    return 0
