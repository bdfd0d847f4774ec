"""Time fields compare to the nanosecond, as Wireshark's nstime does: a value typed as tshark prints it
(`frame.time_epoch == 1700000000.123456000`) matches that frame and no other, though float seconds
cannot tell apart times 100 ns apart this far from 1970 and round a quarter of microsecond stamps
differently from the literal."""
from __future__ import annotations

import subprocess

import pytest
from scapy.all import IP, UDP, Ether, raw

import tui_sniffer
from tests.conftest import TSHARK, needs_tshark
from tui_sniffer.capture import InterfaceInfo, RawRecord, open_writer
from tui_sniffer.filter import FilterError, compile_filter
from tui_sniffer.filter.literals import parse_time_offset

TIMES_NS = [1_700_000_000_123_456_000, 1_700_000_000_123_456_100, 1_700_000_000_123_458_000,
            1_700_000_000_123_458_001, 1_700_000_001_000_000_000, 1_700_000_001_000_000_000]
"""Two frames 100 ns apart, a microsecond stamp whose float seconds differ from the literal's, a
nanosecond after it, and two frames at the same time (delta 0)."""


def _seconds_text(nanoseconds: int) -> str:
    """A time as tshark prints it: seconds and nine digits."""
    seconds, fraction = divmod(nanoseconds, 1_000_000_000)
    return f"{seconds}.{fraction:09d}"


@pytest.fixture(scope="module")
def timed_capture(tmp_path_factory):
    path = tmp_path_factory.mktemp("times") / "times.pcapng"
    frame = raw(Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000, dport=2000) / b"x")
    with open_writer(str(path), [InterfaceInfo(link_type=1, timestamp_resolution_ns=1)], "pcapng") as writer:
        for timestamp in TIMES_NS:
            writer.write(RawRecord(frame, timestamp, len(frame), len(frame)))
    return path


def _time_filters() -> list[tuple[str, list[int]]]:
    """Each frame's epoch, relative and delta time as tshark prints them, with the frames they select."""
    cases = []
    for number, timestamp in enumerate(TIMES_NS, 1):
        previous = TIMES_NS[number - 2] if number > 1 else timestamp
        for field, value, values in (
                ("frame.time_epoch", timestamp, TIMES_NS),
                ("frame.time_relative", timestamp - TIMES_NS[0], [time - TIMES_NS[0] for time in TIMES_NS]),
                ("frame.time_delta", timestamp - previous, [0] + [b - a for a, b in zip(TIMES_NS, TIMES_NS[1:])])):
            text = f"{field} == {_seconds_text(value)}"
            cases.append((text, [index for index, other in enumerate(values, 1) if other == value]))
    first, second = (_seconds_text(time) for time in TIMES_NS[:2])
    cases += [(f"frame.time_epoch > {first}", [2, 3, 4, 5, 6]), (f"frame.time_epoch <= {second}", [1, 2]),
              (f"frame.time_epoch in {{{first}, {second}}}", [1, 2]),
              (f"frame.time_epoch == {_seconds_text(TIMES_NS[2])[:-3]}", [3]),
              ("frame.time_relative == 0.0000001", [2]), ("frame.time_delta > 0.000000000", [2, 3, 4, 5]),
              ('frame.time == "2023-11-14T22:13:20.123456100Z"', [2])]
    return cases


@pytest.mark.parametrize("text, expected", _time_filters())
def test_a_time_as_tshark_prints_it_selects_exactly_its_frames(timed_capture, text, expected):
    compiled = compile_filter(text)
    with tui_sniffer.open_capture(str(timed_capture)) as capture:
        assert capture.filter(text) == expected
        assert [number for number in capture.frame_numbers() if compiled.matches(capture.dissect(number))] == expected


@needs_tshark
def test_tshark_selects_the_same_frames(timed_capture):
    for text, expected in _time_filters():
        printed = subprocess.run([TSHARK, "-n", "-r", str(timed_capture), "-Y", text, "-T", "fields",
                                  "-e", "frame.number"], capture_output=True, text=True, check=True).stdout
        assert [int(number) for number in printed.split()] == expected, text


@pytest.mark.parametrize("text, nanoseconds", [
    ("1700000000.123456000", 1_700_000_000_123_456_000), ("1700000000.123456", 1_700_000_000_123_456_000),
    ("0.000000001", 1), ("2", 2_000_000_000), ("2.", 2_000_000_000), ("0.1234567890000", 123_456_789),
    ("0.0000000001", None), ("1e-3", None), ("0x10", None), ("-1", None), (".5", None),
])
def test_time_offsets_read_as_wireshark_reads_them(text, nanoseconds):
    assert parse_time_offset(text) == nanoseconds


@pytest.mark.parametrize("text, message", [
    ("frame.time_epoch == 1700000000.1234560001", '"1700000000.1234560001" is not a valid time.'),
    ("frame.time_epoch == 1.7e9", '"1.7e9" is not a valid time.'),
    ('frame.time_epoch == "1700000000"', 'Time offset cannot be converted from a string ("1700000000").'),
    ("frame.time_delta < 0.0000000005", '"0.0000000005" is not a valid time.'),
])
def test_times_past_the_nanosecond_are_errors_as_in_tshark(text, message):
    with pytest.raises(FilterError) as raised:
        compile_filter(text)
    assert raised.value.message == message
