"""Every string the web UI shows, in English and Korean.

Each module here holds one area's strings as `EN` and `KO` dicts with the same keys; `common`
lands at the top level (`t.sign_out`), every other module under its own name
(`t.gallery.empty`). A unit test checks both languages have exactly the same keys.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

LANGUAGES = ("en", "ko")


@cache
def strings(lang: str) -> dict[str, Any]:
    """All strings of one language ("en" or "ko")."""
    merged: dict[str, Any] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        table = getattr(module, lang.upper())
        if info.name == "common":
            merged.update(table)
        else:
            merged[info.name] = table
    return merged


def areas() -> list[str]:
    """The names of the string modules."""
    return [m.name for m in pkgutil.iter_modules(__path__)]
