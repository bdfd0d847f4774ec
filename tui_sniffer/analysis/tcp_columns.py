"""TCP analysis results as display-filter columns, so `tcp.analysis.*` filters need no dissection.

`with_tcp_analysis(columns, analysis)` wraps the index's ColumnSource for some rows: the analysis
fields come from TcpAnalysis (every stream analysed once, from the index alone), everything else
from the wrapped source. A field's count follows the tree the dissector would draw, and is "cannot
tell" wherever the index is unsure the packet's TCP layer is the one analysed (tunnels, ICMP errors).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from tui_sniffer.analysis.tcp_analysis import TcpAnalysis
from tui_sniffer.analysis.tcp_sequence import FIN_ACTIVE, HAS_ANALYSIS
from tui_sniffer.dissect.frame import TcpAnalysisFlag as Flag
from tui_sniffer.filter.columns import ColumnSource

_UNKNOWN = -1
_RETRANSMITTED = Flag.RETRANSMISSION | Flag.FAST_RETRANSMISSION | Flag.SPURIOUS_RETRANSMISSION
_FLAG_FIELDS = {
    "tcp.analysis.retransmission": _RETRANSMITTED, "tcp.analysis.fast_retransmission": Flag.FAST_RETRANSMISSION,
    "tcp.analysis.spurious_retransmission": Flag.SPURIOUS_RETRANSMISSION,
    "tcp.analysis.out_of_order": Flag.OUT_OF_ORDER, "tcp.analysis.lost_segment": Flag.LOST_SEGMENT,
    "tcp.analysis.ack_lost_segment": Flag.ACK_LOST_SEGMENT, "tcp.analysis.zero_window": Flag.ZERO_WINDOW,
    "tcp.analysis.zero_window_probe": Flag.ZERO_WINDOW_PROBE,
    "tcp.analysis.zero_window_probe_ack": Flag.ZERO_WINDOW_PROBE_ACK, "tcp.analysis.window_full": Flag.WINDOW_FULL,
    "tcp.analysis.window_update": Flag.WINDOW_UPDATE, "tcp.analysis.keep_alive": Flag.KEEP_ALIVE,
    "tcp.analysis.keep_alive_ack": Flag.KEEP_ALIVE_ACK, "tcp.analysis.reused_ports": Flag.REUSED_PORTS,
}
"""FT_NONE expert fields and the flags that show them (once each; a duplicate ACK shows its field twice)."""


def with_tcp_analysis(columns: ColumnSource, analysis: TcpAnalysis, start: int, stop: int) -> ColumnSource:
    """`columns` (over index rows [start, stop)) with the TCP analysis fields added."""
    return _AnalysisColumns(columns, analysis, start, stop)


class _AnalysisColumns:
    """A ColumnSource answering the TCP analysis fields itself and every other field from `inner`."""

    def __init__(self, inner: ColumnSource, analysis: TcpAnalysis, start: int, stop: int) -> None:
        self._inner = inner
        self._analysis = analysis
        self._rows = slice(start, stop)
        self._cache: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}

    def __len__(self) -> int:
        return len(self._inner)

    def column(self, field_name: str) -> np.ndarray | None:
        found = self._field(field_name)
        return self._inner.column(field_name) if found is None else found[1]

    def occurrences(self, field_name: str) -> np.ndarray | None:
        found = self._field(field_name)
        return self._inner.occurrences(field_name) if found is None else found[0]

    def _field(self, field_name: str) -> tuple[np.ndarray, np.ndarray | None] | None:
        """(counts, values) of an analysis field over these rows, or None for any other field."""
        if field_name not in self._cache:
            make = _FIELDS.get(field_name)
            if make is None:
                return None
            results = self._analysis.columns(self._rows)
            shown, values = make(results)
            tcp = self._inner.occurrences("tcp")
            if tcp is None:
                tcp = np.full(len(self), _UNKNOWN, dtype=np.int8)
            counts = np.where(tcp == 1, shown, np.where(tcp == 0, 0, _UNKNOWN)).astype(np.int8)
            self._cache[field_name] = counts, values
        return self._cache[field_name]


def _flag(flags: int, times: int = 1) -> Callable[[dict[str, np.ndarray]], tuple[np.ndarray, None]]:
    """An expert field shown `times` times where any of `flags` is set."""
    return lambda results: ((results["flags"] & int(flags) != 0) * times, None)


def _value(name: str, shown: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None, scale: float = 1.0):
    """A value field: the result column `name` (times `scale`), shown where `shown` (default: non-zero)."""
    def make(results: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        values = results[name]
        present = values != 0 if shown is None else shown(results)
        return present.astype(np.int8), values * scale if scale != 1.0 else values
    return make


_FIELDS: dict[str, Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray | None]]] = {
    **{name: _flag(flags) for name, flags in _FLAG_FIELDS.items()},
    "tcp.analysis.duplicate_ack": _flag(Flag.DUPLICATE_ACK, 2),
    "tcp.analysis": _flag(HAS_ANALYSIS),
    "tcp.analysis.flags": _flag(0xFFFF),
    "tcp.connection.fin_active": lambda results: ((results["flags"] & FIN_ACTIVE != 0) & results["fin"], None),
    "tcp.connection.fin_passive": lambda results: ((results["flags"] & FIN_ACTIVE == 0) & results["fin"], None),
    "tcp.analysis.acks_frame": _value("acks_frame"),
    "tcp.analysis.ack_rtt": _value("ack_rtt", lambda results: (results["acks_frame"] != 0)
                                   & (results["ack_rtt"] != 0), 1e-9),
    "tcp.analysis.initial_rtt": _value("initial_rtt", lambda results: (results["flags"] & HAS_ANALYSIS != 0)
                                       & (results["initial_rtt"] != 0), 1e-9),
    "tcp.analysis.bytes_in_flight": _value("bytes_in_flight"),
    "tcp.analysis.push_bytes_sent": _value("push_bytes_sent", lambda results: results["bytes_in_flight"] != 0),
    "tcp.analysis.duplicate_ack_num": _value("duplicate_ack_number"),
    "tcp.analysis.duplicate_ack_frame": _value("duplicate_ack_frame",
                                               lambda results: results["duplicate_ack_number"] != 0),
    "tcp.analysis.rto": _value("rto", None, 1e-9),
    "tcp.analysis.rto_frame": _value("rto_frame", lambda results: results["rto"] != 0),
    "tcp.time_relative": _value("time_relative", lambda results: np.ones(len(results["flags"]), bool), 1e-9),
    "tcp.time_delta": _value("time_delta", lambda results: np.ones(len(results["flags"]), bool), 1e-9),
    "tcp.completeness": _value("completeness", lambda results: np.ones(len(results["flags"]), bool)),
}
"""How to make each analysis field's (counts, values) from TcpAnalysis.columns."""
