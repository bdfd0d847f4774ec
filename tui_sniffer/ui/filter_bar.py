"""The display filter bar: `/` focuses it, it validates as you type, Enter applies, Esc restores.

Green when the filter is valid, yellow when it is valid but Wireshark would warn, red when it is
not, with the error's caret and message (or the warning) on a line that floats under the bar.
Tab completes field names from the registry, showing their descriptions; up/ctrl+r walk the
filters applied before, kept across runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import DescendantBlur, DescendantFocus
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui_sniffer.dissect.fields import all_fields
from tui_sniffer.filter import CompiledFilter, FilterError, compile_filter
from tui_sniffer.ui.field_completion import completed, completions, name_at_cursor
from tui_sniffer.ui.recent_files import FILTER_HISTORY
from tui_sniffer.ui.text_safety import printable


_NAME_COLUMN = 32
"""The widest field-name column in the suggestion list before descriptions start."""


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
    """A one-line input for a Wireshark display filter, coloured by whether it compiles."""

    @dataclass
    class FilterRequested(Message):
        """The user applied a valid filter (empty text shows every packet)."""

        compiled: CompiledFilter

    @dataclass
    class EditingLeft(Message):
        """The user pressed Esc; the bar shows the applied filter again."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="Apply a display filter … (/ focus · Enter apply · Tab complete · "
                                     "↑ history · Esc leave)", id=id, compact=True)
        self.applied_text = ""
        self.checked: CompiledFilter | FilterError = check_filter("")

    def on_input_changed(self, event: Input.Changed) -> None:
        """Colour the bar by whether the text compiles, and whether Wireshark would warn."""
        self.checked = result = check_filter(event.value)
        valid = bool(event.value.strip()) and isinstance(result, CompiledFilter)
        self.set_class(valid and not result.warnings, "-valid")
        self.set_class(valid and bool(result.warnings), "-warning")
        self.set_class(isinstance(result, FilterError), "-invalid")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply(self.value)

    def apply(self, text: str) -> bool:
        """Put `text` in the bar and apply it if it compiles (else say why); whether it was applied."""
        if text != self.value:
            self.value = text
            self.checked = check_filter(text)
        result = self.checked
        if isinstance(result, FilterError):
            self.notify(describe_error(text, result), title="Invalid display filter",
                        severity="error", markup=False)
            if result.has_position:
                self.cursor_position = result.start
            return False
        self.applied_text = text
        self.post_message(self.FilterRequested(result))
        self._leave()
        return True

    def restore(self) -> None:
        """Put back the applied filter's text and hand focus back."""
        self.value = self.applied_text
        self.post_message(self.EditingLeft())
        self._leave()

    def _leave(self) -> None:
        """Hand focus on at once (keys typed next are not the filter's), to the packet list below."""
        if self.has_focus:
            self.screen.focus_next()

    @property
    def text_start_x(self) -> int:
        """The screen column where the first character of the value is drawn."""
        return self.content_region.x - self.scroll_offset.x


def caret_line(text: str, error: FilterError, indent: int) -> Text:
    """`   ^~~~ message`: the error's span marked under the bar's text, then its message."""
    if not error.has_position:
        return Text(printable(error.message), style="bold")
    start = indent + cell_len(text[:error.start])
    marks = "^" + "~" * max(cell_len(text[error.start:error.end]) - 1, 0)
    line = Text(" " * max(start, 0))
    line.append(marks, style="bold")
    line.append(" " + printable(error.message))
    return line


class FilterArea(Vertical):
    """The filter bar with its floating assist: the error or warning line and the field suggestions."""

    BINDINGS = [
        Binding("tab", "complete", "Complete the field name", show=False),
        Binding("up", "older", "Previous filter / suggestion", show=False),
        Binding("down", "newer", "Next filter / suggestion", show=False),
        Binding("ctrl+r", "search_history", "Previous filter containing the typed text", show=False),
        Binding("escape", "leave", "Close suggestions, or restore the applied filter", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.history: list[str] = []
        self._history_position = -1
        self._draft = ""
        self._walked_to: str | None = None

    def compose(self) -> ComposeResult:
        yield FilterBar(id="filter-bar")
        with Vertical(id="filter-assist"):
            yield Static(id="filter-message")
            yield OptionList(id="filter-suggestions", compact=True)

    @property
    def bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    @property
    def suggestions(self) -> OptionList:
        return self.query_one("#filter-suggestions", OptionList)

    @property
    def suggesting(self) -> bool:
        """Whether the suggestion list is showing."""
        return self.suggestions.display and self.query_one("#filter-assist").display

    def on_mount(self) -> None:
        self.history = FILTER_HISTORY.load()
        self.query_one("#filter-assist").display = False
        self.suggestions.can_focus = False

    def on_input_changed(self, event: Input.Changed) -> None:
        typed = event.value != self._walked_to
        if typed:
            self._history_position = -1
            self._walked_to = None
        self._show_assist(suggest=typed)

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        self._show_assist(suggest=False)

    def on_descendant_blur(self, event: DescendantBlur) -> None:
        self.query_one("#filter-assist").display = False

    def on_filter_bar_filter_requested(self, message: FilterBar.FilterRequested) -> None:
        """Remember an applied filter (the message goes on to the app)."""
        if message.compiled.text.strip():
            self.history = FILTER_HISTORY.remember(message.compiled.text)
        self._history_position = -1
        self.query_one("#filter-assist").display = False

    def _show_assist(self, suggest: bool) -> None:
        """Show the error or warning of the text, and (while typing) the field names that fit."""
        bar = self.bar
        message = self.query_one("#filter-message", Static)
        result = bar.checked
        message.set_class(isinstance(result, FilterError), "-error")
        if isinstance(result, FilterError) and bar.value.strip():
            message.update(caret_line(bar.value, result, bar.text_start_x - self.region.x))
            message.display = True
        elif isinstance(result, CompiledFilter) and result.warnings:
            message.update(Text(f"⚠ {printable(result.warnings[0])}"))
            message.display = True
        else:
            message.display = False
        self._fill_suggestions(self._completions() if suggest else [])
        self.query_one("#filter-assist").display = bar.has_focus and (message.display or self.suggesting)

    def _completions(self) -> list[Option]:
        """Options for the registered names that complete the word at the cursor."""
        bar = self.bar
        name = name_at_cursor(bar.value, bar.cursor_position)
        if name is None:
            return []
        found = completions(name.typed, all_fields())
        if [definition.name for definition in found] == [name.typed]:
            return []
        width = min(max((len(definition.name) for definition in found), default=0), _NAME_COLUMN)
        options = []
        for definition in found:
            prompt = Text(definition.name.ljust(width), style="bold")
            prompt.append(f"  {definition.blurb}", style="dim")
            options.append(Option(prompt, id=definition.name))
        return options

    def _fill_suggestions(self, options: list[Option]) -> None:
        """Show `options` in the suggestion list (hidden when empty), the first highlighted."""
        suggestions = self.suggestions
        suggestions.clear_options()
        suggestions.add_options(options)
        suggestions.display = bool(options)
        if options:
            suggestions.highlighted = 0

    def action_complete(self) -> None:
        """Tab: take the highlighted suggestion (or the only one); with none, move to the next pane."""
        if not self.suggesting:
            self._fill_suggestions(self._completions())
            if self.suggestions.option_count != 1:
                if self.suggesting:
                    self.query_one("#filter-assist").display = True
                else:
                    self.screen.focus_next()
                return
        highlighted = self.suggestions.highlighted or 0
        field_name = self.suggestions.get_option_at_index(highlighted).id
        bar = self.bar
        name = name_at_cursor(bar.value, bar.cursor_position)
        if field_name is None or name is None:
            return
        bar.value, bar.cursor_position = completed(bar.value, name, field_name)

    def action_older(self) -> None:
        """Up: the previous suggestion, or the filter applied before the one shown."""
        if self.suggesting:
            self.suggestions.action_cursor_up()
        else:
            self._walk_history(1, lambda entry: True)

    def action_newer(self) -> None:
        """Down: the next suggestion, or the filter applied after the one shown (last: the draft)."""
        if self.suggesting:
            self.suggestions.action_cursor_down()
        else:
            self._walk_history(-1, lambda entry: True)

    def action_search_history(self) -> None:
        """Ctrl+R: the previous applied filter containing the text typed before walking began."""
        if self._history_position < 0:
            self._draft = self.bar.value
        wanted = self._draft.lower()
        self._walk_history(1, lambda entry: wanted in entry.lower())

    def _walk_history(self, step: int, wanted: Callable[[str], bool]) -> None:
        """Move through the history by `step` (1 is older) to the next entry `wanted` accepts."""
        if self._history_position < 0:
            self._draft = self.bar.value
        position = self._history_position + step
        while 0 <= position < len(self.history) and not wanted(self.history[position]):
            position += step
        if position >= len(self.history):
            self.app.bell()
            return
        self._history_position = max(position, -1)
        text = self._draft if self._history_position < 0 else self.history[self._history_position]
        self._walked_to = text
        self.bar.value = text
        self.bar.cursor_position = len(text)

    def action_leave(self) -> None:
        """Esc: close the suggestions, or put back the applied filter and leave the bar."""
        if self.suggesting:
            self.suggestions.display = False
            self._show_assist(suggest=False)
        else:
            self.bar.restore()
