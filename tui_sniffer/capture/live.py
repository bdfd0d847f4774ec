"""Live capture: packets from capture sockets straight into a pcapng spool (or the `-w` file), on asyncio.

`LiveCapture` opens everything that can fail (interfaces, filter, privilege, output) when created,
so errors come before any waiting; `run()` then reads the sockets from an asyncio loop with
`add_reader` (never blocking it), writes every packet at once and flushes after each wake-up so a
reader of the file (the store, via `Capture` on a growing file) sees whole records as they arrive.
It keeps dumpcap's stop conditions and ring buffer, and counts kernel and own drops.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass

from tui_sniffer.capture.bpf import BpfProgram, compile_capture_filter
from tui_sniffer.capture.interfaces import NetworkInterface, interface_exists, resolve_interface
from tui_sniffer.capture.live_settings import LiveCaptureSettings, ring_file_name
from tui_sniffer.capture.packet_socket import (
    DEFAULT_BLOCK_TIMEOUT_MS,
    INTERFACE_GONE_ERRORS,
    PacketSocket,
)
from tui_sniffer.capture.records import CaptureError, InterfaceInfo
from tui_sniffer.capture.writer import PcapngWriter, PcapWriter, open_writer

PRIVILEGE_FIX = "sudo setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which python3))"
NO_PRIVILEGE_MESSAGE = (
    "you don't have permission to capture on {name} ({reason}). Capturing needs root or the "
    "CAP_NET_RAW capability: run with sudo, or allow this Python to capture with\n    " + PRIVILEGE_FIX
)
SPOOL_FILE_NAME = "capture.pcapng"
UNLIMITED = 1 << 62
_FINAL_DRAIN_SECONDS = DEFAULT_BLOCK_TIMEOUT_MS * 2 / 1000
"""After a stop, how long the kernel gets to hand over its partly filled blocks before the last read."""
_RATE_WINDOW_SECONDS = 1.0
_TICK_SECONDS = 0.1
"""How often the kernel's counters are read and the packet rate sampled."""


class LiveCaptureError(CaptureError):
    """A live capture cannot start: no such interface, no privilege, a bad filter or output."""


@dataclass(frozen=True, slots=True)
class LiveStatistics:
    """A snapshot of a capture's counters, for status bars and the end-of-capture summary."""

    captured: int
    kernel_dropped: int
    own_dropped: int
    """Packets the kernel handed over that could not be stored (the output failed)."""
    bytes_written: int
    elapsed_seconds: float
    packets_per_second: float
    running: bool
    stop_reason: str
    problems: tuple[str, ...]
    """Per-interface troubles, e.g. `capture on veth0 stopped: the interface was removed`."""


@dataclass(slots=True)
class _Source:
    """One open capture socket and the pcapng interface number its packets are recorded under."""

    socket: PacketSocket
    interface_id: int


def _open_socket(interface: NetworkInterface, program: BpfProgram | None) -> PacketSocket:
    """A capture socket on `interface`, turning the kernel's refusals into messages a user can act on."""
    try:
        return PacketSocket(interface, program)
    except PermissionError as error:
        raise LiveCaptureError(NO_PRIVILEGE_MESSAGE.format(name=interface.name, reason=error.strerror)) from None
    except OSError as error:
        raise LiveCaptureError(f"cannot capture on {interface.name}: {error.strerror}") from None


def _resolve(name: str) -> NetworkInterface:
    """The interface `-i` names, or an error saying how to find the right name."""
    interface = resolve_interface(name)
    if interface is None:
        raise LiveCaptureError(f"there is no interface {name!r} (tui-sniffer -D lists them)")
    if interface.link_type is None:
        raise LiveCaptureError(f"cannot capture on {interface.name}: its device type "
                               f"{interface.hardware_type} is not supported")
    if not interface.is_up:
        raise LiveCaptureError(f"cannot capture on {interface.name}: the interface is down "
                               f"(ip link set {interface.name} up)")
    return interface


class LiveCapture:
    """A capture on one or more interfaces into one file; create, then `run()` on an asyncio loop."""

    def __init__(self, settings: LiveCaptureSettings) -> None:
        self.settings = settings
        self.written = threading.Event()
        """Set whenever new whole records reached the file (and at the end); readers clear it before looking."""
        self.finished = threading.Event()
        self.files: list[str] = []
        """Every output file still on disk, oldest first (one unless a ring buffer switches files)."""
        self._temporary_directory: str | None = None
        self._sources: list[_Source] = []
        self._captured = self._own_dropped = self._file_packets = 0
        self._closed_kernel_drops = 0
        self._stop_reason = ""
        self._problems: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._started_at = time.monotonic()
        self._ended_at: float | None = None
        self._rate_samples: deque[tuple[float, int]] = deque([(self._started_at, 0)])
        self._deleted_files = 0
        interfaces: list[NetworkInterface] = []
        for name in settings.interfaces:
            interface = _resolve(name)
            if all(known.name != interface.name for known in interfaces):
                interfaces.append(interface)
        if not interfaces:
            raise LiveCaptureError("no interface to capture on")
        if settings.ring is not None and settings.output_path in (None, "-"):
            raise LiveCaptureError("a ring buffer (-b) needs an output file to switch (-w FILE)")
        self.interface_names = [interface.name for interface in interfaces]
        programs = {interface.link_type: self._compile(interface) for interface in interfaces}
        self.interfaces = [InterfaceInfo(name=interface.name, description=interface.description or None,
                                         link_type=interface.link_type, snaplen=settings.snaplen,
                                         timestamp_resolution_ns=1, filter=settings.capture_filter or None,
                                         os=_system_name()) for interface in interfaces]
        try:
            for interface_id, interface in enumerate(interfaces):
                self._sources.append(_Source(_open_socket(interface, programs[interface.link_type]), interface_id))
            self._writer = self._open_output()
        except BaseException:
            self._close_sources()
            self.discard()
            raise

    def _compile(self, interface: NetworkInterface) -> BpfProgram | None:
        """The capture filter compiled for this interface's link type (None without a filter)."""
        if not self.settings.capture_filter.strip():
            return None
        return compile_capture_filter(self.settings.capture_filter, interface.link_type, self.settings.snaplen)

    def _open_output(self) -> PcapWriter | PcapngWriter:
        """Open the first output file: the spool, the `-w` file or the first file of a ring."""
        path = self.settings.output_path
        if path is None:
            self._temporary_directory = tempfile.mkdtemp(prefix="tui-sniffer-capture-")
            path = os.path.join(self._temporary_directory, SPOOL_FILE_NAME)
        elif self.settings.ring is not None:
            path = ring_file_name(path, 1)
        return self._open_writer(path)

    def _open_writer(self, path: str) -> PcapWriter | PcapngWriter:
        """A writer on `path` with the file header already flushed, so a reader can open it at once."""
        writer = open_writer(path, self.interfaces, self.settings.output_format)
        writer.flush()
        self.files.append(path)
        self._file_packets = 0
        return writer

    @property
    def output_path(self) -> str:
        """The file being written now (the spool, the `-w` file, or the ring's newest file)."""
        return self.files[-1]

    @property
    def is_temporary(self) -> bool:
        """Whether the packets are only in a temporary spool that is deleted unless saved."""
        return self._temporary_directory is not None

    def start_in_thread(self) -> threading.Thread:
        """Run the capture on its own event loop in a daemon thread (so a busy UI never delays reading)."""
        thread = threading.Thread(target=asyncio.run, args=(self.run(),), name="live-capture", daemon=True)
        thread.start()
        return thread

    async def run(self) -> None:
        """Capture until a stop condition or `request_stop`; closes sockets and output at the end."""
        loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        self._loop = loop
        self._started_at = time.monotonic()
        self._rate_samples = deque([(self._started_at, 0)])
        timers = [loop.call_later(_TICK_SECONDS, self._tick)]
        if self.settings.stop.duration_seconds:
            timers.append(loop.call_later(self.settings.stop.duration_seconds, self._stop_now, "duration"))
        if self.settings.ring is not None and self.settings.ring.duration_seconds:
            timers.append(loop.call_later(self.settings.ring.duration_seconds, self._switch_on_timer))
        for source in self._sources:
            loop.add_reader(source.socket.fileno(), self._on_readable, source)
        try:
            if self._stop_reason:
                self._stop_event.set()
            await self._stop_event.wait()
            if self._sources and self._stop_reason in ("stopped", "duration"):
                await asyncio.sleep(_FINAL_DRAIN_SECONDS)
                for source in list(self._sources):
                    self._write_packets(source)
        finally:
            for timer in timers:
                timer.cancel()
            self._finish()

    def request_stop(self) -> None:
        """Stop the capture (from any thread); packets the kernel already holds are still written."""
        if self._loop is None:
            self._stop_reason = self._stop_reason or "stopped"
            return
        try:
            self._loop.call_soon_threadsafe(self._stop_now, "stopped")
        except RuntimeError:  # the loop already ended
            pass

    def _stop_now(self, reason: str) -> None:
        """Stop on the capture loop, keeping the first reason given."""
        self._stop_reason = self._stop_reason or reason
        if self._stop_event is not None:
            self._stop_event.set()

    def _packets_allowed(self) -> int:
        """How many packets may be written before a stop condition or a file switch must be checked."""
        if self._stop_reason and self._stop_reason not in ("stopped", "duration"):
            return 0
        stop, ring = self.settings.stop, self.settings.ring
        allowed = UNLIMITED
        if stop.packets:
            allowed = stop.packets - self._captured
        if ring is not None and ring.packets:
            allowed = min(allowed, ring.packets - self._file_packets)
        if (ring.filesize_kb if ring is not None else stop.filesize_kb):
            allowed = min(allowed, 1)  # a size is only known after each packet is written
        return allowed

    def _on_readable(self, source: _Source) -> None:
        """The socket woke us: write what it delivered, or else see whether it reports an error."""
        if not self._write_packets(source) and self._packets_allowed() > 0:
            self._check_socket(source)

    def _write_packets(self, source: _Source) -> int:
        """Write every packet the kernel handed over on this socket, checking limits; how many."""
        handed_before, captured_before = source.socket.packets_handed, self._captured
        try:
            while (allowed := self._packets_allowed()) > 0:
                count = source.socket.drain(self._writer.write_packet, source.interface_id, allowed)
                if not count:
                    break
                self._captured += count
                self._file_packets += count
                self._check_limits()
            if self._captured > captured_before:
                self._writer.flush()
        except (OSError, CaptureError) as error:  # what this wake-up handed over is lost with the write
            self._own_dropped += source.socket.packets_handed - handed_before
            self._captured = captured_before
            self._stop_now(f"cannot write {self.output_path}: {getattr(error, 'strerror', None) or error}")
            return 0
        if self._captured > captured_before:
            self.written.set()
        return self._captured - captured_before

    def _check_limits(self) -> None:
        """Stop or switch files once a count or size condition is met."""
        stop, ring = self.settings.stop, self.settings.ring
        if stop.packets and self._captured >= stop.packets:
            self._stop_now("packets")
        elif ring is None and stop.filesize_kb and self._writer.bytes_written >= stop.filesize_kb * 1000:
            self._stop_now("filesize")
        elif ring is not None and (
                (ring.packets and self._file_packets >= ring.packets)
                or (ring.filesize_kb and self._writer.bytes_written >= ring.filesize_kb * 1000)):
            self._switch_file()

    def _switch_on_timer(self) -> None:
        """The ring's duration elapsed: next file, and the next timer."""
        if self._stop_event is not None and not self._stop_event.is_set():
            self._switch_file()
            self._loop.call_later(self.settings.ring.duration_seconds, self._switch_on_timer)

    def _switch_file(self) -> None:
        """Close the current ring file and start the next, deleting the oldest beyond `files:N`."""
        ring = self.settings.ring
        written_files = len(self.files) + self._deleted_files
        if self.settings.stop.files and written_files >= self.settings.stop.files:
            self._stop_now("files")
            return
        self._writer.close()
        self._writer = self._open_writer(ring_file_name(self.settings.output_path, written_files + 1))
        while ring.files and len(self.files) > ring.files:
            os.unlink(self.files.pop(0))
            self._deleted_files += 1

    def _check_socket(self, source: _Source) -> None:
        """A wake-up without packets: the socket may report that its interface went down or away."""
        error = source.socket.pending_error()
        if error:
            self._loop.remove_reader(source.socket.fileno())
            self._loop.call_later(_FINAL_DRAIN_SECONDS, self._retire_source, source, error)

    def _retire_source(self, source: _Source, error: int) -> None:
        """Write what the kernel still held for a failed interface, close it, say why, and stop if it was the last.

        Deleting an interface first takes it down, so whether it went down or away is judged a little later."""
        name = source.socket.interface.name
        if error in INTERFACE_GONE_ERRORS:
            problem = f"capture on {name} stopped: the interface {'went down' if interface_exists(name) else 'was removed'}"
        else:
            problem = f"capture on {name} stopped: {os.strerror(error)}"
        self._problems.append(problem)
        if self._packets_allowed() > 0:
            self._write_packets(source)
        self._close_source(source)
        if not self._sources:
            self._stop_now(problem)

    def _close_source(self, source: _Source) -> None:
        """Stop reading one socket, keeping its counts."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(source.socket.fileno())
        source.socket.update_statistics()
        self._closed_kernel_drops += source.socket.kernel_drops
        source.socket.close()
        self._sources.remove(source)

    def _close_sources(self) -> None:
        """Close every socket still open."""
        for source in list(self._sources):
            self._close_source(source)

    def _tick(self) -> None:
        """Every `_TICK_SECONDS`: refresh the kernel's counters and sample the packet rate."""
        if self._stop_event is None or self._stop_event.is_set():
            return
        for source in self._sources:
            source.socket.update_statistics()
        now = time.monotonic()
        self._rate_samples.append((now, self._captured))
        while len(self._rate_samples) > 2 and now - self._rate_samples[1][0] >= _RATE_WINDOW_SECONDS:
            self._rate_samples.popleft()
        self._loop.call_later(_TICK_SECONDS, self._tick)

    def _finish(self) -> None:
        """Close sockets and output, then tell everyone waiting."""
        self._close_sources()
        try:
            self._writer.close()
        except OSError as error:
            self._stop_reason = f"cannot write {self.output_path}: {error.strerror}"
        self._stop_reason = self._stop_reason or "stopped"
        self._ended_at = time.monotonic()
        self.written.set()
        self.finished.set()

    def statistics(self) -> LiveStatistics:
        """The counters now (safe to call from any thread)."""
        now = self._ended_at or time.monotonic()
        first_time, first_count = self._rate_samples[0]
        span = now - first_time
        rate = (self._captured - first_count) / span if span > 0 else 0.0
        kernel_dropped = self._closed_kernel_drops + sum(source.socket.kernel_drops for source in self._sources)
        return LiveStatistics(
            captured=self._captured, kernel_dropped=kernel_dropped, own_dropped=self._own_dropped,
            bytes_written=self._writer.bytes_written if hasattr(self, "_writer") else 0,
            elapsed_seconds=now - self._started_at, packets_per_second=rate,
            running=not self.finished.is_set(), stop_reason=self._stop_reason, problems=tuple(self._problems),
        )

    def close(self) -> None:
        """Release the sockets and output of a capture that will not run (`run()` releases its own)."""
        if self._loop is None and not self.finished.is_set():
            self._stop_reason = self._stop_reason or "stopped"
            self._finish()

    def discard(self) -> None:
        """Delete the temporary spool directory, if this capture has one (after the capture ended)."""
        if self._temporary_directory is not None:
            shutil.rmtree(self._temporary_directory, ignore_errors=True)
            self._temporary_directory = None


def _system_name() -> str:
    """The `if_os` text dumpcap records: the kernel name and release."""
    system = os.uname()
    return f"{system.sysname} {system.release}"
