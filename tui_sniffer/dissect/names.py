"""Names Wireshark resolves values to: EtherTypes, IP protocols, vendor (OUI) prefixes of MACs."""
from __future__ import annotations

from functools import lru_cache

ETHERTYPES = {
    0x0800: "IPv4", 0x0806: "ARP", 0x86DD: "IPv6", 0x8100: "802.1Q Virtual LAN",
    0x88CC: "802.1 Link Layer Discovery Protocol (LLDP)", 0x8035: "RARP", 0x88A8: "802.1ad Provider Bridge (Q-in-Q)",
    0x8847: "MPLS label switched packet", 0x8863: "PPPoE Discovery", 0x8864: "PPPoE Session",
    0x888E: "802.1X Authentication", 0x0842: "Wake on LAN",
}

IP_PROTOCOLS = {
    0: "IPv6 Hop-by-Hop Option", 1: "ICMP", 2: "IGMP", 4: "IPIP", 6: "TCP", 17: "UDP",
    41: "IPv6", 43: "Routing Header for IPv6", 44: "Fragment Header for IPv6", 47: "Generic Routing Encapsulation",
    50: "Encap Security Payload", 51: "Authentication Header", 58: "ICMPv6",
    59: "IPv6 No Next Header", 60: "Destination Options for IPv6", 89: "OSPF IGP", 103: "PIM",
    112: "Virtual Router Redundancy Protocol", 132: "SCTP", 136: "UDPLite",
}

CHECKSUM_STATUS_NAMES = {0: "Bad", 1: "Good", 2: "Unverified"}
"""Value names of every `*.checksum.status` field."""

_WELL_KNOWN_MACS = {"ff:ff:ff:ff:ff:ff": "Broadcast"}


@lru_cache(maxsize=4096)
def resolved_mac(mac: str) -> str:
    """Wireshark's resolved MAC text: `SamsungE_73:55:c5`, `Broadcast`, or the MAC itself."""
    mac = mac.lower()
    if mac in _WELL_KNOWN_MACS:
        return _WELL_KNOWN_MACS[mac]
    vendor = _vendor_short_name(mac[:8])
    return f"{vendor}_{mac[9:]}" if vendor else mac


@lru_cache(maxsize=4096)
def _vendor_short_name(oui: str) -> str | None:
    """The short vendor name of a 24-bit OUI from scapy's manufacturer database, if known."""
    from scapy.config import conf

    database = conf.manufdb
    if database is None:
        return None
    probe = oui + ":00:00:00"
    short_name = database._get_short_manuf(probe)
    return None if short_name == probe else short_name
