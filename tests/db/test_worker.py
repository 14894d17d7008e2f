"""The worker: one leader schedules the jobs, standbys take over when it dies."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypedDict

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine
from db.locks import LEADER_LOCKS, FileLeaderLock, begin_as_writer, leader_lock_for
from db.models import JobRun
from db.queries.jobs import get_job_state, list_scheduled_jobs
from ops.jobs import WORKER_STATE, summarise_jobs
from ops.permissions import SYSTEM
from ops.settings import Settings
from ops.worker import Worker
from tests.conftest import POSTGRES_URL
from tests.factories import make_annotator, make_event, make_pay_rate, make_project

ROOT = Path(__file__).resolve().parents[2]


class WorkerTiming(TypedDict):
    worker_rollup_minutes: float
    worker_poll_seconds: float


# A rollup every 0.6 s.
FAST: WorkerTiming = {"worker_rollup_minutes": 0.01, "worker_poll_seconds": 0.2}


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def seed(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        project = make_project(session, slug="weld-qa", name="Weld QA")
        person = make_annotator(session)
        make_pay_rate(session, person)
        for index in range(5):
            make_event(
                session, project, person, submitted_at=dt.datetime(2026, 3, 2, index, tzinfo=dt.UTC)
            )


def all_runs(factory: sessionmaker[Session]) -> list[JobRun]:
    with factory() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.started_at, JobRun.id)))


def assert_no_overlap(runs: list[JobRun]) -> None:
    """Runs of one job (and of jobs sharing a lock) follow each other, never overlap."""
    groups = {"rollup": "rollups", "spend": "rollups"}
    by_lock: dict[str, list[JobRun]] = {}
    for run in runs:
        by_lock.setdefault(groups.get(run.job, run.job), []).append(run)
    for lock, group in by_lock.items():
        ordered = sorted(group, key=lambda run: run.started_at)
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            assert earlier.finished_at is not None, f"{lock}: run {earlier.id} never finished"
            assert earlier.finished_at <= later.started_at, (
                f"{lock}: run {earlier.id} ({earlier.worker}) overlaps "
                f"run {later.id} ({later.worker})"
            )


@pytest.fixture
def running_worker(fresh_database_url: str) -> Iterator[Worker]:
    worker = Worker(fresh_database_url, Settings(database_url=fresh_database_url, **FAST))
    thread = threading.Thread(target=worker.run, name="test-worker", daemon=True)
    thread.start()
    yield worker
    worker.stop()
    thread.join(timeout=20)
    assert not thread.is_alive(), "the worker did not stop"


def test_file_lock_admits_one_holder_at_a_time(tmp_path: Path) -> None:
    first, second = (
        FileLeaderLock(tmp_path / "a.db.worker-lock"),
        FileLeaderLock(tmp_path / "a.db.worker-lock"),
    )
    assert first.try_acquire() and first.still_held()
    assert not second.try_acquire() and not second.still_held()
    first.release()
    assert not first.still_held()
    assert second.try_acquire()
    second.release()
    assert isinstance(leader_lock_for(f"sqlite:///{tmp_path / 'a.db'}"), FileLeaderLock)


@pytest.mark.parametrize("as_writer", [False, True], ids=["deferred", "as writer"])
def test_a_sqlite_job_that_reads_before_it_writes_waits_for_other_writers(
    tmp_path: Path, as_writer: bool
) -> None:
    """A SQLite transaction that has read cannot wait to become the writer: if another
    connection wrote meanwhile, its first write fails at once. Begun as the writer, it
    makes the other connection wait instead (here, until it commits)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counts (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counts VALUES (0)")
    other_wrote = threading.Event()

    def other_writer() -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE counts SET n = n + 10")
        other_wrote.set()

    with Session(engine) as job, job.begin():
        if as_writer:
            begin_as_writer(job)
        else:
            job.execute(text("SAVEPOINT reading"))  # begun before its first write
        seen = job.scalar(text("SELECT n FROM counts"))
        writer = threading.Thread(target=other_writer)
        writer.start()
        writer.join(timeout=2)
        assert other_wrote.is_set() != as_writer
        if not as_writer:
            with pytest.raises(OperationalError, match="database is locked"):
                job.execute(text("UPDATE counts SET n = n + 1"))
            job.rollback()
            engine.dispose()
            return
        job.execute(text("UPDATE counts SET n = :n"), {"n": seen + 1})
    writer.join(timeout=10)
    assert other_wrote.is_set()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT n FROM counts").scalar() == 11
    engine.dispose()


def test_a_worker_registers_its_jobs_and_runs_rollup_then_alerts(
    running_worker: Worker, fresh_factory: sessionmaker[Session]
) -> None:
    seed(fresh_factory)
    wait_for(
        lambda: sum(run.job == "alerts" for run in all_runs(fresh_factory)) >= 2,
        timeout=30,
        what="two scheduled rollup + alerts rounds",
    )
    runs = all_runs(fresh_factory)
    assert {run.trigger for run in runs} == {"schedule"}
    assert {run.worker for run in runs} == {running_worker.identity}
    assert [run.job for run in runs[:2]] == ["rollup", "alerts"]
    assert runs[0].status == "succeeded" and runs[0].rows == 1
    assert_no_overlap(runs)
    with fresh_factory() as session:
        scheduled = list_scheduled_jobs(session)
        overview = summarise_jobs(session, SYSTEM)
        state = get_job_state(session, job=WORKER_STATE)
    assert set(scheduled) == {"rollup", "agreement", "spend", "notify", "storage"}
    nightly = scheduled["agreement"]
    assert nightly is not None and (nightly.hour, nightly.minute) == (2, 30)
    digests = scheduled["notify"]
    assert digests is not None and (digests.hour, digests.minute) == (7, 0)
    assert overview.worker.running and overview.worker.worker == running_worker.identity
    next_rollup = {job.name: job.next_run for job in overview.jobs}["rollup"]
    assert next_rollup is not None
    assert next_rollup - dt.datetime.now(dt.UTC) < dt.timedelta(seconds=5)
    assert state["worker"] == running_worker.identity


@pytest.mark.parametrize("fresh_database_url", ["sqlite"], indirect=True)
def test_on_sqlite_a_second_worker_stands_by_until_the_first_stops(
    running_worker: Worker, fresh_database_url: str
) -> None:
    wait_for(lambda: running_worker.leading, timeout=10, what="the first worker to lead")
    standby = Worker(fresh_database_url, Settings(database_url=fresh_database_url, **FAST))
    thread = threading.Thread(target=standby.run, name="standby-worker", daemon=True)
    thread.start()
    try:
        time.sleep(1)
        assert running_worker.leading and not standby.leading
        running_worker.stop()
        wait_for(lambda: standby.leading, timeout=10, what="the standby to take over")
    finally:
        standby.stop()
        thread.join(timeout=20)
    assert not thread.is_alive()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="ANNOPS_TEST_DATABASE_URL is not set")
@pytest.mark.parametrize("fresh_database_url", ["postgres"], indirect=True)
def test_a_leader_that_loses_its_lock_stops_and_leads_again(
    running_worker: Worker, fresh_database_url: str, fresh_factory: sessionmaker[Session]
) -> None:
    def leader_since() -> str | None:
        with fresh_factory() as session:
            return get_job_state(session, job=WORKER_STATE).get("leader_since")

    wait_for(lambda: leader_since() is not None, timeout=15, what="the worker to lead")
    first_term = leader_since()
    engine = make_engine(fresh_database_url)
    with engine.connect() as connection:
        terminated = connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                "WHERE locktype = 'advisory' AND classid = :namespace "
                # Only this test's database: other tests' workers lead their own.
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"namespace": LEADER_LOCKS},
        )
    engine.dispose()
    assert terminated == 1
    wait_for(lambda: leader_since() != first_term, timeout=15, what="a new leadership term")


def start_worker(url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ANNOPS_DATABASE_URL": url,
        "ANNOPS_WORKER_ROLLUP_MINUTES": str(FAST["worker_rollup_minutes"]),
        "ANNOPS_WORKER_POLL_SECONDS": str(FAST["worker_poll_seconds"]),
    }
    # The child keeps its own copy of the file descriptor.
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "ops.cli", "worker"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="ANNOPS_TEST_DATABASE_URL is not set")
@pytest.mark.parametrize("fresh_database_url", ["postgres"], indirect=True)
def test_two_worker_processes_one_leads_the_standby_takes_over(
    fresh_database_url: str, fresh_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    seed(fresh_factory)
    first = start_worker(fresh_database_url, tmp_path / "first.log")
    second: subprocess.Popen[bytes] | None = None
    try:

        def runs_by(process: subprocess.Popen[bytes]) -> list[JobRun]:
            return [
                run
                for run in all_runs(fresh_factory)
                if run.worker and run.worker.endswith(f":{process.pid}")
            ]

        wait_for(lambda: len(runs_by(first)) >= 2, timeout=30, what="the first worker's runs")
        second = start_worker(fresh_database_url, tmp_path / "second.log")
        wait_for(
            lambda: "standing by" in (tmp_path / "second.log").read_text(),
            timeout=30,
            what="the second worker to stand by",
        )
        time.sleep(2)  # several rollup intervals: the leader keeps running, the standby waits
        assert runs_by(second) == []
        assert len(runs_by(first)) >= 4
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = dt.datetime.now(dt.UTC)
        wait_for(lambda: len(runs_by(second)) >= 4, timeout=30, what="the standby to take over")
        took_over = min(run.started_at for run in runs_by(second))
        assert took_over - killed_at < dt.timedelta(seconds=5)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
        log = (tmp_path / "second.log").read_text()
        assert "standing by" in log and "leads: scheduling jobs" in log and "stopped" in log
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    runs = all_runs(fresh_factory)
    assert {run.trigger for run in runs} == {"schedule"}
    # The only runs of the killed leader that may not have succeeded are the one it was in
    # the middle of, closed by the new leader as interrupted.
    unfinished = [run for run in runs if run.status != "succeeded"]
    assert len(unfinished) <= 1
    assert all(run.error and run.error.startswith("interrupted") for run in unfinished)
    assert_no_overlap(runs)
    with fresh_factory() as session:
        state = get_job_state(session, job=WORKER_STATE)
    assert state["worker"].endswith(f":{second.pid}" if second else "")
