"""Passwords (argon2id through passlib), the password policy, login with lockout, new users."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from importlib import resources

from passlib.context import CryptContext
from sqlalchemy.orm import Session

from db.models import User, utcnow
from db.queries import people
from db.queries import users as queries
from ops import audit
from ops.errors import LoginError, NotFound, ValidationError
from ops.permissions import ROLES, Principal, require
from ops.settings import get_settings

MIN_PASSWORD_LENGTH = 12
MAX_USERNAME_LENGTH = 120
# Lower-case letters, digits and . _ - @ +: an email address works as a login name, while
# look-alike characters from other scripts cannot make a second "admin".
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@+-]*")


# argon2id with 19 MiB of memory, 2 passes and one lane: one of the equivalent settings
# OWASP's password storage guidance recommends. Each login's hash holds its memory while it
# runs, so several people logging in at once add that much each to the dashboard process;
# the library's default (64 MiB, 3 passes, 4 lanes) made five logins at once add over
# 300 MB. Hashes made with other settings are rehashed with these at the next login.
ARGON2_MEMORY_KIB = 19_456
ARGON2_PASSES = 2
ARGON2_LANES = 1


@lru_cache(maxsize=1)
def password_context() -> CryptContext:
    """The one hashing policy: argon2id with the settings above; hashes made otherwise
    (another scheme or other settings) get upgraded on login."""
    return CryptContext(
        schemes=["argon2"],
        argon2__type="ID",
        argon2__memory_cost=ARGON2_MEMORY_KIB,
        argon2__rounds=ARGON2_PASSES,
        argon2__parallelism=ARGON2_LANES,
        deprecated="auto",
    )


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    hashed: str = password_context().hash(password)
    return hashed


def verify_password(password: str, password_hash: str) -> bool:
    """True when ``password`` matches ``password_hash``."""
    return bool(password_context().verify(password, password_hash))


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-case."""
    text = resources.files("ops").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def check_password(password: str, *, username: str | None = None) -> None:
    """Refuse a password that is blank, short, common or the user name itself."""
    if not password.strip():
        raise ValidationError("The password must not be empty or only spaces.", field="password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long "
            f"(this one has {len(password)}).",
            field="password",
        )
    folded = password.lower()
    if folded in common_passwords() or folded.strip() in common_passwords():
        raise ValidationError(
            "This password is on the list of common passwords that attackers try first; "
            "choose another.",
            field="password",
        )
    if username is not None and folded.strip() == username.strip().lower():
        raise ValidationError("The password must not be the user name.", field="password")


def normalise_username(username: str) -> str:
    """The stored form of a login name: trimmed and lower-case; refuses odd characters."""
    name = username.strip().lower()
    if not name:
        raise ValidationError("User name must not be empty.", field="username")
    if len(name) > MAX_USERNAME_LENGTH:
        raise ValidationError(
            f"User name must be at most {MAX_USERNAME_LENGTH} characters.", field="username"
        )
    if not USERNAME_PATTERN.fullmatch(name):
        # The name is not repeated: it may hold anything, and messages are shown as Markdown.
        raise ValidationError(
            "A user name may use only letters a-z, digits and . _ - @ +, "
            "and must start with a letter or digit.",
            field="username",
        )
    return name


def principal_for(user: User) -> Principal:
    """The ops view of a logged-in user."""
    return Principal(
        username=user.username,
        role=user.role,
        user_id=user.id,
        annotator_id=user.annotator_id,
        team_id=user.team_id,
    )


def may_log_in(session: Session, user: User) -> str | None:
    """Why ``user`` may not log in or stay logged in (disabled, archived); None if they may."""
    if not user.is_active:
        return "disabled"
    if queries.is_annotator_archived(session, annotator_id=user.annotator_id):
        return "annotator archived"
    return None


def login_refusal() -> LoginError:
    """The one message for every refused login, so it never tells which names exist."""
    settings = get_settings()
    return LoginError(
        "Unknown user name or wrong password. After "
        f"{settings.max_failed_logins} failed attempts in a row an account is locked for "
        f"{settings.lockout_minutes} minutes; an admin can unlock it sooner."
    )


def authenticate(
    session: Session, username: str, password: str, *, now: dt.datetime | None = None
) -> Principal:
    """Check a login; count failures and lock the account after too many.

    Every refusal raises the same LoginError after the same work (one password hash
    check), whether the name is unknown, the account locked or disabled, or the password
    wrong. Each attempt is counted before the password is checked, in one atomic UPDATE,
    so parallel guesses get no more than ``max_failed_logins`` checks before the lock.
    Every outcome is audited. The caller commits, so a failed attempt is recorded even
    though the login fails.
    """
    settings = get_settings()
    now = now or utcnow()
    name = username.strip().lower()[:MAX_USERNAME_LENGTH]
    actor = Principal(username=name or "(no name)", role="")
    user = queries.reserve_login_attempt(session, username=name, now=now) if name else None
    if user is None:
        verify_password(password, _DUMMY_HASH())
        known = queries.get_user_by_name(session, username=name) if name else None
        if known is None:
            audit.record(
                session, actor, "login.failed", ("users", None), after={"reason": "unknown user"}
            )
        else:
            reason = "locked" if known.is_active else "disabled"
            audit.record(session, actor, "login.failed", known, after={"reason": reason})
        raise login_refusal()
    actor = Principal(username=user.username, role=user.role, user_id=user.id)
    blocked = may_log_in(session, user)
    if blocked is not None:
        verify_password(password, _DUMMY_HASH())
        audit.record(session, actor, "login.failed", user, after={"reason": blocked})
        raise login_refusal()
    # Past the limit without a lock (attempts made while the login was blocked): lock now,
    # so the count starts over when the lock runs out.
    if user.failed_logins > settings.max_failed_logins:
        verify_password(password, _DUMMY_HASH())
        _lock(session, actor, user, now)
        raise login_refusal()
    if not verify_password(password, user.password_hash):
        attempts = user.failed_logins
        if attempts >= settings.max_failed_logins:
            _lock(session, actor, user, now)
        else:
            audit.record(
                session,
                actor,
                "login.failed",
                user,
                after={"reason": "wrong password", "failed_logins": attempts},
            )
        raise login_refusal()
    rehashed = (
        hash_password(password) if password_context().needs_update(user.password_hash) else None
    )
    queries.record_login(session, user_id=user.id, now=now, password_hash=rehashed)
    audit.record(session, actor, "login", user, after={"at": now.isoformat()})
    return principal_for(user)


def _lock(session: Session, actor: Principal, user: User, now: dt.datetime) -> None:
    until = now + dt.timedelta(minutes=get_settings().lockout_minutes)
    attempts = user.failed_logins
    queries.lock_user(session, user_id=user.id, until=until)
    audit.record(
        session,
        actor,
        "user.locked",
        user,
        after={"failed_logins": attempts, "locked_until": until.isoformat()},
    )


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
    require(actor, "user.manage")
    username = normalise_username(username)
    if role not in ROLES:
        raise ValidationError(
            f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.", field="role"
        )
    check_password(password, username=username)
    if queries.get_user_by_name(session, username=username) is not None:
        raise ValidationError(f"A user named {username!r} already exists.", field="username")
    annotator_id = None
    if role == "annotator" and not annotator_email:
        raise ValidationError(
            "An annotator login must be tied to an annotator: choose the annotator (on the "
            "command line, --annotator EMAIL).",
            field="annotator",
        )
    if annotator_email:
        annotator = people.get_annotator_by_email(session, email=annotator_email.strip().lower())
        if annotator is None:
            raise NotFound(f"No annotator with email {annotator_email!r}.")
        if annotator.archived_at is not None:
            raise ValidationError(
                f"{annotator_email} is archived; restore them before giving them a login.",
                field="annotator",
            )
        if queries.get_user_by_annotator(session, annotator_id=annotator.id) is not None:
            raise ValidationError(f"{annotator_email} already has a login.", field="annotator")
        annotator_id = annotator.id
    team_id = None
    if team_name:
        team = people.get_team_by_name(session, name=team_name)
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
