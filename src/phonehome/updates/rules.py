"""The device update rule and its state machine, as the Lync cmdlets define it.

A rule is keyed by (DeviceType, Brand, Model, Revision, Locale) and holds three versions:

* Import                      the imported version becomes Pending (test devices only);
* Approve-CsDeviceUpdateRule  Pending → Approved; the old Approved becomes the Restore version;
* Reset-CsDeviceUpdateRule    clears Pending (only a rule with a Pending version);
* Restore-CsDeviceUpdateRule  serves the Restore version again, although it is older; a later
                              Approve ends the rollback;
* Remove-CsDeviceUpdateRule   deletes the rule (done by the service).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from phonehome.updates.versions import Version

Action = Literal["import", "approve", "reset", "restore"]


class InvalidTransition(ValueError):
    """The rule is not in a state that allows this action."""


@dataclass(frozen=True, slots=True)
class RuleKey:
    device_type: str
    brand: str
    model: str
    revision: str
    locale: str

    @property
    def path(self) -> str:
        """``UCPhone/Polycom/CX700/A/ENU``: the store path and the rule's name."""
        return "/".join((self.device_type, self.brand, self.model, self.revision, self.locale))

    @property
    def match_key(self) -> str:
        """Phones and IIS compare these case-insensitively."""
        return self.path.lower()


@dataclass(frozen=True, slots=True)
class RuleState:
    approved: str | None = None
    pending: str | None = None
    restore: str | None = None
    restored: bool = False

    @property
    def status(self) -> str:
        if self.restored:
            return "restored"
        if self.pending:
            return "pending"
        return "approved" if self.approved else "empty"

    def as_dict(self) -> dict[str, object]:
        return {
            "approved": self.approved,
            "pending": self.pending,
            "restore": self.restore,
            "restored": self.restored,
        }


def import_version(state: RuleState, version: str) -> RuleState:
    """A freshly imported version is Pending, unless the rule already serves or holds it."""
    Version.parse(version)
    if version in (state.pending, state.approved):
        return state
    return replace(state, pending=version)


def approve(state: RuleState) -> RuleState:
    if state.pending is None:
        raise InvalidTransition("nothing to approve: the rule has no pending version")
    # During a rollback the Restore version is what devices run, so it stays the one to go back to.
    restore = state.restore if state.restored else (state.approved or state.restore)
    return RuleState(approved=state.pending, pending=None, restore=restore, restored=False)


def reset(state: RuleState) -> RuleState:
    if state.pending is None:
        raise InvalidTransition("nothing to reset: the rule has no pending version")
    return replace(state, pending=None)


def restore(state: RuleState) -> RuleState:
    if state.restored:
        raise InvalidTransition("the rule is already restored")
    if state.approved is None:
        raise InvalidTransition("nothing to restore: the rule has no approved version")
    return replace(state, restored=True)


def apply(state: RuleState, action: Action, version: str | None = None) -> RuleState:
    if action == "import":
        if version is None:
            raise InvalidTransition("import needs a version")
        return import_version(state, version)
    return {"approve": approve, "reset": reset, "restore": restore}[action](state)


def referenced_versions(state: RuleState) -> set[str]:
    """Versions a rule still points at: the images Clear-CsDeviceUpdateFile must keep."""
    return {v for v in (state.approved, state.pending, state.restore) if v}
