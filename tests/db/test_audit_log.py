"""The audit log: filters, readable changes, a safe CSV, and no way to rewrite an entry."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from db.models import AuditEntry
from ops import audit
from ops.audit import AuditFilter, AuditRow, audit_choices, audit_csv, audit_log, changes, summary
from ops.errors import PermissionDenied
from ops.exports import FORMULA_STARTS
from ops.permissions import ROLES, Principal
from tests.db.workforce_helpers import ADMIN

DAY = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def entry(
    session: Session,
    actor: str,
    action: str,
    entity: tuple[str, str | int | None],
    at: dt.datetime,
    **values: dict[str, object] | None,
) -> AuditEntry:
    row = audit.record(session, Principal(username=actor, role="admin"), action, entity, **values)
    row.at = at
    session.flush()
    return row


@pytest.fixture
def log(session: Session) -> Session:
    entry(session, "ada", "user.create", ("users", 7), DAY, after={"username": "kim"})
    entry(
        session,
        "ada",
        "user.access",
        ("users", 7),
        DAY + dt.timedelta(days=1),
        before={"role": "ops", "team": None, "enabled": True},
        after={"role": "lead", "team": "Text", "enabled": True},
    )
    entry(session, "kim", "login", ("users", 7), DAY + dt.timedelta(days=2), after={})
    entry(
        session,
        "olga",
        "annotator.update",
        ("annotators", 3),
        DAY + dt.timedelta(days=3),
        before={"display_name": "Amara"},
        after={"display_name": "Amara O."},
    )
    return session


def ids(rows: list[AuditRow]) -> list[tuple[str, str]]:
    return [(row.actor, row.action) for row in rows]


@pytest.mark.parametrize(
    ("audit_filter", "expected"),
    [
        (AuditFilter(actor="ada"), [("ada", "user.access"), ("ada", "user.create")]),
        (AuditFilter(action="login"), [("kim", "login")]),
        (AuditFilter(entity_type="annotators"), [("olga", "annotator.update")]),
        (AuditFilter(entity_type="users", entity_id="7", actor="kim"), [("kim", "login")]),
        (
            AuditFilter(
                since=(DAY + dt.timedelta(days=1)).date(), until=(DAY + dt.timedelta(days=2)).date()
            ),
            [("kim", "login"), ("ada", "user.access")],
        ),
        (AuditFilter(until=DAY.date()), [("ada", "user.create")]),
        (AuditFilter(actor="ada", limit=1), [("ada", "user.access")]),
    ],
)
def test_filters(log: Session, audit_filter: AuditFilter, expected: list[tuple[str, str]]) -> None:
    rows = [
        row for row in audit_log(log, ADMIN, audit_filter) if row.actor in {"ada", "kim", "olga"}
    ]
    assert ids(rows) == expected


def test_choices_list_what_occurs(log: Session) -> None:
    choices = audit_choices(log, ADMIN)
    assert {"ada", "kim", "olga"} <= set(choices.actors)
    assert {"user.create", "user.access", "login", "annotator.update"} <= set(choices.actions)
    assert choices.actors == sorted(choices.actors)


@pytest.mark.parametrize("role", [role for role in ROLES if role != "admin"])
def test_only_admins_read_the_log(log: Session, role: str) -> None:
    reader = Principal(username="nosy", role=role)
    with pytest.raises(PermissionDenied):
        audit_log(log, reader, AuditFilter())
    with pytest.raises(PermissionDenied):
        audit_choices(log, reader)


def test_changes_put_what_changed_first(log: Session) -> None:
    [access] = audit_log(log, ADMIN, AuditFilter(action="user.access", actor="ada"))
    listed = [(c.field, c.before, c.after, c.changed) for c in changes(access)]
    assert listed == [
        ("role", "ops", "lead", True),
        ("team", "(none)", "Text", True),
        ("enabled", "true", "true", False),
    ]
    assert summary(access) == "role: ops → lead; team: (none) → Text"
    [created] = audit_log(log, ADMIN, AuditFilter(action="user.create", actor="ada"))
    assert summary(created) == "username: kim"


def test_csv_neutralises_formulas(session: Session) -> None:
    entry(
        session,
        "=cmd|' /C calc'!A0",
        "annotator.update",
        ("annotators", "@SUM(1+1)"),
        DAY,
        before={"display_name": "+1"},
        after={"display_name": '=HYPERLINK("http://x","y")'},
    )
    entry(session, "-2+3", "login", ("users", "\tx"), DAY)
    rows = audit_log(session, ADMIN, AuditFilter(since=DAY.date(), until=DAY.date()))
    parsed = list(csv.DictReader(io.StringIO(audit_csv(rows))))
    by_actor = {row["actor"]: row for row in parsed}
    assert set(by_actor) >= {"'=cmd|' /C calc'!A0", "'-2+3"}
    first = by_actor["'=cmd|' /C calc'!A0"]
    assert first["entity_id"] == "'@SUM(1+1)"
    assert first["after"] == '{"display_name": "=HYPERLINK(\\"http://x\\",\\"y\\")"}'
    assert by_actor["'-2+3"]["entity_id"] == "'\tx"
    for row in parsed:
        for value in row.values():
            assert not value.startswith(FORMULA_STARTS), value


def test_secrets_never_reach_the_log(session: Session) -> None:
    row = audit.record(
        session,
        ADMIN,
        "user.update",
        ("users", 1),
        before={"password_hash": "$argon2id$...", "role": "ops"},
        after={"token_hash": "abc", "handoff_hash": "def", "role": "lead"},
    )
    assert (row.before, row.after) == ({"role": "ops"}, {"role": "lead"})


def test_the_database_refuses_to_change_or_delete_an_entry(
    fresh_factory: sessionmaker[Session],
) -> None:
    with fresh_factory() as session, session.begin():
        audit.record(session, ADMIN, "user.create", ("users", 1), after={"username": "kim"})
    for statement in (
        update(AuditEntry).values(actor="someone else"),
        delete(AuditEntry),
    ):
        with fresh_factory() as session, session.begin():
            with pytest.raises(DatabaseError, match="append-only"):
                session.execute(statement)
            session.rollback()
    with fresh_factory() as session:
        [kept] = session.scalars(select(AuditEntry)).all()
        assert (kept.actor, kept.after) == ("ada", {"username": "kim"})
        if session.get_bind().dialect.name == "postgresql":
            with pytest.raises(DatabaseError, match="append-only"):
                session.execute(text("TRUNCATE audit_entries"))
