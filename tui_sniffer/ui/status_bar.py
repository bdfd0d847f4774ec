"""The status bar: file, packet counts, loading progress and the selected field."""
from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from tui_sniffer.ui.text_safety import printable


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


def status_text(facts: StatusFacts) -> Text:
    """The bar's line: `demo.pcapng · Packets: 80 · Displayed: 80 (100.0%) · …`."""
    if not facts.file_name:
        return Text("No capture open · ctrl+o open · ? help · q quit")
    shown = facts.displayed_count / facts.packet_count * 100 if facts.packet_count else 100.0
    parts = [printable(facts.file_name), f"Packets: {facts.packet_count}",
             f"Displayed: {facts.displayed_count} ({shown:.1f}%)"]
    if facts.loading_progress is not None:
        parts.append(f"Loading {facts.loading_progress * 100:.0f}%…")
    if facts.activity:
        parts.append(facts.activity)
    line = Text(" · ".join(parts))
    if facts.problem:
        line.append(" · ")
        line.append(printable(facts.problem), style="bold")
    if facts.field_text:
        line.append(" · ")
        line.append(printable(facts.field_text), style="italic")
    line.append(" · ? help")
    return line


class StatusBar(Static):
    """One line at the bottom showing `StatusFacts`."""

    def show(self, facts: StatusFacts) -> None:
        """Render `facts`."""
        self.update(status_text(facts))
