"""TLS 1.0–1.3 records found by content on any TCP port: handshakes, change cipher spec, alerts, application data."""
from __future__ import annotations

import struct

from tui_sniffer.dissect.engine import Dissection, MalformedError, handles_payload
from tui_sniffer.dissect.fields import Base, FieldType, protocol, register
from tui_sniffer.dissect.protocols.tls_handshake import add_handshake_message
from tui_sniffer.dissect.protocols.tls_names import (ALERT_DESCRIPTIONS, ALERT_LEVELS, CONTENT_TYPES,
                                                     HANDSHAKE_TYPES, PROTOCOL_COLUMNS, VERSIONS)
from tui_sniffer.dissect.tree import TreeNode, bytes_text

TLS = protocol("tls", "Transport Layer Security")
CONTENT_TYPE = register("tls.record.content_type", "Content Type", FieldType.UINT8, value_names=CONTENT_TYPES)
OPAQUE_TYPE = register("tls.record.opaque_type", "Opaque Type", FieldType.UINT8, value_names=CONTENT_TYPES)
RECORD_VERSION = register("tls.record.version", "Version", FieldType.UINT16, Base.HEX, value_names=VERSIONS)
RECORD_LENGTH = register("tls.record.length", "Length", FieldType.UINT16)
CHANGE_CIPHER_SPEC = register("tls.change_cipher_spec", "Change Cipher Spec Message", FieldType.NONE)
APP_DATA = register("tls.app_data", "Encrypted Application Data", FieldType.BYTES)
APP_DATA_PROTO = register("tls.app_data_proto", "Application Data Protocol", FieldType.STRING)
ALERT = register("tls.alert_message", "Alert Message", FieldType.NONE)
ALERT_LEVEL = register("tls.alert_message.level", "Level", FieldType.UINT8, value_names=ALERT_LEVELS)
ALERT_DESCRIPTION = register("tls.alert_message.desc", "Description", FieldType.UINT8,
                             value_names=ALERT_DESCRIPTIONS)
HANDSHAKE = register("tls.handshake", "Handshake Protocol", FieldType.NONE)
RESUMED = register("tls.resumed", "This session reuses previously negotiated keys (Session resumption)",
                   FieldType.NONE)
IGNORED_UNKNOWN_RECORD = register("tls.ignored_unknown_record", "Ignored Unknown Record", FieldType.NONE)

_MAX_RECORD_LENGTH = 16384 + 2048
_HTTPS_PORTS = {443}


def _tls_conversation(dissection: Dissection) -> bool:
    """Whether this TCP conversation is known to carry TLS (a ServerHello settled its version)."""
    return isinstance(dissection.frame.annotations.get("tls.version"), int)


def _whole_frame(dissection: Dissection) -> bool:
    """Whether the frame was captured whole (a snapshot length did not cut it)."""
    return dissection.frame.captured_length >= dissection.frame.wire_length


def looks_like_record(data: bytes, offset: int, end: int) -> bool:
    """Whether the bytes at `offset` start a TLS record header (type 20–24, version 3.x, sane length)."""
    if end - offset < 5:
        return False
    content_type, major, minor, length = data[offset], data[offset + 1], data[offset + 2], \
        struct.unpack_from(">H", data, offset + 3)[0]
    return content_type in CONTENT_TYPES and major == 3 and minor <= 4 and 0 < length <= _MAX_RECORD_LENGTH


@handles_payload("tls")
def dissect_tls_payload(dissection: Dissection, offset: int, end: int) -> bool:
    """Claim a TCP payload that starts with a TLS record and dissect every record in it."""
    if dissection.transport != "tcp":
        return False
    if not looks_like_record(dissection.data, offset, end):
        if not _tls_conversation(dissection):
            return False
        node = dissection.add_layer(TLS, "Transport Layer Security", offset, end - offset)
        dissection.set_columns(PROTOCOL_COLUMNS.get(dissection.frame.annotations["tls.version"], "SSL"),
                               "Ignored Unknown Record")
        unknown = node.add_text("Ignored Unknown Record", offset, end - offset)
        unknown.add_expert("Ignored Unknown Record", "Warning", "Protocol", IGNORED_UNKNOWN_RECORD)
        return True
    try:
        dissect_records(dissection, offset, end)
    except (MalformedError, struct.error, IndexError, ValueError):
        dissection.mark_malformed("TLS", offset)
    return True


def dissect_records(dissection: Dissection, offset: int, end: int) -> None:
    """Every record in [offset, end): the tree, the Protocol column from the session version, and Info."""
    data = dissection.data
    node = dissection.add_layer(TLS, "Transport Layer Security", offset, end - offset)
    known_version = dissection.frame.annotations.get("tls.version")
    session_version = known_version if isinstance(known_version, int) else None
    dissection.set_columns("TLS", "")
    summaries: list[str] = []
    column_version = None
    encrypted_handshake = False
    while offset + 5 <= end:
        content_type, record_version, length = struct.unpack_from(">BHH", data, offset)
        if not looks_like_record(data, offset, end):
            unknown = node.add_text("Ignored Unknown Record", offset, end - offset)
            unknown.add_expert("Ignored Unknown Record", "Warning", "Protocol", IGNORED_UNKNOWN_RECORD)
            summaries.append("Ignored Unknown Record")
            break
        if offset + 5 + length > end and _whole_frame(dissection):
            break  # a record that goes on in the next segment, dissected alone: Wireshark leaves it out
        body_end = min(offset + 5 + length, end)
        shown_version = session_version or record_version
        column_version = shown_version
        label_version = PROTOCOL_COLUMNS.get(shown_version, "TLS")
        record = node.add_text(f"{label_version} Record Layer", offset, body_end - offset)
        type_field = OPAQUE_TYPE if content_type == 23 and shown_version == 0x0304 else CONTENT_TYPE
        record.add(type_field, content_type, offset, 1)
        record.add(RECORD_VERSION, record_version, offset + 1, 2)
        record.add(RECORD_LENGTH, length, offset + 3, 2)
        body = offset + 5
        if content_type == 22:
            title, names, negotiated = _add_handshakes(record, data, body, body_end, encrypted_handshake,
                                                       known_version if isinstance(known_version, int) else None,
                                                       dissection.protocols, body_end == offset + 5 + length)
            if negotiated:
                session_version = negotiated
        elif content_type == 20:
            change = record.add(CHANGE_CIPHER_SPEC, None, body, body_end - body, label=CHANGE_CIPHER_SPEC.label)
            if dissection.frame.annotations.get("tls.resumed"):
                change.add_expert("This session reuses previously negotiated keys (Session resumption)", "Note",
                                  "Sequence", RESUMED)
            title, names = "Change Cipher Spec Protocol: Change Cipher Spec", ["Change Cipher Spec"]
            encrypted_handshake = True
        elif content_type == 21:
            title, names = _add_alert(record, data, body, body_end, length)
        else:
            application = "Hypertext Transfer Protocol" if {dissection.source_port, dissection.destination_port} \
                & _HTTPS_PORTS else "Application Data"
            payload = data[body:body_end]
            record.add(APP_DATA, payload, body, len(payload), label=f"Encrypted Application Data: {bytes_text(payload)}")
            if application != "Application Data":  # Wireshark names the protocol only when a port gives one
                record.add_generated(APP_DATA_PROTO, application)
            title, names = f"Application Data Protocol: {application}", [CONTENT_TYPES.get(content_type, "")]
        record.label = f"{label_version} Record Layer: {title}"
        summaries.extend(names)
        offset = body_end
    column_version = column_version or session_version  # nothing shown: Wireshark's fallback is "SSL"
    dissection.set_columns(PROTOCOL_COLUMNS.get(column_version, "SSL"), ", ".join(summaries))


def _add_handshakes(record: TreeNode, data: bytes, offset: int, end: int, encrypted: bool,
                    session_version: int | None, protocols: list[str],
                    record_whole: bool = True) -> tuple[str, list[str], int | None]:
    """The handshake messages of one record; returns its title, the Info names and any negotiated version.
    A message longer than a whole record is a fragment (`Server Hello (fragment)`); one cut by the capture
    is dissected as far as it goes."""
    if encrypted or not _handshakes_fit(data, offset, end):
        record.add(HANDSHAKE, None, offset, end - offset, label="Handshake Protocol: Encrypted Handshake Message")
        return "Handshake Protocol: Encrypted Handshake Message", ["Encrypted Handshake Message"], None
    names: list[str] = []
    negotiated = None
    while offset + 4 <= end:
        handshake_type = data[offset]
        length = int.from_bytes(data[offset + 1:offset + 4], "big")
        name = HANDSHAKE_TYPES[handshake_type]
        if offset + 4 + length > end and record_whole:  # the message goes on in another record
            record.add(HANDSHAKE, None, offset, end - offset, label=f"Handshake Protocol: {name} (fragment)")
            names.append(f"[{name} Fragment]")
            if len(names) == 1:
                return f"Handshake Protocol: {name} (fragment)", names, negotiated
            break
        message = record.add(HANDSHAKE, None, offset, 4 + length, label=f"Handshake Protocol: {name}")
        version = add_handshake_message(message, data, offset, min(offset + 4 + length, end), session_version,
                                        protocols)
        negotiated = version or negotiated
        names.append(name)
        offset += 4 + length
    title = f"Handshake Protocol: {names[0]}" if len(names) == 1 else "Handshake Protocol: Multiple Handshake Messages"
    return title, names, negotiated


def _handshakes_fit(data: bytes, offset: int, end: int) -> bool:
    """Whether the record body parses as whole handshake messages of known types (else it is encrypted)."""
    if offset + 4 > end:
        return False
    while offset + 4 <= end:
        length = int.from_bytes(data[offset + 1:offset + 4], "big")
        if data[offset] not in HANDSHAKE_TYPES or offset + 4 + length > end:
            return offset + 4 + length > end and data[offset] in HANDSHAKE_TYPES
        offset += 4 + length
    return offset == end


def _add_alert(record: TreeNode, data: bytes, offset: int, end: int, length: int) -> tuple[str, list[str]]:
    """A plaintext alert (level and description) or, when its length says so, an encrypted one."""
    if length != 2 or end - offset < 2:
        record.add_text("Alert Message: Encrypted Alert", offset, end - offset)
        return "Encrypted Alert", ["Encrypted Alert"]
    level, description = data[offset], data[offset + 1]
    text = f"Level: {ALERT_LEVELS.get(level, level)}, Description: {ALERT_DESCRIPTIONS.get(description, description)}"
    alert = record.add(ALERT, None, offset, 2, label="Alert Message")
    alert.add(ALERT_LEVEL, level, offset, 1)
    alert.add(ALERT_DESCRIPTION, description, offset + 1, 1)
    return f"Alert ({text})", [f"Alert ({text})"]

