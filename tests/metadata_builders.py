"""Image bytes with chosen metadata carriers: PNG chunks, EXIF, XMP, stealth bits, C2PA boxes.

A plain library of builders for the metadata tests and the interop benchmark. Files are written
byte by byte where the layout itself is under test (chunk order, CRCs, EXIF byte order, JUMBF),
and pixels come from NumPy/Pillow so that every file also decodes as a real image.
"""

from __future__ import annotations

import gzip
import io
import itertools
import struct
import zlib
from collections.abc import Iterable, Sequence

import cbor2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {"L": (0, 1), "RGB": (2, 3), "LA": (4, 2), "RGBA": (6, 4)}

# ---- PNG ---------------------------------------------------------------------------------------


def chunk(kind: bytes, body: bytes, *, crc: int | None = None) -> bytes:
    """One PNG chunk; `crc` overrides the checksum (to build a broken one)."""
    value = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", value & 0xFFFFFFFF)


def text_chunk(key: str, value: str, *, encoding: str = "latin-1") -> bytes:
    """A tEXt chunk (latin-1 by the spec; `encoding="utf-8"` builds what some tools write)."""
    return chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode(encoding))


def ztxt_chunk(key: str, value: str) -> bytes:
    """A zTXt chunk: deflated latin-1 text."""
    return chunk(b"zTXt", key.encode("latin-1") + b"\0\0" + zlib.compress(value.encode("latin-1")))


def itxt_chunk(
    key: str, value: str, *, compressed: bool = False, language: str = "", translated: str = ""
) -> bytes:
    """An iTXt chunk: UTF-8 text, deflated or not, with optional language and translated key."""
    text = value.encode("utf-8")
    if compressed:
        text = zlib.compress(text)
    head = key.encode("latin-1") + b"\0" + bytes([int(compressed), 0])
    tail = language.encode("ascii") + b"\0" + translated.encode("utf-8") + b"\0"
    return chunk(b"iTXt", head + tail + text)


def pixels(width: int, height: int, mode: str = "RGB", seed: int = 1) -> NDArray[np.uint8]:
    """Deterministic noise pixels (height x width x channels) for a mode."""
    channels = _COLOR_TYPES[mode][1]
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(height, width, channels), dtype=np.uint8)


def png(
    width: int = 8,
    height: int = 8,
    *,
    mode: str = "RGB",
    image: NDArray[np.uint8] | None = None,
    before: Iterable[bytes] = (),
    after: Iterable[bytes] = (),
    trailer: bytes = b"",
    filters: Sequence[int] = (0,),
) -> bytes:
    """A real PNG with chunks before IDAT (`before`), after it (`after`) and bytes after IEND.

    Rows use the PNG filter types in `filters` in turn (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth).
    """
    data = pixels(width, height, mode) if image is None else image
    height, width = data.shape[:2]
    color_type, channels = _COLOR_TYPES[mode]
    rows = data.reshape(height, width * channels).astype(np.int32)
    raw = b"".join(
        bytes([kind]) + _filtered(kind, rows, y, channels)
        for y, kind in zip(range(height), itertools.cycle(filters), strict=False)
    )
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + chunk(b"IHDR", ihdr)
        + b"".join(before)
        + chunk(b"IDAT", zlib.compress(raw))
        + b"".join(after)
        + chunk(b"IEND", b"")
        + trailer
    )


def _filtered(kind: int, rows: NDArray[np.int32], y: int, channels: int) -> bytes:
    row = rows[y]
    up = rows[y - 1] if y else np.zeros_like(row)
    left = np.concatenate([np.zeros(channels, np.int32), row[:-channels]])
    upper_left = np.concatenate([np.zeros(channels, np.int32), up[:-channels]])
    if kind == 0:
        predictor = np.zeros_like(row)
    elif kind == 1:
        predictor = left
    elif kind == 2:
        predictor = up
    elif kind == 3:
        predictor = (left + up) // 2
    else:
        p = left + up - upper_left
        pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
        predictor = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upper_left))
    return ((row - predictor) % 256).astype(np.uint8).tobytes()


def png_header_only(width: int, height: int, *, before: Iterable[bytes] = ()) -> bytes:
    """A PNG declaring width x height with a tiny IDAT: headers of a huge image, no pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + chunk(b"IHDR", ihdr)
        + b"".join(before)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


# ---- EXIF --------------------------------------------------------------------------------------

Entry = tuple[int, int, bytes]  # (tag, TIFF type, value bytes)


def user_comment(text: str, charset: str = "unicode-be") -> bytes:
    """An EXIF UserComment value: "ascii", "unicode-be", "unicode-le", "unicode-bom", "jis",
    "undefined" (8 NULs then UTF-8) or "bare" (no prefix at all)."""
    if charset == "ascii":
        return b"ASCII\0\0\0" + text.encode("utf-8")
    if charset == "unicode-be":  # what piexif.helper.UserComment.dump writes (AUTOMATIC1111)
        return b"UNICODE\0" + text.encode("utf-16-be")
    if charset == "unicode-le":
        return b"UNICODE\0" + text.encode("utf-16-le")
    if charset == "unicode-bom":
        return b"UNICODE\0" + text.encode("utf-16")
    if charset == "jis":
        return b"JIS\0\0\0\0\0" + text.encode("shift_jis")
    if charset == "undefined":
        return b"\0" * 8 + text.encode("utf-8")
    return text.encode("utf-8")


def ascii_entry(tag: int, text: str) -> Entry:
    """A TIFF ASCII entry (NUL-terminated)."""
    return (tag, 2, text.encode("utf-8") + b"\0")


def tiff(ifd0: Sequence[Entry], exif_ifd: Sequence[Entry] = (), *, little: bool = True) -> bytes:
    """An EXIF block (TIFF header, IFD0 and an Exif sub-IFD when `exif_ifd` is given)."""
    order = "<" if little else ">"
    entries0 = list(ifd0)
    if exif_ifd:
        entries0.append((0x8769, 4, b"\0\0\0\0"))  # offset patched below
    ifd0_at = 8
    ifd0_size = 2 + 12 * len(entries0) + 4
    exif_at = ifd0_at + ifd0_size
    exif_size = 2 + 12 * len(exif_ifd) + 4 if exif_ifd else 0
    data_at = exif_at + exif_size
    blobs = bytearray()

    def ifd(entries: Sequence[Entry]) -> bytes:
        out = struct.pack(order + "H", len(entries))
        for tag, kind, value in sorted(entries, key=lambda e: e[0]):
            size = {1: 1, 2: 1, 3: 2, 4: 4, 7: 1}[kind]
            count = len(value) // size
            if tag == 0x8769:
                value = struct.pack(order + "I", exif_at)
            if len(value) <= 4:
                field = value.ljust(4, b"\0")
            else:
                field = struct.pack(order + "I", data_at + len(blobs))
                blobs.extend(value + b"\0" * (len(value) & 1))
            out += struct.pack(order + "HHI", tag, kind, count) + field
        return out + b"\0\0\0\0"

    body = ifd(entries0) + (ifd(exif_ifd) if exif_ifd else b"")
    header = (b"II*\0" if little else b"MM\0*") + struct.pack(order + "I", ifd0_at)
    return header + body + bytes(blobs)


def exif_with_comment(
    text: str, *, charset: str = "unicode-be", in_ifd0: bool = False, little: bool = True
) -> bytes:
    """An EXIF block holding `text` as UserComment, in the Exif sub-IFD or (wrongly) in IFD0."""
    entry = (0x9286, 7, user_comment(text, charset))
    software = ascii_entry(0x0131, "test-builder")
    if in_ifd0:
        return tiff([software, entry], little=little)
    return tiff([software], [entry], little=little)


def xmp_packet(properties: dict[str, str]) -> str:
    """An XMP packet with each property as a simple element (values XML-escaped)."""
    from xml.sax.saxutils import escape

    body = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in properties.items())
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        f"{body}</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    )


# ---- JPEG and WebP -----------------------------------------------------------------------------


def _segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


def app11_segments(store: bytes, *, max_payload: int = 65000, instance: int = 1) -> list[bytes]:
    """A JUMBF box split over JPEG XT APP11 segments, LBox/TBox repeated in each (as C2PA does)."""
    box_header, payload = store[:8], store[8:]
    out = []
    for sequence, start in enumerate(range(0, len(payload), max_payload), start=1):
        part = payload[start : start + max_payload]
        head = b"JP" + struct.pack(">HI", instance, sequence) + box_header
        out.append(_segment(0xEB, head + part))
    return out


def jpeg(
    width: int = 16,
    height: int = 16,
    *,
    exif: bytes | None = None,
    xmp: str | None = None,
    comments: Sequence[str] = (),
    c2pa: bytes | None = None,
    c2pa_segment: int = 65000,
) -> bytes:
    """A real JPEG with an EXIF APP1, an XMP APP1, COM segments and C2PA APP11 as asked."""
    out = io.BytesIO()
    Image.fromarray(pixels(width, height)).save(out, "JPEG", quality=80)
    data = out.getvalue()
    segments = []
    if exif is not None:
        segments.append(_segment(0xE1, b"Exif\0\0" + exif))
    if xmp is not None:
        segments.append(_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + xmp.encode("utf-8")))
    segments += [_segment(0xFE, text.encode("utf-8")) for text in comments]
    if c2pa is not None:
        segments += app11_segments(c2pa, max_payload=c2pa_segment)
    return data[:2] + b"".join(segments) + data[2:]


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + b"\0" * (len(body) & 1)


def webp(
    width: int = 16,
    height: int = 16,
    *,
    exif: bytes | None = None,
    xmp: str | None = None,
    c2pa: bytes | None = None,
    image: NDArray[np.uint8] | None = None,
    lossless: bool = False,
) -> bytes:
    """A real WebP in the extended (VP8X) layout with EXIF, XMP and C2PA chunks as asked."""
    data = pixels(width, height) if image is None else image
    height, width = data.shape[:2]
    out = io.BytesIO()
    Image.fromarray(data).save(out, "WEBP", lossless=lossless, quality=80, exact=True)
    simple = out.getvalue()
    frames = simple[12:]  # the VP8/VP8L (and ALPH) chunks of the simple layout
    alpha = data.shape[2] == 4
    flags = (0x10 if alpha else 0) | (0x08 if exif else 0) | (0x04 if xmp else 0)
    vp8x = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
    vp8x += (height - 1).to_bytes(3, "little")
    body = b"WEBP" + _riff_chunk(b"VP8X", vp8x) + frames
    if exif is not None:
        body += _riff_chunk(b"EXIF", exif)
    if xmp is not None:
        body += _riff_chunk(b"XMP ", xmp.encode("utf-8"))
    if c2pa is not None:
        body += _riff_chunk(b"C2PA", c2pa)
    return b"RIFF" + struct.pack("<I", len(body)) + body


# ---- stealth pnginfo ---------------------------------------------------------------------------


def stealth_pixels(
    text: str, signature: str = "stealth_pngcomp", *, width: int = 64, height: int = 64
) -> NDArray[np.uint8]:
    """RGBA pixels with `text` in the low bits, as sd-webui-stealth-pnginfo writes them."""
    payload = text.encode("utf-8")
    if signature.endswith("comp"):
        payload = gzip.compress(payload)
    stream = signature.encode("utf-8") + struct.pack(">I", len(payload) * 8) + payload
    bits = np.unpackbits(np.frombuffer(stream, dtype=np.uint8))
    image = pixels(width, height, "RGBA", seed=7)
    image[:, :, 3] = 255  # opaque, as a generated picture is
    if signature.startswith("stealth_png"):
        plane = image[:, :, 3].T.copy().reshape(-1)  # column by column
        assert len(bits) <= len(plane), "image too small for the payload"
        plane[: len(bits)] = (plane[: len(bits)] & 0xFE) | bits
        image[:, :, 3] = plane.reshape(width, height).T
    else:
        rgb = image[:, :, :3].transpose(1, 0, 2).copy().reshape(-1)  # x, y, then R, G, B
        assert len(bits) <= len(rgb), "image too small for the payload"
        rgb[: len(bits)] = (rgb[: len(bits)] & 0xFE) | bits
        image[:, :, :3] = rgb.reshape(width, height, 3).transpose(1, 0, 2)
    return image


def stealth_png(
    text: str, signature: str = "stealth_pngcomp", *, size: int = 64, filters: Sequence[int] = (0,)
) -> bytes:
    """A PNG with no text chunk and `text` hidden in its pixels (alpha or RGB low bits)."""
    image = stealth_pixels(text, signature, width=size, height=size)
    if signature.startswith("stealth_rgb"):
        rgb = np.ascontiguousarray(image[:, :, :3])
        return png(mode="RGB", image=rgb, filters=filters)
    return png(mode="RGBA", image=image, filters=filters)


# ---- C2PA (JUMBF boxes, CBOR, a DER certificate) ------------------------------------------------
# No real C2PA sample ships with the fixtures: these build one from the spec's layout (JUMBF
# superboxes with jumd description boxes, CBOR claim/assertions, COSE_Sign1 with x5chain).

_C2PA_SUFFIX = bytes.fromhex("00110010800000aa00389b71")


def box(kind: bytes, body: bytes) -> bytes:
    """An ISO BMFF / JUMBF box."""
    return struct.pack(">I", 8 + len(body)) + kind + body


def superbox(label: str, type_code: bytes, children: Sequence[bytes]) -> bytes:
    """A JUMBF superbox: a jumd (type UUID, toggles requestable+label, label) then children."""
    jumd = type_code + _C2PA_SUFFIX + b"\x03" + label.encode("utf-8") + b"\0"
    return box(b"jumb", box(b"jumd", jumd) + b"".join(children))


def cbor_box(label: str, value: object) -> bytes:
    """A JUMBF superbox holding one CBOR content box."""
    return superbox(label, b"cbor", [box(b"cbor", cbor2.dumps(value))])


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _der_name(organization: str | None, common_name: str) -> bytes:
    attributes = []
    if organization is not None:
        attributes.append((b"\x55\x04\x0a", organization))
    attributes.append((b"\x55\x04\x03", common_name))
    sets = [
        _der(0x31, _der(0x30, _der(0x06, oid) + _der(0x0C, value.encode("utf-8"))))
        for oid, value in attributes
    ]
    return _der(0x30, b"".join(sets))


def der_certificate(subject_org: str | None, subject_cn: str, issuer_cn: str) -> bytes:
    """A structurally valid X.509 certificate (unsigned: the bytes only need to parse)."""
    algorithm = _der(0x30, _der(0x06, b"\x2a\x86\x48\xce\x3d\x04\x03\x02"))  # ecdsa-with-SHA256
    validity = _der(0x30, _der(0x17, b"250101000000Z") + _der(0x17, b"300101000000Z"))
    spki = _der(0x30, algorithm + _der(0x03, b"\0" + b"\x04" * 65))
    tbs = _der(
        0x30,
        _der(0xA0, _der(0x02, b"\x02"))
        + _der(0x02, b"\x01\x23")
        + algorithm
        + _der_name(None, issuer_cn)
        + validity
        + _der_name(subject_org, subject_cn)
        + spki,
    )
    return _der(0x30, tbs + algorithm + _der(0x03, b"\0" + b"\x11" * 64))


def c2pa_store(
    actions: Sequence[dict[str, object]],
    *,
    claim: dict[str, object] | None = None,
    certificate: bytes | None = None,
    earlier_manifests: int = 0,
) -> bytes:
    """A C2PA manifest store: `earlier_manifests` ingredient manifests, then the active one."""

    def manifest(index: int, acts: Sequence[dict[str, object]]) -> bytes:
        assertions = superbox(
            "c2pa.assertions", b"c2as", [cbor_box("c2pa.actions", {"actions": acts})]
        )
        headers = {1: -7} if certificate is None else {1: -7, 33: [certificate]}
        cose = cbor2.CBORTag(18, [cbor2.dumps(headers), {}, None, b"\x00" * 64])
        signature = superbox("c2pa.signature", b"c2cs", [box(b"cbor", cbor2.dumps(cose))])
        claim_box = superbox("c2pa.claim", b"c2cl", [box(b"cbor", cbor2.dumps(claim or {}))])
        label = f"urn:uuid:00000000-0000-4000-8000-{index:012d}"
        return superbox(label, b"c2ma", [assertions, claim_box, signature])

    earlier = [manifest(i, [{"action": "c2pa.opened"}]) for i in range(earlier_manifests)]
    return superbox("c2pa", b"c2pa", [*earlier, manifest(earlier_manifests, actions)])
