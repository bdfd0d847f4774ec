"""TLS 1.2 key exchange messages, the NewSessionTicket, and the JA3/JA3S fingerprints tshark adds to Hellos."""
from __future__ import annotations

import hashlib
import struct

from tui_sniffer.dissect.fields import Base, FieldType, register
from tui_sniffer.dissect.protocols.tls_names import GROUPS, HASH_ALGORITHMS, SIGNATURE_ALGORITHMS, SIGNATURE_PARTS
from tui_sniffer.dissect.tree import TreeNode, bytes_text, seconds_text

CURVE_TYPE = register("tls.handshake.server_curve_type", "Curve Type", FieldType.UINT8, Base.HEX,
                      value_names={1: "explicit_prime", 2: "explicit_char2", 3: "named_curve"})
NAMED_CURVE = register("tls.handshake.server_named_curve", "Named Curve", FieldType.UINT16, Base.HEX,
                       value_names=GROUPS)
SERVER_POINT_LENGTH = register("tls.handshake.server_point_len", "Pubkey Length", FieldType.UINT8)
SERVER_POINT = register("tls.handshake.server_point", "Pubkey", FieldType.BYTES)
CLIENT_POINT_LENGTH = register("tls.handshake.client_point_len", "Pubkey Length", FieldType.UINT8)
CLIENT_POINT = register("tls.handshake.client_point", "Pubkey", FieldType.BYTES)
SIGNATURE_LENGTH = register("tls.handshake.sig_len", "Signature Length", FieldType.UINT16)
SIGNATURE = register("tls.handshake.sig", "Signature", FieldType.BYTES)
TICKET_SUBTREE = register("tls.handshake.session_ticket_tree", "TLS Session Ticket", FieldType.NONE)
JA3_FULL = register("tls.handshake.ja3_full", "JA3 Fullstring", FieldType.STRING)
JA3 = register("tls.handshake.ja3", "JA3", FieldType.STRING)
JA3S_FULL = register("tls.handshake.ja3s_full", "JA3S Fullstring", FieldType.STRING)
JA3S = register("tls.handshake.ja3s", "JA3S", FieldType.STRING)


def add_server_key_exchange(node: TreeNode, data: bytes, start: int, end: int, has_signature_algorithm: bool,
                            sig_fields: tuple) -> None:
    """`EC Diffie-Hellman Server Params`: curve, public point and the signature over them (ECDHE only)."""
    if end - start < 4 or data[start] != 3:
        return
    point_length = data[start + 3]
    params = node.add_text("EC Diffie-Hellman Server Params", start, end - start)
    params.add(CURVE_TYPE, 3, start, 1)
    params.add(NAMED_CURVE, struct.unpack_from(">H", data, start + 1)[0], start + 1, 2)
    params.add(SERVER_POINT_LENGTH, point_length, start + 3, 1)
    point = data[start + 4:start + 4 + point_length]
    params.add(SERVER_POINT, point, start + 4, len(point), label=f"Pubkey: {bytes_text(point)}")
    position = start + 4 + point_length
    if has_signature_algorithm and position + 2 <= end:
        add_signature_algorithm(params, data, position, sig_fields)
        position += 2
    if position + 2 <= end:
        length, = struct.unpack_from(">H", data, position)
        params.add(SIGNATURE_LENGTH, length, position, 2)
        signature = data[position + 2:position + 2 + length]
        params.add(SIGNATURE, signature, position + 2, len(signature), label=f"Signature: {bytes_text(signature)}")


def add_signature_algorithm(parent: TreeNode, data: bytes, position: int, sig_fields: tuple) -> None:
    """`Signature Algorithm: ecdsa_secp256r1_sha256 (0x0403)` with its hash and signature halves."""
    algorithm_field, hash_field, signature_field = sig_fields
    value, = struct.unpack_from(">H", data, position)
    label = f"Signature Algorithm: {SIGNATURE_ALGORITHMS.get(value, 'Unknown')} (0x{value:04x})"
    algorithm = parent.add(algorithm_field, value, position, 2, label=label)
    for definition, names, part, at in ((hash_field, HASH_ALGORITHMS, data[position], position),
                                        (signature_field, SIGNATURE_PARTS, data[position + 1], position + 1)):
        algorithm.add(definition, part, at, 1, label=f"{definition.label}: {names.get(part, 'Unknown')} ({part})")


def add_client_key_exchange(node: TreeNode, data: bytes, start: int, end: int) -> None:
    """`EC Diffie-Hellman Client Params` when the body is one length-prefixed EC point."""
    if end - start < 2 or data[start] + 1 != end - start:
        return
    params = node.add_text("EC Diffie-Hellman Client Params", start, end - start)
    params.add(CLIENT_POINT_LENGTH, data[start], start, 1)
    point = data[start + 1:end]
    params.add(CLIENT_POINT, point, start + 1, len(point), label=f"Pubkey: {bytes_text(point)}")


def add_session_ticket(node: TreeNode, data: bytes, start: int, end: int, fields: tuple) -> None:
    """`TLS Session Ticket` (TLS 1.2 NewSessionTicket): lifetime hint, length and the opaque ticket."""
    if end - start < 6:
        return
    lifetime_field, length_field, ticket_field = fields
    ticket_tree = node.add(TICKET_SUBTREE, None, start, end - start, label=TICKET_SUBTREE.label)
    lifetime, = struct.unpack_from(">I", data, start)
    ticket_tree.add(lifetime_field, lifetime, start, 4,
                    label=f"{lifetime_field.label}: {lifetime} seconds ({seconds_text(lifetime)})")
    length, = struct.unpack_from(">H", data, start + 4)
    ticket_tree.add(length_field, length, start + 4, 2)
    ticket = data[start + 6:start + 6 + length]
    ticket_tree.add(ticket_field, ticket, start + 6, len(ticket), label=f"Session Ticket: {bytes_text(ticket)}")


def _is_grease(value: int) -> bool:
    """Whether a 16-bit value is one of RFC 8701's GREASE values (0x0a0a, 0x1a1a…)."""
    return value & 0x0F0F == 0x0A0A and value >> 8 == value & 0xFF


def add_fingerprint(hello: TreeNode, is_client: bool) -> None:
    """`[JA3 Fullstring]` and `[JA3]` (or JA3S for a ServerHello) from the fields the Hello already shows."""
    values: dict[str, list[int]] = {}
    for node in hello.walk():
        if node.field_name and isinstance(node.value, int):
            values.setdefault(node.field_name, []).append(node.value)

    def joined(name: str) -> str:
        return "-".join(str(value) for value in values.get(name, []) if not _is_grease(value))

    version = values.get("tls.handshake.version", [0])[0]
    if is_client:
        full = ",".join((str(version), joined("tls.handshake.ciphersuite"), joined("tls.handshake.extension.type"),
                         joined("tls.handshake.extensions_supported_group"),
                         joined("tls.handshake.extensions_ec_point_format")))
        fields = JA3_FULL, JA3
    else:
        full = ",".join((str(version), joined("tls.handshake.ciphersuite"), joined("tls.handshake.extension.type")))
        fields = JA3S_FULL, JA3S
    hello.add_generated(fields[0], full)
    hello.add_generated(fields[1], hashlib.md5(full.encode()).hexdigest())
