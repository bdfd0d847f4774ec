"""Deprecation warnings: the tokens we flag are the ones libwireshark 4.0 itself flags.

tshark accepts a deprecated filter silently (Wireshark's GUI turns the bar yellow), so the oracle
is the library: a child process loads libwireshark with ctypes, compiles each filter and reads
`dfilter_deprecated_tokens`. The test is skipped where libwireshark 4.0 is not installed.
"""
from __future__ import annotations

import ctypes.util
import json
import subprocess
import sys

import pytest

from tui_sniffer.dissect.fields import lookup
from tui_sniffer.filter import compile_filter
from tui_sniffer.filter.semantics import with_wireshark_names
from tui_sniffer.filter.warnings import DEPRECATED_NOT_EQUAL, deprecated_tokens

FILTERS = [
    "tcp", "ip.addr ~= 10.0.0.1", "ip.addr~=10.0.0.1", "ssl", "ssl.handshake.type == 1", ".ssl", "ssl#1",
    "ssl or ip.addr ~= 1.2.3.4", "ssl.handshake.type ~= 1 || tls", "ssl.record.version == 0x0303 or ssl",
    "len(ssl.record.version) == 2", "ssl.record.version ~= ssl.record.version", "frame contains \"~=\"",
    "tls and not ssl.alert_message", "tcp.port ~= 80 and tcp.port ~= 443",
]

_ORACLE = r"""
import ctypes, json, sys
ctypes.CDLL("libwsutil.so.14").init_process_policies()
ctypes.CDLL("libwiretap.so.13").wtap_init(0)
library = ctypes.CDLL("libwireshark.so.16")
library.epan_init(None, None, 0)
library.dfilter_compile_real.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p),
                                         ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p, ctypes.c_int]
library.dfilter_deprecated_tokens.restype = ctypes.c_void_p
library.dfilter_deprecated_tokens.argtypes = [ctypes.c_void_p]

class PointerArray(ctypes.Structure):
    _fields_ = [("pdata", ctypes.POINTER(ctypes.c_char_p)), ("len", ctypes.c_uint)]

answers = {}
for text in json.loads(sys.stdin.read()):
    compiled, error = ctypes.c_void_p(), ctypes.c_void_p()
    if not library.dfilter_compile_real(text.encode(), ctypes.byref(compiled), ctypes.byref(error), b"test", 0):
        answers[text] = None
        continue
    tokens = library.dfilter_deprecated_tokens(compiled)
    found = PointerArray.from_address(tokens) if tokens else None
    answers[text] = [found.pdata[i].decode() for i in range(found.len)] if found else []
print(json.dumps(answers))
"""


@pytest.fixture(scope="module")
def libwireshark_tokens() -> dict[str, list[str] | None]:
    if ctypes.util.find_library("wireshark") is None:
        pytest.skip("libwireshark (Debian package libwireshark16, installed with tshark) is not here")
    result = subprocess.run([sys.executable, "-c", _ORACLE], input=json.dumps(FILTERS), capture_output=True,
                            text=True, timeout=120)
    if result.returncode != 0:
        pytest.skip(f"libwireshark 4.0 could not be driven: {result.stderr[-300:]}")
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("text", FILTERS)
def test_we_flag_the_tokens_libwireshark_flags(text, libwireshark_tokens):
    assert libwireshark_tokens[text] is not None, "libwireshark rejects a filter of the table"
    compile_filter(text)
    assert deprecated_tokens(text, with_wireshark_names(lookup)) == libwireshark_tokens[text]


def test_each_flagged_token_gives_one_sentence_the_first_to_show_first():
    assert compile_filter("tcp.port ~= 80 or ssl or ssl.record.version").warnings == (
        DEPRECATED_NOT_EQUAL, '"ssl" is deprecated, please use "tls" instead.')
