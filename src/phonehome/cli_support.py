"""What every Typer sub-app shares: global options, settings, a runtime for one command, error exits."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from phonehome.changelog import Actor
from phonehome.config import Settings, load_settings
from phonehome.errors import PhonehomeError
from phonehome.runtime import Runtime

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)


@dataclass
class GlobalOptions:
    data_dir: Path | None = None
    config_file: Path | None = None
    db_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def settings(self, **flags: Any) -> Settings:
        return load_settings(
            flags={"data_dir": self.data_dir, "db_url": self.db_url, **self.extra, **flags},
            environ=os.environ,
            config_file=self.config_file,
        )


def options(ctx: typer.Context) -> GlobalOptions:
    root = ctx.find_root()
    if not isinstance(root.obj, GlobalOptions):
        root.obj = GlobalOptions()
    return root.obj


def cli_actor() -> Actor:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return Actor(f"cli:{user}")


def fail(exc: PhonehomeError) -> typer.Exit:
    """One readable line on stderr and the error's exit code."""
    err_console.print(f"phonehome: error: {exc.reason}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(exc.exit_code)


def run_with_runtime(ctx: typer.Context, work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Open the data dir (initialising it when new), run ``work``, close; PhonehomeError → exit code."""
    from phonehome.app import initialise

    async def main() -> T:
        runtime = Runtime.create(options(ctx).settings())
        try:
            await initialise(runtime)
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except PhonehomeError as exc:
        raise fail(exc) from None


def read_secret(prompt: str) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=True)  # type: ignore[no-any-return]
