"""TCP reassembly: which segments make up each application message, worked out lazily per stream direction.

Nothing happens at index time. The first time a segment is dissected, its stream direction's
segments are listed from the index columns (capture order, bytes already seen set aside) and
framed message by message (`pdu_framing`), reading segment payloads by pread only where a framer
needs bytes, and only as far as the asked segment's messages reach.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from tui_sniffer.analysis.pdu_framing import find_message_end, message_kind
from tui_sniffer.dissect.frame import PayloadPiece, ReassembledPdu
from tui_sniffer.store.index import PacketIndex

MAX_MESSAGE = 64 * 1024 * 1024
"""A longer message is not reassembled: its segments are dissected one by one."""

_SYN, _FIN = 0x02, 0x01
_CACHED_PAYLOADS = 64


@dataclass(slots=True)
class Message:
    """One application message of a stream direction: its stream offsets and the row that shows it."""

    start: int
    end: int
    kind: str | None
    last_row: int
    """The segment holding its last byte, or the FIN segment for a message that runs until FIN."""


class DirectionStream:
    """One direction of one TCP stream: its segments in stream order and the messages framed so far."""

    def __init__(self, reassembly: TcpReassembly, stream: int, direction: int) -> None:
        self._owner = reassembly
        self.stream, self.direction = stream, direction
        self.rows: list[int] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.skips: list[int] = []
        """Payload bytes at a segment's front that repeat bytes seen before (overlap), left out."""
        self.position_of_row: dict[int, int] = {}
        self.messages: list[Message] = []
        self.message_ends: list[int] = []
        self.fin_row: int | None = None
        self.ports: set[int] = set()
        self.available = 0
        self._listed_rows = 0
        self._next_seq: int | None = None
        self._consumed = 0
        self._start = 0
        self._kind: str | None = None
        self._end: int | None = None
        self._until_close = False
        self._retry_at = 0
        self._resume: int | None = None
        self._closed = False
        self._payloads: OrderedDict[int, bytes] = OrderedDict()

    # -- segments ---------------------------------------------------------------------------------

    def list_new_segments(self) -> None:
        """Add the segments of this direction indexed since the last call, setting repeated bytes aside."""
        index = self._owner.index
        count = index.count
        if count <= self._listed_rows:
            return
        window = slice(self._listed_rows, count)
        flags = index.column("tcp_flags")[window]
        mask = (index.column("tcp_stream")[window] == self.stream) & \
            (index.column("flow_direction")[window] == self.direction) & \
            ((index.column("payload_length")[window] > 0) | (flags & (_SYN | _FIN) != 0))
        rows = np.nonzero(mask)[0] + self._listed_rows
        self._listed_rows = count
        seqs, lengths = index.column("tcp_seq"), index.column("payload_length")
        all_flags = index.column("tcp_flags")
        if len(rows) and not self.ports:
            self.ports = {int(index.column("src_port")[rows[0]]), int(index.column("dst_port")[rows[0]])}
        for row in rows.tolist():
            self._add_segment(row, int(seqs[row]), int(lengths[row]), int(all_flags[row]))

    def _add_segment(self, row: int, seq: int, length: int, flags: int) -> None:
        """Append one segment's new bytes to the stream (retransmitted bytes are not added twice)."""
        if self.fin_row is not None:
            return
        if flags & _SYN:
            self._next_seq = (seq + 1) & 0xFFFFFFFF
            return
        if self._next_seq is None:
            self._next_seq = seq
        if length:
            relative = (seq - self._next_seq + (1 << 31)) % (1 << 32) - (1 << 31)
            if relative + length > 0 and not self._owner.is_retransmission(row):
                skip = max(-relative, 0)
                start = self.ends[-1] if self.ends else 0
                self.position_of_row[row] = len(self.rows)
                self.rows.append(row)
                self.starts.append(start)
                self.ends.append(start + length - skip)
                self.skips.append(skip)
                self._next_seq = (seq + length) & 0xFFFFFFFF
        if flags & _FIN:
            self.fin_row = row

    def segment_payloads(self) -> Iterator[tuple[int, bytes]]:
        """(row, new bytes) of every segment listed so far, in stream order (what Follow Stream shows)."""
        for position, row in enumerate(self.rows):
            yield row, self._payload(position)

    def read(self, start: int, end: int) -> bytes:
        """Stream bytes [start, min(end, available)), read from the segments that hold them."""
        end = min(end, self.available)
        if start >= end:
            return b""
        position = bisect_right(self.starts, start) - 1
        parts = []
        while start < end and position < len(self.rows):
            payload = self._payload(position)
            segment_start = self.starts[position]
            parts.append(payload[start - segment_start:end - segment_start])
            start = self.ends[position]
            position += 1
        return b"".join(parts)

    def _payload(self, position: int) -> bytes:
        """The new bytes of segment `position` (a small cache keeps the recent ones)."""
        payload = self._payloads.get(position)
        if payload is None:
            row = self.rows[position]
            index = self._owner.index
            offset = int(index.column("payload_offset")[row]) + self.skips[position]
            length = self.ends[position] - self.starts[position]
            payload = self._owner.read_row(row)[offset:offset + length]
            self._payloads[position] = payload
            if len(self._payloads) > _CACHED_PAYLOADS:
                self._payloads.popitem(last=False)
        else:
            self._payloads.move_to_end(position)
        return payload

    def segment_at(self, offset: int) -> int:
        """The position of the segment holding stream byte `offset`."""
        return bisect_right(self.starts, offset) - 1

    # -- framing ----------------------------------------------------------------------------------

    def frame_through(self, position: int) -> None:
        """Frame messages until segment `position` is seen and every message it holds is resolved."""
        while self._consumed <= position:
            self._consume()
        while self._start < self.ends[position] and self._consumed < len(self.rows):
            self._consume()

    def frame_all(self) -> None:
        """Frame every segment listed so far."""
        while self._consumed < len(self.rows):
            self._consume()

    def _consume(self) -> None:
        """Let the framers see one more segment."""
        self.available = self.ends[self._consumed]
        self._consumed += 1
        self._frame()
        if self._consumed == len(self.rows):
            self._close_at_fin()

    def _frame(self) -> None:
        """Cut as many messages as the bytes seen so far allow."""
        while self._start < self.available:
            if self._kind is None:
                segment_end = self.ends[self.segment_at(self._start)]
                kind = message_kind(self.read(self._start, segment_end), self.ports)
                if kind is None:
                    self._finish(segment_end, None)
                    continue
                self._kind, self._end, self._until_close, self._retry_at, self._resume = kind, None, False, 0, None
            if self._end is None and not self._until_close:
                if self.available < self._retry_at:
                    return
                answer = find_message_end(self._kind, self, self._start, self._resume)
                self._until_close = answer.until_close
                if answer.end is None:
                    self._retry_at, self._resume = answer.retry_at, answer.resume
                    return
                self._end = answer.end
                if self._end - self._start > MAX_MESSAGE:
                    self._end = self.ends[self.segment_at(self._start)]
                    self._kind = None
            if self._until_close or self._end > self.available:
                return
            self._finish(self._end, self._kind)

    def _finish(self, end: int, kind: str | None, last_row: int | None = None) -> None:
        """Record the message [start, end) and start the next one at `end`."""
        if last_row is None:
            last_row = self.rows[self.segment_at(end - 1)]
        self.messages.append(Message(self._start, end, kind, last_row))
        self.message_ends.append(end)
        self._start, self._kind, self._end, self._until_close = end, None, None, False

    def _close_at_fin(self) -> None:
        """A message that runs until FIN ends with the last segment once the FIN is indexed."""
        if self.fin_row is not None and self._until_close and not self._closed:
            self._closed = True
            self._finish(self.available, self._kind, self.fin_row)

    @property
    def settled(self) -> bool:
        """Whether nothing more can change: every segment framed and the capture fully indexed."""
        return self._consumed == len(self.rows) and self._owner.is_complete()

    # -- answers ----------------------------------------------------------------------------------

    def pieces(self, row: int) -> list[PayloadPiece] | None:
        """How segment `row`'s payload divides into messages; None for a segment reassembly left out."""
        position = self.position_of_row.get(row)
        if position is None:
            return self._fin_pieces(row)
        self.frame_through(position)
        segment_start, segment_end = self.starts[position], self.ends[position]
        skip = self.skips[position]
        pieces: list[PayloadPiece] = []
        whole_kind: str | None = None
        first = bisect_right(self.message_ends, segment_start)
        for message in self.messages[first:]:
            if message.start >= segment_end:
                break
            start = max(message.start, segment_start) - segment_start + skip
            end = min(message.end, segment_end) - segment_start + skip
            if message.last_row != row:
                pieces.append(PayloadPiece(start, end, reassembled_in=message.last_row + 1, kind=message.kind))
            elif message.start < segment_start:
                pieces.append(PayloadPiece(start, end, pdu=self._reassembled(message), kind=message.kind))
            elif message.kind == whole_kind == "tls" and pieces[-1].end == start:
                pieces[-1].end = end
                continue
            else:
                pieces.append(PayloadPiece(start, end, kind=message.kind))
                whole_kind = message.kind
                continue
            whole_kind = None
        if self._start < segment_end:
            start = max(self._start, segment_start) - segment_start + skip
            pieces.append(PayloadPiece(start, segment_end - segment_start + skip, unfinished=True, kind=self._kind))
        return pieces

    def _fin_pieces(self, row: int) -> list[PayloadPiece] | None:
        """The FIN segment without data that completes a message running until FIN."""
        if row != self.fin_row:
            return None
        self.frame_all()
        if self.messages and self.messages[-1].last_row == row:
            return [PayloadPiece(0, 0, pdu=self._reassembled(self.messages[-1]), kind=self.messages[-1].kind)]
        return None

    def _reassembled(self, message: Message) -> ReassembledPdu:
        """The bytes of a message and the (frame, byte count) of every segment holding part of it."""
        segments = []
        position = self.segment_at(message.start)
        while position < len(self.rows) and self.starts[position] < message.end:
            overlap = min(self.ends[position], message.end) - max(self.starts[position], message.start)
            segments.append((self.rows[position] + 1, overlap))
            position += 1
        if message.last_row == self.fin_row and message.last_row not in self.position_of_row:
            segments.append((message.last_row + 1, 0))
        return ReassembledPdu(self.read(message.start, message.end), segments)


class TcpReassembly:
    """Every stream direction's reassembly, each worked out the first time one of its segments is asked about."""

    def __init__(self, index: PacketIndex, read_row: Callable[[int], bytes],
                 is_complete: Callable[[], bool]) -> None:
        self.index = index
        self.read_row = read_row
        self.is_complete = is_complete
        self._directions: dict[tuple[int, int], DirectionStream] = {}

    def is_retransmission(self, row: int) -> bool:
        """Whether TCP analysis calls segment `row` a retransmission (its bytes are not reassembled again)."""
        return False

    def direction(self, stream: int, direction: int) -> DirectionStream:
        """One stream direction, with the segments indexed so far listed."""
        key = (stream, direction)
        found = self._directions.get(key)
        if found is None:
            found = self._directions[key] = DirectionStream(self, stream, direction)
        found.list_new_segments()
        return found

    def pieces(self, row: int) -> tuple[list[PayloadPiece] | None, bool]:
        """How TCP segment `row`'s payload divides into messages, and whether that can no longer change."""
        stream = int(self.index.column("tcp_stream")[row])
        if stream < 0:
            return None, True
        flags = int(self.index.column("tcp_flags")[row])
        if not int(self.index.column("payload_length")[row]) and not flags & _FIN:
            return None, True
        direction = self.direction(stream, int(self.index.column("flow_direction")[row]))
        pieces = direction.pieces(row)
        unresolved = any(piece.unfinished for piece in pieces or ())
        return pieces, not unresolved or direction.settled
