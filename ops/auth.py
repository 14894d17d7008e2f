"""Passwords (argon2id through passlib), login with lockout, and user accounts."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from passlib.context import CryptContext
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Annotator, Team, User, utcnow
from ops import audit
from ops.errors import LoginError, NotFound, ValidationError
from ops.permissions import ROLES, Principal, require
from ops.settings import get_settings

MIN_PASSWORD_LENGTH = 8


@lru_cache(maxsize=1)
def password_context() -> CryptContext:
    """The one hashing policy: argon2id; older hashes get upgraded on login."""
    return CryptContext(schemes=["argon2"], argon2__type="ID", deprecated="auto")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    hashed: str = password_context().hash(password)
    return hashed


def verify_password(password: str, password_hash: str) -> bool:
    """True when ``password`` matches ``password_hash``."""
    return bool(password_context().verify(password, password_hash))


def principal_for(user: User) -> Principal:
    """The ops view of a logged-in user."""
    return Principal(
        username=user.username,
        role=user.role,
        user_id=user.id,
        annotator_id=user.annotator_id,
        team_id=user.team_id,
    )


def authenticate(
    session: Session, username: str, password: str, *, now: dt.datetime | None = None
) -> Principal:
    """Check a login; count failures and lock the account after too many.

    The caller commits, so a failed attempt is recorded even though login fails.
    """
    settings = get_settings()
    now = now or utcnow()
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None or not user.is_active:
        # Hash anyway so an unknown name takes as long as a wrong password.
        verify_password(password, _DUMMY_HASH())
        raise LoginError("Unknown user name or wrong password.")
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise LoginError(
            f"This account is locked after {settings.max_failed_logins} failed logins. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''} "
            f"(at {user.locked_until:%H:%M} UTC), or ask an admin."
        )
    if not verify_password(password, user.password_hash):
        user.failed_logins += 1
        if user.failed_logins >= settings.max_failed_logins:
            user.locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
            user.failed_logins = 0
            audit.record(session, Principal(username, user.role, user.id), "user.locked", user)
            raise LoginError(
                f"Too many failed logins: this account is locked for "
                f"{settings.lockout_minutes} minutes."
            )
        left = settings.max_failed_logins - user.failed_logins
        raise LoginError(
            f"Unknown user name or wrong password. {left} attempt{'s' if left != 1 else ''} "
            "left before the account is locked."
        )
    if password_context().needs_update(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return principal_for(user)


@lru_cache(maxsize=1)
def _DUMMY_HASH() -> str:  # noqa: N802 - a constant computed once
    return hash_password("not-a-real-password")


def create_user(
    session: Session,
    actor: Principal,
    *,
    username: str,
    role: str,
    password: str,
    annotator_email: str | None = None,
    team_name: str | None = None,
) -> User:
    """Add a login; an annotator login is tied to the annotator with that email."""
    require(actor, "user.create")
    username = username.strip()
    if not username:
        raise ValidationError("User name must not be empty.", field="username")
    if role not in ROLES:
        raise ValidationError(
            f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.", field="role"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    if session.scalars(select(User.id).where(User.username == username)).first() is not None:
        raise ValidationError(f"A user named {username!r} already exists.", field="username")
    annotator_id = None
    if role == "annotator" and not annotator_email:
        raise ValidationError(
            "An annotator login must be tied to an annotator: pass --annotator EMAIL.",
            field="annotator",
        )
    if annotator_email:
        annotator = session.scalars(
            select(Annotator).where(Annotator.email == annotator_email.strip().lower())
        ).one_or_none()
        if annotator is None:
            raise NotFound(f"No annotator with email {annotator_email!r}.")
        annotator_id = annotator.id
    team_id = None
    if team_name:
        team = session.scalars(select(Team).where(Team.name == team_name)).one_or_none()
        if team is None:
            raise NotFound(f"No team named {team_name!r}.")
        team_id = team.id
    user = User(
        username=username,
        role=role,
        password_hash=hash_password(password),
        annotator_id=annotator_id,
        team_id=team_id,
    )
    session.add(user)
    after = {"username": username, "role": role, "annotator_id": annotator_id, "team_id": team_id}
    audit.record(session, actor, "user.create", user, after=after)
    return user
