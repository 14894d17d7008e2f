"""Concurrent writers: nothing lost from the rollups, nothing misattributed, and of two
people changing the same pay history or alert at once, the second is told to reload."""

from __future__ import annotations

import csv
import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.models import Alert, AnnotationEvent, Annotator, AnnotatorIdentity, PayRate
from ops import rollups
from ops.alerts import change_status, get_alert
from ops.errors import ConflictError
from ops.identities import merge_unlinked_identity
from ops.importers.pipeline import ImportRequest, import_file
from ops.permissions import SYSTEM, Principal
from ops.workforce import pay
from tests.db.test_rollups import table
from tests.factories import make_annotator, make_pay_rate, make_project

OPS = Principal(username="olga", role="ops")
COLUMNS = ("project", "item_id", "annotator", "submitted_at", "external_id", "label")
IDENTITIES = 8
ROUNDS = 12


def write_events(path: Path, batch: int, people: list[str]) -> Path:
    """A file of work by ``people``, spread over three days."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for index in range(60):
            person = people[index % len(people)]
            moment = dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(hours=index + batch * 7)
            writer.writerow(
                ("race", f"item-{index}", person, moment.isoformat(), f"b{batch}-{index}", "x")
            )
    return path


def run_together(*workers: Callable[[], None]) -> None:
    errors: list[BaseException] = []

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as error:  # reported by the test below
                errors.append(error)

        return run

    threads = [threading.Thread(target=guarded(work)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_identity_merges_during_imports_and_rollups_lose_nothing(
    fresh_factory: sessionmaker[Session], fresh_database_url: str, tmp_path: Path
) -> None:
    if not fresh_database_url.startswith("postgresql"):
        pytest.skip("SQLite allows one writer at a time; the race is PostgreSQL's")
    keys = [f"vendor:u{index}" for index in range(IDENTITIES)]
    with transaction(fresh_factory) as session:
        make_project(session, slug="race")
        targets = [make_annotator(session).id for _ in keys]
    first = write_events(tmp_path / "first.csv", 0, keys)
    import_file(fresh_factory, SYSTEM, ImportRequest(source="events", path=first))
    with transaction(fresh_factory) as session:
        identities = {
            identity.external_id: identity.id
            for identity in session.scalars(select(AnnotatorIdentity))
        }
        placeholders = {
            identity.annotator_id for identity in session.scalars(select(AnnotatorIdentity))
        }

    def importer() -> None:
        for batch in range(1, ROUNDS + 1):
            path = write_events(tmp_path / f"batch-{batch}.csv", batch, keys)
            import_file(fresh_factory, SYSTEM, ImportRequest(source="events", path=path))

    def merger() -> None:
        for index, key in enumerate(keys):
            time.sleep(0.05)
            with transaction(fresh_factory) as session:
                merge_unlinked_identity(
                    session,
                    SYSTEM,
                    identity_id=identities[key.split(":", 1)[1]],
                    annotator_id=targets[index],
                )

    def roller() -> None:
        for _ in range(3 * ROUNDS):
            with transaction(fresh_factory) as session:
                rollups.refresh(session)

    run_together(importer, merger, roller)

    with transaction(fresh_factory) as session:
        rollups.refresh(session)
        incremental = table(session)
        # No work stays filed under an identity's old, merged-away annotator.
        merged = select(Annotator.id).where(Annotator.merged_into_id.is_not(None))
        assert set(session.scalars(merged)) == placeholders
        stray = select(func.count()).where(AnnotationEvent.annotator_id.in_(merged))
        assert session.scalar(stray) == 0
        assert session.scalar(select(func.count(AnnotationEvent.id))) == 60 * (ROUNDS + 1)
        rollups.rebuild(session)
        assert table(session) == incremental
        assert sum(row[3] for row in incremental) == 60 * (ROUNDS + 1)


def add_rate(session: Session, person_id: int, day: int, **options: Any) -> Any:
    return pay.add_pay_rate(
        session,
        SYSTEM,
        person_id,
        basis="hourly",
        amount="18",
        currency="USD",
        effective_on=dt.date(2026, 3, day),
        reason="annual review",
        **options,
    )


def test_a_new_rate_from_a_stale_view_is_refused(session: Session) -> None:
    person = make_annotator(session)
    seen = person.pay_version
    add_rate(session, person.id, 10, expected_pay_version=seen)
    with pytest.raises(ConflictError, match="pay history of .* changed by someone else.*Reload"):
        add_rate(session, person.id, 20, expected_pay_version=seen)
    assert len(pay_rates(session, person.id)) == 1


def pay_rates(session: Session, person_id: int) -> list[PayRate]:
    return list(session.scalars(select(PayRate).where(PayRate.annotator_id == person_id)))


def second_writer_conflicts(
    fresh_factory: sessionmaker[Session],
    first: Callable[[Session], object],
    second: Callable[[Session], object],
) -> None:
    """``first`` saves but has not committed when ``second`` starts; ``second`` must fail
    with a ConflictError once ``first`` commits, having stored nothing."""
    outcome: list[BaseException | None] = []
    with fresh_factory() as session, session.begin():
        first(session)

        def racing() -> None:
            try:
                with transaction(fresh_factory) as other:
                    second(other)
            except BaseException as error:
                outcome.append(error)
            else:
                outcome.append(None)

        thread = threading.Thread(target=racing)
        thread.start()
        # The second writer reads what is committed, then waits on the first one's row.
        time.sleep(1.0)
        assert not outcome, "the second writer must wait for the first"
    thread.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], ConflictError), outcome
    assert "Reload" in str(outcome[0])


def test_two_people_adding_rates_at_once_cannot_both_save(
    fresh_factory: sessionmaker[Session], fresh_database_url: str
) -> None:
    if not fresh_database_url.startswith("postgresql"):
        pytest.skip("SQLite allows one writer at a time")
    with transaction(fresh_factory) as session:
        person = make_annotator(session).id
        make_pay_rate(
            session,
            session.get_one(Annotator, person),
            effective_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
    # One adds a rate from the 20th; the other, not seeing it, one from the 10th.
    second_writer_conflicts(
        fresh_factory,
        lambda session: add_rate(session, person, 20),
        lambda session: add_rate(session, person, 10),
    )
    with fresh_factory() as session:
        starts = sorted(rate.effective_from.day for rate in pay_rates(session, person))
        assert starts == [1, 20]
        assert session.get_one(Annotator, person).pay_version == 1


def make_alert(session: Session) -> int:
    project = make_project(session)
    alert = Alert(
        rule="systematic_issue",
        subject_key=f"project:{project.id}",
        project_id=project.id,
        window_start=dt.date(2026, 3, 1),
        window_end=dt.date(2026, 3, 14),
        severity="critical",
        title="Several annotators dropped at once",
        evidence={"dropped": 3},
    )
    session.add(alert)
    session.flush()
    return alert.id


def test_a_decision_from_a_stale_view_is_refused(session: Session) -> None:
    alert_id = make_alert(session)
    seen = get_alert(session, SYSTEM, alert_id).alert.version
    change_status(session, OPS, alert_id, "resolved", note="guideline fixed", expected_version=seen)
    with pytest.raises(ConflictError, match=r"Alert #\d+ was changed by olga at .* Reload"):
        change_status(
            session, SYSTEM, alert_id, "dismissed", note="not a problem", expected_version=seen
        )
    detail = get_alert(session, SYSTEM, alert_id)
    assert detail.alert.status == "resolved"
    assert [entry.to_status for entry in detail.history] == ["resolved"]


def test_two_people_deciding_an_alert_at_once_cannot_both_save(
    fresh_factory: sessionmaker[Session], fresh_database_url: str
) -> None:
    if not fresh_database_url.startswith("postgresql"):
        pytest.skip("SQLite allows one writer at a time")
    with transaction(fresh_factory) as session:
        alert_id = make_alert(session)
    second_writer_conflicts(
        fresh_factory,
        lambda session: change_status(session, OPS, alert_id, "resolved", note="fixed"),
        lambda session: change_status(session, SYSTEM, alert_id, "dismissed", note="noise"),
    )
    with fresh_factory() as session:
        detail = get_alert(session, SYSTEM, alert_id)
        assert detail.alert.status == "resolved"
        assert [entry.to_status for entry in detail.history] == ["resolved"]
