"""The filtering API the UI and scripts use: Capture.filter, Capture.iter_filter, warnings, FilterError."""
from __future__ import annotations

import numpy as np
import pytest

import tui_sniffer
from tests.conftest import FIXTURES
from tui_sniffer.filter import compile_filter
from tui_sniffer.session import FilterProgress


@pytest.fixture(scope="module")
def demo():
    with tui_sniffer.open_capture(str(FIXTURES / "demo.pcapng")) as capture:
        capture.index_all()
        yield capture


def dissected_matches(capture, text: str) -> list[int]:
    compiled = compile_filter(text)
    return [number for number in capture.frame_numbers() if compiled.matches(capture.dissect(number))]


@pytest.mark.parametrize("text", ["dns", "tcp.port == 80", "http.request.method == \"GET\"", "!tcp",
                                  "frame.len > 100 and ip.src == 10.0.0.0/8", ""])
def test_filter_returns_the_frames_dissection_matches(demo, text):
    assert demo.filter(text) == dissected_matches(demo, text)


def test_a_bad_filter_raises_the_exported_filter_error_with_its_span(demo):
    with pytest.raises(tui_sniffer.FilterError) as caught:
        demo.filter("tcp.prt == 80")
    assert caught.value.message == 'Left side of "==" expression must be a field or function, not tcp.prt.'
    assert (caught.value.start, caught.value.end) == (0, 7)


def test_iter_filter_reports_ascending_frames_and_reaches_the_total(demo):
    items = list(demo.iter_filter(compile_filter("tcp or dns")))
    assert all(isinstance(item, FilterProgress) for item in items)
    frames = np.concatenate([item.frames for item in items])
    assert frames.dtype == np.int64
    assert list(frames) == sorted(frames) == demo.filter("tcp or dns")
    done = [item.rows_done for item in items]
    assert done == sorted(done) and done[-1] == items[-1].rows_total == len(demo)


def test_iter_filter_from_a_start_row_covers_only_the_rows_after_it(demo):
    compiled = compile_filter("tcp")
    later = [int(number) for item in demo.iter_filter(compiled, start_row=20) for number in item.frames]
    assert later == [number for number in demo.filter("tcp") if number > 20]


def test_iter_filter_on_nothing_new_still_reports_completion(demo):
    items = list(demo.iter_filter(compile_filter("tcp"), start_row=len(demo)))
    assert [(len(item.frames), item.rows_done, item.rows_total) for item in items] == [(0, len(demo), len(demo))]


@pytest.mark.parametrize("text, warnings", [
    ("tcp.port == 80", ()),
    ("", ()),
    ("ip.addr ~= 10.0.0.1", ('The operator "~=" is deprecated, use "!==" instead.',)),
    ("ssl", ('"ssl" is deprecated, please use "tls" instead.',)),
    ("ssl.record.version == 0x0303 or ssl.handshake", ('"ssl" is deprecated, please use "tls" instead.',)),
    ("ssl or tcp.port ~= 443", ('"ssl" is deprecated, please use "tls" instead.',
                                'The operator "~=" is deprecated, use "!==" instead.')),
])
def test_deprecated_syntax_compiles_with_wiresharks_warnings(text, warnings):
    assert compile_filter(text).warnings == warnings


def test_a_deprecated_alias_means_the_renamed_protocol(demo):
    assert demo.filter("ssl") == demo.filter("tls")
    assert demo.filter("tcp.port ~= 443") == demo.filter("tcp.port !== 443")
