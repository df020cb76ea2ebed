from __future__ import annotations

import pytest

from phonehome.updates.versions import FilterRule, Version, VersionError, VersionPattern, filter_refusal


def test_versions_order_numerically() -> None:
    chain = ["1.0.199.123", "1.0.522.101", "3.5.6907.35", "3.5.6907.187", "4.0.7577.4372", "4.0.7577.4387"]
    assert sorted(chain, key=Version.parse) == chain
    assert Version.parse("1.0") == Version.parse("1.0.0.0")
    assert str(Version.parse("01.0.522.101")) == "1.0.522.101"


@pytest.mark.parametrize("bad", ["", "1..2", "a.b", "1.0.-1", "1.0.522.101.1.2.3", "\u0661.\u0662", "1.0 .1"])
def test_bad_versions(bad: str) -> None:
    with pytest.raises(VersionError):
        Version.parse(bad)


@pytest.mark.parametrize(
    ("pattern", "version", "expected"),
    [
        ("1.0.199.*", "1.0.199.0", 0),
        ("1.0.199.*", "1.0.199.123", 0),
        ("1.0.199.*", "1.0.198.999", -1),
        ("1.0.199.*", "1.0.522.101", 1),
        ("1.0.522.101", "1.0.522.101", 0),
        ("1.0.522.101", "1.0.522.100", -1),
        ("*", "9.9", 0),
    ],
)
def test_pattern_compare(pattern: str, version: str, expected: int) -> None:
    assert VersionPattern.parse(pattern).compare(Version.parse(version)) == expected


def test_client_version_filter_from_the_cx700_guide() -> None:
    rules = [FilterRule.parse("OCPhone >= 1.0.199.*")]
    assert filter_refusal(rules, {"ucphone"}, "1.0.199.123") is None
    assert filter_refusal(rules, {"ucphone"}, "3.5.6907.35") is None
    refusal = filter_refusal(rules, {"ucphone"}, "1.0.198.5")
    assert refusal is not None and "refuses version 1.0.198.5" in refusal
    assert filter_refusal(rules, {"ucphone"}, None) is not None
    assert filter_refusal(rules, {"roundtable"}, "0.1") is None  # the line names another client
    assert filter_refusal([FilterRule.parse("RoundTable != 2.0.*")], {"roundtable"}, "2.0.5") is not None


@pytest.mark.parametrize("bad", ["OCPhone", ">= 1.0", "OCPhone >> 1.0", "OCPhone >= x.y", "OCPhone >= 1.*.2"])
def test_bad_filter_lines(bad: str) -> None:
    with pytest.raises(VersionError):
        FilterRule.parse(bad)
