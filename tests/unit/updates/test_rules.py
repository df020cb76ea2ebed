from __future__ import annotations

import pytest

from phonehome.updates.rules import (
    InvalidTransition,
    RuleState,
    apply,
    approve,
    import_version,
    referenced_versions,
    reset,
    restore,
)


def test_import_then_approve_moves_old_approved_to_restore() -> None:
    state = import_version(RuleState(), "1.0.0.0")
    assert state == RuleState(pending="1.0.0.0")
    state = approve(state)
    assert state == RuleState(approved="1.0.0.0")
    state = approve(import_version(state, "1.0.0.1"))
    assert state == RuleState(approved="1.0.0.1", restore="1.0.0.0")
    assert state.status == "approved"


def test_import_is_idempotent() -> None:
    state = RuleState(approved="1.0.522.101", pending="3.5.6907.35")
    assert import_version(state, "3.5.6907.35") is state
    assert import_version(state, "1.0.522.101") is state


def test_reset_clears_pending_only_when_pending() -> None:
    state = RuleState(approved="1.0.522.101", pending="3.5.6907.35")
    assert reset(state) == RuleState(approved="1.0.522.101")
    with pytest.raises(InvalidTransition, match="no pending version"):
        reset(RuleState(approved="1.0.522.101"))


def test_restore_and_approve_after_it() -> None:
    state = RuleState(approved="3.5.6907.35", restore="1.0.522.101")
    restored = restore(state)
    assert restored.restored and restored.status == "restored"
    with pytest.raises(InvalidTransition, match="already restored"):
        restore(restored)
    # A new approval ends the rollback; the version devices were sent back to stays the restore point.
    after = approve(import_version(restored, "3.5.6907.187"))
    assert after == RuleState(approved="3.5.6907.187", restore="1.0.522.101")


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (RuleState(), "approve"),
        (RuleState(), "reset"),
        (RuleState(), "restore"),
        (RuleState(pending="1.0"), "restore"),
    ],
)
def test_invalid_transitions(state: RuleState, action: str) -> None:
    with pytest.raises(InvalidTransition):
        apply(state, action)  # type: ignore[arg-type]


def test_referenced_versions() -> None:
    assert referenced_versions(RuleState("2", "3", "1")) == {"1", "2", "3"}
    assert referenced_versions(RuleState()) == set()
