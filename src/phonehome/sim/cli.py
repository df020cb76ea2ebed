"""``phonehome simulate``: boot a fleet of simulated phones against a server and summarise.

Progress goes to stderr while the run lasts; the summary (a table, or JSON with ``--json``) to stdout.
Exit 0 when no phone saw an error, 1 when some did, 2 for unusable options.
"""

from __future__ import annotations

import asyncio
import csv
import json
import resource
import ssl
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from phonehome.cli_support import console, err_console, fail
from phonehome.sim import fleet
from phonehome.sim.errors import BadSimulation, SimulationHadErrors
from phonehome.sim.identities import MAX_PHONES, PROFILES, UnknownProfile
from phonehome.sim.identities import fleet as make_fleet
from phonehome.sim.phone import Target
from phonehome.sim.plan import Settings, plan
from phonehome.sim.stats import Stats

MAX_DURATION = 24 * 3600.0


def simulate(
    server: Annotated[
        str, typer.Option(help="Base URL of the phone listener, e.g. http://127.0.0.1:8080.")
    ] = "",
    phones: Annotated[int, typer.Option(min=0, max=MAX_PHONES, help="How many phones boot.")] = 100,
    profile: Annotated[str, typer.Option(help=f"Fleet: {'|'.join(PROFILES)}.")] = "mix",
    boot_storm: Annotated[
        float, typer.Option(min=0, max=MAX_DURATION, help="Phones boot spread over this many seconds.")
    ] = 10.0,
    duration: Annotated[
        float, typer.Option(min=0.1, max=MAX_DURATION, help="Stop everything after this many seconds.")
    ] = 120.0,
    download_fraction: Annotated[
        float, typer.Option(help="Share of phones that take an offered image.")
    ] = 1.0,
    interrupt_fraction: Annotated[
        float, typer.Option(help="Share of downloads cut off and resumed with Range.")
    ] = 0.1,
    backup_fraction: Annotated[float, typer.Option(help="Share of Avaya/VVX phones that back up.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Same seed, same fleet and plan.")] = 0,
    connections: Annotated[int, typer.Option(min=1, max=10_000, help="Sockets open at once.")] = 256,
    new_connections: Annotated[
        bool, typer.Option("--new-connections", help="A new TCP connection per request (no keep-alive).")
    ] = False,
    backup_prefix: Annotated[str, typer.Option(help="BRURI path on the server.")] = "/backup/",
    ca: Annotated[Path | None, typer.Option(help="CA file to trust for an https:// server.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    list_accounts: Annotated[
        bool,
        typer.Option(
            "--list-accounts",
            help="Print the fleet's backup accounts as CSV (account,password,mac) and exit.",
        ),
    ] = False,
) -> None:
    """Boot a fleet of simulated phones against a phonehome server and report what they saw."""
    try:
        settings = Settings(boot_storm, download_fraction, interrupt_fraction, backup_fraction, seed)
        identities = make_fleet(profile, phones, seed)
    except (UnknownProfile, ValueError) as exc:
        raise fail(BadSimulation(str(exc))) from None
    if list_accounts:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["account", "password", "mac"])
        for phone in identities:
            if phone.backup_file is not None:
                writer.writerow(
                    [phone.account, phone.password, phone.mac if phone.family == "polycom" else ""]
                )
        return
    if not server.startswith(("http://", "https://")):
        raise fail(BadSimulation("--server must be an http:// or https:// URL"))
    context = ssl.create_default_context(cafile=str(ca)) if ca is not None else None
    limits = fleet.Limits(duration=duration, connections=connections, new_connections=new_connections)
    target = Target(server, backup_prefix)
    plans = plan(identities, settings)

    if as_json or not err_console.is_terminal:
        stats, elapsed = asyncio.run(fleet.run(target, identities, plans, limits, ssl_context=context))
    else:
        stats, elapsed = _run_with_progress(target, identities, plans, limits, context)
    summary = stats.summary(elapsed)
    summary["simulator_max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    summary["settings"] = {"server": server, "phones": phones, "profile": profile, "seed": seed}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)
    if summary["error_count"]:
        raise fail(SimulationHadErrors(f"{summary['error_count']} phones saw errors"))


def _run_with_progress(
    target: Target,
    identities: list[Any],
    plans: list[Any],
    limits: fleet.Limits,
    context: ssl.SSLContext | None,
) -> tuple[Stats, float]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=False) as progress:
        booted = progress.add_task("booted", total=len(identities))
        done = progress.add_task("finished", total=len(identities))
        failed = progress.add_task("failed", total=len(identities))

        def tick(stats: Stats, _elapsed: float) -> None:
            progress.update(booted, completed=stats.phones_started)
            progress.update(done, completed=stats.phones_finished)
            progress.update(failed, completed=stats.phones_failed)

        return asyncio.run(fleet.run(target, identities, plans, limits, ssl_context=context, tick=tick))


def _print_summary(summary: dict[str, Any]) -> None:
    phones = summary["phones"]
    console.print(
        f"{phones['started']} phones booted, {phones['finished']} finished, {phones['failed']} failed; "
        f"{summary['requests']} requests in {summary['elapsed_s']} s ({summary['requests_per_s']}/s); "
        f"{summary['bytes']['received']:,} bytes in, {summary['bytes']['sent']:,} out"
    )
    latency = Table("request", "count", "p50 ms", "p95 ms", "p99 ms", "max ms", title="Latency")
    for kind, row in summary["latency"].items():
        latency.add_row(
            kind, str(row["count"]), *(str(row[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
        )
    console.print(latency)
    versions = Table("model version", "before", "after", title="Versions")
    for key in sorted(set(summary["versions_before"]) | set(summary["versions_after"])):
        versions.add_row(
            key, str(summary["versions_before"].get(key, 0)), str(summary["versions_after"].get(key, 0))
        )
    console.print(versions)
    console.print(
        f"downloads verified {summary['downloads']['verified']} (resumed {summary['downloads']['resumed']}), "
        f"backups round-tripped {summary['backups_round_tripped']}"
    )
    if summary["errors"]:
        errors = Table("error", "phones", title="Errors")
        for kind, count in summary["errors"].items():
            errors.add_row(kind, str(count))
        console.print(errors)
