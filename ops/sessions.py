"""Server-side login sessions: the browser's cookie holds a random token, the database its hash.

A login creates the session and a one-time handoff code. The logged-in tab trades the code
at the dashboard's session endpoint for an HttpOnly cookie, so the token itself is never
visible to scripts in the page. Every later page run resumes the session from the
database, which re-reads the user: a disabled, demoted or archived user is out at their
next click.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from db.models import utcnow
from db.queries import users as queries
from ops import audit
from ops.auth import may_log_in, principal_for
from ops.permissions import Principal
from ops.settings import get_settings

COOKIE_NAME = "annops_session"
HANDOFF_SECONDS = 60
# Pushing the idle expiry on at most once a minute spares a write on every click.
TOUCH_EVERY = dt.timedelta(minutes=1)


def token_digest(token: str) -> str:
    """What the database keeps of a token or code: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewSession:
    """A session just begun, and the one-time code its tab trades for the cookie."""

    session_id: int
    handoff_code: str


@dataclass(frozen=True)
class IssuedCookie:
    """The cookie value and how long the browser should keep it."""

    token: str
    max_age_seconds: int


@dataclass(frozen=True)
class ActiveSession:
    """A session still valid, and its user as they are in the database now.

    ``awaiting_cookie`` says the browser has not yet traded the handoff code for its
    cookie and still may: until it has, the tab keeps asking it to.
    """

    session_id: int
    principal: Principal
    awaiting_cookie: bool = False


def start_session(
    session: Session, principal: Principal, *, now: dt.datetime | None = None
) -> NewSession:
    """Begin a session for a user who has just logged in."""
    if principal.user_id is None:
        raise ValueError("only a stored user can have a session")
    settings = get_settings()
    now = now or utcnow()
    code = secrets.token_urlsafe(32)
    row = queries.add_user_session(
        session,
        user_id=principal.user_id,
        handoff_hash=token_digest(code),
        handoff_expires_at=now + dt.timedelta(seconds=HANDOFF_SECONDS),
        now=now,
        idle_expires_at=now + dt.timedelta(minutes=settings.session_idle_minutes),
        expires_at=now + dt.timedelta(hours=settings.session_max_hours),
    )
    return NewSession(session_id=row.id, handoff_code=code)


def claim_handoff(
    session: Session, code: str, *, now: dt.datetime | None = None
) -> IssuedCookie | None:
    """Trade a handoff code, once and within a minute, for a new cookie token; else None."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = queries.claim_session_handoff(
        session, handoff_hash=token_digest(code), token_hash=token_digest(token), now=now
    )
    if row is None:
        return None
    return IssuedCookie(token=token, max_age_seconds=int((row.expires_at - now).total_seconds()))


def resume_session(
    session: Session,
    *,
    session_id: int | None = None,
    token: str | None = None,
    now: dt.datetime | None = None,
) -> ActiveSession | None:
    """The session with ``session_id`` or cookie ``token`` if it is still valid, else None.

    Valid means: not revoked, not past its idle or absolute expiry, and its user still
    enabled and not tied to an archived annotator. The principal is built from the user
    row as it is now, so a role or team change shows at once.
    """
    now = now or utcnow()
    found = queries.get_session_and_user(
        session,
        session_id=session_id,
        token_hash=None if token is None else token_digest(token),
    )
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or row.expires_at <= now or row.idle_expires_at <= now:
        return None
    if may_log_in(session, user) is not None:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        idle = dt.timedelta(minutes=get_settings().session_idle_minutes)
        queries.touch_user_session(
            session, session_id=row.id, now=now, idle_expires_at=min(now + idle, row.expires_at)
        )
    awaiting_cookie = (
        row.handoff_hash is not None
        and row.handoff_expires_at is not None
        and row.handoff_expires_at > now
    )
    return ActiveSession(
        session_id=row.id, principal=principal_for(user), awaiting_cookie=awaiting_cookie
    )


def revoke_sessions(
    session: Session, user_id: int, *, reason: str, now: dt.datetime | None = None
) -> int:
    """End every session of ``user_id`` (effective at their next click); how many were open."""
    return queries.revoke_user_sessions(
        session, user_id=user_id, now=now or utcnow(), reason=reason
    )


def log_out(session: Session, principal: Principal, *, now: dt.datetime | None = None) -> None:
    """Log the user out everywhere: each of their sessions ends, on every device."""
    if principal.user_id is None:
        return
    ended = revoke_sessions(session, principal.user_id, reason="logout", now=now)
    audit.record(
        session, principal, "logout", ("users", principal.user_id), after={"sessions_ended": ended}
    )


def forget_cookie(session: Session, token: str, *, now: dt.datetime | None = None) -> None:
    """The browser drops its cookie: the session behind it ends too, if still open."""
    found = queries.get_session_and_user(session, token_hash=token_digest(token))
    if found is not None and found[0].revoked_at is None:
        queries.revoke_user_session(session, session_id=found[0].id, now=now or utcnow())
