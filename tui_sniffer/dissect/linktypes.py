"""Link-layer header types (LINKTYPE_*) and the names Wireshark gives them."""
from __future__ import annotations

NULL = 0
ETHERNET = 1
RAW = 101
LINUX_SLL = 113
IPV4 = 228
IPV6 = 229
LINUX_SLL2 = 276

_WIRESHARK_ENCAPSULATION = {
    NULL: ("NULL/Loopback", 15),
    ETHERNET: ("Ethernet", 1),
    RAW: ("Raw IP", 7),
    LINUX_SLL: ("Linux cooked-mode capture v1", 25),
    IPV4: ("Raw IPv4", 129),
    IPV6: ("Raw IPv6", 130),
    LINUX_SLL2: ("Linux cooked-mode capture v2", 210),
}


def link_type_text(link_type: int) -> str:
    """The `Encapsulation type` line text, e.g. `Ethernet (1)` (Wireshark's own WTAP numbers)."""
    name, wtap_number = _WIRESHARK_ENCAPSULATION.get(link_type, (f"Unknown link type {link_type}", -1))
    return f"{name} ({wtap_number})" if wtap_number >= 0 else name


def link_type_protocol(link_type: int) -> str:
    """The Protocol column text for a frame whose link type we cannot dissect."""
    return f"LINKTYPE_{link_type}"


def wiretap_encapsulation(link_type: int) -> int:
    """Wireshark's own encapsulation number for a link type (what `frame.encap_type` holds)."""
    return _WIRESHARK_ENCAPSULATION.get(link_type, ("", -1))[1]
