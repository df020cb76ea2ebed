"""Simulated phones' identities: who each phone says it is, per fleet profile, pure and seeded.

A fleet is a deterministic function of (profile, size, seed): the same command line gives the same MACs,
serials, extensions and backup passwords, so an admin can create the backup accounts first
(``phonehome simulate --list-accounts``) and a benchmark can be repeated.

Two kinds of phone: Lync Phone Edition sets (Polycom CX600/CX700/CX3000, Aastra 6721ip/6725ip, HP
4110/4120) check in to ``ucdevice.upx`` and download images; Avaya 96x1 H.323 sets and Polycom VVX (UC
Software) back up their settings files to BRURI with their own Basic credentials.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

Family = Literal["lpe", "avaya", "polycom"]


class UnknownProfile(ValueError):
    """The fleet profile is not one this simulator knows."""


@dataclass(frozen=True, slots=True)
class Model:
    brand: str
    model: str
    revision: str
    family: Family
    oui: str
    # Versions seen in the field; a phone starts on one of them.
    versions: tuple[str, ...]


# OUIs from the IEEE registry: Polycom 00-04-F2, Aastra 00-08-5D, Hewlett-Packard 00-21-5A, Avaya 00-1B-4F.
CX700 = Model("Polycom", "CX700", "A", "lpe", "00-04-F2", ("1.0.199.123", "1.0.522.101", "3.5.6907.35"))
CX600 = Model("Polycom", "CX600", "A", "lpe", "00-04-F2", ("4.0.7577.4363", "4.0.7577.4372"))
CX3000 = Model("Polycom", "CX3000", "A", "lpe", "00-04-F2", ("4.0.7577.4363", "4.0.7577.4372"))
AASTRA_6721 = Model("Aastra", "6721ip", "A", "lpe", "00-08-5D", ("4.0.7577.4363", "4.0.7577.4372"))
AASTRA_6725 = Model("Aastra", "6725ip", "A", "lpe", "00-08-5D", ("4.0.7577.4363", "4.0.7577.4372"))
HP_4110 = Model("HP", "4110", "A", "lpe", "00-21-5A", ("4.0.7577.4363", "4.0.7577.4372"))
HP_4120 = Model("HP", "4120", "A", "lpe", "00-21-5A", ("4.0.7577.4363", "4.0.7577.4372"))
AVAYA_9611 = Model("Avaya", "9611G", "A", "avaya", "00-1B-4F", ("6.8.5.3.2",))
AVAYA_9641 = Model("Avaya", "9641G", "A", "avaya", "00-1B-4F", ("6.8.5.3.2",))
VVX_410 = Model("Polycom", "VVX410", "A", "polycom", "00-04-F2", ("5.9.7.3480",))

# (model, weight): the mix is roughly what a site migrating off Lync 2013 still has on desks.
PROFILES: dict[str, tuple[tuple[Model, int], ...]] = {
    "mix": (
        (CX600, 20),
        (CX700, 10),
        (CX3000, 3),
        (AASTRA_6721, 8),
        (AASTRA_6725, 8),
        (HP_4110, 6),
        (HP_4120, 5),
        (AVAYA_9611, 20),
        (AVAYA_9641, 10),
        (VVX_410, 10),
    ),
    "cx700": ((CX700, 1),),
    "cx600": ((CX600, 1),),
    "avaya": ((AVAYA_9611, 2), (AVAYA_9641, 1)),
}
LOCALE = "ENU"
MAX_PHONES = 1_000_000
FIRST_EXTENSION = 4000


@dataclass(frozen=True, slots=True)
class Identity:
    index: int
    mac: str  # 00-04-F2-12-34-56, the form Lync logs and phonehome's access log use
    serial: str
    brand: str
    model: str
    revision: str
    locale: str
    family: Family
    version: str
    # The backup account this phone signs in with (Avaya: its extension; VVX: an account bound to its MAC).
    account: str
    password: str
    extension: str

    @property
    def mac_hex(self) -> str:
        """``0004f2123456``: how Polycom UC Software names its files."""
        return self.mac.replace("-", "").lower()

    @property
    def backup_file(self) -> str | None:
        """The settings file this phone PUTs to BRURI and reads back at boot."""
        if self.family == "avaya":
            return f"{self.extension}_96xxdata.txt"
        if self.family == "polycom":
            return f"{self.mac_hex}-directory.xml"
        return None


def _serial(model: Model, mac: str, rng: random.Random) -> str:
    if model.brand == "Polycom":
        return mac.replace("-", "")  # Polycom prints the MAC as the serial number
    if model.brand == "Aastra":
        return f"A{rng.randrange(10**9):09d}"
    if model.brand == "HP":
        return f"CN{rng.randrange(10**8):08d}"
    return f"{rng.randrange(10**2):02d}WZ{rng.randrange(10**8):08d}"


def _nic_permutation(seed: str) -> tuple[int, int]:
    """An odd multiplier and an offset: ``(i * a + b) mod 2**24`` is a bijection, so NIC parts never repeat."""
    rng = random.Random(f"phonehome-sim-nic/{seed}")
    return rng.randrange(1 << 23) * 2 + 1, rng.randrange(1 << 24)


def phone(profile: str, index: int, seed: int = 0) -> Identity:
    """Phone number ``index`` of the fleet: the same whatever the fleet's size."""
    if profile not in PROFILES:
        raise UnknownProfile(f"unknown profile {profile!r}; choose one of {', '.join(sorted(PROFILES))}")
    if not 0 <= index < MAX_PHONES:
        raise ValueError(f"phone index must be between 0 and {MAX_PHONES - 1}")
    rng = random.Random(f"phonehome-sim/{profile}/{seed}/{index}")
    models = [m for m, _ in PROFILES[profile]]
    weights = [w for _, w in PROFILES[profile]]
    model = rng.choices(models, weights)[0]
    a, b = _nic_permutation(f"{profile}/{seed}")
    nic = (index * a + b) % (1 << 24)
    mac = f"{model.oui}-{nic >> 16:02X}-{(nic >> 8) & 0xFF:02X}-{nic & 0xFF:02X}"
    extension = str(FIRST_EXTENSION + index)
    return Identity(
        index=index,
        mac=mac,
        serial=_serial(model, mac, rng),
        brand=model.brand,
        model=model.model,
        revision=model.revision,
        locale=LOCALE,
        family=model.family,
        version=rng.choice(model.versions),
        account=extension if model.family == "avaya" else f"sim-{mac.replace('-', '').lower()}",
        password=f"{rng.getrandbits(64):016x}",
        extension=extension,
    )


def fleet(profile: str, phones: int, seed: int = 0) -> list[Identity]:
    """``phones`` distinct phones drawn from ``profile``; phone i is the same in a fleet of any size."""
    if not 0 <= phones <= MAX_PHONES:
        raise ValueError(f"phones must be between 0 and {MAX_PHONES}")
    if profile not in PROFILES:
        raise UnknownProfile(f"unknown profile {profile!r}; choose one of {', '.join(sorted(PROFILES))}")
    return [phone(profile, index, seed) for index in range(phones)]
