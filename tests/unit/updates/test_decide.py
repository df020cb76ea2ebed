from __future__ import annotations

import pytest

from phonehome.updates.decide import Image, decide
from phonehome.updates.rules import RuleState

CX700 = [Image("1.0.522.101"), Image("3.5.6907.35", min_from="1.0.522.0")]


@pytest.mark.parametrize(
    ("state", "current", "test_device", "offered"),
    [
        # The CX700 guide: 522 approved, 6907.35 pending.
        (RuleState("1.0.522.101", "3.5.6907.35"), "1.0.199.123", False, "1.0.522.101"),
        (RuleState("1.0.522.101", "3.5.6907.35"), "1.0.199.123", True, "1.0.522.101"),  # path: 522 first
        (RuleState("1.0.522.101", "3.5.6907.35"), "1.0.522.101", True, "3.5.6907.35"),
        (RuleState("1.0.522.101", "3.5.6907.35"), "1.0.522.101", False, None),
        # Approved: everyone on 522 moves on; 199 goes to 522 first, by itself.
        (RuleState("3.5.6907.35", None, "1.0.522.101"), "1.0.522.101", False, "3.5.6907.35"),
        (RuleState("3.5.6907.35", None, "1.0.522.101"), "1.0.199.123", False, "1.0.522.101"),
        (RuleState("3.5.6907.35", None, "1.0.522.101"), "3.5.6907.35", False, None),
        # Restore sends them back, although older.
        (RuleState("3.5.6907.35", None, "1.0.522.101", True), "3.5.6907.35", False, "1.0.522.101"),
        (RuleState("3.5.6907.35", None, "1.0.522.101", True), "1.0.522.101", False, None),
        # Reset: a test device on the dropped pending version goes back to approved.
        (RuleState("1.0.522.101"), "3.5.6907.35", True, "1.0.522.101"),
        # Firmware newer than anything this rule knows is left alone.
        (RuleState("1.0.522.101"), "4.0.7577.4387", False, None),
        (RuleState(), "1.0.522.101", False, None),
        (None, "1.0.522.101", False, None),
        # Unknown current version: only images without a minimum are reachable.
        (RuleState("3.5.6907.35"), None, False, "1.0.522.101"),
        (RuleState("3.5.6907.35"), "garbage", False, "1.0.522.101"),
    ],
)
def test_decisions(
    state: RuleState | None, current: str | None, test_device: bool, offered: str | None
) -> None:
    decision = decide(current, state, CX700, test_device=test_device)
    assert decision.version == offered, decision.reason


def test_no_path_gives_a_reason() -> None:
    decision = decide(
        "1.0.199.123", RuleState("3.5.6907.35"), [Image("3.5.6907.35", "1.0.522.0")], test_device=False
    )
    assert not decision.offers
    assert "no image installs from 1.0.199.123" in decision.reason
