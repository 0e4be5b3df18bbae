"""Text carriers, stealth pixels, C2PA provenance and the reader entry point, on built files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import ImageFile

from promptcanvas.domain.errors import UnsupportedMedia
from promptcanvas.services.metadata import a1111, reader, stealth
from promptcanvas.services.metadata.carriers import extract
from promptcanvas.services.metadata.reader import read, read_metadata, read_path
from promptcanvas.services.metadata.record import NO_METADATA, GenerationMetadata
from tests import metadata_builders as build

PARAMETERS = (
    "고양이, 桜の木の下, (masterpiece:1.2), <lora:detail:0.6>\n"
    "Negative prompt: blurry, lowres\n"
    "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3141592653, "
    "Size: 832x1216, Model hash: 1a2b3c4d5e, Model: juggernautXL_v9, Denoising strength: 0.4, "
    'Lora hashes: "detail: abc123def456", Version: v1.10.1'
)
PROMPT = "고양이, 桜の木の下, (masterpiece:1.2), <lora:detail:0.6>"
AI_SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def assert_a1111(record: GenerationMetadata) -> None:
    assert record.generator == "AUTOMATIC1111"
    assert record.prompt == PROMPT
    assert record.negative_prompt == "blurry, lowres"
    assert (record.seed, record.steps, record.cfg_scale) == (3141592653, 28, 6.5)
    assert (record.width, record.height, record.model) == (832, 1216, "juggernautXL_v9")


# ---- PNG -----------------------------------------------------------------------------------------


def test_text_chunk_after_idat_is_read() -> None:
    data = build.png(after=[build.text_chunk("parameters", PARAMETERS, encoding="utf-8")])
    carriers = extract(data)
    assert carriers.texts == {"parameters": PARAMETERS}
    assert (carriers.format, carriers.width, carriers.height, carriers.mode) == ("PNG", 8, 8, "RGB")
    assert_a1111(read_metadata(data))


def test_ztxt_and_itxt_compressed_or_not_are_read() -> None:
    data = build.png(
        before=[
            build.ztxt_chunk("Software", "Café generator 1.0"),
            build.itxt_chunk("parameters", PARAMETERS, compressed=True, language="ko"),
        ],
        after=[build.itxt_chunk("Comment", "桜 と 고양이", translated="コメント")],
    )
    texts = extract(data).texts
    assert texts == {
        "Software": "Café generator 1.0",
        "parameters": PARAMETERS,
        "Comment": "桜 と 고양이",
    }


def test_latin1_text_chunk_is_not_mistaken_for_utf8() -> None:
    texts = extract(build.png(before=[build.text_chunk("Author", "Zoë Ærø")])).texts
    assert texts == {"Author": "Zoë Ærø"}


def test_a_repeated_keyword_keeps_every_value() -> None:
    data = build.png(
        before=[build.text_chunk("prompt", "first")],
        after=[build.text_chunk("prompt", "second"), build.text_chunk("prompt", "third")],
    )
    assert extract(data).texts == {"prompt": "first", "prompt#2": "second", "prompt#3": "third"}


def test_junk_after_iend_and_a_bad_text_crc_are_tolerated() -> None:
    bad = build.chunk(b"tEXt", b"parameters\0" + PARAMETERS.encode("utf-8"), crc=0xDEADBEEF)
    data = build.png(before=[bad], trailer=b"\0\0thisshouldn'tbehere" * 50)
    assert_a1111(read_metadata(data))


def test_broken_compressed_text_is_skipped_not_fatal() -> None:
    broken = build.chunk(b"zTXt", b"parameters\0\0not zlib at all")
    data = build.png(before=[broken, build.text_chunk("Software", "x")])
    assert extract(data).texts == {"Software": "x"}


def test_alpha_is_reported_from_colour_type_and_trns() -> None:
    assert extract(build.png(mode="RGBA")).has_alpha
    assert not extract(build.png(mode="RGB")).has_alpha
    with_trns = build.png(mode="RGB", before=[build.chunk(b"tRNS", b"\0\0\0\0\0\0")])
    assert extract(with_trns).has_alpha


def test_a_30000_pixel_square_png_is_read_from_its_header_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    data = build.png_header_only(30000, 30000, before=[build.text_chunk("parameters", "x")])
    plain = build.png_header_only(30000, 30000)
    carriers = extract(data)
    assert (carriers.width, carriers.height, carriers.mode) == (30000, 30000, "RGBA")
    assert read(data).metadata.raw == {"parameters": "x"}
    # No text chunk: the stealth fallback would decode pixels, but the size is over the cap.
    without = read(plain, max_pixels=64_000_000).metadata
    assert without.generator is None and without.raw == {}


# ---- errors --------------------------------------------------------------------------------------


def _cut(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not an image"),
        (b"prompt: a cat\nSteps: 20\n", "not an image: the file holds text"),
        ("한국어 텍스트 파일입니다\n".encode(), "not an image: the file holds text"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "GIF files are not read"),
        (bytes(range(256)) * 4, "not an image"),
        (build.PNG_SIGNATURE + b"\0\0\0\x0dIH", "truncated PNG"),
        (_cut(build.png(64, 64, after=[build.text_chunk("a", "b")]), 0.6), "truncated PNG"),
        (_cut(build.jpeg(64, 64), 0.5), "truncated JPEG"),
        (_cut(build.jpeg(exif=build.exif_with_comment(PARAMETERS)), 0.05), "truncated JPEG"),
        (_cut(build.webp(64, 64), 0.5), "truncated WebP"),
    ],
    ids=[
        "empty",
        "text",
        "korean-text",
        "gif",
        "binary",
        "png-head",
        "png",
        "jpeg",
        "jpeg-head",
        "webp",
    ],
)
def test_unreadable_files_raise_unsupported_media_with_a_clear_message(
    data: bytes, message: str
) -> None:
    with pytest.raises(UnsupportedMedia) as raised:
        read_metadata(data)
    assert message in raised.value.message


def test_a_corrupt_png_header_checksum_is_reported() -> None:
    data = bytearray(build.png())
    data[29] ^= 0xFF  # IHDR's CRC
    with pytest.raises(UnsupportedMedia, match="corrupt PNG"):
        extract(bytes(data))


# ---- JPEG and WebP -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "charset", ["unicode-be", "unicode-le", "unicode-bom", "ascii", "undefined", "bare"]
)
def test_user_comment_in_every_charset_gives_the_same_text(charset: str) -> None:
    data = build.jpeg(exif=build.exif_with_comment(PARAMETERS, charset=charset))
    assert extract(data).texts["exif:UserComment"] == PARAMETERS
    assert_a1111(read_metadata(data))


@pytest.mark.parametrize("text", ["고양이와 강아지", "ねこ", "cat"])
@pytest.mark.parametrize("charset", ["unicode-be", "unicode-le"])
def test_utf16_byte_order_is_detected_for_ascii_and_cjk_only_text(text: str, charset: str) -> None:
    data = build.jpeg(exif=build.exif_with_comment(text, charset=charset))
    assert extract(data).texts["exif:UserComment"] == text


def test_jis_user_comment() -> None:
    data = build.jpeg(exif=build.exif_with_comment("桜の木 cat", charset="jis"))
    assert extract(data).texts["exif:UserComment"] == "桜の木 cat"


@pytest.mark.parametrize("little", [True, False])
def test_user_comment_in_ifd0_is_found(little: bool) -> None:
    exif = build.exif_with_comment(PARAMETERS, in_ifd0=True, little=little)
    assert_a1111(read_metadata(build.jpeg(exif=exif)))


def test_exif_with_looping_and_out_of_range_offsets_does_not_hang() -> None:
    block = bytearray(build.exif_with_comment("cat"))
    # IFD0's next-IFD pointer (after its two entries) to itself, and a wild value offset.
    next_at = 8 + 2 + 12 * 2
    block[next_at : next_at + 4] = (8).to_bytes(4, "little")
    block += build.tiff([(0x010E, 2, b"x" * 10)])[8:]
    data = build.jpeg(exif=bytes(block))
    assert extract(data).texts["exif:UserComment"] == "cat"
    garbage = build.jpeg(exif=b"II*\0" + b"\xff" * 60)
    assert extract(garbage).texts == {}


def test_xmp_and_comment_segments_in_jpeg() -> None:
    xmp = build.xmp_packet({"exif:UserComment": PARAMETERS})
    data = build.jpeg(48, 32, xmp=xmp, comments=["made with love"])
    carriers = extract(data)
    assert (carriers.format, carriers.width, carriers.height) == ("JPEG", 48, 32)
    assert carriers.texts["jpeg:COM"] == "made with love"
    assert "exif:UserComment" in carriers.texts["xmp"]
    assert_a1111(read_metadata(data))  # the XMP copy is offered as `parameters`


@pytest.mark.parametrize("lossless", [False, True])
def test_webp_exif_and_xmp_chunks(lossless: bool) -> None:
    image = build.pixels(24, 20, "RGBA")
    data = build.webp(
        exif=build.exif_with_comment(PARAMETERS, charset="unicode-le"),
        xmp=build.xmp_packet({"dc:description": "hello"}),
        image=image,
        lossless=lossless,
    )
    carriers = extract(data)
    assert (carriers.format, carriers.width, carriers.height) == ("WEBP", 24, 20)
    assert carriers.has_alpha
    assert carriers.texts["exif:UserComment"] == PARAMETERS
    assert "hello" in carriers.texts["xmp"]
    assert_a1111(read_metadata(data))


def test_comfyui_webp_graph_in_exif_make_and_model_reaches_the_parsers() -> None:
    graph = {"3": {"class_type": "KSampler", "inputs": {"seed": 5}}}
    exif = build.tiff(
        [
            build.ascii_entry(0x010F, "workflow:" + json.dumps({"nodes": []})),
            build.ascii_entry(0x0110, "prompt:" + json.dumps(graph)),
        ]
    )
    texts = reader.parser_input(extract(build.webp(exif=exif)).texts)
    assert json.loads(texts["prompt"]) == graph
    assert json.loads(texts["workflow"]) == {"nodes": []}


# ---- stealth -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature", ["stealth_pnginfo", "stealth_pngcomp", "stealth_rgbinfo", "stealth_rgbcomp"]
)
def test_stealth_parameters_in_every_signature(signature: str) -> None:
    data = build.stealth_png(PARAMETERS, signature, size=96)
    assert extract(data).texts == {}
    record = read_metadata(data)
    assert_a1111(record)
    assert record.raw == {signature: PARAMETERS}


@pytest.mark.parametrize("filters", [(0,), (1,), (2,), (3,), (4,), (0, 1, 2, 3, 4)])
@pytest.mark.parametrize("signature", ["stealth_pngcomp", "stealth_rgbinfo"])
def test_stealth_is_found_whatever_png_row_filters_were_used(
    signature: str, filters: tuple[int, ...]
) -> None:
    # 128 rows: the quick first-column check runs before the full decode.
    data = build.stealth_png(PARAMETERS, signature, size=128, filters=filters)
    assert_a1111(read_metadata(data))


def test_pngs_without_a_signature_are_ruled_out_without_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(stealth.Image, "open", no_decoding)
    for mode in ("RGB", "RGBA"):
        data = build.png(256, 200, mode=mode, filters=(0, 1, 2, 3, 4))
        assert read_metadata(data).generator is None


def test_stealth_in_a_lossless_webp() -> None:
    image = build.stealth_pixels(PARAMETERS, "stealth_pnginfo", width=80, height=80)
    record = read_metadata(build.webp(image=image, lossless=True))
    assert_a1111(record)


def test_text_chunks_win_and_pixels_are_not_read_when_present() -> None:
    image = build.stealth_pixels("hidden prompt\nSteps: 1, Seed: 1", width=64, height=64)
    data = build.png(mode="RGBA", image=image, before=[build.itxt_chunk("parameters", PARAMETERS)])
    record = read_metadata(data)
    assert record.prompt == PROMPT
    assert set(record.raw) == {"parameters"}


def test_stealth_is_not_decoded_past_the_pixel_cap() -> None:
    data = build.stealth_png(PARAMETERS, size=96)
    assert read_metadata(data, max_pixels=96 * 96 - 1).generator is None


def test_no_stealth_signature_means_no_metadata() -> None:
    record = read_metadata(build.png(64, 64, mode="RGBA"))
    assert record.generator is None
    assert record.to_dict()["message"] == NO_METADATA


def test_novelai_stealth_json_is_spread_into_its_keys() -> None:
    comment = {"prompt": "1girl, 桜", "steps": 28, "scale": 5.0, "seed": 42, "sampler": "k_euler"}
    payload = json.dumps(
        {"Software": "NovelAI", "Description": "1girl, 桜", "Comment": json.dumps(comment)}
    )
    record = read_metadata(build.stealth_png(payload, "stealth_pngcomp", size=128))
    assert record.raw == {"stealth_pngcomp": payload}
    assert record.generator == "NovelAI"
    assert (record.prompt, record.seed, record.steps) == ("1girl, 桜", 42, 28)


# ---- C2PA ----------------------------------------------------------------------------------------


def _ai_store(**kwargs: object) -> bytes:
    return build.c2pa_store(
        [
            {"action": "c2pa.created", "digitalSourceType": AI_SOURCE, "softwareAgent": "Firefly"},
            {"action": "c2pa.edited"},
        ],
        claim={"claim_generator": "Adobe_Illustrator/28.0 adobe_c2pa/0.7.6"},
        certificate=build.der_certificate("Adobe Inc.", "Adobe Content Credentials", "Adobe CA"),
        **kwargs,  # type: ignore[arg-type]
    )


def test_c2pa_in_png_declares_ai_generation_and_by_whom() -> None:
    record = read_metadata(build.png(after=[build.chunk(b"caBX", _ai_store())]))
    assert record.generator is None
    assert record.to_dict()["message"] == NO_METADATA
    provenance = record.provenance
    assert provenance is not None
    assert provenance["ai_generated"] is True
    assert provenance["by"] == "Firefly"
    assert provenance["claim_generator"] == "Adobe_Illustrator/28.0 adobe_c2pa/0.7.6"
    assert (provenance["signer"], provenance["issuer"]) == ("Adobe Inc.", "Adobe CA")
    assert [a["action"] for a in provenance["actions"]] == ["c2pa.created", "c2pa.edited"]


def test_c2pa_split_over_jpeg_app11_segments_uses_the_active_manifest() -> None:
    data = build.jpeg(c2pa=_ai_store(earlier_manifests=2), c2pa_segment=97)
    provenance = read_metadata(data).provenance
    assert provenance is not None
    assert provenance["manifests"] == 3
    assert provenance["ai_generated"] is True and provenance["by"] == "Firefly"


def test_c2pa_v2_claim_and_agent_maps_in_webp() -> None:
    store = build.c2pa_store(
        [
            {
                "action": "c2pa.created",
                "digitalSourceType": AI_SOURCE.replace("trained", "compositeWithTrained"),
                "softwareAgent": {"name": "ImageGen", "version": "2.1"},
            }
        ],
        claim={"claim_generator_info": {"name": "ChatGPT", "version": "1"}},
    )
    provenance = read_metadata(build.webp(c2pa=store)).provenance
    assert provenance is not None
    assert provenance["ai_generated"] is True
    assert provenance["by"] == "ImageGen 2.1"
    assert provenance["claim_generator"] == "ChatGPT 1"


def test_c2pa_camera_capture_is_not_ai_generated() -> None:
    capture = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
    store = build.c2pa_store(
        [{"action": "c2pa.created", "digitalSourceType": capture}],
        claim={"claim_generator": "Leica M11-P"},
    )
    provenance = read_metadata(build.jpeg(c2pa=store)).provenance
    assert provenance is not None
    assert provenance["ai_generated"] is False
    assert provenance["by"] == "Leica M11-P"


def test_garbage_c2pa_box_gives_no_provenance_and_no_error() -> None:
    junk = build.box(b"jumb", b"\0\0\0\x05jumd" + b"\xff" * 40)
    record = read_metadata(build.png(after=[build.chunk(b"caBX", junk)]))
    assert record.provenance is None


def test_xmp_digital_source_type_alone_declares_ai_generation() -> None:
    xmp = build.xmp_packet({"Iptc4xmpExt:DigitalSourceType": AI_SOURCE})
    record = read_metadata(build.jpeg(xmp=xmp))
    assert record.generator is None
    assert record.provenance is not None and record.provenance["ai_generated"] is True


# ---- reader --------------------------------------------------------------------------------------


def test_a_parser_that_raises_is_recorded_and_the_next_one_is_tried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(texts: dict[str, str]) -> GenerationMetadata | None:
        raise ValueError("cannot read this")

    parsers = (("exploding", explode), ("a1111", a1111.parse))
    monkeypatch.setattr(reader, "PARSERS", parsers)
    record = read_metadata(build.png(before=[build.itxt_chunk("parameters", PARAMETERS)]))
    assert_a1111(record)
    assert record.extra["parse_error"] == "exploding: ValueError: cannot read this"


def test_raw_keeps_every_carrier_even_when_no_parser_matches() -> None:
    data = build.png(
        before=[build.text_chunk("Software", "GIMP 2.10"), build.itxt_chunk("Comment", "풍경")],
        after=[build.text_chunk("date:create", "2025-01-01")],
    )
    record = read_metadata(data)
    assert record.generator is None
    assert record.raw == {"Software": "GIMP 2.10", "Comment": "풍경", "date:create": "2025-01-01"}


def test_a_camera_comment_is_not_offered_as_parameters() -> None:
    exif = build.exif_with_comment("Shot on a sunny day", charset="ascii")
    record = read_metadata(build.jpeg(exif=exif))
    assert record.generator is None
    assert record.raw["exif:UserComment"] == "Shot on a sunny day"


def test_read_path(tmp_path: Path) -> None:
    path = tmp_path / "그림.png"
    path.write_bytes(build.png(before=[build.itxt_chunk("parameters", PARAMETERS)]))
    assert_a1111(read_path(path))
    assert_a1111(read_path(str(path)))
