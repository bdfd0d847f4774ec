"""Opening the bytes of a capture: a seekable file as is, or stdin, pipes and gzip spooled to a temp file."""
from __future__ import annotations

import os
import stat
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator

from tui_sniffer.capture.records import CaptureError

GZIP_MAGIC = b"\x1f\x8b"
SPOOL_CHUNK_BYTES = 1024 * 1024
"""How much is read, inflated or written at a time while spooling, so memory stays bounded."""


def open_capture_bytes(path: str) -> int:
    """A seekable file descriptor whose bytes are the (decompressed) capture."""
    if path == "-":
        stdin_fd = sys.stdin.buffer.fileno()
        if os.isatty(stdin_fd):
            raise CaptureError("cannot read a capture from stdin: it is a terminal, not a pipe or file")
        if stat.S_ISREG(os.fstat(stdin_fd).st_mode):
            return _unless_gzip(os.dup(stdin_fd), path)
        return _spool(sys.stdin.buffer.read, path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as error:
        raise CaptureError(f"cannot open {path}: {error.strerror.lower()}") from None
    mode = os.fstat(fd).st_mode
    if stat.S_ISDIR(mode):
        os.close(fd)
        raise CaptureError(f"cannot open {path}: it is a directory")
    if not stat.S_ISREG(mode):
        with os.fdopen(fd, "rb") as stream:
            return _spool(stream.read, path)
    return _unless_gzip(fd, path)


def _unless_gzip(fd: int, path: str) -> int:
    """Keep a seekable file as it is, or inflate it into a temp file if it is gzip-compressed."""
    if os.pread(fd, 2, 0) != GZIP_MAGIC:
        return fd
    try:
        return _spool(_pread_reader(fd), path)
    finally:
        os.close(fd)


def _pread_reader(fd: int) -> Callable[[int], bytes]:
    """A `read(n)` over a file descriptor from its start, independent of its file position."""
    offset = 0

    def read(size: int) -> bytes:
        nonlocal offset
        data = os.pread(fd, size, offset)
        offset += len(data)
        return data

    return read


def _spool(read: Callable[[int], bytes], path: str) -> int:
    """Copy a stream (inflating it if it is gzip) into an already unlinked temp file and return its fd."""
    fd, spool_path = tempfile.mkstemp(prefix="tui-sniffer-", suffix=".spool")
    os.unlink(spool_path)  # the open fd keeps it alive; nothing is left behind even if we crash
    try:
        chunks = _chunks(read, path)
        first = next(chunks, b"")
        if first[:2] == GZIP_MAGIC:
            chunks = _inflate(_prepend(first, chunks), path)
        else:
            chunks = _prepend(first, chunks)
        for data in chunks:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        raise
    return fd


def _chunks(read: Callable[[int], bytes], path: str) -> Iterator[bytes]:
    """Read a stream to its end in bounded chunks."""
    while True:
        try:
            data = read(SPOOL_CHUNK_BYTES)
        except OSError as error:
            raise CaptureError(f"cannot read {path}: {error.strerror.lower()}") from None
        if not data:
            return
        yield data


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    """The chunk already read to sniff the format, then the rest of the stream."""
    if first:
        yield first
    yield from rest


def _inflate(compressed: Iterator[bytes], path: str) -> Iterator[bytes]:
    """Inflate concatenated gzip members chunk by chunk, never producing more than a chunk at a time."""
    inflater = zlib.decompressobj(wbits=31)
    member_output = 0
    members_finished = 0
    for data in compressed:
        while data:
            try:
                output = inflater.decompress(data, SPOOL_CHUNK_BYTES)
            except zlib.error:
                if members_finished and member_output == 0:
                    return  # trailing padding or garbage after the last member, as gzip(1) tolerates
                raise CaptureError(f"{path}: the gzip data is corrupt") from None
            member_output += len(output)
            if output:
                yield output
            if inflater.eof:
                data = inflater.unused_data
                inflater = zlib.decompressobj(wbits=31)
                member_output = 0
                members_finished += 1
            else:
                data = inflater.unconsumed_tail
