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

from tui_sniffer.analysis.tcp_sequence import FIN_ACTIVE, HAS_ANALYSIS, TcpConversation
from tui_sniffer.analysis.tcp_state import STATE_NAMES
from tui_sniffer.dissect.frame import TcpAnalysisFlag, TcpSegmentAnalysis
from tui_sniffer.store.index import PacketIndex

_RESULT_COLUMNS = {
    "flags": np.uint32, "acks_frame": np.uint32, "ack_rtt": np.int64, "bytes_in_flight": np.uint32,
    "push_bytes_sent": np.uint32, "duplicate_ack_number": np.int32, "duplicate_ack_frame": np.uint32,
    "rto": np.int64, "rto_frame": np.uint32, "time_relative": np.int64, "time_delta": np.int64,
    "states": np.uint8, "conversation": np.int32,
}
"""One array per result, a row per indexed packet; `conversation` is 0 until a row is analysed."""


class TcpAnalysis:
    """The per-segment results of Wireshark's TCP sequence analysis, stream by stream on demand."""

    def __init__(self, index: PacketIndex, read_packet: Callable[[int], bytes]) -> None:
        self._index = index
        self._read_packet = read_packet
        self._results: dict[str, np.ndarray] = {}
        self._conversations: list[TcpConversation] = []
        self._current: dict[int, int] = {}
        """Each stream's latest conversation (an index into `_conversations`)."""
        self._analysed_until: dict[int, int] = {}
        """Per stream, the index row count its analysis has covered."""
        self._all_analysed_until = 0

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
        duplicate = int(results["duplicate_ack_number"][row])
        return TcpSegmentAnalysis(
            flags=TcpAnalysisFlag(flags & 0xFFFF), has_analysis=bool(flags & HAS_ANALYSIS),
            acks_frame=int(results["acks_frame"][row]) or None,
            ack_rtt=_seconds(int(results["ack_rtt"][row])),
            initial_rtt=_seconds(conversation.first_rtt),
            bytes_in_flight=int(results["bytes_in_flight"][row]) or None,
            push_bytes_sent=int(results["push_bytes_sent"][row]) if results["bytes_in_flight"][row] else None,
            duplicate_ack_number=duplicate or None,
            duplicate_ack_frame=int(results["duplicate_ack_frame"][row]) if duplicate else None,
            rto=_seconds(int(results["rto"][row])), rto_frame=int(results["rto_frame"][row]) or None,
            time_relative=int(results["time_relative"][row]) / 1e9,
            time_delta=int(results["time_delta"][row]) / 1e9,
            completeness=conversation.completeness, fin_initiates_close=bool(flags & FIN_ACTIVE),
            client_state=STATE_NAMES[states & 0x0F], server_state=STATE_NAMES[states >> 4],
            sender_is_client=int(self._index.column("flow_direction")[row]) == conversation.client_direction,
        )

    def flags_column(self) -> np.ndarray:
        """Every indexed packet's TcpAnalysisFlag bits (0 where none or not TCP), analysing all streams."""
        self.analyse_all()
        return self._results["flags"][:self._index.count] & 0xFFFF

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
        rows_by_stream = tcp_rows[order] + start
        stream_numbers = streams[tcp_rows][order]
        boundaries = np.flatnonzero(np.diff(stream_numbers)) + 1
        for rows in np.split(rows_by_stream, boundaries):
            if len(rows):
                stream = int(self._index.column("tcp_stream")[rows[0]])
                done = self._analysed_until.pop(stream, start)
                self._analyse_rows(stream, rows[rows >= done])
        self._analysed_until.clear()
        self._all_analysed_until = count

    def _analyse_stream(self, stream: int) -> None:
        """Bring one stream's analysis up to every indexed packet."""
        count = self._index.count
        start = self._analysed_until.get(stream, self._all_analysed_until)
        if start >= count:
            return
        self._grow(count)
        new_rows = np.flatnonzero(self._index.column("tcp_stream")[start:count] == stream) + start
        self._analyse_rows(stream, new_rows)
        self._analysed_until[stream] = count

    def _analyse_rows(self, stream: int, rows: np.ndarray) -> None:
        """Run the conversation analysis over a stream's not yet analysed rows, in order."""
        if not len(rows):
            return
        column = self._index.column
        header_lengths = column("payload_offset")[rows].astype(np.int64) - column("transport_offset")[rows]
        inputs = zip(rows.tolist(), column("timestamp_ns")[rows].tolist(), column("flow_direction")[rows].tolist(),
                     column("tcp_flags")[rows].tolist(), column("tcp_seq")[rows].tolist(),
                     column("tcp_ack")[rows].tolist(), column("payload_length")[rows].tolist(),
                     column("tcp_window")[rows].tolist(), (header_lengths > 20).tolist())
        outputs = []
        conversation_numbers = []
        number = self._current.get(stream)
        conversation = self._conversations[number - 1] if number else None
        for row, time, direction, flags, seq, ack, length, window, has_options in inputs:
            reused = conversation is not None and conversation.starts_over(direction, flags, seq)
            if conversation is None or reused:
                conversation = TcpConversation(self._tcp_options, time, reused=reused)
                self._conversations.append(conversation)
                number = len(self._conversations)
                self._current[stream] = number
            outputs.append(conversation.analyse(row, time, direction, flags, seq, ack, length, window,
                                                has_options, reused))
            conversation_numbers.append(number)
        results = self._results
        for name, values in zip(_RESULT_COLUMNS, zip(*outputs)):
            results[name][rows] = values
        results["conversation"][rows] = conversation_numbers

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
