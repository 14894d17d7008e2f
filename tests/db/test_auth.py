"""Password hashing, login, lockout and user creation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditEntry, User
from ops.auth import authenticate, create_user, hash_password, verify_password
from ops.errors import LoginError, NotFound, PermissionDenied, ValidationError
from ops.permissions import SYSTEM, Principal
from tests.factories import make_annotator, make_user

T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def test_hash_is_argon2id_and_verifies() -> None:
    hashed = hash_password("s3cret-enough")
    assert hashed.startswith("$argon2id$")
    assert verify_password("s3cret-enough", hashed)
    assert not verify_password("s3cret-enougH", hashed)


def test_login_returns_principal_with_scope(session: Session) -> None:
    annotator = make_annotator(session)
    make_user(session, username="ana", role="annotator", annotator_email=annotator.email)
    principal = authenticate(session, "ana", "correct horse battery", now=T0)
    assert (principal.username, principal.role, principal.annotator_id) == (
        "ana",
        "annotator",
        annotator.id,
    )


def test_five_failures_lock_the_account_for_fifteen_minutes(session: Session) -> None:
    make_user(session, username="lee")
    for attempt in range(4):
        with pytest.raises(LoginError, match=f"{4 - attempt} attempt"):
            authenticate(session, "lee", "wrong", now=T0)
    with pytest.raises(LoginError, match="locked for 15 minutes"):
        authenticate(session, "lee", "wrong", now=T0)
    # The right password does not open a locked account...
    with pytest.raises(LoginError, match="locked"):
        authenticate(session, "lee", "correct horse battery", now=T0 + dt.timedelta(minutes=14))
    # ...until the lock runs out.
    principal = authenticate(
        session, "lee", "correct horse battery", now=T0 + dt.timedelta(minutes=15, seconds=1)
    )
    assert principal.username == "lee"
    user = session.scalars(select(User).where(User.username == "lee")).one()
    assert user.failed_logins == 0 and user.locked_until is None
    assert (
        session.scalars(select(AuditEntry).where(AuditEntry.action == "user.locked")).first()
        is not None
    )


def test_success_resets_the_failure_count(session: Session) -> None:
    make_user(session, username="kim")
    for _ in range(4):
        with pytest.raises(LoginError):
            authenticate(session, "kim", "wrong", now=T0)
    authenticate(session, "kim", "correct horse battery", now=T0)
    with pytest.raises(LoginError, match="4 attempts left"):
        authenticate(session, "kim", "wrong", now=T0)


def test_unknown_user_gets_the_same_message_as_a_wrong_password(session: Session) -> None:
    with pytest.raises(LoginError, match="Unknown user name or wrong password"):
        authenticate(session, "nobody", "whatever", now=T0)


def test_create_user_is_audited_without_the_password(session: Session) -> None:
    user = make_user(session, username="fin", role="finance")
    entry = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "user.create", AuditEntry.entity_id == str(user.id)
        )
    ).one()
    assert entry.after == {
        "username": "fin",
        "role": "finance",
        "annotator_id": None,
        "team_id": None,
    }
    assert "correct horse" not in str(entry.after)


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"role": "superuser"}, ValidationError, "Unknown role 'superuser'"),
        ({"password": "short"}, ValidationError, "at least 8"),
        ({"username": "  "}, ValidationError, "must not be empty"),
        ({"role": "annotator"}, ValidationError, "--annotator EMAIL"),
        (
            {"role": "annotator", "annotator_email": "ghost@example.org"},
            NotFound,
            "ghost@example.org",
        ),
        ({"role": "lead", "team_name": "Nope"}, NotFound, "No team named 'Nope'"),
    ],
)
def test_create_user_errors(
    session: Session, overrides: dict[str, str], error: type[Exception], message: str
) -> None:
    values = {"username": "new", "role": "ops", "password": "long enough pw"} | overrides
    with pytest.raises(error, match=message):
        create_user(session, SYSTEM, **values)


def test_duplicate_user_name_is_refused(session: Session) -> None:
    make_user(session, username="dup")
    with pytest.raises(ValidationError, match="already exists"):
        make_user(session, username="dup")


def test_only_admins_create_users(session: Session) -> None:
    ops = Principal(username="olga", role="ops")
    with pytest.raises(PermissionDenied):
        create_user(session, ops, username="x", role="ops", password="long enough pw")
