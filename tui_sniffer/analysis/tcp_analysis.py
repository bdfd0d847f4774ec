"""Wireshark's TCP analysis for every indexed segment, computed lazily per stream from the index.

Nothing is dissected: sequence and acknowledgment numbers, lengths, flags, windows and times come
from the store's columns, and packet bytes are read only for the options that matter (a SYN's
window scale, the SACK blocks that bytes in flight subtract). A stream is analysed the first time
one of its segments is asked about (or every stream at once for a filter), from its first segment,
and later batches of a growing capture continue from where its analysis stopped.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from tui_sniffer.analysis.tcp_sequence import FIN_ACTIVE, HAS_ANALYSIS, ConversationFacts, TcpConversation
from tui_sniffer.analysis.tcp_state import STATE_NAMES
from tui_sniffer.dissect.frame import TcpAnalysisFlag, TcpSegmentAnalysis
from tui_sniffer.store.index import PacketIndex

_RESULT_COLUMNS = {
    "flags": np.uint32, "acks_frame": np.uint32, "ack_rtt": np.int64, "bytes_in_flight": np.uint32,
    "push_bytes_sent": np.uint32, "time_delta": np.int64, "states": np.uint8, "conversation": np.int32,
}
"""One array per common result, a row per indexed packet; `conversation` is 0 until a row is analysed.
The rare results (duplicate-ACK numbers, RTOs) are kept per row in a dict instead."""
_CHUNK_ROWS = 65536


class TcpAnalysis:
    """The per-segment results of Wireshark's TCP sequence analysis, stream by stream on demand."""

    def __init__(self, index: PacketIndex, read_packet: Callable[[int], bytes],
                 capture_complete: Callable[[], bool] = lambda: False) -> None:
        self._index = index
        self._read_packet = read_packet
        self._capture_complete = capture_complete
        self._results: dict[str, np.ndarray] = {}
        self._rare: dict[int, tuple[int, int, int, int]] = {}
        """Per row with any: (duplicate-ACK number, its frame, RTO in ns, RTO frame)."""
        self._conversations: list[TcpConversation | ConversationFacts] = []
        self._current: dict[int, int] = {}
        """Each stream's latest conversation (an index into `_conversations`)."""
        self._analysed_until: dict[int, int] = {}
        """Per stream, the index row count its analysis has covered."""
        self._all_analysed_until = 0
        self._conversation_arrays: tuple[tuple[int, int], tuple[np.ndarray, ...]] = ((-1, -1), ())

    def segment(self, row: int) -> TcpSegmentAnalysis | None:
        """What the analysis concluded about the segment in `row` (None if it is not TCP)."""
        stream = int(self._index.column("tcp_stream")[row])
        if stream < 0:
            return None
        self._analyse_stream(stream)
        results = self._results
        conversation = self._conversations[int(results["conversation"][row]) - 1]
        flags = int(results["flags"][row])
        states = int(results["states"][row])
        duplicate, duplicate_frame, rto, rto_frame = self._rare.get(row, (0, 0, 0, 0))
        return TcpSegmentAnalysis(
            flags=TcpAnalysisFlag(flags & 0xFFFF), has_analysis=bool(flags & HAS_ANALYSIS),
            acks_frame=int(results["acks_frame"][row]) or None,
            ack_rtt=_seconds(int(results["ack_rtt"][row])),
            initial_rtt=_seconds(conversation.first_rtt),
            bytes_in_flight=int(results["bytes_in_flight"][row]) or None,
            push_bytes_sent=int(results["push_bytes_sent"][row]) if results["bytes_in_flight"][row] else None,
            duplicate_ack_number=duplicate or None, duplicate_ack_frame=duplicate_frame if duplicate else None,
            rto=_seconds(rto), rto_frame=rto_frame or None,
            time_relative=(int(self._index.column("timestamp_ns")[row]) - conversation.first_time) / 1e9,
            time_delta=int(results["time_delta"][row]) / 1e9,
            completeness=conversation.shown_completeness(row == conversation.first_row),
            fin_initiates_close=bool(flags & FIN_ACTIVE),
            client_state=STATE_NAMES[states & 0x0F], server_state=STATE_NAMES[states >> 4],
            sender_is_client=int(self._index.column("flow_direction")[row]) == conversation.client_direction,
        )

    def flags(self, row: int) -> TcpAnalysisFlag:
        """The expert flags of the segment in `row` alone (cheaper than `segment` for reassembly)."""
        stream = int(self._index.column("tcp_stream")[row])
        if stream < 0:
            return TcpAnalysisFlag(0)
        self._analyse_stream(stream)
        return TcpAnalysisFlag(int(self._results["flags"][row]) & 0xFFFF)

    def flags_column(self) -> np.ndarray:
        """Every indexed packet's TcpAnalysisFlag bits (0 where none or not TCP), analysing all streams."""
        self.analyse_all()
        return self._results["flags"][:self._index.count] & 0xFFFF

    def columns(self, rows: slice) -> dict[str, np.ndarray]:
        """Every result over index rows `rows` (a slice), all streams analysed: the stored columns and
        `time_relative`, `initial_rtt`, `completeness`, the rare ones and `fin` (times in ns)."""
        self.analyse_all()
        results = {name: self._results[name][rows] for name in _RESULT_COLUMNS}
        first_time, first_rtt, completeness, first_segment_bits, first_row = self._conversation_columns()
        conversation = results["conversation"]
        results["time_relative"] = self._index.column("timestamp_ns")[rows] - first_time[conversation]
        results["initial_rtt"] = first_rtt[conversation]
        later = np.arange(rows.start, rows.start + len(conversation)) != first_row[conversation]
        results["completeness"] = completeness[conversation] | np.where(later, first_segment_bits[conversation], 0)
        results["fin"] = self._index.column("tcp_flags")[rows] & 0x01 != 0
        rare = np.zeros((4, len(conversation)), dtype=np.int64)
        start = rows.start or 0
        for row, values in self._rare.items():
            if rows.start <= row < rows.stop:
                rare[:, row - start] = values
        for position, name in enumerate(("duplicate_ack_number", "duplicate_ack_frame", "rto", "rto_frame")):
            results[name] = rare[position]
        return results

    def _conversation_columns(self) -> tuple[np.ndarray, ...]:
        """Per conversation number (0: none): first time, iRTT, completeness, a first non-SYN segment's
        completeness bits, and the first segment's row."""
        key = (len(self._conversations), self._all_analysed_until)
        if self._conversation_arrays[0] != key:
            conversations = self._conversations
            self._conversation_arrays = (key, tuple(
                np.array([0] + [getattr(conversation, name) for conversation in conversations], dtype=dtype)
                for name, dtype in (("first_time", np.int64), ("first_rtt", np.int64), ("completeness", np.uint8),
                                    ("first_segment_bits", np.uint8), ("first_row", np.int64))))
        return self._conversation_arrays[1]

    def analyse_all(self) -> None:
        """Analyse every stream over every indexed packet (what a filter on `tcp.analysis.*` needs)."""
        count = self._index.count
        start = self._all_analysed_until
        if start >= count:
            return
        self._grow(count)
        streams = self._index.column("tcp_stream")[start:count]
        tcp_rows = np.flatnonzero(streams >= 0)
        order = np.argsort(streams[tcp_rows], kind="stable")
        rows = tcp_rows[order] + start
        if self._analysed_until:
            rows = rows[self._not_yet_analysed(streams[tcp_rows][order], rows)]
        finished = self._capture_complete() and count == self._index.count
        self._analyse_rows(rows, finished=finished)
        self._analysed_until.clear()
        self._all_analysed_until = count
        if finished:
            self._keep_only_facts()

    def _keep_only_facts(self) -> None:
        """Drop every conversation's analysis state once nothing more can arrive (a whole file is read)."""
        self._conversations = [conversation if isinstance(conversation, ConversationFacts)
                               else ConversationFacts(conversation) for conversation in self._conversations]
        self._current.clear()

    def _not_yet_analysed(self, streams: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Which of these rows lie beyond what their stream's own analysis already covered."""
        analysed = sorted(self._analysed_until.items())
        known = np.array([stream for stream, _ in analysed])
        covered = np.array([until for _, until in analysed])
        position = np.minimum(np.searchsorted(known, streams), len(known) - 1)
        return (known[position] != streams) | (rows >= covered[position])

    def _analyse_stream(self, stream: int) -> None:
        """Bring one stream's analysis up to every indexed packet."""
        count = self._index.count
        start = self._analysed_until.get(stream, self._all_analysed_until)
        if start >= count:
            return
        self._grow(count)
        self._analyse_rows(self._index.stream_rows("tcp_stream", stream, start, count))
        self._analysed_until[stream] = count

    def _analyse_rows(self, rows: np.ndarray, *, finished: bool = False) -> None:
        """Run the conversation analysis over not yet analysed rows: grouped by stream, each in order.

        Results are stored a chunk at a time, so the Python objects in between stay few; `finished`
        says no stream gets more rows, so each keeps only its facts once its rows are done.
        """
        for chunk_start in range(0, len(rows), _CHUNK_ROWS):
            self._analyse_chunk(rows[chunk_start:chunk_start + _CHUNK_ROWS], finished)

    def _analyse_chunk(self, rows: np.ndarray, finished: bool) -> None:
        """Analyse some rows (grouped by stream) and store their results."""
        column = self._index.column
        option_bytes = column("payload_offset")[rows].astype(np.int64) - column("transport_offset")[rows] - 20
        inputs = zip(column("tcp_stream")[rows].tolist(), rows.tolist(), column("timestamp_ns")[rows].tolist(),
                     column("flow_direction")[rows].tolist(), column("tcp_flags")[rows].tolist(),
                     column("tcp_seq")[rows].tolist(), column("tcp_ack")[rows].tolist(),
                     column("payload_length")[rows].tolist(), column("tcp_window")[rows].tolist(),
                     option_bytes.tolist())
        outputs = []
        numbers = []
        current, conversations, rare = self._current, self._conversations, self._rare
        restarted = self._index.streams.restarted_tcp_streams
        stream_now, conversation, number = -1, None, 0
        for stream, row, time, direction, flags, seq, ack, length, window, options in inputs:
            reused = False
            if stream != stream_now:
                if finished and conversation is not None:
                    conversations[number - 1] = ConversationFacts(conversation)
                stream_now, number = stream, current.get(stream, 0)
                conversation = conversations[number - 1] if number else None
                if conversation is None:
                    reused = stream in restarted
                    conversation = TcpConversation(self._tcp_options, time, reused=reused)
                    conversations.append(conversation)
                    number = current[stream] = len(conversations)
            result = conversation.analyse(row, time, direction, flags, seq, ack, length, window, options, reused)
            if result[-1] is not None:
                rare[row] = result[-1]
            outputs.append(result)
            numbers.append(number)
        results = self._results
        for name, values in zip(_RESULT_COLUMNS, list(zip(*outputs))[:-1]):
            results[name][rows] = values
        results["conversation"][rows] = numbers

    def _tcp_options(self, row: int) -> bytes:
        """The TCP option bytes of the packet in `row`."""
        column = self._index.column
        start = int(column("transport_offset")[row]) + 20
        return self._read_packet(row)[start:int(column("payload_offset")[row])]

    def _grow(self, count: int) -> None:
        """Make the result arrays hold `count` rows (zeroed memory, so untouched rows cost no RAM)."""
        capacity = len(self._results["flags"]) if self._results else 0
        if capacity >= count:
            return
        new_capacity = max(count, capacity * 2, 1024)
        for name, dtype in _RESULT_COLUMNS.items():
            grown = np.zeros(new_capacity, dtype=dtype)
            if capacity:
                grown[:capacity] = self._results[name]
            self._results[name] = grown


def _seconds(nanoseconds: int) -> float | None:
    """A non-zero duration in seconds, or None (Wireshark omits zero RTTs and RTOs)."""
    return nanoseconds / 1e9 if nanoseconds else None
