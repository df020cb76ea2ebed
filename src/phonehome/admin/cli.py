"""``phonehome admin …``: local admin accounts and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from phonehome.admin.service import AdminService
from phonehome.cli_support import cli_actor, console, read_secret, run_with_runtime
from phonehome.passwords import generate_password
from phonehome.runtime import Runtime

app = typer.Typer(help="Admin accounts for the web UI and REST API.", no_args_is_help=True)


def _service(runtime: Runtime) -> AdminService:
    return AdminService(runtime.db)


@app.command("add-user")
def add_user(
    ctx: typer.Context,
    name: str,
    password: Annotated[
        str | None, typer.Option(help="The password (else prompted, or read from stdin).")
    ] = None,
    generate: Annotated[bool, typer.Option("--generate", help="Generate a password and print it.")] = False,
) -> None:
    """Create an admin account."""
    secret = (
        generate_password() if generate else (password if password is not None else read_secret("Password"))
    )

    async def work(runtime: Runtime) -> None:
        await _service(runtime).add_user(cli_actor(), name, secret)

    run_with_runtime(ctx, work)
    console.print(f"admin user {name} created" + (f"; password: {secret}" if generate else ""))


@app.command("set-password")
def set_password(
    ctx: typer.Context,
    name: str,
    password: Annotated[str | None, typer.Option(help="The new password (else prompted).")] = None,
) -> None:
    """Change an admin's password (revokes their tokens)."""
    secret = password if password is not None else read_secret("New password")
    run_with_runtime(ctx, lambda runtime: _service(runtime).set_password(cli_actor(), name, secret))
    console.print(f"password of {name} changed")


@app.command("remove-user")
def remove_user(ctx: typer.Context, name: str) -> None:
    """Delete an admin account and its tokens."""
    run_with_runtime(ctx, lambda runtime: _service(runtime).remove_user(cli_actor(), name))
    console.print(f"admin user {name} removed")


@app.command("list-users")
def list_users(ctx: typer.Context) -> None:
    """List admin accounts."""
    users = run_with_runtime(ctx, lambda runtime: _service(runtime).list_users())
    table = Table("name", "disabled", "created")
    for user in users:
        table.add_row(
            user.name, "yes" if user.disabled else "", user.created_at.isoformat(timespec="seconds")
        )
    console.print(table)


@app.command("token")
def token(
    ctx: typer.Context,
    name: str,
    label: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
) -> None:
    """Issue an API bearer token for an admin (printed once; only its hash is stored)."""
    value = run_with_runtime(ctx, lambda runtime: _service(runtime).issue_token(name, label=label))
    typer.echo(value)
