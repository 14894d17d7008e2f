"""Job runs: one transaction each, recorded whether they succeed or fail, never two at once."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine
from db.locks import JOB_LOCKS, lock_key
from db.models import AuditEntry, DailyRollup, JobRun, JobState, ProjectAgreement
from db.queries.jobs import SCHEDULER_JOBS
from ops import jobs
from ops.errors import NotFound, PermissionDenied
from ops.jobs import JOBS, Job, JobBusy, JobContext, run_job, run_job_now, summarise_jobs
from ops.permissions import SYSTEM, Principal
from tests.factories import make_annotator, make_event, make_pay_rate, make_project

DAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
DEAD_PID = 2**22 + 12345  # above Linux's default pid_max: never a live process


def seed(factory: sessionmaker[Session], events: int = 6) -> None:
    with factory() as session, session.begin():
        project = make_project(session, slug="weld-qa", name="Weld QA")
        people = [make_annotator(session) for _ in range(2)]
        for person in people:
            make_pay_rate(session, person)
        for index in range(events):
            make_event(
                session,
                project,
                people[index % 2],
                item_id=f"item-{index // 2}",
                label="cat" if index % 3 else "dog",
                submitted_at=DAY + dt.timedelta(hours=index),
            )


def runs(factory: sessionmaker[Session]) -> list[JobRun]:
    with factory() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.id)))


def test_a_successful_run_is_recorded_with_its_rows(fresh_factory: sessionmaker[Session]) -> None:
    seed(fresh_factory)
    before = dt.datetime.now(dt.UTC)
    outcome = run_job("rollup", factory=fresh_factory)
    assert (outcome.job, outcome.status, outcome.trigger) == ("rollup", "succeeded", "manual")
    assert outcome.rows == 2  # two people, one day
    [run] = runs(fresh_factory)
    assert (run.id, run.status, run.rows, run.error) == (outcome.run_id, "succeeded", 2, None)
    assert run.finished_at is not None
    assert before <= run.started_at <= run.finished_at <= dt.datetime.now(dt.UTC)
    assert run.worker == f"{socket.gethostname()}:{os.getpid()}"
    with fresh_factory() as session:
        assert session.scalar(select(DailyRollup.annotations).limit(1)) == 3
    # Idempotent: nothing new, nothing rewritten.
    assert run_job("rollup", factory=fresh_factory).rows == 0


def test_a_failed_run_rolls_back_its_work_and_is_recorded(
    fresh_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_done_then_broken(session: Session, context: JobContext) -> int:
        session.add(JobState(job="half-done", state={"written": True}))
        session.flush()
        raise RuntimeError("the source table is gone")

    monkeypatch.setitem(
        JOBS, "broken", Job("broken", "Broken", "never", "fails", half_done_then_broken, "broken")
    )
    outcome = run_job("broken", factory=fresh_factory, trigger="schedule")
    assert outcome.status == "failed"
    assert outcome.error == "RuntimeError: the source table is gone"
    [run] = runs(fresh_factory)
    assert (run.job, run.trigger, run.status, run.rows) == ("broken", "schedule", "failed", None)
    assert run.error == "RuntimeError: the source table is gone"
    assert run.finished_at is not None and run.finished_at >= run.started_at
    with fresh_factory() as session:
        assert session.get(JobState, "half-done") is None


def test_unknown_job_and_trigger_are_refused(fresh_factory: sessionmaker[Session]) -> None:
    with pytest.raises(
        NotFound, match="No job 'nightly'; jobs: rollup, alerts, notify, agreement, spend"
    ):
        run_job("nightly", factory=fresh_factory)
    with pytest.raises(ValueError, match="trigger must be one of schedule, manual"):
        run_job("rollup", factory=fresh_factory, trigger="cron")
    assert runs(fresh_factory) == []


def test_a_run_a_dead_process_left_running_is_closed_as_interrupted(
    fresh_factory: sessionmaker[Session],
) -> None:
    with fresh_factory() as session, session.begin():
        session.add(
            JobRun(
                job="spend",
                trigger="schedule",
                status="running",
                worker=f"{socket.gethostname()}:{DEAD_PID}",
                started_at=DAY,
            )
        )
    outcome = run_job("rollup", factory=fresh_factory)
    assert outcome.status == "succeeded"
    orphan, fresh = runs(fresh_factory)
    assert (orphan.job, orphan.status) == ("spend", "failed")
    assert orphan.error is not None and orphan.error.startswith("interrupted")
    # Closed no later than the run that found it began: recorded runs never overlap.
    assert orphan.finished_at is not None and orphan.finished_at <= fresh.started_at


@contextmanager
def another_process_runs(url: str, factory: sessionmaker[Session], job: str) -> Iterator[None]:
    """Make ``job`` look taken by another process: PostgreSQL sees its lock, SQLite its row."""
    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.connect() as holder, holder.begin():
            holder.execute(
                text("SELECT pg_advisory_xact_lock(:namespace, :key)"),
                {"namespace": JOB_LOCKS, "key": lock_key(JOBS[job].lock)},
            )
            yield
        engine.dispose()
        return
    with factory() as session, session.begin():
        # This very process is alive, as a second worker on this host would be.
        run = JobRun(job=job, trigger="schedule", status="running", worker=jobs.worker_identity())
        session.add(run)
    yield
    with factory() as session, session.begin():
        session.execute(delete(JobRun).where(JobRun.id == run.id))


def test_a_live_run_of_the_same_lock_makes_the_job_busy(
    fresh_database_url: str, fresh_factory: sessionmaker[Session]
) -> None:
    with another_process_runs(fresh_database_url, fresh_factory, "rollup"):
        with pytest.raises(JobBusy, match=r"spend \(or rollup, spend\) is running right now"):
            run_job("spend", factory=fresh_factory)
        # Jobs on another lock are not held up.
        assert run_job("agreement", factory=fresh_factory).status == "succeeded"
    assert run_job("spend", factory=fresh_factory).status == "succeeded"
    assert [(run.job, run.status) for run in runs(fresh_factory)] == [
        ("agreement", "succeeded"),
        ("spend", "succeeded"),
    ]


def test_run_now_checks_the_permission_and_records_who(
    fresh_factory: sessionmaker[Session],
) -> None:
    for role in ("ops", "lead", "finance", "annotator"):
        with pytest.raises(PermissionDenied, match="may not jobs run"):
            run_job_now(Principal(username=role, role=role), "rollup", factory=fresh_factory)
    assert runs(fresh_factory) == []
    admin = Principal(username="ada", role="admin")
    steps: list[tuple[str, float]] = []
    outcome = run_job_now(
        admin, "agreement", factory=fresh_factory, progress=lambda s, f: steps.append((s, f))
    )
    assert outcome.status == "succeeded"
    [run] = runs(fresh_factory)
    assert run.trigger == "manual"
    assert run.worker == f"ada@{socket.gethostname()}:{os.getpid()}"
    assert steps[-1] == ("done", 1.0)
    with fresh_factory() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "job.run")).one()
    assert (entry.actor, entry.entity_id) == ("ada", str(run.id))
    assert entry.after == {
        "job": "agreement",
        "full": False,
        "status": "succeeded",
        "rows": run.rows,
    }


def test_scheduled_rollup_runs_the_alerts_after_it(
    fresh_database_url: str, fresh_factory: sessionmaker[Session]
) -> None:
    seed(fresh_factory)
    jobs.scheduled_rollup()
    recorded = runs(fresh_factory)
    assert [(run.job, run.trigger, run.status) for run in recorded] == [
        ("rollup", "schedule", "succeeded"),
        ("alerts", "schedule", "succeeded"),
        ("notify", "schedule", "succeeded"),
    ]
    assert recorded[0].finished_at is not None
    assert recorded[0].finished_at <= recorded[1].started_at
    assert recorded[1].finished_at is not None
    assert recorded[1].finished_at <= recorded[2].started_at
    jobs.scheduled_agreement()
    jobs.scheduled_spend()
    jobs.scheduled_notify()
    jobs.scheduled_storage()
    assert [run.job for run in runs(fresh_factory)][3:] == [
        "agreement",
        "spend",
        "notify",
        "storage",
    ]


def test_agreement_job_stores_figures_once_per_window(
    fresh_factory: sessionmaker[Session],
) -> None:
    seed(fresh_factory)
    now = DAY + dt.timedelta(days=1)
    assert run_job("agreement", factory=fresh_factory, now=now).rows == 1
    assert run_job("agreement", factory=fresh_factory, now=now).rows == 1
    with fresh_factory() as session:
        [stored] = session.scalars(select(ProjectAgreement)).all()
    assert (stored.window_start, stored.window_end) == (
        DAY.date() - dt.timedelta(days=29),
        DAY.date(),
    )
    assert (stored.n_items, stored.n_labels, stored.n_annotators) == (3, 6, 2)


def test_jobs_overview_without_and_with_a_worker(fresh_factory: sessionmaker[Session]) -> None:
    for role in ("ops", "lead", "finance", "annotator"):
        with pytest.raises(PermissionDenied), fresh_factory() as session:
            summarise_jobs(session, Principal(username=role, role=role))
    run_job("rollup", factory=fresh_factory)
    with fresh_factory() as session:
        overview = summarise_jobs(session, SYSTEM)
    assert not overview.worker.running
    assert "start one with `annops worker`" in overview.worker.message
    by_name = {job.name: job for job in overview.jobs}
    assert list(by_name) == ["rollup", "alerts", "notify", "agreement", "spend", "storage"]
    assert by_name["rollup"].last_status == "succeeded"
    assert by_name["rollup"].next_run is None
    assert by_name["alerts"].last_status is None
    assert [run["job"] for run in overview.runs] == ["rollup"]

    now = dt.datetime.now(dt.UTC)
    due = now.replace(microsecond=0) + dt.timedelta(minutes=7)
    digest = due + dt.timedelta(hours=3)
    with fresh_factory() as session, session.begin():
        jobs.record_heartbeat(session, worker="host-a:42", leader_since=now, poll_seconds=5)
        SCHEDULER_JOBS.create(session.connection())
        session.execute(
            SCHEDULER_JOBS.insert(),
            [
                {"id": "rollup", "next_run_time": due.timestamp(), "job_state": b"x"},
                {"id": "agreement", "next_run_time": None, "job_state": b"x"},
                {"id": "notify", "next_run_time": digest.timestamp(), "job_state": b"x"},
            ],
        )
    with fresh_factory() as session:
        overview = summarise_jobs(session, SYSTEM)
    assert overview.worker.running and overview.worker.worker == "host-a:42"
    by_name = {job.name: job for job in overview.jobs}
    assert by_name["rollup"].next_run == due
    assert by_name["alerts"].next_run == due  # alerts follow the rollup
    assert by_name["notify"].next_run == due  # and so do notifications, before the digests
    assert by_name["agreement"].next_run is None
    # A heartbeat older than three polls (and 30 s) means the worker is gone.
    with fresh_factory() as session:
        later = summarise_jobs(session, SYSTEM, now=now + dt.timedelta(seconds=31))
    assert not later.worker.running
    assert "last seen" in later.worker.message and "host-a:42" in later.worker.message
    assert all(job.next_run is None for job in later.jobs)


def test_scheduled_runs_skip_a_busy_job_without_recording_it(
    fresh_database_url: str, fresh_factory: sessionmaker[Session]
) -> None:
    with another_process_runs(fresh_database_url, fresh_factory, "rollup"):
        jobs.scheduled_rollup()
    # Neither a second rollup nor the alerts that follow one were started.
    assert runs(fresh_factory) == []


def test_job_descriptions_name_their_schedule() -> None:
    rollup, alerts, agreement, spend = (
        JOBS[name] for name in ("rollup", "alerts", "agreement", "spend")
    )
    assert jobs.describe_schedule(rollup) == "every 15 minutes"
    assert jobs.describe_schedule(alerts) == "after each successful rollup"
    assert "last 30 days" in jobs.describe_job(agreement)
    assert rollup.lock == spend.lock != alerts.lock
    assert jobs.describe_schedule(JOBS["notify"]) == (
        "after each alerts run, and at 07:00 UTC for the digests"
    )
    assert JOBS["notify"].lock not in {rollup.lock, alerts.lock, agreement.lock}
    assert jobs.describe_schedule(JOBS["storage"]) == "daily at 04:00 UTC"
