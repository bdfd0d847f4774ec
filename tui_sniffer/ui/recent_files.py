"""What tui-sniffer remembers across runs in the user's config directory: recent files, filter history."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/tui-sniffer` (default `~/.config/tui-sniffer`)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tui-sniffer"


@dataclass(frozen=True, slots=True)
class RecentList:
    """A newest-first list of strings kept as JSON in the config directory, at most `limit` long."""

    file_name: str
    limit: int

    def load(self) -> list[str]:
        """The entries, newest first; an unreadable or missing list is empty."""
        try:
            entries = json.loads((config_dir() / self.file_name).read_text())
        except (OSError, ValueError):
            return []
        if not isinstance(entries, list):
            return []
        return [entry for entry in entries if isinstance(entry, str)][:self.limit]

    def remember(self, entry: str) -> list[str]:
        """Put `entry` first (once) and save; the new list (failures to write are ignored)."""
        entries = [entry] + [old for old in self.load() if old != entry]
        entries = entries[:self.limit]
        try:
            config_dir().mkdir(parents=True, exist_ok=True)
            (config_dir() / self.file_name).write_text(json.dumps(entries, indent=1))
        except OSError:
            pass
        return entries


RECENT_FILES = RecentList("recent.json", 10)
FILTER_HISTORY = RecentList("filter_history.json", 100)
"""Display filters applied, like Wireshark's recent display filters."""


def load_recent_files() -> list[str]:
    """Recently opened capture files, newest first."""
    return RECENT_FILES.load()


def remember_file(path: str) -> None:
    """Put `path` (made absolute) first in the recent files."""
    RECENT_FILES.remember(str(Path(path).resolve()))


def demo_captures() -> list[Path]:
    """The bundled demo capture, or the repository's fixtures while it does not exist yet."""
    fixtures = Path(__file__).resolve().parents[2] / "fixtures"
    demo = fixtures / "demo.pcapng"
    if demo.is_file():
        return [demo]
    return sorted(fixtures.glob("*.pcap"))


def capture_interfaces() -> list[str]:
    """Network interface names from `/sys/class/net` (empty where that is absent)."""
    try:
        return sorted(os.listdir("/sys/class/net"))
    except OSError:
        return []
