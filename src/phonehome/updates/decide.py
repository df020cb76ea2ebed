"""The update decision: which version a checking-in device is offered, if any.

Pure: the service hands in the rule, the images the store holds for it and whether the device is a
test device; nothing here reads a clock, the database or the request.

* Test devices get the Pending version when there is one; every other device gets Approved; while a
  rule is restored, the Restore version.
* Upgrade paths: an image may name the oldest version it installs from (``min_from``). The device is
  offered the newest image it can install now that does not pass the target, so a CX700 goes
  1.0.199.123 → 1.0.522.101 → 3.5.6907.35 one check-in at a time (1.0.199.123 "does not recognize
  builds greater than 1.0.522.*").
* Going back (Restore, or Reset for a test device) is offered only to a device that runs a version
  this rule's store holds: a device with firmware newer than anything we know is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from phonehome.updates.rules import RuleState
from phonehome.updates.versions import Version, is_version


@dataclass(frozen=True, slots=True)
class Image:
    version: str
    min_from: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    version: str | None
    reason: str

    @property
    def offers(self) -> bool:
        return self.version is not None


def target_version(state: RuleState, test_device: bool) -> str | None:
    if test_device and state.pending:
        return state.pending
    if state.restored:
        return state.restore
    return state.approved


def decide(
    current: str | None, state: RuleState | None, images: Iterable[Image], *, test_device: bool
) -> Decision:
    if state is None:
        return Decision(None, "no rule for this device")
    target = target_version(state, test_device)
    if target is None:
        return Decision(None, "the rule serves no version")
    by_version = {Version.parse(img.version): img for img in images}
    goal = Version.parse(target)
    now = Version.parse(current) if current and is_version(current) else None
    if now == goal:
        return Decision(None, f"up to date on {target}")
    if now is not None and now > goal:
        if now in by_version and goal in by_version:
            return Decision(target, f"back from {current} to {target}")
        return Decision(None, f"runs {current}, newer than {target}")
    reachable = [
        version
        for version, img in by_version.items()
        if version <= goal
        and (now is None or version > now)
        and (img.min_from is None or (now is not None and now >= Version.parse(img.min_from)))
    ]
    if not reachable:
        return Decision(None, f"no image installs from {current or 'an unknown version'} towards {target}")
    best = max(reachable)
    step = "" if best == goal else f" (a step towards {target})"
    return Decision(str(by_version[best].version), f"update to {by_version[best].version}{step}")
