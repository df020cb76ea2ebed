"""``phonehome firmware | rules | test-devices | devices``: the Device Update cmdlets admins know."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from phonehome.cli_support import cli_actor, console, run_with_runtime
from phonehome.fleet.service import FleetService
from phonehome.runtime import Runtime
from phonehome.updates.cab import default_cabextract
from phonehome.updates.importer import FirmwareImporter, ImportResult, image_from_files
from phonehome.updates.rules import RuleKey
from phonehome.updates.service import UpdateService

firmware_app = typer.Typer(
    help="Firmware images: import UCUpdates packages, add, list, prune.", no_args_is_help=True
)
rules_app = typer.Typer(
    help="Device update rules: list, approve, reset, restore, remove.", no_args_is_help=True
)
test_devices_app = typer.Typer(help="Test devices: they get Pending versions.", no_args_is_help=True)
devices_app = typer.Typer(help="The device inventory from check-ins.", no_args_is_help=True)


def importer(runtime: Runtime) -> FirmwareImporter:
    return FirmwareImporter(
        runtime.db,
        runtime.blob_store("firmware"),
        cabextract=default_cabextract(),
        max_size=runtime.settings.updates.max_package_size,
    )


def updates(runtime: Runtime) -> UpdateService:
    return UpdateService(runtime.db, runtime.settings.updates, FleetService(runtime.db))


def _report(result: ImportResult) -> None:
    for image in result.images:
        state = "new" if image.new else "unchanged"
        rule = "; rule set Pending" if image.rule_changed else ""
        typer.echo(f"{image.name}: {state}{rule}")
    if result.interim_files:
        console.print(f"OCInterim: {result.interim_files} file(s) stored")
    if not result.changed:
        console.print("nothing changed (already imported)")


@firmware_app.command("import")
def import_(
    ctx: typer.Context, files: Annotated[list[Path], typer.Argument(help="UCUpdates.cab or .exe")]
) -> None:
    """Import UCUpdates.cab / UCUpdates.exe packages (Import-CsDeviceUpdate); rules become Pending."""

    async def work(runtime: Runtime) -> ImportResult:
        with Progress(
            TextColumn("importing"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("import", total=None)
            return await importer(runtime).import_files(
                cli_actor(), files, lambda done, total: bar.update(task, completed=done, total=total)
            )

    _report(run_with_runtime(ctx, work))


@firmware_app.command("add")
def add(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="CPE.nbt CPE.cat CPE_desc.xml")],
    device_type: Annotated[str, typer.Option("--device-type")] = "UCPhone",
    brand: Annotated[str, typer.Option("--brand")] = "",
    model: Annotated[str, typer.Option("--model")] = "",
    revision: Annotated[str, typer.Option("--revision")] = "",
    locale: Annotated[str, typer.Option("--locale")] = "",
    version: Annotated[str, typer.Option("--version")] = "",
    min_from: Annotated[
        str | None, typer.Option("--min-from", help="Oldest version this image installs from.")
    ] = None,
) -> None:
    """Add one image from loose files (when a package's layout is not recognised)."""
    key = RuleKey(device_type, brand, model, revision, locale)

    async def work(runtime: Runtime) -> ImportResult:
        return await importer(runtime).add_image(cli_actor(), image_from_files(key, version, files, min_from))

    _report(run_with_runtime(ctx, work))


@firmware_app.command("list")
def list_images(ctx: typer.Context) -> None:
    """List stored firmware images."""
    rows = run_with_runtime(ctx, lambda runtime: importer(runtime).list_images())
    table = Table("image", "version", "installs from", "bytes", "imported")
    for name, version, min_from, size, imported in rows:
        table.add_row(name, version, min_from or "", str(size), imported.isoformat(timespec="seconds"))
    console.print(table)


@firmware_app.command("prune")
def prune(ctx: typer.Context) -> None:
    """Delete images no rule references (Clear-CsDeviceUpdateFile)."""
    result = run_with_runtime(ctx, lambda runtime: importer(runtime).prune(cli_actor()))
    for name in result.images:
        console.print(f"removed {name}")
    console.print(f"{len(result.images)} image(s), {result.blobs} file(s) removed")


@rules_app.command("list")
def list_rules(ctx: typer.Context) -> None:
    """List rules (Get-CsDeviceUpdateRule)."""
    rules = run_with_runtime(ctx, lambda runtime: updates(runtime).list_rules())
    table = Table("rule", "approved", "pending", "restore", "status", "id")
    for rule in rules:
        table.add_row(
            rule.name,
            rule.approved_version or "",
            rule.pending_version or "",
            rule.restore_version or "",
            rule.status,
            rule.id,
        )
    console.print(table)


def _rule_command(action: str, doc: str) -> None:
    def command(
        ctx: typer.Context, rule: Annotated[str, typer.Argument(help="Id or UCPhone/Brand/Model/Rev/Locale")]
    ) -> None:
        async def work(runtime: Runtime) -> str:
            service = updates(runtime)
            view = await getattr(service, action)(cli_actor(), rule)
            return f"{view.name}: approved {view.approved_version or '-'}, pending {view.pending_version or '-'}, restore {view.restore_version or '-'} ({view.status})"

        typer.echo(run_with_runtime(ctx, work))

    command.__doc__ = doc
    rules_app.command(action)(command)


_rule_command("approve", "Pending becomes Approved; the old Approved becomes Restore.")
_rule_command("reset", "Clear the Pending version.")
_rule_command("restore", "Roll back: serve the Restore version again.")


@rules_app.command("remove")
def remove_rule(ctx: typer.Context, rule: str) -> None:
    """Delete a rule (its images stay until `firmware prune`)."""
    run_with_runtime(ctx, lambda runtime: updates(runtime).remove(cli_actor(), rule))
    console.print(f"rule {rule} removed", markup=False)


Mac = Annotated[
    str | None, typer.Option("--mac", help="00-04-F2-95-31-A2, 0004F29531A2 or 00:04:f2:95:31:a2")
]
Serial = Annotated[str | None, typer.Option("--serial")]
Site = Annotated[str | None, typer.Option("--site", help="A site from [updates.sites]; default global.")]


@test_devices_app.command("add")
def add_test_device(
    ctx: typer.Context,
    mac: Mac = None,
    serial: Serial = None,
    site: Site = None,
    name: Annotated[str, typer.Option("--name")] = "",
) -> None:
    """Make a device a test device (New-CsTestDevice)."""
    view = run_with_runtime(
        ctx,
        lambda runtime: updates(runtime).add_test_device(
            cli_actor(), mac=mac, serial=serial, site=site, name=name
        ),
    )
    console.print(f"test device {view.identifier} ({view.site or 'global'}) added", markup=False)


@test_devices_app.command("list")
def list_test_devices(ctx: typer.Context) -> None:
    """List test devices."""
    table = Table("type", "identifier", "scope", "name")
    for device in run_with_runtime(ctx, lambda runtime: updates(runtime).list_test_devices()):
        table.add_row(device.identifier_type, device.identifier, device.site or "global", device.name)
    console.print(table)


@test_devices_app.command("remove")
def remove_test_device(ctx: typer.Context, mac: Mac = None, serial: Serial = None, site: Site = None) -> None:
    """Remove a test device (Remove-CsTestDevice)."""
    run_with_runtime(
        ctx,
        lambda runtime: updates(runtime).remove_test_device(cli_actor(), mac=mac, serial=serial, site=site),
    )
    console.print("test device removed")


@devices_app.command("list")
def list_devices(
    ctx: typer.Context,
    behind: Annotated[
        bool, typer.Option("--behind", help="Only devices older than their Approved version.")
    ] = False,
    model: Annotated[str | None, typer.Option("--model")] = None,
) -> None:
    """List devices seen at check-in."""
    table = Table(
        "mac", "serial", "brand", "model", "rev", "locale", "version", "offered", "ip", "site", "last seen"
    )
    for d in run_with_runtime(ctx, lambda runtime: updates(runtime).devices(behind=behind, model=model)):
        table.add_row(
            d.mac or "",
            d.serial or "",
            d.brand,
            d.model,
            d.revision,
            d.locale,
            d.version,
            d.last_offer,
            d.ip,
            d.site,
            d.last_seen.isoformat(timespec="seconds"),
        )
    console.print(table)
