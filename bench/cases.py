"""The questions search.py asks: keyword searches, filters, listings and their next pages."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from promptcanvas.services.library import SearchRequest

SEARCH_GOAL_MS = 30.0
LISTING_GOAL_MS = 15.0

# (label, query): from the most common words of the generated library to the rarest.
KEYWORDS = [
    ("ko 1 syllable", "밤"),
    ("ko 1 syllable", "꽃"),
    ("ko 2 syllables", "영상"),
    ("ko 2 syllables", "풍경"),
    ("ko 2 syllables", "노을"),
    ("ko 3+ syllables", "강아지"),
    ("ko 3+ syllables", "우주비행사"),
    ("ko 3+ syllables", "산타마을"),
    ("en word", "cinematic"),
    ("en word", "puppy"),
    ("en word", "fisherman"),
    ("en word", "axolotl"),
    ("en multi-word", "golden hour"),
    ("en multi-word", "old fisherman portrait"),
    ("ko multi-word", "귀여운 강아지"),
    ("ko multi-word", "눈 내리는 마을"),
    ("mixed", "고양이 anime"),
    ("mixed", "강아지 cinematic 35mm"),
    ("no match", "unicorn"),
    ("no match", "유니콘"),
]

SINCE = datetime(2025, 6, 1, tzinfo=UTC)
UNTIL = datetime(2025, 9, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    """One timed question; `like` says whether a LIKE scan answers it too."""

    name: str
    group: str
    goal_ms: float
    request: SearchRequest
    page: int = 1
    like: bool = True

    @property
    def sort(self) -> str:
        """The sort the service will use."""
        return self.request.sort or ("relevance" if self.request.q else "newest")


def build(project_id: str | None) -> list[Case]:
    """Every case, in the order they are reported."""
    cases: list[Case] = []
    for label, q in KEYWORDS:
        for sort in ("relevance", "newest"):
            cases.append(
                Case(f"{q!r} {sort}", label, SEARCH_GOAL_MS, SearchRequest(q=q, sort=sort))
            )
    filtered = [
        ("tag", "강아지", SearchRequest(tags=("portrait",))),
        ("category", "cinematic", SearchRequest(category="portrait")),
        ("category", "밤", SearchRequest(category="풍경")),
        ("starred", "풍경", SearchRequest(starred=True)),
        ("date range", "puppy", SearchRequest(since=SINCE, until=UNTIL)),
        ("tag+starred", "portrait", SearchRequest(tags=("sdxl",), starred=True)),
    ]
    for label, q, base in filtered:
        for sort in ("relevance", "newest"):
            request = replace(base, q=q, sort=sort)
            cases.append(
                Case(f"{q!r} + {label} {sort}", "keyword + filter", SEARCH_GOAL_MS, request)
            )
    for q in ("풍경", "cinematic"):
        for sort in ("relevance", "newest"):
            cases.append(
                Case(
                    f"{q!r} {sort} page 2",
                    "keyword next page",
                    SEARCH_GOAL_MS,
                    SearchRequest(q=q, sort=sort),
                    page=2,
                    like=False,
                )
            )
    listings = [
        ("all", SearchRequest()),
        ("tag portrait", SearchRequest(tags=("portrait",))),
        ("tag 크리스마스", SearchRequest(tags=("크리스마스",))),
        ("category 인물", SearchRequest(category="인물")),
        ("starred", SearchRequest(starred=True)),
        ("date range", SearchRequest(since=SINCE, until=UNTIL)),
    ]
    if project_id is not None:
        listings.append(("project", SearchRequest(project_id=project_id)))
    for label, request in listings:
        for page in (1, 2):
            cases.append(
                Case(
                    f"newest {label} page {page}",
                    "listing",
                    LISTING_GOAL_MS,
                    request,
                    page=page,
                    like=False,
                )
            )
    return cases
