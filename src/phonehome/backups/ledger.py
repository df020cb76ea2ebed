"""The one transaction that makes versions current: a batch of changes, synchronous, over a Connection.

Every write to ``backup_files`` and ``backup_versions`` goes through :func:`apply_batch`: PUTs, appends,
restores, imports and DELETEs, whether a phone, the REST API or the CLI made them. The first statement
bumps the generation row, which takes the database's write lock (SQLite) or that row's lock
(PostgreSQL): batches from every process and node are serialised, and a reader can tell from the
generation whether anything changed since it last looked.

A change that fails its own checks (If-Match, quota, a missing file to delete) writes nothing and gets
its error; the others in the batch go on. Statements per batch, not per change: the files, the
versions to prune and the quota usage are read once for the whole batch, new versions inserted in one
executemany, files updated in another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select, update

from phonehome.backups import conditions
from phonehome.backups.accounts import AccountView
from phonehome.backups.current import Generation
from phonehome.backups.errors import BackupNotFound, ChangedMeanwhile, QuotaExceeded
from phonehome.backups.models import BackupAccount, BackupFile, BackupGeneration, BackupVersion
from phonehome.backups.names import BackupName, Owner
from phonehome.backups.versions import Current, keys_of
from phonehome.blobs import BlobRef
from phonehome.errors import PhonehomeError

_files = cast(Table, BackupFile.__table__)
_versions = cast(Table, BackupVersion.__table__)
_generation = cast(Table, BackupGeneration.__table__)
_accounts = cast(Table, BackupAccount.__table__)

# Built once: SQLAlchemy memoises a statement object's cache key, so executing these costs no
# statement building, only parameter binding.
_READ_GENERATION = select(_generation.c.number, _generation.c.writer).where(_generation.c.id == 1)
_BUMP_GENERATION = (
    update(_generation)
    .where(_generation.c.id == 1)
    .values(number=_generation.c.number + 1, writer=bindparam("writer"))
    .returning(_generation.c.number)
)
_CURRENT = select(_files.c.current_version, _files.c.sha256, _files.c.size, _files.c.updated_at).where(
    _files.c.name == bindparam("name")
)
_FILES = (
    select(
        _files.c.id, _files.c.name, _files.c.last_version, _files.c.current_version, _files.c.sha256,
        _files.c.size, _files.c.updated_at,
    )
    .where(_files.c.name.in_(bindparam("names", expanding=True)))
    .with_for_update()
)  # fmt: skip
_NEW_FILE = insert(_files).returning(_files.c.id)
_PRUNABLE = (
    select(_versions.c.file_id, _versions.c.number, _versions.c.sha256, _versions.c.size)
    .where(_versions.c.file_id.in_(bindparam("ids", expanding=True)), _versions.c.number < bindparam("below"))
    .order_by(_versions.c.file_id, _versions.c.number)
)
_USAGE = (
    select(_files.c.owner, func.coalesce(func.sum(_versions.c.size), 0))
    .join(_files, _files.c.id == _versions.c.file_id)
    .where(_files.c.owner.in_(bindparam("owners", expanding=True)))
    .group_by(_files.c.owner)
)
_ACCOUNT_BY = {
    kind: select(_accounts.c.name, _accounts.c.mac).where(column == bindparam("value"))
    for kind, column in (("extension", _accounts.c.name), ("mac", _accounts.c.mac))
}
_ADD_VERSIONS = insert(_versions)
_UPDATE_FILE = (
    update(_files)
    .where(_files.c.id == bindparam("file_id"))
    .values(
        last_version=bindparam("last"), current_version=bindparam("current"), sha256=bindparam("sha"),
        size=bindparam("bytes"), updated_at=bindparam("at"),
    )
)  # fmt: skip
_PRUNE = delete(_versions).where(
    _versions.c.file_id == bindparam("file_id"), _versions.c.number < bindparam("below")
)
_REFERENCED = (
    select(_versions.c.sha256).where(_versions.c.sha256.in_(bindparam("digests", expanding=True))).distinct()
)


@dataclass(frozen=True, slots=True)
class NewVersion:
    """Make ``blob`` the current version of ``name`` (a PUT, an append, a restore or an import)."""

    name: BackupName
    blob: BlobRef
    source: str
    actor: str
    peer: str | None = None
    if_match: str | None = None
    if_none_match: str | None = None
    account: AccountView | None = None  # the uploader, whose quota this is when it owns the file


@dataclass(frozen=True, slots=True)
class Removal:
    """A phone's DELETE: the file is gone for phones, its versions stay."""

    name: BackupName
    if_match: str | None = None


Change = NewVersion | Removal
# What a change did: (created, current) for a NewVersion, None for a Removal.
Done = tuple[bool, Current] | None
# Per change: what it did, or the error it failed with.
Outcome = Done | PhonehomeError


@dataclass(slots=True)
class Applied:
    generation: int
    token: str
    outcomes: list[Outcome]
    # name → its current version (None: deleted) after the batch, for the servers' caches.
    currents: dict[str, Current | None]
    # Digests of pruned versions no version refers to any more: delete them after the commit.
    unreferenced: set[str]


@dataclass(slots=True)
class _File:
    id: int
    last: int
    current: int | None
    sha256: str | None
    size: int
    updated_at: dt.datetime
    # (number, sha256, size) of versions that pruning may remove, oldest first.
    prunable: list[tuple[int, str, int]] = field(default_factory=list)
    oldest_kept: int = 1
    pruned: bool = False
    dirty: bool = False


def read_generation(conn: Connection) -> Generation:
    number, writer = conn.execute(_READ_GENERATION).one()
    return int(number), writer


def load_current(conn: Connection, name: str) -> tuple[Generation, Current | None]:
    """The generation, then the file's current version: the row is never older than the generation."""
    generation = read_generation(conn)
    row = conn.execute(_CURRENT, {"name": name}).first()
    if row is None or row.current_version is None or row.sha256 is None:
        return generation, None
    return generation, Current(name, row.current_version, row.sha256, row.size, row.updated_at)


def apply_batch(
    conn: Connection, changes: list[Change], *, keep_versions: int, quota: int, now: dt.datetime, writer: str
) -> Applied:
    """Apply ``changes`` in order in the caller's transaction, as generation token ``writer``; the caller commits."""
    generation = int(conn.execute(_BUMP_GENERATION, {"writer": writer}).scalar_one())
    names = sorted({c.name.name for c in changes})
    files: dict[str, _File] = {
        r.name: _File(r.id, r.last_version, r.current_version, r.sha256, r.size, r.updated_at)
        for r in conn.execute(_FILES, {"names": names})
    }
    _load_prunable(conn, files, changes, keep_versions)
    usage = _Usage(conn, quota, changes)
    outcomes: list[Outcome] = []
    rows: list[dict[str, object]] = []
    dropped: set[str] = set()
    currents: dict[str, Current | None] = {}
    for change in changes:
        try:
            if isinstance(change, Removal):
                _remove(files.get(change.name.name), change, now)
                outcomes.append(None)
                currents[change.name.name] = None
                continue
            file = files.get(change.name.name)
            outcome, file = _add(conn, file, change, keep_versions, usage, rows, dropped, now)
            files[change.name.name] = file
            outcomes.append(outcome)
            currents[change.name.name] = outcome[1]
        except PhonehomeError as exc:
            outcomes.append(exc)
    if rows:
        conn.execute(_ADD_VERSIONS, rows)
    dirty = [f for f in files.values() if f.dirty]
    if dirty:
        conn.execute(
            _UPDATE_FILE,
            [
                {"file_id": f.id, "last": f.last, "current": f.current, "sha": f.sha256, "bytes": f.size,
                 "at": f.updated_at}
                for f in dirty
            ],
        )  # fmt: skip
    pruned = [{"file_id": f.id, "below": f.oldest_kept} for f in dirty if f.pruned]
    if pruned:
        conn.execute(_PRUNE, pruned)
    unreferenced = set()
    if dropped:
        referenced = set(conn.execute(_REFERENCED, {"digests": sorted(dropped)}).scalars())
        unreferenced = dropped - referenced
    return Applied(generation, writer, outcomes, currents, unreferenced)


def _load_prunable(conn: Connection, files: dict[str, _File], changes: list[Change], keep: int) -> None:
    """Read once the versions the batch's new versions may push out of the ``keep`` newest."""
    added: dict[str, int] = {}
    for change in changes:
        if isinstance(change, NewVersion):
            added[change.name.name] = added.get(change.name.name, 0) + 1
    limits = {
        f.id: f.last + added[name] - keep + 1
        for name, f in files.items()
        if name in added and f.last + added[name] - keep + 1 > 1
    }
    if not limits:
        return
    # One statement of a fixed shape: every version below the highest limit, sorted out per file here.
    by_id = {f.id: f for f in files.values()}
    for r in conn.execute(_PRUNABLE, {"ids": sorted(limits), "below": max(limits.values())}):
        if r.number < limits[r.file_id]:
            by_id[r.file_id].prunable.append((r.number, r.sha256, r.size))


def _remove(file: _File | None, change: Removal, now: dt.datetime) -> None:
    if file is None or file.current is None:
        raise BackupNotFound(f"no backup file {change.name.name}")
    current = conditions.etag_of(file.sha256) if file.sha256 else None
    if conditions.evaluate("DELETE", current, change.if_match, None) != "proceed":
        raise ChangedMeanwhile()
    file.current, file.sha256, file.size, file.updated_at, file.dirty = None, None, 0, now, True


def _add(
    conn: Connection,
    file: _File | None,
    change: NewVersion,
    keep: int,
    usage: _Usage,
    rows: list[dict[str, object]],
    dropped: set[str],
    now: dt.datetime,
) -> tuple[tuple[bool, Current], _File]:
    name, blob = change.name, change.blob
    etag = conditions.etag_of(file.sha256) if file is not None and file.sha256 else None
    if conditions.evaluate("PUT", etag, change.if_match, change.if_none_match) != "proceed":
        raise ChangedMeanwhile()
    number = (file.last if file is not None else 0) + 1
    oldest_kept = number - keep + 1
    drop = [v for v in (file.prunable if file is not None else []) if v[0] < oldest_kept]
    usage.check(name.owner, change.account, blob.size - sum(size for _, _, size in drop))
    created = file is None or file.current is None
    if file is None:
        file_id = conn.execute(
            _NEW_FILE,
            {"name": name.name, "owner": str(name.owner), "last_version": 0, "size": 0, "updated_at": now},
        ).scalar_one()
        file = _File(int(file_id), 0, None, None, 0, now)
    rows.append({
        "file_id": file.id, "number": number, "sha256": blob.sha256, "size": blob.size, "created_at": now,
        "source": change.source, "actor": change.actor[:200], "peer": change.peer,
    })  # fmt: skip
    file.prunable = [v for v in file.prunable if v[0] >= oldest_kept] + [(number, blob.sha256, blob.size)]
    file.oldest_kept = max(file.oldest_kept, oldest_kept)
    dropped.update(sha for _, sha, _ in drop)
    file.pruned = file.pruned or bool(drop)
    usage.add(name.owner, blob.size - sum(size for _, _, size in drop))
    file.last = file.current = number
    file.sha256, file.size, file.updated_at, file.dirty = blob.sha256, blob.size, now, True
    return (created, Current(name.name, number, blob.sha256, blob.size, now)), file


class _Usage:
    """Bytes kept per owner key, read once per batch and kept up to date as changes apply."""

    def __init__(self, conn: Connection, quota: int, changes: Iterable[Change]) -> None:
        self.conn = conn
        self.quota = quota
        self.used: dict[str, int] = {}
        self._keys: dict[tuple[Owner, str | None], list[str]] = {}
        if not quota:
            return
        wanted: set[str] = set()
        for change in changes:
            if isinstance(change, NewVersion):
                wanted.update(self.keys(change.name.owner, change.account))
        self.used = {key: 0 for key in wanted}
        for owner, used in conn.execute(_USAGE, {"owners": sorted(wanted)}):
            self.used[owner] = int(used)

    def keys(self, owner: Owner, uploader: AccountView | None) -> list[str]:
        """Every owner key of the account behind ``owner``: its extension and its bound MAC."""
        if uploader is not None and str(owner) in keys_of(uploader.name, uploader.mac):
            return keys_of(uploader.name, uploader.mac)
        cache_key = (owner, uploader.name if uploader else None)
        if cache_key not in self._keys:
            keys = {str(owner)}
            query = _ACCOUNT_BY.get(owner.kind)
            if query is not None:
                row = self.conn.execute(query, {"value": owner.value}).first()
                if row is not None:
                    keys.update(keys_of(row.name, row.mac))
            self._keys[cache_key] = sorted(keys)
        return self._keys[cache_key]

    def check(self, owner: Owner, uploader: AccountView | None, growth: int) -> None:
        if not self.quota or growth <= 0:
            return
        used = sum(self.used.get(key, 0) for key in self.keys(owner, uploader))
        if used + growth > self.quota:
            raise QuotaExceeded(
                f"backup quota of {self.quota} bytes for {owner} is used up ({used} bytes kept)"
            )

    def add(self, owner: Owner, growth: int) -> None:
        if self.quota:
            self.used[str(owner)] = self.used.get(str(owner), 0) + growth
