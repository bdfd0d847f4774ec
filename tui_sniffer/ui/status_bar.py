"""The status bar: file, packet counts, loading progress and the selected field, fitted to its width."""
from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.widget import Widget

from tui_sniffer.ui.text_safety import printable

_SEPARATOR = " · "
_SHORT_FILE_NAME = 18

_DEGRADATION_STEPS = ("help", "capture", "file", "counts", "loading", "counts", "file", "capture")
"""Which part gives up room next when the line is too wide: each step moves that part to its next
shorter form (the last form of "help" and "file" is nothing). The field name and description, a
problem and the filter's progress keep their room longest; what still does not fit is cut with "…"."""


@dataclass(slots=True)
class StatusFacts:
    """What the status bar reports, gathered by the app."""

    file_name: str = ""
    packet_count: int = 0
    displayed_count: int = 0
    loading_progress: float | None = None
    problem: str = ""
    activity: str = ""
    field_text: str = ""
    time_format_label: str = ""
    capture_forms: tuple[str, ...] = ()
    """A live capture's state and counters, from fullest to shortest form (empty for files)."""


def shortened_middle(text: str, width: int) -> str:
    """`text` cut to `width` cells with "…" in the middle, keeping its end (`capt…01.pcapng`)."""
    if cell_len(text) <= width:
        return text
    tail = (width - 1) // 2
    return set_cell_size(text, width - 1 - tail) + "…" + text[-tail:]


def _part_forms(facts: StatusFacts) -> dict[str, tuple[tuple[str, ...], str]]:
    """Each part of the line: its forms from longest to shortest, and its style."""
    shown = facts.displayed_count / facts.packet_count * 100 if facts.packet_count else 100.0
    counts = (f"Packets: {facts.packet_count}{_SEPARATOR}Displayed: {facts.displayed_count} ({shown:.1f}%)",
              f"Displayed: {facts.displayed_count}/{facts.packet_count} ({shown:.1f}%)",
              f"{facts.displayed_count}/{facts.packet_count}")
    name = printable(facts.file_name)
    parts = {"file": ((name, shortened_middle(name, _SHORT_FILE_NAME), ""), ""),
             "counts": (counts, "")}
    if facts.capture_forms:
        parts["capture"] = (facts.capture_forms, "bold")
    if facts.loading_progress is not None:
        percent = f"{facts.loading_progress * 100:.0f}%"
        parts["loading"] = ((f"Loading {percent}…", f"Load {percent}"), "")
    if facts.activity:
        parts["activity"] = ((printable(facts.activity),), "")
    if facts.problem:
        parts["problem"] = ((printable(facts.problem),), "bold")
    if facts.field_text:
        parts["field"] = ((printable(facts.field_text),), "italic")
    parts["help"] = (("? help", ""), "")
    return parts


def status_text(facts: StatusFacts, width: int | None = None) -> Text:
    """The bar's line, `demo.pcapng · Packets: 80 · Displayed: 80 (100.0%) · …`, fitted to `width`."""
    if not facts.file_name:
        line = Text("No capture open · ctrl+o open · ? help · q quit")
    else:
        parts = _part_forms(facts)
        chosen = dict.fromkeys(parts, 0)
        line = _joined(parts, chosen)
        for step in _DEGRADATION_STEPS:
            if width is None or line.cell_len <= width:
                break
            if step in parts:
                chosen[step] = min(chosen[step] + 1, len(parts[step][0]) - 1)
                line = _joined(parts, chosen)
    if width is not None:
        line.truncate(width, overflow="ellipsis")
    return line


def _joined(parts: dict[str, tuple[tuple[str, ...], str]], chosen: dict[str, int]) -> Text:
    """The chosen form of every part, empty ones left out, between separators."""
    line = Text()
    for key, (forms, style) in parts.items():
        text = forms[chosen[key]]
        if text:
            if line:
                line.append(_SEPARATOR)
            line.append(text, style=style)
    return line


class StatusBar(Widget):
    """One line at the bottom showing `StatusFacts`, re-fitted whenever its width changes."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.facts = StatusFacts()

    def show(self, facts: StatusFacts) -> None:
        """Render `facts` (a repaint only: the bar's size never changes)."""
        self.facts = facts
        self.refresh()

    def render(self) -> Text:
        return status_text(self.facts, self.content_size.width or None)
