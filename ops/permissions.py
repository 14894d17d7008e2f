"""Who may see and do what. Deny by default; every write in ops/ calls ``require``."""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from db.models import ROLES as ROLES  # the database checks a login's role against these
from db.scope import EVERYONE, PeopleScope
from ops.errors import PermissionDenied

# action -> roles allowed. Anything not listed is denied.
ACTIONS: dict[str, frozenset[str]] = {
    "user.manage": frozenset({"admin"}),
    # Adding and renaming teams, and the team list with its people and leads.
    "team.manage": frozenset({"admin", "ops"}),
    "project.create": frozenset({"admin", "ops"}),
    "project.edit": frozenset({"admin", "ops"}),
    "project.view": frozenset({"admin", "ops", "lead", "finance"}),
    "annotator.view": frozenset({"admin", "ops", "lead", "finance"}),
    "annotator.edit": frozenset({"admin", "ops", "lead"}),
    "pay.view": frozenset({"admin", "ops", "finance"}),
    "pay.edit": frozenset({"admin", "ops", "finance"}),
    "coaching.view": frozenset({"admin", "ops", "lead"}),
    "coaching.edit": frozenset({"admin", "ops", "lead"}),
    "spend.view": frozenset({"admin", "ops", "finance"}),
    "import.run": frozenset({"admin", "ops"}),
    "identity.link": frozenset({"admin", "ops"}),
    "alerts.view": frozenset({"admin", "ops", "lead"}),
    "alerts.triage": frozenset({"admin", "ops", "lead"}),
    "review.plan": frozenset({"admin", "ops", "lead"}),
    "rereview.create": frozenset({"admin", "ops"}),
    "quality.view": frozenset({"ops", "lead"}),
    "jobs.view": frozenset({"admin"}),
    "jobs.run": frozenset({"admin"}),
    "audit.view": frozenset({"admin"}),
    "annotator.create": frozenset({"admin", "ops"}),
    "annotator.archive": frozenset({"admin", "ops"}),
    "contact.view": frozenset({"admin", "ops", "finance"}),
    "tier.change": frozenset({"admin", "ops"}),
    "staffing.edit": frozenset({"admin", "ops"}),
    # Seeing the staffing panel, and proposing a move that ops then approves or rejects.
    "staffing.view": frozenset({"admin", "ops", "lead"}),
    "staffing.propose": frozenset({"admin", "ops", "lead"}),
    # Weekly capacity and time off on the profile.
    "availability.edit": frozenset({"admin", "ops", "lead"}),
    "calibration.view": frozenset({"admin", "ops", "lead"}),
    "calibration.edit": frozenset({"admin", "ops", "lead"}),
    "guideline.view": frozenset({"admin", "ops", "lead"}),
    "guideline.edit": frozenset({"admin", "ops"}),
    "workforce.settings": frozenset({"admin", "ops"}),
    "feedback.acknowledge": frozenset({"annotator"}),
    "demo.load": frozenset({"admin"}),
    # Seeing a page that no action above describes exactly (ops/pages.py lists the pages).
    "home.view": frozenset({"admin", "ops", "lead", "finance"}),
    "scorecard.view_own": frozenset({"annotator"}),
    "review.view": frozenset({"ops", "lead"}),
    "team.view": frozenset({"admin", "ops", "lead"}),
    "training.view_own": frozenset({"annotator"}),
    "notify.admin": frozenset({"admin"}),
    "notify.preferences": frozenset(ROLES),
}


def allows(role: str, action: str) -> bool:
    """True when ``role`` may do ``action``; unknown roles and actions are denied."""
    return role in ACTIONS.get(action, frozenset())


@dataclass(frozen=True)
class Principal:
    """The acting user as ops sees it: role plus the scope that role is limited to."""

    username: str
    role: str
    user_id: int | None = None
    annotator_id: int | None = None
    team_id: int | None = None

    def can(self, action: str) -> bool:
        """True when this principal's role allows ``action``."""
        return allows(self.role, action)


# The command line is run by whoever operates the server, with full rights.
SYSTEM = Principal(username="system", role="admin")


def command_line_principal() -> Principal:
    """SYSTEM's rights, named after the operating-system account, for the audit log."""
    try:
        account = getpass.getuser()
    except (KeyError, OSError):
        account = "unknown"
    return Principal(username=f"cli:{account}"[:120], role="admin")


NO_TEAM = (
    "Your login leads no team yet, so there is nobody to show. "
    "Ask an admin to set your team on the Users page."
)
NO_ANNOTATOR = (
    "Your login is not linked to an annotator record, so there is nothing to show. "
    "Ask an admin to link it on the Users page."
)


def people_scope(principal: Principal) -> PeopleScope:
    """The one rule of whose records a principal may see: a lead their own team, an
    annotator themself, everyone else all; nobody (with the reason) where the link is
    missing. Every read in ops applies it, through db.scope in the queries."""
    if principal.role == "lead":
        if principal.team_id is None:
            return PeopleScope("none", reason=NO_TEAM)
        return PeopleScope("team", team_id=principal.team_id)
    if principal.role == "annotator":
        if principal.annotator_id is None:
            return PeopleScope("none", reason=NO_ANNOTATOR)
        return PeopleScope("self", annotator_id=principal.annotator_id)
    if principal.role in ROLES:
        return EVERYONE
    return PeopleScope("none", reason="Unknown role: nothing is shown.")


def require(principal: Principal, action: str) -> None:
    """Raise PermissionDenied unless the principal's role allows ``action``."""
    if not principal.can(action):
        raise PermissionDenied(
            f"{principal.username} ({principal.role}) may not {action.replace('.', ' ')}"
        )
