"""User accounts for admins: list, enable and disable, unlock, reset passwords, change access.

Every change is audited with the account before and after (never the password hash), and
every change that takes rights away ends the user's sessions at their next click.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from db.models import User, utcnow
from db.queries import people
from db.queries import users as queries
from ops import audit
from ops.auth import check_password, hash_password
from ops.errors import NotFound, ValidationError
from ops.permissions import ROLES, Principal, require
from ops.sessions import revoke_sessions


@dataclass(frozen=True)
class UserRow:
    """One login as the Users page lists it."""

    id: int
    username: str
    role: str
    active: bool
    team: str | None
    annotator: str | None
    annotator_archived: bool
    last_login_at: dt.datetime | None
    locked_until: dt.datetime | None
    open_sessions: int
    created_at: dt.datetime


@dataclass(frozen=True)
class AnnotatorChoice:
    """An annotator a login can be tied to."""

    email: str
    label: str


@dataclass(frozen=True)
class UserChoices:
    """What the Users page's forms offer."""

    roles: tuple[str, ...]
    teams: list[str]
    annotators: list[AnnotatorChoice]


def list_users(
    session: Session, actor: Principal, *, now: dt.datetime | None = None
) -> list[UserRow]:
    """Every login by name, with its team, linked annotator, lock and open sessions."""
    require(actor, "user.manage")
    now = now or utcnow()
    return [
        UserRow(
            id=row.user.id,
            username=row.user.username,
            role=row.user.role,
            active=row.user.is_active,
            team=row.team_name,
            annotator=row.annotator_email,
            annotator_archived=row.annotator_archived,
            last_login_at=row.user.last_login_at,
            locked_until=row.user.locked_until
            if row.user.locked_until is not None and row.user.locked_until > now
            else None,
            open_sessions=row.open_sessions,
            created_at=row.user.created_at,
        )
        for row in queries.list_users(session, now=now)
    ]


def user_choices(session: Session, actor: Principal) -> UserChoices:
    """Roles, teams, and the annotators that have no login yet."""
    require(actor, "user.manage")
    return UserChoices(
        roles=ROLES,
        teams=[team.name for team in people.list_teams(session)],
        annotators=[
            AnnotatorChoice(
                email=person.email or "", label=f"{person.display_name} <{person.email}>"
            )
            for person in queries.list_linkable_annotators(session)
        ],
    )


def set_enabled(
    session: Session,
    actor: Principal,
    user_id: int,
    *,
    enabled: bool,
    now: dt.datetime | None = None,
) -> User:
    """Enable or disable a login; disabling ends its sessions. The last admin stays enabled."""
    require(actor, "user.manage")
    user = _load(session, user_id)
    if user.is_active == enabled:
        raise ValidationError(
            f"{user.username} is already {'enabled' if enabled else 'disabled'}.", field="enabled"
        )
    if not enabled:
        _keep_an_admin(session, user, "disable")
    before = _facts(session, user)
    user.is_active = enabled
    ended = 0 if enabled else revoke_sessions(session, user.id, reason="disabled", now=now)
    audit.record(
        session,
        actor,
        "user.enable" if enabled else "user.disable",
        user,
        before=before,
        after=_facts(session, user) | ({} if enabled else {"sessions_ended": ended}),
    )
    return user


def unlock(session: Session, actor: Principal, user_id: int) -> User:
    """Lift a lockout after failed logins before it runs out."""
    require(actor, "user.manage")
    user = _load(session, user_id)
    before = {
        "locked_until": audit.jsonable(user.locked_until),
        "failed_logins": user.failed_logins,
    }
    user.locked_until = None
    user.failed_logins = 0
    audit.record(
        session,
        actor,
        "user.unlock",
        user,
        before=before,
        after={"locked_until": None, "failed_logins": 0},
    )
    return user


def reset_password(
    session: Session,
    actor: Principal,
    user_id: int,
    password: str,
    *,
    now: dt.datetime | None = None,
) -> User:
    """Set a new password (same policy as new users); ends the user's sessions, lifts a lock."""
    require(actor, "user.manage")
    user = _load(session, user_id)
    check_password(password, username=user.username)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    ended = revoke_sessions(session, user.id, reason="password reset", now=now)
    audit.record(
        session,
        actor,
        "user.password_reset",
        user,
        before=None,
        after={"password": "changed", "sessions_ended": ended},
    )
    return user


def change_access(
    session: Session,
    actor: Principal,
    user_id: int,
    *,
    role: str,
    team_name: str | None,
    annotator_email: str | None,
    now: dt.datetime | None = None,
) -> User:
    """Change a login's role, team and linked annotator; ends its sessions if anything changed."""
    require(actor, "user.manage")
    user = _load(session, user_id)
    if role not in ROLES:
        raise ValidationError(
            f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.", field="role"
        )
    team_id = None
    if team_name:
        team = people.get_team_by_name(session, name=team_name)
        if team is None:
            raise NotFound(f"No team named {team_name!r}.")
        team_id = team.id
    annotator_id = None
    if annotator_email:
        annotator = people.get_annotator_by_email(session, email=annotator_email.strip().lower())
        if annotator is None:
            raise NotFound(f"No annotator with email {annotator_email!r}.")
        holder = queries.get_user_by_annotator(session, annotator_id=annotator.id)
        if holder is not None and holder.id != user.id:
            raise ValidationError(
                f"{annotator_email} already has the login {holder.username!r}.", field="annotator"
            )
        if annotator.archived_at is not None and annotator.id != user.annotator_id:
            raise ValidationError(f"{annotator_email} is archived.", field="annotator")
        annotator_id = annotator.id
    if role == "annotator" and annotator_id is None:
        raise ValidationError("An annotator login must be tied to an annotator.", field="annotator")
    if (role, team_id, annotator_id) == (user.role, user.team_id, user.annotator_id):
        raise ValidationError(f"Nothing to change for {user.username}.", field="role")
    if role != "admin":
        _keep_an_admin(session, user, "demote")
    before = _facts(session, user)
    user.role, user.team_id, user.annotator_id = role, team_id, annotator_id
    session.flush()
    ended = revoke_sessions(session, user.id, reason="access changed", now=now)
    audit.record(
        session,
        actor,
        "user.access",
        user,
        before=before,
        after=_facts(session, user) | {"sessions_ended": ended},
    )
    return user


def _load(session: Session, user_id: int) -> User:
    user = queries.get_user_by_id(session, user_id=user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def _keep_an_admin(session: Session, user: User, verb: str) -> None:
    """Refuse to leave no enabled admin; the admin rows stay locked until commit."""
    if user.role != "admin" or not user.is_active:
        return
    others = [
        other for other in queries.list_active_admin_ids(session, lock=True) if other != user.id
    ]
    if not others:
        raise ValidationError(
            f"{user.username} is the last enabled admin and cannot be {verb}d; "
            "make another user admin first.",
            field="role" if verb == "demote" else "enabled",
        )


def _facts(session: Session, user: User) -> dict[str, Any]:
    """What the audit keeps of a login: names rather than ids, never the password hash."""
    team = None if user.team_id is None else people.get_team(session, team_id=user.team_id)
    annotator = (
        None
        if user.annotator_id is None
        else people.get_annotator(session, annotator_id=user.annotator_id)
    )
    return {
        "username": user.username,
        "role": user.role,
        "enabled": user.is_active,
        "team": None if team is None else team.name,
        "annotator": None if annotator is None else annotator.email,
    }
