"""The text-format parsers (A1111 family, NovelAI, InvokeAI, Fooocus, SwarmUI) on the case corpus.

Each file under tests/metadata_corpus/<format>/ holds the carrier texts a reader hands over and
the record expected from them; cases under none/ are claimed by no parser. Scalar fields not
listed in "expected" must be None, `loras` [] and `extra` {} ("extra_includes" checks a subset).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptcanvas.services.metadata import a1111, fooocus, invokeai, novelai, swarmui
from promptcanvas.services.metadata.record import GenerationMetadata

CORPUS = Path(__file__).resolve().parent.parent / "metadata_corpus"
PARSERS = {
    "a1111": a1111.parse,
    "novelai": novelai.parse,
    "invokeai": invokeai.parse,
    "fooocus": fooocus.parse,
    "swarmui": swarmui.parse,
}
SCALARS = (
    "generator",
    "prompt",
    "negative_prompt",
    "seed",
    "steps",
    "sampler",
    "scheduler",
    "cfg_scale",
    "denoise",
    "model",
    "model_hash",
    "width",
    "height",
)
CARRIER_KEYS = [
    "parameters",
    "Comment",
    "Description",
    "Software",
    "Source",
    "invokeai_metadata",
    "sd-metadata",
    "Dream",
    "sui_image_params",
    "fooocus_scheme",
    "exif:UserComment",
    "exif:Software",
    "stealth",
]


def _texts(raw: dict[str, Any]) -> dict[str, str]:
    # Other helpers' corpus folders (ComfyUI) store graphs as JSON objects, not strings.
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}


def _cases(*, ours: bool) -> list[Any]:
    found = []
    for path in sorted(CORPUS.glob("*/*.json")):
        family = path.parent.name
        if (family in PARSERS) == ours:
            found.append(pytest.param(path, id=f"{family}/{path.stem}"))
    return found


OUR_CASES = _cases(ours=True)
OTHER_CASES = _cases(ours=False)


def _load(path: Path) -> tuple[str, dict[str, str], dict[str, Any]]:
    case = json.loads(path.read_text(encoding="utf-8"))
    return path.parent.name, _texts(case["texts"]), case.get("expected", {})


def test_the_corpus_is_wide_enough() -> None:
    families = [case.values[0].parent.name for case in OUR_CASES]
    assert len(families) >= 40
    assert {name: families.count(name) >= 5 for name in PARSERS} == dict.fromkeys(PARSERS, True)
    assert len([c for c in OTHER_CASES if c.values[0].parent.name == "none"]) >= 5


@pytest.mark.parametrize("path", OUR_CASES)
def test_case_reads_as_expected(path: Path) -> None:
    family, texts, expected = _load(path)
    record = PARSERS[family](texts)
    assert record is not None, f"{family} did not recognise its own sample"
    got = asdict(record)
    for field in SCALARS:
        assert got[field] == expected.get(field), field
        if isinstance(expected.get(field), int | float) and not isinstance(expected[field], bool):
            assert type(got[field]) is type(expected[field]) or field == "cfg_scale", field
    assert got["loras"] == expected.get("loras", [])
    if "extra_includes" in expected:
        for key, value in expected["extra_includes"].items():
            assert got["extra"][key] == value, key
    else:
        assert got["extra"] == expected.get("extra", {})
    assert got["raw"] == {}  # the reader fills it
    json.dumps(record.to_dict())  # the record stays JSON-ready


@pytest.mark.parametrize("path", OUR_CASES + OTHER_CASES)
def test_formats_do_not_claim_each_others_files(path: Path) -> None:
    family, texts, _ = _load(path)
    claimed = {name for name, parse in PARSERS.items() if parse(texts) is not None}
    assert claimed == ({family} if family in PARSERS else set())


def test_parse_parameters_reads_any_text() -> None:
    record = a1111.parse_parameters("just a prompt\nover two lines")
    assert (record.generator, record.prompt, record.steps) == (
        "AUTOMATIC1111",
        "just a prompt\nover two lines",
        None,
    )
    assert a1111.parse({"parameters": "just a prompt\nover two lines"}) is None


def test_split_settings_keeps_quoted_and_json_values() -> None:
    pairs = a1111.split_settings(
        'Steps: 20, Note: "a, b: \\"c\\"", Hashes: {"model": "x, y"}, List: [1, 2], Empty: , End: 1'
    )
    assert pairs == [
        ("Steps", "20"),
        ("Note", 'a, b: "c"'),
        ("Hashes", {"model": "x, y"}),
        ("List", [1, 2]),
        ("Empty", ""),
        ("End", "1"),
    ]
    assert a1111.split_settings("masterpiece, best quality, (cat:1.2)") is None


def test_fixture_text_chunks_match_expected_values() -> None:
    """The shared fixtures' PNG text chunks give the values their projects' tests assert."""
    folder = Path("/work/shared/fixtures/metadata")
    if not folder.is_dir():
        pytest.skip("the shared fixtures are not on this machine")
    from PIL import Image

    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    names = ["a1111.png", "a1111_full.png", "fooocus.png", "novelai.png"]
    names += ["invokeai_dream.png", "invokeai_metadata.png", "invokeai_sdmetadata.png"]
    for name in names:
        with Image.open(folder / name) as image:
            texts = {k: v for k, v in image.info.items() if isinstance(v, str)}
        records = [r for r in (parse(texts) for parse in PARSERS.values()) if r is not None]
        assert len(records) == 1, name
        got = asdict(records[0])
        for field, value in expected[name].items():
            if field in got:
                assert got[field] == value, (name, field)
    text = (folder / "a1111_full.parameters.txt").read_text(encoding="utf-8")
    full = a1111.parse({"parameters": text})
    assert full is not None and full.prompt is not None and full.prompt.startswith("score_9")
    assert full.extra["Style Selector Style"] == "base"


_junk = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        ['{"', "[", "null", "{}", '"x"', "Steps: ", "Negative prompt:", "<lora:", '"a" -s']
    ).flatmap(lambda head: st.text(max_size=80).map(lambda tail: head + tail)),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(CARRIER_KEYS), _junk, max_size=5))
def test_garbage_never_raises(texts: dict[str, str]) -> None:
    for parse in PARSERS.values():
        record = parse(texts)
        assert record is None or isinstance(record, GenerationMetadata)


@pytest.mark.parametrize(
    "texts",
    [
        {"parameters": "a\nSteps: 20, Sampler: Euler, Hashes: " + "[" * 100_000},
        {"parameters": "[" * 100_000, "sui_image_params": "{" * 100_000},
        {"Software": "NovelAI", "Comment": '{"seed": "' + "1" * 5000 + '"}'},
        {"sui_image_params": '{"seed": "' + "1" * 5000 + '", "width": 1e999}'},
        {"Dream": '"x" -S ' + "1" * 5000, "sd-metadata": '{"image": {"prompt": [[[]]]}}'},
        {"parameters": '{"base_model": "m", "guidance_scale": {}, "loras": [[1, 2], "x"]}'},
    ],
    ids=["deep-json-value", "deep-json", "long-number", "long-seed", "long-dream", "odd-types"],
)
def test_pathological_values_never_raise(texts: dict[str, str]) -> None:
    for parse in PARSERS.values():
        parse(texts)
    a1111.parse_parameters(texts.get("parameters", ""))


def test_unreadable_numbers_are_kept_as_written() -> None:
    record = a1111.parse({"parameters": "a\nSteps: " + "1" * 500 + ", Sampler: Euler, Size: 9x"})
    assert record is not None and record.steps is None and record.width is None
    assert record.extra == {"Steps": "1" * 500, "Size": "9x"}


@pytest.mark.parametrize("path", OUR_CASES)
def test_truncated_samples_never_raise(path: Path) -> None:
    _, texts, _ = _load(path)
    for key, value in texts.items():
        for cut in range(0, len(value), max(1, len(value) // 25)):
            for parse in PARSERS.values():
                parse({**texts, key: value[:cut]})
