"""Live-capture widgets: a capture-filter input that checks the BPF as you type, and the interface
picker of the start screen with a packets-per-second sparkline per interface."""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from tui_sniffer.capture.bpf import capture_filter_problem
from tui_sniffer.capture.interfaces import NetworkInterface, describe_interface, packet_counters
from tui_sniffer.ui.text_safety import printable

SPARK_LEVELS = " ▁▂▃▄▅▆▇█"
SPARK_SAMPLES = 20
"""How many one-second rates each sparkline shows."""
SAMPLE_SECONDS = 1.0

InterfaceEntry = str | NetworkInterface
"""What the app's `list_interfaces` gives: a name (described from the system) or a full description."""


def sparkline(rates: list[float], width: int = SPARK_SAMPLES) -> str:
    """The last `width` rates as block characters scaled to the largest (blank while idle), right-aligned."""
    shown = rates[-width:]
    peak = max(shown, default=0.0)
    if peak <= 0:
        return " " * width
    top = len(SPARK_LEVELS) - 1
    bars = "".join(SPARK_LEVELS[max(1, round(rate / peak * top)) if rate > 0 else 0] for rate in shown)
    return bars.rjust(width)


def rate_text(rate: float | None) -> str:
    """`1.2k pkt/s`, `35 pkt/s`, or `–` before there are two samples."""
    if rate is None:
        return "–"
    if rate >= 10_000:
        return f"{rate / 1000:.0f}k pkt/s"
    if rate >= 1000:
        return f"{rate / 1000:.1f}k pkt/s"
    return f"{rate:.0f} pkt/s"


class CaptureFilterInput(Input):
    """A capture filter (libpcap syntax) checked as you type: green when it compiles, red with the reason."""

    DEFAULT_CSS = """
    CaptureFilterInput.-valid { border: tall $success; }
    CaptureFilterInput.-invalid { border: tall $error; }
    """

    @dataclass
    class Checked(Message):
        """The text was checked: `problem` says why it is not a usable filter, or is None."""

        input: CaptureFilterInput
        problem: str | None

    def __init__(self, value: str = "", link_types: tuple[int, ...] = (1,), *, id: str | None = None) -> None:
        super().__init__(value, placeholder="capture filter, e.g. tcp port 80 and host 10.0.0.5 (empty: all)",
                         id=id)
        self.link_types = link_types
        self.problem: str | None = None

    def on_input_changed(self, event: Input.Changed) -> None:
        self.check()

    def check(self) -> str | None:
        """Compile the text for the interfaces' link types, colour the border and say so; the problem."""
        self.problem = capture_filter_problem(self.value, self.link_types)
        self.set_class(bool(self.value.strip()) and self.problem is None, "-valid")
        self.set_class(self.problem is not None, "-invalid")
        self.post_message(self.Checked(self, self.problem))
        return self.problem


@dataclass(slots=True)
class _InterfaceRow:
    """One interface in the picker and the rates measured on it."""

    interface: NetworkInterface
    rates: deque[float]
    last_count: int | None = None


class InterfacePicker(Vertical):
    """Interfaces with live packet rates and a capture filter; Enter starts capturing, space marks several."""

    DEFAULT_CSS = """
    InterfacePicker { height: auto; max-height: 60%; }
    InterfacePicker #interface-options { height: auto; max-height: 14; }
    InterfacePicker #capture-filter-problem { color: $error; height: auto; }
    InterfacePicker .picker-heading { text-style: bold; margin-top: 1; }
    """
    BINDINGS = [Binding("space", "toggle_mark", "Mark the interface to capture on several", show=False)]

    @dataclass
    class CaptureRequested(Message):
        """Start capturing on `interfaces` with `capture_filter` (already checked)."""

        interfaces: list[str]
        capture_filter: str

    def __init__(self, list_interfaces: Callable[[], list[InterfaceEntry]],
                 read_counters: Callable[[], dict[str, int]] = packet_counters, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: dict[str, _InterfaceRow] = {}
        for entry in list_interfaces():
            interface = entry if isinstance(entry, NetworkInterface) else (
                describe_interface(entry) or NetworkInterface(name=entry, index=0))
            self._rows[interface.name] = _InterfaceRow(interface, deque(maxlen=SPARK_SAMPLES))
        self._read_counters = read_counters
        self.marked: list[str] = []
        self._sampled_at: float | None = None

    def compose(self) -> ComposeResult:
        yield Label("Capture interfaces (Enter captures · space marks several · tab to the filter)",
                    classes="picker-heading")
        yield OptionList(*[Option(self._prompt(row), id=name) for name, row in self._rows.items()],
                         id="interface-options")
        yield CaptureFilterInput(id="capture-filter-input")
        yield Label("", id="capture-filter-problem")

    def on_mount(self) -> None:
        self._sample()
        self.set_interval(SAMPLE_SECONDS, self._sample)

    def _prompt(self, row: _InterfaceRow) -> Text:
        """`● lo  Loopback  up, loopback  ▁▂▅  35 pkt/s  127.0.0.1, ::1` for one interface."""
        interface = row.interface
        mark = "●" if interface.name in self.marked else " "
        rate = row.rates[-1] if row.rates else None
        line = Text(f"{mark} {printable(interface.name):<12.12} {printable(interface.description):<12.12} "
                    f"{interface.state:<17.17} ")
        line.append(sparkline(list(row.rates)), style="bold")
        addresses = printable(", ".join(interface.addresses))
        line.append(f" {rate_text(rate):>11}  {addresses if len(addresses) <= 28 else addresses[:27] + '…'}")
        return line

    def _sample(self) -> None:
        """Read every interface's packet counter and add a rate to its sparkline."""
        now = time.monotonic()
        counters = self._read_counters()
        elapsed = now - self._sampled_at if self._sampled_at is not None else None
        self._sampled_at = now
        options = self.query_one(OptionList)
        for name, row in self._rows.items():
            count = counters.get(name)
            if count is not None and row.last_count is not None and elapsed:
                row.rates.append(max(count - row.last_count, 0) / elapsed)
            row.last_count = count
            if elapsed:
                options.replace_option_prompt(name, self._prompt(row))

    @property
    def chosen(self) -> list[str]:
        """The marked interfaces, or else the highlighted one."""
        if self.marked:
            return list(self.marked)
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        if highlighted is None:
            return []
        return [options.get_option_at_index(highlighted).id]

    def _link_types(self) -> tuple[int, ...]:
        """The link types the filter must compile for: those of the chosen interfaces (Ethernet by default)."""
        types = {self._rows[name].interface.link_type for name in self.chosen if name in self._rows}
        return tuple(sorted(types - {None})) or (1,)

    def action_toggle_mark(self) -> None:
        """Mark or unmark the highlighted interface."""
        options = self.query_one(OptionList)
        if options.highlighted is None or not options.has_focus:
            return
        name = options.get_option_at_index(options.highlighted).id
        if name in self.marked:
            self.marked.remove(name)
        else:
            self.marked.append(name)
        options.replace_option_prompt(name, self._prompt(self._rows[name]))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._request()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._request()

    def on_capture_filter_input_checked(self, event: CaptureFilterInput.Checked) -> None:
        self.query_one("#capture-filter-problem", Label).update(Text(event.problem or ""))

    def _request(self) -> None:
        """Ask the app to capture on the chosen interfaces, unless the filter does not compile for them."""
        filter_input = self.query_one(CaptureFilterInput)
        filter_input.link_types = self._link_types()
        if filter_input.check() is not None:
            filter_input.focus()
            return
        if self.chosen:
            self.post_message(self.CaptureRequested(self.chosen, filter_input.value.strip()))
