from __future__ import annotations

import pytest

from phonehome.sim import identities
from phonehome.sim.identities import PROFILES, UnknownProfile, fleet


def test_same_arguments_same_fleet_other_seed_other_fleet() -> None:
    assert fleet("mix", 50, seed=1) == fleet("mix", 50, seed=1)
    assert fleet("mix", 50, seed=1) != fleet("mix", 50, seed=2)


def test_macs_are_distinct_and_carry_the_brand_oui() -> None:
    phones = fleet("mix", 2000, seed=5)
    assert len({p.mac for p in phones}) == 2000
    ouis = {"Polycom": "00-04-F2", "Aastra": "00-08-5D", "HP": "00-21-5A", "Avaya": "00-1B-4F"}
    for phone in phones:
        assert phone.mac.startswith(ouis[phone.brand] + "-")
        assert len(phone.mac) == 17 and phone.mac == phone.mac.upper()


def test_profile_restricts_models_and_versions() -> None:
    cx700 = fleet("cx700", 300, seed=0)
    assert {p.model for p in cx700} == {"CX700"}
    assert {p.version for p in cx700} == {"1.0.199.123", "1.0.522.101", "3.5.6907.35"}
    assert {(p.revision, p.locale, p.family) for p in cx700} == {("A", "ENU", "lpe")}
    assert {p.model for p in fleet("avaya", 100)} == {"9611G", "9641G"}
    mix_models = {p.model for p in fleet("mix", 3000)}
    assert mix_models == {m.model for m, _ in PROFILES["mix"]}


def test_serials_follow_the_brand() -> None:
    for phone in fleet("mix", 500, seed=9):
        if phone.brand == "Polycom":
            assert phone.serial == phone.mac.replace("-", "")
        elif phone.brand == "Aastra":
            assert phone.serial[0] == "A" and phone.serial[1:].isdigit()
        elif phone.brand == "HP":
            assert phone.serial.startswith("CN") and len(phone.serial) == 10


def test_backup_files_and_accounts() -> None:
    phones = fleet("mix", 400, seed=2)
    avaya = next(p for p in phones if p.family == "avaya")
    assert avaya.backup_file == f"{avaya.extension}_96xxdata.txt" and avaya.account == avaya.extension
    vvx = next(p for p in phones if p.family == "polycom")
    assert vvx.backup_file == f"{vvx.mac_hex}-directory.xml" and vvx.account == f"sim-{vvx.mac_hex}"
    lpe = next(p for p in phones if p.family == "lpe")
    assert lpe.backup_file is None
    assert len({p.account for p in phones}) == 400
    assert all(len(p.password) == 16 for p in phones)


@pytest.mark.parametrize(("profile", "phones"), [("cx800", 1), ("", 1), ("mix", -1), ("mix", 1_000_001)])
def test_bad_arguments(profile: str, phones: int) -> None:
    with pytest.raises(ValueError):
        fleet(profile, phones)


def test_unknown_profile_names_the_choices() -> None:
    with pytest.raises(UnknownProfile, match="choose one of avaya, cx600, cx700, mix"):
        fleet("cisco", 1)


def test_a_phone_does_not_depend_on_the_fleet_size() -> None:
    assert fleet("mix", 10, seed=4) == fleet("mix", 300, seed=4)[:10]
    assert fleet("avaya", 8, seed=0)[7] == identities.phone("avaya", 7, seed=0)
