"""TLS handshake message bodies: Client/Server Hello with their extensions, Certificate, New Session Ticket."""
from __future__ import annotations

import struct

from tui_sniffer.dissect.fields import Base, FieldType, absolute_time_text, register
from tui_sniffer.dissect.protocols.tls_names import (CIPHER_SUITES, COMPRESSION_METHODS, EC_POINT_FORMATS,
                                                     EXTENSIONS, GROUPS, HANDSHAKE_TYPES, HASH_ALGORITHMS,
                                                     PSK_MODES, SIGNATURE_ALGORITHMS, SIGNATURE_PARTS, VERSIONS)
from tui_sniffer.dissect.protocols.tls_key_exchange import (add_client_key_exchange, add_fingerprint,
                                                           add_server_key_exchange, add_session_ticket,
                                                           add_signature_algorithm)
from tui_sniffer.dissect.protocols.x509 import add_certificate
from tui_sniffer.dissect.tree import TreeNode, bytes_text, cut_label


def _field(name: str, label: str, ftype: FieldType, base: Base = Base.NONE, names=None):
    """Register a TLS field (a short alias keeps the long declaration list readable)."""
    return register(name, label, ftype, base, value_names=names)


TYPE = _field("tls.handshake.type", "Handshake Type", FieldType.UINT8, names=HANDSHAKE_TYPES)
LENGTH = _field("tls.handshake.length", "Length", FieldType.UINT24)
VERSION = _field("tls.handshake.version", "Version", FieldType.UINT16, Base.HEX, VERSIONS)
RANDOM = _field("tls.handshake.random", "Random", FieldType.BYTES)
RANDOM_TIME = _field("tls.handshake.random_time", "GMT Unix Time", FieldType.ABSOLUTE_TIME)
RANDOM_BYTES = _field("tls.handshake.random_bytes", "Random Bytes", FieldType.BYTES)
SESSION_ID_LENGTH = _field("tls.handshake.session_id_length", "Session ID Length", FieldType.UINT16)
SESSION_ID = _field("tls.handshake.session_id", "Session ID", FieldType.BYTES)
SUITES_LENGTH = _field("tls.handshake.cipher_suites_length", "Cipher Suites Length", FieldType.UINT16)
SUITES = _field("tls.handshake.ciphersuites", "Cipher Suites", FieldType.NONE)
SUITE = _field("tls.handshake.ciphersuite", "Cipher Suite", FieldType.UINT16, Base.HEX, CIPHER_SUITES)
COMP_LENGTH = _field("tls.handshake.comp_methods_length", "Compression Methods Length", FieldType.UINT8)
COMP_METHODS = _field("tls.handshake.comp_methods", "Compression Methods", FieldType.NONE)
COMP_METHOD = _field("tls.handshake.comp_method", "Compression Method", FieldType.UINT8, names=COMPRESSION_METHODS)
EXTENSIONS_LENGTH = _field("tls.handshake.extensions_length", "Extensions Length", FieldType.UINT16)
EXTENSION_TYPE = _field("tls.handshake.extension.type", "Type", FieldType.UINT16, names=EXTENSIONS)
EXTENSION_LEN = _field("tls.handshake.extension.len", "Length", FieldType.UINT16)
EXTENSION_DATA = _field("tls.handshake.extension.data", "Data", FieldType.BYTES)
SNI_LIST_LEN = _field("tls.handshake.extensions_server_name_list_len", "Server Name list length", FieldType.UINT16)
SNI_TYPE = _field("tls.handshake.extensions_server_name_type", "Server Name Type", FieldType.UINT8,
                  names={0: "host_name"})
SNI_LEN = _field("tls.handshake.extensions_server_name_len", "Server Name length", FieldType.UINT16)
SNI = _field("tls.handshake.extensions_server_name", "Server Name", FieldType.STRING)
VERSIONS_LEN = _field("tls.handshake.extensions.supported_versions_len", "Supported Versions length", FieldType.UINT8)
SUPPORTED_VERSION = _field("tls.handshake.extensions.supported_version", "Supported Version", FieldType.UINT16,
                           Base.HEX, VERSIONS)
ALPN_LEN = _field("tls.handshake.extensions_alpn_len", "ALPN Extension Length", FieldType.UINT16)
ALPN_LIST = _field("tls.handshake.extensions_alpn_list", "ALPN Protocol", FieldType.NONE)
ALPN_STR_LEN = _field("tls.handshake.extensions_alpn_str_len", "ALPN string length", FieldType.UINT8)
ALPN_STR = _field("tls.handshake.extensions_alpn_str", "ALPN Next Protocol", FieldType.STRING)
GROUPS_LENGTH = _field("tls.handshake.extensions_supported_groups_length", "Supported Groups List Length",
                       FieldType.UINT16)
GROUPS_LIST = _field("tls.handshake.extensions_supported_groups", "Supported Groups List", FieldType.NONE)
GROUP = _field("tls.handshake.extensions_supported_group", "Supported Group", FieldType.UINT16, Base.HEX, GROUPS)
POINT_FORMATS_LENGTH = _field("tls.handshake.extensions_ec_point_formats_length", "EC point formats Length",
                              FieldType.UINT8)
POINT_FORMATS = _field("tls.handshake.extensions_ec_point_formats", "EC point formats", FieldType.NONE)
POINT_FORMAT = _field("tls.handshake.extensions_ec_point_format", "EC point format", FieldType.UINT8,
                      names=EC_POINT_FORMATS)
SIG_LEN = _field("tls.handshake.sig_hash_alg_len", "Signature Hash Algorithms Length", FieldType.UINT16)
SIG_ALGS = _field("tls.handshake.sig_hash_algs", "Signature Algorithms", FieldType.NONE)
SIG_ALG = _field("tls.handshake.sig_hash_alg", "Signature Algorithm", FieldType.UINT16, Base.HEX,
                 SIGNATURE_ALGORITHMS)
SIG_HASH = _field("tls.handshake.sig_hash_hash", "Signature Hash Algorithm Hash", FieldType.UINT8,
                  names=HASH_ALGORITHMS)
SIG_SIG = _field("tls.handshake.sig_hash_sig", "Signature Hash Algorithm Signature", FieldType.UINT8,
                 names=SIGNATURE_PARTS)
KEY_SHARE_CLIENT_LENGTH = _field("tls.handshake.extensions_key_share_client_length", "Client Key Share Length",
                                 FieldType.UINT16)
KEY_SHARE_GROUP = _field("tls.handshake.extensions_key_share_group", "Group", FieldType.UINT16, names=GROUPS)
KEY_EXCHANGE_LENGTH = _field("tls.handshake.extensions_key_share_key_exchange_length", "Key Exchange Length",
                             FieldType.UINT16)
KEY_EXCHANGE = _field("tls.handshake.extensions_key_share_key_exchange", "Key Exchange", FieldType.BYTES)
PSK_MODES_LENGTH = _field("tls.extension.psk_ke_modes_length", "PSK Key Exchange Modes Length", FieldType.UINT8)
PSK_MODE = _field("tls.extension.psk_ke_mode", "PSK Key Exchange Mode", FieldType.UINT8, names=PSK_MODES)
RENEGOTIATION_LENGTH = _field("tls.handshake.extensions_reneg_info_len", "Renegotiation info extension length",
                              FieldType.UINT8)
CERTIFICATES_LENGTH = _field("tls.handshake.certificates_length", "Certificates Length", FieldType.UINT24)
CERTIFICATES = _field("tls.handshake.certificates", "Certificates", FieldType.NONE)
CERTIFICATE_LENGTH = _field("tls.handshake.certificate_length", "Certificate Length", FieldType.UINT24)
CERTIFICATE = _field("tls.handshake.certificate", "Certificate", FieldType.BYTES)
TICKET_LIFETIME = _field("tls.handshake.session_ticket_lifetime_hint", "Session Ticket Lifetime Hint",
                         FieldType.UINT32)
TICKET_LENGTH = _field("tls.handshake.session_ticket_length", "Session Ticket Length", FieldType.UINT16)
TICKET = _field("tls.handshake.session_ticket", "Session Ticket", FieldType.BYTES)


def add_handshake_message(node: TreeNode, data: bytes, offset: int, end: int,
                          session_version: int | None = None, protocols: list[str] | None = None) -> int | None:
    """Type, length and body of one handshake message; returns the version a ServerHello negotiates.

    `session_version` is the version the conversation negotiates, when analysis knows it; the
    certificate dissectors add their names to `protocols` (frame.protocols).
    """
    handshake_type = data[offset]
    node.add(TYPE, handshake_type, offset, 1)
    node.add(LENGTH, int.from_bytes(data[offset + 1:offset + 4], "big"), offset + 1, 3)
    body = offset + 4
    if handshake_type in (1, 2):
        return _add_hello(node, data, body, end, handshake_type == 1, session_version)
    if handshake_type == 11:
        _add_certificates(node, data, body, end, [] if protocols is None else protocols)
    elif handshake_type == 4:
        add_session_ticket(node, data, body, end, (TICKET_LIFETIME, TICKET_LENGTH, TICKET))
    elif handshake_type == 12:
        signed_with_algorithm = session_version is None or session_version >= 0x0303
        add_server_key_exchange(node, data, body, end, signed_with_algorithm, (SIG_ALG, SIG_HASH, SIG_SIG))
    elif handshake_type == 16:
        add_client_key_exchange(node, data, body, end)
    return None


def _add_hello(node: TreeNode, data: bytes, position: int, end: int, is_client: bool,
               session_version: int | None) -> int | None:
    """Client/Server Hello: version, random, session id, suites, compression and extensions.

    The random's first four bytes are shown as a time except in TLS 1.3, where they are not one.
    """
    node.add(VERSION, struct.unpack_from(">H", data, position)[0], position, 2)
    random = data[position + 2:position + 34]
    random_node = node.add(RANDOM, random, position + 2, 32, label=f"Random: {bytes_text(random)}")
    seconds, = struct.unpack_from(">I", random)
    if session_version is not None:
        shows_time = session_version != 0x0304
    else:
        shows_time = is_client or not random.endswith(b"DOWNGRD\x01") and random[:4] != b"\xcf\x21\xad\x74"
    if shows_time:
        random_node.add(RANDOM_TIME, float(seconds), position + 2, 4,
                        label=f"GMT Unix Time: {absolute_time_text(seconds, 0)}")
        random_node.add(RANDOM_BYTES, random[4:], position + 6, 28, label=f"Random Bytes: {bytes_text(random[4:])}")
    position += 34
    session_length = data[position]
    node.add(SESSION_ID_LENGTH, session_length, position, 1)
    if session_length:
        session = data[position + 1:position + 1 + session_length]
        node.add(SESSION_ID, session, position + 1, session_length, label=f"Session ID: {bytes_text(session)}")
    position += 1 + session_length
    if is_client:
        suites_length, = struct.unpack_from(">H", data, position)
        node.add(SUITES_LENGTH, suites_length, position, 2)
        count = suites_length // 2
        suites = node.add(SUITES, None, position + 2, suites_length,
                          label=f"Cipher Suites ({count} suite{'s' if count != 1 else ''})")
        for index in range(count):
            suite_offset = position + 2 + 2 * index
            suites.add(SUITE, struct.unpack_from(">H", data, suite_offset)[0], suite_offset, 2,
                       label=_named_hex("Cipher Suite", CIPHER_SUITES, struct.unpack_from(">H", data, suite_offset)[0]))
        position += 2 + suites_length
        methods_length = data[position]
        node.add(COMP_LENGTH, methods_length, position, 1)
        methods = node.add(COMP_METHODS, None, position + 1, methods_length,
                           label=f"Compression Methods ({methods_length} method{'s' if methods_length != 1 else ''})")
        for index in range(methods_length):
            methods.add(COMP_METHOD, data[position + 1 + index], position + 1 + index, 1)
        position += 1 + methods_length
    else:
        suite, = struct.unpack_from(">H", data, position)
        node.add(SUITE, suite, position, 2, label=_named_hex("Cipher Suite", CIPHER_SUITES, suite))
        node.add(COMP_METHOD, data[position + 2], position + 2, 1)
        position += 3
    if position + 2 > end:
        return None
    extensions_length, = struct.unpack_from(">H", data, position)
    node.add(EXTENSIONS_LENGTH, extensions_length, position, 2)
    position += 2
    negotiated = None
    extensions_end = min(position + extensions_length, end)
    while position + 4 <= extensions_end:
        extension_type, length = struct.unpack_from(">HH", data, position)
        name = EXTENSIONS.get(extension_type, f"Unknown type {extension_type}")
        extension = node.add_text(f"Extension: {name} (len={length})", position, 4 + length)
        extension.add(EXTENSION_TYPE, extension_type, position, 2, label=f"Type: {name} ({extension_type})")
        extension.add(EXTENSION_LEN, length, position + 2, 2)
        version = _add_extension(extension, extension_type, data, position + 4, position + 4 + length, is_client)
        negotiated = version or negotiated
        position += 4 + length
    add_fingerprint(node, is_client)
    return negotiated


def _named_hex(label: str, names: dict[int, str], value: int) -> str:
    """`Cipher Suite: TLS_AES_128_GCM_SHA256 (0x1301)`, or `Unknown (0x…)` for an unnamed value."""
    return f"{label}: {names.get(value, 'Unknown')} (0x{value:04x})"


def _add_extension(node: TreeNode, extension_type: int, data: bytes, start: int, end: int,
                   is_client: bool) -> int | None:
    """The body of one extension; returns the version a server's supported_versions selects."""
    if extension_type == 0 and end - start >= 5:
        sni = node.add_text("Server Name Indication extension", start, end - start)
        sni.add(SNI_LIST_LEN, struct.unpack_from(">H", data, start)[0], start, 2)
        sni.add(SNI_TYPE, data[start + 2], start + 2, 1)
        name_length, = struct.unpack_from(">H", data, start + 3)
        sni.add(SNI_LEN, name_length, start + 3, 2)
        sni.add(SNI, data[start + 5:start + 5 + name_length].decode("ascii", "replace"), start + 5, name_length)
    elif extension_type == 43:
        if not is_client:
            version, = struct.unpack_from(">H", data, start)
            node.add(SUPPORTED_VERSION, version, start, 2)
            return version
        node.add(VERSIONS_LEN, data[start], start, 1)
        for position in range(start + 1, end - 1, 2):
            node.add(SUPPORTED_VERSION, struct.unpack_from(">H", data, position)[0], position, 2)
    elif extension_type == 16:
        node.add(ALPN_LEN, struct.unpack_from(">H", data, start)[0], start, 2)
        alpn = node.add(ALPN_LIST, None, start + 2, end - start - 2)
        position = start + 2
        while position < end:
            length = data[position]
            alpn.add(ALPN_STR_LEN, length, position, 1)
            alpn.add(ALPN_STR, data[position + 1:position + 1 + length].decode("ascii", "replace"), position + 1, length)
            position += 1 + length
    elif extension_type == 10:
        _add_list(node, data, start, end, 2, GROUPS_LENGTH, GROUPS_LIST, "Supported Groups", "group",
                  lambda value: _named_hex("Supported Group", GROUPS, value), GROUP)
    elif extension_type in (13, 50):
        node.add(SIG_LEN, struct.unpack_from(">H", data, start)[0], start, 2)
        count = (end - start - 2) // 2
        algorithms = node.add(SIG_ALGS, None, start + 2, end - start - 2,
                              label=f"Signature Hash Algorithms ({count} algorithm{'s' if count != 1 else ''})")
        for position in range(start + 2, end - 1, 2):
            add_signature_algorithm(algorithms, data, position, (SIG_ALG, SIG_HASH, SIG_SIG))
    elif extension_type == 11:
        node.add(POINT_FORMATS_LENGTH, data[start], start, 1)
        formats = node.add(POINT_FORMATS, None, start + 1, end - start - 1,
                           label=f"Elliptic curves point formats ({end - start - 1})")
        for position in range(start + 1, end):
            formats.add(POINT_FORMAT, data[position], position, 1)
    elif extension_type == 51:
        _add_key_share(node, data, start, end, is_client)
    elif extension_type == 45:
        node.add(PSK_MODES_LENGTH, data[start], start, 1)
        for position in range(start + 1, end):
            node.add(PSK_MODE, data[position], position, 1)
    elif extension_type == 65281:
        renegotiation = node.add_text("Renegotiation Info extension", start, end - start)
        renegotiation.add(RENEGOTIATION_LENGTH, data[start], start, 1)
    elif extension_type == 35:
        node.add_text(f"Data ({end - start} bytes)", start, end - start)
    elif end > start:
        node.add(EXTENSION_DATA, data[start:end], start, end - start, label=f"Data: {bytes_text(data[start:end])}")
    return None


def _add_list(node: TreeNode, data: bytes, start: int, end: int, width: int, length_field, list_field,
              title: str, noun: str, label, item_field) -> None:
    """A length-prefixed list of 16-bit values (supported groups) with a counted subtree."""
    node.add(length_field, struct.unpack_from(">H", data, start)[0], start, 2)
    count = (end - start - 2) // width
    items = node.add(list_field, None, start + 2, end - start - 2,
                     label=f"{title} ({count} {noun}{'s' if count != 1 else ''})")
    for position in range(start + 2, end - 1, width):
        value, = struct.unpack_from(">H", data, position)
        items.add(item_field, value, position, 2, label=label(value))


def _add_key_share(node: TreeNode, data: bytes, start: int, end: int, is_client: bool) -> None:
    """The key_share extension: the client's list of entries or the server's single entry."""
    share = node.add_text("Key Share extension", start, end - start)
    position = start
    if is_client:
        share.add(KEY_SHARE_CLIENT_LENGTH, struct.unpack_from(">H", data, start)[0], start, 2)
        position += 2
    while position + 4 <= end:
        group, length = struct.unpack_from(">HH", data, position)
        entry = share.add_text(f"Key Share Entry: Group: {GROUPS.get(group, 'Unknown')}, Key Exchange length: {length}",
                               position, 4 + length)
        entry.add(KEY_SHARE_GROUP, group, position, 2)
        entry.add(KEY_EXCHANGE_LENGTH, length, position + 2, 2)
        key = data[position + 4:position + 4 + length]
        entry.add(KEY_EXCHANGE, key, position + 4, length, label=f"Key Exchange: {bytes_text(key)}")
        position += 4 + length


def _add_certificates(node: TreeNode, data: bytes, position: int, end: int, protocols: list[str]) -> None:
    """The certificate chain (TLS 1.2 layout): each certificate's length and its X.509 tree."""
    total = int.from_bytes(data[position:position + 3], "big")
    node.add(CERTIFICATES_LENGTH, total, position, 3)
    chain = node.add(CERTIFICATES, None, position + 3, total, label=f"Certificates ({total} bytes)")
    position += 3
    chain_end = min(position + total, end)
    while position + 3 <= chain_end:
        length = int.from_bytes(data[position:position + 3], "big")
        chain.add(CERTIFICATE_LENGTH, length, position, 3)
        certificate = data[position + 3:position + 3 + length]
        node_for_certificate = chain.add(CERTIFICATE, certificate, position + 3, len(certificate))
        subject = add_certificate(node_for_certificate, data, position + 3, position + 3 + len(certificate), protocols)
        label = f"Certificate: {bytes_text(certificate)}" + (f" ({subject})" if subject else "")
        node_for_certificate.label = cut_label(label)
        position += 3 + length
