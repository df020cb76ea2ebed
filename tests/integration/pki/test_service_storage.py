"""ScepService and PkiService on SQLite and PostgreSQL: one-time challenges under concurrency, the
certificate record the backups slice maps client certificates with, revocation."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from asn1crypto import cms as asn1_cms
from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from phonehome.app import initialise
from phonehome.changelog import Actor
from phonehome.config import load_settings
from phonehome.pki import scep
from phonehome.pki.cms import open_enveloped
from phonehome.pki.scep_service import ScepService
from phonehome.pki.service import PkiService
from phonehome.runtime import Runtime
from tests.support.scep_client import make_csr, pki_message

ACTOR = Actor("cli:test")


def _status(reply: bytes) -> tuple[int, bytes | None]:
    info = asn1_cms.ContentInfo.load(reply)
    signer_info = info["content"]["signer_infos"][0]
    attrs = {a["type"].dotted: a["values"][0].dump() for a in signer_info["signed_attrs"]}
    content = info["content"]["encap_content_info"]["content"].native
    return int(core.load(attrs[scep.PKI_STATUS]).native), content


async def test_one_time_challenge_races_and_the_certificate_record(db_url: str, tmp_path: Path) -> None:
    settings = load_settings(flags={"data_dir": tmp_path / "data", "db_url": db_url}, environ={})
    runtime = Runtime.create(settings)
    try:
        await initialise(runtime)
        pki = PkiService(runtime)
        service = ScepService(pki)
        ra = pki.authority.ra().certificate
        password = await service.new_challenge(ACTOR, "4711")
        messages = []
        for _ in range(4):
            key = _key()
            message, enrolment = pki_message(ra, make_csr(key, "x", password), key=key)
            messages.append((message, enrolment))
        replies = await asyncio.gather(*(service.pki_operation(m, "127.0.0.1") for m, _ in messages))
        statuses = [_status(r)[0] for r in replies]
        assert sorted(statuses) == [0, 2, 2, 2]

        winner, enrolment = next(
            (r, e) for r, (_, e) in zip(replies, messages, strict=True) if _status(r)[0] == 0
        )
        content = _status(winner)[1]
        assert content is not None
        cert = pkcs7.load_der_pkcs7_certificates(
            open_enveloped(bytes(content), [(enrolment.signer, enrolment.key)]).content
        )[0]
        sha256 = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        record = await pki.device_certificate(sha256)
        assert record is not None and (record.account, record.revoked) == ("4711", False)
        assert await pki.device_certificate("0" * 64) is None
        revoked = await pki.revoke(ACTOR, record.serial)
        assert revoked.revoked
        assert (await pki.device_certificate(sha256)).revoked  # type: ignore[union-attr]
        assert [c.account for c in await pki.certificates("4711")] == ["4711"]
        assert isinstance(cert, x509.Certificate)
    finally:
        await runtime.close()


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
