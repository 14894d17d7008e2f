"""Server-side sessions: handoff, resume by id or cookie, expiry, revocation, fresh principal."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import Annotator, AuditEntry, User, UserSession
from ops.auth import authenticate, principal_for
from ops.sessions import (
    claim_handoff,
    forget_cookie,
    log_out,
    resume_session,
    revoke_sessions,
    start_session,
)
from ops.settings import get_settings
from ops.users import change_access, reset_password, set_enabled
from tests.db.workforce_helpers import ADMIN
from tests.factories import make_annotator, make_team, make_user

T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def lifetimes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """30 idle minutes, 8 hours at most."""
    monkeypatch.setenv("ANNOPS_SESSION_IDLE_MINUTES", "30")
    monkeypatch.setenv("ANNOPS_SESSION_MAX_HOURS", "8")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def logged_in(session: Session, user: User, *, now: dt.datetime = T0) -> tuple[int, str]:
    """A session for ``user`` whose handoff was claimed; (session id, cookie token)."""
    started = start_session(session, principal_for(user), now=now)
    issued = claim_handoff(session, started.handoff_code, now=now)
    assert issued is not None
    return started.session_id, issued.token


def test_the_token_is_stored_only_as_its_hash(session: Session, lifetimes: None) -> None:
    user = make_user(session, username="ada", role="admin")
    started = start_session(session, principal_for(user), now=T0)
    issued = claim_handoff(session, started.handoff_code, now=T0 + dt.timedelta(seconds=5))
    assert issued is not None
    row = session.get(UserSession, started.session_id)
    assert row is not None
    assert row.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    stored = " ".join(str(value) for value in vars(row).values())
    assert issued.token not in stored and started.handoff_code not in stored
    assert row.handoff_hash is None
    assert (row.idle_expires_at, row.expires_at) == (
        T0 + dt.timedelta(minutes=30),
        T0 + dt.timedelta(hours=8),
    )
    assert issued.max_age_seconds == 8 * 3600 - 5
    assert len(issued.token) >= 43


def test_a_handoff_code_works_once_and_for_a_minute(session: Session) -> None:
    user = make_user(session)
    first = start_session(session, principal_for(user), now=T0)
    assert claim_handoff(session, first.handoff_code, now=T0) is not None
    assert claim_handoff(session, first.handoff_code, now=T0) is None
    late = start_session(session, principal_for(user), now=T0)
    assert claim_handoff(session, late.handoff_code, now=T0 + dt.timedelta(seconds=61)) is None
    assert claim_handoff(session, "made-up-code", now=T0) is None


def test_a_session_awaits_its_cookie_until_the_code_is_traded_or_expires(
    session: Session,
) -> None:
    user = make_user(session)
    started = start_session(session, principal_for(user), now=T0)
    waiting = resume_session(session, session_id=started.session_id, now=T0)
    assert waiting is not None and waiting.awaiting_cookie
    assert claim_handoff(session, started.handoff_code, now=T0) is not None
    traded = resume_session(session, session_id=started.session_id, now=T0)
    assert traded is not None and not traded.awaiting_cookie
    unused = start_session(session, principal_for(user), now=T0)
    expired = resume_session(
        session, session_id=unused.session_id, now=T0 + dt.timedelta(seconds=61)
    )
    assert expired is not None and not expired.awaiting_cookie


def test_resume_by_id_or_cookie_re_reads_the_user(session: Session) -> None:
    team = make_team(session, name="Vision")
    user = make_user(session, username="lena", role="lead")
    session_id, token = logged_in(session, user)
    by_id = resume_session(session, session_id=session_id, now=T0)
    by_cookie = resume_session(session, token=token, now=T0)
    assert by_id is not None and by_cookie is not None
    assert by_id.session_id == by_cookie.session_id == session_id
    assert by_cookie.principal.team_id is None
    # A change made straight in the database shows at the next request.
    session.execute(update(User).where(User.id == user.id).values(team_id=team.id))
    later = resume_session(session, token=token, now=T0)
    assert later is not None and later.principal.team_id == team.id
    assert resume_session(session, token="not-a-token", now=T0) is None


def test_idle_and_absolute_expiry(session: Session, lifetimes: None) -> None:
    user = make_user(session)
    session_id, token = logged_in(session, user)
    # Used every 20 minutes, the session lives until its absolute end...
    moment = T0
    while moment + dt.timedelta(minutes=20) < T0 + dt.timedelta(hours=8):
        moment += dt.timedelta(minutes=20)
        assert resume_session(session, token=token, now=moment) is not None, moment
    assert resume_session(session, token=token, now=T0 + dt.timedelta(hours=8)) is None
    # ...and left alone for 30 minutes it ends.
    other_id, other = logged_in(session, user)
    assert resume_session(session, token=other, now=T0 + dt.timedelta(minutes=29)) is not None
    assert resume_session(session, token=other, now=T0 + dt.timedelta(minutes=59)) is None
    row = session.get(UserSession, other_id)
    assert row is not None and row.last_seen_at == T0 + dt.timedelta(minutes=29)


def test_a_click_within_a_minute_writes_nothing(session: Session) -> None:
    user = make_user(session)
    session_id, token = logged_in(session, user)
    resume_session(session, token=token, now=T0 + dt.timedelta(seconds=30))
    row = session.get(UserSession, session_id)
    assert row is not None and row.last_seen_at == T0
    resume_session(session, token=token, now=T0 + dt.timedelta(seconds=90))
    session.refresh(row)
    assert row.last_seen_at == T0 + dt.timedelta(seconds=90)


def test_logout_ends_every_session_of_the_user(session: Session) -> None:
    user = make_user(session, username="two.tabs")
    other = make_user(session, username="someone.else")
    first, first_token = logged_in(session, user)
    second, _ = logged_in(session, user)
    others, _ = logged_in(session, other)
    log_out(session, principal_for(user), now=T0)
    assert resume_session(session, session_id=first, now=T0) is None
    assert resume_session(session, session_id=second, now=T0) is None
    assert resume_session(session, token=first_token, now=T0) is None
    assert resume_session(session, session_id=others, now=T0) is not None
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "logout")).one()
    assert (entry.actor, entry.after) == ("two.tabs", {"sessions_ended": 2})
    row = session.get(UserSession, first)
    assert row is not None and (row.revoked_at, row.revoked_reason) == (T0, "logout")


def test_forgetting_the_cookie_ends_its_session(session: Session) -> None:
    user = make_user(session)
    kept, _ = logged_in(session, user)
    session_id, token = logged_in(session, user)
    forget_cookie(session, token, now=T0)
    assert resume_session(session, session_id=session_id, now=T0) is None
    assert resume_session(session, session_id=kept, now=T0) is not None


@pytest.mark.parametrize("change", ["disable", "access", "password"])
def test_admin_changes_end_the_users_sessions(session: Session, change: str) -> None:
    make_team(session, name="Text")
    user = make_user(session, username="worker", role="ops")
    session_id, token = logged_in(session, user)
    if change == "disable":
        set_enabled(session, ADMIN, user.id, enabled=False, now=T0)
    elif change == "access":
        change_access(
            session, ADMIN, user.id, role="lead", team_name="Text", annotator_email=None, now=T0
        )
    else:
        reset_password(session, ADMIN, user.id, "a brand new passphrase", now=T0)
    assert resume_session(session, session_id=session_id, now=T0) is None
    assert resume_session(session, token=token, now=T0) is None


def test_a_disabled_or_archived_user_is_out_even_with_an_open_session(session: Session) -> None:
    annotator = make_annotator(session)
    user = make_user(session, username="ann", role="annotator", annotator_email=annotator.email)
    session_id, _ = logged_in(session, user)
    session.execute(update(Annotator).where(Annotator.id == annotator.id).values(archived_at=T0))
    assert resume_session(session, session_id=session_id, now=T0) is None
    session.execute(update(Annotator).where(Annotator.id == annotator.id).values(archived_at=None))
    assert resume_session(session, session_id=session_id, now=T0) is not None
    session.execute(update(User).where(User.id == user.id).values(is_active=False))
    assert resume_session(session, session_id=session_id, now=T0) is None


def test_a_login_then_a_session(session: Session) -> None:
    user = make_user(session, username="full.path")
    principal = authenticate(session, "full.path", "correct horse battery", now=T0)
    session_id, _ = logged_in(session, user)
    active = resume_session(session, session_id=session_id, now=T0)
    assert active is not None and active.principal == principal
    assert revoke_sessions(session, user.id, reason="test", now=T0) == 1
