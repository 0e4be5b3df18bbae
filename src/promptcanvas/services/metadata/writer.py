"""Write generation metadata into image files, in the carriers other tools read, without
re-encoding pixels.

- PNG: an A1111 `parameters` text chunk (tEXt, or UTF-8 iTXt when the text is not Latin-1) and
  our `promptcanvas` JSON chunk, right after IHDR; older chunks with the same keywords go.
- JPEG and WebP: EXIF UserComment in the Exif IFD with the A1111 text, charset "UNICODE" and
  UTF-16 big-endian, as AUTOMATIC1111 writes it through piexif (`UserComment.dump(...,
  encoding="unicode")`) and as sd-parsers and A1111's PNG Info decode it; plus an XMP packet with
  our JSON (see ours.py) and any other text chunks carried over from a PNG. The file's own EXIF
  tags and XMP properties are kept. A JPEG segment holds at most 64 KiB: a record too big for it is
  compressed, and an A1111 text too big for it is left out (the XMP record still has it all).

A prompt with a line starting "Negative prompt:", or with leading or trailing whitespace (A1111's
own reader strips every line), cannot survive the A1111 text exactly; our JSON keeps it exact.
tests/unit/test_metadata_roundtrip.py states the exact constraint.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from collections.abc import Mapping
from typing import Any

from PIL import Image

from promptcanvas.services.metadata import ours
from promptcanvas.services.metadata.carriers import PNG_SIGNATURE
from promptcanvas.services.metadata.record import GenerationMetadata

PARAMETERS = "parameters"
UNICODE_PREFIX = b"UNICODE\x00"
EXIF_IFD = 0x8769
USER_COMMENT = 0x9286
XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
_JPEG_SEGMENT_MAX = 65533  # a segment's 16-bit length counts its own two bytes
_TEXT_KINDS = (b"tEXt", b"iTXt", b"zTXt")


def _quote(value: str) -> str:
    # A1111 quotes values that would break its "Key: value, Key: value" list; readers also
    # strip plain values and read ones starting with { or [ as JSON, so those are quoted too.
    if any(c in value for c in ',:"\n\r') or value[:1] in ("{", "[") or value != value.strip():
        return json.dumps(value, ensure_ascii=False)
    return value


def a1111_parameters(
    *,
    prompt: str,
    negative_prompt: str,
    settings: list[tuple[str, Any]],
) -> str:
    """The `parameters` text AUTOMATIC1111 writes: prompt, negative line, then settings."""
    lines = [prompt]
    if negative_prompt:
        lines.append(f"Negative prompt: {negative_prompt}")
    pairs = [f"{key}: {_quote(str(value))}" for key, value in settings if value is not None]
    lines.append(", ".join(pairs))
    return "\n".join(lines)


def a1111_text(meta: GenerationMetadata) -> str:
    """A record as A1111 `parameters` text, with the keys services/runner.py writes."""
    extra = meta.extra
    ours_ = meta.generator in (None, ours.GENERATOR)
    size = f"{meta.width}x{meta.height}" if meta.width and meta.height else None
    return a1111_parameters(
        prompt=meta.prompt or "",
        negative_prompt=meta.negative_prompt or "",
        settings=[
            # Readers (sd-parsers, A1111's PNG Info) need all three; models without those
            # notions get their neutral values: one pass, no guidance, the provider's name.
            ("Steps", 1 if meta.steps is None else meta.steps),
            ("Sampler", meta.sampler or extra.get("provider") or meta.generator or "unknown"),
            ("Schedule type", meta.scheduler),
            ("CFG scale", 1 if meta.cfg_scale is None else meta.cfg_scale),
            ("Seed", meta.seed),
            ("Size", size),
            ("Model hash", meta.model_hash),
            ("Model", meta.model),
            ("Model version", extra.get("model_version")),
            ("Provider", extra.get("provider")),
            ("Denoising strength", meta.denoise),
            # A1111's own key for the app that wrote the file; readers name the generator by it.
            ("Version", ours.GENERATOR if ours_ else meta.generator),
        ],
    )


# -- PNG ------------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _text_chunk(key: str, value: str) -> bytes:
    if value.isascii():
        return _chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("ascii"))
    # iTXt, uncompressed, no language tag: UTF-8 text (Korean prompts need it). Latin-1 text
    # goes there too: many readers take tEXt bytes that happen to be valid UTF-8 as UTF-8.
    body = key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8", "replace")
    return _chunk(b"iTXt", body)


def embed_png_text(data: bytes, entries: list[tuple[str, str]]) -> bytes:
    """Insert text chunks right after IHDR without re-encoding the pixels.

    Bytes that are not a well-formed PNG start are returned unchanged.
    """
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return data
    (ihdr_len,) = struct.unpack(">I", data[8:12])
    cut = 8 + 12 + ihdr_len
    extra = b"".join(_text_chunk(k, v) for k, v in entries)
    return data[:cut] + extra + data[cut:]


def _without_png_text(data: bytes, keys: set[str]) -> bytes:
    """The PNG without its text chunks named in `keys` (wherever they sit); rest unchanged."""
    out = [data[:8]]
    pos = 8
    wanted = {k.encode("latin-1", "replace") for k in keys}
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            break
        if kind in _TEXT_KINDS and data[pos + 8 : end - 4].split(b"\0", 1)[0] in wanted:
            pos = end
            continue
        out.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            break
    out.append(data[pos:])
    return b"".join(out)


# -- EXIF and XMP ----------------------------------------------------------------------------


def user_comment(text: str) -> bytes:
    """An EXIF UserComment value: "UNICODE\\0" then UTF-16 big-endian (piexif's layout)."""
    return UNICODE_PREFIX + text.encode("utf-16-be", "replace")


def _exif(data: bytes, text: str | None) -> bytes:
    """The file's EXIF with our UserComment (None: without one); "Exif\\0\\0" + TIFF bytes."""
    try:
        exif = Image.open(io.BytesIO(data)).getexif()
    except Exception:  # foreign EXIF can be malformed in any way; start afresh then
        exif = Image.Exif()
    ifd = exif.get_ifd(EXIF_IFD)
    if text is None:
        ifd.pop(USER_COMMENT, None)
    else:
        ifd[USER_COMMENT] = user_comment(text)
    try:
        return exif.tobytes()
    except Exception:  # a foreign tag Pillow cannot write again: keep only ours
        fresh = Image.Exif()
        if text is not None:
            fresh.get_ifd(EXIF_IFD)[USER_COMMENT] = user_comment(text)
        return fresh.tobytes()


_OUR_DESCRIPTION = re.compile(
    r"<rdf:Description\b[^>]*xmlns:pc=\"" + re.escape(ours.XMP_NS) + r"\".*?</rdf:Description>",
    re.S,
)


def _xmp(existing: bytes | None, texts: Mapping[str, str], limit: int | None) -> bytes | None:
    """An XMP packet with our record and carried chunks, merged into the file's own packet."""
    record = texts.get(ours.KEY)
    carried = {k: v for k, v in texts.items() if k not in (ours.KEY, PARAMETERS)}
    old = existing.decode("utf-8", "replace") if existing else ""
    old = _OUR_DESCRIPTION.sub("", old)
    # Carried chunks go first when space runs out: the record matters more.
    for with_carried in (True, False):
        description = ours.xmp_description(
            record, carried if with_carried else {}, limit=None if limit is None else limit // 2
        )
        if "</rdf:RDF>" in old:
            packet = old.replace("</rdf:RDF>", description + "</rdf:RDF>", 1)
        else:
            packet = ours.xmp_packet(description)
        encoded = packet.encode("utf-8", "replace")
        if limit is None or len(encoded) <= limit:
            return encoded
    return old.encode() if old else None


# -- JPEG ------------------------------------------------------------------------------------


def _jpeg_header(data: bytes) -> tuple[list[bytes], int]:
    """The segments before the first scan (each with its marker), and where the rest starts."""
    segments = []
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xDA, 0xD9) or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            break
        segments.append(data[pos : pos + 2 + length])
        pos += 2 + length
    return segments, pos


def _app1(payload: bytes) -> bytes:
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def _embed_jpeg(data: bytes, texts: Mapping[str, str]) -> bytes:
    segments, rest = _jpeg_header(data)
    is_exif = [s[1] == 0xE1 and s[4:10] == b"Exif\x00\x00" for s in segments]
    is_xmp = [s[1] == 0xE1 and s[4:33] == XMP_APP1 for s in segments]
    old_xmp = next((s[33:] for s, x in zip(segments, is_xmp, strict=True) if x), None)
    new: list[bytes] = []
    drop = [False] * len(segments)
    if PARAMETERS in texts:
        drop = is_exif
        exif = _exif(data, texts[PARAMETERS])
        if len(exif) > _JPEG_SEGMENT_MAX:  # the A1111 text does not fit: XMP still has it all
            exif = _exif(data, None)
        if len(exif) <= _JPEG_SEGMENT_MAX:
            new.append(_app1(exif))
    if any(k != PARAMETERS for k in texts):
        drop = [d or x for d, x in zip(drop, is_xmp, strict=True)]
        xmp = _xmp(old_xmp, texts, _JPEG_SEGMENT_MAX - len(XMP_APP1))
        if xmp is not None:
            new.append(_app1(XMP_APP1 + xmp))
    kept = [s for s, d in zip(segments, drop, strict=True) if not d]
    # JFIF wants its APP0 first; EXIF and XMP follow it.
    lead = 0
    while lead < len(kept) and kept[lead][1] == 0xE0:
        lead += 1
    return b"".join([data[:2], *kept[:lead], *new, *kept[lead:], data[rest:]])


# -- WebP ------------------------------------------------------------------------------------


def _riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks = []
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        chunks.append((kind, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return chunks


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


def _vp8x(data: bytes, chunks: list[tuple[bytes, bytes]]) -> bytes:
    """A VP8X header for a simple (VP8 or VP8L) WebP, so it may carry EXIF and XMP."""
    kind, body = chunks[0]
    alpha, width, height = 0, 0, 0
    if kind == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
        (bits,) = struct.unpack("<I", body[1:5])
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        alpha = 0x10 if bits >> 28 & 1 else 0
    elif kind == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", body[6:10])
        width, height = w & 0x3FFF, h & 0x3FFF
    else:
        width, height = Image.open(io.BytesIO(data)).size
    size = int(width - 1).to_bytes(3, "little") + int(height - 1).to_bytes(3, "little")
    return bytes([alpha, 0, 0, 0]) + size


def _embed_webp(data: bytes, texts: Mapping[str, str]) -> bytes:
    chunks = _riff_chunks(data)
    if not chunks:
        return data
    found = dict(chunks)
    if chunks[0][0] == b"VP8X" and len(chunks[0][1]) < 10:
        return data  # a broken header: nothing safe to add to
    if chunks[0][0] == b"VP8X":
        header = bytearray(chunks[0][1])
        chunks = chunks[1:]
    else:
        try:
            header = bytearray(_vp8x(data, chunks))
        except (OSError, ValueError):
            return data
    exif, xmp = found.get(b"EXIF"), found.get(b"XMP ")
    if PARAMETERS in texts:
        exif = _exif(data, texts[PARAMETERS]).removeprefix(b"Exif\x00\x00")
    if any(k != PARAMETERS for k in texts):
        xmp = _xmp(xmp, texts, None)
    header[0] |= (0x08 if exif else 0) | (0x04 if xmp else 0)  # EXIF / XMP present
    body = [_riff_chunk(b"VP8X", bytes(header))]
    body += [_riff_chunk(k, b) for k, b in chunks if k not in (b"EXIF", b"XMP ")]
    # The container spec puts EXIF and then XMP after the image data.
    body += [_riff_chunk(k, b) for k, b in ((b"EXIF", exif), (b"XMP ", xmp)) if b]
    payload = b"WEBP" + b"".join(body)
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


# -- entry points ----------------------------------------------------------------------------


def image_format(data: bytes) -> str | None:
    """ "PNG", "JPEG" or "WEBP" by the file's magic bytes, else None."""
    if data.startswith(PNG_SIGNATURE):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def embed_texts(data: bytes, texts: Mapping[str, str]) -> bytes:
    """Write PNG-style text carriers (keyword -> text) into an image in its format's carriers.

    PNG: one text chunk each. JPEG/WebP: `parameters` as EXIF UserComment, `promptcanvas` and
    every other keyword in our XMP. Bytes of another format come back unchanged.
    """
    kind = image_format(data)
    if kind == "PNG":
        if data[12:16] != b"IHDR":
            return data
        return embed_png_text(_without_png_text(data, set(texts)), list(texts.items()))
    if kind == "JPEG":
        return _embed_jpeg(data, texts)
    if kind == "WEBP":
        return _embed_webp(data, texts)
    return data


def record_texts(
    record: GenerationMetadata | Mapping[str, Any], parameters: str | None = None
) -> dict[str, str]:
    """The `parameters` (A1111) and `promptcanvas` (our JSON) texts of a record."""
    if isinstance(record, GenerationMetadata):
        meta, obj = record, ours.dump(record)
    else:
        meta, obj = ours.from_json(record), dict(record)
    text = parameters if parameters is not None else a1111_text(meta)
    return {PARAMETERS: text, ours.KEY: ours.to_json_text(obj)}


def embed(
    data: bytes,
    record: GenerationMetadata | Mapping[str, Any],
    *,
    parameters: str | None = None,
) -> bytes:
    """Embed a record (normalised, or our JSON dict) as A1111 text + our JSON record.

    `parameters` overrides the A1111 text built from the record.
    """
    return embed_texts(data, record_texts(record, parameters))
