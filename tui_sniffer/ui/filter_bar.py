"""The display filter bar: `/` focuses it, Enter applies, Esc restores the applied filter."""
from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

try:
    from tui_sniffer.filter import compile_filter
except ImportError:
    compile_filter = None

FILTER_AVAILABLE = compile_filter is not None


class FilterBar(Input):
    """A one-line input for a Wireshark display filter; inert until the filter language exists."""

    BINDINGS = [Binding("escape", "restore", "Restore the applied filter", show=False)]

    @dataclass
    class FilterRequested(Message):
        """The user pressed Enter on filter `text` (empty clears the filter)."""

        text: str

    @dataclass
    class EditingLeft(Message):
        """The user pressed Esc; the bar shows the applied filter again."""

    def __init__(self, *, id: str | None = None) -> None:
        hint = ("Apply a display filter … (/ to focus, Enter to apply, Esc to leave)" if FILTER_AVAILABLE
                else "Display filters are not available yet (the filter language is being built) · Esc to leave")
        super().__init__(placeholder=hint, id=id, compact=True)
        self.applied_text = ""

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.FilterRequested(self.value.strip()))

    def action_restore(self) -> None:
        """Put back the applied filter's text and hand focus back."""
        self.value = self.applied_text
        self.post_message(self.EditingLeft())
