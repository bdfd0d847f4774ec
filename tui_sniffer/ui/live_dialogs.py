"""Dialogs of live capture: save packets (name, pcapng or pcap, all or displayed; discard when quitting)
and change the capture filter."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet

from tui_sniffer.ui.live_widgets import CaptureFilterInput
from tui_sniffer.ui.text_safety import printable

DIALOG_CSS = """
#save-dialog, #capture-filter-dialog {
    width: 80; height: auto; border: round $accent; background: $surface; padding: 0 1;
}
#save-dialog RadioSet { width: 100%; }
#save-buttons { height: auto; margin-top: 1; }
#save-buttons Button { margin-right: 1; }
.dialog-title { text-style: bold; color: $accent; margin-bottom: 1; }
.dialog-problem { color: $error; height: auto; }
"""


@dataclass(frozen=True, slots=True)
class SaveRequest:
    """Where and how to save: a path, its format, and whether only the displayed packets go."""

    path: str
    format: Literal["pcap", "pcapng"]
    displayed_only: bool = False


SaveAnswer = SaveRequest | Literal["discard"] | None
"""What the save dialog returns: a request, "discard" (only when quitting), or None for cancel."""


def default_save_name(now: float | None = None) -> str:
    """`capture-20250101-120000.pcapng` in the current directory."""
    return f"capture-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}.pcapng"


def with_extension(path: str, format: str) -> str:
    """`path` ending in `.pcap` or `.pcapng` to match `format` (other names keep theirs and gain one)."""
    stem, extension = os.path.splitext(path)
    if extension.lower() in (".pcap", ".pcapng"):
        return f"{stem}.{format}"
    return f"{path}.{format}" if path else ""


class SaveCaptureScreen(ModalScreen[SaveAnswer]):
    """Ask for a file name, pcapng or pcap, all or displayed packets; offers Discard when quitting."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, packet_count: int, displayed_count: int, reason: str = "", offer_discard: bool = False,
                 name: str | None = None) -> None:
        super().__init__()
        self.packet_count, self.displayed_count = packet_count, displayed_count
        self.reason, self.offer_discard = reason, offer_discard
        self.initial_name = name or default_save_name()

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog"):
            yield Label(self.reason or "Save packets", classes="dialog-title")
            yield Label("File name:")
            yield Input(self.initial_name, id="save-name")
            with RadioSet(id="save-format"):
                yield RadioButton("pcapng (every interface, comments, nanoseconds)", value=True, id="pcapng")
                yield RadioButton("pcap (classic libpcap format, one link type)", id="pcap")
            with RadioSet(id="save-scope"):
                yield RadioButton(f"All {self.packet_count} packets", value=True, id="all")
                yield RadioButton(f"Only the {self.displayed_count} displayed packets", id="displayed",
                                  disabled=self.displayed_count == self.packet_count)
            yield Label("", id="save-problem", classes="dialog-problem")
            with Horizontal(id="save-buttons"):
                yield Button("Save", variant="primary", id="save")
                if self.offer_discard:
                    yield Button("Discard", variant="error", id="discard")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#save-name", Input).focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        if event.radio_set.id == "save-format":
            name_input = self.query_one("#save-name", Input)
            name_input.value = with_extension(name_input.value, event.pressed.id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self._save()
        elif event.button.id == "discard":
            self.dismiss("discard")
        else:
            self.dismiss(None)

    def _save(self) -> None:
        """Answer with the request, unless the name is empty or names a directory."""
        path = os.path.expanduser(self.query_one("#save-name", Input).value.strip())
        problem = ""
        if not path:
            problem = "Give the file a name."
        elif os.path.isdir(path):
            problem = f"{printable(path)} is a directory."
        if problem:
            self.query_one("#save-problem", Label).update(Text(problem))
            return
        format_id = self.query_one("#save-format", RadioSet).pressed_button.id
        displayed_only = self.query_one("#save-scope", RadioSet).pressed_button.id == "displayed"
        self.dismiss(SaveRequest(path, format_id, displayed_only))

    def action_cancel(self) -> None:
        self.dismiss(None)


class CaptureFilterScreen(ModalScreen[str | None]):
    """Edit the capture filter (checked as you type); Enter answers with it, Esc with None."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str, interface_names: list[str], link_types: tuple[int, ...]) -> None:
        super().__init__()
        self.current, self.interface_names, self.link_types = current, interface_names, link_types

    def compose(self) -> ComposeResult:
        names = ", ".join(printable(name) for name in self.interface_names)
        with Vertical(id="capture-filter-dialog"):
            yield Label(f"Capture filter on {names} (libpcap syntax) · Enter restarts the capture · Esc cancels",
                        classes="dialog-title")
            yield CaptureFilterInput(self.current, self.link_types, id="capture-filter-dialog-input")
            yield Label("", id="capture-filter-dialog-problem", classes="dialog-problem")

    def on_mount(self) -> None:
        self.query_one(CaptureFilterInput).focus()

    def on_capture_filter_input_checked(self, event: CaptureFilterInput.Checked) -> None:
        self.query_one("#capture-filter-dialog-problem", Label).update(Text(event.problem or ""))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        filter_input = self.query_one(CaptureFilterInput)
        if filter_input.check() is None:
            self.dismiss(filter_input.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
