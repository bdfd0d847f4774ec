"""X.509 certificates in a TLS Certificate message, shown as Wireshark's x509af/x509if/x509sat/x509ce trees.

A small DER reader walks the certificate: version, serial number, signature algorithm, issuer and
subject names (RDN sequences with their attribute strings), validity, the public key and the common
extensions. `certificate_subject` gives the `(id-at-organizationName=…,id-at-commonName=…)` text the
Certificate line ends with.
"""
from __future__ import annotations

import datetime as _dt

from tui_sniffer.dissect.fields import FieldType, protocol, register
from tui_sniffer.dissect.tree import TreeNode, bytes_text

OID_NAMES = {
    "1.2.840.113549.1.1.1": "rsaEncryption", "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.10": "id-RSASSA-PSS", "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption", "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.10045.2.1": "id-ecPublicKey", "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384", "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.112": "id-Ed25519", "1.3.101.113": "id-Ed448",
    "1.2.840.10045.3.1.7": "secp256r1", "1.3.132.0.34": "secp384r1", "1.3.132.0.35": "secp521r1",
    "2.5.4.3": "id-at-commonName", "2.5.4.5": "id-at-serialNumber", "2.5.4.6": "id-at-countryName",
    "2.5.4.7": "id-at-localityName", "2.5.4.8": "id-at-stateOrProvinceName",
    "2.5.4.10": "id-at-organizationName", "2.5.4.11": "id-at-organizationalUnitName",
    "1.2.840.113549.1.9.1": "pkcs-9-at-emailAddress",
    "2.5.29.14": "id-ce-subjectKeyIdentifier", "2.5.29.15": "id-ce-keyUsage", "2.5.29.17": "id-ce-subjectAltName",
    "2.5.29.19": "id-ce-basicConstraints", "2.5.29.31": "id-ce-cRLDistributionPoints",
    "2.5.29.32": "id-ce-certificatePolicies", "2.5.29.35": "id-ce-authorityKeyIdentifier",
    "2.5.29.37": "id-ce-extKeyUsage", "1.3.6.1.5.5.7.1.1": "id-pe-authorityInfoAccess",
    "1.3.6.1.5.5.7.3.1": "id-kp-serverAuth", "1.3.6.1.5.5.7.3.2": "id-kp-clientAuth",
}
_STRING_KINDS = {0x14: (0, "teletexString"), 0x13: (1, "printableString"), 0x1C: (2, "universalString"),
                 0x1E: (3, "bMPString"), 0x0C: (4, "uTF8String")}
_VERSIONS = {0: "v1", 1: "v2", 2: "v3"}

X509AF, X509IF, X509SAT, X509CE, PKCS1 = (protocol(name, label) for name, label in (
    ("x509af", "X.509 Authentication Framework"), ("x509if", "X.509 Information Framework"),
    ("x509sat", "X.509 Selected Attribute Types"), ("x509ce", "X.509 Certificate Extensions"),
    ("pkcs-1", "PKCS#1")))
SIGNED_CERTIFICATE = register("x509af.signedCertificate_element", "signedCertificate", FieldType.NONE)
VERSION = register("x509af.version", "version", FieldType.INT32, value_names=_VERSIONS)
SERIAL_NUMBER = register("x509af.serialNumber", "serialNumber", FieldType.BYTES)
SIGNATURE = register("x509af.signature_element", "signature", FieldType.NONE)
ALGORITHM_ID = register("x509af.algorithm.id", "Algorithm Id", FieldType.STRING)
ISSUER = register("x509af.issuer", "issuer", FieldType.UINT32, value_names={0: "rdnSequence"})
SUBJECT = register("x509af.subject", "subject", FieldType.UINT32, value_names={0: "rdnSequence"})
VALIDITY = register("x509af.validity_element", "validity", FieldType.NONE)
NOT_BEFORE = register("x509af.notBefore", "notBefore", FieldType.UINT32,
                      value_names={0: "utcTime", 1: "generalizedTime"})
NOT_AFTER = register("x509af.notAfter", "notAfter", FieldType.UINT32,
                     value_names={0: "utcTime", 1: "generalizedTime"})
UTC_TIME = register("x509af.utcTime", "utcTime", FieldType.STRING)
GENERALIZED_TIME = register("x509af.generalizedTime", "generalizedTime", FieldType.STRING)
PUBLIC_KEY_INFO = register("x509af.subjectPublicKeyInfo_element", "subjectPublicKeyInfo", FieldType.NONE)
ALGORITHM = register("x509af.algorithm_element", "algorithm", FieldType.NONE)
PUBLIC_KEY = register("x509af.subjectPublicKey", "subjectPublicKey", FieldType.BYTES)
EXTENSIONS = register("x509af.extensions", "extensions", FieldType.UINT32)
EXTENSION = register("x509af.Extension_element", "Extension", FieldType.NONE)
EXTENSION_ID = register("x509af.extension.id", "Extension Id", FieldType.STRING)
CRITICAL = register("x509af.critical", "critical", FieldType.BOOLEAN)
ALGORITHM_IDENTIFIER = register("x509af.algorithmIdentifier_element", "algorithmIdentifier", FieldType.NONE)
ENCRYPTED = register("x509af.encrypted", "encrypted", FieldType.BYTES)
PADDING = register("ber.bitstring.padding", "Padding", FieldType.UINT8)
RDN_SEQUENCE = register("x509if.rdnSequence", "rdnSequence", FieldType.UINT32)
RDN_ITEM = register("x509if.RDNSequence_item", "RDNSequence item", FieldType.UINT32)
RDN_ATTRIBUTE = register("x509if.RelativeDistinguishedName_item_element", "RelativeDistinguishedName item",
                         FieldType.NONE)
ATTRIBUTE_OID = register("x509if.oid", "Object Id", FieldType.STRING)
DIRECTORY_STRING = register("x509sat.DirectoryString", "DirectoryString", FieldType.UINT32,
                            value_names={index: name for index, name in _STRING_KINDS.values()})
STRING_FIELDS = {name: register(f"x509sat.{name}", name, FieldType.STRING) for _, name in _STRING_KINDS.values()}
COUNTRY_NAME = register("x509sat.CountryName", "CountryName", FieldType.STRING)
EC_PARAMETERS = register("pkcs1.ECParameters", "ECParameters", FieldType.UINT32, value_names={1: "namedCurve"})
NAMED_CURVE = register("pkcs1.namedCurve", "namedCurve", FieldType.STRING)
SUBJECT_KEY_ID = register("x509ce.SubjectKeyIdentifier", "SubjectKeyIdentifier", FieldType.BYTES)
AUTHORITY_KEY_ID = register("x509ce.AuthorityKeyIdentifier_element", "AuthorityKeyIdentifier", FieldType.NONE)
KEY_IDENTIFIER = register("x509ce.keyIdentifier", "keyIdentifier", FieldType.BYTES)
BASIC_CONSTRAINTS = register("x509ce.BasicConstraintsSyntax_element", "BasicConstraintsSyntax", FieldType.NONE)
CERTIFICATE_AUTHORITY = register("x509ce.cA", "cA", FieldType.BOOLEAN)
GENERAL_NAMES = register("x509ce.GeneralNames", "GeneralNames", FieldType.UINT32)
GENERAL_NAME = register("x509ce.GeneralName", "GeneralName", FieldType.UINT32, value_names={2: "dNSName"})
DNS_NAME = register("x509ce.dNSName", "dNSName", FieldType.STRING)
KEY_PURPOSE_IDS = register("x509ce.KeyPurposeIDs", "KeyPurposeIDs", FieldType.UINT32)
KEY_PURPOSE_ID = register("x509ce.KeyPurposeId", "KeyPurposeId", FieldType.STRING)
KEY_USAGE = register("x509ce.KeyUsage", "KeyUsage", FieldType.BYTES)
KEY_USAGE_BITS = [register(f"x509ce.KeyUsage.{name}", name, FieldType.BOOLEAN, bitmask=0x80 >> (bit % 8))
                  for bit, name in enumerate(("digitalSignature", "contentCommitment", "keyEncipherment",
                                              "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign",
                                              "encipherOnly", "decipherOnly"))]
MODULUS = register("pkcs1.modulus", "modulus", FieldType.BYTES)
PUBLIC_EXPONENT = register("pkcs1.publicExponent", "publicExponent", FieldType.INT32)
_RSA_ENCRYPTION = "1.2.840.113549.1.1.1"


class _Malformed(Exception):
    """The DER does not hold what X.509 says."""


def _element(data: bytes, position: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at `position`."""
    if position + 2 > end:
        raise _Malformed("element header cut short")
    tag, length = data[position], data[position + 1]
    position += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[position:position + count], "big")
        position += count
    if position + length > end:
        raise _Malformed("element runs past its parent")
    return tag, position, position + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, content start, content end) of each element in [start, end)."""
    found = []
    while start < end:
        tag, content, content_end = _element(data, start, end)
        found.append((tag, start, content, content_end))
        start = content_end
    return found


def _oid(raw: bytes) -> str:
    """The dotted form of an OBJECT IDENTIFIER's content."""
    parts, value = [], 0
    for byte in raw:
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            parts.append(value)
            value = 0
    first = min(parts[0] // 40, 2)
    return ".".join(str(part) for part in [first, parts[0] - 40 * first, *parts[1:]])


def _oid_text(oid: str) -> str:
    """`2.5.4.3 (id-at-commonName)`, or the bare OID when it has no name here."""
    name = OID_NAMES.get(oid)
    return f"{oid} ({name})" if name else oid


def add_certificate(node: TreeNode, data: bytes, start: int, end: int, protocols: list[str]) -> str:
    """The certificate's tree under `node`; returns its subject text for the Certificate line ('' if malformed)."""
    try:
        (_, _, content, content_end), = _children(data, start, end)
        tbs, algorithm, signature = _children(data, content, content_end)
        subject = _add_signed_certificate(node, data, tbs, protocols)
        _add_algorithm(node, data, algorithm, ALGORITHM_IDENTIFIER)
        _add_bit_string(node, data, signature, ENCRYPTED)
    except (_Malformed, ValueError, IndexError):
        return ""
    return subject


def _add_signed_certificate(node: TreeNode, data: bytes, tbs: tuple[int, int, int, int],
                            protocols: list[str]) -> str:
    """signedCertificate: everything the signature covers."""
    _, element_start, content, content_end = tbs
    signed = node.add(SIGNED_CERTIFICATE, None, element_start, content_end - element_start,
                      label=SIGNED_CERTIFICATE.label)
    parts = _children(data, content, content_end)
    if parts and parts[0][0] == 0xA0:
        _, _, version_content, version_end = parts.pop(0)
        _, number_start, number_end = _element(data, version_content, version_end)
        version = int.from_bytes(data[number_start:number_end], "big")
        signed.add(VERSION, version, version_content, version_end - version_content)
    serial, algorithm, issuer, validity, subject, key_info = parts[:6]
    serial_bytes = data[serial[2]:serial[3]]
    signed.add(SERIAL_NUMBER, serial_bytes, serial[1], serial[3] - serial[1],
               label=f"serialNumber: 0x{serial_bytes.hex()}")
    _add_algorithm(signed, data, algorithm, SIGNATURE)
    _add_name(signed, data, issuer, ISSUER, protocols)
    _add_validity(signed, data, validity)
    subject_text = _add_name(signed, data, subject, SUBJECT, protocols)
    _add_public_key(signed, data, key_info, protocols)
    for tag, element_start, extension_content, extension_end in parts[6:]:
        if tag == 0xA3:
            _add_extensions(signed, data, extension_content, extension_end, protocols)
    return subject_text


def _add_algorithm(parent: TreeNode, data: bytes, element: tuple[int, int, int, int], definition) -> str:
    """`signature (ecdsa-with-SHA256)` with its `Algorithm Id`; returns the OID."""
    _, element_start, content, content_end = element
    (_, oid_start, oid_content, oid_end), *_ = _children(data, content, content_end)
    oid = _oid(data[oid_content:oid_end])
    node = parent.add(definition, None, element_start, content_end - element_start,
                      label=f"{definition.label} ({OID_NAMES.get(oid, oid)})")
    node.add(ALGORITHM_ID, oid, oid_start, oid_end - oid_start, label=f"Algorithm Id: {_oid_text(oid)}")
    return oid


def _add_bit_string(parent: TreeNode, data: bytes, element: tuple[int, int, int, int], definition) -> None:
    """`Padding: 0` and the bits of a BIT STRING as bytes."""
    _, _, content, content_end = element
    parent.add(PADDING, data[content], content, 1)
    bits = data[content + 1:content_end]
    parent.add(definition, bits, content + 1, len(bits), label=f"{definition.label}: {bytes_text(bits)}")


def _add_name(parent: TreeNode, data: bytes, element: tuple[int, int, int, int], definition,
              protocols: list[str]) -> str:
    """`issuer: rdnSequence (0)` with each RDN; returns the `id-at-…=…,…` text (last RDN first, as tshark)."""
    _, element_start, content, content_end = element
    name = parent.add(definition, 0, element_start, content_end - element_start)
    rdns = _children(data, content, content_end)
    sequence = name.add(RDN_SEQUENCE, len(rdns), element_start, content_end - element_start)
    texts = []
    for _, rdn_start, rdn_content, rdn_end in rdns:
        attributes = _children(data, rdn_content, rdn_end)
        item = sequence.add(RDN_ITEM, len(attributes), rdn_start, rdn_end - rdn_start)
        item_texts = [_add_attribute(item, data, attribute, protocols) for attribute in attributes]
        item.label = f"RDNSequence item: {_items(len(attributes))} ({','.join(item_texts)})"
        texts.extend(item_texts)
    summary = ",".join(reversed(texts))
    sequence.label = f"rdnSequence: {_items(len(rdns))} ({summary})"
    return summary


def _items(count: int) -> str:
    return f"{count} item{'s' if count != 1 else ''}"


def _add_attribute(item: TreeNode, data: bytes, attribute: tuple[int, int, int, int], protocols: list[str]) -> str:
    """One `RelativeDistinguishedName item (id-at-commonName=…)`; returns its `name=value` text."""
    _, start, content, content_end = attribute
    (_, oid_start, oid_content, oid_end), (value_tag, value_start, value_content, value_end) = \
        _children(data, content, content_end)
    oid = _oid(data[oid_content:oid_end])
    value = data[value_content:value_end].decode("utf-8", "replace")
    text = f"{OID_NAMES.get(oid, oid)}={value}"
    node = item.add(RDN_ATTRIBUTE, None, start, content_end - start, label=f"RelativeDistinguishedName item ({text})")
    node.add(ATTRIBUTE_OID, oid, oid_start, oid_end - oid_start, label=f"Object Id: {_oid_text(oid)}")
    protocols.append(X509SAT.name)
    if oid == "2.5.4.6":
        node.add(COUNTRY_NAME, value, value_start, value_end - value_start)
    elif value_tag in _STRING_KINDS:
        index, kind = _STRING_KINDS[value_tag]
        choice = node.add(DIRECTORY_STRING, index, value_start, value_end - value_start)
        choice.add(STRING_FIELDS[kind], value, value_content, value_end - value_content)
    return text


def _add_validity(parent: TreeNode, data: bytes, element: tuple[int, int, int, int]) -> None:
    """validity: notBefore and notAfter as tshark writes them (`2026-11-21 06:27:50 (UTC)`)."""
    _, element_start, content, content_end = element
    validity = parent.add(VALIDITY, None, element_start, content_end - element_start, label=VALIDITY.label)
    for definition, (tag, start, time_content, time_end) in zip((NOT_BEFORE, NOT_AFTER),
                                                                _children(data, content, content_end)):
        is_generalized = tag == 0x18
        choice = validity.add(definition, int(is_generalized), start, time_end - start)
        raw = data[time_content:time_end].decode("ascii", "replace")
        moment = _dt.datetime.strptime(raw, "%Y%m%d%H%M%SZ" if is_generalized else "%y%m%d%H%M%SZ")
        text = f"{moment:%Y-%m-%d %H:%M:%S} (UTC)"
        choice.add(GENERALIZED_TIME if is_generalized else UTC_TIME, text, time_content, time_end - time_content)


def _add_public_key(parent: TreeNode, data: bytes, element: tuple[int, int, int, int], protocols: list[str]) -> None:
    """subjectPublicKeyInfo: the key algorithm (with a named curve) and the key bits."""
    _, element_start, content, content_end = element
    info = parent.add(PUBLIC_KEY_INFO, None, element_start, content_end - element_start, label=PUBLIC_KEY_INFO.label)
    algorithm, key = _children(data, content, content_end)
    oid = _add_algorithm(info, data, algorithm, ALGORITHM)
    if oid == _RSA_ENCRYPTION:
        _add_rsa_key(info, data, key)
        return
    parameters = _children(data, algorithm[2], algorithm[3])[1:]
    if parameters and parameters[0][0] == 0x06:
        _, start, parameter_content, parameter_end = parameters[0]
        curve = _oid(data[parameter_content:parameter_end])
        algorithm_node = info.children[-1]
        choice = algorithm_node.add(EC_PARAMETERS, 1, start, parameter_end - start)
        choice.add(NAMED_CURVE, curve, start, parameter_end - start, label=f"namedCurve: {_oid_text(curve)}")
        protocols.append(PKCS1.name)
    _add_bit_string(info, data, key, PUBLIC_KEY)


def _add_rsa_key(parent: TreeNode, data: bytes, key: tuple[int, int, int, int]) -> None:
    """An RSA subjectPublicKey and the modulus and public exponent inside it (tshark shows no padding here)."""
    _, _, content, content_end = key
    bits = data[content + 1:content_end]
    node = parent.add(PUBLIC_KEY, bits, content + 1, len(bits), label=f"subjectPublicKey: {bytes_text(bits)}")
    (_, _, sequence, sequence_end), = _children(data, content + 1, content_end)
    (_, modulus_start, modulus, modulus_end), (_, exponent_start, exponent, exponent_end) = \
        _children(data, sequence, sequence_end)[:2]
    node.add(MODULUS, data[modulus:modulus_end], modulus_start, modulus_end - modulus_start,
             label=f"modulus: 0x{bytes_text(data[modulus:modulus_end])}")
    node.add(PUBLIC_EXPONENT, int.from_bytes(data[exponent:exponent_end], "big"), exponent_start,
             exponent_end - exponent_start)


def _add_key_usage(extension: TreeNode, data: bytes, content: int, content_end: int) -> None:
    """`Padding`, `KeyUsage: a0` and one line per usage bit, as tshark draws the BIT STRING."""
    extension.add(PADDING, data[content], content, 1)
    usage = data[content + 1:content_end]
    node = extension.add(KEY_USAGE, usage, content + 1, len(usage), label=f"KeyUsage: {usage.hex()}")
    for bit, definition in enumerate(KEY_USAGE_BITS):
        byte = usage[bit // 8] if bit // 8 < len(usage) else 0
        is_set = bool(byte & definition.bitmask)
        at = content + 1 + min(bit // 8, max(len(usage) - 1, 0))
        node.add_bits(definition, int(is_set), at, 1, f"{definition.label}: {is_set}")
        node.children[-1].value = is_set


def _add_extensions(parent: TreeNode, data: bytes, start: int, end: int, protocols: list[str]) -> None:
    """`extensions: N items`, each with its id, criticality and (for the common ones) its value."""
    (_, sequence_start, content, content_end), = _children(data, start, end)
    extensions = _children(data, content, content_end)
    node = parent.add(EXTENSIONS, len(extensions), sequence_start, content_end - sequence_start,
                      label=f"extensions: {_items(len(extensions))}")
    for _, extension_start, extension_content, extension_end in extensions:
        parts = _children(data, extension_content, extension_end)
        oid = _oid(data[parts[0][2]:parts[0][3]])
        extension = node.add(EXTENSION, None, extension_start, extension_end - extension_start,
                             label=f"Extension ({OID_NAMES.get(oid, oid)})")
        extension.add(EXTENSION_ID, oid, parts[0][1], parts[0][3] - parts[0][1],
                      label=f"Extension Id: {_oid_text(oid)}")
        if len(parts) == 3 and parts[1][0] == 0x01:
            critical = data[parts[1][2]] != 0
            extension.add(CRITICAL, critical, parts[1][1], parts[1][3] - parts[1][1],
                          label=f"critical: {critical}")
        value_start, value_end = parts[-1][2], parts[-1][3]
        if _add_extension_value(extension, data, oid, value_start, value_end):
            protocols.append(X509CE.name)


def _add_extension_value(extension: TreeNode, data: bytes, oid: str, start: int, end: int) -> bool:
    """The decoded value of a common extension; whether this one is decoded."""
    (tag, element_start, content, content_end), = _children(data, start, end)
    if oid == "2.5.29.14":
        extension.add(SUBJECT_KEY_ID, data[content:content_end], element_start, content_end - element_start,
                      label=f"SubjectKeyIdentifier: {data[content:content_end].hex()}")
    elif oid == "2.5.29.35":
        node = extension.add(AUTHORITY_KEY_ID, None, element_start, content_end - element_start,
                             label=AUTHORITY_KEY_ID.label)
        for part_tag, part_start, part_content, part_end in _children(data, content, content_end):
            if part_tag == 0x80:
                node.add(KEY_IDENTIFIER, data[part_content:part_end], part_start, part_end - part_start,
                         label=f"keyIdentifier: {data[part_content:part_end].hex()}")
    elif oid == "2.5.29.19":
        node = extension.add(BASIC_CONSTRAINTS, None, element_start, content_end - element_start,
                             label=BASIC_CONSTRAINTS.label)
        for part_tag, part_start, part_content, part_end in _children(data, content, content_end):
            if part_tag == 0x01:
                authority = data[part_content] != 0
                node.add(CERTIFICATE_AUTHORITY, authority, part_start, part_end - part_start,
                         label=f"cA: {authority}")
    elif oid == "2.5.29.17":
        names = _children(data, content, content_end)
        node = extension.add(GENERAL_NAMES, len(names), element_start, content_end - element_start,
                             label=f"GeneralNames: {_items(len(names))}")
        for name_tag, name_start, name_content, name_end in names:
            if name_tag == 0x82:
                choice = node.add(GENERAL_NAME, 2, name_start, name_end - name_start)
                choice.add(DNS_NAME, data[name_content:name_end].decode("ascii", "replace"), name_content,
                           name_end - name_content)
    elif oid == "2.5.29.15":
        _add_key_usage(extension, data, content, content_end)
    elif oid == "2.5.29.37":
        purposes = _children(data, content, content_end)
        node = extension.add(KEY_PURPOSE_IDS, len(purposes), element_start, content_end - element_start,
                             label=f"KeyPurposeIDs: {_items(len(purposes))}")
        for _, purpose_start, purpose_content, purpose_end in purposes:
            purpose = _oid(data[purpose_content:purpose_end])
            node.add(KEY_PURPOSE_ID, purpose, purpose_start, purpose_end - purpose_start,
                     label=f"KeyPurposeId: {_oid_text(purpose)}")
    else:
        return False
    return True
