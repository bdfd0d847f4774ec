"""Link layers: Ethernet II (with 802.1Q), BSD Null/Loopback, Linux cooked SLL/SLL2 and raw IP."""
from __future__ import annotations

import struct

from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1Q, Ether

from tui_sniffer.dissect import linktypes
from tui_sniffer.dissect.engine import Dissection, handles, walk_from_bytes
from tui_sniffer.dissect.fields import Base, FieldType, protocol, register
from tui_sniffer.dissect.names import ETHERTYPES, resolved_mac
from tui_sniffer.dissect.tree import TreeNode

ETH = protocol("eth", "Ethernet")
ETH_DST = register("eth.dst", "Destination", FieldType.ETHER)
ETH_SRC = register("eth.src", "Source", FieldType.ETHER)
ETH_ADDR = register("eth.addr", "Address", FieldType.ETHER)
ETH_DST_RESOLVED = register("eth.dst_resolved", "Destination (resolved)", FieldType.STRING)
ETH_SRC_RESOLVED = register("eth.src_resolved", "Source (resolved)", FieldType.STRING)
ETH_ADDR_RESOLVED = register("eth.addr_resolved", "Address (resolved)", FieldType.STRING)
ETH_DST_LG = register("eth.dst.lg", "LG bit", FieldType.BOOLEAN, bitmask=0x020000)
ETH_DST_IG = register("eth.dst.ig", "IG bit", FieldType.BOOLEAN, bitmask=0x010000)
ETH_SRC_LG = register("eth.src.lg", "LG bit", FieldType.BOOLEAN, bitmask=0x020000)
ETH_SRC_IG = register("eth.src.ig", "IG bit", FieldType.BOOLEAN, bitmask=0x010000)
ETH_LG = register("eth.lg", "LG bit", FieldType.BOOLEAN, bitmask=0x020000)
ETH_IG = register("eth.ig", "IG bit", FieldType.BOOLEAN, bitmask=0x010000)
ETH_TYPE = register("eth.type", "Type", FieldType.UINT16, Base.HEX, value_names=ETHERTYPES)
ETH_PADDING = register("eth.padding", "Padding", FieldType.BYTES)
ETHERTYPE = protocol("ethertype", "Ethertype")

VLAN = protocol("vlan", "802.1Q Virtual LAN")
VLAN_PRIORITY = register("vlan.priority", "Priority", FieldType.UINT16, bitmask=0xE000)
VLAN_DEI = register("vlan.dei", "DEI", FieldType.UINT16, bitmask=0x1000)
VLAN_ID = register("vlan.id", "ID", FieldType.UINT16, bitmask=0x0FFF)
VLAN_ETYPE = register("vlan.etype", "Type", FieldType.UINT16, Base.HEX, value_names=ETHERTYPES)

NULL = protocol("null", "Null/Loopback")
NULL_FAMILY = register("null.family", "Family", FieldType.UINT32,
                       value_names={2: "IP", 24: "IPv6", 28: "IPv6", 30: "IPv6"})

SLL = protocol("sll", "Linux cooked capture")
SLL_PKTTYPE = register("sll.pkttype", "Packet type", FieldType.UINT16, value_names={
    0: "Unicast to us", 1: "Broadcast", 2: "Multicast", 3: "Unicast to another host",
    4: "Sent by us"})
SLL_HATYPE = register("sll.hatype", "Link-layer address type", FieldType.UINT16,
                      value_names={1: "Ethernet", 772: "Loopback", 65534: "None"})
SLL_HALEN = register("sll.halen", "Link-layer address length", FieldType.UINT16)
SLL_SRC_ETH = register("sll.src.eth", "Source", FieldType.ETHER)
SLL_ETYPE = register("sll.etype", "Protocol", FieldType.UINT16, Base.HEX, value_names=ETHERTYPES)
SLL_IFINDEX = register("sll.ifindex", "Interface index", FieldType.UINT32)
SLL_RESERVED = register("sll.reserved", "Reserved", FieldType.UINT16, Base.HEX)

_SLL_PACKET_TYPE_SHORT = {0: "In", 1: "B", 2: "M", 3: "P", 4: "Out"}


def dissect_link_layer(dissection: Dissection) -> None:
    """Dissect from the frame's first byte according to its link type."""
    link_type = dissection.frame.link_type
    data = dissection.data
    if link_type == linktypes.ETHERNET:
        walk_from_bytes(dissection, Ether, data, 0, "Ethernet")
    elif link_type == linktypes.LINUX_SLL:
        walk_from_bytes(dissection, CookedLinux, data, 0, "SLL")
    elif link_type == linktypes.LINUX_SLL2:
        walk_from_bytes(dissection, CookedLinuxV2, data, 0, "SLL2")
    elif link_type == linktypes.NULL:
        _dissect_null(dissection)
    elif link_type in (linktypes.RAW, linktypes.IPV4, linktypes.IPV6):
        dissection.protocols.append("raw")
        is_ipv6 = bool(data) and data[0] >> 4 == 6
        walk_from_bytes(dissection, IPv6 if is_ipv6 else IP, data, 0, "IPv6" if is_ipv6 else "IPv4")
    else:
        dissection.set_columns(linktypes.link_type_protocol(link_type),
                               f"Link type {link_type} not dissected")
        dissection.dissect_payload(0, len(data))


def _add_mac(parent: TreeNode, definition, resolved_definition, lg, ig, mac: str,
             offset: int) -> None:
    """Add one Ethernet address with its resolved name, hidden `eth.addr` twins and LG/IG bits."""
    name = resolved_mac(mac)
    node = parent.add(definition, mac, offset, 6, label=f"{definition.label}: {name} ({mac})")
    node.add(ETH_ADDR, mac, offset, 6, label=f"Address: {name} ({mac})")
    node.add(resolved_definition, name, offset, 6, hidden=True)
    node.add(ETH_ADDR_RESOLVED, name, offset, 6, hidden=True)
    first_byte = int(mac[:2], 16)
    local = bool(first_byte & 0x02)
    group = bool(first_byte & 0x01)
    lg_text = "Locally administered address (this is NOT the factory default)" if local \
        else "Globally unique address (factory default)"
    ig_text = "Group address (multicast/broadcast)" if group else "Individual address (unicast)"
    node.add(lg, local, offset, 3, label=f".... ..{int(local)}. .... .... .... .... = LG bit: {lg_text}")
    node.add(ETH_LG, local, offset, 3, hidden=True)
    node.add(ig, group, offset, 3, label=f".... ...{int(group)} .... .... .... .... = IG bit: {ig_text}")
    node.add(ETH_IG, group, offset, 3, hidden=True)


@handles(Ether)
def dissect_ethernet(dissection: Dissection, layer: Ether, offset: int) -> int | None:
    """Ethernet II: addresses with vendor names, LG/IG bits and the EtherType."""
    if len(dissection.data) - offset < 14:
        dissection.add_layer(ETH, "Ethernet II", offset, len(dissection.data) - offset)
        dissection.mark_malformed("Ethernet", offset)
        return None
    source, destination = layer.src, layer.dst
    node = dissection.add_layer(
        ETH, f"Ethernet II, Src: {resolved_mac(source)} ({source}), "
             f"Dst: {resolved_mac(destination)} ({destination})", offset, 14)
    _add_mac(node, ETH_DST, ETH_DST_RESOLVED, ETH_DST_LG, ETH_DST_IG, destination, offset)
    _add_mac(node, ETH_SRC, ETH_SRC_RESOLVED, ETH_SRC_LG, ETH_SRC_IG, source, offset + 6)
    ethertype = layer.type
    dissection.set_addresses(resolved_mac(source), resolved_mac(destination), network=False)
    if ethertype <= 1500:
        node.add_text(f"Length: {ethertype}", offset + 12, 2)
        dissection.set_columns("LLC", "")
        dissection.dissect_payload(offset + 14, len(dissection.data))
        return None
    node.add(ETH_TYPE, ethertype, offset + 12, 2)
    dissection.protocols.append(ETHERTYPE.name)
    _set_unknown_ethertype_columns(dissection, ethertype)
    dissection.link_node = node
    return offset + 14


def _set_unknown_ethertype_columns(dissection: Dissection, ethertype: int) -> None:
    """Columns for an EtherType no later layer claims (`0x88cc`), overwritten by known ones."""
    dissection.set_columns(f"0x{ethertype:04x}", "Ethernet II")


def add_ethernet_padding(dissection: Dissection) -> None:
    """Add `Padding: 0000…` to the Ethernet node for bytes past the network layer's length."""
    link_node = dissection.link_node
    start = dissection.payload_end
    if link_node is None or link_node.definition is not ETH or start >= len(dissection.data):
        return
    padding = dissection.data[start:]
    link_node.add(ETH_PADDING, padding, start, len(padding), label=f"Padding: {padding.hex()}")


@handles(Dot1Q)
def dissect_vlan(dissection: Dissection, layer: Dot1Q, offset: int) -> int | None:
    """802.1Q VLAN tag: priority, DEI, ID and the inner EtherType."""
    node = dissection.add_layer(VLAN, f"802.1Q Virtual LAN, PRI: {layer.prio}, DEI: {layer.id}, "
                                      f"ID: {layer.vlan}", offset, 4)
    node.add_bits(VLAN_PRIORITY, layer.prio, offset, 2, f"Priority: {layer.prio}")
    node.add_bits(VLAN_DEI, layer.id, offset, 2, f"DEI: {layer.id}")
    node.add_bits(VLAN_ID, layer.vlan, offset, 2, f"ID: {layer.vlan}")
    node.add(VLAN_ETYPE, layer.type, offset + 2, 2)
    dissection.protocols.append(ETHERTYPE.name)
    _set_unknown_ethertype_columns(dissection, layer.type)
    return offset + 4


def _dissect_null(dissection: Dissection) -> None:
    """BSD loopback: a 4-byte address family in the capturing host's byte order, then IP."""
    data = dissection.data
    if len(data) < 4:
        dissection.add_layer(NULL, "Null/Loopback", 0, len(data))
        dissection.mark_malformed("Null", 0)
        return
    little, = struct.unpack_from("<I", data)
    family = little if little < 0x10000 else struct.unpack_from(">I", data)[0]
    node = dissection.add_layer(NULL, "Null/Loopback", 0, 4)
    node.add(NULL_FAMILY, family, 0, 4)
    if family == 2 and len(data) > 4:
        walk_from_bytes(dissection, IP, data[4:], 4, "IPv4")
    elif family in (24, 28, 30) and len(data) > 4:
        walk_from_bytes(dissection, IPv6, data[4:], 4, "IPv6")
    else:
        dissection.set_columns("NULL", f"Unknown address family {family}")
        dissection.dissect_payload(4, len(data))


@handles(CookedLinux)
def dissect_sll(dissection: Dissection, layer: CookedLinux, offset: int) -> int | None:
    """Linux cooked capture v1 (`tcpdump -i any` before libpcap 1.10)."""
    node = dissection.add_layer(SLL, "Linux cooked capture v1", offset, 16)
    node.add(SLL_PKTTYPE, layer.pkttype, offset, 2)
    node.add(SLL_HATYPE, layer.lladdrtype, offset + 2, 2)
    node.add(SLL_HALEN, layer.lladdrlen, offset + 4, 2)
    _add_sll_address(dissection, node, layer.lladdrtype, layer.lladdrlen, offset + 6)
    node.add(SLL_ETYPE, layer.proto, offset + 14, 2)
    _set_cooked_columns(dissection, layer.proto, layer.pkttype)
    return offset + 16


@handles(CookedLinuxV2)
def dissect_sll2(dissection: Dissection, layer: CookedLinuxV2, offset: int) -> int | None:
    """Linux cooked capture v2 (`tcpdump -i any` with libpcap ≥ 1.10): adds the interface index."""
    node = dissection.add_layer(SLL, "Linux cooked capture v2", offset, 20)
    node.add(SLL_ETYPE, layer.proto, offset, 2)
    node.add(SLL_RESERVED, layer.reserved, offset + 2, 2, label=f"Reserved (MBZ): {layer.reserved}")
    node.add(SLL_IFINDEX, layer.ifindex, offset + 4, 4)
    node.add(SLL_HATYPE, layer.lladdrtype, offset + 8, 2)
    node.add(SLL_PKTTYPE, layer.pkttype, offset + 10, 1)
    node.add(SLL_HALEN, layer.lladdrlen, offset + 11, 1)
    _add_sll_address(dissection, node, layer.lladdrtype, layer.lladdrlen, offset + 12)
    _set_cooked_columns(dissection, layer.proto, layer.pkttype)
    return offset + 20


def _add_sll_address(dissection: Dissection, node: TreeNode, hardware_type: int,
                     address_length: int, offset: int) -> None:
    """The sender's link-layer address; an Ethernet-like one is shown as a MAC with its vendor."""
    if address_length == 6 and hardware_type in (1, 772):
        mac = dissection.data[offset:offset + 6].hex(":")
        node.add(SLL_SRC_ETH, mac, offset, 6, label=f"Source: {resolved_mac(mac)} ({mac})")
        dissection.set_addresses(resolved_mac(mac), "", network=False)
    elif address_length:
        address = dissection.data[offset:offset + min(address_length, 8)]
        node.add_text(f"Source: {address.hex()}", offset, len(address))
    if address_length < 8:
        unused = dissection.data[offset + address_length:offset + 8]
        node.add_text(f"Unused: {unused.hex()}", offset + address_length, 8 - address_length)


def _set_cooked_columns(dissection: Dissection, ethertype: int, packet_type: int) -> None:
    """Protocol/Info for a cooked frame whose payload no later layer claims."""
    dissection.protocols.append(ETHERTYPE.name)
    dissection.set_columns("SLL", f"Packet type: {_SLL_PACKET_TYPE_SHORT.get(packet_type, packet_type)}"
                                  f", Protocol 0x{ethertype:04x}")
