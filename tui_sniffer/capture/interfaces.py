"""The network interfaces one can capture on, like `tshark -D`: name, kind, addresses, state, counters.

Everything comes from `/sys/class/net` and two unprivileged calls (getifaddrs for addresses, the
ethtool driver query for a description), so listing needs no capture privilege.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import os
import socket
import struct
from dataclasses import dataclass, field
from functools import lru_cache

SYS_CLASS_NET = "/sys/class/net"
IFF_UP, IFF_LOOPBACK = 0x1, 0x8
SIOCETHTOOL, ETHTOOL_GDRVINFO = 0x8946, 0x3
_DRVINFO_LENGTH = 196
"""sizeof(struct ethtool_drvinfo): the command, five 32-byte strings, padding and five counters."""

ARPHRD_LINK_TYPES = {
    1: 1,        # Ethernet (and veth, bridges, virtio…)
    772: 1,      # loopback: Linux gives it zeroed Ethernet headers
    65534: 101,  # ARPHRD_NONE (tun, wireguard): raw IP
    768: 101,    # IP-in-IP tunnel
    769: 101,    # IPv6-in-IPv6 tunnel
    776: 101,    # sit: IPv6-in-IPv4
    803: 127,    # 802.11 with radiotap headers (monitor mode)
}
"""The pcap link type of what an AF_PACKET raw socket returns, by the device's ARPHRD_ type."""


@dataclass(slots=True)
class NetworkInterface:
    """One interface as a capture source: what `-D` prints and what the capture socket needs."""

    name: str
    index: int
    description: str = ""
    addresses: list[str] = field(default_factory=list)
    is_up: bool = False
    is_running: bool = False
    is_loopback: bool = False
    hardware_type: int = 1
    """The kernel's ARPHRD_ device type (`/sys/class/net/NAME/type`)."""

    @property
    def link_type(self) -> int | None:
        """The pcap link type a capture here records, or None when we cannot capture this kind."""
        return ARPHRD_LINK_TYPES.get(self.hardware_type)

    @property
    def state(self) -> str:
        """`up`, `up, no carrier` or `down`, plus `loopback`, for listings."""
        words = ["up" if self.is_running else "up, no carrier" if self.is_up else "down"]
        if self.is_loopback:
            words.append("loopback")
        return ", ".join(words)

    def listing_line(self, number: int) -> str:
        """`1. lo (Loopback) [up, loopback] 127.0.0.1, ::1`, tshark -D's line with the state and addresses."""
        line = f"{number}. {self.name}"
        if self.description:
            line += f" ({self.description})"
        line += f" [{self.state}]"
        if self.addresses:
            line += " " + ", ".join(self.addresses)
        return line


def _read_sys(name: str, attribute: str) -> str | None:
    """One attribute file of an interface, stripped, or None if absent (the interface may be gone)."""
    try:
        with open(os.path.join(SYS_CLASS_NET, name, attribute)) as attribute_file:
            return attribute_file.read().strip()
    except OSError:
        return None


def interface_names() -> list[str]:
    """The names in `/sys/class/net`, sorted (empty where sysfs is absent)."""
    try:
        return sorted(os.listdir(SYS_CLASS_NET))
    except OSError:
        return []


def interface_exists(name: str) -> bool:
    """Whether the kernel still has an interface called `name`."""
    return os.path.exists(os.path.join(SYS_CLASS_NET, name))


def describe_interface(name: str, addresses: dict[str, list[str]] | None = None) -> NetworkInterface | None:
    """The facts of interface `name`, or None if it does not exist."""
    flags_text = _read_sys(name, "flags")
    index_text = _read_sys(name, "ifindex")
    if flags_text is None or index_text is None:
        return None
    flags = int(flags_text, 16)
    is_loopback = bool(flags & IFF_LOOPBACK)
    if addresses is None:
        addresses = interface_addresses()
    return NetworkInterface(
        name=name, index=int(index_text),
        description="Loopback" if is_loopback else _driver_name(name),
        addresses=addresses.get(name, []), is_up=bool(flags & IFF_UP),
        is_running=bool(flags & IFF_UP) and _read_sys(name, "carrier") == "1", is_loopback=is_loopback,
        hardware_type=int(_read_sys(name, "type") or 1),
    )


def list_interfaces() -> list[NetworkInterface]:
    """Every interface, in tshark's order: running ones first, then loopback, then the rest; by name within."""
    addresses = interface_addresses()
    found = [interface for name in interface_names()
             if (interface := describe_interface(name, addresses)) is not None]
    return sorted(found, key=lambda i: (not i.is_running, i.is_loopback, not i.is_up, i.name))


def resolve_interface(name_or_number: str) -> NetworkInterface | None:
    """The interface `-i` names, by name or by its number in the `-D` listing (as tshark allows)."""
    if name_or_number.isdigit() and not interface_exists(name_or_number):
        listed = list_interfaces()
        number = int(name_or_number)
        return listed[number - 1] if 1 <= number <= len(listed) else None
    return describe_interface(name_or_number)


def packet_counters() -> dict[str, int]:
    """Packets each interface has seen so far (received plus sent; loopback counts each packet once)."""
    counters = {}
    for name in interface_names():
        received = _read_sys(name, "statistics/rx_packets")
        sent = _read_sys(name, "statistics/tx_packets")
        if received is None or sent is None:
            continue
        is_loopback = int(_read_sys(name, "flags") or "0", 16) & IFF_LOOPBACK
        counters[name] = int(received) + (0 if is_loopback else int(sent))
    return counters


def _driver_name(name: str) -> str:
    """The kernel driver behind an interface (`veth`, `virtio_net`, `bridge`…), or '' if it will not say."""
    request = ctypes.create_string_buffer(struct.pack("I", ETHTOOL_GDRVINFO), _DRVINFO_LENGTH)
    ifreq = struct.pack("16sP", name.encode()[:15], ctypes.addressof(request)).ljust(40, b"\x00")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as query_socket:
            fcntl.ioctl(query_socket.fileno(), SIOCETHTOOL, ifreq)
    except OSError:
        return ""
    return request.raw[4:36].split(b"\x00", 1)[0].decode("ascii", "replace")


class _IfAddrs(ctypes.Structure):
    """glibc's `struct ifaddrs` (one entry of the linked list getifaddrs returns)."""


_IfAddrs._fields_ = [
    ("ifa_next", ctypes.POINTER(_IfAddrs)), ("ifa_name", ctypes.c_char_p), ("ifa_flags", ctypes.c_uint),
    ("ifa_addr", ctypes.c_void_p), ("ifa_netmask", ctypes.c_void_p), ("ifa_ifu", ctypes.c_void_p),
    ("ifa_data", ctypes.c_void_p),
]


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    """The C library, with getifaddrs/freeifaddrs typed."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.getifaddrs.argtypes = [ctypes.POINTER(ctypes.POINTER(_IfAddrs))]
    libc.freeifaddrs.argtypes = [ctypes.POINTER(_IfAddrs)]
    return libc


def interface_addresses() -> dict[str, list[str]]:
    """IPv4 then IPv6 addresses of every interface, from getifaddrs (empty if the C library will not say)."""
    try:
        libc = _libc()
    except (OSError, AttributeError):
        return {}
    head = ctypes.POINTER(_IfAddrs)()
    if libc.getifaddrs(ctypes.byref(head)) != 0:
        return {}
    found: dict[str, list[tuple[int, str]]] = {}
    try:
        entry = head
        while entry:
            address = _sockaddr_text(entry.contents.ifa_addr)
            if address is not None:
                found.setdefault(entry.contents.ifa_name.decode(), []).append(address)
            entry = entry.contents.ifa_next
    finally:
        libc.freeifaddrs(head)
    return {name: [text for _, text in sorted(pairs, key=lambda pair: pair[0])] for name, pairs in found.items()}


def _sockaddr_text(pointer: int | None) -> tuple[int, str] | None:
    """(family, printable address) of an IPv4/IPv6 `struct sockaddr`; None for other families."""
    if not pointer:
        return None
    (family,) = struct.unpack("H", ctypes.string_at(pointer, 2))
    if family == socket.AF_INET:
        return family, socket.inet_ntop(socket.AF_INET, ctypes.string_at(pointer + 4, 4))
    if family == socket.AF_INET6:
        return family, socket.inet_ntop(socket.AF_INET6, ctypes.string_at(pointer + 8, 16))
    return None
