"""The PKI service: the CA on disk, the listener certificate, the record of issued certificates.

SCEP enrolment lives in ``scep_service.py``; both read the CA through :class:`Authority`, which
reloads it when ``ca.pem``/``ca.key`` change on disk (``pki import-ca`` runs in another process).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from phonehome.changelog import Actor, record_change
from phonehome.config import Settings
from phonehome.db import Database, utcnow
from phonehome.pki import ca as ca_mod
from phonehome.pki.errors import BadCaMaterial, CaKeyLocked, CertificateNotFound
from phonehome.pki.models import IssuedCertificate
from phonehome.pki.names import ServerNames, server_names
from phonehome.pki.profiles import CertFacts, Opinion, judge_all
from phonehome.pki.store import (
    PkiPaths,
    check_ca_material,
    default_server_names,
    install_ca,
    issue_server_cert,
    load_ca,
    load_chain,
    load_or_make_ra,
)
from phonehome.runtime import Runtime

log = logging.getLogger("phonehome.pki")


class Authority:
    """The CA key and chain, reloaded when the files change."""

    def __init__(self, paths: PkiPaths, passphrase_file: os.PathLike[str] | None) -> None:
        self.paths = paths
        self.passphrase_file = passphrase_file
        self._stamp: tuple[int, int] | None = None
        self._ca: ca_mod.Issued | None = None
        self._ra: ca_mod.Issued | None = None
        self._chain: list[x509.Certificate] = []

    def passphrase(self) -> bytes | None:
        if self.passphrase_file is None:
            return None
        try:
            with open(self.passphrase_file, "rb") as fh:
                return fh.read().rstrip(b"\r\n") or None
        except OSError as exc:
            raise CaKeyLocked(f"cannot read pki.ca_key_passphrase_file: {exc.strerror}") from exc

    def load(self) -> tuple[ca_mod.Issued, list[x509.Certificate]]:
        stamp = (self.paths.ca_cert.stat().st_mtime_ns, self.paths.ca_key.stat().st_mtime_ns)
        if self._ca is None or stamp != self._stamp:
            try:
                self._ca = load_ca(self.paths, self.passphrase())
            except TypeError as exc:  # encrypted key without a passphrase, or the reverse
                raise CaKeyLocked() from exc
            except ValueError as exc:
                raise CaKeyLocked(f"cannot load the CA key: {exc}") from exc
            self._chain = load_chain(self.paths)
            self._ra = None
            self._stamp = stamp
        return self._ca, list(self._chain)

    def ra(self) -> ca_mod.Issued:
        """The SCEP RA certificate and key (made on first use for the current CA)."""
        ca, _ = self.load()
        if self._ra is None:
            self._ra = load_or_make_ra(self.paths, ca, utcnow())
        return self._ra


def hash_name(cert: x509.Certificate) -> str:
    algorithm = cert.signature_hash_algorithm
    return algorithm.name if algorithm else "none"


def cert_sha256(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


@dataclass(frozen=True, slots=True)
class CertificateView:
    serial: str
    kind: str
    subject: str
    account: str | None
    not_after: dt.datetime
    sha256: str
    revoked: bool


@dataclass(frozen=True, slots=True)
class ServerCertView:
    subject: str
    dns_names: tuple[str, ...]
    ips: tuple[str, ...]
    not_after: dt.datetime
    signature_hash: str
    chain: tuple[str, ...]  # subjects of the certificates sent after the leaf
    opinions: tuple[Opinion, ...]
    warnings: tuple[str, ...] = ()


def _view(row: IssuedCertificate) -> CertificateView:
    return CertificateView(
        row.serial, row.kind, row.subject, row.account, row.not_after, row.sha256, row.revoked_at is not None
    )


def certificate_row(
    cert: x509.Certificate, kind: str, account: str | None, tx: str | None
) -> IssuedCertificate:
    return IssuedCertificate(
        serial=f"{cert.serial_number:X}",
        kind=kind,
        subject=cert.subject.rfc4514_string(),
        account=account,
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        sha256=cert_sha256(cert),
        transaction_id=tx,
        pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    )


def describe_server_cert(paths: PkiPaths, now: dt.datetime) -> ServerCertView:
    certs = x509.load_pem_x509_certificates(paths.server_cert.read_bytes())
    leaf, above = certs[0], certs[1:]
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = tuple(san.get_values_for_type(x509.DNSName))
        ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        dns, ips = (), ()
    key = leaf.public_key()
    bits = key.key_size if isinstance(key, rsa.RSAPublicKey) else 0
    hashes = [hash_name(leaf)] + [hash_name(c) for c in above if c.subject != c.issuer]
    facts = CertFacts(dns, tuple(hashes), bits, leaf.not_valid_after_utc)
    return ServerCertView(
        subject=leaf.subject.rfc4514_string(),
        dns_names=dns,
        ips=ips,
        not_after=leaf.not_valid_after_utc,
        signature_hash=hash_name(leaf),
        chain=tuple(c.subject.rfc4514_string() for c in above),
        opinions=tuple(judge_all(facts, now)),
    )


class PkiService:
    def __init__(self, runtime: Runtime) -> None:
        self.settings: Settings = runtime.settings
        self.db: Database = runtime.db
        self.paths = runtime.paths.pki
        self.authority = Authority(self.paths, runtime.settings.pki.ca_key_passphrase_file)

    # -- names and the listener certificate ----------------------------------------------------------

    def server_names(self) -> ServerNames:
        # The DHCP domains phones append to ucupdates-r2: [pki] dhcp_domains, else the [site] plan's.
        site = self.settings.site
        domains = self.settings.pki.dhcp_domains or [d for d in [site.dhcp_domain, *site.search_domains] if d]
        try:
            return server_names(
                self.settings.server_names,
                domains,
                self.settings.server_ips or ["127.0.0.1"],
                fallback=default_server_names(),
            )
        except ValueError as exc:
            raise BadCaMaterial(f"server names: {exc}") from exc

    async def issue_server(self, actor: Actor, *, legacy_sha1: bool = False) -> ServerCertView:
        """Issue (or renew) the listener certificate; the running server picks it up from disk."""
        ca, _ = self.authority.load()
        names = self.server_names()
        hash_label = "sha1" if legacy_sha1 else self.settings.pki.signature_hash
        now = utcnow()
        leaf = await asyncio.to_thread(
            issue_server_cert,
            self.paths,
            ca,
            names.dns,
            names.ips,
            now=now,
            days=self.settings.pki.server_cert_days,
            key_bits=self.settings.pki.key_bits,
            hash_algorithm=ca_mod.signature_hash(hash_label),
        )
        async with self.db.session() as session:
            session.add(certificate_row(leaf.certificate, "server", None, None))
            await record_change(
                session,
                actor,
                "pki.issue_server",
                "certificate",
                f"{leaf.certificate.serial_number:X}",
                after={"dns": list(names.dns), "ips": list(names.ips), "hash": hash_label},
            )
            await session.commit()
        view = describe_server_cert(self.paths, now)
        warnings = []
        if hash_label == "sha1":
            warnings.append(
                "SHA-1 legacy profile: only for CX700 1.0.x (OCS 2007 R2) phones; current clients and "
                "OpenSSL at its default security level refuse SHA-1 certificates, so phonehome's own HTTPS "
                "listener keeps its current certificate (serve these files from a legacy front end)"
            )
        return dataclasses.replace(view, warnings=tuple(warnings))

    def show(self) -> tuple[list[x509.Certificate], ServerCertView]:
        _, chain = self.authority.load()
        return chain, describe_server_cert(self.paths, utcnow())

    # -- the CA ----------------------------------------------------------------------------------------

    async def new_ca(self, actor: Actor, common_name: str | None, days: int) -> x509.Certificate:
        now = utcnow()
        name = common_name or f"phonehome CA {socket.gethostname()}"
        ca = await asyncio.to_thread(ca_mod.make_ca, name, now=now, days=days)
        install_ca(self.paths, ca, [], self.authority.passphrase())
        await self._ca_changed(actor, "pki.init_ca", ca.certificate)
        return ca.certificate

    async def import_ca(
        self, actor: Actor, cert_pem: bytes, key_pem: bytes, chain_pem: bytes, key_passphrase: bytes | None
    ) -> x509.Certificate:
        try:
            certs = x509.load_pem_x509_certificates(cert_pem)
            chain = x509.load_pem_x509_certificates(chain_pem) if chain_pem.strip() else []
        except ValueError as exc:
            raise BadCaMaterial(f"cannot read the certificate: {exc}") from exc
        try:
            key = serialization.load_pem_private_key(key_pem, key_passphrase)
        except TypeError as exc:
            raise BadCaMaterial("the key is encrypted: give --key-passphrase-file") from exc
        except ValueError as exc:
            raise BadCaMaterial(f"cannot read the key (wrong passphrase?): {exc}") from exc
        cert, chain = certs[0], [*certs[1:], *chain]
        try:
            check_ca_material(cert, key, chain)
        except ValueError as exc:
            raise BadCaMaterial(str(exc)) from exc
        assert isinstance(key, rsa.RSAPrivateKey)  # checked above
        install_ca(self.paths, ca_mod.Issued(cert, key), chain, self.authority.passphrase())
        await self._ca_changed(actor, "pki.import_ca", cert)
        return cert

    async def _ca_changed(self, actor: Actor, action: str, cert: x509.Certificate) -> None:
        async with self.db.session() as session:
            await record_change(
                session,
                actor,
                action,
                "ca",
                f"{cert.serial_number:X}",
                after={"subject": cert.subject.rfc4514_string(), "sha256": cert_sha256(cert)},
            )
            await session.commit()

    # -- issued certificates (the backups slice maps device certificates to accounts with these) --------

    async def certificates(self, account: str | None = None, limit: int = 500) -> list[CertificateView]:
        query = select(IssuedCertificate).order_by(IssuedCertificate.id.desc()).limit(limit)
        if account:
            query = query.where(IssuedCertificate.account == account)
        async with self.db.session() as session:
            return [_view(row) for row in (await session.scalars(query)).all()]

    async def device_certificate(self, sha256: str) -> CertificateView | None:
        """The device certificate with this DER fingerprint, if phonehome issued it (revoked or not)."""
        async with self.db.session() as session:
            row = await session.scalar(
                select(IssuedCertificate).where(
                    IssuedCertificate.sha256 == sha256.lower(), IssuedCertificate.kind == "device"
                )
            )
        return _view(row) if row else None

    async def is_revoked(self, sha256: str) -> bool:
        """True when phonehome issued this device certificate and it has been revoked since."""
        view = await self.device_certificate(sha256)
        return view is not None and view.revoked

    async def revoke(self, actor: Actor, serial: str) -> CertificateView:
        async with self.db.session() as session:
            row = await session.scalar(
                select(IssuedCertificate).where(IssuedCertificate.serial == serial.upper().lstrip("0"))
            )
            if row is None:
                raise CertificateNotFound(f"no certificate with serial {serial}")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                await record_change(session, actor, "pki.revoke", "certificate", row.serial)
                await session.commit()
            return _view(row)


def chain_subjects(chain: Sequence[x509.Certificate]) -> list[str]:
    return [c.subject.rfc4514_string() for c in chain]
