"""Password hashing and policy, login with lockout, and user creation."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from passlib.context import CryptContext
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.models import Annotator, AuditEntry, User
from ops import auth
from ops.auth import authenticate, check_password, create_user, hash_password, verify_password
from ops.auth import password_context as production_password_context
from ops.errors import LoginError, NotFound, PermissionDenied, ValidationError
from ops.permissions import SYSTEM, Principal
from tests.factories import make_annotator, make_team, make_user

T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every password hash check: 'real' against a user's hash, 'dummy' against the stand-in."""
    seen: list[str] = []
    original = auth.verify_password
    lock = threading.Lock()

    def counting(password: str, password_hash: str) -> bool:
        with lock:
            seen.append("dummy" if password_hash == auth._DUMMY_HASH() else "real")
        return original(password, password_hash)

    monkeypatch.setattr(auth, "verify_password", counting)
    yield seen


def actions(session: Session, username: str) -> list[str]:
    """Audit actions recorded under ``username``, oldest first."""
    session.flush()
    return list(
        session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor == username).order_by(AuditEntry.id)
        )
    )


def test_hash_is_argon2id_and_verifies() -> None:
    hashed = hash_password("s3cret-enough")
    assert hashed.startswith("$argon2id$")
    assert verify_password("s3cret-enough", hashed)
    assert not verify_password("s3cret-enougH", hashed)


def test_production_hashes_use_the_low_memory_argon2id_settings() -> None:
    # The tests hash with cheaper settings (tests/conftest.py); this is the real policy.
    context = production_password_context()
    hashed = context.hash("s3cret-enough")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert context.verify("s3cret-enough", hashed)
    assert not context.needs_update(hashed)


def test_a_hash_with_other_argon2_settings_is_rehashed_at_login(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "password_context", production_password_context)
    user = make_user(session, username="older")
    # As hashed before: the library's default argon2id settings, 64 MiB and 4 lanes.
    older = CryptContext(schemes=["argon2"], argon2__type="ID").hash(PASSWORD)
    assert "$m=65536,t=3,p=4$" in older
    user.password_hash = older
    session.flush()
    authenticate(session, "older", PASSWORD, now=T0)
    session.refresh(user)
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(PASSWORD, user.password_hash)


def test_login_returns_principal_with_scope_and_is_audited(session: Session) -> None:
    annotator = make_annotator(session)
    make_user(session, username="ana", role="annotator", annotator_email=annotator.email)
    principal = authenticate(session, "ana", PASSWORD, now=T0)
    assert (principal.username, principal.role, principal.annotator_id) == (
        "ana",
        "annotator",
        annotator.id,
    )
    assert actions(session, "ana") == ["login"]
    user = session.scalars(select(User).where(User.username == "ana")).one()
    assert user.last_login_at == T0


def test_user_names_ignore_case(session: Session) -> None:
    user = make_user(session, username="Case.Name")
    assert user.username == "case.name"
    assert authenticate(session, "  CASE.name ", PASSWORD, now=T0).username == "case.name"
    with pytest.raises(ValidationError, match="already exists"):
        make_user(session, username="CASE.NAME")


def test_the_database_refuses_a_name_with_capitals(session: Session) -> None:
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(User(username="Upper", role="ops", password_hash="x"))
        session.flush()


def test_five_failures_lock_the_account_for_fifteen_minutes(
    session: Session, checks: list[str]
) -> None:
    make_user(session, username="lee")
    for _ in range(5):
        with pytest.raises(LoginError, match="Unknown user name or wrong password"):
            authenticate(session, "lee", "wrong", now=T0)
    assert checks == ["real"] * 5
    # The right password does not open a locked account, and is not even checked...
    with pytest.raises(LoginError, match="Unknown user name or wrong password"):
        authenticate(session, "lee", PASSWORD, now=T0 + dt.timedelta(minutes=14))
    assert checks[5:] == ["dummy"]
    # ...until the lock runs out.
    principal = authenticate(session, "lee", PASSWORD, now=T0 + dt.timedelta(minutes=15, seconds=1))
    assert principal.username == "lee"
    user = session.scalars(select(User).where(User.username == "lee")).one()
    assert user.failed_logins == 0 and user.locked_until is None
    assert actions(session, "lee") == [
        *["login.failed"] * 4,
        "user.locked",
        "login.failed",
        "login",
    ]
    locked = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.locked")).one()
    assert locked.after == {
        "failed_logins": 5,
        "locked_until": (T0 + dt.timedelta(minutes=15)).isoformat(),
    }


def test_success_resets_the_failure_count(session: Session) -> None:
    user = make_user(session, username="kim")
    for _ in range(4):
        with pytest.raises(LoginError):
            authenticate(session, "kim", "wrong", now=T0)
    assert user.failed_logins == 4
    authenticate(session, "kim", PASSWORD, now=T0)
    assert user.failed_logins == 0
    # Four more failures do not lock: the count started over.
    for _ in range(4):
        with pytest.raises(LoginError):
            authenticate(session, "kim", "wrong", now=T0)
    assert user.locked_until is None


def test_unknown_name_and_wrong_password_look_the_same(session: Session, checks: list[str]) -> None:
    make_user(session, username="known")
    with pytest.raises(LoginError) as unknown:
        authenticate(session, "nobody", "whatever", now=T0)
    with pytest.raises(LoginError) as wrong:
        authenticate(session, "known", "whatever", now=T0)
    assert str(unknown.value) == str(wrong.value)
    assert "attempt" in str(wrong.value) and "left" not in str(wrong.value)
    # One hash check each: the unknown name pays for a check of a stand-in hash.
    assert checks == ["dummy", "real"]
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "login.failed").order_by(AuditEntry.id)
    ).all()
    assert [(entry.actor, entry.entity_id, entry.after) for entry in entries] == [
        ("nobody", None, {"reason": "unknown user"}),
        (
            "known",
            str(session.scalars(select(User.id).where(User.username == "known")).one()),
            {
                "reason": "wrong password",
                "failed_logins": 1,
            },
        ),
    ]


def test_a_disabled_user_cannot_log_in(session: Session, checks: list[str]) -> None:
    user = make_user(session, username="gone")
    user.is_active = False
    with pytest.raises(LoginError, match="Unknown user name or wrong password"):
        authenticate(session, "gone", PASSWORD, now=T0)
    assert checks == ["dummy"]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "login.failed")).one()
    assert entry.after == {"reason": "disabled"}


def test_attempts_on_a_disabled_login_do_not_lock_it_once_enabled(session: Session) -> None:
    user = make_user(session, username="paused")
    user.is_active = False
    for _ in range(8):
        with pytest.raises(LoginError):
            authenticate(session, "paused", "wrong", now=T0)
    assert user.failed_logins == 0
    user.is_active = True
    assert authenticate(session, "paused", PASSWORD, now=T0).username == "paused"


def test_attempts_while_archived_end_in_a_lock_that_runs_out(session: Session) -> None:
    annotator = make_annotator(session)
    user = make_user(session, username="away", role="annotator", annotator_email=annotator.email)
    session.execute(update(Annotator).where(Annotator.id == annotator.id).values(archived_at=T0))
    for _ in range(7):
        with pytest.raises(LoginError):
            authenticate(session, "away", "wrong", now=T0)
    session.execute(update(Annotator).where(Annotator.id == annotator.id).values(archived_at=None))
    with pytest.raises(LoginError):
        authenticate(session, "away", PASSWORD, now=T0)
    assert user.locked_until == T0 + dt.timedelta(minutes=15)
    later = T0 + dt.timedelta(minutes=16)
    assert authenticate(session, "away", PASSWORD, now=later).username == "away"


def test_an_archived_annotator_cannot_log_in(session: Session) -> None:
    annotator = make_annotator(session)
    make_user(session, username="ann", role="annotator", annotator_email=annotator.email)
    assert authenticate(session, "ann", PASSWORD, now=T0).annotator_id == annotator.id
    session.execute(update(Annotator).where(Annotator.id == annotator.id).values(archived_at=T0))
    with pytest.raises(LoginError, match="Unknown user name or wrong password"):
        authenticate(session, "ann", PASSWORD, now=T0)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "login.failed")).one()
    assert entry.after == {"reason": "annotator archived"}


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pw1!", "at least 12 characters long \\(this one has 10\\)"),
        (" " * 14, "must not be empty or only spaces"),
        ("\t \n" * 5, "must not be empty or only spaces"),
        ("qwerty123456", "list of common passwords"),
        ("QWERTY123456", "list of common passwords"),
        ("1Q2W3E4R5T6Y", "list of common passwords"),
        ("password1234", "list of common passwords"),
        ("New.User@Example", "must not be the user name"),
        ("a much longer passphrase", None),
    ],
)
def test_password_policy(password: str, message: str | None) -> None:
    if message is None:
        check_password(password, username="new.user@example")
    else:
        with pytest.raises(ValidationError, match=message) as refused:
            check_password(password, username="new.user@example")
        assert refused.value.field == "password"


def test_the_shipped_list_is_large_and_lower_case() -> None:
    common = auth.common_passwords()
    assert len(common) > 10_000
    assert {"password", "123456", "qwerty123456", "iloveyou"} <= common
    assert all(entry == entry.lower() for entry in common)


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
        ({"password": "short"}, ValidationError, "at least 12"),
        ({"password": "password"}, ValidationError, "at least 12"),
        ({"password": "qwertyuiop123"}, ValidationError, "common passwords"),
        ({"password": " " * 12}, ValidationError, "only spaces"),
        ({"username": "  "}, ValidationError, "must not be empty"),
        ({"username": "two words"}, ValidationError, "may use only letters"),
        ({"username": "аdmin"}, ValidationError, "may use only letters"),
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


def test_an_annotator_gets_one_login(session: Session) -> None:
    annotator = make_annotator(session)
    make_user(session, username="first", role="annotator", annotator_email=annotator.email)
    with pytest.raises(ValidationError, match="already has a login"):
        make_user(session, username="second", role="annotator", annotator_email=annotator.email)


def test_a_lead_is_tied_to_their_team(session: Session) -> None:
    team = make_team(session, name="Text")
    user = make_user(session, username="lena", role="lead", team_name="Text")
    assert user.team_id == team.id


def test_duplicate_user_name_is_refused(session: Session) -> None:
    make_user(session, username="dup")
    with pytest.raises(ValidationError, match="already exists"):
        make_user(session, username="dup")


def test_only_admins_create_users(session: Session) -> None:
    ops = Principal(username="olga", role="ops")
    with pytest.raises(PermissionDenied):
        create_user(session, ops, username="x", role="ops", password="long enough pw")


def test_parallel_guesses_get_no_more_checks_than_the_limit(
    fresh_factory: sessionmaker[Session], checks: list[str]
) -> None:
    """20 threads, each on its own connection, guess at once: at most five real checks."""
    with fresh_factory() as session, session.begin():
        make_user(session, username="target")
    start = threading.Barrier(20)
    outcomes: list[str] = []

    def guess(number: int) -> None:
        start.wait()
        with fresh_factory() as session, session.begin():
            try:
                authenticate(session, "target", f"guess number {number}", now=T0)
            except LoginError:
                outcomes.append("refused")
            else:  # pragma: no cover - a wrong guess that logs in is the bug
                outcomes.append("in")

    threads = [threading.Thread(target=guess, args=(number,)) for number in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["refused"] * 20
    assert checks.count("real") == 5
    assert checks.count("dummy") == 15
    with fresh_factory() as session:
        user = session.scalars(select(User).where(User.username == "target")).one()
        assert user.locked_until == T0 + dt.timedelta(minutes=15)
        locks = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.locked")).all()
        assert len(locks) == 1
        assert (
            len(session.scalars(select(AuditEntry).where(AuditEntry.actor == "target")).all()) == 20
        )
    # Even the right password stays locked out.
    with fresh_factory() as session, session.begin(), pytest.raises(LoginError):
        authenticate(session, "target", PASSWORD, now=T0 + dt.timedelta(minutes=1))
