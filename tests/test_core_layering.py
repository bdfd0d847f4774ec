"""Nothing below tui_sniffer/ui imports textual or rich: the core runs headless."""
from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import tui_sniffer

CORE_MODULES = sorted(
    module.name for module in pkgutil.walk_packages(tui_sniffer.__path__, "tui_sniffer.")
    if not module.name.startswith("tui_sniffer.ui")
)


@pytest.mark.parametrize("module_name", CORE_MODULES)
def test_core_module_imports_without_textual_or_rich(module_name):
    probe = (f"import sys, {module_name}; "
             "leaked = [name for name in ('textual', 'rich') if name in sys.modules]; "
             "print(','.join(leaked)); sys.exit(1 if leaked else 0)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, f"{module_name} pulls in {result.stdout.strip()} {result.stderr[-500:]}"
