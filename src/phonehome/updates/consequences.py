"""What phones will do after an action on a device update rule, in words for the confirmation page (pure).

The same decision the check-in makes (``decide.target_version``), before and after the action, told
with the versions the inventory says phones of this rule run.
"""

from __future__ import annotations

from collections.abc import Mapping

from phonehome.updates import rules
from phonehome.updates.decide import target_version
from phonehome.updates.rules import RuleState
from phonehome.updates.versions import Version, is_version

ACTIONS = ("approve", "reset", "restore", "remove")


def _count(running: Mapping[str, int], keep: str | None) -> int:
    return sum(n for version, n in running.items() if version != keep)


def _older(running: Mapping[str, int], than: str) -> int:
    goal = Version.parse(than)
    return sum(n for v, n in running.items() if not is_version(v) or Version.parse(v) < goal)


def consequence(action: str, rule: str, state: RuleState, running: Mapping[str, int]) -> str:
    """``running``: firmware version → number of known phones of this rule on it.

    Raises rules.InvalidTransition when the action is not possible in this state (the page says why).
    """
    known = sum(running.values())
    fleet = f"{known} known phone{'s' if known != 1 else ''} of {rule}"
    now_serving = target_version(state, test_device=False)
    if action == "remove":
        return (
            f"The rule goes away: no phone of {rule} is offered firmware any more; each keeps the version it "
            f"runs ({fleet}). The images stay in the store until they are pruned."
        )
    after = rules.apply(state, action)  # type: ignore[arg-type]
    serving = target_version(after, test_device=False)
    if action == "approve":
        assert after.approved is not None
        moving = _older(running, after.approved)
        return (
            f"Every phone of {rule} older than {after.approved} is offered {after.approved} at its next "
            f"check-in and installs it ({moving} of {fleet} run an older version now). Test devices already "
            f"had it; {now_serving or 'nothing'} stops being offered"
            + (f" and becomes the Restore version {after.restore}." if after.restore else ".")
        )
    if action == "reset":
        return (
            f"Pending {state.pending} is dropped: test devices are no longer offered it and go back to "
            f"{serving or 'no version'} when the store holds both versions. Other phones are not affected "
            f"({fleet})."
        )
    # restore
    return (
        f"Phones of {rule} are offered {serving} again although {state.approved} is newer: "
        f"{_count(running, serving)} of {fleet} run another version and go back to {serving} at their "
        f"next check-in, when the store holds both versions. Approving a new version ends the rollback."
    )
