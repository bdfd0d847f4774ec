"""The filter tests' expectations, replayed against tshark 4.0 itself (skipped without tshark).

The parser, semantic and evaluator tests hold tables of what tshark says; these tests make sure
tshark still says it, so a table entry can never be a guess.
"""
from __future__ import annotations

import struct
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import TSHARK, needs_tshark
from tests.test_filter_evaluate import EXPECTED_MATCHES
from tests.test_filter_parser import SYNTAX_ERRORS
from tests.test_filter_semantics import ACCEPTED, SEMANTIC_ERRORS
from tests.test_filter_support import tshark_frames, write_frames_pcap

pytestmark = needs_tshark

TshError = tuple[str, "tuple[int, int] | None"]


def tshark_error(pcap: Path, text: str) -> TshError | None:
    """tshark's complaint about a filter: (message, span from its caret line), or None if it compiles."""
    result = subprocess.run([TSHARK, "-n", "-r", str(pcap), "-Y", text], capture_output=True, text=True)
    lines = [line for line in result.stderr.splitlines() if not line.startswith("Running as user")]
    message_index = next((index for index, line in enumerate(lines) if line.startswith("tshark: ")), None)
    if result.returncode == 0 or message_index is None:
        return None
    message = lines[message_index][len("tshark: "):]
    caret_line = lines[message_index + 2] if len(lines) > message_index + 2 else ""
    if "^" not in caret_line:
        return message, None
    start = caret_line.index("^") - 4
    return message, (start, start + 1 + caret_line.count("~"))


@pytest.fixture(scope="module")
def empty_pcap(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("filter") / "empty.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    return path


@pytest.fixture(scope="module")
def frames_pcap(tmp_path_factory) -> Path:
    return write_frames_pcap(tmp_path_factory.mktemp("filter") / "frames.pcap")


@pytest.fixture(scope="module")
def tshark_errors(empty_pcap) -> dict[str, TshError | None]:
    """tshark's verdict on every filter of the error and acceptance tables, run in parallel."""
    texts = sorted({text for text, _, _ in SYNTAX_ERRORS + SEMANTIC_ERRORS} | set(ACCEPTED))
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(texts, pool.map(lambda text: tshark_error(empty_pcap, text), texts)))


@pytest.fixture(scope="module")
def tshark_matches(frames_pcap) -> dict[str, list[int] | str]:
    texts = [text for text, _ in EXPECTED_MATCHES]
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(texts, pool.map(lambda text: tshark_frames(frames_pcap, text), texts)))


@pytest.mark.parametrize("text, message, span", SYNTAX_ERRORS + SEMANTIC_ERRORS)
def test_tshark_gives_the_error_the_tables_expect(text, message, span, tshark_errors):
    assert tshark_errors[text] == (message, span)


@pytest.mark.parametrize("text", ACCEPTED)
def test_tshark_accepts_what_the_tables_accept(text, tshark_errors):
    assert tshark_errors[text] is None


@pytest.mark.parametrize("text, frames", EXPECTED_MATCHES)
def test_tshark_matches_the_frames_the_table_expects(text, frames, tshark_matches):
    assert tshark_matches[text] == frames
