"""The start screen: demo capture, recent files and capture interfaces, opened with Enter."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tui_sniffer.ui.live_widgets import InterfacePicker
from tui_sniffer.ui.recent_files import capture_interfaces, demo_captures, load_recent_files
from tui_sniffer.ui.text_safety import printable


class StartScreen(Screen[None]):
    """Where `tui-sniffer` with no file begins; Enter on an entry opens it.

    `list_interfaces` names the capture interfaces (tests pass a fixed list: machines differ).
    """

    BINDINGS = [Binding("q", "app.quit", "Quit"), Binding("escape", "leave", "Back", show=False),
                Binding("j", "cursor('down')", show=False), Binding("k", "cursor('up')", show=False)]

    @dataclass
    class CaptureChosen(Message):
        """The user chose the capture file at `path`."""

        path: str

    def __init__(self, list_interfaces: Callable[[], list[str]] = capture_interfaces) -> None:
        super().__init__()
        self.list_interfaces = list_interfaces

    def compose(self) -> ComposeResult:
        with Vertical(id="start-panel"):
            yield Label("tui-sniffer — open a capture (Enter opens · q quits)", id="start-title")
            yield OptionList(*self._options(), id="start-options")
            yield InterfacePicker(self.list_interfaces, id="interface-picker")

    def _options(self) -> list[Option | None]:
        """Headings and entries: demo and recent files (the interface picker below lists interfaces)."""
        options: list[Option | None] = [Option(Text("Demo capture", style="bold"), disabled=True)]
        demos = demo_captures()
        options += [Option(Text(f"  {printable(path.name)}   (bundled with tui-sniffer)"), id=f"file:{path}")
                    for path in demos]
        recent = [path for path in load_recent_files() if Path(path).is_file() and Path(path) not in demos]
        options.append(Option(Text("Recent files", style="bold"), disabled=True))
        options += [Option(Text(f"  {printable(path)}"), id=f"file:{path}") for path in recent]
        if not recent:
            options.append(Option(Text("  (none yet)"), disabled=True))
        return options

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        options.action_first()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        kind, _, value = (event.option.id or "").partition(":")
        if kind == "file":
            self.post_message(self.CaptureChosen(value))

    def action_cursor(self, direction: str) -> None:
        focused = self.focused
        options = focused if isinstance(focused, OptionList) else self.query_one("#start-options", OptionList)
        if direction == "down":
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_leave(self) -> None:
        """Esc goes back to the open capture, if there is one."""
        if getattr(self.app, "capture", None) is not None:
            self.dismiss()
