"""Write then read: every record we embed comes back, in PNG, JPEG and WebP.

Two paths are checked. Our JSON record (PNG `promptcanvas` chunk, XMP in JPEG/WebP) brings back
exactly the record written, for any Unicode text. The A1111 `parameters` text alone (our JSON
stripped) brings back every field that format has a place for, for texts it can carry:

    CARRYABLE (prompt and negative prompt): no leading or trailing whitespace (str.strip), no
    carriage return, no line that starts (after leading whitespace) with "Negative prompt:" in
    the prompt, no `<lora:...>`/`<lyco:...>`/`<hypernet:...>` tag (readers turn those into
    LoRAs), and an empty negative prompt reads back as None. Steps, Sampler and CFG scale are
    always written (neutral values when the record has none), so records here have them.

sd-parsers, which splits settings naively on ",", ":" and "Negative prompt:", reads our A1111
text too for prompts with neither "Negative prompt:" nor leading/trailing spaces, and settings
values without "," or ":".
"""

from __future__ import annotations

import io
import os
import re
import struct
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from promptcanvas.services.metadata import ours, writer
from promptcanvas.services.metadata.reader import read_metadata
from promptcanvas.services.metadata.record import GenerationMetadata, Lora
from tests.peers import sd_parse

FORMATS = ("PNG", "JPEG", "WEBP")
# Example counts keep the file to a few seconds; ROUNDTRIP_SCALE=50 searches far wider.
SCALE = float(os.environ.get("ROUNDTRIP_SCALE", "1"))


def examples(count: int) -> settings:
    """Hypothesis settings for `count` examples (times ROUNDTRIP_SCALE), no deadline."""
    return settings(
        max_examples=max(1, int(count * SCALE)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


EXAMPLES = examples(30)
PIECES = [
    "밤하늘 아래 고양이",
    "수채화, 흐림",
    "夜空の猫",
    "「引用」、テスト。",
    "masterpiece",
    ", ",
    ": ",
    '"',
    "'",
    "\n",
    "\\",
    "Steps: 20, Sampler: Euler",
    "Negative prompt: ",
    "{",
    "[1]",
    " ",
    "\u3000",
    "😀",
]


def _image(kind: str, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (8, 6), (120, 30, 200, 128)[: len(mode)]).save(out, kind)
    return out.getvalue()


IMAGES = {kind: _image(kind) for kind in FORMATS}

texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=8).map("".join)
REAL_NAMES = [
    "Euler a",
    "DPM++ 2M Karras",
    "dpmpp_2m_sde_gpu",
    "v1-5-pruned-emaonly.safetensors",
    "sd_xl_base_1.0 [31e35c80fc]",
    "realisticVisionV51_v51VAE",
    "모델: 봄, v2",
    "gpt-image-1",
]
names = st.sampled_from(REAL_NAMES) | st.text(min_size=1, max_size=20)
numbers = st.floats(allow_nan=False, allow_infinity=False, width=64)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | numbers | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
RESERVED = {"loras", "samplers", "size", *ours.TOP_EXTRA, "steps", "sampler", "scheduler"}
RESERVED |= {"cfg_scale", "strength", "parse_error"}
extra_keys = st.text(min_size=1, max_size=12).filter(
    lambda k: k not in RESERVED and not k.startswith(ours.PARAM_PREFIX)
)
loras = st.lists(
    st.builds(
        Lora,
        name=names,
        weight=st.none() | numbers,
        hash=st.none() | st.text(alphabet="0123456789abcdef", min_size=8, max_size=12),
    ),
    max_size=2,
)


@st.composite
def records(draw: st.DrawFn) -> GenerationMetadata:
    """Any record we may write: our generations' fields and arbitrary extra parameters."""
    sized = draw(st.booleans())
    extra: dict[str, Any] = {
        "provider": draw(names),
        "generation_id": draw(
            st.text(alphabet="0123456789abcdefghjkmnpqrstvwxyz", min_size=26, max_size=26)
        ),
        "prompt_id": draw(
            st.text(alphabet="0123456789abcdefghjkmnpqrstvwxyz", min_size=26, max_size=26)
        ),
    }
    version = draw(st.none() | names)
    if version is not None:
        extra["model_version"] = version
    extra.update(draw(st.dictionaries(extra_keys, json_values, max_size=3)))
    return GenerationMetadata(
        generator="PromptCanvas",
        prompt=draw(texts),
        negative_prompt=draw(st.none() | texts),
        seed=draw(st.none() | st.integers(0, 2**64 - 1)),
        steps=draw(st.none() | st.integers(1, 10_000)),
        sampler=draw(st.none() | names),
        scheduler=draw(st.none() | names),
        cfg_scale=draw(st.none() | numbers),
        denoise=draw(st.none() | st.floats(0, 1)),
        model=draw(st.none() | names),
        model_hash=draw(st.none() | st.text(alphabet="0123456789abcdef", min_size=10, max_size=10)),
        width=draw(st.integers(1, 16384)) if sized else None,
        height=draw(st.integers(1, 16384)) if sized else None,
        loras=draw(loras),
        extra=extra,
    )


def _read(data: bytes) -> GenerationMetadata:
    record = read_metadata(data)
    record.raw = {}
    return record


@EXAMPLES
@given(record=records(), kind=st.sampled_from(FORMATS))
def test_our_json_brings_back_the_exact_record(record: GenerationMetadata, kind: str) -> None:
    data = writer.embed(IMAGES[kind], record)
    assert Image.open(io.BytesIO(data)).format == kind
    back = _read(data)
    assert back == record, (back, record)


# -- the A1111 text alone -----------------------------------------------------------------

_TAGS = re.compile(r"<(lora|lyco|hypernet):", re.I)


def carryable(text: str) -> bool:
    """Whether an A1111 `parameters` text can carry this prompt exactly (see the docstring)."""
    if text != text.strip() or "\r" in text or _TAGS.search(text):
        return False
    return not any(line.lstrip().startswith("Negative prompt:") for line in text.split("\n"))


def negatives_carryable(text: str) -> bool:
    """A negative prompt may hold "Negative prompt:" lines: only the first one starts it."""
    return text == text.strip() and "\r" not in text


@st.composite
def a1111_records(draw: st.DrawFn) -> GenerationMetadata:
    """Records whose prompts the A1111 text can carry, with the settings it needs."""
    record = draw(records())
    record.prompt = draw(texts.filter(carryable))
    record.negative_prompt = draw(st.none() | texts.filter(negatives_carryable))
    record.steps = draw(st.integers(1, 10_000))
    record.sampler = draw(names)
    record.cfg_scale = draw(numbers)
    record.loras = []
    return record


def expected_from_a1111(record: GenerationMetadata) -> GenerationMetadata:
    """What the A1111 text of a record says: the fields it has, the rest under its own keys."""
    extra = {
        "Model version": record.extra.get("model_version"),
        "Provider": record.extra["provider"],
    }
    return GenerationMetadata(
        generator="PromptCanvas",  # the text ends "Version: PromptCanvas"
        prompt=record.prompt,
        negative_prompt=record.negative_prompt or None,
        seed=record.seed,
        steps=record.steps,
        sampler=record.sampler,
        scheduler=record.scheduler,
        cfg_scale=record.cfg_scale,
        denoise=record.denoise,
        model=record.model,
        model_hash=record.model_hash,
        width=record.width,
        height=record.height,
        extra={**{k: v for k, v in extra.items() if v is not None}, "Version": "PromptCanvas"},
    )


@EXAMPLES
@given(record=a1111_records(), kind=st.sampled_from(FORMATS))
def test_the_a1111_text_alone_brings_back_what_it_can_carry(
    record: GenerationMetadata, kind: str
) -> None:
    text = writer.a1111_text(record)
    data = writer.embed_texts(IMAGES[kind], {writer.PARAMETERS: text})
    back = _read(data)
    expected = expected_from_a1111(record)
    assert back == expected, (text, back, expected)


# -- other tools ---------------------------------------------------------------------------

plain = st.text(
    alphabet=st.characters(
        exclude_characters=',:"\n\r{[', exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")
    ),
    min_size=1,
    max_size=15,
)
sd_texts = texts.filter(lambda t: carryable(t) and "Negative prompt:" not in t and t != "")


@examples(12)
@given(
    prompt=sd_texts,
    negative=sd_texts,
    sampler=plain,
    model=plain,
    seed=st.integers(0, 2**64 - 1),
    kind=st.sampled_from(FORMATS),
)
def test_sd_parsers_reads_our_a1111_text(
    prompt: str, negative: str, sampler: str, model: str, seed: int, kind: str
) -> None:
    record = GenerationMetadata(
        prompt=prompt,
        negative_prompt=negative,
        sampler=sampler,
        model=model,
        seed=seed,
        steps=25,
        cfg_scale=6.5,
        width=8,
        height=6,
        extra={"provider": "local"},
    )
    info = sd_parse(writer.embed(IMAGES[kind], record))
    assert info is not None, kind
    assert (info.full_prompt, info.full_negative_prompt) == (prompt, negative)
    (pass_,) = info.samplers
    assert pass_.name == sampler
    assert pass_.parameters == {"seed": str(seed), "steps": "25", "cfg_scale": "6.5"}
    assert pass_.model is not None and pass_.model.name == model


def test_sd_parsers_answers_for_each_file_alone_in_a_long_run() -> None:
    # Unguarded, sd-parsers 0.6 hands back a freed image's EXIF comment when the next image
    # reuses its id (1 in 300 files here); the checks above would then fail at random.
    files = {
        f"prompt {i}": writer.embed(IMAGES["JPEG"], GenerationMetadata(prompt=f"prompt {i}"))
        for i in range(300)
    }
    wrong = {
        text
        for text, data in files.items()
        if (info := sd_parse(data)) is None or info.full_prompt != text
    }
    assert wrong == set()


# -- the files themselves ------------------------------------------------------------------


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, pos = [], 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


SAMPLE = GenerationMetadata(
    generator="PromptCanvas",
    prompt="밤하늘 아래 고양이\nNegative prompt: not really",
    negative_prompt="흐림",
    seed=7,
    steps=20,
    sampler="Euler a",
    cfg_scale=7.0,
    model="sketch",
    extra={"provider": "local", "model_version": "2"},
)


def test_png_pixels_are_untouched_and_old_chunks_replaced() -> None:
    source = _image("PNG", "RGBA")
    once = writer.embed(source, SAMPLE)
    twice = writer.embed(once, SAMPLE)
    assert once == twice  # the second write replaced, not duplicated, the chunks
    kinds = [kind for kind, _ in _png_chunks(once)]
    assert kinds.count(b"iTXt") + kinds.count(b"tEXt") == 2
    assert [c for c in _png_chunks(once) if c[0] == b"IDAT"] == [
        c for c in _png_chunks(source) if c[0] == b"IDAT"
    ]
    assert _read(once) == SAMPLE


def test_jpeg_keeps_its_own_exif_and_xmp_and_its_scan_data() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Camera maker"
    out = io.BytesIO()
    foreign_xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        b'22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/'
        b'elements/1.1/"><dc:creator>Kim</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>'
    )
    Image.new("RGB", (16, 8), (5, 6, 7)).save(out, "JPEG", exif=exif.tobytes(), xmp=foreign_xmp)
    source = out.getvalue()
    data = writer.embed(writer.embed(source, SAMPLE), SAMPLE)
    image = Image.open(io.BytesIO(data))
    assert image.getexif()[0x0112] == 6 and image.getexif()[0x010F] == "Camera maker"
    xmp = image.info["xmp"].decode()
    assert "<dc:creator>Kim</dc:creator>" in xmp and xmp.count(ours.XMP_NS) == 1
    assert data.endswith(source[source.index(b"\xff\xda") :])  # the scan was not re-encoded
    assert _read(data) == SAMPLE


def test_simple_webp_gains_an_extended_header_and_keeps_alpha() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (9, 7), (1, 2, 3, 40)).save(out, "WEBP", lossless=True)
    source = out.getvalue()
    assert source[12:16] == b"VP8L"
    data = writer.embed(source, SAMPLE)
    assert data[12:16] == b"VP8X" and data[20] & 0x1C == 0x1C  # alpha, EXIF, XMP flags
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    image = Image.open(io.BytesIO(data))
    assert image.size == (9, 7) and image.getpixel((3, 3)) == (1, 2, 3, 40)
    assert _read(data) == SAMPLE


def test_a_record_too_big_for_one_jpeg_segment_still_comes_back() -> None:
    big = GenerationMetadata(
        generator="PromptCanvas",
        prompt="고양이 " * 12_000,
        steps=1,
        sampler="x",
        cfg_scale=1,
        extra={"provider": "local"},
    )
    data = writer.embed(IMAGES["JPEG"], big)
    Image.open(io.BytesIO(data)).load()
    assert _read(data) == big  # compressed in XMP; the A1111 text (UTF-16) could not fit


def test_latin1_text_that_looks_like_utf8_reads_back() -> None:
    # "Â\x80" in Latin-1 is the bytes C2 80, valid UTF-8 for "\x80": only iTXt is unambiguous.
    record = GenerationMetadata(prompt="café Â\x80", steps=1, sampler="Â\x80", cfg_scale=1)
    record.extra["provider"] = "p"
    data = writer.embed_texts(IMAGES["PNG"], {writer.PARAMETERS: writer.a1111_text(record)})
    back = _read(data)
    assert (back.prompt, back.sampler) == ("café Â\x80", "Â\x80")


def test_text_that_utf8_cannot_encode_is_escaped_not_fatal() -> None:
    odd = GenerationMetadata(
        generator="PromptCanvas", prompt="lone \ud800 surrogate \uffff", extra={"provider": "p"}
    )
    for kind in FORMATS:
        assert _read(writer.embed(IMAGES[kind], odd)) == odd


@examples(60)
@given(st.dictionaries(st.sampled_from(["promptcanvas", "xmp", "parameters"]), st.text()))
def test_our_parser_never_raises_on_garbage(texts: dict[str, str]) -> None:
    found = ours.parse(texts)
    assert found is None or isinstance(found, GenerationMetadata)


@examples(60)
@given(kind=st.sampled_from(FORMATS), cut=st.integers(0, 4000), junk=st.binary(max_size=40))
def test_damaged_records_and_files_never_crash_reading_or_writing(
    kind: str, cut: int, junk: bytes
) -> None:
    data = writer.embed(IMAGES[kind], SAMPLE)
    damaged = data[: cut % (len(data) + 1)] + junk
    carriers = writer.record_texts(SAMPLE)
    text = carriers[ours.KEY]
    broken = text[: cut % (len(text) + 1)] + junk.decode("latin-1")
    xmp = ours.xmp_packet(ours.xmp_description(broken))
    for texts in ({ours.KEY: broken}, {"xmp": xmp}, {"xmp": xmp[: cut % (len(xmp) + 1)]}):
        found = ours.parse(texts)
        assert found is None or isinstance(found, GenerationMetadata)
    out = writer.embed(damaged, SAMPLE)  # a file we cannot make sense of comes back as it was
    assert isinstance(out, bytes)


def test_our_parser_rejects_what_is_not_our_record() -> None:
    assert ours.parse({"promptcanvas": "[1, 2]"}) is None
    assert ours.parse({"promptcanvas": '{"a": 1}'}) is None
    assert ours.parse({"promptcanvas": "{" * 100_000}) is None
    xmp = ours.xmp_packet(ours.xmp_description("not json"))
    assert ours.parse({"xmp": xmp}) is None
