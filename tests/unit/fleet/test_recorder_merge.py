"""Merging the sightings of one device within a batch: newer non-empty fields win."""

from __future__ import annotations

import datetime as dt

from phonehome.fleet.recorder import device_key, merge, merge_batch
from phonehome.fleet.service import Sighting

T0 = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
MAC = "00-04-F2-00-00-01"


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


FULL = Sighting(
    MAC,
    "SN1",
    "UCPhone",
    "Polycom",
    "CX700",
    "A",
    "ENU",
    "1.0.522.101",
    "10.0.0.1",
    "alice@contoso.com",
    "Redmond",
    last_offer="3.5.6907.35",
)


def test_device_key_prefers_the_mac() -> None:
    assert device_key(FULL) == ("mac", MAC)
    assert device_key(Sighting(None, "SN1")) == ("serial", "SN1")


def test_newer_non_empty_fields_win() -> None:
    newer = Sighting(MAC, None, version="3.5.6907.35", ip="10.0.0.2", last_offer="")
    merged = merge(FULL, newer)
    assert merged.version == "3.5.6907.35" and merged.ip == "10.0.0.2"
    # What the newer sighting left empty keeps the older value.
    assert (merged.serial, merged.model, merged.user, merged.site) == (
        "SN1",
        "CX700",
        "alice@contoso.com",
        "Redmond",
    )
    # "" is said: nothing was offered the second time.
    assert merged.last_offer == ""


def test_last_offer_none_is_not_said() -> None:
    merged = merge(FULL, Sighting(MAC, None, version="1.0.522.101"))
    assert merged.last_offer == "3.5.6907.35"
    assert (
        merge(Sighting(MAC, None), Sighting(MAC, None, last_offer="1.0.522.101")).last_offer == "1.0.522.101"
    )
    assert merge(Sighting(MAC, None, last_offer=""), Sighting(MAC, None)).last_offer == ""


def test_merge_of_a_repeat_is_the_same_sighting() -> None:
    assert merge(FULL, FULL) == FULL
    assert merge(Sighting(MAC, None), FULL) == FULL


def test_merge_batch_one_entry_per_device_latest_time() -> None:
    other = Sighting("00-04-F2-00-00-02", None, model="CX600")
    serial_only = Sighting(None, "SN9", model="CX3000")
    batch = [
        (FULL, at(5)),
        (other, at(1)),
        (Sighting(MAC, None, ip="10.0.0.3", last_offer=""), at(9)),
        (serial_only, at(2)),
        (Sighting(MAC, None, user="bob@contoso.com"), at(3)),  # arrived later, stamped earlier
    ]
    merged = merge_batch(batch)
    assert list(merged) == [("mac", MAC), ("mac", "00-04-F2-00-00-02"), ("serial", "SN9")]
    sighting, seen = merged[("mac", MAC)]
    assert seen == at(9)  # the latest time of the device's sightings
    assert (sighting.ip, sighting.user, sighting.last_offer, sighting.version) == (
        "10.0.0.3",
        "bob@contoso.com",
        "",
        "1.0.522.101",
    )
    assert merged[("mac", "00-04-F2-00-00-02")] == (other, at(1))
    assert merged[("serial", "SN9")] == (serial_only, at(2))


def test_merge_batch_keeps_a_mac_sighting_apart_from_a_serial_only_one() -> None:
    """A serial-only sighting and a MAC sighting with that serial are different keys here; the
    recorder's create-or-adopt step (integration tests) is what makes them one row."""
    merged = merge_batch([(Sighting(None, "SN1"), at(0)), (FULL, at(1))])
    assert set(merged) == {("serial", "SN1"), ("mac", MAC)}


def test_merge_batch_of_nothing() -> None:
    assert merge_batch([]) == {}
