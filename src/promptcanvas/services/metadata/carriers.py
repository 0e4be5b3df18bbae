"""Every text carrier in a PNG, JPEG or WebP file, read from its chunks and segments.

Only headers are read, never pixels, so this stays fast (an import reads thousands of files a
second) and safe on huge or hostile files: every length and offset comes from untrusted bytes and
is checked against the data before use.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from promptcanvas.domain.errors import UnsupportedMedia
from promptcanvas.services.metadata.exif import exif_texts

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_SIGNATURE = b"http://ns.adobe.com/xap/1.0/\0"
_PNG_MODES = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}
_JPEG_MODES = {1: "L", 3: "RGB", 4: "CMYK"}
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_MAX_TEXT = 32 << 20  # inflated size cap per chunk: a small zTXt must not unpack to gigabytes
_MAX_TEXTS = 4096  # a file with more text chunks than this is hostile, not informative
_OTHER_FORMATS = (
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"II*\0", "TIFF"),
    (b"MM\0*", "TIFF"),
    (b"\0\0\0\x0cjP  ", "JPEG 2000"),
    (b"\xff\x0a", "JPEG XL"),
    (b"%PDF", "PDF"),
)


@dataclass(frozen=True, slots=True)
class Carriers:
    """An image's format, stored pixel size and colour mode, and its metadata texts verbatim.

    `texts` keys are PNG keywords as written ("parameters", "prompt", "Comment", ...; a repeated
    keyword gets "#2", "#3"), or "exif:<Tag>", "xmp" and "jpeg:COM" for EXIF, XMP and comments.
    `c2pa` is the C2PA manifest store (a JUMBF superbox) when the file carries one.
    """

    format: str
    width: int
    height: int
    mode: str
    has_alpha: bool
    texts: dict[str, str] = field(default_factory=dict)
    c2pa: bytes | None = None


def extract(data: bytes) -> Carriers:
    """Read format, size and every text carrier; UnsupportedMedia if it is not a usable image."""
    if not data:
        raise UnsupportedMedia("not an image: the file is empty")
    if data.startswith(PNG_SIGNATURE):
        return _png(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    raise UnsupportedMedia(f"not an image: {_what(data)}")


def _what(data: bytes) -> str:
    for magic, name in _OTHER_FORMATS:
        if data.startswith(magic):
            return f"{name} files are not read; PNG, JPEG and WebP are"
    head = data[:1024]
    if all(32 <= b < 127 or b in b"\t\n\r" for b in head) or _is_utf8(head):
        return "the file holds text, not image data"
    return "not a PNG, JPEG or WebP file"


def _is_utf8(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the end of the sample is still text.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return all(ch.isprintable() or ch in "\t\n\r" for ch in text)


class _Texts:
    """Texts in file order; a repeated key keeps every value ("key", "key#2", ...)."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def add(self, key: str, value: str) -> None:
        if len(self.items) >= _MAX_TEXTS:
            return
        n = self._counts.get(key, 0) + 1
        self._counts[key] = n
        name = key if n == 1 else f"{key}#{n}"
        while name in self.items:  # a keyword literally spelled "key#2" came first
            n += 1
            name = f"{key}#{n}"
        self.items[name] = value


def _png(data: bytes) -> Carriers:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise UnsupportedMedia("truncated PNG: the image header is missing")
    if zlib.crc32(data[12:29]) != struct.unpack_from(">I", data, 29)[0]:
        raise UnsupportedMedia("corrupt PNG: the image header fails its checksum")
    width, height, _depth, color = struct.unpack_from(">IIBB", data, 16)
    if width == 0 or height == 0 or color not in _PNG_MODES:
        raise UnsupportedMedia("corrupt PNG: the image header is invalid")
    texts, c2pa, transparent, end_seen = _Texts(), None, False, False
    for kind, start, end in png_chunks(data):
        # Ancillary chunks are read even when their CRC is wrong: tools that patch text in
        # place sometimes forget to update it, and the text is still what they meant.
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            entry = _png_text(kind, data[start:end])
            if entry is not None:
                texts.add(*entry)
        elif kind == b"eXIf":
            for key, value in exif_texts(data[start:end]).items():
                texts.add(key, value)
        elif kind == b"caBX":
            c2pa = data[start:end]
        elif kind == b"tRNS":
            transparent = True
        elif kind == b"IEND":
            end_seen = True
    if not end_seen:
        raise UnsupportedMedia("truncated PNG: the file ends before its last chunk")
    mode = _PNG_MODES[color]
    has_alpha = color in (4, 6) or transparent
    return Carriers("PNG", width, height, mode, has_alpha, texts.items, c2pa)


def png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(kind, body start, body end) of each whole chunk of a PNG, after its signature.

    Stops after IEND (whatever follows it is junk some tools append; it is not read) or before
    a chunk that runs past the end of the data.
    """
    pos = 8
    while pos + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > len(data):
            return
        yield kind, pos + 8, end - 4
        if kind == b"IEND":
            return
        pos = end


def _png_text(kind: bytes, body: bytes) -> tuple[str, str] | None:
    key_end = body.find(b"\0")
    if key_end <= 0:
        return None
    key = body[:key_end].decode("latin-1")
    rest = body[key_end + 1 :]
    if kind == b"tEXt":
        return key, _latin1_or_utf8(rest)
    if kind == b"zTXt":
        inflated = _inflate(rest[1:])
        return None if inflated is None else (key, _latin1_or_utf8(inflated))
    # iTXt: compression flag, method, language tag\0, translated keyword\0, UTF-8 text.
    if len(rest) < 2:
        return None
    compressed, rest = rest[0] == 1, rest[2:]
    for _ in range(2):
        cut = rest.find(b"\0")
        if cut < 0:
            return None
        rest = rest[cut + 1 :]
    if compressed:
        inflated = _inflate(rest)
        if inflated is None:
            return None
        rest = inflated
    return key, rest.decode("utf-8", errors="replace")


def _latin1_or_utf8(raw: bytes) -> str:
    # tEXt is latin-1 by the PNG spec, but several tools write UTF-8 there (Korean and Japanese
    # prompts come out as mojibake otherwise); latin-1 text that is also valid UTF-8 is rare.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _inflate(raw: bytes) -> bytes | None:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, _MAX_TEXT)
    except zlib.error:
        return None
    return out


def _jpeg(data: bytes) -> Carriers:
    texts, app11 = _Texts(), _App11()
    size: tuple[int, int, int] | None = None
    pos = 2
    while True:
        while pos + 1 < len(data) and data[pos] == 0xFF and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes before a marker
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise UnsupportedMedia("truncated JPEG: the file ends inside its headers")
        marker = data[pos + 1]
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            pos += 2
            continue
        if marker == 0xD9:
            raise UnsupportedMedia("corrupt JPEG: the image ends before any pixel data")
        (length,) = struct.unpack_from(">H", data, pos + 2)
        body_at, end = pos + 4, pos + 2 + length
        if length < 2 or end > len(data):
            raise UnsupportedMedia("truncated JPEG: the file ends inside its headers")
        body = data[body_at:end]
        if marker == 0xDA:
            break
        if marker in _SOF and len(body) >= 6:
            _precision, height, width, components = struct.unpack_from(">BHHB", body)
            size = (width, height, components)
        elif marker == 0xE1 and body.startswith(b"Exif\0\0"):
            for key, value in exif_texts(body).items():
                texts.add(key, value)
        elif marker == 0xE1 and body.startswith(XMP_SIGNATURE):
            texts.add("xmp", body[len(XMP_SIGNATURE) :].decode("utf-8", errors="replace"))
        elif marker == 0xEB:
            app11.add(body)
        elif marker == 0xFE:
            texts.add("jpeg:COM", _latin1_or_utf8(body))
        pos = end
    if size is None:
        raise UnsupportedMedia("corrupt JPEG: no frame header before the pixel data")
    if data.rfind(b"\xff\xd9") < pos:
        raise UnsupportedMedia("truncated JPEG: the pixel data has no end marker")
    width, height, components = size
    mode = _JPEG_MODES.get(components, "RGB")
    return Carriers("JPEG", width, height, mode, False, texts.items, app11.store())


class _App11:
    """Reassembles the JUMBF box that JPEG XT splits over APP11 segments (C2PA uses it).

    Each segment: "JP", box instance (2), sequence number (4), then the box's LBox/TBox
    repeated in every segment; the payload continues after them.
    """

    def __init__(self) -> None:
        self.parts: dict[int, list[tuple[int, bytes]]] = {}

    def add(self, body: bytes) -> None:
        if len(body) < 16 or body[:2] != b"JP":
            return
        instance, sequence = struct.unpack_from(">HI", body, 2)
        self.parts.setdefault(instance, []).append((sequence, body[8:]))

    def store(self) -> bytes | None:
        for parts in self.parts.values():
            parts.sort(key=lambda p: p[0])
            first = parts[0][1]
            if first[4:8] != b"jumb":
                continue
            header = 16 if first[:4] == b"\0\0\0\1" else 8
            return first + b"".join(p[header:] for _, p in parts[1:])
        return None


def _webp(data: bytes) -> Carriers:
    texts, c2pa = _Texts(), None
    size: tuple[int, int] | None = None
    alpha = False
    (riff_size,) = struct.unpack_from("<I", data, 4)
    if riff_size + 8 > len(data):
        raise UnsupportedMedia("truncated WebP: the file is shorter than its header says")
    end_of_riff = riff_size + 8
    pos = 12
    while pos + 8 <= end_of_riff:
        kind, length = struct.unpack_from("<4sI", data, pos)
        body = data[pos + 8 : pos + 8 + length]
        if len(body) < length:
            raise UnsupportedMedia("truncated WebP: a chunk runs past the end of the file")
        if kind == b"VP8X" and length >= 10:
            alpha = bool(body[0] & 0x10)
            width = 1 + int.from_bytes(body[4:7], "little")
            height = 1 + int.from_bytes(body[7:10], "little")
            size = (width, height)
        elif kind == b"VP8 " and size is None and length >= 10 and body[3:6] == b"\x9d\x01\x2a":
            width, height = struct.unpack_from("<HH", body, 6)
            size = (width & 0x3FFF, height & 0x3FFF)
        elif kind == b"VP8L" and size is None and length >= 5 and body[0] == 0x2F:
            (bits,) = struct.unpack_from("<I", body, 1)
            size = ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
            alpha = bool(bits >> 28 & 1)
        elif kind == b"ALPH":
            alpha = True
        elif kind == b"EXIF":
            for key, value in exif_texts(body).items():
                texts.add(key, value)
        elif kind == b"XMP ":
            texts.add("xmp", body.decode("utf-8", errors="replace"))
        elif kind == b"C2PA":
            c2pa = body
        pos += 8 + length + (length & 1)
    if size is None:
        raise UnsupportedMedia("corrupt WebP: no image header")
    return Carriers("WEBP", size[0], size[1], "RGBA" if alpha else "RGB", alpha, texts.items, c2pa)
