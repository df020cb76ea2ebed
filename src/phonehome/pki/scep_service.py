"""SCEP enrolment: challenges, PKCSReq/RenewalReq, pending requests and CertPoll.

Every refusal is answered with a signed CertRep FAILURE (or HTTP 400 when the message cannot be
answered at all), issues nothing, and leaves a change-log row and a log line naming the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from phonehome.changelog import Actor, record_change
from phonehome.db import utcnow
from phonehome.pki import ca as ca_mod
from phonehome.pki.cms import CmsError, Recipient, UnsupportedAlgorithm, open_enveloped
from phonehome.pki.enrol import EnrolRefused, read_csr
from phonehome.pki.errors import BadAccount, BadScepMessage, TransactionNotFound, TransactionNotPending
from phonehome.pki.models import IssuedCertificate, ScepChallenge, ScepTransaction
from phonehome.pki.scep import (
    FailInfo,
    MessageType,
    PkiStatus,
    ScepError,
    ScepRequest,
    degenerate_ca_certs,
    parse_pki_message,
    render_cert_rep,
)
from phonehome.pki.service import PkiService, cert_sha256, certificate_row

log = logging.getLogger("phonehome.pki.scep")

ACCOUNT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


def check_account(account: str) -> str:
    if not ACCOUNT_RE.fullmatch(account):
        raise BadAccount(f"invalid account {account!r}: letters, digits and . _ @ + - (at most 128)")
    return account


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Outcome:
    status: PkiStatus
    fail_info: FailInfo | None = None
    reason: str = ""
    issued: x509.Certificate | None = None
    cipher: str = "aes128_cbc"


def _refuse(fail_info: FailInfo, reason: str, cipher: str = "aes128_cbc") -> Outcome:
    return Outcome(PkiStatus.FAILURE, fail_info, reason, cipher=cipher)


@dataclass(frozen=True, slots=True)
class PendingView:
    transaction_id: str
    subject: str
    created_at: dt.datetime


class ScepService:
    def __init__(self, pki: PkiService) -> None:
        self.pki = pki
        self.settings = pki.settings.pki
        self.db = pki.db

    # -- GetCACert ----------------------------------------------------------------------------------

    def ca_certs(self) -> tuple[str, bytes]:
        """GetCACert: the RA (clients encrypt to it and verify replies with it), then the CA chain."""
        _, chain = self.pki.authority.load()
        ra = self.pki.authority.ra()
        return "application/x-x509-ca-ra-cert", degenerate_ca_certs([ra.certificate, *chain])

    # -- challenges -----------------------------------------------------------------------------------

    async def new_challenge(self, actor: Actor, account: str, hours: float | None = None) -> str:
        """A one-time challenge password for ``account`` (shown once; only its hash is kept)."""
        check_account(account)
        password = secrets.token_urlsafe(18)
        now = utcnow()
        expires = now + dt.timedelta(hours=hours or self.settings.scep_challenge_hours)
        async with self.db.session() as session:
            session.add(
                ScepChallenge(
                    account=account, password_sha256=_sha256(password), created_at=now, expires_at=expires
                )
            )
            await record_change(
                session,
                actor,
                "pki.scep_challenge",
                "account",
                account,
                after={"expires": expires.isoformat()},
            )
            await session.commit()
        return password

    # -- PKIOperation ---------------------------------------------------------------------------------

    async def pki_operation(self, der: bytes, remote: str) -> bytes:
        """Answer one pkiMessage with a signed CertRep; unreadable messages raise BadScepMessage (400)."""
        try:
            request = parse_pki_message(der)
        except ScepError as exc:
            await self._audit(remote, None, "scep.refuse", {"reason": str(exc)})
            raise BadScepMessage(f"SCEP PKIOperation: {exc}") from exc
        ca, chain = self.pki.authority.load()
        ra = self.pki.authority.ra()
        now = utcnow()
        if request.problem is not None:
            outcome = _refuse(request.problem, request.problem_reason)
        elif request.message_type in (MessageType.PKCS_REQ, MessageType.RENEWAL_REQ):
            outcome = await self._enrol(
                request, ca, [(ra.certificate, ra.key), (ca.certificate, ca.key)], now
            )
        elif request.message_type == MessageType.CERT_POLL:
            outcome = await self._poll(request, [(ra.certificate, ra.key), (ca.certificate, ca.key)])
        else:
            outcome = _refuse(FailInfo.BAD_REQUEST, f"messageType {request.message_type} is not supported")
        detail = {"message_type": request.message_type, "status": outcome.status.name}
        if outcome.status is PkiStatus.FAILURE:
            detail |= {"fail_info": outcome.fail_info.name if outcome.fail_info is not None else None}
            detail |= {"reason": outcome.reason}
            await self._audit(remote, request.transaction_id, "scep.refuse", detail)
        issued = [outcome.issued] if outcome.issued else []
        return render_cert_rep(
            request,
            outcome.status,
            signer=ra.certificate,
            key=ra.key,
            extra_certs=chain,
            now=now,
            fail_info=outcome.fail_info,
            issued=issued,
            cipher=outcome.cipher,
        )

    async def _audit(
        self, remote: str, transaction: str | None, action: str, detail: dict[str, object]
    ) -> None:
        log.warning("SCEP request refused", extra={"peer": remote, "transaction": transaction, **detail})
        async with self.db.session() as session:
            await record_change(
                session, Actor(f"scep:{remote}"), action, "scep_transaction", transaction or "-", after=detail
            )
            await session.commit()

    async def _enrol(
        self, request: ScepRequest, ca: ca_mod.Issued, keys: list[Recipient], now: dt.datetime
    ) -> Outcome:
        if request.envelope is None:
            return _refuse(FailInfo.BAD_REQUEST, "the message carries no enveloped request")
        try:
            opened = open_enveloped(request.envelope, keys)
        except UnsupportedAlgorithm as exc:
            return _refuse(FailInfo.BAD_ALG, str(exc))
        except CmsError as exc:
            return _refuse(FailInfo.BAD_MESSAGE_CHECK, str(exc))
        try:
            facts = read_csr(opened.content, min_key_bits=self.settings.scep_min_key_bits)
        except EnrolRefused as exc:
            return _refuse(exc.fail_info, exc.reason, opened.cipher)
        key_sha = hashlib.sha256(
            facts.csr.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ).hexdigest()
        async with self.db.session() as session:
            known = await session.scalar(
                select(ScepTransaction).where(ScepTransaction.transaction_id == request.transaction_id)
            )
            if known is not None:
                return await self._repeat(session, known, key_sha, opened.cipher)
            account, refusal = await self._authorise(
                session, request, facts.challenge, facts.common_name, now
            )
            if refusal is not None:
                return dataclass_replace_cipher(refusal, opened.cipher)
            tx = ScepTransaction(
                transaction_id=request.transaction_id,
                status="pending" if account is None else "issued",
                account=account,
                csr_der=opened.content,
                key_sha256=key_sha,
                created_at=now,
                updated_at=now,
            )
            session.add(tx)
            issued = None
            if account is not None:
                issued = self._sign(ca, facts.csr, account, now)
                tx.serial = f"{issued.serial_number:X}"
                session.add(certificate_row(issued, "device", account, request.transaction_id))
                await record_change(
                    session,
                    Actor(f"scep:{account}"),
                    "pki.scep_issue",
                    "certificate",
                    tx.serial,
                    after={"account": account, "transaction": request.transaction_id},
                )
            try:
                await session.commit()
            except IntegrityError:
                return _refuse(FailInfo.BAD_REQUEST, "transaction id already in use", opened.cipher)
        if issued is None:
            return Outcome(PkiStatus.PENDING, cipher=opened.cipher)
        return Outcome(PkiStatus.SUCCESS, issued=issued, cipher=opened.cipher)

    async def _authorise(
        self,
        session: AsyncSession,
        request: ScepRequest,
        challenge: str | None,
        common_name: str | None,
        now: dt.datetime,
    ) -> tuple[str | None, Outcome | None]:
        """The account to issue for (None = pending), or the refusal."""
        renewing = await session.scalar(
            select(IssuedCertificate).where(
                IssuedCertificate.sha256 == cert_sha256(request.signer),
                IssuedCertificate.kind == "device",
                IssuedCertificate.revoked_at.is_(None),
                IssuedCertificate.not_after > now,
            )
        )
        if renewing is not None and renewing.account:
            return renewing.account, None  # signed with a valid device certificate we issued: renewal
        if request.message_type == MessageType.RENEWAL_REQ:
            return None, _refuse(
                FailInfo.BAD_MESSAGE_CHECK, "renewal not signed by a valid device certificate"
            )
        if challenge is None:
            if self.settings.scep_allow_pending:
                return None, None
            return None, _refuse(FailInfo.BAD_REQUEST, "no challenge password in the request")
        shared = self.settings.scep_shared_challenge
        if shared and hmac.compare_digest(challenge.encode(), shared.encode()):
            if not common_name or not ACCOUNT_RE.fullmatch(common_name):
                return None, _refuse(FailInfo.BAD_REQUEST, "shared challenge: the CN must name the account")
            return common_name, None
        digest = _sha256(challenge)
        result = await session.execute(
            update(ScepChallenge)
            .where(
                ScepChallenge.password_sha256 == digest,
                ScepChallenge.used_at.is_(None),
                ScepChallenge.expires_at > now,
            )
            .values(used_at=now, used_by=request.transaction_id)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None, _refuse(FailInfo.BAD_REQUEST, "wrong, expired or already used challenge password")
        account = await session.scalar(
            select(ScepChallenge.account).where(ScepChallenge.password_sha256 == digest)
        )
        return account, None

    async def _repeat(self, session: AsyncSession, tx: ScepTransaction, key_sha: str, cipher: str) -> Outcome:
        """A retransmitted request (the client lost our answer): same key, same answer."""
        if tx.key_sha256 != key_sha:
            return _refuse(FailInfo.BAD_REQUEST, "transaction id reused with another key", cipher)
        return await self._answer_for(session, tx, cipher)

    async def _answer_for(self, session: AsyncSession, tx: ScepTransaction, cipher: str) -> Outcome:
        if tx.status == "pending":
            return Outcome(PkiStatus.PENDING, cipher=cipher)
        if tx.status == "rejected":
            return _refuse(FailInfo.BAD_REQUEST, tx.reason or "rejected by an admin", cipher)
        row = await session.scalar(select(IssuedCertificate).where(IssuedCertificate.serial == tx.serial))
        if row is None:
            return _refuse(FailInfo.BAD_CERT_ID, "the issued certificate is no longer on record", cipher)
        return Outcome(
            PkiStatus.SUCCESS, issued=x509.load_pem_x509_certificate(row.pem.encode()), cipher=cipher
        )

    async def _poll(self, request: ScepRequest, keys: list[Recipient]) -> Outcome:
        cipher = "aes128_cbc"
        if request.envelope is not None:
            try:
                cipher = open_enveloped(request.envelope, keys).cipher
            except CmsError as exc:
                return _refuse(FailInfo.BAD_MESSAGE_CHECK, str(exc))
        async with self.db.session() as session:
            tx = await session.scalar(
                select(ScepTransaction).where(ScepTransaction.transaction_id == request.transaction_id)
            )
            if tx is None:
                return _refuse(FailInfo.BAD_CERT_ID, "no request with this transaction id", cipher)
            return await self._answer_for(session, tx, cipher)

    def _sign(
        self, ca: ca_mod.Issued, csr: x509.CertificateSigningRequest, account: str, now: dt.datetime
    ) -> x509.Certificate:
        return ca_mod.certify(
            ca,
            csr.public_key(),
            common_name=account,
            now=now,
            days=self.settings.device_cert_days,
            server=False,
            client=True,
            hash_algorithm=ca_mod.signature_hash(self.settings.signature_hash),
        )

    # -- pending requests (scep_allow_pending) -----------------------------------------------------------

    async def pending(self) -> list[PendingView]:
        async with self.db.session() as session:
            rows = (
                await session.scalars(select(ScepTransaction).where(ScepTransaction.status == "pending"))
            ).all()
        return [
            PendingView(
                r.transaction_id, x509.load_der_x509_csr(r.csr_der).subject.rfc4514_string(), r.created_at
            )
            for r in rows
        ]

    async def decide(self, actor: Actor, transaction_id: str, account: str | None, reason: str = "") -> str:
        """Approve (``account`` given: issue for it) or reject a pending request; the phone's next
        CertPoll gets the answer. Returns the new status."""
        if account is not None:
            check_account(account)
        ca, _ = self.pki.authority.load()
        now = utcnow()
        async with self.db.session() as session:
            tx = await session.scalar(
                select(ScepTransaction).where(ScepTransaction.transaction_id == transaction_id)
            )
            if tx is None:
                raise TransactionNotFound(f"no SCEP transaction {transaction_id}")
            if tx.status != "pending":
                raise TransactionNotPending(f"SCEP transaction {transaction_id} is {tx.status}, not pending")
            tx.updated_at = now
            if account is None:
                tx.status, tx.reason = "rejected", reason or "rejected by an admin"
            else:
                issued = self._sign(ca, x509.load_der_x509_csr(tx.csr_der), account, now)
                tx.status, tx.account, tx.serial = "issued", account, f"{issued.serial_number:X}"
                session.add(certificate_row(issued, "device", account, transaction_id))
            await record_change(
                session,
                actor,
                f"pki.scep_{tx.status}",
                "scep_transaction",
                transaction_id,
                after={"account": account},
            )
            await session.commit()
            return tx.status


def dataclass_replace_cipher(outcome: Outcome, cipher: str) -> Outcome:
    return Outcome(outcome.status, outcome.fail_info, outcome.reason, outcome.issued, cipher)
