"""Provenance from a C2PA manifest store (content credentials), read without a C2PA library.

The store is a JUMBF superbox (ISO 19566-5): boxes of [LBox u32][TBox 4cc][XLBox u64 if LBox=1],
a superbox ("jumb") starting with a description box ("jumd": 16-byte type UUID, a toggles byte,
then a NUL-terminated label when toggle 0x02 is set). The store ("c2pa") holds manifests; the
last one is the active manifest. A manifest holds its assertion store ("c2pa.assertions"), its
claim ("c2pa.claim", CBOR) and its signature ("c2pa.signature", a COSE_Sign1 in CBOR whose
x5chain header carries the signer's X.509 certificate). The "c2pa.actions" assertion says how
the asset came to be; a digitalSourceType of trainedAlgorithmicMedia (or the composite variant)
declares it AI-generated. Signatures are not verified here: this reports what the file claims.
"""

from __future__ import annotations

import re
import struct
from typing import Any

import cbor2

AI_SOURCE_TYPES = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia")
_MAX_BOXES = 4096
_MAX_DEPTH = 8
_XMP_SOURCE = re.compile(r'DigitalSourceType(?:="([^"]*)"|>\s*([^<\s]+))')

Box = tuple[bytes, str | None, Any]  # (type, label of a superbox, children or content bytes)


def provenance(store: bytes) -> dict[str, Any] | None:
    """What the active C2PA manifest declares: AI-generated or not, by whom; None if unreadable."""
    root = next((b for b in _boxes(store, 0) if b[0] == b"jumb" and b[1] == "c2pa"), None)
    manifests = [m for m in root[2] if m[0] == b"jumb"] if root else []
    if not manifests:
        return None
    active = manifests[-1][2]
    claim = _cbor(_find(active, "c2pa.claim")) or {}
    actions = [_action(a) for a in _actions(_find_box(active, "c2pa.assertions"))]
    ai_actions = [a for a in actions if _is_ai(a.get("digitalSourceType"))]
    generator = _claim_generator(claim)
    signer, issuer = _signer(_cbor(_find(active, "c2pa.signature")))
    agent = next((a["softwareAgent"] for a in ai_actions if a.get("softwareAgent")), None)
    return {
        "ai_generated": bool(ai_actions),
        "by": agent or generator or signer,
        "claim_generator": generator,
        "actions": actions,
        "signer": signer,
        "issuer": issuer,
        "manifests": len(manifests),
    }


def xmp_provenance(xmp: str) -> dict[str, Any] | None:
    """The IPTC DigitalSourceType an XMP packet declares (images made without C2PA), or None."""
    found = _XMP_SOURCE.search(xmp)
    if found is None:
        return None
    source = found.group(1) or found.group(2)
    return {"ai_generated": _is_ai(source), "by": None, "digital_source_type": source}


def _is_ai(source: object) -> bool:
    return isinstance(source, str) and source.rstrip("/").rsplit("/", 1)[-1] in AI_SOURCE_TYPES


def _boxes(data: bytes, depth: int) -> list[Box]:
    """The boxes in `data`; a superbox's children are parsed, its label taken from its jumd."""
    out: list[Box] = []
    pos = 0
    while pos + 8 <= len(data) and len(out) < _MAX_BOXES:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1 and pos + 16 <= len(data):
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = len(data) - pos
        if size < header or pos + size > len(data):
            break
        body = data[pos + header : pos + size]
        if kind == b"jumb" and depth < _MAX_DEPTH:
            children = _boxes(body, depth + 1)
            label = _label(children[0]) if children and children[0][0] == b"jumd" else None
            out.append((kind, label, children[1:]))
        else:
            out.append((kind, None, body))
        pos += size
    return out


def _label(description: Box) -> str | None:
    body = description[2]
    if not isinstance(body, bytes) or len(body) < 17 or not body[16] & 0x02:
        return None
    end = body.find(b"\0", 17)
    return body[17 : end if end >= 0 else len(body)].decode("utf-8", errors="replace")


def _find_box(children: list[Box], prefix: str) -> list[Box]:
    for kind, label, content in children:
        if kind == b"jumb" and label is not None and _matches(label, prefix):
            return list(content)
    return []


def _matches(label: str, prefix: str) -> bool:
    # Labels carry version and instance suffixes: "c2pa.claim.v2", "c2pa.actions__1".
    return label == prefix or label.startswith((prefix + ".", prefix + "__"))


def _find(children: list[Box], prefix: str) -> bytes | None:
    """The content of the first CBOR (or JSON) box in the superbox labelled `prefix`."""
    for kind, _label, content in _find_box(children, prefix):
        if kind in (b"cbor", b"json") and isinstance(content, bytes):
            return content
    return None


def _cbor(content: bytes | None) -> Any:
    if content is None:
        return None
    try:
        return cbor2.loads(content)
    except Exception:  # cbor2 raises several types on garbage; none of it is provenance
        return None


def _actions(assertions: list[Box]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for kind, label, content in assertions:
        if kind != b"jumb" or label is None or not _matches(label, "c2pa.actions"):
            continue
        for inner_kind, _l, body in content:
            value = _cbor(body) if inner_kind == b"cbor" else None
            if isinstance(value, dict) and isinstance(value.get("actions"), list | tuple):
                found.extend(a for a in value["actions"] if isinstance(a, dict))
    return found


def _action(raw: dict[str, Any]) -> dict[str, Any]:
    agent = raw.get("softwareAgent")
    if isinstance(agent, dict):  # actions v2: a ClaimGeneratorInfo map
        agent = _name_version(agent)
    return {
        "action": raw.get("action"),
        "digitalSourceType": raw.get("digitalSourceType"),
        "softwareAgent": agent if isinstance(agent, str) else None,
        "when": raw.get("when") if isinstance(raw.get("when"), str) else None,
    }


def _claim_generator(claim: Any) -> str | None:
    if not isinstance(claim, dict):
        return None
    if isinstance(claim.get("claim_generator"), str):
        return str(claim["claim_generator"])
    info = claim.get("claim_generator_info")
    if isinstance(info, list | tuple) and info:
        info = info[0]
    return _name_version(info) if isinstance(info, dict) else None


def _name_version(info: dict[str, Any]) -> str | None:
    name, version = info.get("name"), info.get("version")
    if not isinstance(name, str):
        return None
    return f"{name} {version}" if isinstance(version, str) else name


def _signer(cose: Any) -> tuple[str | None, str | None]:
    """Subject and issuer names of the certificate that signed the claim (COSE x5chain, 33)."""
    value = getattr(cose, "value", cose)  # COSE_Sign1 is CBOR tag 18 around a 4-item array
    # cbor2 gives arrays inside tags as tuples: list | tuple is accepted throughout.
    if not isinstance(value, list | tuple) or len(value) < 2:
        return None, None
    headers: dict[Any, Any] = {}
    if isinstance(value[0], bytes):
        protected = _cbor(value[0])
        headers.update(protected if isinstance(protected, dict) else {})
    if isinstance(value[1], dict):
        headers = {**value[1], **headers}
    chain = headers.get(33, headers.get("x5chain"))
    leaf = chain[0] if isinstance(chain, list | tuple) and chain else chain
    if not isinstance(leaf, bytes):
        return None, None
    try:
        return _certificate_names(leaf)
    except (IndexError, ValueError):
        return None, None


def _certificate_names(der: bytes) -> tuple[str | None, str | None]:
    """(subject, issuer) of a DER X.509 certificate, each its organisation or common name."""
    _, cert, _ = _tlv(der, 0)
    _, tbs_start, tbs_end = _tlv(der, cert)
    fields: list[tuple[int, int, int]] = []
    pos = tbs_start
    while pos < tbs_end and len(fields) < 6:
        tag, start, end = _tlv(der, pos)
        fields.append((tag, start, end))
        pos = end
    if fields and fields[0][0] == 0xA0:  # explicit version
        fields = fields[1:]
    # serial, signature algorithm, issuer, validity, subject
    issuer, subject = fields[2], fields[4]
    return _name(der, subject[1], subject[2]), _name(der, issuer[1], issuer[2])


def _name(der: bytes, start: int, end: int) -> str | None:
    values: dict[bytes, str] = {}
    pos = start
    while pos < end:
        _, set_start, set_end = _tlv(der, pos)
        _, seq_start, _seq_end = _tlv(der, set_start)
        _, oid_start, oid_end = _tlv(der, seq_start)
        value_tag, value_start, value_end = _tlv(der, oid_end)
        raw = der[value_start:value_end]
        text = raw.decode("utf-16-be" if value_tag == 0x1E else "utf-8", errors="replace")
        values.setdefault(der[oid_start:oid_end], text)
        pos = set_end
    # organizationName (2.5.4.10) says who better than a commonName like "Signing cert 3".
    return values.get(b"\x55\x04\x0a") or values.get(b"\x55\x04\x03")


def _tlv(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at `pos`."""
    tag, first = der[pos], der[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        if not 0 < count <= 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(der[pos : pos + count], "big")
        pos += count
    else:
        length = first
    if pos + length > len(der):
        raise ValueError("DER element runs past its container")
    return tag, pos, pos + length
