"""IPv4 and IPv6 headers, with Wireshark's labels, hidden `ip.addr` twins and fragment handling."""
from __future__ import annotations

from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting

from tui_sniffer.dissect.engine import Dissection, MalformedError, handles
from tui_sniffer.dissect.fields import Base, FieldType, protocol, register
from tui_sniffer.dissect.names import CHECKSUM_STATUS_NAMES, IP_PROTOCOLS
from tui_sniffer.dissect.protocols.ip_fragments import dissect_ipv4_fragment
from tui_sniffer.dissect.protocols.link import add_ethernet_padding
from tui_sniffer.dissect.tree import TreeNode

_DSCP_NAMES = {0: "Default", 8: "Class Selector 1", 10: "Assured Forwarding 11", 12: "Assured Forwarding 12",
               14: "Assured Forwarding 13", 16: "Class Selector 2", 18: "Assured Forwarding 21",
               24: "Class Selector 3", 26: "Assured Forwarding 31", 32: "Class Selector 4",
               34: "Assured Forwarding 41", 40: "Class Selector 5", 46: "Expedited Forwarding",
               48: "Class Selector 6", 56: "Class Selector 7", 1: "Lower Effort"}
_DSCP_SHORT = {0: "CS0", 8: "CS1", 10: "AF11", 12: "AF12", 14: "AF13", 16: "CS2", 18: "AF21",
               20: "AF22", 22: "AF23", 24: "CS3", 26: "AF31", 28: "AF32", 30: "AF33", 32: "CS4",
               34: "AF41", 36: "AF42", 38: "AF43", 40: "CS5", 46: "EF", 48: "CS6", 56: "CS7", 1: "LE"}
_ECN_NAMES = {0: "Not ECN-Capable Transport", 1: "ECN-Capable Transport codepoint '01'",
              2: "ECN-Capable Transport codepoint '10'", 3: "Congestion Experienced"}
_ECN_SHORT = {0: "Not-ECT", 1: "ECT(1)", 2: "ECT(0)", 3: "CE"}

IP4 = protocol("ip", "Internet Protocol Version 4")
IP_VERSION = register("ip.version", "Version", FieldType.UINT8, bitmask=0xF0)
IP_HDR_LEN = register("ip.hdr_len", "Header Length", FieldType.UINT8, bitmask=0x0F)
IP_DSFIELD = register("ip.dsfield", "Differentiated Services Field", FieldType.UINT8, Base.HEX)
IP_DSCP = register("ip.dsfield.dscp", "Differentiated Services Codepoint", FieldType.UINT8,
                   value_names=_DSCP_NAMES, bitmask=0xFC)
IP_ECN = register("ip.dsfield.ecn", "Explicit Congestion Notification", FieldType.UINT8,
                  value_names=_ECN_NAMES, bitmask=0x03)
IP_LEN = register("ip.len", "Total Length", FieldType.UINT16)
IP_ID = register("ip.id", "Identification", FieldType.UINT16, Base.HEX_DEC)
IP_FLAGS = register("ip.flags", "Flags", FieldType.UINT8, Base.HEX, bitmask=0xE0)
IP_FLAGS_RB = register("ip.flags.rb", "Reserved bit", FieldType.BOOLEAN, bitmask=0x80)
IP_FLAGS_DF = register("ip.flags.df", "Don't fragment", FieldType.BOOLEAN, bitmask=0x40)
IP_FLAGS_MF = register("ip.flags.mf", "More fragments", FieldType.BOOLEAN, bitmask=0x20)
IP_FRAG_OFFSET = register("ip.frag_offset", "Fragment Offset", FieldType.UINT16, bitmask=0x1FFF)
IP_TTL = register("ip.ttl", "Time to Live", FieldType.UINT8)
IP_PROTO = register("ip.proto", "Protocol", FieldType.UINT8, value_names=IP_PROTOCOLS)
IP_CHECKSUM = register("ip.checksum", "Header Checksum", FieldType.UINT16, Base.HEX)
IP_CHECKSUM_STATUS = register("ip.checksum.status", "Header checksum status", FieldType.UINT8,
                              value_names=CHECKSUM_STATUS_NAMES)
IP_SRC = register("ip.src", "Source Address", FieldType.IPV4)
IP_DST = register("ip.dst", "Destination Address", FieldType.IPV4)
IP_ADDR = register("ip.addr", "Source or Destination Address", FieldType.IPV4)
IP_SRC_HOST = register("ip.src_host", "Source Host", FieldType.STRING)
IP_DST_HOST = register("ip.dst_host", "Destination Host", FieldType.STRING)
IP_HOST = register("ip.host", "Source or Destination Host", FieldType.STRING)

IP6 = protocol("ipv6", "Internet Protocol Version 6")
IPV6_VERSION = register("ipv6.version", "Version", FieldType.UINT8, bitmask=0xF0)
IPV6_TCLASS = register("ipv6.tclass", "Traffic Class", FieldType.UINT32, Base.HEX, bitmask=0x0FF00000)
IPV6_TCLASS_DSCP = register("ipv6.tclass.dscp", "Differentiated Services Codepoint",
                            FieldType.UINT32, value_names=_DSCP_NAMES, bitmask=0x0FC00000)
IPV6_TCLASS_ECN = register("ipv6.tclass.ecn", "Explicit Congestion Notification",
                           FieldType.UINT32, value_names=_ECN_NAMES, bitmask=0x00300000)
IPV6_FLOW = register("ipv6.flow", "Flow Label", FieldType.UINT32, Base.HEX, bitmask=0x000FFFFF)
IPV6_PLEN = register("ipv6.plen", "Payload Length", FieldType.UINT16)
IPV6_NXT = register("ipv6.nxt", "Next Header", FieldType.UINT8, value_names=IP_PROTOCOLS)
IPV6_HLIM = register("ipv6.hlim", "Hop Limit", FieldType.UINT8)
IPV6_SRC = register("ipv6.src", "Source Address", FieldType.IPV6)
IPV6_DST = register("ipv6.dst", "Destination Address", FieldType.IPV6)
IPV6_ADDR = register("ipv6.addr", "Source or Destination Address", FieldType.IPV6)
IPV6_SRC_HOST = register("ipv6.src_host", "Source Host", FieldType.STRING)
IPV6_DST_HOST = register("ipv6.dst_host", "Destination Host", FieldType.STRING)
IPV6_HOST = register("ipv6.host", "Source or Destination Host", FieldType.STRING)
IPV6_EXT_NXT = register("ipv6.ext.nxt", "Next Header", FieldType.UINT8, value_names=IP_PROTOCOLS)
IPV6_EXT_LEN = register("ipv6.ext.len", "Length", FieldType.UINT8)


def _ds_text(codepoint: int, ecn: int) -> str:
    """`(DSCP: CS0, ECN: Not-ECT)`, the summary Wireshark appends to the DS / traffic class."""
    return f"(DSCP: {_DSCP_SHORT.get(codepoint, str(codepoint))}, ECN: {_ECN_SHORT[ecn]})"


def _flags_text(flags: int) -> str:
    """`0x2, Don't fragment` for the IPv4 flags line."""
    names = [name for bit, name in ((4, "Reserved bit"), (2, "Don't fragment"), (1, "More fragments"))
             if flags & bit]
    return f"0x{flags:x}" + (", " + ", ".join(names) if names else "")


def _add_hidden_addresses(node: TreeNode, address_field, host_field, both_address, both_host,
                          address: str, offset: int, length: int) -> None:
    """The hidden `ip.addr`/`ip.host` twins Wireshark adds beside each address."""
    node.add(both_address, address, offset, length, hidden=True)
    node.add(host_field, address, offset, length, hidden=True)
    node.add(both_host, address, offset, length, hidden=True)


@handles(IP)
def dissect_ipv4(dissection: Dissection, layer: IP, offset: int) -> int | None:
    """IPv4 header; returns where the transport header starts (None for a later fragment)."""
    available = len(dissection.data) - offset
    header_length = layer.ihl * 4
    if available < 20 or header_length < 20:
        dissection.add_layer(IP4, "Internet Protocol Version 4", offset, available)
        raise MalformedError(f"IPv4 header length {header_length} is bogus")
    source, destination = layer.src, layer.dst
    total_length = layer.len
    node = dissection.add_layer(IP4, f"Internet Protocol Version 4, Src: {source}, Dst: {destination}",
                                offset, header_length)
    node.add_bits(IP_VERSION, layer.version, offset, 1, f"Version: {layer.version}")
    node.add_bits(IP_HDR_LEN, layer.ihl, offset, 1, f"Header Length: {header_length} bytes ({layer.ihl})")
    node.children[-1].value = header_length
    tos = layer.tos
    ds_node = node.add(IP_DSFIELD, tos, offset + 1, 1,
                       label=f"Differentiated Services Field: 0x{tos:02x} {_ds_text(tos >> 2, tos & 3)}")
    ds_node.add_bits(IP_DSCP, tos >> 2, offset + 1, 1,
                     f"Differentiated Services Codepoint: {IP_DSCP.show(tos >> 2)}")
    ds_node.add_bits(IP_ECN, tos & 3, offset + 1, 1, f"Explicit Congestion Notification: {IP_ECN.show(tos & 3)}")
    node.add(IP_LEN, total_length, offset + 2, 2)
    node.add(IP_ID, layer.id, offset + 4, 2)
    flags = int(layer.flags)
    flags_node = node.add_bits(IP_FLAGS, flags, offset + 6, 1, f"Flags: {_flags_text(flags)}")
    for definition, bit, name in ((IP_FLAGS_RB, 4, "Reserved bit"), (IP_FLAGS_DF, 2, "Don't fragment"),
                                  (IP_FLAGS_MF, 1, "More fragments")):
        is_set = bool(flags & bit)
        flags_node.add_bits(definition, is_set, offset + 6, 1, f"{name}: {'Set' if is_set else 'Not set'}")
    fragment_offset = layer.frag * 8
    node.add_bits(IP_FRAG_OFFSET, layer.frag, offset + 6, 2, f"Fragment Offset: {fragment_offset}")
    node.children[-1].value = fragment_offset
    node.add(IP_TTL, layer.ttl, offset + 8, 1)
    node.add(IP_PROTO, layer.proto, offset + 9, 1)
    node.add(IP_CHECKSUM, layer.chksum, offset + 10, 2,
             label=f"Header Checksum: 0x{layer.chksum:04x} [validation disabled]")
    node.add_generated(IP_CHECKSUM_STATUS, 2, label="Header checksum status: Unverified")
    node.add(IP_SRC, source, offset + 12, 4)
    _add_hidden_addresses(node, IP_SRC, IP_SRC_HOST, IP_ADDR, IP_HOST, source, offset + 12, 4)
    node.add(IP_DST, destination, offset + 16, 4)
    _add_hidden_addresses(node, IP_DST, IP_DST_HOST, IP_ADDR, IP_HOST, destination, offset + 16, 4)
    if header_length > 20:
        node.add_text(f"Options: ({header_length - 20} bytes)", offset + 20, header_length - 20)
    dissection.set_addresses(source, destination, network=True)
    dissection.set_columns("IPv4", IP_PROTO.show(layer.proto))
    end = min(offset + total_length, len(dissection.data)) if total_length >= header_length \
        else len(dissection.data)
    dissection.payload_end = end
    add_ethernet_padding(dissection)
    if total_length < header_length:
        raise MalformedError(f"Bogus IPv4 total length {total_length}")
    if fragment_offset or flags & 1:
        dissect_ipv4_fragment(dissection, node, layer, offset + header_length)
        return None
    return offset + header_length


@handles(IPv6)
def dissect_ipv6(dissection: Dissection, layer: IPv6, offset: int) -> int | None:
    """IPv6 fixed header; extension headers follow as their own layers."""
    if len(dissection.data) - offset < 40:
        dissection.add_layer(IP6, "Internet Protocol Version 6", offset, len(dissection.data) - offset)
        raise MalformedError("IPv6 header cut short")
    source, destination = layer.src, layer.dst
    node = dissection.add_layer(IP6, f"Internet Protocol Version 6, Src: {source}, Dst: {destination}",
                                offset, 40)
    node.add_bits(IPV6_VERSION, 6, offset, 1, "Version: 6")
    traffic_class = layer.tc
    tc_node = node.add_bits(IPV6_TCLASS, traffic_class, offset, 4,
                            f"Traffic Class: 0x{traffic_class:02x} {_ds_text(traffic_class >> 2, traffic_class & 3)}")
    tc_node.add_bits(IPV6_TCLASS_DSCP, traffic_class >> 2, offset, 4,
                     f"Differentiated Services Codepoint: {IPV6_TCLASS_DSCP.show(traffic_class >> 2)}")
    tc_node.add_bits(IPV6_TCLASS_ECN, traffic_class & 3, offset, 4,
                     f"Explicit Congestion Notification: {IPV6_TCLASS_ECN.show(traffic_class & 3)}")
    node.add_bits(IPV6_FLOW, layer.fl, offset, 4, f"Flow Label: 0x{layer.fl:05x}")
    node.add(IPV6_PLEN, layer.plen, offset + 4, 2)
    node.add(IPV6_NXT, layer.nh, offset + 6, 1)
    node.add(IPV6_HLIM, layer.hlim, offset + 7, 1)
    node.add(IPV6_SRC, source, offset + 8, 16)
    _add_hidden_addresses(node, IPV6_SRC, IPV6_SRC_HOST, IPV6_ADDR, IPV6_HOST, source, offset + 8, 16)
    node.add(IPV6_DST, destination, offset + 24, 16)
    _add_hidden_addresses(node, IPV6_DST, IPV6_DST_HOST, IPV6_ADDR, IPV6_HOST, destination, offset + 24, 16)
    dissection.set_addresses(source, destination, network=True)
    dissection.set_columns("IPv6", IP_PROTOCOLS.get(layer.nh, str(layer.nh)))
    dissection.payload_end = min(offset + 40 + layer.plen, len(dissection.data))
    add_ethernet_padding(dissection)
    return offset + 40


_EXTENSION_TITLES = {IPv6ExtHdrHopByHop: ("IPv6 Hop-by-Hop Option", "ipv6.hopopts"),
                     IPv6ExtHdrDestOpt: ("Destination Options for IPv6", "ipv6.dstopts"),
                     IPv6ExtHdrRouting: ("Routing Header for IPv6", "ipv6.routing")}


@handles(IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting)
def dissect_ipv6_extension(dissection: Dissection, layer, offset: int) -> int | None:
    """An IPv6 options/routing extension header: next header and length, options as bytes."""
    title, _ = _EXTENSION_TITLES[type(layer)]
    length = (layer.len + 1) * 8
    parent = dissection.layers[-1]
    node = parent.add_text(title, offset, length)
    node.add(IPV6_EXT_NXT, layer.nh, offset, 1)
    node.add(IPV6_EXT_LEN, layer.len, offset + 1, 1)
    node.add_text(f"Length: {length} bytes", generated=True)
    return offset + length
