"""The full-screen Textual UI (the only package that imports textual or rich)."""
from __future__ import annotations


def run_tui(path: str | None, live_settings=None) -> int:
    """Run the app on capture `path`, capturing live with `live_settings`, or on the start screen; the exit status."""
    from tui_sniffer.ui.app import SnifferApp

    SnifferApp(path, live_settings=live_settings).run()
    return 0
