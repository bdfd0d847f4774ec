"""The recently opened capture files, kept as JSON in the user's config directory."""
from __future__ import annotations

import json
import os
from pathlib import Path

_RECENT_LIMIT = 10


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/tui-sniffer` (default `~/.config/tui-sniffer`)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tui-sniffer"


def load_recent_files() -> list[str]:
    """Recent files, newest first; an unreadable or missing list is empty."""
    try:
        entries = json.loads((config_dir() / "recent.json").read_text())
    except (OSError, ValueError):
        return []
    return [entry for entry in entries if isinstance(entry, str)][:_RECENT_LIMIT]


def remember_file(path: str) -> None:
    """Put `path` (absolute) first in the recent list; failures to write are ignored."""
    absolute = str(Path(path).resolve())
    entries = [absolute] + [entry for entry in load_recent_files() if entry != absolute]
    try:
        config_dir().mkdir(parents=True, exist_ok=True)
        (config_dir() / "recent.json").write_text(json.dumps(entries[:_RECENT_LIMIT], indent=1))
    except OSError:
        pass


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
