"""`python -m tui_sniffer.ui [FILE]`: run the TUI directly."""
from __future__ import annotations

import sys

from tui_sniffer.ui import run_tui

sys.exit(run_tui(sys.argv[1] if len(sys.argv) > 1 else None))
