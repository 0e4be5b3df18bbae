"""Word-level diff between two texts, aware of Korean and English word boundaries.

Text is split into tokens that keep every character (words, whitespace, punctuation), so
joining the `b` side of the operations gives back the second text exactly. Latin words and
numbers are one token each; Hangul/CJK runs are one token per eojeol, but a particle change
("강아지가" -> "강아지를") is shown at the syllable level by a second pass over replaced words.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

Op = Literal["equal", "insert", "delete", "replace"]

_TOKEN = re.compile(r"\s+|[^\W_]+|_+|[^\w\s]", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Split text into word, space and punctuation tokens; ''.join(tokens) == text."""
    return _TOKEN.findall(text)


@dataclass(frozen=True, slots=True)
class DiffOp:
    """One operation: the `a` text becomes the `b` text."""

    op: Op
    a: str
    b: str


@dataclass(frozen=True, slots=True)
class TextDiff:
    """A word-level diff plus a unified (line) form."""

    ops: tuple[DiffOp, ...]
    unified: str
    inserted_words: int
    deleted_words: int

    @property
    def identical(self) -> bool:
        """True when both texts are the same."""
        return all(op.op == "equal" for op in self.ops)


def _merge(ops: list[DiffOp]) -> list[DiffOp]:
    merged: list[DiffOp] = []
    for op in ops:
        if merged and merged[-1].op == op.op:
            last = merged[-1]
            merged[-1] = DiffOp(op.op, last.a + op.a, last.b + op.b)
        else:
            merged.append(op)
    return merged


def _coalesce(ops: list[DiffOp]) -> list[DiffOp]:
    """Fold 'replace, space, replace' into one replacement, as word-diff readers expect."""
    out: list[DiffOp] = []
    for op in ops:
        if (
            len(out) >= 2
            and op.op == "replace"
            and out[-1].op == "equal"
            and out[-1].a.isspace()
            and out[-2].op == "replace"
        ):
            space = out.pop()
            prev = out.pop()
            op = DiffOp("replace", prev.a + space.a + op.a, prev.b + space.b + op.b)
        out.append(op)
    return out


def _word_count(text: str) -> int:
    return sum(1 for tok in tokenize(text) if not tok.isspace() and re.match(r"[^\W_]", tok))


def diff_words(a: str, b: str, *, label_a: str = "a", label_b: str = "b") -> TextDiff:
    """Diff two texts at word level; returns operations covering both texts completely."""
    ta, tb = tokenize(a), tokenize(b)
    matcher = difflib.SequenceMatcher(None, ta, tb, autojunk=False)
    ops: list[DiffOp] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        sa, sb = "".join(ta[i1:i2]), "".join(tb[j1:j2])
        if tag == "replace" and i2 - i1 == 1 and j2 - j1 == 1:
            ops.extend(_refine(sa, sb))
        else:
            ops.append(DiffOp(tag, sa, sb))
    ops = _coalesce(_merge([op for op in ops if op.a or op.b]))
    lines = difflib.unified_diff(
        a.splitlines(), b.splitlines(), fromfile=label_a, tofile=label_b, lineterm=""
    )
    unified = "".join(line + "\n" for line in lines)
    inserted = sum(_word_count(op.b) for op in ops if op.op in ("insert", "replace"))
    deleted = sum(_word_count(op.a) for op in ops if op.op in ("delete", "replace"))
    return TextDiff(tuple(ops), unified, inserted, deleted)


def _refine(a: str, b: str) -> list[DiffOp]:
    """Within one replaced CJK word, keep the shared stem and show only the changed syllables."""
    if not (re.search(r"[\uac00-\ud7a3]", a) and re.search(r"[\uac00-\ud7a3]", b)):
        return [DiffOp("replace", a, b)]
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() < 0.5:
        return [DiffOp("replace", a, b)]
    return [DiffOp(tag, a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]


def apply_ops(ops: tuple[DiffOp, ...] | list[DiffOp]) -> tuple[str, str]:
    """Rebuild (a, b) from operations; used to check that a diff is complete."""
    return "".join(op.a for op in ops), "".join(op.b for op in ops)


def render_inline(ops: tuple[DiffOp, ...]) -> str:
    """git --word-diff style: [-deleted-]{+inserted+}."""
    out: list[str] = []
    for op in ops:
        if op.op == "equal":
            out.append(op.a)
        if op.op in ("delete", "replace") and op.a:
            out.append(f"[-{op.a}-]")
        if op.op in ("insert", "replace") and op.b:
            out.append(f"{{+{op.b}+}}")
    return "".join(out)
