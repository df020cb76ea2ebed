"""What each phone family will think of a server certificate (pure, from the seeds).

- CX700 1.0.x on OCS 2007 R2: "SHA2 is not supported" (CX700 deployment guide, TLS call flow), so
  every certificate above the trust anchor must be SHA-1 signed.
- Lync Phone Edition (CX600/CX700/CX3000, Aastra 672x, HP 4110/4120) unregistered: fetches updates
  from ``ucupdates-r2`` and ``ucupdates-r2.<DHCP domain>``, and the certificate must carry both the
  short name and the FQDN (Lync 2013 seed). Signature hashes beyond SHA-256 are not documented.
- Avaya 96x0/96x1 and Polycom UCS: chain up to a CA the phone was given (TRUSTCERTS / provisioning);
  no documented hash or name quirk beyond the usual.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from phonehome.pki.names import UPDATE_HOSTS


class Verdict(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAILS = "fails"


@dataclass(frozen=True, slots=True)
class CertFacts:
    """What the checks need to know about a server certificate and the chain above it."""

    dns_names: tuple[str, ...]
    signature_hashes: tuple[str, ...]  # leaf first, then each intermediate (not the trust anchor)
    key_bits: int
    not_after: dt.datetime


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    hashes: frozenset[str]  # signature hashes the firmware can verify
    untested_hashes: frozenset[str] = frozenset()  # likely fine, not documented
    needs_update_names: bool = False
    max_key_bits: int = 4096


@dataclass(frozen=True, slots=True)
class Opinion:
    profile: str
    verdict: Verdict
    reasons: tuple[str, ...]


PROFILES: tuple[Profile, ...] = (
    Profile(
        "CX700 1.0.x (OCS 2007 R2)", hashes=frozenset({"sha1"}), needs_update_names=True, max_key_bits=2048
    ),
    Profile(
        "Lync Phone Edition 4.0 (CX600/CX700/CX3000, Aastra 672x, HP 4110/4120)",
        hashes=frozenset({"sha1", "sha256"}),
        untested_hashes=frozenset({"sha384", "sha512"}),
        needs_update_names=True,
    ),
    Profile("Avaya 96x0/96x1 (TRUSTCERTS)", hashes=frozenset({"sha1", "sha256", "sha384", "sha512"})),
    Profile("Polycom UCS (VVX)", hashes=frozenset({"sha1", "sha256", "sha384", "sha512"})),
)

EXPIRY_WARNING = dt.timedelta(days=30)


def missing_update_names(dns_names: Sequence[str]) -> list[str]:
    """ucupdates-r2 short name and at least one ucupdates-r2.<domain>, as the Lync seed asks."""
    names = {n.lower() for n in dns_names}
    missing = []
    if UPDATE_HOSTS[0] not in names:
        missing.append(UPDATE_HOSTS[0])
    if not any(n.startswith(UPDATE_HOSTS[0] + ".") for n in names):
        missing.append(f"{UPDATE_HOSTS[0]}.<DHCP domain>")
    return missing


def judge(profile: Profile, facts: CertFacts, now: dt.datetime) -> Opinion:
    fails: list[str] = []
    warnings: list[str] = []
    for position, name in enumerate(facts.signature_hashes):
        where = "certificate" if position == 0 else "intermediate CA"
        if name in profile.untested_hashes:
            warnings.append(f"{name.upper()} signature on the {where}: not documented for this firmware")
        elif name not in profile.hashes:
            family = "SHA-2" if name.startswith("sha") and name != "sha1" else name.upper()
            fails.append(f"{family} signature not supported ({name.upper()} on the {where})")
    if facts.key_bits > profile.max_key_bits:
        warnings.append(f"{facts.key_bits}-bit key: firmware documented up to {profile.max_key_bits}")
    if profile.needs_update_names:
        missing = missing_update_names(facts.dns_names)
        if missing:
            fails.append("no SAN for " + " and ".join(missing) + " (device updates will fail)")
    if facts.not_after <= now:
        fails.append("expired")
    elif facts.not_after - now < EXPIRY_WARNING:
        warnings.append(f"expires in {(facts.not_after - now).days} days")
    verdict = Verdict.FAILS if fails else Verdict.WARNING if warnings else Verdict.OK
    return Opinion(profile.name, verdict, tuple(fails + warnings))


def judge_all(facts: CertFacts, now: dt.datetime) -> list[Opinion]:
    return [judge(p, facts, now) for p in PROFILES]
