"""The prompt page: wording, outputs by model/version, lineage and diff, edit, generate, rate."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from promptcanvas.domain.errors import NotFound
from promptcanvas.domain.users import User
from promptcanvas.entrypoints.api.deps import ContainerDep
from promptcanvas.entrypoints.web import compare_pages
from promptcanvas.entrypoints.web.base import PageUser, render
from promptcanvas.entrypoints.web.prompt_views import (
    diff_view,
    grouped,
    image_targets,
    iso,
    lineage_tree,
    output_view,
    prompt_only_text,
)

router = APIRouter(include_in_schema=False)
router.include_router(compare_pages.router)


def not_found(request: Request, c: ContainerDep, user: User) -> HTMLResponse:
    """The friendly 404 page (unknown id, or someone else's)."""
    return render(request, c, "not_found.html", user=user, status=404)


@router.get("/prompts/new", response_class=HTMLResponse)
def new_prompt_page(request: Request, c: ContainerDep, user: PageUser) -> HTMLResponse:
    """Write a new prompt; saving goes to its page, where it can be generated."""
    projects = c.projects.list_projects(user.id)
    chosen = request.query_params.get("project_id", "")
    return render(
        request, c, "prompt_new.html", user=user, nav="gallery", projects=projects, chosen=chosen
    )


@router.get("/prompts/{prompt_id}", response_class=HTMLResponse)
def prompt_page(prompt_id: str, request: Request, c: ContainerDep, user: PageUser) -> HTMLResponse:
    """One prompt with everything it produced and where it came from."""
    try:
        prompt, outputs = c.library.prompt_detail(user.id, prompt_id)
        nodes = c.library.lineage(user.id, prompt_id)
    except NotFound:
        return not_found(request, c, user)
    in_lineage = {n.prompt.id for n in nodes}
    diff = None
    if prompt.parent_id and prompt.parent_id in in_lineage:
        try:
            diff = diff_view(c.library.diff(user.id, prompt.id, prompt.parent_id))
        except NotFound:
            diff = None
    groups = grouped(prompt, outputs)
    newest_ok = next((o for g in reversed(groups) for o in reversed(g["outputs"]) if o["ok"]), None)
    targets = image_targets(c.registry)
    latest = outputs[-1].generation if outputs else None
    chosen = _chosen_target(targets, latest.provider, latest.model) if latest else 0
    images = sum(1 for g in groups for o in g["outputs"] if o["image"])
    by_id = {n.prompt.id: n.prompt for n in nodes}
    earlier, parent = 0, by_id.get(prompt.parent_id or "")
    while parent is not None and earlier == 0:  # an earlier revision's output to compare with
        earlier, parent = parent.output_count, by_id.get(parent.parent_id or "")
    script: dict[str, Any] = {
        "id": prompt.id,
        "text": prompt.text,
        "negative_text": prompt.negative_text,
        "tags": prompt.tags,
        "category": prompt.category or "",
        "targets": targets,
        "earlier_outputs": earlier,
    }
    return render(
        request,
        c,
        "prompt.html",
        user=user,
        nav="gallery",
        prompt=prompt,
        created=iso(prompt.created_at),
        updated=iso(prompt.updated_at),
        groups=groups,
        tree=lineage_tree(nodes, prompt.id),
        revisions=len(nodes),
        diff=diff,
        targets=targets,
        chosen_target=chosen,
        copy_text=newest_ok["a1111"] if newest_ok else prompt_only_text(prompt),
        can_compare=images >= 2 or (images >= 1 and earlier > 0),
        script=script,
    )


@router.get("/prompts/{prompt_id}/outputs/{generation_id}", response_class=HTMLResponse)
def output_fragment(
    prompt_id: str, generation_id: str, request: Request, c: ContainerDep, user: PageUser
) -> HTMLResponse:
    """One output's card as an HTML fragment, for the page to insert when a job ends."""
    try:
        prompt, outputs = c.library.prompt_detail(user.id, prompt_id)
    except NotFound:
        return not_found(request, c, user)
    found = next((o for o in outputs if o.generation.id == generation_id), None)
    if found is None:
        return not_found(request, c, user)
    return render(request, c, "_prompt_output.html", user=user, output=output_view(prompt, found))


def _chosen_target(targets: list[dict[str, Any]], provider: str, model: str | None) -> int:
    """The index of the target the prompt last ran on (the form's default), else 0."""
    for i, t in enumerate(targets):
        if t["provider"] == provider and t["model"] == model:
            return i
    return 0
