"""The full-screen Textual UI (the only package that imports textual or rich)."""
from __future__ import annotations


def run_tui(path: str | None) -> int:
    """Run the app on capture `path`, or on the start screen when None; returns the exit status."""
    from tui_sniffer.ui.app import SnifferApp

    SnifferApp(path).run()
    return 0
