"""Drive the TUI headless on a big pcap and print the figures issue 3 sets targets for.

Usage: python bench/bench_tui.py [PCAP]   (default bench/out/big_1000000.pcap, made by make_big_pcap.py)
Prints: time to first rows painted, indexing time, `G` to the last packet with tree and hex shown,
page-down time per screen (dissecting a screen of rows; the list repaint alone; key to frame pressed
one at a time, with and without the tree and hex; key to frame with the key held at a typical repeat
rate), two display filters applied in the bar (first matches listed, run finished), and peak RSS.
Targets: 1 s, 0.5 s, 50 ms, 400 MB at 1,000,000 packets.
"""
from __future__ import annotations

import asyncio
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual import events  # noqa: E402

from tui_sniffer.process_memory import return_freed_blocks_to_os  # noqa: E402
from tui_sniffer.ui.app import SnifferApp  # noqa: E402
from tui_sniffer.ui.filter_bar import FilterBar  # noqa: E402
from tui_sniffer.ui.packet_list import PacketList  # noqa: E402

DEFAULT_PCAP = Path(__file__).resolve().parent / "out" / "big_1000000.pcap"
PAGE_DOWNS = 200
HELD_KEY_RATE = 30.0
TUI_FILTERS = ["tcp.port == 80", 'dns.qry.name contains "example"']


def record_first_row_paint() -> dict[str, float]:
    """Wrap `PacketList.render_line` to note when the compositor first asks for a packet row."""
    painted: dict[str, float] = {}
    render_line = PacketList.render_line

    def recording_render_line(self: PacketList, y: int):
        strip = render_line(self, y)
        if y >= 1 and "first" not in painted and self.selected_number is not None:
            painted["first"] = time.perf_counter()
        return strip

    PacketList.render_line = recording_render_line
    return painted


class Timeline:
    """When the app painted frames, moved the list a page, and showed a packet's tree and hex.

    `App._display` receives every composited screen update (headless too), so its call times are
    the moments a terminal would have been written to.
    """

    def __init__(self) -> None:
        self.frames: list[float] = []
        self.pages: list[float] = []
        self.packets_shown: list[float] = []
        self._wrap(SnifferApp, "_display", self.frames)
        self._wrap(PacketList, "_page", self.pages)
        self._wrap(SnifferApp, "_show_packet", self.packets_shown)

    @staticmethod
    def _wrap(owner: type, name: str, times: list[float]) -> None:
        """Make `owner.name` note the time it finishes in `times`."""
        method = getattr(owner, name)

        def noting(self, *args, **kwargs):
            result = method(self, *args, **kwargs)
            times.append(time.perf_counter())
            return result

        setattr(owner, name, noting)

    def frame_after(self, moment: float) -> float:
        """The first frame painted at or after `moment` (inf if none)."""
        return min((frame for frame in self.frames if frame >= moment), default=float("inf"))


async def pressed_one_at_a_time(pilot, timeline: Timeline) -> tuple[list[float], list[float]]:
    """Page down `PAGE_DOWNS` times, each after the app settled: key→list frame, key→tree+hex frame."""
    list_times, detail_times = [], []
    for _ in range(PAGE_DOWNS):
        timeline.packets_shown.clear()
        before = time.perf_counter()
        await pilot.press("pagedown")
        list_times.append(timeline.frame_after(before) - before)
        detail_times.append(timeline.frame_after(timeline.packets_shown[-1]) - before)
    return list_times, detail_times


async def held_down(app: SnifferApp, pilot, timeline: Timeline, rate: float) -> tuple[list[float], float]:
    """Send `PAGE_DOWNS` page-down keys at `rate` per second without waiting, like a held key.

    Returns each key's time from being sent to the first frame after its page move (queueing
    included, so falling behind shows), and from the last key to the last frame.
    """
    timeline.pages.clear()
    sent = []
    for _ in range(PAGE_DOWNS):
        key = events.Key("pagedown", None)
        key.set_sender(app)
        sent.append(time.perf_counter())
        app._driver.send_message(key)
        await asyncio.sleep(1 / rate)
    await app.workers.wait_for_complete()
    await pilot.pause(0.2)
    latencies = [timeline.frame_after(page) - key_sent for key_sent, page in zip(sent, timeline.pages)]
    return latencies, max(timeline.frames) - sent[-1]


async def filter_in_tui(app: SnifferApp, pilot, text: str) -> tuple[float, float, int]:
    """Apply `text` in the filter bar: seconds from Enter to the first matches listed, to the run's
    end, and how many packets it displays."""
    bar = app.query_one(FilterBar)
    bar.focus()
    bar.value = text
    await pilot.pause()
    key = events.Key("enter", None)
    key.set_sender(app)
    before = time.perf_counter()
    app._driver.send_message(key)
    first = None
    while True:
        await asyncio.sleep(0.002)
        if first is None and len(app.displayed_packet_numbers):
            first = time.perf_counter() - before
        if app.applied_filter_text == text and not app._filter_running and not app.status.activity:
            done = time.perf_counter() - before
            return (done if first is None else first), done, len(app.displayed_packet_numbers)


def cold_screen_time(packet_list: PacketList) -> float:
    """Seconds to dissect every row of the next screen (none cached), as one full repaint would."""
    packet_list.action_page_down()
    numbers = packet_list.displayed_packet_numbers[int(packet_list.scroll_y):][:packet_list.visible_rows]
    before = time.perf_counter()
    for number in numbers:
        packet_list._packet_row(int(number))
    return time.perf_counter() - before


def repaint_time(packet_list: PacketList, move) -> float:
    """Seconds to run a cursor move and render every visible line, as the next frame would."""
    before = time.perf_counter()
    move()
    for y in range(packet_list.scrollable_content_region.height):
        packet_list.render_line(y)
    return time.perf_counter() - before


def figures(seconds: list[float]) -> str:
    """`median X ms, max Y ms` of a list of durations."""
    return f"median {statistics.median(seconds) * 1000:5.1f} ms, max {max(seconds) * 1000:5.1f} ms"


async def measure(path: Path) -> None:
    """Open `path` in the app at 120×40 and time the user-visible steps."""
    painted = record_first_row_paint()
    timeline = Timeline()
    started = time.perf_counter()
    app = SnifferApp(str(path))
    async with app.run_test(size=(120, 40)) as pilot:
        while "first" not in painted:
            await pilot.pause(0.005)
        first_rows = painted["first"] - started
        rows_shown = app.packet_list.render_line(1).text.strip()
        await app.workers.wait_for_complete()
        await pilot.pause()
        indexed = time.perf_counter() - started
        count = app.capture.indexed_count

        before = time.perf_counter()
        await pilot.press("G")
        last_packet = time.perf_counter() - before
        assert app.selected_packet.number == count and app.hex_pane.data
        assert app.detail_tree.root.children

        packet_list = app.packet_list
        rows_per_screen = packet_list.visible_rows
        packet_list.go_to_number(count // 2)
        await pilot.pause()
        list_only = [repaint_time(packet_list, packet_list.action_page_down) for _ in range(PAGE_DOWNS)]
        packet_list.go_to_number(count * 3 // 4)
        await pilot.pause()
        cold_screens = [cold_screen_time(packet_list) for _ in range(PAGE_DOWNS)]
        packet_list.go_to_number(count // 4)
        await pilot.pause()
        one_at_a_time, with_details = await pressed_one_at_a_time(pilot, timeline)
        packet_list.go_to_number(count // 8)
        await pilot.pause()
        held, held_settle = await held_down(app, pilot, timeline, HELD_KEY_RATE)
        rss_before_filters_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        filters = [(text, *await filter_in_tui(app, pilot, text)) for text in TUI_FILTERS]

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"capture: {path.name}, {count:,} packets, {path.stat().st_size / 1e6:.0f} MB")
    print(f"first rows painted:      {first_rows:6.3f} s   (target < 1 s)   first row: {rows_shown[:60]!r}")
    print(f"fully indexed:           {indexed:6.3f} s   (list usable meanwhile)")
    print(f"G to last packet:        {last_packet * 1000:6.1f} ms  (target < 500 ms, tree + hex shown)")
    print(f"page down, target < 50 ms per screen ({PAGE_DOWNS} screens of {rows_per_screen} rows each way):")
    print(f"  a screen of rows dissected (none cached):       {figures(cold_screens)}")
    print(f"  list repaint, no prefetch (rows past 15 ms of dissection as placeholders): {figures(list_only)}")
    print(f"  pressed one at a time, key to list painted:      {figures(one_at_a_time)}")
    print(f"  pressed one at a time, key to tree+hex painted:  {figures(with_details)}")
    print(f"  held at {HELD_KEY_RATE:.0f} keys/s, key to list painted:        {figures(held)}; "
          f"last key to last frame {held_settle * 1000:.0f} ms")
    for text, first, done, shown in filters:
        print(f"filter {text!r} in the bar: first matches listed {first * 1000:.0f} ms, done {done:.2f} s, "
              f"{shown:,} displayed")
    print(f"peak RSS:                {peak_rss_mb:6.0f} MB  (target < 400 MB; {rss_before_filters_mb:.0f} MB "
          f"before the filters ran)")


def main() -> None:
    return_freed_blocks_to_os()
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PCAP
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(Path(__file__).parent / "make_big_pcap.py"), str(path)], check=True)
    asyncio.run(measure(path))


if __name__ == "__main__":
    main()
