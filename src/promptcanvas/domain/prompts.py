"""The prompt: text plus everything that describes it; immutable once it has outputs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from promptcanvas.domain.diff import TextDiff, diff_words
from promptcanvas.domain.errors import Conflict, InvalidInput
from promptcanvas.domain.ids import new_id
from promptcanvas.domain.text import detect_language, normalize, normalize_label

MAX_TEXT = 32_000
MAX_LABEL = 100
MAX_TAGS = 64
MAX_AUTHOR = 200
MAX_NOTE = 2_000
_LANG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")


@dataclass
class Prompt:
    """A prompt owned by one user. `output_count` > 0 makes its wording immutable."""

    id: str
    owner_id: str
    text: str
    negative_text: str
    category: str | None
    tags: list[str]
    language: str
    created_at: datetime
    updated_at: datetime
    starred: bool = False
    rating: int | None = None
    author: str | None = None
    project_id: str | None = None
    parent_id: str | None = None
    note: str | None = None
    deleted_at: datetime | None = None
    output_count: int = 0
    pk: int | None = field(default=None, compare=False)

    @property
    def in_trash(self) -> bool:
        """True when the prompt was deleted and can still be restored."""
        return self.deleted_at is not None


def clean_text(value: str, field_name: str, *, required: bool) -> str:
    """Validate prompt or negative text: length and (for prompts) non-empty."""
    text = normalize(value)
    if required and not text:
        raise InvalidInput(f"{field_name} must not be empty", {"field": field_name})
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            f"{field_name} is {len(text)} characters; the limit is {MAX_TEXT}",
            {"field": field_name, "limit": MAX_TEXT},
        )
    if "\x00" in text:
        raise InvalidInput(f"{field_name} must not contain NUL characters", {"field": field_name})
    return text


def clean_label(value: str | None, field_name: str) -> str | None:
    """Validate a category-like label; empty means none."""
    if value is None:
        return None
    label = normalize_label(value)
    if not label:
        return None
    if len(label) > MAX_LABEL:
        raise InvalidInput(
            f"{field_name} is longer than {MAX_LABEL} characters", {"field": field_name}
        )
    if any(ord(ch) < 32 for ch in label):
        raise InvalidInput(
            f"{field_name} must not contain control characters", {"field": field_name}
        )
    return label


def clean_tags(values: list[str]) -> list[str]:
    """Normalise tags: case-folded, de-duplicated in order, each a valid label."""
    tags: list[str] = []
    for value in values:
        tag = clean_label(value, "tags")
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"a prompt can have at most {MAX_TAGS} tags", {"field": "tags"})
    return tags


def clean_language(value: str | None, text: str) -> str:
    """A given language code (validated) or one detected from the text."""
    if value is None or not value.strip():
        return detect_language(text)
    code = value.strip().lower()
    if not _LANG.match(code):
        raise InvalidInput("language must be a code such as 'en' or 'ko'", {"field": "language"})
    return code


def clean_rating(value: int | None) -> int | None:
    """Ratings are 0 to 5 stars, or none."""
    if value is not None and not 0 <= value <= 5:
        raise InvalidInput("rating must be between 0 and 5", {"field": "rating"})
    return value


def clean_optional(value: str | None, field_name: str, limit: int) -> str | None:
    """A free-text optional field with a length limit."""
    if value is None:
        return None
    text = normalize(value)
    if len(text) > limit:
        raise InvalidInput(f"{field_name} is longer than {limit} characters", {"field": field_name})
    return text or None


def new_prompt(
    *,
    owner_id: str,
    text: str,
    now: datetime,
    negative_text: str = "",
    category: str | None = None,
    tags: list[str] | None = None,
    language: str | None = None,
    starred: bool = False,
    rating: int | None = None,
    author: str | None = None,
    project_id: str | None = None,
    parent_id: str | None = None,
    note: str | None = None,
) -> Prompt:
    """Build a validated prompt."""
    clean = clean_text(text, "text", required=True)
    return Prompt(
        id=new_id(),
        owner_id=owner_id,
        text=clean,
        negative_text=clean_text(negative_text, "negative_text", required=False),
        category=clean_label(category, "category"),
        tags=clean_tags(tags or []),
        language=clean_language(language, clean),
        starred=starred,
        rating=clean_rating(rating),
        author=clean_optional(author, "author", MAX_AUTHOR),
        project_id=project_id,
        parent_id=parent_id,
        note=clean_optional(note, "note", MAX_NOTE),
        created_at=now,
        updated_at=now,
    )


WORDING_FIELDS = frozenset({"text", "negative_text"})


def ensure_editable(prompt: Prompt, changes: dict[str, object]) -> None:
    """Refuse edits of a trashed prompt, and wording edits of a prompt that has outputs."""
    if prompt.in_trash:
        raise Conflict("the prompt is in the trash; restore it first", {"prompt_id": prompt.id})
    wording = {
        name for name in WORDING_FIELDS & changes.keys() if changes[name] != getattr(prompt, name)
    }
    if wording and prompt.output_count > 0:
        raise Conflict(
            "this prompt has outputs, so its wording is immutable; create a revision instead "
            f"(POST /api/v1/prompts/{prompt.id}/revisions)",
            {"prompt_id": prompt.id, "fields": sorted(wording)},
        )


def revise(parent: Prompt, *, owner_id: str, now: datetime, **changes: object) -> Prompt:
    """A child revision: fields not given are inherited from the parent."""
    if parent.in_trash:
        raise Conflict("the prompt is in the trash; restore it first", {"prompt_id": parent.id})
    text = str(changes.get("text", parent.text))
    language = changes.get("language")
    if language is None and "text" in changes:
        language = None
    elif language is None:
        language = parent.language
    child = new_prompt(
        owner_id=owner_id,
        text=text,
        now=now,
        negative_text=str(changes.get("negative_text", parent.negative_text)),
        category=changes.get("category", parent.category),  # type: ignore[arg-type]
        tags=changes["tags"] if "tags" in changes else list(parent.tags),  # type: ignore[arg-type]
        language=language,  # type: ignore[arg-type]
        author=changes.get("author", parent.author),  # type: ignore[arg-type]
        project_id=parent.project_id,
        parent_id=parent.id,
        note=changes.get("note"),  # type: ignore[arg-type]
    )
    return replace(child, starred=False, rating=None)


@dataclass(frozen=True, slots=True)
class PromptDiff:
    """Everything that differs between two prompts."""

    from_id: str
    to_id: str
    text: TextDiff
    negative_text: TextDiff
    category_from: str | None
    category_to: str | None
    tags_added: tuple[str, ...]
    tags_removed: tuple[str, ...]
    tags_kept: tuple[str, ...]

    @property
    def identical(self) -> bool:
        """True when wording, category and tags are all the same."""
        return (
            self.text.identical
            and self.negative_text.identical
            and self.category_from == self.category_to
            and not self.tags_added
            and not self.tags_removed
        )


def diff_prompts(a: Prompt, b: Prompt) -> PromptDiff:
    """Diff prompt a (before) against prompt b (after)."""
    return PromptDiff(
        from_id=a.id,
        to_id=b.id,
        text=diff_words(a.text, b.text, label_a=a.id, label_b=b.id),
        negative_text=diff_words(a.negative_text, b.negative_text, label_a=a.id, label_b=b.id),
        category_from=a.category,
        category_to=b.category,
        tags_added=tuple(t for t in b.tags if t not in a.tags),
        tags_removed=tuple(t for t in a.tags if t not in b.tags),
        tags_kept=tuple(t for t in b.tags if t in a.tags),
    )
