"""Rules and test devices: the admin side of the Device Update Service (CLI and REST call these)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from phonehome.changelog import Actor, record_change
from phonehome.config import UpdatesSettings
from phonehome.db import Database
from phonehome.fleet.identity import IdentifierError, normalise_mac, normalise_serial
from phonehome.fleet.service import DeviceView, FleetService
from phonehome.updates import rules
from phonehome.updates.catalog_cache import catalog_write
from phonehome.updates.errors import (
    BadIdentifier,
    RuleNotFound,
    RuleStateConflict,
    TestDeviceExists,
    TestDeviceNotFound,
)
from phonehome.updates.models import FirmwareImage, TestDevice, UpdateRule
from phonehome.updates.rules import RuleKey, RuleState
from phonehome.updates.versions import Version, is_version


@dataclass(frozen=True, slots=True)
class RuleView:
    id: str
    name: str  # UCPhone/Polycom/CX700/A/ENU
    device_type: str
    brand: str
    model: str
    revision: str
    locale: str
    update_type: str
    approved_version: str | None
    pending_version: str | None
    restore_version: str | None
    restored: bool
    status: str
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class TestDeviceView:
    id: int
    identifier_type: str
    identifier: str
    site: str
    name: str

    __test__ = False


def rule_state(rule: UpdateRule) -> RuleState:
    return RuleState(rule.approved_version, rule.pending_version, rule.restore_version, rule.restored)


def rule_key(rule: UpdateRule) -> RuleKey:
    return RuleKey(rule.device_type, rule.brand, rule.model, rule.revision, rule.locale)


def rule_view(rule: UpdateRule) -> RuleView:
    state = rule_state(rule)
    return RuleView(
        rule.id,
        rule_key(rule).path,
        rule.device_type,
        rule.brand,
        rule.model,
        rule.revision,
        rule.locale,
        rule.update_type,
        rule.approved_version,
        rule.pending_version,
        rule.restore_version,
        rule.restored,
        state.status,
        rule.updated_at,
    )


async def find_rule(session: AsyncSession, ref: str) -> UpdateRule:
    """A rule by its id or its name (``UCPhone/Polycom/CX700/A/ENU``, any case)."""
    ref = ref.strip().strip("/")
    rule = await session.scalar(
        select(UpdateRule).where((UpdateRule.id == ref) | (UpdateRule.match_key == ref.lower()))
    )
    if rule is None:
        raise RuleNotFound(f"no device update rule {ref[:100]!r} (see: phonehome rules list)")
    return rule


async def upsert_rule_for_import(session: AsyncSession, actor: Actor, key: RuleKey, version: str) -> bool:
    """Import: create the rule or make ``version`` its Pending one; True when something changed."""
    rule = await session.scalar(select(UpdateRule).where(UpdateRule.match_key == key.match_key))
    if rule is None:
        rule = UpdateRule(
            id=str(uuid.uuid4()),
            match_key=key.match_key,
            device_type=key.device_type,
            brand=key.brand,
            model=key.model,
            revision=key.revision,
            locale=key.locale,
            update_type="CPE",
            restored=False,
        )
        session.add(rule)
        before = None
        state = RuleState()
    else:
        state = rule_state(rule)
        before = state.as_dict()
    after = rules.import_version(state, version)
    if after == state and before is not None:
        return False
    _store(rule, after)
    await record_change(session, actor, "import", "update_rule", key.path, before, after.as_dict())
    return True


def _store(rule: UpdateRule, state: RuleState) -> None:
    rule.approved_version = state.approved
    rule.pending_version = state.pending
    rule.restore_version = state.restore
    rule.restored = state.restored


class Sites:
    """Named subnets, parsed once: which site an address belongs to (most specific subnet wins)."""

    def __init__(self, sites: dict[str, list[str]]) -> None:
        networks = [
            (ipaddress.ip_network(s, strict=False), name) for name, subnets in sites.items() for s in subnets
        ]
        self._networks = sorted(networks, key=lambda n: -n[0].prefixlen)

    def of(self, ip: str) -> str:
        if not self._networks:
            return ""
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return ""
        return next((name for network, name in self._networks if address in network), "")


def site_of(sites: dict[str, list[str]], ip: str) -> str:
    """The named site whose subnet holds ``ip`` (most specific wins), or ""."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    best, best_len = "", -1
    for name, subnets in sites.items():
        for subnet in subnets:
            network = ipaddress.ip_network(subnet, strict=False)
            if address in network and network.prefixlen > best_len:
                best, best_len = name, network.prefixlen
    return best


class UpdateService:
    def __init__(self, db: Database, settings: UpdatesSettings, fleet: FleetService) -> None:
        self.db = db
        self.settings = settings
        self.fleet = fleet
        self.catalog_changed: Callable[[], None] = lambda: None  # the check-in catalog's invalidate
        for name, subnets in settings.sites.items():
            for subnet in subnets:
                ipaddress.ip_network(subnet, strict=False)  # a bad site fails at start, not per check-in
            if not name:
                raise ValueError("a site needs a name")

    # -- rules ---------------------------------------------------------------------------------

    async def list_rules(self) -> list[RuleView]:
        async with self.db.session() as session:
            found = await session.scalars(select(UpdateRule).order_by(UpdateRule.match_key))
            return [rule_view(r) for r in found]

    async def get_rule(self, ref: str) -> RuleView:
        async with self.db.session() as session:
            return rule_view(await find_rule(session, ref))

    async def _transition(
        self, actor: Actor, ref: str, action: str, step: Callable[[RuleState], RuleState]
    ) -> RuleView:
        async with catalog_write(self.db, self.catalog_changed) as session:
            rule = await find_rule(session, ref)
            before = rule_state(rule)
            try:
                after = step(before)
            except rules.InvalidTransition as exc:
                raise RuleStateConflict(f"{action} {rule_key(rule).path}: {exc}") from exc
            _store(rule, after)
            await record_change(
                session, actor, action, "update_rule", rule_key(rule).path, before.as_dict(), after.as_dict()
            )
            await session.flush()
            return rule_view(rule)

    async def approve(self, actor: Actor, ref: str) -> RuleView:
        return await self._transition(actor, ref, "approve", rules.approve)

    async def reset(self, actor: Actor, ref: str) -> RuleView:
        return await self._transition(actor, ref, "reset", rules.reset)

    async def restore(self, actor: Actor, ref: str) -> RuleView:
        return await self._transition(actor, ref, "restore", rules.restore)

    async def remove(self, actor: Actor, ref: str) -> None:
        async with catalog_write(self.db, self.catalog_changed) as session:
            rule = await find_rule(session, ref)
            before = rule_state(rule).as_dict()
            await session.delete(rule)
            await record_change(session, actor, "remove", "update_rule", rule_key(rule).path, before, None)

    # -- test devices --------------------------------------------------------------------------

    def _identifier(self, mac: str | None, serial: str | None) -> tuple[str, str]:
        if bool(mac) == bool(serial):
            raise BadIdentifier("give exactly one of a MAC address or a serial number")
        try:
            return ("mac", normalise_mac(mac)) if mac else ("serial", normalise_serial(serial or ""))
        except IdentifierError as exc:
            raise BadIdentifier(str(exc)) from exc

    def _site(self, site: str | None) -> str:
        if not site:
            return ""
        if site not in self.settings.sites:
            known = ", ".join(sorted(self.settings.sites)) or "none configured"
            raise BadIdentifier(f"unknown site {site[:64]!r} (sites in [updates.sites]: {known})")
        return site

    async def add_test_device(
        self,
        actor: Actor,
        *,
        mac: str | None = None,
        serial: str | None = None,
        site: str | None = None,
        name: str = "",
    ) -> TestDeviceView:
        kind, value = self._identifier(mac, serial)
        scope = self._site(site)
        async with catalog_write(self.db, self.catalog_changed) as session:
            exists = await session.scalar(
                select(TestDevice).where(
                    TestDevice.identifier_type == kind,
                    TestDevice.identifier == value,
                    TestDevice.site == scope,
                )
            )
            if exists is not None:
                raise TestDeviceExists(f"test device {value} ({scope or 'global'}) exists")
            device = TestDevice(identifier_type=kind, identifier=value, site=scope, name=name[:100])
            session.add(device)
            await session.flush()
            view = TestDeviceView(device.id, kind, value, scope, device.name)
            await record_change(
                session, actor, "create", "test_device", f"{scope or 'global'}/{value}", after=_td(view)
            )
            return view

    async def list_test_devices(self) -> list[TestDeviceView]:
        async with self.db.session() as session:
            found = await session.scalars(select(TestDevice).order_by(TestDevice.site, TestDevice.identifier))
            return [TestDeviceView(d.id, d.identifier_type, d.identifier, d.site, d.name) for d in found]

    async def remove_test_device(
        self, actor: Actor, *, mac: str | None = None, serial: str | None = None, site: str | None = None
    ) -> None:
        kind, value = self._identifier(mac, serial)
        scope = site or ""
        async with catalog_write(self.db, self.catalog_changed) as session:
            device = await session.scalar(
                select(TestDevice).where(
                    TestDevice.identifier_type == kind,
                    TestDevice.identifier == value,
                    TestDevice.site == scope,
                )
            )
            if device is None:
                raise TestDeviceNotFound(f"no test device {value} ({scope or 'global'})")
            view = TestDeviceView(device.id, kind, value, scope, device.name)
            await session.execute(delete(TestDevice).where(TestDevice.id == device.id))
            await record_change(
                session, actor, "delete", "test_device", f"{scope or 'global'}/{value}", before=_td(view)
            )

    # -- inventory -----------------------------------------------------------------------------

    async def devices(self, *, behind: bool = False, model: str | None = None) -> list[DeviceView]:
        """The inventory; ``behind``: devices older than the Approved version of their rule."""
        found = await self.fleet.list(model=model)
        if not behind:
            return found
        async with self.db.session() as session:
            approved = {
                r.match_key: r.approved_version
                for r in await session.scalars(
                    select(UpdateRule).where(UpdateRule.approved_version.is_not(None))
                )
            }
        out = []
        for device in found:
            key = "/".join(
                (device.device_type or "UCPhone", device.brand, device.model, device.revision, device.locale)
            ).lower()
            target = approved.get(key)
            if target and (
                not is_version(device.version) or Version.parse(device.version) < Version.parse(target)
            ):
                out.append(device)
        return out

    async def image_count(self) -> int:
        async with self.db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(FirmwareImage)) or 0)


def _td(view: TestDeviceView) -> dict[str, str]:
    return {"type": view.identifier_type, "identifier": view.identifier, "site": view.site or "global"}
