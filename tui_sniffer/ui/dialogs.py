"""Modal screens: the help listing every binding, and go-to-packet."""
from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui_sniffer.ui.actions import ALL_ACTIONS, shown_keys


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
