"""The data version moves with every kind of write, and not with a worker's heartbeat."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from db.models import ImportBatch
from db.queries.jobs import save_job_state
from ops import audit
from ops.freshness import data_version
from ops.jobs import WORKER_STATE, record_heartbeat, run_job
from ops.permissions import SYSTEM
from ops.workforce.roster import AnnotatorDetails, create_annotator
from tests.factories import make_annotator, make_event, make_project

ADMIN = SYSTEM


def test_an_audited_write_moves_the_version(session: Session) -> None:
    before = data_version(session)
    create_annotator(session, ADMIN, AnnotatorDetails(display_name="Ada Obi", team_id=None))
    session.flush()
    assert data_version(session) != before


def test_an_import_moves_the_version(session: Session) -> None:
    before = data_version(session)
    session.add(ImportBatch(source="csv", file_name="events.csv", sha256="0" * 64))
    session.flush()
    assert data_version(session) != before


def test_a_job_state_change_moves_the_version(session: Session) -> None:
    before = data_version(session)
    save_job_state(session, job="rollup", values={"last_event_id": 1})
    session.flush()
    assert data_version(session) != before


def test_a_worker_heartbeat_leaves_the_version(session: Session) -> None:
    before = data_version(session)
    now = dt.datetime.now(dt.UTC)
    record_heartbeat(session, worker="host:1", leader_since=now, poll_seconds=5)
    session.flush()
    assert data_version(session) == before
    # The same table written by a job is a change.
    save_job_state(session, job="alerts", values={"seen": 1})
    session.flush()
    assert data_version(session) != before
    assert WORKER_STATE != "alerts"


def test_a_finished_job_run_moves_the_version(fresh_factory: sessionmaker[Session]) -> None:
    with fresh_factory() as session, session.begin():
        project = make_project(session)
        make_event(session, project, make_annotator(session))
        before = data_version(session)
    run_job("alerts", factory=fresh_factory)
    with fresh_factory() as session:
        assert data_version(session) != before


def test_nothing_written_nothing_moved(session: Session) -> None:
    audit.record(session, ADMIN, "demo.load", ("demo", None))
    session.flush()
    first = data_version(session)
    assert data_version(session) == first
