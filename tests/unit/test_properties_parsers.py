"""The metadata readers take anything: arbitrary text and damaged PNG/JPEG bytes give a record,
"no metadata", or (for bytes that are no image) UnsupportedMedia, never another exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptcanvas.domain.errors import UnsupportedMedia
from promptcanvas.services.metadata import a1111
from promptcanvas.services.metadata.reader import read_metadata
from promptcanvas.services.metadata.record import GenerationMetadata
from tests import metadata_builders as build

PARAMETERS = "a fox in the snow\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, Seed: 42"
# Text that looks like a parameters block in parts: the parser's branches, then noise.
pieces = st.sampled_from(
    [
        "Steps: ",
        "Negative prompt:",
        ", ",
        ": ",
        '"',
        "\\",
        "\n",
        "<lora:",
        ">",
        "Hashes: {",
        "}",
        "Seed: 1e999",
        "Size: 512x",
        "Template: ",
        "여우",
        "\x00",
    ]
)
parameter_texts = st.one_of(
    st.text(max_size=400),
    st.lists(st.one_of(pieces, st.text(max_size=12)), max_size=40).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(parameter_texts)
def test_a1111_parameters_parser_never_raises(text: str) -> None:
    record = a1111.parse_parameters(text)
    assert isinstance(record, GenerationMetadata)
    parsed = a1111.parse({"parameters": text})
    assert parsed is None or isinstance(parsed, GenerationMetadata)


def _images() -> list[bytes]:
    exif = build.exif_with_comment(PARAMETERS)
    return [
        build.png(after=[build.text_chunk("parameters", PARAMETERS)]),
        build.png(before=[build.itxt_chunk("parameters", PARAMETERS)]),
        build.jpeg(exif=exif, xmp=build.xmp_packet({"dc:description": PARAMETERS})),
    ]


IMAGES = _images()


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A real PNG or JPEG with parameters, then cut, overwritten and spliced at random."""
    data = bytearray(draw(st.sampled_from(IMAGES)))
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[at : at + draw(st.integers(1, 64))]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(damaged(), st.binary(max_size=256)))
def test_image_reader_never_raises_anything_but_unsupported_media(data: bytes) -> None:
    try:
        record = read_metadata(data)
    except UnsupportedMedia as exc:
        assert exc.message  # a clear reason for the caller
        return
    assert isinstance(record, GenerationMetadata)


def test_the_undamaged_images_are_read() -> None:
    for data in IMAGES:
        record = read_metadata(data)
        assert record.prompt == "a fox in the snow", record
