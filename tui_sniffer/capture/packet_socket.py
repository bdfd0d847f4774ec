"""An AF_PACKET capture socket on one interface, read through a TPACKET_V3 ring mapped into memory.

The kernel fills fixed-size blocks of packets in a shared ring and hands over a whole block when it
is full or after a short timeout, so one wake-up delivers many packets with no copy through recv();
a full ring is what the kernel counts as a drop (`PACKET_STATISTICS`). This is libpcap's own design
on Linux; we read the blocks in Python and hand each packet straight to a writer.
"""
from __future__ import annotations

import errno
import mmap
import socket
import struct
from collections.abc import Callable

from tui_sniffer.capture.bpf import BpfProgram
from tui_sniffer.capture.interfaces import NetworkInterface

SOL_PACKET = 263
PACKET_RX_RING, PACKET_STATISTICS, PACKET_VERSION, PACKET_IGNORE_OUTGOING = 5, 6, 10, 23
TPACKET_V3 = 2
ETH_P_ALL = 3
TP_STATUS_USER = 1
TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID = 0x10, 0x40
ETHERTYPE_VLAN = 0x8100
LINKTYPE_ETHERNET = 1

DEFAULT_BLOCK_BYTES = 1 << 20
"""One ring block: big enough for the largest loopback frame (64 KiB GSO) many times over."""
DEFAULT_BLOCK_COUNT = 64
"""64 MiB of ring per interface: about a second of 50,000 small packets before the kernel drops."""
DEFAULT_BLOCK_TIMEOUT_MS = 50
"""How long a partly filled block waits before the kernel hands it over: the latency of a quiet link."""
_FRAME_BYTES = 2048
"""The nominal frame size the kernel's ring check wants; V3 packs variable-length frames regardless."""

_BLOCK_HEADER = struct.Struct("=IIIII")
"""tpacket_block_desc: version, offset_to_priv, then tpacket_hdr_v1's block_status, num_pkts, offset_to_first_pkt."""
_BLOCK_STATUS_OFFSET = 8
_PACKET_HEADER = struct.Struct("=IIIIIIHHII H")
"""tpacket3_hdr: next_offset, sec, nsec, snaplen, len, status, mac, net, rxhash, vlan_tci, vlan_tpid."""
_STATISTICS = struct.Struct("=III")
"""tpacket_stats_v3: packets (including dropped), drops, times the queue froze."""
_RING_REQUEST = struct.Struct("=IIIIIII")
"""tpacket_req3: block size, block count, frame size, frame count, retire timeout, private size, features."""
_RELEASED = b"\x00\x00\x00\x00"

PacketSink = Callable[[int, int, bytes, int], None]
"""Called per packet with (interface id, timestamp in ns, captured bytes, wire length)."""


class PacketSocket:
    """A bound capture socket with its ring; `drain` hands over every packet the kernel has delivered."""

    def __init__(self, interface: NetworkInterface, program: BpfProgram | None = None,
                 block_bytes: int = DEFAULT_BLOCK_BYTES, block_count: int = DEFAULT_BLOCK_COUNT,
                 block_timeout_ms: int = DEFAULT_BLOCK_TIMEOUT_MS) -> None:
        self.interface = interface
        self.kernel_packets = 0
        """Packets the kernel accepted through the filter for this socket (received plus dropped)."""
        self.kernel_drops = 0
        """Packets the kernel dropped because the ring was full."""
        self.packets_handed = 0
        """Packets given to a sink so far (the one a failing sink raised on included)."""
        self._block_bytes, self._block_count = block_bytes, block_count
        self._block = 0
        self._packets_left_in_block: int | None = None
        self._packet_offset = 0
        self._insert_vlan_tags = interface.link_type == LINKTYPE_ETHERNET
        # protocol 0 receives nothing until bind, so no packet slips in before the filter is attached
        self.socket = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        try:
            self.socket.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
            frames = block_bytes // _FRAME_BYTES * block_count
            request = _RING_REQUEST.pack(block_bytes, block_count, _FRAME_BYTES, frames, block_timeout_ms, 0, 0)
            self.socket.setsockopt(SOL_PACKET, PACKET_RX_RING, request)
            self._ring = mmap.mmap(self.socket.fileno(), block_bytes * block_count, mmap.MAP_SHARED,
                                   mmap.PROT_READ | mmap.PROT_WRITE)
            if program is not None:
                program.attach(self.socket)
            if interface.is_loopback:  # each loopback packet is seen leaving and arriving: keep one
                self.socket.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
            self.socket.bind((interface.name, ETH_P_ALL))
        except BaseException:
            self.close()
            raise

    def fileno(self) -> int:
        """The socket's descriptor, readable when the kernel has handed over a block (or has an error)."""
        return self.socket.fileno()

    def drain(self, sink: PacketSink, interface_id: int, limit: int) -> int:
        """Hand up to `limit` delivered packets to `sink` in arrival order; returns how many."""
        ring = self._ring
        unpack_packet = _PACKET_HEADER.unpack_from
        handed = 0
        while handed < limit:
            block_start = self._block * self._block_bytes
            if self._packets_left_in_block is None:
                _, _, status, packet_count, first_offset = _BLOCK_HEADER.unpack_from(ring, block_start)
                if not status & TP_STATUS_USER:
                    break
                self._packets_left_in_block = packet_count
                self._packet_offset = block_start + first_offset
            take = min(self._packets_left_in_block, limit - handed)
            offset = self._packet_offset
            for _ in range(take):
                next_offset, seconds, nanoseconds, captured, wire, status, mac, _, _, vlan_tci, vlan_tpid = (
                    unpack_packet(ring, offset))
                data = ring[offset + mac:offset + mac + captured]
                if status & TP_STATUS_VLAN_VALID and self._insert_vlan_tags:
                    data, wire = _with_vlan_tag(data, status, vlan_tci, vlan_tpid), wire + 4
                self.packets_handed += 1
                sink(interface_id, seconds * 1_000_000_000 + nanoseconds, data, wire)
                offset += next_offset
            self._packet_offset = offset
            self._packets_left_in_block -= take
            handed += take
            if self._packets_left_in_block == 0:
                ring[block_start + _BLOCK_STATUS_OFFSET:block_start + _BLOCK_STATUS_OFFSET + 4] = _RELEASED
                self._packets_left_in_block = None
                self._block = (self._block + 1) % self._block_count
        return handed

    def update_statistics(self) -> None:
        """Add the kernel's counts since the last call (the kernel resets them on every read)."""
        packets, drops, _ = _STATISTICS.unpack(self.socket.getsockopt(SOL_PACKET, PACKET_STATISTICS,
                                                                      _STATISTICS.size))
        self.kernel_packets += packets
        self.kernel_drops += drops

    def pending_error(self) -> int:
        """The socket's pending error number (ENETDOWN once the interface went down or away), or 0."""
        return self.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)

    def close(self) -> None:
        """Unmap the ring and close the socket; safe to call twice."""
        ring = getattr(self, "_ring", None)
        if ring is not None:
            ring.close()
            self._ring = None
        self.socket.close()


def _with_vlan_tag(data: bytes, status: int, vlan_tci: int, vlan_tpid: int) -> bytes:
    """Put back the 802.1Q tag the kernel moved out of the frame (as libpcap does)."""
    tpid = vlan_tpid if status & TP_STATUS_VLAN_TPID_VALID else ETHERTYPE_VLAN
    return data[:12] + struct.pack("!HH", tpid, vlan_tci) + data[12:]


INTERFACE_GONE_ERRORS = {errno.ENETDOWN, errno.ENODEV, errno.ENXIO}
"""What a capture socket reports when its interface is brought down or deleted."""
