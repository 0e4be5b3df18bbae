"""`promptcanvas users ...` and `promptcanvas keys ...`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from promptcanvas.entrypoints.cli.common import console, container, print_json

users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


@users_app.command("add")
def add_user(name: str, admin: Annotated[bool, typer.Option(help="Make an admin")] = False) -> None:
    """Create a user."""
    with container() as c:
        user = c.users.add_user(name, is_admin=admin)
        console.print(f"created user [bold]{user.name}[/bold] ({user.id})")


@users_app.command("list")
def list_users(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List users."""
    with container() as c:
        users = c.users.list_users()
    if as_json:
        print_json(
            [
                {
                    "id": u.id,
                    "name": u.name,
                    "is_admin": u.is_admin,
                    "created_at": u.created_at.isoformat(),
                }
                for u in users
            ]
        )
        return
    table = Table("name", "id", "admin", "created")
    for u in users:
        table.add_row(u.name, u.id, "yes" if u.is_admin else "", u.created_at.isoformat())
    console.print(table)


@users_app.command("login-link")
def login_link(name: str) -> None:
    """Print a one-time, short-lived link that signs a browser in as the user."""
    with container() as c:
        token = c.users.create_login_token(name)
        typer.echo(f"{c.settings.base_url}/auth/login?token={token}")


@keys_app.command("create")
def create_key(
    user: Annotated[str, typer.Option("--user", help="User name")],
    name: Annotated[str | None, typer.Option("--name", help="A label for the key")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create an API key; it is shown once and only its hash is kept."""
    with container() as c:
        created = c.users.create_key(user, name)
    if as_json:
        print_json({"user": user, "key": created.secret, "id": created.key.id})
    else:
        typer.echo(created.secret)


@keys_app.command("list")
def list_keys(
    user: Annotated[str, typer.Option("--user")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List a user's keys (prefixes only)."""
    with container() as c:
        keys = c.users.list_keys(user)
    rows = [
        {
            "id": k.id,
            "name": k.name,
            "prefix": k.prefix,
            "created_at": k.created_at.isoformat(),
            "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
        }
        for k in keys
    ]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "name", "prefix", "created", "revoked")
    for r in rows:
        table.add_row(
            r["id"], r["name"] or "", f"{r['prefix']}…", r["created_at"], r["revoked_at"] or ""
        )
    console.print(table)


@keys_app.command("revoke")
def revoke_key(key_id: str, user: Annotated[str, typer.Option("--user")]) -> None:
    """Revoke a key."""
    with container() as c:
        owner = c.users.get_by_name(user)
        c.users.revoke_key(owner.id, key_id)
        console.print(f"revoked {key_id}")
