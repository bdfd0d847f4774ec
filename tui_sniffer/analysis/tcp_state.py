"""Each side's TCP connection state (RFC 793's state diagram) as a learner reads it off the wire.

Wireshark has no such field; tui-sniffer shows it so the handshake and the close can be followed
packet by packet. Every packet counts as delivered when it is seen, and what a sender had received
when it sent a segment is read from its acknowledgment number, so a simultaneous close (FINs that
cross) is told apart from the usual FIN / FIN-ACK / ACK.
"""
from __future__ import annotations

_SYN, _FIN, _RST, _ACK = 0x02, 0x01, 0x04, 0x10
_MASK, _HALF = 0xFFFFFFFF, 0x80000000

STATE_NAMES = ("CLOSED", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE_WAIT",
               "CLOSING", "LAST_ACK", "TIME_WAIT")
"""The states by number: what `SideState.state()` returns indexes this tuple."""
(_CLOSED, _SYN_SENT, _SYN_RECV, _ESTABLISHED, _FIN_WAIT1, _FIN_WAIT2, _CLOSE_WAIT, _CLOSING, _LAST_ACK,
 _TIME_WAIT) = range(len(STATE_NAMES))


def _covers(ack: int, end: int) -> bool:
    """Whether acknowledgment number `ack` acknowledges every byte before `end` (modulo 2^32)."""
    return ((ack - end) & _MASK) < _HALF


class SideState:
    """What one endpoint has sent and received so far, from which its state follows."""

    __slots__ = ("syn_sent", "syn_end", "syn_acked", "got_syn", "fin_sent", "fin_end", "fin_acked",
                 "got_fin", "closes_passively", "reset")

    def __init__(self) -> None:
        self.syn_sent = self.syn_acked = self.got_syn = False
        self.fin_sent = self.fin_acked = self.got_fin = self.closes_passively = self.reset = False
        self.syn_end = self.fin_end = 0

    def assume_established(self) -> None:
        """Start a capture that began mid-connection: both handshake halves already happened."""
        self.syn_sent = self.syn_acked = self.got_syn = True

    def awaits_ack(self) -> bool:
        """Whether a SYN or FIN this side sent is not acknowledged yet (its state may still move)."""
        return (self.syn_sent and not self.syn_acked) or (self.fin_sent and not self.fin_acked)

    def state(self) -> int:
        """This side's state number (an index into STATE_NAMES)."""
        if self.reset or not (self.syn_sent or self.got_syn):
            return _CLOSED
        if not self.syn_sent:
            return _SYN_RECV
        if not self.got_syn:
            return _SYN_SENT
        if not self.syn_acked:
            return _SYN_RECV
        if not self.fin_sent:
            return _CLOSE_WAIT if self.got_fin else _ESTABLISHED
        if self.closes_passively:
            return _CLOSED if self.fin_acked else _LAST_ACK
        if self.got_fin:
            return _TIME_WAIT if self.fin_acked else _CLOSING
        return _FIN_WAIT2 if self.fin_acked else _FIN_WAIT1


def deliver(sender: SideState, receiver: SideState, flags: int, seq: int, ack: int, length: int) -> None:
    """Update both sides for one segment from `sender`, as if `receiver` just got it."""
    if flags & _RST:
        sender.reset = receiver.reset = True
        return
    if flags & _ACK:
        if receiver.syn_sent and _covers(ack, receiver.syn_end):
            receiver.syn_acked = True
        if receiver.fin_sent and _covers(ack, receiver.fin_end):
            receiver.fin_acked = True
    if flags & _SYN:
        sender.syn_sent = receiver.got_syn = True
        sender.syn_end = (seq + 1) & _MASK
    if flags & _FIN:
        if not sender.fin_sent:
            sender.fin_sent = True
            sender.closes_passively = sender.got_fin and bool(flags & _ACK) and receiver.fin_sent \
                and _covers(ack, receiver.fin_end)
        sender.fin_end = (seq + length + (2 if flags & _SYN else 1)) & _MASK
        receiver.got_fin = True
