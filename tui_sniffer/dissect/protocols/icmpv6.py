"""ICMPv6: echo, neighbour/router discovery with their options, and errors that quote the offending packet."""
from __future__ import annotations

import ipaddress
import struct

import scapy.layers.inet6 as inet6
from scapy.layers.inet6 import IPv6

from tui_sniffer.dissect.engine import Dissection, handles
from tui_sniffer.dissect.fields import Base, FieldType, protocol, register
from tui_sniffer.dissect.names import CHECKSUM_STATUS_NAMES
from tui_sniffer.dissect.protocols.icmp import (add_checksum, add_nested_data, add_quoted_packet,
                                                request_reply_suffix)
from tui_sniffer.dissect.tree import TreeNode

_TYPES = {1: "Destination Unreachable", 2: "Packet Too Big", 3: "Time Exceeded",
          4: "Parameter Problem", 128: "Echo (ping) request", 129: "Echo (ping) reply",
          130: "Multicast Listener Query", 131: "Multicast Listener Report",
          132: "Multicast Listener Done", 133: "Router Solicitation", 134: "Router Advertisement",
          135: "Neighbor Solicitation", 136: "Neighbor Advertisement", 137: "Redirect",
          143: "Multicast Listener Report Message v2"}
_CODES = {
    1: {0: "no route to destination", 1: "Administratively prohibited",
        2: "Beyond scope of source address", 3: "Address unreachable", 4: "Port unreachable",
        5: "Source address failed ingress/egress policy", 6: "Reject route to destination"},
    3: {0: "hop limit exceeded in transit", 1: "fragment reassembly time exceeded"},
    4: {0: "erroneous header field encountered", 1: "unrecognized Next Header type encountered",
        2: "unrecognized IPv6 option encountered"},
}
_OPTION_TYPES = {1: "Source link-layer address", 2: "Target link-layer address",
                 3: "Prefix information", 4: "Redirected header", 5: "MTU",
                 25: "Recursive DNS Server", 31: "DNS Search List"}
_PREFERENCES = {0: "Medium", 1: "High", 2: "Reserved", 3: "Low"}
_INFINITY = 0xFFFFFFFF

ICMPV6 = protocol("icmpv6", "Internet Control Message Protocol v6")
TYPE = register("icmpv6.type", "Type", FieldType.UINT8, value_names=_TYPES)
CODE = register("icmpv6.code", "Code", FieldType.UINT8)
CHECKSUM = register("icmpv6.checksum", "Checksum", FieldType.UINT16, Base.HEX)
CHECKSUM_STATUS = register("icmpv6.checksum.status", "Checksum Status", FieldType.UINT8,
                           value_names=CHECKSUM_STATUS_NAMES)
RESERVED = register("icmpv6.reserved", "Reserved", FieldType.BYTES)
MTU = register("icmpv6.mtu", "MTU", FieldType.UINT32)
POINTER = register("icmpv6.pointer", "Pointer", FieldType.UINT32)
ECHO_ID = register("icmpv6.echo.identifier", "Identifier", FieldType.UINT16, Base.HEX)
ECHO_SEQ = register("icmpv6.echo.sequence_number", "Sequence", FieldType.UINT16)
RESP_IN = register("icmpv6.resp_in", "Response In", FieldType.FRAMENUM)
RESP_TO = register("icmpv6.resp_to", "Response To", FieldType.FRAMENUM)
NO_RESP = register("icmpv6.no_resp", "No response seen", FieldType.NONE,
                   description="No corresponding response frame was seen")
RESPTIME = register("icmpv6.resptime", "Response Time", FieldType.FLOAT)
RA_HOP_LIMIT = register("icmpv6.nd.ra.cur_hop_limit", "Cur hop limit", FieldType.UINT8)
RA_FLAG = register("icmpv6.nd.ra.flag", "Flags", FieldType.UINT8, Base.HEX)
_RA_FLAG_BITS = [
    (register("icmpv6.nd.ra.flag.m", "Managed address configuration", FieldType.BOOLEAN, bitmask=0x80), 0x80),
    (register("icmpv6.nd.ra.flag.o", "Other configuration", FieldType.BOOLEAN, bitmask=0x40), 0x40),
    (register("icmpv6.nd.ra.flag.h", "Home Agent", FieldType.BOOLEAN, bitmask=0x20), 0x20),
]
RA_FLAG_PRF = register("icmpv6.nd.ra.flag.prf", "Prf (Default Router Preference)", FieldType.UINT8,
                       value_names=_PREFERENCES, bitmask=0x18)
RA_FLAG_PROXY = register("icmpv6.nd.ra.flag.p", "Proxy", FieldType.BOOLEAN, bitmask=0x04)
RA_FLAG_RESERVED = register("icmpv6.nd.ra.flag.rsv", "Reserved", FieldType.UINT8, bitmask=0x03)
RA_LIFETIME = register("icmpv6.nd.ra.router_lifetime", "Router lifetime (s)", FieldType.UINT16)
RA_REACHABLE = register("icmpv6.nd.ra.reachable_time", "Reachable time (ms)", FieldType.UINT32)
RA_RETRANS = register("icmpv6.nd.ra.retrans_timer", "Retrans timer (ms)", FieldType.UINT32)
NS_TARGET = register("icmpv6.nd.ns.target_address", "Target Address", FieldType.IPV6)
NA_FLAG = register("icmpv6.nd.na.flag", "Flags", FieldType.UINT32, Base.HEX)
_NA_FLAG_BITS = [
    (register("icmpv6.nd.na.flag.r", "Router", FieldType.BOOLEAN, bitmask=0x80000000), 0x80000000, "rtr"),
    (register("icmpv6.nd.na.flag.s", "Solicited", FieldType.BOOLEAN, bitmask=0x40000000), 0x40000000, "sol"),
    (register("icmpv6.nd.na.flag.o", "Override", FieldType.BOOLEAN, bitmask=0x20000000), 0x20000000, "ovr"),
]
NA_FLAG_RESERVED = register("icmpv6.nd.na.flag.rsv", "Reserved", FieldType.UINT32, bitmask=0x1FFFFFFF)
NA_TARGET = register("icmpv6.nd.na.target_address", "Target Address", FieldType.IPV6)
RD_TARGET = register("icmpv6.nd.rd.target_address", "Target Address", FieldType.IPV6)
RD_DESTINATION = register("icmpv6.nd.rd.destination_address", "Destination Address", FieldType.IPV6)
OPTION = register("icmpv6.opt", "ICMPv6 Option", FieldType.NONE)
OPTION_TYPE = register("icmpv6.opt.type", "Type", FieldType.UINT8, value_names=_OPTION_TYPES)
OPTION_LENGTH = register("icmpv6.opt.length", "Length", FieldType.UINT8)
OPTION_RESERVED = register("icmpv6.opt.reserved", "Reserved", FieldType.NONE)
OPTION_LINKADDR = register("icmpv6.opt.linkaddr", "Link-layer address", FieldType.BYTES)
OPTION_SRC_LINKADDR = register("icmpv6.opt.src_linkaddr", "Source Link-layer address", FieldType.BYTES)
OPTION_TARGET_LINKADDR = register("icmpv6.opt.target_linkaddr", "Target Link-layer address",
                                  FieldType.BYTES)
OPTION_MTU = register("icmpv6.opt.mtu", "MTU", FieldType.UINT32)
PREFIX_LENGTH = register("icmpv6.opt.prefix.length", "Prefix Length", FieldType.UINT8)
PREFIX_FLAG = register("icmpv6.opt.prefix.flag", "Flag", FieldType.UINT8, Base.HEX)
_PREFIX_FLAG_BITS = [
    (register("icmpv6.opt.prefix.flag.l", "On-link flag(L)", FieldType.BOOLEAN, bitmask=0x80), 0x80),
    (register("icmpv6.opt.prefix.flag.a", "Autonomous address-configuration flag(A)",
              FieldType.BOOLEAN, bitmask=0x40), 0x40),
    (register("icmpv6.opt.prefix.flag.r", "Router address flag(R)", FieldType.BOOLEAN, bitmask=0x20), 0x20),
]
PREFIX_FLAG_RESERVED = register("icmpv6.opt.prefix.flag.reserved", "Reserved", FieldType.UINT8,
                                bitmask=0x1F)
PREFIX_VALID = register("icmpv6.opt.prefix.valid_lifetime", "Valid Lifetime", FieldType.UINT32)
PREFIX_PREFERRED = register("icmpv6.opt.prefix.preferred_lifetime", "Preferred Lifetime",
                            FieldType.UINT32)
PREFIX = register("icmpv6.opt.prefix", "Prefix", FieldType.IPV6)

_MESSAGE_CLASSES = [getattr(inet6, name) for name in dir(inet6)
                    if name.startswith("ICMPv6") and not name.startswith(("ICMPv6NDOpt", "ICMPv6MLDMultAddrRec"))
                    and isinstance(getattr(inet6, name), type)]


def _ipv6_text(raw: bytes) -> str:
    """Compressed text of a 16-byte IPv6 address."""
    return str(ipaddress.IPv6Address(raw))


def _pseudo_header(dissection: Dissection, length: int) -> bytes:
    """The IPv6 pseudo-header the ICMPv6 checksum covers (source, destination, length, next header)."""
    source = ipaddress.IPv6Address(dissection.network_source).packed
    destination = ipaddress.IPv6Address(dissection.network_destination).packed
    return source + destination + struct.pack(">I3xB", length, 58)


@handles(*_MESSAGE_CLASSES)
def dissect_icmpv6(dissection: Dissection, layer, offset: int) -> int | None:
    """One ICMPv6 message, parsed from its bytes whatever scapy class it came as."""
    data = dissection.data
    end = dissection.payload_end
    node = dissection.add_layer(ICMPV6, "Internet Control Message Protocol v6", offset, end - offset)
    if end - offset < 4:
        dissection.set_columns("ICMPv6", "")
        dissection.mark_malformed("ICMPv6", offset)
        return None
    icmp_type, code, checksum = struct.unpack_from(">BBH", data, offset)
    type_text = _TYPES.get(icmp_type, f"Unknown ({icmp_type})")
    node.add(TYPE, icmp_type, offset, 1)
    code_text = _CODES.get(icmp_type, {}).get(code)
    node.add(CODE, code, offset + 1, 1,
             label=f"Code: {code} ({code_text})" if code_text else f"Code: {code}")
    complete = dissection.frame.captured_length >= dissection.frame.wire_length
    covered = _pseudo_header(dissection, end - offset) + data[offset:end]
    add_checksum(node, CHECKSUM, CHECKSUM_STATUS, checksum, covered, offset + 2, complete)
    info = type_text + (f" ({code_text})" if code_text else "")
    body = offset + 4
    if icmp_type in (128, 129) and end - offset >= 8:
        ident, sequence = struct.unpack_from(">HH", data, body)
        node.add(ECHO_ID, ident, body, 2)
        node.add(ECHO_SEQ, sequence, body + 2, 2)
        hop_limit = layer.underlayer.hlim if isinstance(layer.underlayer, IPv6) else None
        info += f" id=0x{ident:04x}, seq={sequence}" + (f", hop limit={hop_limit}" if hop_limit is not None else "")
        info += request_reply_suffix(dissection, node, RESP_IN, RESP_TO, RESPTIME, NO_RESP,
                                     f"No response seen to ICMPv6 request in frame {dissection.frame.number}")
        add_nested_data(dissection, node, body + 4, end)
    elif icmp_type in (1, 2, 3, 4) and end - offset >= 8:
        if icmp_type == 2:
            node.add(MTU, struct.unpack_from(">I", data, body)[0], body, 4)
        elif icmp_type == 4:
            node.add(POINTER, struct.unpack_from(">I", data, body)[0], body, 4)
        else:
            node.add(RESERVED, data[body:body + 4], body, 4, label=f"Reserved: {data[body:body + 4].hex()}")
        if end - offset > 8:
            add_quoted_packet(dissection, node, body + 4, end, IPv6(data[body + 4:end]))
    elif icmp_type in (133, 134, 135, 136, 137):
        info = _dissect_discovery(dissection, node, icmp_type, body, end, info)
    else:
        add_nested_data(dissection, node, body, end)
    dissection.set_columns("ICMPv6", info)
    return None


def _dissect_discovery(dissection: Dissection, node: TreeNode, icmp_type: int, body: int, end: int,
                       info: str) -> str:
    """Router/neighbour solicitation and advertisement, redirect; returns the Info text."""
    data = dissection.data
    if icmp_type == 134:
        hop_limit, flags, lifetime, reachable, retrans = struct.unpack_from(">BBHII", data, body)
        node.add(RA_HOP_LIMIT, hop_limit, body, 1)
        _add_ra_flags(node, flags, body + 1)
        node.add(RA_LIFETIME, lifetime, body + 2, 2)
        node.add(RA_REACHABLE, reachable, body + 4, 4)
        node.add(RA_RETRANS, retrans, body + 8, 4)
        options_start = body + 12
    elif icmp_type == 136:
        flags, = struct.unpack_from(">I", data, body)
        names = [definition.label for definition, bit, _ in _NA_FLAG_BITS if flags & bit]
        flags_node = node.add(NA_FLAG, flags, body, 4,
                              label=f"Flags: 0x{flags:08x}" + "".join(f", {name}" for name in names))
        for definition, bit, _ in _NA_FLAG_BITS:
            flags_node.add_bits(definition, bool(flags & bit), body, 4,
                                f"{definition.label}: {'Set' if flags & bit else 'Not set'}")
        flags_node.add_bits(NA_FLAG_RESERVED, flags & 0x1FFFFFFF, body, 4, f"Reserved: {flags & 0x1FFFFFFF}")
        target = _ipv6_text(data[body + 4:body + 20])
        node.add(NA_TARGET, target, body + 4, 16)
        short_flags = [short for _, bit, short in _NA_FLAG_BITS if flags & bit]
        info += f" {target}" + (f" ({', '.join(short_flags)})" if short_flags else "")
        options_start = body + 20
    else:
        node.add(RESERVED, data[body:body + 4], body, 4, label=f"Reserved: {data[body:body + 4].hex()}")
        options_start = body + 4
        if icmp_type in (135, 137):
            target = _ipv6_text(data[body + 4:body + 20])
            node.add(NS_TARGET if icmp_type == 135 else RD_TARGET, target, body + 4, 16)
            options_start = body + 20
            if icmp_type == 135:
                info += f" for {target}"
            else:
                node.add(RD_DESTINATION, _ipv6_text(data[body + 20:body + 36]), body + 20, 16)
                options_start = body + 36
    link_addresses = _add_options(dissection, node, options_start, end)
    if icmp_type in (133, 134, 135) and 1 in link_addresses:
        info += f" from {link_addresses[1]}"
    if icmp_type == 136 and 2 in link_addresses:
        info += f" is at {link_addresses[2]}"
    return info


def _add_ra_flags(node: TreeNode, flags: int, offset: int) -> None:
    """The router advertisement flags byte with its bits and the router preference."""
    preference = (flags >> 3) & 3
    names = [definition.label for definition, bit in _RA_FLAG_BITS if flags & bit]
    names.append(f"Prf (Default Router Preference): {_PREFERENCES[preference]}")
    if flags & 0x04:
        names.append("Proxy")
    flags_node = node.add(RA_FLAG, flags, offset, 1, label=f"Flags: 0x{flags:02x}, " + ", ".join(names))
    for definition, bit in _RA_FLAG_BITS:
        flags_node.add_bits(definition, bool(flags & bit), offset, 1,
                            f"{definition.label}: {'Set' if flags & bit else 'Not set'}")
    flags_node.add_bits(RA_FLAG_PRF, preference, offset, 1,
                        f"Prf (Default Router Preference): {RA_FLAG_PRF.show(preference)}")
    flags_node.add_bits(RA_FLAG_PROXY, bool(flags & 0x04), offset, 1,
                        f"Proxy: {'Set' if flags & 0x04 else 'Not set'}")
    flags_node.add_bits(RA_FLAG_RESERVED, flags & 3, offset, 1, f"Reserved: {flags & 3}")


def _add_options(dissection: Dissection, node: TreeNode, offset: int, end: int) -> dict[int, str]:
    """Each neighbour-discovery option; returns the link-layer addresses by option type."""
    data = dissection.data
    link_addresses: dict[int, str] = {}
    while offset + 2 <= end:
        option_type, length_units = data[offset], data[offset + 1]
        length = length_units * 8
        if length == 0 or offset + length > end:
            node.add_text("ICMPv6 Option: bogus length", offset, end - offset)
            dissection.mark_malformed("ICMPv6", offset)
            break
        name = _OPTION_TYPES.get(option_type, f"Unknown ({option_type})")
        option_node = node.add(OPTION, None, offset, length, label=f"ICMPv6 Option ({name})")
        option_node.add(OPTION_TYPE, option_type, offset, 1)
        option_node.add(OPTION_LENGTH, length_units, offset + 1, 1,
                        label=f"Length: {length_units} ({length} bytes)")
        value = data[offset + 2:offset + length]
        if option_type in (1, 2) and length == 8:
            mac = value[:6].hex(":")
            link_addresses[option_type] = mac
            option_node.label = f"ICMPv6 Option ({name} : {mac})"
            option_node.add(OPTION_LINKADDR, value[:6], offset + 2, 6, label=f"Link-layer address: {mac}")
            twin = OPTION_SRC_LINKADDR if option_type == 1 else OPTION_TARGET_LINKADDR
            option_node.add(twin, value[:6], offset + 2, 6, hidden=True)
        elif option_type == 5 and length == 8:
            mtu, = struct.unpack_from(">I", value, 2)
            option_node.label = f"ICMPv6 Option (MTU : {mtu})"
            option_node.add(OPTION_RESERVED, None, offset + 2, 2, label="Reserved")
            option_node.add(OPTION_MTU, mtu, offset + 4, 4)
        elif option_type == 3 and length == 32:
            _add_prefix_option(option_node, value, offset)
        offset += length
    return link_addresses


def _add_prefix_option(option_node: TreeNode, value: bytes, offset: int) -> None:
    """The prefix information option: length, L/A/R flags, lifetimes and the prefix."""
    prefix_length, flags, valid, preferred = struct.unpack_from(">BBII", value)
    prefix = _ipv6_text(value[14:30])
    option_node.label = f"ICMPv6 Option (Prefix information : {prefix}/{prefix_length})"
    option_node.add(PREFIX_LENGTH, prefix_length, offset + 2, 1)
    names = [definition.label for definition, bit in _PREFIX_FLAG_BITS if flags & bit]
    flag_node = option_node.add(PREFIX_FLAG, flags, offset + 3, 1,
                                label=f"Flag: 0x{flags:02x}" + "".join(f", {name}" for name in names))
    for definition, bit in _PREFIX_FLAG_BITS:
        flag_node.add_bits(definition, bool(flags & bit), offset + 3, 1,
                           f"{definition.label}: {'Set' if flags & bit else 'Not set'}")
    flag_node.add_bits(PREFIX_FLAG_RESERVED, flags & 0x1F, offset + 3, 1, f"Reserved: {flags & 0x1F}")
    for definition, lifetime, position in ((PREFIX_VALID, valid, 4), (PREFIX_PREFERRED, preferred, 8)):
        text = f"Infinity ({lifetime})" if lifetime == _INFINITY else str(lifetime)
        option_node.add(definition, lifetime, offset + position, 4, label=f"{definition.label}: {text}")
    option_node.add(OPTION_RESERVED, None, offset + 12, 4, label="Reserved")
    option_node.add(PREFIX, prefix, offset + 16, 16)
