"""Composition root: settings → runtime (db, blobs) → services → listeners.

``initialise`` makes a data dir ready (CA, server certificate, migrated database); ``serve`` runs the
phone HTTP and HTTPS listeners (aiohttp) and the admin listener (FastAPI under uvicorn) in one event
loop until SIGTERM/SIGINT, then stops accepting, lets in-flight requests finish (bounded) and returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import gc
import json
import logging
import os
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from aiohttp import web
from fastapi import APIRouter

from phonehome import __version__
from phonehome.admin.app import create_admin_app
from phonehome.admin.service import AdminService
from phonehome.admin.web import Ui, make_ui
from phonehome.backups import admin as backups_admin
from phonehome.backups import phone as backups_phone
from phonehome.backups import service as backups_service
from phonehome.backups import web as backups_web
from phonehome.backups.accounts import AccountService
from phonehome.backups.service import BackupService
from phonehome.config import CONFIG_FILE_NAME, ListenAddress, Settings
from phonehome.devices import admin as devices_admin
from phonehome.devices import web as devices_web
from phonehome.devices.panels import fleet_panels
from phonehome.devices.service import DevicesService
from phonehome.doctor import web as doctor_web
from phonehome.errors import StartupError
from phonehome.fleet.service import FleetService
from phonehome.http.middleware import access_logger_class
from phonehome.http.phone import RouteFactory, create_phone_app
from phonehome.http.tls import ServerTls
from phonehome.netplan import admin as netplan_admin
from phonehome.netplan import web as netplan_web
from phonehome.netplan.service import NetplanService
from phonehome.pki import admin as pki_admin
from phonehome.pki import phone as pki_phone
from phonehome.pki import web as pki_web
from phonehome.pki.scep_service import ScepService
from phonehome.pki.service import PkiService
from phonehome.pki.store import init_pki
from phonehome.runtime import Runtime
from phonehome.updates import admin as updates_admin
from phonehome.updates import phone as updates_phone
from phonehome.updates import web as updates_web
from phonehome.updates.checkin import CheckInService
from phonehome.updates.service import UpdateService
from phonehome.updates.wiring import build_update_services

log = logging.getLogger("phonehome")


# -- services and routes: each slice adds its line here ---------------------------------------------


def build_services(runtime: Runtime) -> dict[type[Any], Any]:
    settings = runtime.settings
    admin = AdminService(runtime.db, dt.timedelta(hours=settings.admin_api.token_ttl_hours))
    fleet = FleetService(runtime.db)
    backup_accounts, backups = backups_service.build(runtime)
    update_services = build_update_services(runtime, fleet)
    pki = PkiService(runtime)
    backup_accounts.certificate_revoked = pki.is_revoked
    return {
        AdminService: admin,
        NetplanService: NetplanService(settings),
        AccountService: backup_accounts,
        BackupService: backups,
        PkiService: pki,
        ScepService: ScepService(pki),
        FleetService: fleet,
        **update_services,
        DevicesService: DevicesService(
            runtime.db, fleet, update_services[UpdateService], update_services[CheckInService].audit_file,
            backups, runtime.metrics, pki,
        ),
    }  # fmt: skip


def phone_routes(services: dict[type[Any], Any]) -> list[RouteFactory]:
    pki, scep = services[PkiService], services[ScepService]
    return [
        lambda plane: backups_phone.routes(services[BackupService], plane),
        lambda plane: pki_phone.routes(pki, scep, plane),
        lambda plane: updates_phone.routes(
            services[CheckInService], plane, services[AccountService].authenticate_device, pki.is_revoked
        ),
    ]


def admin_routers(services: dict[type[Any], Any]) -> list[APIRouter]:
    return [
        netplan_admin.router, backups_admin.router, pki_admin.router, updates_admin.router,
        devices_admin.router, updates_web.router, devices_web.router,
        backups_web.router, netplan_web.router, pki_web.router, doctor_web.router,
    ]  # fmt: skip


def admin_ui(services: dict[type[Any], Any]) -> Ui:
    """The web UI: each slice adds its template dir, its nav entries and its dashboard panels."""
    pages = (updates_web, devices_web, backups_web, pki_web, netplan_web, doctor_web)
    ui = make_ui(
        extra_template_dirs=[page.TEMPLATES for page in pages], nav=[i for page in pages for i in page.NAV]
    )
    ui.panels.append(fleet_panels(services[DevicesService]))
    return ui


# -- the data directory -------------------------------------------------------------------------------

_CONFIG_TEMPLATE = """\
# phonehome configuration. Precedence: command-line flag > PHONEHOME_* environment > this file > default.
# Uncomment and edit; an unknown key is an error (exit 2) naming it.

# db_url = "postgresql+asyncpg://phonehome@db.example.com/phonehome"   # default: SQLite in this directory
# http = "0.0.0.0:8080"          # internal phones: check-ins, firmware downloads, backups
# https = "0.0.0.0:8443"         # external phones, mTLS backups
# admin = "127.0.0.1:8081"       # admin UI and REST API: keep it off the phone network
# Names phones use for this server; they go into the server certificate's SANs. Lync phones need
# the short name as well as the FQDN (ucupdates-r2 and ucupdates-r2.<DHCP domain>).
# server_names = ["ucupdates-r2.contoso.com", "ucupdates-r2", "lyncpool.contoso.com"]
# server_ips = ["192.0.2.10"]

# [tls]
# client_ca_files = []           # CAs whose client certificates HTTPS accepts; default: phonehome's CA
# min_version = "TLSv1.2"

# [pki]                          # `phonehome pki show` says what each phone family thinks of the cert
# dhcp_domains = ["contoso.com"] # SANs ucupdates-r2.<domain>; default: [site] dhcp_domain + search_domains
# signature_hash = "sha256"      # "sha1" only for CX700 1.0.x (OCS 2007 R2); `pki issue-server --legacy-sha1`
# scep_path = "/scep"            # Avaya MYCERTURL points here (`phonehome pki avaya-settings`)
# scep_shared_challenge = ""     # one challenge for all devices (opt-in); default: `pki scep-challenge`
# scep_allow_pending = false     # requests without a challenge wait for `pki scep-approve`
# ca_key_passphrase_file = "/etc/phonehome/ca.pass"

# [site]                         # the phones' network: `phonehome netplan dhcp|dns|explain` renders it
# subnet = "192.0.2.0/24"
# pool_start = "192.0.2.100"
# pool_end = "192.0.2.199"
# routers = ["192.0.2.1"]
# dhcp_domain = "contoso.com"    # option 15: phones look up ucupdates-r2.contoso.com
# search_domains = ["contoso.com", "fabrikam.com"]   # option 119
# dns_servers = ["192.0.2.53"]   # option 6
# ntp_servers = ["192.0.2.123"]  # option 42
# sip_domains = ["fabrikam.com"]
# registrar_fqdn = "pool01.contoso.com"              # option 120, _sipinternaltls._tcp
# registrar_ips = ["192.0.2.10"]
# web_services_fqdn = "pool01.contoso.com"           # option 43 (Cert Prov URL); default registrar_fqdn
# autodiscover_ips = ["192.0.2.20"]
# access_edge_fqdn = "sip.fabrikam.com"              # external zone: _sip._tls
# access_edge_ips = ["198.51.100.10"]
# reverse_proxy_fqdn = "webext.fabrikam.com"
# reverse_proxy_ips = ["198.51.100.11"]
# external_nameservers = ["ns1.example.net"]
"""


def check_writable(data_dir: Path) -> None:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise StartupError(f"data directory {data_dir} is not writable: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def _undo_on_failure(paths: list[Path]) -> Iterator[None]:
    """Remove what a failed init created, so nothing half-initialised is left behind."""
    existed = {p: p.exists() for p in paths}
    try:
        yield
    except BaseException:
        for path, was_there in existed.items():
            if not was_there and path.exists():
                if path.is_dir():
                    import shutil

                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        raise


async def initialise(runtime: Runtime) -> bool:
    """Make the data dir ready; returns True when it was new. Idempotent on a ready data dir."""
    settings, paths = runtime.settings, runtime.paths
    created_dir = not paths.root.exists()
    check_writable(paths.root)
    if paths.marker.exists():
        await runtime.db.migrate()
        return False
    db_file = settings.data_dir / "phonehome.db"
    parts = [paths.pki.dir, paths.blobs, paths.logs, paths.run, settings.data_dir / CONFIG_FILE_NAME]
    parts += [db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")]
    try:
        with _undo_on_failure(parts):
            init_pki(paths.pki, settings.server_names, settings.server_ips)
            runtime.blobs.ensure()
            for directory in (paths.logs, paths.run):
                directory.mkdir(parents=True, exist_ok=True)
            await runtime.db.migrate()
            config_file = settings.data_dir / CONFIG_FILE_NAME
            if not config_file.exists():
                config_file.write_text(_CONFIG_TEMPLATE)
            paths.marker.write_text(json.dumps({"version": __version__}) + "\n")
    except BaseException:
        await runtime.db.close()
        if created_dir:
            with contextlib.suppress(OSError):
                paths.root.rmdir()
        raise
    log.info("data directory initialised", extra={"data_dir": str(paths.root)})
    return True


# -- listeners ----------------------------------------------------------------------------------------


def bind(address: ListenAddress, name: str) -> socket.socket:
    """Bind before anything starts, so a busy port fails the start with one line and no side effects."""
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address.host, address.port))
        sock.listen(1024)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(f"{name} listener: address {address} is already in use") from exc
        raise StartupError(f"{name} listener: cannot bind {address}: {exc.strerror or exc}") from exc
    return sock


class _EmbeddedUvicorn(uvicorn.Server):
    # The composition root owns the signals; uvicorn's own handlers would re-raise them on exit.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Listening:
    http: str
    https: str
    admin: str


async def serve(settings: Settings, *, ready: asyncio.Event | None = None) -> None:
    runtime = Runtime.create(settings)
    sockets: list[socket.socket] = []
    try:
        # Ports first: a busy port fails the start before anything is written to the data dir.
        for address, name in (
            (settings.http_listen, "http"),
            (settings.https_listen, "https"),
            (settings.admin_listen, "admin"),
        ):
            sockets.append(bind(address, name))
        await initialise(runtime)
        removed = runtime.clean_partial_uploads()
        if removed:
            log.warning("removed partial uploads left by an interrupted run", extra={"files": removed})
        client_cas = settings.tls.client_ca_files or [runtime.paths.pki.ca_cert]
        tls = ServerTls(
            runtime.paths.pki.server_cert, runtime.paths.pki.server_key, client_cas, settings.tls.min_version
        )
        await _run(runtime, tls, sockets, ready)
    finally:
        for sock in sockets:
            sock.close()
        await runtime.close()


async def _run(
    runtime: Runtime, tls: ServerTls, sockets: list[socket.socket], ready: asyncio.Event | None
) -> None:
    settings = runtime.settings
    services = build_services(runtime)
    http_sock, https_sock, admin_sock = sockets
    runners: list[web.AppRunner] = []
    for plane, listener, sock, ssl_context in (
        ("internal", "http", http_sock, None),
        ("external", "https", https_sock, tls.context),
    ):
        app = create_phone_app(runtime, plane, phone_routes(services))  # type: ignore[arg-type]
        runner = web.AppRunner(
            app,
            access_log_class=access_logger_class(listener, runtime.metrics),
            shutdown_timeout=settings.shutdown_timeout,
            handle_signals=False,
        )
        await runner.setup()
        await web.SockSite(
            runner, sock, ssl_context=ssl_context, shutdown_timeout=settings.shutdown_timeout
        ).start()
        runners.append(runner)

    admin_app = create_admin_app(
        runtime, services, admin_routers(services), reload_tls=tls.reload, ui=admin_ui(services)
    )
    admin_server = _EmbeddedUvicorn(
        uvicorn.Config(
            admin_app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=int(settings.shutdown_timeout) or 1,
            server_header=False,
        )
    )
    admin_task = asyncio.create_task(admin_server.serve(sockets=[admin_sock]), name="admin")
    while not admin_server.started and not admin_task.done():
        await asyncio.sleep(0.01)
    if admin_task.done():
        admin_task.result()
        raise StartupError("admin listener stopped during start")

    listening = Listening(
        *(_url(s, scheme) for s, scheme in zip(sockets, ("http", "https", "http"), strict=True))
    )
    admin_app.state.listening = listening  # pages show phones the real ports (config may say 0)
    runtime.paths.run.mkdir(parents=True, exist_ok=True)
    (runtime.paths.run / "listeners.json").write_text(json.dumps(listening.__dict__) + "\n")
    log.info("phonehome listening", extra={**listening.__dict__, "pid": os.getpid(), "version": __version__})

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, tls.reload)
    reloader = asyncio.create_task(_watch_certificate(tls, settings.tls.reload_interval), name="tls-reload")
    # Everything built so far lives until exit: keep it out of the collector's full passes, which
    # otherwise walk the whole heap while phones wait (Instagram's gc.freeze recipe).
    gc.collect()
    gc.freeze()
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        log.info("stopping: no new connections, finishing requests in flight")
        reloader.cancel()
        admin_server.should_exit = True
        await asyncio.gather(*(runner.cleanup() for runner in runners), return_exceptions=True)
        await asyncio.wait_for(admin_task, timeout=settings.shutdown_timeout + 5)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        log.info("stopped")


async def _watch_certificate(tls: ServerTls, interval: float) -> None:
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        tls.reload_if_changed()


def _url(sock: socket.socket, scheme: str) -> str:
    host, port = sock.getsockname()[:2]
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"
