"""An open capture: the file, its packet index, cross-packet analysis and on-demand dissection.

This is the public API for scripts and notebooks (`tui_sniffer.open_capture`) and what the CLI and
the TUI hold: indexing is incremental (`index_more`), dissection happens one packet at a time with
a small cache, and no scapy object outlives the dissection of its packet.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Iterable, Iterator, Literal

from tui_sniffer.analysis.http_pairing import HttpTransactions
from tui_sniffer.analysis.ip_reassembly import IpReassembly
from tui_sniffer.analysis.pairing import RequestPairing
from tui_sniffer.analysis.reassembly import TcpReassembly
from tui_sniffer.analysis.tcp_analysis import TcpAnalysis
from tui_sniffer.analysis.tcp_columns import with_tcp_analysis
from tui_sniffer.analysis.tcp_conversations import TcpConversations
from tui_sniffer.analysis.udp_conversations import UdpTimes
from tui_sniffer.capture import CaptureError, CaptureFile, RawRecord, open_capture_file, open_writer
from tui_sniffer.dissect.engine import dissect_frame
from tui_sniffer.dissect.frame import FrameInfo, TcpAnalysisFlag
from tui_sniffer.dissect.tree import DissectedPacket
from tui_sniffer.filter import CompiledFilter, compile_filter
from tui_sniffer.filter.light import FieldCache, LightDissector
from tui_sniffer.filter.scan import FilterProgress, FilterRun
from tui_sniffer.store.index import PacketIndex

_DISSECTION_CACHE_SIZE = 128


class Capture:
    """A capture file being indexed and dissected on demand; frames are numbered from 1."""

    def __init__(self, capture_file: CaptureFile, *, reassemble: bool = True) -> None:
        self.file = capture_file
        estimate = max(capture_file.size // 200, 1024)
        self.index = PacketIndex(expected_packets=min(estimate, 1 << 22))
        self.tcp = TcpConversations(self.index, self._read_row)
        self.tcp_analysis = TcpAnalysis(self.index, self._read_row, lambda: self.complete)
        """Wireshark's TCP sequence analysis (expert flags, RTTs, bytes in flight), stream by stream."""
        self.pairing = RequestPairing(self.index, self._plain_dissection, lambda: self.complete)
        framing = TcpReassembly(self.index, self._read_row, lambda: self.complete, self._plain_retransmission)
        self.reassembly = framing if reassemble else None
        """TCP reassembly (Wireshark's `tcp.desegment_tcp_streams`); None dissects every segment alone."""
        self.http = HttpTransactions(framing, shown_in_last_segment=reassemble)
        self.framing = framing
        self.ip_fragments = IpReassembly(self.index, self._bare_dissection)
        self.udp_times = UdpTimes(self.index)
        """IPv4/IPv6 fragment reassembly (always on, like Wireshark's default `ip.defragment`)."""
        """Every TCP stream's segments and message boundaries (HTTP pairing and Follow Stream use them
        whether or not `reassemble` shows reassembled messages)."""
        self.error: CaptureError | None = None
        self._filter_cache = FieldCache()
        self.complete = False
        self._batches = capture_file.scan()
        self._cache: OrderedDict[tuple[int, int | None], DissectedPacket] = OrderedDict()
        self._plain_cache: OrderedDict[int, DissectedPacket] = OrderedDict()
        self._index_lock = threading.Lock()

    @property
    def path(self) -> str:
        """The file name the capture was opened from."""
        return self.file.path

    @property
    def indexed_count(self) -> int:
        """How many packets are indexed so far (without finishing the scan)."""
        return self.index.count

    def index_more(self) -> range:
        """Index the next batch of packets; an empty range once the file is done (or damaged)."""
        with self._index_lock:
            if self.complete:
                return range(self.index.count, self.index.count)
            try:
                batch = next(self._batches)
                if batch is None:  # a file a live capture is still writing has nothing new yet
                    return range(self.index.count, self.index.count)
            except StopIteration:
                self.complete = True
                return range(self.index.count, self.index.count)
            except CaptureError as error:
                self.error = error
                self.complete = True
                return range(self.index.count, self.index.count)
            rows = self.index.append_batch(batch)
            self.tcp.observe(rows)
            return rows

    def index_all(self) -> None:
        """Index the whole file, or a growing one as far as it is written (a damaged file's error is in `error`)."""
        while self.index_more():
            pass

    def __len__(self) -> int:
        self.index_all()
        return self.index.count

    def _index_through(self, number: int) -> None:
        """Index until frame `number` is known or the file (or, while growing, what is written of it) ends."""
        while number > self.index.count and self.index_more():
            pass

    def has_frame(self, number: int) -> bool:
        """Whether frame `number` exists, indexing only as far as needed to know."""
        self._index_through(number)
        return 1 <= number <= self.index.count

    def _require_frame(self, number: int) -> None:
        """Raise IndexError unless frame `number` exists."""
        if not self.has_frame(number):
            raise IndexError(f"frame {number} is not in this capture ({self.index.count} frames)")

    def __getitem__(self, number: int) -> DissectedPacket:
        """Frame `number` (1-based), dissected."""
        self._require_frame(number)
        return self.dissect(number)

    def __iter__(self) -> Iterator[DissectedPacket]:
        """Every frame in order, dissected once the whole file is indexed (so replies and reassembly
        that lie ahead are known, as in Wireshark's window and `tshark -2`)."""
        self.index_all()
        for number in self.frame_numbers():
            yield self.dissect(number)

    def frame_numbers(self) -> Iterator[int]:
        """Every frame number in order, indexing as it goes (nothing is dissected)."""
        number = 1
        while True:
            self._index_through(number)
            if number > self.index.count:
                return
            yield number
            number += 1

    def packet_bytes(self, number: int) -> bytes:
        """The captured bytes of frame `number`."""
        self._require_frame(number)
        return self._read_row(number - 1)

    def _read_row(self, row: int) -> bytes:
        """The captured bytes of the packet in index row `row`."""
        index = self.index
        return self.file.read_packet(int(index.column("file_offset")[row]),
                                     int(index.column("captured_length")[row]))

    def frame_info(self, number: int, previous_displayed: int | None = None) -> FrameInfo:
        """Record metadata and every cross-packet fact of frame `number`."""
        info = self._record_info(number, previous_displayed)
        info.annotations.update(self.pairing.annotations(number - 1))
        if info.tcp is not None:
            info.annotations.update(self.http.annotations(number - 1))
        return info

    def _plain_dissection(self, row: int) -> DissectedPacket:
        """Row `row` dissected without request/response annotations (what pairing looks at)."""
        cached = self._plain_cache.get(row)
        if cached is None:
            cached = dissect_frame(self._record_info(row + 1), self._read_row(row))
            if not self.complete:
                return cached
            self._plain_cache[row] = cached
            if len(self._plain_cache) > _DISSECTION_CACHE_SIZE:
                self._plain_cache.popitem(last=False)
        return cached

    def _plain_retransmission(self, row: int) -> bool:
        """Whether TCP analysis calls row a retransmission and not a fast one (reassembly leaves it out)."""
        analysis = self.tcp_analysis.segment(row)
        return analysis is not None and analysis.flags & TcpAnalysisFlag.RETRANSMISSION and \
            not analysis.flags & TcpAnalysisFlag.FAST_RETRANSMISSION

    def _bare_dissection(self, row: int) -> DissectedPacket:
        """Row `row` dissected from its record and bytes alone (what IP fragment reassembly reads)."""
        return dissect_frame(self._record_info(row + 1, with_fragments=False), self._read_row(row))

    def _record_info(self, number: int, previous_displayed: int | None = None, *,
                     with_fragments: bool = True) -> FrameInfo:
        """Record metadata, TCP facts, stream numbers and IP reassembly of frame `number` (no pairing)."""
        row = number - 1
        index = self.index
        timestamps = index.column("timestamp_ns")
        timestamp = int(timestamps[row])
        previous = int(timestamps[row - 1]) if row else timestamp
        shown_before = int(timestamps[previous_displayed - 1]) if previous_displayed else previous
        interface_id = int(index.column("interface_id")[row])
        interfaces = self.file.interfaces
        interface_name = interfaces[interface_id].name if interface_id < len(interfaces) else None
        info = FrameInfo(
            number=number, timestamp_ns=timestamp,
            captured_length=int(index.column("captured_length")[row]),
            wire_length=int(index.column("wire_length")[row]),
            link_type=int(index.column("link_type")[row]), interface_id=interface_id,
            interface_name=interface_name if self.file.format_name == "pcapng" else None,
            since_first=(timestamp - int(timestamps[0])) / 1e9,
            since_previous=(timestamp - previous) / 1e9,
            since_previous_displayed=(timestamp - shown_before) / 1e9,
            comments=list(self.file.packet_comments.get(row, ())),
            tcp=self.tcp.facts(row),
        )
        if info.tcp is not None:
            info.tcp.analysis = self.tcp_analysis.segment(row)
        if self.reassembly is not None and info.tcp is not None:
            info.tcp_payload, _ = self.reassembly.pieces(row)
        udp_stream = int(index.column("udp_stream")[row])
        if udp_stream >= 0:
            info.annotations["udp.stream"] = udp_stream
            info.annotations.update(self.udp_times.annotations(row, udp_stream))
        if with_fragments:
            info.annotations.update(self.ip_fragments.annotations(row))
        return info

    def dissect(self, number: int, previous_displayed: int | None = None) -> DissectedPacket:
        """Dissect frame `number` (cached; `previous_displayed` sets the displayed-delta field)."""
        key = (number, previous_displayed)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        packet = dissect_frame(self.frame_info(number, previous_displayed), self.packet_bytes(number))
        if not self.complete:
            return packet  # frames still to be indexed may add replies or reassembled messages
        self._cache[key] = packet
        if len(self._cache) > _DISSECTION_CACHE_SIZE:
            self._cache.popitem(last=False)
        return packet

    @property
    def growing(self) -> bool:
        """Whether a live capture is still appending to the file, so more packets may come."""
        return self.file.growing

    def finish_growing(self) -> None:
        """The live capture has stopped writing: index to the real end, where a cut record is damage again."""
        self.file.growing = False

    def save_as(self, path: str, format: Literal["pcap", "pcapng"] | None = None,
                frame_numbers: Iterable[int] | None = None) -> int:
        """Write the indexed packets (or only `frame_numbers`) to `path` as recorded; how many were written."""
        index, comments = self.index, self.file.packet_comments
        offsets, captured, wire, times, interface_ids, link_types = (index.column(name) for name in (
            "file_offset", "captured_length", "wire_length", "timestamp_ns", "interface_id", "link_type"))
        rows = range(index.count) if frame_numbers is None else [int(number) - 1 for number in frame_numbers]
        with open_writer(path, self.file.interfaces, format) as writer:
            for row in rows:
                writer.write(RawRecord(
                    data=self.file.read_packet(int(offsets[row]), int(captured[row])), timestamp_ns=int(times[row]),
                    captured_length=int(captured[row]), wire_length=int(wire[row]), link_type=int(link_types[row]),
                    interface_id=int(interface_ids[row]), comments=list(comments.get(row, ()))))
        return len(rows)

    def iter_filter(self, compiled: CompiledFilter, start_row: int = 0) -> Iterator[FilterProgress]:
        """Test the rows indexed so far from `start_row`, yielding matches at least every ~50 ms of work.

        Columns decide most rows at once; only the rest are dissected. It indexes nothing more: call
        again from the last item's `rows_total` once more rows are indexed.
        """
        run = FilterRun(compiled, self.index, self.dissect, own_tcp_payloads=self.reassembly is None,
                        cache=self._filter_cache, light=LightDissector(
                            self.index, self._read_row, self._record_info, self._filter_cache,
                            reassembled=self.reassembly is not None, framing=self.framing),
                        more_columns=lambda columns, start, stop: with_tcp_analysis(
                            columns, self.tcp_analysis, start, stop))
        return run.progress(start_row)

    def filter(self, text: str) -> list[int]:
        """The frame numbers matching a display filter, over the whole file; raises FilterError."""
        compiled = compile_filter(text)
        self.index_all()
        return [int(number) for progress in self.iter_filter(compiled) for number in progress.frames]

    def close(self) -> None:
        """Release the file (and any temporary spool of a pipe or gzip file)."""
        self.file.close()

    def __enter__(self) -> Capture:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_capture(path: str, *, reassemble: bool = True) -> Capture:
    """Open a pcap/pcapng file (gzip or `-` for stdin too); raises CaptureError if unreadable.

    `reassemble=False` dissects every TCP segment on its own, like tshark's
    `-o tcp.desegment_tcp_streams:FALSE`.
    """
    return Capture(open_capture_file(path), reassemble=reassemble)


def open_growing_capture(path: str) -> Capture:
    """Open the file a live capture is writing, to index its packets as they arrive (`index_more`)."""
    return Capture(open_capture_file(path, growing=True))
