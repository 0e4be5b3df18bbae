"""Every expected value in the shared sample files (fixtures/metadata/expected.json) is read."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from promptcanvas.domain.errors import UnsupportedMedia
from promptcanvas.services.metadata.reader import read_metadata
from promptcanvas.services.metadata.record import NO_METADATA, GenerationMetadata

# The repository is cloned with shared/ beside it (as CI does too).
FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "metadata"
EXPECTED: dict[str, Any] = (
    json.loads((FIXTURES / "expected.json").read_text()) if FIXTURES.is_dir() else {}
)
CASES = sorted(name for name in EXPECTED if not name.startswith("_"))


def same(actual: Any, expected: Any) -> bool:
    """Equal, with numbers compared as numbers (5 == 5.0) but never a string for a number."""
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        return actual == expected and type(actual) is type(expected)
    if isinstance(expected, int | float):
        return (
            isinstance(actual, int | float) and not isinstance(actual, bool) and actual == expected
        )
    return bool(actual == expected)


def mismatches(record: GenerationMetadata, expected: dict[str, Any]) -> list[str]:
    """Every expected field the record gets wrong, as readable lines."""
    wrong = []
    for key, value in expected.items():
        if key.startswith("_"):
            continue
        if key == "parameters_text_file":
            text = (FIXTURES / value).read_text(encoding="utf-8")
            if record.raw.get("parameters") != text:
                wrong.append(f"raw['parameters'] != {value}")
        elif key == "prompt_chunk_json_file":
            graph = json.loads((FIXTURES / value).read_text(encoding="utf-8"))
            if json.loads(record.raw.get("prompt", "null")) != graph:
                wrong.append(f"raw['prompt'] is not the JSON of {value}")
        elif key == "samplers":
            passes = [asdict(p) for p in record.samplers]
            for want in value:
                if not any(all(same(p.get(k), v) for k, v in want.items()) for p in passes):
                    wrong.append(f"no sampler pass matches {want}; got {passes}")
        elif not same(getattr(record, key), value):
            wrong.append(f"{key}: got {getattr(record, key)!r}, expected {value!r}")
    return wrong


@pytest.mark.parametrize("name", CASES)
def test_sample_file_gives_every_expected_value(name: str) -> None:
    expected = EXPECTED[name]
    data = (FIXTURES / name).read_bytes()
    if "error" in expected:
        with pytest.raises(UnsupportedMedia) as raised:
            read_metadata(data)
        assert expected["error"] in raised.value.message
        return
    record = read_metadata(data)
    assert mismatches(record, expected) == []
    if expected.get("generator", "") is None:
        assert record.to_dict()["message"] == NO_METADATA
    else:
        # Nothing is dropped: every text the file carries is kept verbatim in `raw`.
        assert record.raw, "raw is empty"


def test_every_sample_file_has_an_expectation() -> None:
    assert FIXTURES.is_dir(), f"{FIXTURES} is missing: shared/ must sit beside the repository"
    images = {p.name for p in FIXTURES.iterdir() if p.suffix in (".png", ".jpg", ".webp")}
    assert images == set(CASES)
