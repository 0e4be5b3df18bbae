"""Draw a labelled comparison grid (rows = prompts, columns = targets), like A1111's X/Y plot.

Labels need a font with Hangul for Korean prompts. The first of KOREAN_FONTS that exists is
used, else any font fontconfig says covers Korean, else Pillow's built-in font, which has
no Hangul (Korean text then shows as boxes; install fonts-noto-cjk or fonts-nanum).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

FONT_SIZE = 14
PAD = 6
LABEL_WIDTH = 240  # the prompt column on the left
HEADER_HEIGHT = 2 * PAD + 2 * FONT_SIZE  # the target row on top
BACKGROUND = (255, 255, 255)
EMPTY_CELL = (200, 200, 200)
INK = (20, 20, 20)
FAINT = (110, 110, 110)
KOREAN_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/nanum/NanumGothic.ttf",
    "/System/Library/Fonts/AppleSDGothicNeo.ttc",
    "C:/Windows/Fonts/malgun.ttf",
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class Row:
    """One prompt: its label and one image per column (None = no output there)."""

    label: str
    cells: list[Image.Image | None]


def _fontconfig_korean() -> str | None:
    """A font file fontconfig lists as covering Korean, if fontconfig is installed."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        listed = subprocess.run(
            [fc_list, ":lang=ko", "file"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(line.strip().rstrip(":") for line in listed.splitlines() if line.strip())
    return files[0] if files else None


@cache
def label_font(size: int = FONT_SIZE) -> Font:
    """A font for labels: one with Hangul when the system has one."""
    path = next((p for p in KOREAN_FONTS if os.path.isfile(p)), None) or _fontconfig_korean()
    if path is not None:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    return ImageFont.load_default(size=size)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> str:
    """The text, cut with an ellipsis to fit the width."""
    if draw.textlength(text, font=font) <= width:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with the ellipsis
        mid = (low + high + 1) // 2
        if draw.textlength(text[:mid] + "…", font=font) <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + "…"


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int, lines: int) -> list[str]:
    """Up to `lines` lines of the text; the last one ends in an ellipsis if text is left."""
    words = " ".join(text.split()).split(" ")
    out: list[str] = []
    current = ""
    for i, word in enumerate(words):
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= width or not current:
            current = candidate
            continue
        out.append(current)
        current = word
        if len(out) == lines - 1:
            current = " ".join(words[i:])
            break
    out.append(current)
    if len(out) > lines:
        out = out[:lines]
    out[-1] = _fit(draw, out[-1], font, width)
    return [line for line in out if line]


def render_grid(columns: list[str], rows: list[Row], cell: int) -> bytes:
    """The grid as PNG bytes: (LABEL_WIDTH + cols * cell) x (HEADER_HEIGHT + rows * cell)."""
    font = label_font()
    width = LABEL_WIDTH + len(columns) * cell
    height = HEADER_HEIGHT + len(rows) * cell
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for c, label in enumerate(columns):
        x = LABEL_WIDTH + c * cell
        draw.text((x + PAD, PAD), _fit(draw, label, font, cell - 2 * PAD), font=font, fill=INK)
    line_height = FONT_SIZE + 4
    max_lines = max(1, (cell - 2 * PAD) // line_height)
    for r, row in enumerate(rows):
        y = HEADER_HEIGHT + r * cell
        text_lines = _wrap(draw, row.label, font, LABEL_WIDTH - 2 * PAD, max_lines)
        for i, line in enumerate(text_lines):
            draw.text((PAD, y + PAD + i * line_height), line, font=font, fill=INK)
        for c, image in enumerate(row.cells):
            x = LABEL_WIDTH + c * cell
            if image is None:
                draw.rectangle((x + 1, y + 1, x + cell - 2, y + cell - 2), fill=EMPTY_CELL)
                # A drawn dash: the fallback font has no "—" glyph.
                half, mid = max(3, cell // 10), y + cell // 2
                draw.line((x + cell // 2 - half, mid, x + cell // 2 + half, mid), FAINT, 2)
                continue
            fitted = ImageOps.contain(image.convert("RGB"), (cell - 2, cell - 2))
            canvas.paste(fitted, (x + (cell - fitted.width) // 2, y + (cell - fitted.height) // 2))
    out = io.BytesIO()
    canvas.save(out, "PNG", optimize=False)
    return out.getvalue()
