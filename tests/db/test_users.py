"""Admin user management: permissions, the last admin, audit before/after, sessions ended."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditEntry, User
from ops import users
from ops.auth import authenticate
from ops.errors import LoginError, NotFound, PermissionDenied, ValidationError
from ops.permissions import ROLES, Principal
from tests.db.workforce_helpers import ADMIN
from tests.factories import make_annotator, make_team, make_user

T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def last_entry(session: Session, action: str) -> AuditEntry:
    session.flush()
    return session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
    ).first() or pytest.fail(f"no {action} entry")


CALLS: dict[str, Callable[[Session, Principal, int], Any]] = {
    "list_users": lambda session, who, _id: users.list_users(session, who),
    "user_choices": lambda session, who, _id: users.user_choices(session, who),
    "set_enabled": lambda session, who, user_id: users.set_enabled(
        session, who, user_id, enabled=False
    ),
    "unlock": lambda session, who, user_id: users.unlock(session, who, user_id),
    "reset_password": lambda session, who, user_id: users.reset_password(
        session, who, user_id, "a brand new passphrase"
    ),
    "change_access": lambda session, who, user_id: users.change_access(
        session, who, user_id, role="finance", team_name=None, annotator_email=None
    ),
}


@pytest.mark.parametrize("role", [role for role in ROLES if role != "admin"])
@pytest.mark.parametrize("call", list(CALLS))
def test_only_admins_manage_users(session: Session, role: str, call: str) -> None:
    target = make_user(session, role="ops")
    with pytest.raises(PermissionDenied):
        CALLS[call](session, Principal(username="someone", role=role), target.id)


def test_list_shows_team_annotator_lock_and_sessions(session: Session) -> None:
    make_team(session, name="Text")
    annotator = make_annotator(session, display_name="Amara Okafor")
    make_user(session, username="lena", role="lead", team_name="Text")
    make_user(session, username="amara", role="annotator", annotator_email=annotator.email)
    for _ in range(5):
        with pytest.raises(LoginError):
            authenticate(session, "lena", "wrong", now=T0)
    rows = {row.username: row for row in users.list_users(session, ADMIN, now=T0)}
    assert (rows["lena"].role, rows["lena"].team, rows["lena"].annotator) == ("lead", "Text", None)
    assert rows["lena"].locked_until == T0 + dt.timedelta(minutes=15)
    assert rows["amara"].annotator == annotator.email
    assert rows["amara"].locked_until is None and rows["amara"].active
    later = {
        row.username: row
        for row in users.list_users(session, ADMIN, now=T0 + dt.timedelta(hours=1))
    }
    assert later["lena"].locked_until is None
    choices = users.user_choices(session, ADMIN)
    assert "Text" in choices.teams
    assert annotator.email not in [choice.email for choice in choices.annotators]


def test_disable_and_enable_are_audited_before_and_after(session: Session) -> None:
    user = make_user(session, username="olga", role="ops")
    users.set_enabled(session, ADMIN, user.id, enabled=False, now=T0)
    entry = last_entry(session, "user.disable")
    assert entry.actor == ADMIN.username and entry.entity_id == str(user.id)
    assert entry.before == {
        "username": "olga",
        "role": "ops",
        "enabled": True,
        "team": None,
        "annotator": None,
    }
    assert entry.after == entry.before | {"enabled": False, "sessions_ended": 0}
    with pytest.raises(LoginError):
        authenticate(session, "olga", "correct horse battery", now=T0)
    with pytest.raises(ValidationError, match="already disabled"):
        users.set_enabled(session, ADMIN, user.id, enabled=False)
    users.set_enabled(session, ADMIN, user.id, enabled=True)
    assert last_entry(session, "user.enable").after == entry.before
    assert authenticate(session, "olga", "correct horse battery", now=T0).username == "olga"


def test_the_last_enabled_admin_stays(session: Session) -> None:
    first = make_user(session, username="root.one", role="admin")
    for other in session.scalars(select(User).where(User.role == "admin", User.id != first.id)):
        other.is_active = False
    with pytest.raises(ValidationError, match="last enabled admin and cannot be disabled"):
        users.set_enabled(session, ADMIN, first.id, enabled=False)
    with pytest.raises(ValidationError, match="last enabled admin and cannot be demoted"):
        users.change_access(
            session, ADMIN, first.id, role="ops", team_name=None, annotator_email=None
        )
    second = make_user(session, username="root.two", role="admin")
    users.change_access(session, ADMIN, first.id, role="ops", team_name=None, annotator_email=None)
    with pytest.raises(ValidationError, match="last enabled admin"):
        users.set_enabled(session, ADMIN, second.id, enabled=False)
    assert first.role == "ops" and second.is_active


def test_change_access_checks_and_records_names(session: Session) -> None:
    make_team(session, name="Vision")
    annotator = make_annotator(session)
    taken = make_annotator(session)
    make_user(session, username="holder", role="annotator", annotator_email=taken.email)
    user = make_user(session, username="rex", role="ops")
    with pytest.raises(ValidationError, match="must be tied to an annotator"):
        users.change_access(
            session, ADMIN, user.id, role="annotator", team_name=None, annotator_email=None
        )
    with pytest.raises(ValidationError, match="already has the login 'holder'"):
        users.change_access(
            session, ADMIN, user.id, role="annotator", team_name=None, annotator_email=taken.email
        )
    with pytest.raises(NotFound, match="No team named 'Nope'"):
        users.change_access(
            session, ADMIN, user.id, role="lead", team_name="Nope", annotator_email=None
        )
    with pytest.raises(ValidationError, match="Nothing to change"):
        users.change_access(
            session, ADMIN, user.id, role="ops", team_name=None, annotator_email=None
        )
    users.change_access(
        session, ADMIN, user.id, role="lead", team_name=" VISION ", annotator_email=annotator.email
    )
    entry = last_entry(session, "user.access")
    assert entry.before is not None and entry.after is not None
    assert (entry.before["role"], entry.before["team"], entry.before["annotator"]) == (
        "ops",
        None,
        None,
    )
    assert (entry.after["role"], entry.after["team"], entry.after["annotator"]) == (
        "lead",
        "Vision",
        annotator.email,
    )


def test_reset_password_applies_the_policy_and_lifts_a_lock(session: Session) -> None:
    user = make_user(session, username="kim")
    for _ in range(5):
        with pytest.raises(LoginError):
            authenticate(session, "kim", "wrong", now=T0)
    with pytest.raises(ValidationError, match="common passwords"):
        users.reset_password(session, ADMIN, user.id, "qwerty123456")
    with pytest.raises(ValidationError, match="at least 12"):
        users.reset_password(session, ADMIN, user.id, "short")
    users.reset_password(session, ADMIN, user.id, "a brand new passphrase")
    assert authenticate(session, "kim", "a brand new passphrase", now=T0).username == "kim"
    with pytest.raises(LoginError):
        authenticate(session, "kim", "correct horse battery", now=T0)
    assert last_entry(session, "user.password_reset").after == {
        "password": "changed",
        "sessions_ended": 0,
    }


def test_unlock_lifts_the_lock_now(session: Session) -> None:
    user = make_user(session, username="lee")
    for _ in range(5):
        with pytest.raises(LoginError):
            authenticate(session, "lee", "wrong", now=T0)
    users.unlock(session, ADMIN, user.id)
    assert authenticate(session, "lee", "correct horse battery", now=T0).username == "lee"
    entry = last_entry(session, "user.unlock")
    assert entry.before == {
        "locked_until": (T0 + dt.timedelta(minutes=15)).isoformat(),
        "failed_logins": 0,
    }


def test_no_audit_entry_ever_holds_a_password_or_its_hash(session: Session) -> None:
    user = make_user(session, username="secretive", role="ops")
    users.reset_password(session, ADMIN, user.id, "another fine passphrase")
    users.change_access(
        session, ADMIN, user.id, role="finance", team_name=None, annotator_email=None
    )
    with pytest.raises(LoginError):
        authenticate(session, "secretive", "typed by mistake", now=T0)
    authenticate(session, "secretive", "another fine passphrase", now=T0)
    session.flush()
    logged = json.dumps(
        [[entry.before, entry.after] for entry in session.scalars(select(AuditEntry))]
    )
    assert "argon2" not in logged and "password_hash" not in logged
    for secret in ("another fine passphrase", "typed by mistake", "correct horse battery"):
        assert secret not in logged


def test_an_unknown_user_id_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound, match="No user with id 999999"):
        users.unlock(session, ADMIN, 999_999)
