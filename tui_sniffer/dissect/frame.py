"""What a dissector knows about a frame beyond its bytes: its record metadata and cross-packet facts."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class TcpFacts:
    """Cross-packet TCP facts for one segment, computed by analysis and shown as generated fields."""

    stream: int
    seq_base: int | None = None
    ack_base: int | None = None
    window_scale: int = -1
    """The scale shift for this direction; -1 unknown (no SYN seen), -2 no window scaling used."""


@dataclass(slots=True)
class ReassembledPdu:
    """An application message put together from several TCP segments, completed in this frame."""

    data: bytes
    segments: list[tuple[int, int]]
    """(frame number, byte count) of every segment that holds part of it, in stream order."""


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
