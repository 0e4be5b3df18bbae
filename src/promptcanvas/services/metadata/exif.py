"""The text tags of an EXIF block (TIFF structure), read with bounded loops over untrusted offsets.

Tools put generation settings in EXIF UserComment (AUTOMATIC1111, Fooocus, SwarmUI JPEGs),
sometimes in the wrong IFD, and ComfyUI's WebP writer uses Make/Model/ImageDescription for its
"prompt:{...}" and "workflow:{...}" texts. Every tag below is read from whichever IFD holds it;
a MakerNote only when it is short printable text (Fooocus names its scheme there).
"""

from __future__ import annotations

import struct

# Tags whose values are text. XP* tags are Windows' UTF-16LE BYTE arrays.
_TEXT_TAGS = {
    0x010E: "ImageDescription",
    0x010F: "Make",
    0x0110: "Model",
    0x0131: "Software",
    0x013B: "Artist",
    0x8298: "Copyright",
    0x9286: "UserComment",
    0x927C: "MakerNote",  # cameras keep binary data here; Fooocus its metadata scheme name
    0x9C9B: "XPTitle",
    0x9C9C: "XPComment",
    0x9C9D: "XPAuthor",
    0x9C9E: "XPKeywords",
    0x9C9F: "XPSubject",
}
_SUB_IFDS = (0x8769,)  # the Exif sub-IFD; GPS and Interop hold no text we want
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_MAX_IFDS = 8
_MAX_ENTRIES = 1024  # real IFDs hold a few dozen; a forged count must not make us loop for long


def exif_texts(block: bytes) -> dict[str, str]:
    """Text tags keyed "exif:<TagName>"; malformed parts are skipped, never raised."""
    if block.startswith(b"Exif\0\0"):  # APP1 framing, also found (wrongly) in WebP EXIF chunks
        block = block[6:]
    if len(block) < 8:
        return {}
    if block[:4] == b"II*\0":
        order = "<"
    elif block[:4] == b"MM\0*":
        order = ">"
    else:
        return {}
    texts: dict[str, str] = {}
    (first,) = struct.unpack_from(order + "I", block, 4)
    pending: list[int] = [first]
    seen: set[int] = set()
    while pending and len(seen) < _MAX_IFDS:
        offset = pending.pop(0)
        if offset in seen or offset < 8 or offset + 2 > len(block):
            continue
        seen.add(offset)
        pending.extend(_read_ifd(block, order, offset, texts))
    return texts


def _read_ifd(block: bytes, order: str, offset: int, texts: dict[str, str]) -> list[int]:
    """Collect one IFD's text tags; return the offsets of the IFDs it points to."""
    (count,) = struct.unpack_from(order + "H", block, offset)
    count = min(count, _MAX_ENTRIES, (len(block) - offset - 2) // 12)
    pointers: list[int] = []
    for i in range(count):
        entry = offset + 2 + 12 * i
        tag, kind, n = struct.unpack_from(order + "HHI", block, entry)
        if tag in _SUB_IFDS:
            pointers.append(struct.unpack_from(order + "I", block, entry + 8)[0])
            continue
        name = _TEXT_TAGS.get(tag)
        size = _TYPE_SIZES.get(kind, 0) * n
        if name is None or size == 0 or size > len(block):
            continue
        if size <= 4:
            value = block[entry + 8 : entry + 8 + size]
        else:
            (at,) = struct.unpack_from(order + "I", block, entry + 8)
            if at + size > len(block):
                continue
            value = block[at : at + size]
        text = _decode(tag, value)
        if tag == 0x927C and (size > 256 or not text.isprintable()):
            continue
        if text:
            texts.setdefault(f"exif:{name}", text)
    end = offset + 2 + 12 * count
    if end + 4 <= len(block):
        pointers.append(struct.unpack_from(order + "I", block, end)[0])
    return pointers


def _decode(tag: int, value: bytes) -> str:
    if tag == 0x9286:
        return decode_user_comment(value)
    if tag >= 0x9C9B:
        return _utf16(value, little=True)
    return _text(value)


def decode_user_comment(value: bytes) -> str:
    """An EXIF UserComment: its 8-byte charset prefix says ASCII, UNICODE, JIS or undefined."""
    head, body = value[:8], value[8:]
    if head == b"UNICODE\0":
        return _utf16(body, little=None)
    if head == b"JIS\0\0\0\0\0":
        for codec in ("utf-8", "iso2022_jp", "shift_jis", "euc_jp"):
            try:
                return body.decode(codec).rstrip("\0")
            except UnicodeDecodeError:
                continue
    if head in (b"ASCII\0\0\0", b"\0" * 8):
        return _text(body)
    # No (or an unknown) charset prefix: some writers store the bare text.
    return _text(value)


def _text(value: bytes) -> str:
    # "ASCII" tags often hold UTF-8 in practice; latin-1 keeps any other byte readable.
    value = value.rstrip(b"\0")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _utf16(body: bytes, *, little: bool | None) -> str:
    """UTF-16 in either byte order: AUTOMATIC1111 (piexif) writes big-endian, most others little."""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        little, body = body[:2] == b"\xff\xfe", body[2:]
    body = body[: len(body) // 2 * 2]
    if little is None:
        little = _looks_little_endian(body)
    return body.decode("utf-16-le" if little else "utf-16-be", errors="replace").rstrip("\0")


def _looks_little_endian(body: bytes) -> bool:
    sample = body[:4096]
    # ASCII characters (settings, digits, commas) have a zero high byte: it comes second in LE.
    zero_odd, zero_even = sample[1::2].count(0), sample[0::2].count(0)
    if zero_odd != zero_even:
        return zero_odd > zero_even
    # No ASCII to go by (all CJK, say): a script's high bytes repeat (0x30 for kana, 0xAC-0xD7
    # for Hangul) while its low bytes spread out, so the high bytes take fewer distinct values.
    distinct_odd, distinct_even = len(set(sample[1::2])), len(set(sample[0::2]))
    if distinct_odd != distinct_even:
        return distinct_odd < distinct_even
    # Still even (a character or two): prefer the order giving fewer unlikely characters.
    return _oddities(sample.decode("utf-16-le", "replace")) <= _oddities(
        sample.decode("utf-16-be", "replace")
    )


def _oddities(text: str) -> int:
    """Characters unlikely in a prompt: replacements, surrogates, private use, rare blocks."""
    likely = (
        (0x20, 0x24F),  # Latin
        (0x2000, 0x206F),  # punctuation
        (0x3000, 0x30FF),  # CJK symbols, kana
        (0x3130, 0x318F),  # Hangul compatibility jamo
        (0x4E00, 0x9FFF),  # CJK ideographs
        (0xAC00, 0xD7A3),  # Hangul syllables
        (0xFF00, 0xFFEF),  # full-width forms
    )
    return sum(
        1 for ch in text if ch not in "\n\r\t" and not any(a <= ord(ch) <= b for a, b in likely)
    )
