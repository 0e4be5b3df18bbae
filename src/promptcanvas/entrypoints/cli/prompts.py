"""`promptcanvas prompts ...`: the library from the terminal (as a user, default admin)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from promptcanvas.bootstrap import Container
from promptcanvas.domain.errors import NotFound
from promptcanvas.domain.prompts import Prompt
from promptcanvas.entrypoints.api.schemas import (
    GenerationPublic,
    LineagePublic,
    PromptDetail,
    PromptDiffPublic,
    PromptPublic,
)
from promptcanvas.entrypoints.cli.common import console, container, print_json
from promptcanvas.services.library import SearchRequest
from promptcanvas.services.users import ADMIN

app = typer.Typer(help="Add, find, revise and diff prompts.", no_args_is_help=True)
UserOpt = Annotated[str, typer.Option("--user", "-u", help="Act as this user")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _owner(c: Container, name: str) -> str:
    try:
        return c.users.get_by_name(name).id
    except NotFound:
        if name != ADMIN:
            raise
    # The default user also exists before the first `serve`.
    return c.users.ensure_admin()[0].id


def _project_id(c: Container, owner: str, name: str | None) -> str | None:
    if not name:
        return None
    project = c.projects.find_by_name(owner, name)
    return project.id if project else c.projects.create_project(owner, name).id


def _table(prompts: list[Prompt]) -> Table:
    table = Table("id", "text", "tags", "lang", "created")
    for p in prompts:
        text = p.text if len(p.text) <= 70 else p.text[:69] + "…"
        table.add_row(
            p.id, text, ", ".join(p.tags), p.language, p.created_at.strftime("%Y-%m-%d %H:%M")
        )
    return table


@app.command("add")
def add(
    text: str,
    negative: Annotated[str, typer.Option("--negative", "-n")] = "",
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t")] = None,
    category: Annotated[str | None, typer.Option("--category", "-c")] = None,
    project: Annotated[str | None, typer.Option("--project", "-p", help="Project name")] = None,
    language: Annotated[str | None, typer.Option("--language")] = None,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Store a prompt."""
    with container() as c:
        owner = _owner(c, user)
        prompt = c.library.create_prompt(
            owner,
            text=text,
            negative_text=negative,
            tags=tag or [],
            category=category,
            project_id=_project_id(c, owner, project),
            language=language,
        )
    if as_json:
        print_json(PromptPublic.of(prompt))
    else:
        console.print(f"added {prompt.id}")


def _search(
    q: str | None,
    tag: list[str] | None,
    category: str | None,
    starred: bool | None,
    limit: int,
    user: str,
    as_json: bool,
) -> None:
    with container() as c:
        result = c.library.search(
            _owner(c, user),
            SearchRequest(
                q=q, tags=tuple(tag or []), category=category, starred=starred, limit=limit
            ),
        )
    if as_json:
        print_json(
            {
                "data": [PromptPublic.of(p).model_dump(mode="json") for p in result.items],
                "next_cursor": result.next_cursor,
            }
        )
    else:
        console.print(_table(result.items))


@app.command("list")
def list_(
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t")] = None,
    category: Annotated[str | None, typer.Option("--category", "-c")] = None,
    starred: Annotated[bool | None, typer.Option("--starred/--not-starred")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """List prompts, newest first."""
    _search(None, tag, category, starred, limit, user, as_json)


@app.command("search")
def search(
    query: str,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t")] = None,
    category: Annotated[str | None, typer.Option("--category", "-c")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Search prompts (Korean and English), best match first."""
    _search(query, tag, category, None, limit, user, as_json)


@app.command("show")
def show(prompt_id: str, user: UserOpt = "admin", as_json: JsonOpt = False) -> None:
    """Show one prompt, its outputs and its lineage."""
    with container() as c:
        owner = _owner(c, user)
        prompt, outputs = c.library.prompt_detail(owner, prompt_id)
        lineage = LineagePublic.of(prompt_id, c.library.lineage(owner, prompt_id))
    detail = PromptDetail(
        **PromptPublic.of(prompt).model_dump(),
        outputs=[GenerationPublic.of(o.generation, o.assets) for o in outputs],
    )
    if as_json:
        print_json({**detail.model_dump(mode="json"), "lineage": lineage.model_dump(mode="json")})
        return
    console.print(
        f"[bold]{prompt.id}[/bold]  {prompt.language}  {prompt.created_at:%Y-%m-%d %H:%M}"
    )
    console.print(prompt.text, markup=False)
    if prompt.negative_text:
        console.print(f"[dim]negative:[/dim] {prompt.negative_text}", highlight=False)
    if prompt.tags:
        console.print(f"[dim]tags:[/dim] {', '.join(prompt.tags)}")
    console.print(
        f"[dim]outputs:[/dim] {len(outputs)}   [dim]lineage:[/dim] "
        + " → ".join(n.id + (" *" if n.is_current else "") for n in lineage.data)
    )


@app.command("revise")
def revise(
    prompt_id: str,
    text: Annotated[str | None, typer.Option("--text")] = None,
    negative: Annotated[str | None, typer.Option("--negative", "-n")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t")] = None,
    category: Annotated[str | None, typer.Option("--category", "-c")] = None,
    note: Annotated[str | None, typer.Option("--note", "-m", help="What changed and why")] = None,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Create a revision of a prompt (fields not given are inherited)."""
    changes: dict[str, Any] = {}
    for name, value in (
        ("text", text),
        ("negative_text", negative),
        ("category", category),
        ("note", note),
    ):
        if value is not None:
            changes[name] = value
    if tag is not None:
        changes["tags"] = tag
    with container() as c:
        child = c.library.revise_prompt(_owner(c, user), prompt_id, changes)
    if as_json:
        print_json(PromptPublic.of(child))
    else:
        console.print(f"revised {prompt_id} → {child.id}")


@app.command("diff")
def diff(before: str, after: str, user: UserOpt = "admin", as_json: JsonOpt = False) -> None:
    """Word-level diff between two prompts."""
    with container() as c:
        result = PromptDiffPublic.of(c.library.diff(_owner(c, user), after, before))
    if as_json:
        print_json(result)
        return
    for op in result.text.ops:
        if op.op == "equal":
            console.print(op.a, end="", markup=False, highlight=False)
        if op.op in ("delete", "replace"):
            console.print(f"[red strike]{op.a}[/red strike]", end="", highlight=False)
        if op.op in ("insert", "replace"):
            console.print(f"[green]{op.b}[/green]", end="", highlight=False)
    console.print()
    if result.tags.added or result.tags.removed:
        console.print(f"tags: +{result.tags.added} -{result.tags.removed}")
    if result.category.changed:
        console.print(f"category: {result.category.before} → {result.category.after}")
