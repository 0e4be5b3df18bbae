"""The gallery (`/`) and the timeline: the first page server-rendered, the rest by gallery.js.

Filters travel in the URL (a GET form), so a filtered view can be bookmarked and shared.
Dates picked in the form are days in the browser's time zone (the `pc_tz` cookie that
gallery.js keeps), turned into UTC instants before they reach the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from promptcanvas.domain.errors import BadRequest, InvalidInput, NotFound
from promptcanvas.domain.users import User
from promptcanvas.entrypoints.api.deps import ContainerDep
from promptcanvas.entrypoints.web.base import PageUser, render
from promptcanvas.ports.gallery import Output
from promptcanvas.services.gallery import DEFAULT_LIMIT, MAX_LIMIT, OutputFilters, OutputsPage

router = APIRouter(include_in_schema=False)

TZ_COOKIE = "pc_tz"
TEXT_FIELDS = ("q", "tag", "category", "project_id", "provider", "model", "model_version")
FILTER_FIELDS = (*TEXT_FIELDS[1:], "since", "until", "starred", "collapse")
YES = ("1", "true", "on", "yes")
EAGER_IMAGES = 12  # the first screenful loads at once; the rest lazily


@dataclass
class View:
    """What a gallery or timeline request asked for, as the form shows it and the API takes it."""

    form: dict[str, str]
    filters: OutputFilters | None = None
    api: dict[str, str] = field(default_factory=dict)
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    error: str | None = None
    status: int = 200


def zone(request: Request) -> tzinfo:
    """The browser's time zone (from the cookie gallery.js sets), else UTC."""
    name = request.cookies.get(TZ_COOKIE, "")
    if not name or len(name) > 64 or ".." in name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _day(value: str, name: str, where: tzinfo, *, end: bool) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a date (YYYY-MM-DD)", {"field": name}) from None
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(), where).astimezone(UTC)


def read_view(request: Request, *, timeline: bool = False) -> View:
    """The request's filters; a bad value leaves `error` set instead of raising."""
    params = request.query_params
    form = {name: params.get(name, "").strip() for name in (*TEXT_FIELDS, "since", "until")}
    form["starred"] = "true" if params.get("starred", "").lower() in YES else ""
    form["trashed"] = "true" if params.get("trashed", "").lower() in YES else ""
    form["collapse"] = "near" if params.get("collapse") == "near" else ""
    form["sort"] = params.get("sort", "")
    view = View(form=form)
    if timeline:
        form["sort"] = "oldest" if form["sort"] == "oldest" else "newest"
    try:
        raw_limit = params.get("limit", "")
        view.limit = int(raw_limit) if raw_limit else DEFAULT_LIMIT
        if not 1 <= view.limit <= MAX_LIMIT:
            raise ValueError
    except ValueError:
        view.error, view.status = f"limit must be between 1 and {MAX_LIMIT}", 422
        return view
    try:
        where = zone(request)
        since = _day(form["since"], "since", where, end=False)
        until = _day(form["until"], "until", where, end=True)
    except InvalidInput as exc:
        view.error, view.status = exc.message, 422
        return view
    sort = form["sort"] or None
    view.filters = OutputFilters(
        q=form["q"] or None,
        **{name: form[name] or None for name in TEXT_FIELDS[1:]},
        since=since,
        until=until,
        starred=True if form["starred"] else None,
        trashed=bool(form["trashed"]),
        sort=sort,  # type: ignore[arg-type]  # the service refuses unknown sorts (422)
        collapse="near" if form["collapse"] else None,
    )
    view.cursor = params.get("cursor") or None
    api = {k: v for k, v in form.items() if v and k not in ("since", "until")}
    if since:
        api["since"] = since.isoformat()
    if until:
        api["until"] = until.isoformat()
    api["limit"] = str(view.limit)
    view.api = api
    return view


def load(c: ContainerDep, user: User, view: View) -> OutputsPage | None:
    """The page the view asks for; on a bad filter or cursor, None with the error set."""
    if view.filters is None:
        return None
    try:
        return c.gallery.list_outputs(user.id, view.filters, cursor=view.cursor, limit=view.limit)
    except (InvalidInput, BadRequest, NotFound) as exc:
        view.error = exc.message
        view.status = 400 if isinstance(exc, BadRequest) else 422
        return None


def next_url(path: str, view: View, page: OutputsPage | None) -> str | None:
    """The no-script "load more" link: the same filters from the next cursor."""
    if page is None or page.next_cursor is None:
        return None
    query = {k: v for k, v in view.form.items() if v}
    if view.limit != DEFAULT_LIMIT:
        query["limit"] = str(view.limit)
    query["cursor"] = page.next_cursor
    return f"{path}?{urlencode(query)}"


def rerun_targets(c: ContainerDep) -> list[dict[str, str]]:
    """Image models to re-run on: one choice per provider, model and version."""
    targets = []
    for provider in c.registry.describe():
        for model in provider["models"]:
            if model["kind"] != "image":
                continue
            for version in model["versions"] or [None]:
                label = f"{provider['name']} · {model['name']}" + (f"@{version}" if version else "")
                targets.append(
                    {
                        "provider": provider["name"],
                        "model": model["name"],
                        "model_version": version or "",
                        "label": label,
                    }
                )
    return targets


def _config(v: View, page: OutputsPage | None, **extra: Any) -> dict[str, Any]:
    return {
        "api": v.api,
        "next_cursor": page.next_cursor if page else None,
        "trashed": bool(v.form["trashed"]),
        **extra,
    }


def gallery_page(request: Request, c: ContainerDep, user: User) -> HTMLResponse:
    """The signed-in start page: the owner's outputs, filtered and searched."""
    view = read_view(request)
    page = load(c, user, view)
    facets = c.gallery.facets(user.id)
    projects = c.projects.list_projects(user.id)
    filtered = any(view.form[name] for name in FILTER_FIELDS) or bool(view.form["q"])
    active = sum(1 for name in FILTER_FIELDS if view.form[name])
    targets = rerun_targets(c)
    return render(
        request,
        c,
        "gallery.html",
        user=user,
        nav="gallery",
        status=view.status,
        q=view.form["q"],
        view=view,
        form=view.form,
        page=page,
        items=page.items if page else [],
        sort=page.sort if page else (view.form["sort"] or "newest"),
        filtered=filtered,
        active_filters=active,
        facets=facets,
        # Tag and category suggestions cost a scan of every prompt: only when the filters
        # open with the page; otherwise gallery.js fetches them when the panel is opened.
        tags=c.library.tags(user.id)[:500] if active else [],
        categories=c.library.categories(user.id)[:500] if active else [],
        projects=projects,
        targets=targets,
        next_url=next_url("/", view, page),
        eager=EAGER_IMAGES,
        config=_config(view, page, view="gallery", targets=targets),
    )


@dataclass
class ProjectGroup:
    """A run of one day's outputs in one project."""

    project_id: str | None
    items: list[Output]


@dataclass
class Day:
    """One local day of the timeline."""

    key: str  # YYYY-MM-DD in the viewer's zone
    noon: str  # an ISO instant inside that day, for <time data-format="day">
    groups: list[ProjectGroup]


def group_by_day(items: list[Output], where: tzinfo) -> list[Day]:
    """Outputs by local day, and within a day by project in order of first appearance."""
    days: list[Day] = []
    for item in items:
        local = item.created_at.astimezone(where)
        key = local.date().isoformat()
        if not days or days[-1].key != key:
            noon = datetime.combine(local.date(), time(12), where).isoformat()
            days.append(Day(key, noon, []))
        day = days[-1]
        group = next((g for g in day.groups if g.project_id == item.project_id), None)
        if group is None:
            group = ProjectGroup(item.project_id, [])
            day.groups.append(group)
        group.items.append(item)
    return days


@router.get("/timeline", response_class=HTMLResponse)
def timeline_page(request: Request, c: ContainerDep, user: PageUser) -> HTMLResponse:
    """Outputs grouped by day and by project: the creative journey in order."""
    view = read_view(request, timeline=True)
    page = load(c, user, view)
    where = zone(request)
    names = {p.id: p.name for p in c.projects.list_projects(user.id)}
    tz_name = getattr(where, "key", "UTC")
    return render(
        request,
        c,
        "timeline.html",
        user=user,
        nav="timeline",
        status=view.status,
        view=view,
        form=view.form,
        page=page,
        days=group_by_day(page.items if page else [], where),
        project_names=names,
        next_url=next_url("/timeline", view, page),
        eager=EAGER_IMAGES,
        config=_config(view, page, view="timeline", tz=tz_name, projects=names),
    )
