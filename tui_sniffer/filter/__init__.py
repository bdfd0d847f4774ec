"""Wireshark display filters: compile once, then test dissected packets or whole column stores.

    compiled = compile_filter("tcp.port == 80 and ip.src == 10.0.0.0/8")
    compiled.matches(packet)                 # one DissectedPacket
    verdict = evaluate_columns(compiled, store_columns)   # all packets at once, three-valued

A bad filter raises FilterError with tshark's message and the span it points at; format_error
prints it the way `tshark -Y` does. A filter that compiles but uses deprecated syntax carries
Wireshark's warnings in `compiled.warnings`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from tui_sniffer.dissect.fields import FieldDef, lookup
from tui_sniffer.dissect.tree import DissectedPacket
from tui_sniffer.filter import bound
from tui_sniffer.filter.columns import ALIAS_COLUMNS, ColumnSource, ColumnVerdict, evaluate_columns
from tui_sniffer.filter.errors import FilterError, format_error
from tui_sniffer.filter.evaluate import compile_test
from tui_sniffer.filter.parser import parse
from tui_sniffer.filter.semantics import Checker, with_wireshark_names
from tui_sniffer.filter.warnings import filter_warnings, with_aliases

__all__ = ["ALIAS_COLUMNS", "ColumnSource", "ColumnVerdict", "CompiledFilter", "FilterError",
           "compile_filter", "evaluate_columns", "format_error"]


@dataclass(frozen=True, eq=False)
class CompiledFilter:
    """A checked display filter; an empty filter (`test` None) matches every packet."""

    text: str
    test: bound.Test | None
    field_names: tuple[str, ...]
    _packet_test: Callable[[DissectedPacket], bool] = field(repr=False)
    warnings: tuple[str, ...] = ()
    """Wireshark's warnings for a valid but deprecated filter (`~=`, `ssl`), the first to show first."""

    def matches(self, packet: DissectedPacket) -> bool:
        """Whether a dissected packet passes the filter."""
        return self._packet_test(packet)

    @property
    def is_empty(self) -> bool:
        """Whether the filter is blank (shows everything)."""
        return self.test is None


def compile_filter(text: str, *, resolve: Callable[[str], FieldDef | None] = lookup) -> CompiledFilter:
    """Parse, check and compile a display filter; raises FilterError (message + span) when invalid.

    `resolve` maps a name to its registry entry; tests pass their own to stay off the global registry.
    """
    plain_resolve = with_wireshark_names(resolve)
    resolve = with_aliases(plain_resolve)
    syntax_tree = parse(text, resolve)
    if syntax_tree is None:
        return CompiledFilter(text, None, (), lambda packet: True)
    test = Checker(text, resolve).check_test(syntax_tree)
    return CompiledFilter(text, test, tuple(bound.referenced_fields(test)), compile_test(test),
                          filter_warnings(text, plain_resolve))
