"""Live capture in the app: start, stop, restart, change the capture filter, follow the newest packet,
show the capture's counters, and never lose packets on quit (save, discard or cancel).

`LiveCaptureMixin` is mixed into `SnifferApp`. The capture itself runs in its own thread
(`LiveCapture`); a thread worker indexes the growing spool and posts `LiveCaptureProgressed` at most
every 100 ms, and the handlers here (on the app) own every widget change.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace

from textual import work
from textual.message import Message
from textual.worker import get_current_worker

from tui_sniffer.capture.interfaces import resolve_interface
from tui_sniffer.capture.live import LiveCapture, LiveStatistics
from tui_sniffer.capture.live_settings import LiveCaptureSettings
from tui_sniffer.capture.records import CaptureError
from tui_sniffer.session import Capture, open_growing_capture
from tui_sniffer.ui.live_dialogs import CaptureFilterScreen, SaveAnswer, SaveCaptureScreen, SaveRequest
from tui_sniffer.ui.live_follow import FollowNewestMixin
from tui_sniffer.ui.live_widgets import InterfacePicker, rate_text
from tui_sniffer.ui.packet_list import PacketList
from tui_sniffer.ui.text_safety import printable

POST_INTERVAL_SECONDS = 0.1
"""The follower posts to the app at most this often."""
_QUIET_POST_SECONDS = 1.0
"""With no new packets it still posts this often, so the elapsed time ticks."""


@dataclass
class LiveCaptureProgressed(Message):
    """The live capture `live` has `statistics`; its spool is indexed through `indexed_count` packets."""

    live: LiveCapture
    statistics: LiveStatistics
    indexed_count: int


@dataclass
class LiveCaptureEnded(Message):
    """The live capture `live` stopped (a stop condition, the user, or an interface that went away)."""

    live: LiveCapture
    statistics: LiveStatistics
    indexed_count: int


@dataclass
class CaptureSaved(Message):
    """`count` packets of `capture` were written to `path` (or `error` says why not)."""

    capture: Capture
    path: str
    count: int
    all_packets: bool
    error: str | None = None


def elapsed_text(seconds: float) -> str:
    """`0:01:23` for the status bar."""
    minutes, second = divmod(int(seconds), 60)
    hour, minute = divmod(minutes, 60)
    return f"{hour}:{minute:02d}:{second:02d}"


def capture_state_forms(statistics: LiveStatistics, interfaces: list[str], capture_filter: str) -> tuple[str, ...]:
    """The status bar's capture part, from fullest to shortest form (the bar picks the longest that fits).

    `● Capturing on lo · filter: tcp port 80 · Captured: 12 · Dropped: 0 (kernel 0, own 0) · 3 pkt/s · 0:00:06`,
    then `● lo [tcp port 80] · 12 pkts · 0 dropped · 3 pkt/s · 0:00:06`, `● lo · 12 pkts · 0 dropped · 0:00:06`,
    `● 12`."""
    mark, state = ("●", "Capturing") if statistics.running else ("■", "Stopped")
    where = ", ".join(printable(name) for name in interfaces)
    dropped = statistics.kernel_dropped + statistics.own_dropped
    elapsed = elapsed_text(statistics.elapsed_seconds)
    rate = [rate_text(statistics.packets_per_second)] if statistics.running else []
    shown_filter = printable(capture_filter)
    full = [f"{mark} {state} on {where}", *([f"filter: {shown_filter}"] if capture_filter else []),
            f"Captured: {statistics.captured}",
            f"Dropped: {dropped} (kernel {statistics.kernel_dropped}, own {statistics.own_dropped})", *rate, elapsed]
    medium = [f"{mark} {where}" + (f" [{shown_filter}]" if capture_filter else ""), f"{statistics.captured} pkts",
              f"{dropped} dropped", *rate, elapsed]
    short = [f"{mark} {where}", f"{statistics.captured} pkts", f"{dropped} dropped", elapsed]
    return " · ".join(full), " · ".join(medium), " · ".join(short), f"{mark} {statistics.captured}"


class LiveCaptureMixin(FollowNewestMixin):
    """The app's live-capture state and actions (see the module docstring)."""

    live: LiveCapture | None = None
    """The capture running or last run, whose spool `live_view` reads."""
    live_view: Capture | None = None
    live_settings: LiveCaptureSettings | None = None
    """What the last capture was started with, for start again, restart and filter changes."""
    live_saved_count = 0
    """How many of the last capture's packets were saved (or discarded) by the user."""

    def start_live_capture(self, settings: LiveCaptureSettings) -> bool:
        """Start capturing and show the packets as they come; errors are shown and the app carries on."""
        try:
            live = LiveCapture(settings)
        except CaptureError as error:
            self.notify(printable(str(error)), title="Cannot capture", severity="error", markup=False, timeout=20)
            return False
        try:
            view = open_growing_capture(live.output_path)
        except CaptureError as error:
            live.close()
            live.discard()
            self.notify(printable(str(error)), title="Cannot capture", severity="error", markup=False)
            return False
        self._release_live()
        self.workers.cancel_group(self, "indexing")
        self.live, self.live_view, self.live_settings = live, view, settings
        self.live_saved_count = 0
        name = "live capture" if live.is_temporary else os.path.basename(live.output_path)
        self.show_capture(view, name, loading=False)
        live.start_in_thread()
        self.follow_live_capture(live, view)
        self._show_capture_state(live.statistics())
        return True

    @work(thread=True, exclusive=True, group="live")
    def follow_live_capture(self, live: LiveCapture, view: Capture) -> None:
        """Index the spool as the capture writes it, posting at most every 100 ms (never touching widgets)."""
        worker = get_current_worker()
        last_post, last_count = 0.0, -1
        while not worker.is_cancelled:
            live.written.wait(POST_INTERVAL_SECONDS)
            live.written.clear()
            finished = live.finished.is_set()
            if finished:
                view.finish_growing()
            view.index_all()
            now = time.monotonic()
            if finished:
                self.post_message(LiveCaptureEnded(live, live.statistics(), view.indexed_count))
                return
            if view.indexed_count != last_count or now - last_post >= _QUIET_POST_SECONDS:
                self.post_message(LiveCaptureProgressed(live, live.statistics(), view.indexed_count))
                last_post, last_count = now, view.indexed_count
            time.sleep(max(0.0, POST_INTERVAL_SECONDS - (time.monotonic() - now)))

    def _is_current(self, live: LiveCapture) -> bool:
        """Whether a message about `live` still matters: it is this app's capture and the panes still exist."""
        return live is self.live and bool(self.query(PacketList))  # the panes are gone while the app shuts down

    def on_live_capture_progressed(self, message: LiveCaptureProgressed) -> None:
        if not self._is_current(message.live):
            return
        if self.capture is not self.live_view:  # the user opened another capture: this one ends here
            message.live.request_stop()
            return
        self._follow_newest(self._update_view)
        self._filter_rows_indexed_since()
        self._show_capture_state(message.statistics)

    def on_live_capture_ended(self, message: LiveCaptureEnded) -> None:
        if not self._is_current(message.live):
            return
        if self.capture is self.live_view:
            self._follow_newest(self._update_view)
            self._filter_rows_indexed_since()
        self._show_capture_state(message.statistics)
        reason = message.statistics.stop_reason
        for problem in message.statistics.problems:
            self.notify(printable(problem), title="Capture stopped", severity="warning", markup=False, timeout=20)
        if reason.startswith("cannot"):
            self.notify(printable(reason), title="Capture failed", severity="error", markup=False, timeout=20)
        elif reason in ("packets", "duration", "filesize", "files"):
            self.notify(f"Capture stopped: the {reason} limit was reached.", markup=False, timeout=5)

    def _show_capture_state(self, statistics: LiveStatistics) -> None:
        """Put the capture's counters in the status bar."""
        settings = self.live_settings
        self.status.capture_forms = capture_state_forms(statistics, self.live.interface_names,
                                                        settings.capture_filter if settings else "")
        self._refresh_status()

    @property
    def live_unsaved(self) -> bool:
        """Whether the last capture went only to a temporary spool and has packets nobody saved or discarded."""
        live = self.live
        return live is not None and live.is_temporary and live.statistics().captured > self.live_saved_count

    @property
    def live_running(self) -> bool:
        """Whether a live capture is capturing now."""
        return self.live is not None and not self.live.finished.is_set()

    def action_capture_toggle(self) -> None:
        """Stop the running capture, or start again with the last settings (or pick an interface)."""
        if self.live_running:
            self.action_capture_stop()
        else:
            self.action_capture_start()

    def action_capture_start(self) -> None:
        if self.live_running:
            return
        if self.live_settings is None:
            self.action_open_start()
            return
        self._after_unsaved_settled("Start a new capture", lambda: self.start_live_capture(self.live_settings))

    def action_capture_stop(self) -> None:
        if self.live_running:
            self.live.request_stop()

    def action_capture_restart(self) -> None:
        if self.live_settings is None:
            self.action_open_start()
            return
        self._after_unsaved_settled("Restart the capture", lambda: self.start_live_capture(self.live_settings))

    def action_capture_filter(self) -> None:
        """Ask for a new capture filter, then restart the capture with it."""
        if self.live_settings is None:
            self.action_open_start()
            return
        settings = self.live_settings
        link_types = tuple(sorted({interface.link_type for name in settings.interfaces
                                   if (interface := resolve_interface(name)) and interface.link_type})) or (1,)

        def restart_with(new_filter: str | None) -> None:
            if new_filter is not None:
                changed = replace(settings, capture_filter=new_filter)
                self._after_unsaved_settled("Restart with the new filter", lambda: self.start_live_capture(changed))

        self.push_screen(CaptureFilterScreen(settings.capture_filter, settings.interfaces, link_types), restart_with)

    def on_interface_picker_capture_requested(self, message: InterfacePicker.CaptureRequested) -> None:
        settings = LiveCaptureSettings(message.interfaces, message.capture_filter)

        def start() -> None:
            if self.start_live_capture(settings) and self.screen.query(InterfacePicker):
                self.pop_screen()

        self._after_unsaved_settled("Start a new capture", start)

    def _after_unsaved_settled(self, why: str, then) -> None:
        """Run `then` once the last capture's unsaved packets are saved or discarded (not if cancelled)."""
        if self.live_running:
            self.live.request_stop()
            self.live.finished.wait(2.0)
        if not self.live_unsaved:
            then()
            return
        self._ask_save_or_discard(f"{why}: the packets captured so far are not saved.", then)

    def _ask_save_or_discard(self, reason: str, then) -> None:
        """The save dialog with Discard; `then` runs after a successful save or a discard."""
        view = self.live_view

        def answered(answer: SaveAnswer) -> None:
            if answer == "discard":
                self.live_saved_count = self.live.statistics().captured
                then()
            elif isinstance(answer, SaveRequest):
                self._pending_after_save = then
                self.save_packets(view, answer, self._numbers_to_save(view, answer))

        self.push_screen(SaveCaptureScreen(view.indexed_count, self._displayed_of(view), reason,
                                           offer_discard=True), answered)

    def _displayed_of(self, view: Capture) -> int:
        """How many of `view`'s packets are displayed (all, unless it is the shown capture with a filter)."""
        return len(self.displayed_packet_numbers) if view is self.capture else view.indexed_count

    def _numbers_to_save(self, view: Capture, request: SaveRequest):
        """The frame numbers a request saves (None: every packet)."""
        if request.displayed_only and view is self.capture:
            return self.displayed_packet_numbers.copy()
        return None

    def action_save_capture(self) -> None:
        """ctrl+s: save the shown capture's packets (all or displayed) as pcapng or pcap."""
        view = self.capture
        if view is None:
            self.notify("There are no packets to save.", markup=False)
            return

        def answered(answer: SaveAnswer) -> None:
            if isinstance(answer, SaveRequest):
                self.save_packets(view, answer, self._numbers_to_save(view, answer))

        self.push_screen(SaveCaptureScreen(view.indexed_count, self._displayed_of(view)), answered)

    @work(thread=True, exclusive=True, group="save")
    def save_packets(self, view: Capture, request: SaveRequest, frame_numbers) -> None:
        """Write the packets in a worker (a big capture takes a moment) and report back."""
        try:
            count = view.save_as(request.path, request.format, frame_numbers)
        except (CaptureError, OSError) as error:
            self.post_message(CaptureSaved(view, request.path, 0, False, str(error)))
            return
        self.post_message(CaptureSaved(view, request.path, count, frame_numbers is None))

    def on_capture_saved(self, message: CaptureSaved) -> None:
        then, self._pending_after_save = getattr(self, "_pending_after_save", None), None
        if message.error is not None:
            self.notify(printable(message.error), title="Not saved", severity="error", markup=False, timeout=15)
            return
        if message.capture is self.live_view and message.all_packets and self.live is not None:
            self.live_saved_count = max(self.live_saved_count, message.count)
        self.notify(f"Saved {message.count} packets to {printable(message.path)}", markup=False, timeout=5)
        if then is not None:
            then()

    async def action_quit(self) -> None:
        """Quit, first asking what to do with captured packets that are only in the temporary spool."""
        if self.live_running:
            self.live.request_stop()
            self.live.finished.wait(2.0)
        if self.live_unsaved and self.live_view is not None:
            self._ask_save_or_discard("Quit: the captured packets are not saved.", self.exit)
            return
        self.exit()

    def _release_live(self) -> None:
        """Stop the last capture and delete its temporary spool (its packets were saved or discarded)."""
        if self.live is not None:
            self.live.request_stop()
            self.live.finished.wait(2.0)
            self.live.discard()
        if self.live_view is not None:
            self.live_view.close()
        self.live, self.live_view = None, None

    def on_unmount(self) -> None:
        self._release_live()
