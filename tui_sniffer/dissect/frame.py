"""What a dissector knows about a frame beyond its bytes: its record metadata and cross-packet facts."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntFlag


class TcpAnalysisFlag(IntFlag):
    """The expert conclusions of Wireshark's TCP sequence analysis, with packet-tcp.c's bit values."""

    RETRANSMISSION = 0x0001
    LOST_SEGMENT = 0x0002
    ACK_LOST_SEGMENT = 0x0004
    KEEP_ALIVE = 0x0008
    DUPLICATE_ACK = 0x0010
    ZERO_WINDOW = 0x0020
    ZERO_WINDOW_PROBE = 0x0040
    ZERO_WINDOW_PROBE_ACK = 0x0080
    KEEP_ALIVE_ACK = 0x0100
    OUT_OF_ORDER = 0x0200
    FAST_RETRANSMISSION = 0x0400
    WINDOW_UPDATE = 0x0800
    WINDOW_FULL = 0x1000
    REUSED_PORTS = 0x2000
    SPURIOUS_RETRANSMISSION = 0x4000


@dataclass(slots=True)
class TcpSegmentAnalysis:
    """What the TCP sequence analysis concluded about one segment from the segments around it."""

    flags: TcpAnalysisFlag = TcpAnalysisFlag(0)
    has_analysis: bool = False
    """Whether Wireshark would draw `[SEQ/ACK analysis]` (it had something to say about this frame)."""
    acks_frame: int | None = None
    ack_rtt: float | None = None
    initial_rtt: float | None = None
    bytes_in_flight: int | None = None
    push_bytes_sent: int | None = None
    duplicate_ack_number: int | None = None
    duplicate_ack_frame: int | None = None
    rto: float | None = None
    rto_frame: int | None = None
    time_relative: float = 0.0
    time_delta: float = 0.0
    completeness: int = 0
    fin_initiates_close: bool = False
    """For a FIN: whether it is the first FIN of the conversation (the active close)."""
    client_state: str = ""
    server_state: str = ""
    """Each side's connection state (SYN_SENT, ESTABLISHED…) once this segment is delivered."""
    sender_is_client: bool = True

    @property
    def is_retransmission(self) -> bool:
        """Whether this segment carries data sent before (plain, fast or spurious retransmission)."""
        return bool(self.flags & (TcpAnalysisFlag.RETRANSMISSION | TcpAnalysisFlag.FAST_RETRANSMISSION
                                  | TcpAnalysisFlag.SPURIOUS_RETRANSMISSION))


@dataclass(slots=True)
class TcpFacts:
    """Cross-packet TCP facts for one segment, computed by analysis and shown as generated fields."""

    stream: int
    seq_base: int | None = None
    ack_base: int | None = None
    window_scale: int = -1
    """The scale shift for this direction; -1 unknown (no SYN seen), -2 no window scaling used."""
    analysis: TcpSegmentAnalysis | None = None


@dataclass(slots=True)
class ReassembledPdu:
    """An application message put together from several TCP segments, completed in this frame."""

    data: bytes
    segments: list[tuple[int, int]]
    """(frame number, byte count) of every segment that holds part of it, in stream order."""
    offsets: list[int] = field(default_factory=list)
    """Where each segment's bytes start in `data` (empty: one after the other); a repeated segment overlaps."""
    overlaps: list[bool] = field(default_factory=list)
    """Whether each segment repeats bytes another segment carried first (`[Segment overlap: True]`)."""


@dataclass(slots=True)
class PayloadPiece:
    """A stretch [start, end) of one segment's TCP payload and what reassembly made of it.

    With `pdu` the stretch ends a message reassembled here; with `reassembled_in` (or `unfinished`)
    it belongs to a message shown in another frame (or never completed); otherwise it holds whole
    messages that are dissected straight from the frame.
    """

    start: int
    end: int
    pdu: ReassembledPdu | None = None
    reassembled_in: int | None = None
    unfinished: bool = False
    kind: str | None = None
    """Which framer cut the message ("http", "tls", "dns"), None for bytes no framer claimed."""
    retransmitted: bool = False
    """A plain retransmission: its bytes are shown as `Retransmitted TCP segment data` and not dissected."""


@dataclass(slots=True)
class FrameInfo:
    """The record metadata of one frame, plus whatever analysis learned about it from other frames."""

    number: int
    timestamp_ns: int
    captured_length: int
    wire_length: int
    link_type: int
    interface_id: int = 0
    interface_name: str | None = None
    since_first: float = 0.0
    since_previous: float = 0.0
    since_previous_displayed: float = 0.0
    comments: list[str] = field(default_factory=list)
    tcp: TcpFacts | None = None
    tcp_payload: list[PayloadPiece] | None = None
    """How TCP reassembly divides this segment's payload; None dissects the payload as it is."""
    annotations: dict[str, object] = field(default_factory=dict)
    """Other per-frame facts from analysis (e.g. `icmp.resp_in`), keyed by field name."""

    @property
    def epoch_seconds(self) -> float:
        """The arrival time as seconds since the epoch."""
        return self.timestamp_ns / 1e9
