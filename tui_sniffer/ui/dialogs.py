"""Modal screens: the help listing every binding, go-to-packet, and Apply as Filter's choices."""
from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from rich.text import Text
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui_sniffer.ui.actions import ALL_ACTIONS, shown_keys
from tui_sniffer.ui.selected_filter import ApplyChoice, combined_filter
from tui_sniffer.ui.text_safety import printable


def bindings_table() -> Table:
    """Every action with its keys, from the one registry."""
    table = Table(box=None, show_header=True, header_style="bold", expand=True)
    table.add_column("Keys", no_wrap=True)
    table.add_column("Action")
    for spec in ALL_ACTIONS:
        table.add_row(shown_keys(spec.keys), spec.description)
    table.add_row("ctrl+p", "Command palette: every action by name")
    table.add_row("mouse", "Click a row, tree line or byte to select it; wheel scrolls")
    return table


class HelpScreen(ModalScreen[None]):
    """Every key binding, read from the action registry."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Label("tui-sniffer keys (esc to close)", id="help-title")
            with VerticalScroll():
                yield Static(bindings_table())


class GoToScreen(ModalScreen[int | None]):
    """Ask for a packet number; dismisses with it, or None on Esc."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="goto-dialog"):
            yield Label("Go to packet:")
            yield Input(placeholder="packet number", type="integer", id="goto-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(int(event.value) if event.value.strip() else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ApplyAsFilterScreen(ModalScreen[str | None]):
    """Wireshark's Apply as Filter menu for the selected line: each choice shows the filter it applies."""

    BINDINGS = [Binding("escape,q", "cancel", "Cancel")]

    def __init__(self, current: str, selected: str) -> None:
        super().__init__()
        self.filters = {choice: combined_filter(choice, current, selected) for choice in ApplyChoice}

    def compose(self) -> ComposeResult:
        with Vertical(id="apply-dialog"):
            yield Label("Apply as Filter (Enter applies · Esc cancels)", id="apply-title")
            options = []
            for choice, text in self.filters.items():
                prompt = Table.grid(padding=(0, 2))
                prompt.add_column(width=18, no_wrap=True, style="bold")
                prompt.add_column()
                prompt.add_row(choice.value, Text(printable(text)))
                options.append(Option(prompt, id=choice.name))
            yield OptionList(*options, id="apply-choices")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.filters[ApplyChoice[event.option.id or "SELECTED"]])

    def action_cancel(self) -> None:
        self.dismiss(None)
