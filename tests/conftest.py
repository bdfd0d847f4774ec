"""Shared test settings: where the fixtures are and whether tshark (the oracle) is installed."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TSHARK = shutil.which("tshark")
FIXTURE_CAPTURES = sorted(path for path in FIXTURES.glob("*.pcap*"))

needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark (Debian package 'tshark') is not "
                                  "installed, so there is no oracle to compare with; .ci/run installs it")
