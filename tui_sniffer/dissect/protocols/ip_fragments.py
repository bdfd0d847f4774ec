"""IP fragments as tshark shows them: `Fragmented IP protocol (…) [Reassembled in #3]` with Data, and in
the completing frame `[3 IPv4 Fragments (3008 bytes): …]` and the transport dissected from
`Reassembled IPv4` bytes (IPv6 alike, with its Fragment Header)."""
from __future__ import annotations

from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment
from scapy.packet import Packet, Raw

from tui_sniffer.dissect.engine import Dissection, handles, walk_layers
from tui_sniffer.dissect.fields import Base, FieldType, protocol, register
from tui_sniffer.dissect.frame import ReassembledPdu
from tui_sniffer.dissect.names import IP_PROTOCOLS
from tui_sniffer.dissect.protocols.data import add_data
from tui_sniffer.dissect.protocols.tcp_reassembled import ReassemblyFields, reassembly_tree
from tui_sniffer.dissect.tree import TreeNode


def _fragment_fields(prefix: str, family: str, fragments_type: FieldType) -> ReassemblyFields:
    """The `[N IPv4/IPv6 Fragments]` fields, named as Wireshark names them under `prefix`."""
    return ReassemblyFields(
        f"{family} Fragments", register(f"{prefix}.fragments", f"{family} Fragments", fragments_type),
        register(f"{prefix}.fragment", f"{family} Fragment", FieldType.FRAMENUM),
        register(f"{prefix}.fragment.count", "Fragment count", FieldType.UINT32),
        register(f"{prefix}.reassembled.length", f"Reassembled {family} length", FieldType.UINT32),
        register(f"{prefix}.reassembled.data", f"Reassembled {family} data", FieldType.BYTES),
        register(f"{prefix}.fragment.overlap", "Fragment overlap", FieldType.BOOLEAN))


IPV4_FIELDS = _fragment_fields("ip", "IPv4", FieldType.BYTES)
IPV6_FIELDS = _fragment_fields("ipv6", "IPv6", FieldType.NONE)
IP_REASSEMBLED_IN = register("ip.reassembled_in", "Reassembled IPv4 in frame", FieldType.FRAMENUM,
                             description="This IPv4 packet is reassembled in this frame")
IPV6_REASSEMBLED_IN = register("ipv6.reassembled.in", "Reassembled IPv6 in frame", FieldType.FRAMENUM,
                               description="This IPv6 packet is reassembled in this frame")
FRAGMENT_HEADER = protocol("ipv6.fraghdr", "Fragment Header for IPv6")
FRAGMENT_NEXT = register("ipv6.fraghdr.nxt", "Next header", FieldType.UINT8, value_names=IP_PROTOCOLS)
FRAGMENT_RESERVED = register("ipv6.fraghdr.reserved_octet", "Reserved octet", FieldType.UINT8, Base.HEX)
FRAGMENT_OFFSET = register("ipv6.fraghdr.offset", "Offset", FieldType.UINT16, bitmask=0xFFF8)
FRAGMENT_RESERVED_BITS = register("ipv6.fraghdr.reserved_bits", "Reserved bits", FieldType.UINT16, bitmask=0x0006)
FRAGMENT_MORE = register("ipv6.fraghdr.more", "More Fragments", FieldType.BOOLEAN, bitmask=0x0001)
FRAGMENT_IDENT = register("ipv6.fraghdr.ident", "Identification", FieldType.UINT32, Base.HEX)


def dissect_ipv4_fragment(dissection: Dissection, node: TreeNode, layer: IP, payload_start: int) -> None:
    """A fragmented IPv4 datagram's part: its bytes as Data, or in the completing frame the datagram."""
    annotations = dissection.frame.annotations
    reassembled = annotations.get("ip.reassembled")
    if isinstance(reassembled, ReassembledPdu):
        outer = IP(src=layer.src, dst=layer.dst, ttl=layer.ttl, tos=layer.tos, id=layer.id, proto=layer.proto)
        _dissect_datagram(dissection, node, reassembled, IPV4_FIELDS, "Reassembled IPv4", outer)
        return
    protocol_name = IP_PROTOCOLS.get(layer.proto, str(layer.proto))
    info = f"Fragmented IP protocol (proto={protocol_name} {layer.proto}, off={layer.frag * 8}, ID={layer.id:04x})"
    reassembled_in = annotations.get(IP_REASSEMBLED_IN.name)
    if isinstance(reassembled_in, int):
        node.add_generated(IP_REASSEMBLED_IN, reassembled_in)
        info += f" [Reassembled in #{reassembled_in}]"
    dissection.set_columns("IPv4", info)
    if payload_start < dissection.payload_end:
        add_data(dissection, payload_start, dissection.payload_end)


@handles(IPv6ExtHdrFragment)
def dissect_ipv6_fragment(dissection: Dissection, layer: IPv6ExtHdrFragment, offset: int) -> int | None:
    """The Fragment Header for IPv6, then Data, or in the completing frame the reassembled datagram."""
    ipv6 = dissection.layers[-1]
    ipv6.length = max(ipv6.length, offset + 8 - ipv6.offset)
    node = ipv6.add(FRAGMENT_HEADER, None, offset, 8, label=FRAGMENT_HEADER.label)
    dissection.protocols.append(FRAGMENT_HEADER.name)
    node.add(FRAGMENT_NEXT, layer.nh, offset, 1)
    node.add(FRAGMENT_RESERVED, layer.res1, offset + 1, 1)
    node.add_bits(FRAGMENT_OFFSET, layer.offset, offset + 2, 2, f"Offset: {layer.offset} ({layer.offset * 8} bytes)")
    node.add_bits(FRAGMENT_RESERVED_BITS, layer.res2, offset + 2, 2, f"Reserved bits: {layer.res2}")
    node.add_bits(FRAGMENT_MORE, layer.m, offset + 2, 2, f"More Fragments: {'Yes' if layer.m else 'No'}")
    node.children[-1].value = bool(layer.m)
    node.add(FRAGMENT_IDENT, layer.id, offset + 4, 4)
    if not layer.offset and not layer.m:
        return offset + 8
    annotations = dissection.frame.annotations
    reassembled = annotations.get("ipv6.reassembled")
    header = layer.underlayer
    if isinstance(reassembled, ReassembledPdu) and isinstance(header, IPv6):
        outer = IPv6(src=header.src, dst=header.dst, hlim=header.hlim, tc=header.tc, fl=header.fl, nh=layer.nh)
        _dissect_datagram(dissection, ipv6, reassembled, IPV6_FIELDS, "Reassembled IPv6", outer)
        return None
    reassembled_in = annotations.get(IPV6_REASSEMBLED_IN.name)
    if isinstance(reassembled_in, int):
        ipv6.add_generated(IPV6_REASSEMBLED_IN, reassembled_in)
    dissection.set_columns("IPv6", f"IPv6 fragment (off={layer.offset * 8} more={'y' if layer.m else 'n'} "
                                   f"ident=0x{layer.id:08x} nxt={layer.nh})")
    if offset + 8 < dissection.payload_end:
        add_data(dissection, offset + 8, dissection.payload_end)
    return None


def _dissect_datagram(dissection: Dissection, node: TreeNode, datagram: ReassembledPdu, fields: ReassemblyFields,
                      source_name: str, outer: Packet) -> None:
    """The fragments tree under the IP node and the transport layers, over the reassembled bytes."""
    with dissection.reading_source(source_name, datagram.data) as source:
        node.children.append(reassembly_tree(datagram, fields, source))
        transport = type(outer)(bytes(outer / Raw(datagram.data))).payload
        walk_layers(dissection, transport, 0)
