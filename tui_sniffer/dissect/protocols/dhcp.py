"""DHCP (BOOTP with the DHCP magic cookie) on UDP 67/68: the fixed header and every option as tshark shows it."""
from __future__ import annotations

import ipaddress
import struct

from tui_sniffer.dissect.engine import Dissection, MalformedError, handles_payload
from tui_sniffer.dissect.fields import Base, FieldType, protocol, register
from tui_sniffer.dissect.tree import TreeNode, bytes_text, seconds_text

_MESSAGE_TYPES = {1: "Discover", 2: "Offer", 3: "Request", 4: "Decline", 5: "ACK", 6: "NAK", 7: "Release",
                  8: "Inform", 9: "Force Renew", 10: "Lease query", 11: "Lease Unassigned", 12: "Lease Unknown",
                  13: "Lease Active"}
OPTION_NAMES = {
    0: "Padding", 1: "Subnet Mask", 2: "Time Offset", 3: "Router", 4: "Time Server", 5: "Name Server",
    6: "Domain Name Server", 7: "Log Server", 12: "Host Name", 15: "Domain Name", 26: "Interface MTU",
    28: "Broadcast Address", 31: "Perform Router Discover", 33: "Static Route",
    42: "Network Time Protocol Servers", 43: "Vendor-Specific Information", 44: "NetBIOS over TCP/IP Name Server",
    46: "NetBIOS over TCP/IP Node Type", 47: "NetBIOS over TCP/IP Scope", 50: "Requested IP Address",
    51: "IP Address Lease Time", 53: "DHCP Message Type", 54: "DHCP Server Identifier",
    55: "Parameter Request List", 56: "Message", 57: "Maximum DHCP Message Size", 58: "Renewal Time Value",
    59: "Rebinding Time Value", 60: "Vendor class identifier", 61: "Client identifier", 66: "TFTP Server Name",
    67: "Bootfile name", 81: "Client Fully Qualified Domain Name", 119: "Domain Search",
    121: "Classless Static Route", 252: "Private/Proxy autodiscovery", 255: "End"}
_BOOTP_PORTS = {67, 68}
_COOKIE = b"\x63\x82\x53\x63"

DHCP = protocol("dhcp", "Dynamic Host Configuration Protocol")
TYPE = register("dhcp.type", "Message type", FieldType.UINT8, value_names={1: "Boot Request", 2: "Boot Reply"})
HW_TYPE = register("dhcp.hw.type", "Hardware type", FieldType.UINT8, Base.HEX, value_names={1: "Ethernet"})
HW_LENGTH = register("dhcp.hw.len", "Hardware address length", FieldType.UINT8)
HOPS = register("dhcp.hops", "Hops", FieldType.UINT8)
ID = register("dhcp.id", "Transaction ID", FieldType.UINT32, Base.HEX)
SECONDS = register("dhcp.secs", "Seconds elapsed", FieldType.UINT16)
FLAGS = register("dhcp.flags", "Bootp flags", FieldType.UINT16, Base.HEX)
FLAG_BROADCAST = register("dhcp.flags.bc", "Broadcast flag", FieldType.BOOLEAN, bitmask=0x8000)
FLAG_RESERVED = register("dhcp.flags.reserved", "Reserved flags", FieldType.UINT16, Base.HEX, bitmask=0x7FFF)
ADDRESSES = [register(f"dhcp.ip.{name}", label, FieldType.IPV4) for name, label in (
    ("client", "Client IP address"), ("your", "Your (client) IP address"), ("server", "Next server IP address"),
    ("relay", "Relay agent IP address"))]
MAC_ADDRESS = register("dhcp.hw.mac_addr", "Client MAC address", FieldType.ETHER)
HW_ADDRESS = register("dhcp.hw.addr", "Client hardware address", FieldType.BYTES)
HW_PADDING = register("dhcp.hw.addr_padding", "Client hardware address padding", FieldType.BYTES)
SERVER_NAME = register("dhcp.server", "Server host name", FieldType.STRING)
FILE_NAME = register("dhcp.file", "Boot file name", FieldType.STRING)
COOKIE = register("dhcp.cookie", "Magic cookie", FieldType.IPV4)
OPTION_TYPE = register("dhcp.option.type", "Option", FieldType.UINT8)
OPTION_LENGTH = register("dhcp.option.length", "Length", FieldType.UINT8)
OPTION_VALUE = register("dhcp.option.value", "Value", FieldType.BYTES)
OPTION_END = register("dhcp.option.end", "Option End", FieldType.UINT8)
OPTION_PADDING = register("dhcp.option.padding", "Padding", FieldType.BYTES)
MESSAGE_TYPE = register("dhcp.option.dhcp", "DHCP", FieldType.UINT8, value_names=_MESSAGE_TYPES)
REQUEST_ITEM = register("dhcp.option.request_list_item", "Parameter Request List Item", FieldType.UINT8)
ADDRESS_OPTIONS = {number: register(f"dhcp.option.{name}", OPTION_NAMES[number], FieldType.IPV4) for number, name in (
    (1, "subnet_mask"), (3, "router"), (6, "domain_name_server"), (28, "broadcast_address"), (42, "ntp_server"),
    (50, "requested_ip_address"), (54, "dhcp_server_id"))}
"""Options holding IPv4 addresses; the single-address ones also show it in their title."""
_ADDRESS_IN_TITLE = {1, 28, 50, 54}
TEXT_OPTIONS = {number: register(f"dhcp.option.{name}", OPTION_NAMES[number], FieldType.STRING) for number, name in (
    (12, "hostname"), (15, "domain_name"), (56, "message"), (60, "vendor_class_id"))}
TIME_OPTIONS = {number: register(f"dhcp.option.{name}", OPTION_NAMES[number], FieldType.UINT32) for number, name in (
    (51, "ip_address_lease_time"), (58, "renewal_time_value"), (59, "rebinding_time_value"))}
MAX_MESSAGE_SIZE = register("dhcp.option.dhcp_max_message_size", "Maximum DHCP Message Size", FieldType.UINT16)
INTERFACE_MTU = register("dhcp.option.interface_mtu", "Interface MTU", FieldType.UINT16)


@handles_payload("dhcp")
def dissect_dhcp_payload(dissection: Dissection, offset: int, end: int) -> bool:
    """Claim a UDP payload on the BOOTP ports that carries the DHCP magic cookie."""
    if dissection.transport != "udp" or not {dissection.source_port, dissection.destination_port} & _BOOTP_PORTS:
        return False
    if end - offset < 240 or dissection.data[offset + 236:offset + 240] != _COOKIE:
        return False
    try:
        _dissect_message(dissection, offset, end)
    except (MalformedError, struct.error, IndexError, ValueError):
        dissection.mark_malformed("DHCP", offset)
    return True


def _dissect_message(dissection: Dissection, offset: int, end: int) -> None:
    """The BOOTP header, the options, and the `DHCP Discover - Transaction ID 0x…` Info."""
    data = dissection.data
    node = dissection.add_layer(DHCP, "Dynamic Host Configuration Protocol", offset, end - offset)
    node.add(TYPE, data[offset], offset, 1)
    node.add(HW_TYPE, data[offset + 1], offset + 1, 1)
    node.add(HW_LENGTH, data[offset + 2], offset + 2, 1)
    node.add(HOPS, data[offset + 3], offset + 3, 1)
    transaction, = struct.unpack_from(">I", data, offset + 4)
    node.add(ID, transaction, offset + 4, 4)
    node.add(SECONDS, struct.unpack_from(">H", data, offset + 8)[0], offset + 8, 2)
    _add_flags(node, struct.unpack_from(">H", data, offset + 10)[0], offset + 10)
    for index, definition in enumerate(ADDRESSES):
        at = offset + 12 + 4 * index
        node.add(definition, str(ipaddress.IPv4Address(data[at:at + 4])), at, 4)
    _add_client_address(node, data, offset + 28, data[offset + 2])
    for definition, start, size in ((SERVER_NAME, offset + 44, 64), (FILE_NAME, offset + 108, 128)):
        text = data[start:start + size].split(b"\0")[0].decode("latin-1")
        label = f"{definition.label}: {text}" if text else f"{definition.label} not given"
        node.add(definition, text, start, size, label=label)
    node.add(COOKIE, "99.130.83.99", offset + 236, 4, label="Magic cookie: DHCP")
    message_type = _add_options(node, data, offset + 240, end)
    name = _MESSAGE_TYPES.get(message_type, "Unknown")
    node.label = f"Dynamic Host Configuration Protocol ({name})"
    dissection.set_columns("DHCP", f"DHCP {name:<8} - Transaction ID 0x{transaction:08x}")


def _add_flags(node: TreeNode, flags: int, offset: int) -> None:
    """`Bootp flags: 0x0000 (Unicast)` with the broadcast bit and the reserved bits."""
    kind = "Broadcast" if flags & 0x8000 else "Unicast"
    flags_node = node.add(FLAGS, flags, offset, 2, label=f"Bootp flags: 0x{flags:04x} ({kind})")
    flags_node.add_bits(FLAG_BROADCAST, bool(flags & 0x8000), offset, 2, f"Broadcast flag: {kind}")
    flags_node.children[-1].value = bool(flags & 0x8000)
    flags_node.add_bits(FLAG_RESERVED, flags & 0x7FFF, offset, 2, f"Reserved flags: 0x{flags & 0x7FFF:04x}")


def _add_client_address(node: TreeNode, data: bytes, offset: int, length: int) -> None:
    """The client hardware address (a MAC for Ethernet) and the padding of its 16-byte field."""
    if length == 6:
        mac = ":".join(f"{byte:02x}" for byte in data[offset:offset + 6])
        node.add(MAC_ADDRESS, mac, offset, 6, label=f"Client MAC address: {mac}")
        node.add(HW_PADDING, data[offset + 6:offset + 16], offset + 6, 10,
                 label=f"Client hardware address padding: {data[offset + 6:offset + 16].hex()}")
    else:
        node.add(HW_ADDRESS, data[offset:offset + 16], offset, 16,
                 label=f"Client hardware address: {data[offset:offset + 16].hex()}")


def _add_options(node: TreeNode, data: bytes, position: int, end: int) -> int | None:
    """Every option up to End, then any padding; returns the DHCP message type."""
    message_type = None
    while position < end:
        code = data[position]
        if code == 255:
            option = node.add(OPTION_TYPE, 0, position, 1, label="Option: (255) End")
            option.add(OPTION_END, 255, position, 1)
            position += 1
            if position < end:
                padding = data[position:end]
                node.add(OPTION_PADDING, padding, position, len(padding), label=f"Padding: {bytes_text(padding)}")
            break
        if code == 0:
            position += 1
            continue
        length = data[position + 1]
        value = data[position + 2:position + 2 + length]
        if len(value) < length:
            raise MalformedError("DHCP option runs past the packet")
        option = node.add(OPTION_TYPE, code, position, 2 + length,
                          label=f"Option: ({code}) {OPTION_NAMES.get(code, 'Unknown')}")
        option.add(OPTION_LENGTH, length, position + 1, 1)
        option.add(OPTION_VALUE, value, position + 2, length, hidden=True)
        suffix = _add_option_value(option, code, value, position + 2)
        option.label += suffix
        if code == 53 and length == 1:
            message_type = value[0]
        position += 2 + length
    return message_type


def _add_option_value(option: TreeNode, code: int, value: bytes, start: int) -> str:
    """An option's decoded value; returns what its title line adds (`(Discover)`, `(10.10.0.1)`)."""
    if code == 53 and len(value) == 1:
        option.add(MESSAGE_TYPE, value[0], start, 1)
        return f" ({_MESSAGE_TYPES.get(value[0], 'Unknown')})"
    if code in ADDRESS_OPTIONS and len(value) % 4 == 0 and value:
        for at in range(0, len(value), 4):
            option.add(ADDRESS_OPTIONS[code], str(ipaddress.IPv4Address(value[at:at + 4])), start + at, 4)
        return f" ({ipaddress.IPv4Address(value[:4])})" if code in _ADDRESS_IN_TITLE else ""
    if code in TEXT_OPTIONS:
        option.add(TEXT_OPTIONS[code], value.split(b"\0")[0].decode("latin-1"), start, len(value))
    elif code in TIME_OPTIONS and len(value) == 4:
        seconds, = struct.unpack(">I", value)
        definition = TIME_OPTIONS[code]
        option.add(definition, seconds, start, 4, label=f"{definition.label}: ({seconds}s) {seconds_text(seconds)}")
    elif code == 55:
        for index, item in enumerate(value):
            option.add(REQUEST_ITEM, item, start + index, 1,
                       label=f"Parameter Request List Item: ({item}) {OPTION_NAMES.get(item, 'Unknown')}")
    elif code in (57, 26) and len(value) == 2:
        option.add(MAX_MESSAGE_SIZE if code == 57 else INTERFACE_MTU, struct.unpack(">H", value)[0], start, 2)
    elif code == 61 and len(value) == 7 and value[0] == 1:
        option.add(HW_TYPE, 1, start, 1)
        mac = ":".join(f"{byte:02x}" for byte in value[1:])
        option.add(MAC_ADDRESS, mac, start + 1, 6, label=f"Client MAC address: {mac}")
    return ""
