"""What each simulated phone will do in a run, pure and seeded: when it boots, whether it takes an
offered image, where its download is cut off, whether it backs up."""

from __future__ import annotations

import random
from dataclasses import dataclass

from phonehome.sim.identities import Identity

# A phone follows an upgrade path one image per check-in (CX700: 1.0.199.123 → 1.0.522.101 → 3.5.x);
# this bounds the check-ins one phone makes in a run.
MAX_CHECK_INS = 4


@dataclass(frozen=True, slots=True)
class Settings:
    boot_storm: float = 10.0
    download_fraction: float = 1.0
    interrupt_fraction: float = 0.1
    backup_fraction: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.boot_storm < 0:
            raise ValueError("boot storm must be 0 seconds or more")
        for name in ("download_fraction", "interrupt_fraction", "backup_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name.replace('_', ' ')} must be between 0 and 1, not {value}")


@dataclass(frozen=True, slots=True)
class PhonePlan:
    boot_at: float  # seconds after the start of the run
    downloads: bool
    # Where an interrupted download is cut, as a share of the image (None: not interrupted).
    interrupt_at: float | None
    backs_up: bool


def plan(phones: list[Identity], settings: Settings) -> list[PhonePlan]:
    """One plan per phone. Each phone draws the same five numbers whatever the settings, so changing a
    fraction changes only that decision, and phone i's plan does not depend on the fleet's size."""
    plans = []
    for phone in phones:
        rng = random.Random(f"phonehome-sim-plan/{settings.seed}/{phone.index}")
        boot, take, cut, where, backup = (rng.random() for _ in range(5))
        downloads = phone.family == "lpe" and take < settings.download_fraction
        interrupt_at = 0.1 + 0.8 * where if downloads and cut < settings.interrupt_fraction else None
        backs_up = phone.backup_file is not None and backup < settings.backup_fraction
        plans.append(PhonePlan(boot * settings.boot_storm, downloads, interrupt_at, backs_up))
    return plans


def backup_content(phone: Identity, boot: int) -> bytes:
    """The settings file this phone writes on its ``boot``-th boot, as the phone itself would encode it."""
    if phone.family == "avaya":
        # 96xx H.323 backup files are UTF-16LE with a BOM and CR LF line ends (Avaya 1600/9610 guides).
        lines = [
            f"# {phone.model} {phone.mac} boot {boot}",
            f"SPEEDDIAL=1;Reception;{1000 + phone.index % 9000}",
            f"SPEEDDIAL=2;Helpdesk;{2000 + phone.index % 7000}",
            "AUDIOPATH=1",
            "LANGUAGE=English",
        ]
        return "\ufeff".encode("utf-16-le") + "\r\n".join(lines).encode("utf-16-le") + b"\r\x00\n\x00"
    entries = "".join(
        f"<item><fn>Contact</fn><ln>{n}</ln><ct>{1000 + n}</ct><sd>{n}</sd></item>" for n in range(1, 4)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<!-- {phone.mac_hex} boot {boot} -->\n<directory><item_list>{entries}</item_list></directory>\n"
    ).encode()
