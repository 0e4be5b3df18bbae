"""Every web UI string exists in English and Korean."""

from __future__ import annotations

import importlib

import pytest

from promptcanvas.entrypoints.web import strings


@pytest.mark.parametrize("area", strings.areas())
def test_both_languages_have_the_same_keys(area: str) -> None:
    module = importlib.import_module(f"promptcanvas.entrypoints.web.strings.{area}")
    assert set(module.EN) == set(module.KO), area
    for key, value in module.KO.items():
        assert isinstance(value, str) and value.strip(), (area, key)


def test_korean_strings_are_korean() -> None:
    ko = strings.strings("ko")
    assert ko["nav_gallery"] == "갤러리"
    assert strings.strings("en")["nav_gallery"] == "Gallery"
