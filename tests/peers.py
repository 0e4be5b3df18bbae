"""sd-parsers, the peer reader the interop tests check our files against.

sd-parsers 0.6 caches the last image's EXIF UserComment and stealth payload in module globals
keyed by `id(image)`. CPython reuses an id as soon as the previous image is freed, so a second
parse can return the previous file's text: a hypothesis run once read back another example's
prompt from a JPEG and failed only on that draw. `sd_parse` clears those caches first, so each
call answers for its own file alone (the interop benchmark does the same).
"""

from __future__ import annotations

import io
from pathlib import Path

from sd_parsers import ParserManager
from sd_parsers.data import PromptInfo
from sd_parsers.extractors import _jpeg_usercomment, _png_stenographic_alpha


def sd_parse(image: bytes | str | Path) -> PromptInfo | None:
    """What sd-parsers reads from a file's bytes or path, without a previous file's cache."""
    for module in (_jpeg_usercomment, _png_stenographic_alpha):
        module._image_id = None  # type: ignore[attr-defined]
    source = io.BytesIO(image) if isinstance(image, bytes) else image
    return ParserManager().parse(source)
