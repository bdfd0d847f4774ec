"""ARP: the request/reply fields and tshark's Info wording for requests, replies, probes and announcements."""
from __future__ import annotations

import struct

from scapy.layers.l2 import ARP

from tui_sniffer.dissect.engine import Dissection, MalformedError, handles
from tui_sniffer.dissect.fields import Base, FieldDef, FieldType, protocol, register
from tui_sniffer.dissect.names import ETHERTYPES, resolved_mac
from tui_sniffer.dissect.protocols.link import add_ethernet_padding
from tui_sniffer.dissect.tree import TreeNode

_HARDWARE_TYPES = {1: "Ethernet", 6: "IEEE 802 Networks", 15: "Frame Relay", 16: "ATM",
                   20: "Serial Line", 24: "IEEE 1394.1995", 32: "InfiniBand"}
_OPCODES = {1: "request", 2: "reply", 3: "reverse request", 4: "reverse reply",
            8: "inverse request", 9: "inverse reply"}

ARP_PROTOCOL = protocol("arp", "Address Resolution Protocol")
HW_TYPE = register("arp.hw.type", "Hardware type", FieldType.UINT16, value_names=_HARDWARE_TYPES)
PROTO_TYPE = register("arp.proto.type", "Protocol type", FieldType.UINT16, Base.HEX,
                      value_names=ETHERTYPES)
HW_SIZE = register("arp.hw.size", "Hardware size", FieldType.UINT8)
PROTO_SIZE = register("arp.proto.size", "Protocol size", FieldType.UINT8)
OPCODE = register("arp.opcode", "Opcode", FieldType.UINT16, value_names=_OPCODES)
IS_GRATUITOUS = register("arp.isgratuitous", "Is gratuitous", FieldType.BOOLEAN)
IS_PROBE = register("arp.isprobe", "Is probe", FieldType.BOOLEAN)
IS_ANNOUNCEMENT = register("arp.isannouncement", "Is announcement", FieldType.BOOLEAN)
SRC_HW_MAC = register("arp.src.hw_mac", "Sender MAC address", FieldType.ETHER)
SRC_PROTO_IPV4 = register("arp.src.proto_ipv4", "Sender IP address", FieldType.IPV4)
DST_HW_MAC = register("arp.dst.hw_mac", "Target MAC address", FieldType.ETHER)
DST_PROTO_IPV4 = register("arp.dst.proto_ipv4", "Target IP address", FieldType.IPV4)
SRC_HW = register("arp.src.hw", "Sender hardware address", FieldType.BYTES)
SRC_PROTO = register("arp.src.proto", "Sender protocol address", FieldType.BYTES)
DST_HW = register("arp.dst.hw", "Target hardware address", FieldType.BYTES)
DST_PROTO = register("arp.dst.proto", "Target protocol address", FieldType.BYTES)

_ZERO_MAC = "00:00:00:00:00:00"


def _mac_text(raw: bytes) -> str:
    """Colon-separated lower-case hex, as Wireshark prints an Ethernet address."""
    return raw.hex(":")


def _ipv4_text(raw: bytes) -> str:
    """Dotted-quad text of four bytes."""
    return ".".join(str(octet) for octet in raw)


def arp_kind(opcode: int, sender_ip: str, target_ip: str, target_mac: str) -> tuple[str, str]:
    """The title suffix and Info text tshark gives an Ethernet/IPv4 ARP packet (sender MAC filled later)."""
    gratuitous = sender_ip == target_ip
    if opcode == 1:
        if target_mac == _ZERO_MAC and sender_ip == "0.0.0.0":
            return "ARP Probe", f"Who has {target_ip}? (ARP Probe)"
        if gratuitous and target_mac == _ZERO_MAC:
            return "ARP Announcement", f"ARP Announcement for {target_ip}"
        if gratuitous:
            return "request/gratuitous ARP", f"Gratuitous ARP for {target_ip} (Request)"
        return "request", f"Who has {target_ip}? Tell {sender_ip}"
    if opcode == 2:
        if gratuitous:
            return "reply/gratuitous ARP", f"Gratuitous ARP for {target_ip} (Reply)"
        return "reply", "{sender_ip} is at {sender_mac}"
    return _OPCODES.get(opcode, "Unknown"), f"Unknown ARP opcode 0x{opcode:04x}"


@handles(ARP)
def dissect_arp(dissection: Dissection, layer: ARP, offset: int) -> int | None:
    """ARP header and addresses; Ethernet/IPv4 addresses get their typed fields, others stay bytes."""
    data = dissection.data
    if len(data) - offset < 8:
        dissection.add_layer(ARP_PROTOCOL, "Address Resolution Protocol", offset, len(data) - offset)
        raise MalformedError("ARP header cut short")
    hw_type, proto_type, hw_size, proto_size, opcode = struct.unpack_from(">HHBBH", data, offset)
    length = 8 + 2 * (hw_size + proto_size)
    if len(data) - offset < length:
        dissection.add_layer(ARP_PROTOCOL, "Address Resolution Protocol", offset, len(data) - offset)
        raise MalformedError("ARP addresses cut short")
    position = offset + 8
    sender_hw = data[position:position + hw_size]
    sender_proto = data[position + hw_size:position + hw_size + proto_size]
    target_hw = data[position + hw_size + proto_size:position + 2 * hw_size + proto_size]
    target_proto = data[position + 2 * hw_size + proto_size:offset + length]
    is_ether_ipv4 = hw_size == 6 and proto_size == 4 and proto_type == 0x0800
    if is_ether_ipv4:
        sender_ip, target_ip = _ipv4_text(sender_proto), _ipv4_text(target_proto)
        sender_mac, target_mac = _mac_text(sender_hw), _mac_text(target_hw)
        kind, info = arp_kind(opcode, sender_ip, target_ip, target_mac)
        info = info.format(sender_ip=sender_ip, sender_mac=sender_mac)
    else:
        kind = _OPCODES.get(opcode, "Unknown")
        info = f"ARP {kind} (hardware type {hw_type}, protocol type 0x{proto_type:04x})"
    node = dissection.add_layer(ARP_PROTOCOL, f"Address Resolution Protocol ({kind})", offset, length)
    node.add(HW_TYPE, hw_type, offset, 2)
    node.add(PROTO_TYPE, proto_type, offset + 2, 2)
    node.add(HW_SIZE, hw_size, offset + 4, 1)
    node.add(PROTO_SIZE, proto_size, offset + 5, 1)
    node.add(OPCODE, opcode, offset + 6, 2)
    if is_ether_ipv4:
        if sender_ip == target_ip:
            node.add_generated(IS_GRATUITOUS, True, label="Is gratuitous: True")
        if kind == "ARP Announcement":
            node.add_generated(IS_ANNOUNCEMENT, True, label="Is announcement: True")
        if kind == "ARP Probe":
            node.add_generated(IS_PROBE, True, label="Is probe: True")
        _add_mac(node, SRC_HW_MAC, sender_mac, position)
        node.add(SRC_PROTO_IPV4, sender_ip, position + 6, 4)
        _add_mac(node, DST_HW_MAC, target_mac, position + 10)
        node.add(DST_PROTO_IPV4, target_ip, position + 16, 4)
    else:
        node.add(SRC_HW, sender_hw, position, hw_size)
        node.add(SRC_PROTO, sender_proto, position + hw_size, proto_size)
        node.add(DST_HW, target_hw, position + hw_size + proto_size, hw_size)
        node.add(DST_PROTO, target_proto, position + 2 * hw_size + proto_size, proto_size)
    dissection.set_columns("ARP", info)
    dissection.payload_end = offset + length
    add_ethernet_padding(dissection)
    return None


def _add_mac(node: TreeNode, definition: FieldDef, mac: str, offset: int) -> None:
    """A MAC address field labelled with its vendor-resolved name, as the Ethernet layer does."""
    node.add(definition, mac, offset, 6, label=f"{definition.label}: {resolved_mac(mac)} ({mac})")
