"""DNS names (with compression pointers) and resource records of every common type, from the wire bytes."""
from __future__ import annotations

import ipaddress
import struct

from tui_sniffer.dissect.engine import MalformedError
from tui_sniffer.dissect.fields import Base, FieldType, register
from tui_sniffer.dissect.tree import TreeNode, bit_pattern

RECORD_TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT",
                28: "AAAA", 33: "SRV", 35: "NAPTR", 41: "OPT", 43: "DS", 46: "RRSIG", 47: "NSEC",
                48: "DNSKEY", 64: "SVCB", 65: "HTTPS", 99: "SPF", 252: "AXFR", 255: "ANY", 257: "CAA"}
TYPE_NAMES = {1: "A (Host Address)", 2: "NS (authoritative Name Server)",
              5: "CNAME (Canonical NAME for an alias)", 6: "SOA (Start Of a zone of Authority)",
              12: "PTR (domain name PoinTeR)", 13: "HINFO (host information)", 15: "MX (Mail eXchange)",
              16: "TXT (Text strings)", 28: "AAAA (IPv6 Address)", 33: "SRV (Server Selection)",
              35: "NAPTR (Naming Authority PoinTeR)", 41: "OPT", 43: "DS (Delegation Signer)",
              46: "RRSIG (Resource Record Signature)", 47: "NSEC (Next Secure)",
              48: "DNSKEY (DNS Public Key)", 64: "SVCB (General Purpose Service Endpoints)",
              65: "HTTPS (HTTPS Specific Service Endpoints)", 255: "* (A request for all records the server/cache has available)",
              257: "CAA (Certification Authority Restriction)"}
_CLASSES = {1: "IN", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}
_OPTION_CODES = {3: "NSID", 8: "CSUBNET - Client subnet", 10: "COOKIE", 11: "EDNS TCP Keepalive",
                 12: "PADDING", 15: "Extended DNS Error"}

RESP_NAME = register("dns.resp.name", "Name", FieldType.STRING)
RESP_TYPE = register("dns.resp.type", "Type", FieldType.UINT16, value_names=TYPE_NAMES)
RESP_CLASS = register("dns.resp.class", "Class", FieldType.UINT16, Base.HEX, value_names=_CLASSES)
RESP_CACHE_FLUSH = register("dns.resp.cache_flush", "Cache flush", FieldType.BOOLEAN, bitmask=0x8000)
RESP_TTL = register("dns.resp.ttl", "Time to live", FieldType.UINT32)
RESP_LEN = register("dns.resp.len", "Data length", FieldType.UINT16)
A = register("dns.a", "Address", FieldType.IPV4)
AAAA = register("dns.aaaa", "AAAA Address", FieldType.IPV6)
CNAME = register("dns.cname", "CNAME", FieldType.STRING)
NS = register("dns.ns", "Name Server", FieldType.STRING)
PTR = register("dns.ptr.domain_name", "Domain Name", FieldType.STRING)
MX_PREFERENCE = register("dns.mx.preference", "Preference", FieldType.UINT16)
MX_EXCHANGE = register("dns.mx.mail_exchange", "Mail Exchange", FieldType.STRING)
TXT_LENGTH = register("dns.txt.length", "TXT Length", FieldType.UINT8)
TXT = register("dns.txt", "TXT", FieldType.STRING)
SOA_MNAME = register("dns.soa.mname", "Primary name server", FieldType.STRING)
SOA_RNAME = register("dns.soa.rname", "Responsible authority's mailbox", FieldType.STRING)
SOA_NUMBERS = [register("dns.soa.serial_number", "Serial Number", FieldType.UINT32),
               register("dns.soa.refresh_interval", "Refresh Interval", FieldType.UINT32),
               register("dns.soa.retry_interval", "Retry Interval", FieldType.UINT32),
               register("dns.soa.expire_limit", "Expire limit", FieldType.UINT32),
               register("dns.soa.minimum_ttl", "Minimum TTL", FieldType.UINT32)]
SRV_SERVICE = register("dns.srv.service", "Service", FieldType.STRING)
SRV_PROTO = register("dns.srv.proto", "Protocol", FieldType.STRING)
SRV_NAME = register("dns.srv.name", "Name", FieldType.STRING)
SRV_NUMBERS = [register("dns.srv.priority", "Priority", FieldType.UINT16),
               register("dns.srv.weight", "Weight", FieldType.UINT16),
               register("dns.srv.port", "Port", FieldType.UINT16)]
SRV_TARGET = register("dns.srv.target", "Target", FieldType.STRING)
UDP_PAYLOAD_SIZE = register("dns.rr.udp_payload_size", "UDP payload size", FieldType.UINT16)
EXT_RCODE = register("dns.resp.ext_rcode", "Higher bits in extended RCODE", FieldType.UINT8, Base.HEX)
EDNS0_VERSION = register("dns.resp.edns0_version", "EDNS0 version", FieldType.UINT8)
RESP_Z = register("dns.resp.z", "Z", FieldType.UINT16, Base.HEX)
RESP_Z_DO = register("dns.resp.z.do", "DO bit", FieldType.BOOLEAN, bitmask=0x8000)
RESP_Z_RESERVED = register("dns.resp.z.reserved", "Reserved", FieldType.UINT16, Base.HEX, bitmask=0x7FFF)
OPT = register("dns.opt", "Option", FieldType.NONE)
OPT_CODE = register("dns.opt.code", "Option Code", FieldType.UINT16, value_names=_OPTION_CODES)
OPT_LEN = register("dns.opt.len", "Option Length", FieldType.UINT16)
OPT_DATA = register("dns.opt.data", "Option Data", FieldType.BYTES)
COOKIE_CLIENT = register("dns.opt.cookie.client", "Client Cookie", FieldType.BYTES)
COOKIE_SERVER = register("dns.opt.cookie.server", "Server Cookie", FieldType.BYTES)

_MAX_POINTER_HOPS = 64


def read_name(data: bytes, message: int, position: int) -> tuple[str, int, int]:
    """A domain name at `position` (pointers are relative to `message`): its text, where it ends, its label count."""
    labels: list[str] = []
    end: int | None = None
    hops = 0
    while True:
        if position >= len(data):
            raise MalformedError("DNS name runs past the end of the message")
        length = data[position]
        if length & 0xC0 == 0xC0:
            if position + 1 >= len(data):
                raise MalformedError("DNS compression pointer cut short")
            if end is None:
                end = position + 2
            position = message + (((length & 0x3F) << 8) | data[position + 1])
            hops += 1
            if hops > _MAX_POINTER_HOPS:
                raise MalformedError("DNS compression pointer loop")
            continue
        if length & 0xC0:
            raise MalformedError(f"DNS label type 0x{length:02x} is not supported")
        if length == 0:
            break
        if position + 1 + length > len(data):
            raise MalformedError("DNS label runs past the end of the message")
        labels.append(data[position + 1:position + 1 + length].decode("ascii", "backslashreplace"))
        position += 1 + length
    if end is None:
        end = position + 1
    return (".".join(labels) if labels else "<Root>"), end, len(labels)


def ttl_text(seconds: int) -> str:
    """`600 (10 minutes)`: a TTL with Wireshark's days/hours/minutes/seconds reading."""
    parts = []
    remaining = seconds
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        amount, remaining = divmod(remaining, size)
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    return f"{seconds} ({', '.join(parts) if parts else '0 seconds'})"


def add_record(parent: TreeNode, data: bytes, message: int, position: int,
               is_mdns: bool) -> tuple[int, str]:
    """One resource record with its type's fields; returns where the next starts and its Info text."""
    name, after_name, _ = read_name(data, message, position)
    record_type, record_class, ttl, data_length = struct.unpack_from(">HHIH", data, after_name)
    rdata = after_name + 10
    if rdata + data_length > len(data):
        raise MalformedError("DNS record data runs past the end of the message")
    type_name = RECORD_TYPES.get(record_type, f"Unknown ({record_type})")
    entry = parent.add_text(f"{name}: type {type_name}", position, rdata + data_length - position)
    labels = name.split(".")
    if record_type == 33 and len(labels) >= 3:
        for definition, value in ((SRV_SERVICE, labels[0]), (SRV_PROTO, labels[1]),
                                  (SRV_NAME, ".".join(labels[2:]))):
            entry.add(definition, value, position, after_name - position)
    else:
        entry.add(RESP_NAME, name, position, after_name - position)
    entry.add(RESP_TYPE, record_type, after_name, 2)
    if record_type == 41:
        _add_opt(entry, data, after_name, rdata, data_length)
        return rdata + data_length, " OPT"
    class_value = record_class & 0x7FFF if is_mdns else record_class
    class_name = _CLASSES.get(class_value, f"Unknown (0x{class_value:04x})")
    if is_mdns:
        entry.add(RESP_CLASS, class_value, after_name + 2, 2,
                  label=f"{bit_pattern(record_class, 0x7FFF, 16)} = Class: {RESP_CLASS.show(class_value)}")
        flush = bool(record_class & 0x8000)
        entry.add_bits(RESP_CACHE_FLUSH, flush, after_name + 2, 2, f"Cache flush: {flush}")
    else:
        entry.add(RESP_CLASS, record_class, after_name + 2, 2)
    entry.add(RESP_TTL, ttl, after_name + 4, 4, label=f"Time to live: {ttl_text(ttl)}")
    entry.add(RESP_LEN, data_length, after_name + 8, 2)
    detail, info = _add_rdata(entry, data, message, record_type, rdata, data_length)
    entry.label = f"{name}: type {type_name}, class {class_name}{detail}"
    return rdata + data_length, f" {type_name}{info}"


def _add_rdata(entry: TreeNode, data: bytes, message: int, record_type: int, start: int,
               length: int) -> tuple[str, str]:
    """The type-specific data of a record; returns the title suffix and the Info suffix."""
    end = start + length
    if record_type == 1 and length == 4:
        address = ".".join(str(octet) for octet in data[start:end])
        entry.add(A, address, start, 4)
        return f", addr {address}", f" {address}"
    if record_type == 28 and length == 16:
        address = str(ipaddress.IPv6Address(data[start:end]))
        entry.add(AAAA, address, start, 16)
        return f", addr {address}", f" {address}"
    if record_type in (2, 5, 12):
        target, _, _ = read_name(data, message, start)
        definition, title = {2: (NS, f", ns {target}"), 5: (CNAME, f", cname {target}"),
                             12: (PTR, f", {target}")}[record_type]
        entry.add(definition, target, start, length)
        return title, f" {target}"
    if record_type == 15:
        preference, = struct.unpack_from(">H", data, start)
        exchange, _, _ = read_name(data, message, start + 2)
        entry.add(MX_PREFERENCE, preference, start, 2)
        entry.add(MX_EXCHANGE, exchange, start + 2, length - 2)
        return f", preference {preference}, mx {exchange}", f" {preference} {exchange}"
    if record_type == 6:
        primary, after_primary, _ = read_name(data, message, start)
        mailbox, after_mailbox, _ = read_name(data, message, after_primary)
        entry.add(SOA_MNAME, primary, start, after_primary - start)
        entry.add(SOA_RNAME, mailbox, after_primary, after_mailbox - after_primary)
        numbers = struct.unpack_from(">5I", data, after_mailbox)
        for index, (definition, value) in enumerate(zip(SOA_NUMBERS, numbers)):
            text = str(value) if index == 0 else ttl_text(value)
            entry.add(definition, value, after_mailbox + 4 * index, 4, label=f"{definition.label}: {text}")
        return f", mname {primary}", f" {primary}"
    if record_type == 33:
        numbers = struct.unpack_from(">3H", data, start)
        for index, (definition, value) in enumerate(zip(SRV_NUMBERS, numbers)):
            entry.add(definition, value, start + 2 * index, 2)
        target, _, _ = read_name(data, message, start + 6)
        entry.add(SRV_TARGET, target, start + 6, length - 6)
        priority, weight, port = numbers
        return (f", priority {priority}, weight {weight}, port {port}, target {target}",
                f" {priority} {weight} {port} {target}")
    if record_type == 16:
        position = start
        while position < end:
            text_length = data[position]
            entry.add(TXT_LENGTH, text_length, position, 1)
            text = data[position + 1:position + 1 + text_length].decode("utf-8", "backslashreplace")
            entry.add(TXT, text, position + 1, text_length)
            position += 1 + text_length
        return "", ""
    return "", ""


def _add_opt(entry: TreeNode, data: bytes, after_name: int, rdata: int, data_length: int) -> None:
    """The EDNS0 pseudo-record: payload size, extended RCODE, version, DO bit and options."""
    payload_size, extended_rcode, version, z_flags = struct.unpack_from(">HBBH", data, after_name + 2)
    entry.add(UDP_PAYLOAD_SIZE, payload_size, after_name + 2, 2)
    entry.add(EXT_RCODE, extended_rcode, after_name + 4, 1)
    entry.add(EDNS0_VERSION, version, after_name + 5, 1)
    z_node = entry.add(RESP_Z, z_flags, after_name + 6, 2)
    dnssec_ok = bool(z_flags & 0x8000)
    z_node.add_bits(RESP_Z_DO, dnssec_ok, after_name + 6, 2,
                    f"DO bit: {'Accepts DNSSEC security RRs' if dnssec_ok else 'Cannot handle DNSSEC security RRs'}")
    z_node.children[-1].value = dnssec_ok
    z_node.add_bits(RESP_Z_RESERVED, z_flags & 0x7FFF, after_name + 6, 2, f"Reserved: 0x{z_flags & 0x7FFF:04x}")
    entry.add(RESP_LEN, data_length, after_name + 8, 2)
    position, end = rdata, rdata + data_length
    while position + 4 <= end:
        code, option_length = struct.unpack_from(">HH", data, position)
        value = data[position + 4:position + 4 + option_length]
        name = _OPTION_CODES.get(code, f"Unknown ({code})")
        option = entry.add(OPT, None, position, 4 + option_length, label=f"Option: {name}")
        option.add(OPT_CODE, code, position, 2)
        option.add(OPT_LEN, option_length, position + 2, 2)
        option.add(OPT_DATA, value, position + 4, option_length, label=f"Option Data: {value.hex()}")
        if code == 10:
            option.add(COOKIE_CLIENT, value[:8], position + 4, min(8, option_length),
                       label=f"Client Cookie: {value[:8].hex()}")
            server = value[8:]
            option.add(COOKIE_SERVER, server, position + 12, len(server),
                       label=f"Server Cookie: {server.hex() if server else '<MISSING>'}")
        position += 4 + option_length
