"""The display filter bar: `/` focuses it, it validates as you type, Enter applies, Esc restores."""
from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

from tui_sniffer.filter import CompiledFilter, FilterError, compile_filter


def check_filter(text: str) -> CompiledFilter | FilterError:
    """The compiled filter, or the error that says what is wrong and where."""
    try:
        return compile_filter(text)
    except FilterError as error:
        return error


def describe_error(text: str, error: FilterError) -> str:
    """`message` plus the offending part of the filter, for the notification."""
    if error.has_position:
        return f"{error.message} (at column {error.start + 1}: {text[error.start:error.end]!r})"
    return error.message


class FilterBar(Input):
    """A one-line input for a Wireshark display filter, green when valid and red when not."""

    BINDINGS = [Binding("escape", "restore", "Restore the applied filter", show=False)]

    @dataclass
    class FilterRequested(Message):
        """The user pressed Enter on a valid filter (empty text shows every packet)."""

        compiled: CompiledFilter

    @dataclass
    class EditingLeft(Message):
        """The user pressed Esc; the bar shows the applied filter again."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="Apply a display filter … (/ focus · Enter apply · Esc leave)",
                         id=id, compact=True)
        self.applied_text = ""

    def on_input_changed(self, event: Input.Changed) -> None:
        """Colour the bar by whether the text compiles."""
        result = check_filter(event.value)
        self.set_class(bool(event.value.strip()) and isinstance(result, CompiledFilter), "-valid")
        self.set_class(isinstance(result, FilterError), "-invalid")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        result = check_filter(self.value)
        if isinstance(result, FilterError):
            self.notify(describe_error(self.value, result), title="Invalid display filter",
                        severity="error", markup=False)
            if result.has_position:
                self.cursor_position = result.start
            return
        self.applied_text = self.value
        self.post_message(self.FilterRequested(result))

    def action_restore(self) -> None:
        """Put back the applied filter's text and hand focus back."""
        self.value = self.applied_text
        self.post_message(self.EditingLeft())
