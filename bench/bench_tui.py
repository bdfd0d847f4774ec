"""Drive the TUI headless on a big pcap and print the figures issue 3 sets targets for.

Usage: python bench/bench_tui.py [PCAP]   (default bench/out/big_1000000.pcap, made by make_big_pcap.py)
Prints: time to first rows painted, indexing time, `G` to the last packet with tree and hex shown,
page-down time per screen, and peak RSS. Targets: 1 s, 0.5 s, 50 ms, 400 MB at 1,000,000 packets.
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

from tui_sniffer.ui.app import SnifferApp  # noqa: E402
from tui_sniffer.ui.packet_list import PacketList  # noqa: E402

DEFAULT_PCAP = Path(__file__).resolve().parent / "out" / "big_1000000.pcap"
PAGE_DOWNS = 30


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


def repaint_time(packet_list: PacketList, move) -> float:
    """Seconds to run a cursor move and render every visible line, as the next frame would."""
    before = time.perf_counter()
    move()
    for y in range(packet_list.scrollable_content_region.height):
        packet_list.render_line(y)
    return time.perf_counter() - before


async def measure(path: Path) -> None:
    """Open `path` in the app at 120×40 and time the user-visible steps."""
    painted = record_first_row_paint()
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
        packet_list.action_top()
        await pilot.pause()
        page_times = [repaint_time(packet_list, packet_list.action_page_down) for _ in range(PAGE_DOWNS)]
        pilot_page_times = []
        for _ in range(PAGE_DOWNS):
            before = time.perf_counter()
            await pilot.press("pagedown")
            pilot_page_times.append(time.perf_counter() - before)

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"capture: {path.name}, {count:,} packets, {path.stat().st_size / 1e6:.0f} MB")
    print(f"first rows painted:      {first_rows:6.3f} s   (target < 1 s)   first row: {rows_shown[:60]!r}")
    print(f"fully indexed:           {indexed:6.3f} s   (list usable meanwhile)")
    print(f"G to last packet:        {last_packet * 1000:6.1f} ms  (target < 500 ms, tree + hex shown)")
    print(f"page down per screen:    median {statistics.median(page_times) * 1000:.1f} ms, "
          f"max {max(page_times) * 1000:.1f} ms  (target < 50 ms, {PAGE_DOWNS} screens, cold rows)")
    print(f"  the same through Pilot key presses (adds the test harness's own waits): median "
          f"{statistics.median(pilot_page_times) * 1000:.1f} ms")
    print(f"peak RSS:                {peak_rss_mb:6.0f} MB  (target < 400 MB)")


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PCAP
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(Path(__file__).parent / "make_big_pcap.py"), str(path)], check=True)
    asyncio.run(measure(path))


if __name__ == "__main__":
    main()
