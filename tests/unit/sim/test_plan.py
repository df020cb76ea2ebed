from __future__ import annotations

import pytest

from phonehome.sim.identities import fleet
from phonehome.sim.plan import Settings, backup_content, plan


def test_plan_is_seeded_and_within_the_storm() -> None:
    phones = fleet("mix", 500, seed=1)
    settings = Settings(boot_storm=60.0, download_fraction=0.5, interrupt_fraction=0.5, seed=4)
    plans = plan(phones, settings)
    assert plans == plan(phones, settings)
    assert all(0.0 <= p.boot_at <= 60.0 for p in plans)
    lpe = [pl for ph, pl in zip(phones, plans, strict=True) if ph.family == "lpe"]
    others = [pl for ph, pl in zip(phones, plans, strict=True) if ph.family != "lpe"]
    assert 0 < sum(p.downloads for p in lpe) < len(lpe)
    assert not any(p.downloads for p in others)
    assert all(p.interrupt_at is None or (p.downloads and 0.1 <= p.interrupt_at <= 0.9) for p in plans)
    assert any(p.interrupt_at is not None for p in plans)
    assert all(p.backs_up for p in others) and not any(p.backs_up for p in lpe)


def test_fractions_at_the_ends() -> None:
    phones = fleet("cx700", 100)
    assert not any(p.downloads for p in plan(phones, Settings(download_fraction=0.0)))
    assert all(p.interrupt_at is None for p in plan(phones, Settings(interrupt_fraction=0.0)))
    assert all(p.boot_at == 0.0 for p in plan(phones, Settings(boot_storm=0.0)))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"boot_storm": -1.0},
        {"download_fraction": 1.5},
        {"interrupt_fraction": -0.1},
        {"backup_fraction": 2.0},
    ],
)
def test_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Settings(**kwargs)  # type: ignore[arg-type]


def test_avaya_backup_is_utf16le_with_bom_and_crlf() -> None:
    avaya = fleet("avaya", 1)[0]
    data = backup_content(avaya, 1)
    assert data[:2] == b"\xff\xfe"
    text = data[2:].decode("utf-16-le")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert backup_content(avaya, 1) != backup_content(avaya, 2)


def test_polycom_directory_is_xml() -> None:
    from defusedxml.ElementTree import fromstring

    vvx = next(p for p in fleet("mix", 50) if p.family == "polycom")
    root = fromstring(backup_content(vvx, 1))
    assert root.tag == "directory" and len(root.findall("./item_list/item")) == 3


def test_changing_one_fraction_changes_only_that_decision() -> None:
    phones = fleet("mix", 300, seed=2)
    a = plan(phones, Settings(interrupt_fraction=0.1, backup_fraction=0.3, seed=2))
    b = plan(phones, Settings(interrupt_fraction=0.9, download_fraction=0.5, backup_fraction=0.3, seed=2))
    assert [p.backs_up for p in a] == [p.backs_up for p in b]
    assert [p.boot_at for p in a] == [p.boot_at for p in b]
    assert plan(phones[:50], Settings(seed=2)) == plan(phones, Settings(seed=2))[:50]
