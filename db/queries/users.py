"""Queries about logins: user accounts, the login failure counter, and server-side sessions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.models import Annotator, Team, User, UserSession


@dataclass(frozen=True)
class UserListing:
    """One login with the names of its team and linked annotator."""

    user: User
    team_name: str | None
    annotator_email: str | None
    annotator_name: str | None
    annotator_archived: bool
    open_sessions: int


def count_users(session: Session, *, locked_at: dt.datetime | None = None) -> int:
    """User accounts; with ``locked_at``, only those locked at that moment."""
    query = select(func.count(User.id))
    if locked_at is not None:
        query = query.where(User.locked_until > locked_at)
    return int(session.scalar(query) or 0)


def get_user_by_id(session: Session, *, user_id: int) -> User | None:
    """The user with ``user_id``, or None."""
    return session.get(User, user_id)


def get_user_by_name(session: Session, *, username: str) -> User | None:
    """The user named ``username`` (stored lower-case), or None."""
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def is_annotator_archived(session: Session, *, annotator_id: int | None) -> bool:
    """True when ``annotator_id`` names an archived (or vanished) annotator."""
    if annotator_id is None:
        return False
    archived_at = session.execute(
        select(Annotator.archived_at).where(Annotator.id == annotator_id)
    ).one_or_none()
    return archived_at is None or archived_at[0] is not None


def reserve_login_attempt(session: Session, *, username: str, now: dt.datetime) -> User | None:
    """Count one more login attempt for ``username`` unless the account is locked or disabled.

    One UPDATE ... RETURNING: the database serialises concurrent attempts on the row, so
    each sees the count the previous one left and parallel guesses cannot slip past the
    limit. Returns the user with the new count, or None (no such user, locked, disabled).
    """
    return session.scalars(
        update(User)
        .where(
            User.username == username,
            User.is_active.is_(True),
            (User.locked_until.is_(None)) | (User.locked_until <= now),
        )
        .values(failed_logins=User.failed_logins + 1)
        .returning(User),
        execution_options={"populate_existing": True},
    ).one_or_none()


def record_login(
    session: Session, *, user_id: int, now: dt.datetime, password_hash: str | None = None
) -> None:
    """A successful login: the failure count and any expired lock are cleared."""
    values: dict[str, object] = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
    if password_hash is not None:
        values["password_hash"] = password_hash
    session.execute(
        update(User).where(User.id == user_id).values(**values),
        execution_options={"synchronize_session": "fetch"},
    )


def lock_user(session: Session, *, user_id: int, until: dt.datetime) -> None:
    """Lock the account until ``until``; the failure count starts over after it."""
    session.execute(
        update(User).where(User.id == user_id).values(locked_until=until, failed_logins=0),
        execution_options={"synchronize_session": "fetch"},
    )


def list_users(session: Session, *, now: dt.datetime) -> list[UserListing]:
    """Every login by name, with team, linked annotator and sessions still open at ``now``."""
    open_sessions = (
        select(func.count(UserSession.id))
        .where(
            UserSession.user_id == User.id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
            UserSession.idle_expires_at > now,
        )
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            User,
            Team.name,
            Annotator.email,
            Annotator.display_name,
            Annotator.archived_at,
            open_sessions,
        )
        .outerjoin(Team, Team.id == User.team_id)
        .outerjoin(Annotator, Annotator.id == User.annotator_id)
        .order_by(User.username)
    ).all()
    return [
        UserListing(
            user=user,
            team_name=team_name,
            annotator_email=email,
            annotator_name=display_name,
            annotator_archived=archived_at is not None,
            open_sessions=int(count),
        )
        for user, team_name, email, display_name, archived_at, count in rows
    ]


def list_active_admin_ids(session: Session, *, lock: bool = False) -> list[int]:
    """Ids of the enabled admin logins; ``lock`` holds their rows until commit."""
    query = select(User.id).where(User.role == "admin", User.is_active.is_(True))
    if lock:
        query = query.with_for_update()
    return list(session.scalars(query.order_by(User.id)))


def list_linkable_annotators(session: Session) -> list[Annotator]:
    """Annotators not archived, with an email, that no login is tied to yet; by name."""
    taken = select(User.annotator_id).where(User.annotator_id.is_not(None))
    return list(
        session.scalars(
            select(Annotator)
            .where(
                Annotator.archived_at.is_(None),
                Annotator.email.is_not(None),
                Annotator.id.not_in(taken),
            )
            .order_by(Annotator.display_name, Annotator.id)
        )
    )


def get_user_by_annotator(session: Session, *, annotator_id: int) -> User | None:
    """The login tied to ``annotator_id``, or None."""
    return session.scalars(select(User).where(User.annotator_id == annotator_id)).one_or_none()


# --- sessions ------------------------------------------------------------------------------


def add_user_session(
    session: Session,
    *,
    user_id: int,
    handoff_hash: str,
    handoff_expires_at: dt.datetime,
    now: dt.datetime,
    idle_expires_at: dt.datetime,
    expires_at: dt.datetime,
) -> UserSession:
    """A new session for ``user_id``; its cookie token is set when the handoff is claimed."""
    row = UserSession(
        user_id=user_id,
        handoff_hash=handoff_hash,
        handoff_expires_at=handoff_expires_at,
        created_at=now,
        last_seen_at=now,
        idle_expires_at=idle_expires_at,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row


def claim_session_handoff(
    session: Session, *, handoff_hash: str, token_hash: str, now: dt.datetime
) -> UserSession | None:
    """Trade a one-time handoff code for a cookie token, once: the code is cleared."""
    return session.scalars(
        update(UserSession)
        .where(
            UserSession.handoff_hash == handoff_hash,
            UserSession.handoff_expires_at > now,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
            UserSession.idle_expires_at > now,
        )
        .values(
            token_hash=token_hash,
            handoff_hash=None,
            handoff_expires_at=None,
            last_seen_at=now,
        )
        .returning(UserSession),
        execution_options={"populate_existing": True},
    ).one_or_none()


def get_session_and_user(
    session: Session, *, session_id: int | None = None, token_hash: str | None = None
) -> tuple[UserSession, User] | None:
    """A session, by id or by the hash of its cookie token, with its user; or None."""
    query = select(UserSession, User).join(User, User.id == UserSession.user_id)
    if session_id is not None:
        query = query.where(UserSession.id == session_id)
    elif token_hash is not None:
        query = query.where(UserSession.token_hash == token_hash)
    else:
        return None
    row = session.execute(query).one_or_none()
    return None if row is None else (row[0], row[1])


def touch_user_session(
    session: Session, *, session_id: int, now: dt.datetime, idle_expires_at: dt.datetime
) -> None:
    """The session was used at ``now``: push its idle expiry on."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(last_seen_at=now, idle_expires_at=idle_expires_at),
        execution_options={"synchronize_session": "fetch"},
    )


def revoke_user_sessions(session: Session, *, user_id: int, now: dt.datetime, reason: str) -> int:
    """End every open session of ``user_id``; how many were open."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason, handoff_hash=None)
        .returning(UserSession.id),
        execution_options={"synchronize_session": "fetch"},
    )
    return len(result.all())


def revoke_user_session(session: Session, *, session_id: int, now: dt.datetime) -> None:
    """End one session."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason="logout", handoff_hash=None),
        execution_options={"synchronize_session": "fetch"},
    )


def list_team_leads(session: Session) -> dict[int, list[str]]:
    """team id -> user names of the lead logins that lead it, by name."""
    rows = session.execute(
        select(User.team_id, User.username)
        .where(User.role == "lead", User.team_id.is_not(None))
        .order_by(User.username)
    )
    leads: dict[int, list[str]] = {}
    for team_id, username in rows:
        if team_id is not None:
            leads.setdefault(team_id, []).append(username)
    return leads
