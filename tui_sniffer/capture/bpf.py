"""Capture filters: tcpdump-syntax expressions compiled to classic BPF by libpcap, for the kernel to run.

libpcap is the only compiler of that language worth trusting, so we call its `pcap_compile` through
ctypes (Debian/Ubuntu package `libpcap0.8`, Fedora/Arch `libpcap`); the program it returns is
attached to the capture socket with `SO_ATTACH_FILTER`, so rejected packets never reach Python.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import socket
import struct
import threading
from dataclasses import dataclass
from functools import lru_cache

from tui_sniffer.capture.records import CaptureError

SO_ATTACH_FILTER = 26
PCAP_NETMASK_UNKNOWN = 0xFFFFFFFF
_LIBPCAP_NAMES = ("libpcap.so.0.8", "libpcap.so.1", "libpcap.so")
LIBPCAP_PACKAGE_HINT = ("install libpcap (Debian/Ubuntu: apt-get install libpcap0.8; "
                        "Fedora: dnf install libpcap; Arch: pacman -S libpcap)")
_DLT_FOR_LINK_TYPE = {101: 12}
"""pcapng/pcap LINKTYPE_ numbers that differ from libpcap's DLT_ numbers (raw IP), which open_dead takes."""
_INSTRUCTION = struct.Struct("=HBBI")
"""One classic BPF instruction (`struct sock_filter`): opcode, jump if true, jump if false, constant."""


class CaptureFilterError(CaptureError):
    """A capture filter cannot be compiled: bad syntax, or libpcap is not installed."""


class _BpfProgram(ctypes.Structure):
    """libpcap's `struct bpf_program`."""

    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.c_void_p)]


@dataclass(frozen=True, slots=True)
class BpfProgram:
    """A compiled capture filter: its text and the raw `sock_filter` instructions."""

    expression: str
    instructions: bytes

    @property
    def instruction_count(self) -> int:
        """How many BPF instructions the kernel will run per packet."""
        return len(self.instructions) // _INSTRUCTION.size

    def attach(self, capture_socket: socket.socket) -> None:
        """Run this program in the kernel on every packet the socket would receive."""
        code = ctypes.create_string_buffer(self.instructions, len(self.instructions))
        program = struct.pack("HP", self.instruction_count, ctypes.addressof(code))
        capture_socket.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, program)

    def disassembly(self) -> list[str]:
        """`(code, jt, jf, k)` per instruction, as `tcpdump -dd` prints them, for tests and debugging."""
        return [f"{{ 0x{code:x}, {jt}, {jf}, 0x{k:08x} }},"
                for code, jt, jf, k in _INSTRUCTION.iter_unpack(self.instructions)]


class _Libpcap:
    """The few libpcap functions the compiler needs, with their C signatures."""

    def __init__(self, library: ctypes.CDLL) -> None:
        self.open_dead = library.pcap_open_dead
        self.open_dead.argtypes = [ctypes.c_int, ctypes.c_int]
        self.open_dead.restype = ctypes.c_void_p
        self.compile = library.pcap_compile
        self.compile.argtypes = [ctypes.c_void_p, ctypes.POINTER(_BpfProgram), ctypes.c_char_p,
                                 ctypes.c_int, ctypes.c_uint32]
        self.compile.restype = ctypes.c_int
        self.error_text = library.pcap_geterr
        self.error_text.argtypes = [ctypes.c_void_p]
        self.error_text.restype = ctypes.c_char_p
        self.free_code = library.pcap_freecode
        self.free_code.argtypes = [ctypes.POINTER(_BpfProgram)]
        self.close = library.pcap_close
        self.close.argtypes = [ctypes.c_void_p]
        self.version = library.pcap_lib_version
        self.version.restype = ctypes.c_char_p
        self.lock = threading.Lock()
        """Old libpcaps compile with global parser state; one compile at a time is cheap insurance."""


@lru_cache(maxsize=1)
def _libpcap() -> _Libpcap:
    """Load libpcap once; a CaptureFilterError saying what to install when it is missing."""
    names = [ctypes.util.find_library("pcap"), *_LIBPCAP_NAMES]
    for name in filter(None, names):
        try:
            return _Libpcap(ctypes.CDLL(name))
        except (OSError, AttributeError):
            continue
    raise CaptureFilterError(f"capture filters need libpcap, which is not installed: {LIBPCAP_PACKAGE_HINT}")


def libpcap_version() -> str:
    """libpcap's own version line (`libpcap version 1.10.3 (with TPACKET_V3)`)."""
    return _libpcap().version().decode()


@lru_cache(maxsize=64)
def compile_capture_filter(expression: str, link_type: int = 1, snaplen: int = 262144) -> BpfProgram:
    """Compile a tcpdump-syntax filter for one link type, optimized, as libpcap does for tcpdump -f."""
    libpcap = _libpcap()
    with libpcap.lock:
        handle = libpcap.open_dead(_DLT_FOR_LINK_TYPE.get(link_type, link_type), snaplen)
        if not handle:
            raise CaptureFilterError(f"libpcap cannot compile filters for link type {link_type}")
        program = _BpfProgram()
        try:
            if libpcap.compile(handle, ctypes.byref(program), expression.encode(), 1, PCAP_NETMASK_UNKNOWN):
                reason = (libpcap.error_text(handle) or b"unknown error").decode("utf-8", "replace")
                raise CaptureFilterError(f"invalid capture filter {expression!r}: {reason}")
            instructions = ctypes.string_at(program.bf_insns, program.bf_len * _INSTRUCTION.size)
            libpcap.free_code(ctypes.byref(program))
        finally:
            libpcap.close(handle)
    return BpfProgram(expression, instructions)


def capture_filter_problem(expression: str, link_types: tuple[int, ...] = (1,)) -> str | None:
    """Why `expression` is not a usable capture filter on these link types, or None if it is (for UIs)."""
    if not expression.strip():
        return None
    try:
        for link_type in link_types:
            compile_capture_filter(expression, link_type)
    except CaptureFilterError as error:
        return str(error)
    return None
