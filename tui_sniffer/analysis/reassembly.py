"""TCP reassembly: which segments make up each application message, worked out lazily per stream direction.

Nothing happens at index time. The first time a segment is dissected, its stream direction's
segments are listed from the index columns and placed at their sequence offsets (`stream_bytes`);
messages are then cut from the gap-free prefix (`pdu_framing`), reading payloads by pread only where
a framer needs bytes, and only as far as the asked segment's messages reach. As in Wireshark, a
message is shown in the frame that brings its last missing byte; out-of-order segments and fast
retransmissions take part, plain retransmissions (TCP analysis says which) do not.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Iterator

from tui_sniffer.analysis.pdu_framing import find_message_end, message_kind
from tui_sniffer.analysis.stream_bytes import StreamCoverage
from tui_sniffer.dissect.frame import PayloadPiece, ReassembledPdu
from tui_sniffer.store.index import PacketIndex

MAX_MESSAGE = 64 * 1024 * 1024
"""A longer message is not reassembled: its segments are dissected one by one."""

_SYN, _FIN = 0x02, 0x01
_CACHED_PAYLOADS = 64
_HALF = 1 << 31


@dataclass(slots=True)
class Message:
    """One application message of a stream direction: its stream offsets and the row that shows it."""

    start: int
    end: int
    kind: str | None
    last_row: int
    """The segment that completed it, or the FIN segment for a message that runs until FIN."""


class DirectionStream:
    """One direction of one TCP stream: its segments placed by sequence number and the messages cut so far."""

    def __init__(self, reassembly: TcpReassembly, stream: int, direction: int, every_segment: bool) -> None:
        self._owner = reassembly
        self.stream, self.direction = stream, direction
        self._every_segment = every_segment
        self.coverage = StreamCoverage(self._payload)
        self.segments: dict[int, tuple[int, int]] = {}
        """Row → the stream bytes [start, end) it carries (segments taking part, in capture order)."""
        self._pending: list[int] = []
        self._position: dict[int, int] = {}
        self._consumed = 0
        self.left_out: set[int] = set()
        """Plain retransmissions: shown as `Retransmitted TCP segment data`, not reassembled."""
        self.messages: list[Message] = []
        self.message_ends: list[int] = []
        self.fin_row: int | None = None
        self.ports: set[int] = set()
        self._listed_rows = 0
        self._isn: int | None = None
        self._frontier = 0
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
        """Place the segments of this direction indexed since the last call."""
        index = self._owner.index
        count = index.count
        if count <= self._listed_rows:
            return
        rows = index.stream_rows("tcp_stream", self.stream, self._listed_rows, count)
        self._listed_rows = count
        seqs, lengths, all_flags = index.column("tcp_seq"), index.column("payload_length"), index.column("tcp_flags")
        rows = rows[(index.column("flow_direction")[rows] == self.direction) &
                    ((lengths[rows] > 0) | (all_flags[rows] & (_SYN | _FIN) != 0))]
        if len(rows) and not self.ports:
            self.ports = {int(index.column("src_port")[rows[0]]), int(index.column("dst_port")[rows[0]])}
        for row in rows.tolist():
            self._add_segment(row, int(seqs[row]), int(lengths[row]), int(all_flags[row]))

    def _add_segment(self, row: int, seq: int, length: int, flags: int) -> None:
        """Note where a segment's bytes go in the stream (a plain retransmission is left out)."""
        if flags & _SYN:
            self._isn = (seq + 1) & 0xFFFFFFFF
            return
        if self._isn is None:
            self._isn = seq
        start = self._unwrap((seq - self._isn) & 0xFFFFFFFF)
        if length:
            if start < self._frontier and not self._every_segment and self._owner.is_plain_retransmission(row):
                self.left_out.add(row)
            else:
                self.segments[row] = (start, start + length)
                self._position[row] = len(self._pending)
                self._pending.append(row)
            self._frontier = max(self._frontier, start + length)
        if flags & _FIN and self.fin_row is None:
            self.fin_row = row

    def _unwrap(self, relative: int) -> int:
        """A 32-bit relative sequence number as a stream offset near the bytes seen so far."""
        return self._frontier + (relative - self._frontier + _HALF) % (1 << 32) - _HALF

    def _payload(self, row: int) -> bytes:
        """The TCP payload of segment `row` (a small cache keeps the recent ones)."""
        payload = self._payloads.get(row)
        if payload is None:
            index = self._owner.index
            offset = int(index.column("payload_offset")[row])
            length = int(index.column("payload_length")[row])
            payload = self._owner.read_row(row)[offset:offset + length]
            self._payloads[row] = payload
            if len(self._payloads) > _CACHED_PAYLOADS:
                self._payloads.popitem(last=False)
        else:
            self._payloads.move_to_end(row)
        return payload

    def deliveries(self) -> Iterator[tuple[int, int, bytes]]:
        """(row delivered at, row that carried it, bytes) of each stretch in stream order, as Follow Stream
        hands them out."""
        self._consume_all()
        for delivered, stretch in self.coverage.deliveries():
            yield delivered, stretch.row, self.coverage.read(stretch.start, stretch.end)

    def read(self, start: int, end: int) -> bytes:
        """Stream bytes [start, end) up to the first gap."""
        return self.coverage.read(start, min(end, self.coverage.contiguous))

    @property
    def available(self) -> int:
        """Where the first gap in the stream begins (what the framers may read up to)."""
        return self.coverage.contiguous

    def first_row_at(self, offset: int) -> int:
        """The row that first carried stream byte `offset`."""
        stretch = self.coverage.stretch_at(offset)
        return stretch.row if stretch is not None else -1

    # -- framing ----------------------------------------------------------------------------------

    def frame_all(self) -> None:
        """Place and frame every segment listed so far."""
        self._consume_all()

    def _consume_all(self) -> None:
        while self._consumed < len(self._pending):
            self._consume()

    def _frame_through(self, row: int) -> None:
        """Frame until segment `row` is placed and every message it holds is resolved."""
        position = self._position[row]
        while self._consumed <= position:
            self._consume()
        end = self.segments[row][1]
        while self._start < end and self._consumed < len(self._pending):
            self._consume()

    def _consume(self) -> None:
        """Let the framers see one more segment."""
        row = self._pending[self._consumed]
        self._consumed += 1
        self.coverage.add(row, *self.segments[row])
        self._frame()
        if self._consumed == len(self._pending):
            self._close_at_fin()

    def _frame(self) -> None:
        """Cut as many messages as the gap-free bytes allow."""
        available = self.available
        while self._start < available:
            if self._kind is None:
                stretch = self.coverage.stretch_at(self._start)
                stretch_end = min(stretch.end, available)
                kind = message_kind(self.read(self._start, stretch_end), self.ports)
                if kind is None:
                    self._finish(stretch_end, None)
                    continue
                self._kind, self._end, self._until_close, self._retry_at, self._resume = kind, None, False, 0, None
            if self._end is None and not self._until_close:
                if available < self._retry_at:
                    return
                answer = find_message_end(self._kind, self, self._start, self._resume)
                self._until_close = answer.until_close
                if answer.end is None:
                    self._retry_at, self._resume = answer.retry_at, answer.resume
                    return
                self._end = answer.end
                if self._end - self._start > MAX_MESSAGE:
                    self._end, self._kind = min(self.coverage.stretch_at(self._start).end, available), None
            if self._until_close or self._end > available:
                return
            self._finish(self._end, self._kind)

    def _finish(self, end: int, kind: str | None, last_row: int | None = None) -> None:
        """Record the message [start, end) and start the next one at `end`."""
        if last_row is None:
            last_row = self.coverage.completed_by(self._start, end)
        self.messages.append(Message(self._start, end, kind, last_row))
        self.message_ends.append(end)
        self._start, self._kind, self._end, self._until_close = end, None, None, False

    def _close_at_fin(self) -> None:
        """A message that runs until FIN ends with the last byte once the FIN is indexed."""
        if self.fin_row is not None and self._until_close and not self._closed:
            self._closed = True
            self._finish(self.available, self._kind, max(self.fin_row, self.coverage.completed_by(
                self._start, self.available)))

    @property
    def settled(self) -> bool:
        """Whether nothing more can change: every segment framed and the capture fully indexed."""
        return self._consumed == len(self._pending) and self._owner.is_complete()

    # -- answers ----------------------------------------------------------------------------------

    def pieces(self, row: int) -> list[PayloadPiece] | None:
        """How segment `row`'s payload divides into messages; None for a segment that carries none."""
        if row in self.left_out:
            length = int(self._owner.index.column("payload_length")[row])
            return [PayloadPiece(0, length, retransmitted=True)]
        if row not in self.segments:
            return self._fin_pieces(row)
        self._frame_through(row)
        segment_start, segment_end = self.segments[row]
        pieces: list[PayloadPiece] = []
        whole_kind: str | None = None
        first = bisect_right(self.message_ends, segment_start)
        for message in self.messages[first:]:
            if message.start >= segment_end:
                break
            start, end = max(message.start, segment_start) - segment_start, min(message.end, segment_end) - segment_start
            alone = message.start >= segment_start and message.end <= segment_end and \
                {stretch.row for stretch in self.coverage.stretches_in(message.start, message.end)} == {row}
            if message.last_row != row:
                pieces.append(PayloadPiece(start, end, reassembled_in=message.last_row + 1, kind=message.kind))
            elif not alone:
                pieces.append(PayloadPiece(start, end, pdu=self._reassembled(message), kind=message.kind))
            elif message.kind == whole_kind == "tls" and pieces[-1].end == start:
                pieces[-1].end = end
                continue
            else:
                pieces.append(PayloadPiece(start, end, kind=message.kind))
                whole_kind = message.kind
                continue
            whole_kind = None
        covered = pieces[-1].end + segment_start if pieces else segment_start
        if covered < segment_end:
            pieces.append(PayloadPiece(covered - segment_start, segment_end - segment_start, unfinished=True,
                                       kind=self._kind))
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
        parts = self.coverage.segments_in(message.start, message.end)
        segments, offsets = [(row + 1, count) for row, _, count in parts], [offset for _, offset, _ in parts]
        overlaps = [any(stretch.row != row for stretch in self.coverage.stretches_in(message.start + offset,
                                                                                     message.start + offset + count))
                    for row, offset, count in parts]
        if message.last_row == self.fin_row and message.last_row not in self.segments:
            segments.append((message.last_row + 1, 0))
            offsets.append(message.end - message.start)
            overlaps.append(False)
        return ReassembledPdu(self.read(message.start, message.end), segments, offsets, overlaps)


class TcpReassembly:
    """Every stream direction's reassembly, each worked out the first time one of its segments is asked about."""

    def __init__(self, index: PacketIndex, read_row: Callable[[int], bytes], is_complete: Callable[[], bool],
                 is_plain_retransmission: Callable[[int], bool] = lambda row: False) -> None:
        self.index = index
        self.read_row = read_row
        self.is_complete = is_complete
        self.is_plain_retransmission = is_plain_retransmission
        """Whether TCP analysis calls row a retransmission that is not a fast one (Wireshark reassembles
        out-of-order segments and fast retransmissions, not these)."""
        self._directions: dict[tuple[int, int, bool], DirectionStream] = {}

    def direction(self, stream: int, direction: int, every_segment: bool = False, *,
                  keep: bool = True) -> DirectionStream:
        """One stream direction with the segments indexed so far placed (`every_segment`: plain
        retransmissions too, as Follow Stream reads the stream). With `keep` False a direction not framed
        before is not kept either, so a pass over many streams holds one at a time."""
        key = (stream, direction, every_segment)
        found = self._directions.get(key)
        if found is None:
            found = DirectionStream(self, stream, direction, every_segment)
            if keep:
                self._directions[key] = found
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
