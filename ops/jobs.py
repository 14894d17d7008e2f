"""Scheduled jobs: plain idempotent functions, each run in one transaction and recorded.

Every run, whoever starts it (the worker's schedule, `annops jobs run`, the Jobs page),
goes through ``run_job``: it takes the job's lock, records a ``running`` row in job_runs,
does the work in one transaction and marks the row succeeded in that same transaction.
A failed run rolls its work back and is recorded as failed with its error.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_session_factory, transaction
from db.locks import begin_as_writer, try_transaction_lock
from db.models import JobRun, utcnow
from db.partitions import MAX_SEGMENTS, compact_month, list_month_storage
from db.queries.imports import lock_imports
from db.queries.jobs import (
    finish_job_run,
    get_job_state,
    list_job_runs,
    list_running_job_runs,
    list_scheduled_jobs,
    save_job_state,
)
from ops import audit, rollups
from ops.alerts import evaluate_alerts
from ops.database import describe_outage, session_factory
from ops.errors import AnnopsError, NotFound
from ops.permissions import Principal, require
from ops.quality import compute_project_agreements
from ops.settings import get_settings

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
TRIGGERS = ("schedule", "manual")
ERROR_LIMIT = 4000
# JobState key of the worker's heartbeat.
WORKER_STATE = "worker"


class JobBusy(AnnopsError):
    """The job, or one that rewrites the same tables, is running right now."""


@dataclass(frozen=True)
class JobContext:
    """What a job function gets besides its session."""

    now: dt.datetime
    full: bool
    progress: Progress


@dataclass(frozen=True)
class Job:
    """A scheduled job: its work, when it runs and which lock it shares."""

    name: str
    title: str
    schedule: str
    description: str
    work: Callable[[Session, JobContext], int]
    # Jobs with the same lock never run at the same time (they rewrite the same rows).
    lock: str
    # The work writes only in the job's transaction, which on SQLite then begins as the
    # database's writer (db.locks.begin_as_writer). False for work that commits through
    # sessions of its own meanwhile, which would wait for that transaction.
    one_transaction: bool = True


@dataclass(frozen=True)
class JobOutcome:
    """One finished run as job_runs recorded it."""

    run_id: int
    job: str
    trigger: str
    status: str
    rows: int | None
    error: str | None
    started_at: dt.datetime
    finished_at: dt.datetime

    @property
    def seconds(self) -> float:
        """Wall-clock duration of the run."""
        return (self.finished_at - self.started_at).total_seconds()


# --- the jobs ------------------------------------------------------------------------------


def rollup_job(session: Session, context: JobContext) -> int:
    """Fold events that arrived since the last run into the daily rollups; rows rewritten."""
    if context.full:
        context.progress("rebuilding every daily rollup from all events", 0.05)
        return rollups.rebuild(session)
    context.progress("folding new events into the daily rollups", 0.05)
    return rollups.refresh(session)


def alerts_job(session: Session, context: JobContext) -> int:
    """Run the alert rules over the windows now due; alerts raised."""
    context.progress("evaluating the alert rules on the rollups", 0.05)
    return evaluate_alerts(session, now=context.now)


def notify_job(session: Session, context: JobContext) -> int:
    """Record the alert notices and digests now due, then send what is pending; messages sent.

    Unlike the other jobs, its work is not one transaction: a message is committed to the
    outbox before it is sent and its outcome after (ops.notify.delivery says why). The run
    still holds the job's lock throughout and is recorded in job_runs like any other.
    """
    from ops.notify.delivery import run_notifications

    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    summary = run_notifications(
        make_session_factory(engine), now=context.now, progress=context.progress
    )
    return summary.sent


def agreement_job(session: Session, context: JobContext) -> int:
    """Store each project's agreement over the last days; projects computed."""
    return compute_project_agreements(
        session,
        now=context.now,
        window_days=get_settings().agreement_window_days,
        progress=context.progress,
    )


def spend_job(session: Session, context: JobContext) -> int:
    """Re-price rollup rows that pay rates added or corrected since the last run change."""
    if context.full:
        context.progress("re-pricing every daily rollup", 0.05)
        return rollups.rebuild(session)
    context.progress("re-pricing work touched by new or corrected pay rates", 0.05)
    return rollups.reprice(session)


def storage_job(session: Session, context: JobContext) -> int:
    """Fold the imports' segments of months that are over or crowded into each month's
    base table, so the number of tables stays small; months folded."""
    lock_imports(session)  # an import never adds a segment to a month being folded
    due = [storage for storage in list_month_storage(session) if storage.due(context.now.date())]
    for done, storage in enumerate(due):
        context.progress(
            f"folding {storage.month:%Y-%m} ({storage.tables} tables)", 0.05 + done / len(due)
        )
        compact_month(session, storage.month)
    return len(due)


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job(
            name="rollup",
            title="Daily rollups",
            schedule="every {rollup_minutes:g} minutes",
            description="Folds newly imported events into the per-annotator daily rollups "
            "every page reads; with --full, rebuilds them from all events.",
            work=rollup_job,
            lock="rollups",
        ),
        Job(
            name="alerts",
            title="Alert rules",
            schedule="after each successful rollup",
            description="Evaluates the alert rules on the fresh rollups and raises new alerts.",
            work=alerts_job,
            lock="alerts",
        ),
        Job(
            name="notify",
            title="Notifications",
            schedule="after each alerts run, and at {digest_hour:02d}:00 UTC for the digests",
            description="Records a notice of each new alert for the people who asked for its "
            "rule and may see it, and the daily digests once their hour has come; then sends "
            "what is pending by email and webhook, retrying failures with backoff.",
            work=notify_job,
            lock="notify",
            one_transaction=False,
        ),
        Job(
            name="agreement",
            title="Project agreement",
            schedule="nightly at 02:30 UTC",
            description="Computes each project's agreement (Krippendorff's alpha, Fleiss' and "
            "Cohen's kappa, disputed items) over the last {agreement_days} days for the "
            "Quality page.",
            work=agreement_job,
            lock="agreement",
        ),
        Job(
            name="spend",
            title="Spend re-pricing",
            schedule="daily at 03:00 UTC",
            description="Re-prices the rollup costs of work touched by pay rates added or "
            "corrected since the last run (a rate entered late, a corrected amount), so spend "
            "reflects the rate really in effect.",
            work=spend_job,
            lock="rollups",
        ),
        Job(
            name="storage",
            title="Event storage",
            schedule="daily at 04:00 UTC",
            description="On PostgreSQL, folds the tables large imports added to a month into "
            "the month's own table once the month is over or holds more than "
            f"{MAX_SEGMENTS} tables, keeping every event and id.",
            work=storage_job,
            lock="storage",
        ),
    )
}


def get_job(name: str) -> Job:
    """The job called ``name``; NotFound lists the names there are."""
    job = JOBS.get(name)
    if job is None:
        raise NotFound(f"No job {name!r}; jobs: {', '.join(JOBS)}.")
    return job


def describe_schedule(job: Job) -> str:
    """The job's schedule with the configured numbers filled in."""
    settings = get_settings()
    return job.schedule.format(
        rollup_minutes=settings.worker_rollup_minutes, digest_hour=settings.notify_digest_hour
    )


def describe_job(job: Job) -> str:
    """The job's description with the configured numbers filled in."""
    return job.description.format(agreement_days=get_settings().agreement_window_days)


# --- running and recording -----------------------------------------------------------------


def worker_identity() -> str:
    """host:pid of this process, as job runs record who ran them."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(
    name: str,
    *,
    trigger: str = "manual",
    full: bool = False,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    factory: sessionmaker[Session] | None = None,
    runner: str | None = None,
) -> JobOutcome:
    """Run one job now, once, in one transaction, and record the run.

    Raises JobBusy (recording nothing) when the job or one sharing its lock is running.
    A failure inside the job is recorded and returned as a failed outcome, not raised.
    """
    job = get_job(name)
    if trigger not in TRIGGERS:
        raise ValueError(f"trigger must be one of {', '.join(TRIGGERS)}, got {trigger!r}")
    factory = factory or session_factory()
    report = progress or _ignore_progress
    with factory() as work:
        job_transaction = work.begin()
        if not try_transaction_lock(work, job.lock):
            job_transaction.rollback()
            raise _busy(job)
        try:
            run_id, started_at = _record_start(factory, job, trigger, runner or worker_identity())
        except BaseException:
            job_transaction.rollback()
            raise
        try:
            if job.one_transaction:
                begin_as_writer(work)
            context = JobContext(now=now or utcnow(), full=full, progress=report)
            rows = job.work(work, context)
            finished_at = utcnow()
            finish_job_run(
                work, run_id=run_id, status="succeeded", finished_at=finished_at, rows=rows
            )
            job_transaction.commit()
        except BaseException as error:
            # The end is taken before the rollback releases the lock, so the next run of
            # this job always starts after this one's recorded end.
            finished_at = utcnow()
            job_transaction.rollback()
            message = _error_text(error)
            _record_failure(factory, run_id, finished_at, message)
            if not isinstance(error, Exception):
                raise
            if describe_outage(error):
                # Nothing to debug: say what happened in one line, as the run records it.
                log.error("job %s failed: %s", name, message)
            else:
                log.exception("job %s failed", name)
            report("failed", 1.0)
            return JobOutcome(
                run_id, name, trigger, "failed", None, message, started_at, finished_at
            )
    report("done", 1.0)
    log.info("job %s: %s rows in %.2f s", name, rows, (finished_at - started_at).total_seconds())
    return JobOutcome(run_id, name, trigger, "succeeded", rows, None, started_at, finished_at)


def run_jobs(
    names: Sequence[str] | None = None,
    *,
    actor: Principal,
    full: bool = False,
    factory: sessionmaker[Session] | None = None,
    progress: Callable[[str, str, float], None] | None = None,
) -> list[JobOutcome]:
    """Run the named jobs (all, in schedule order, when none is named) manually, once each;
    each run is audited under ``actor``."""
    chosen = list(names) if names else list(JOBS)
    for name in chosen:
        get_job(name)
    outcomes = []
    for name in chosen:
        step = None if progress is None else _bind_progress(progress, name)
        outcomes.append(run_job_now(actor, name, full=full, factory=factory, progress=step))
    return outcomes


def run_job_now(
    principal: Principal,
    name: str,
    *,
    full: bool = False,
    progress: Progress | None = None,
    factory: sessionmaker[Session] | None = None,
) -> JobOutcome:
    """A person's "run now": checks ``jobs.run`` and records who asked for it."""
    require(principal, "jobs.run")
    outcome = run_job(
        name,
        trigger="manual",
        full=full,
        progress=progress,
        factory=factory,
        runner=f"{principal.username}@{worker_identity()}",
    )
    with transaction(factory or session_factory()) as session:
        audit.record(
            session,
            principal,
            "job.run",
            ("job_runs", outcome.run_id),
            after={"job": name, "full": full, "status": outcome.status, "rows": outcome.rows},
        )
    return outcome


def scheduled_rollup() -> None:
    """The worker's rollup, the alert rules once the rollups are fresh, then notifications.

    Notifications run even when the rollup or the alerts failed (retries and digests do
    not need them), each in a run of its own, so a failing channel never touches the others.
    """
    outcome = _run_scheduled("rollup")
    if outcome is None:
        return
    if outcome.status == "succeeded":
        _run_scheduled("alerts")
    _run_scheduled("notify")


def scheduled_notify() -> None:
    """The worker's notify run at the digest hour, whatever the rollup interval."""
    _run_scheduled("notify")


def scheduled_agreement() -> None:
    """The worker's nightly agreement run."""
    _run_scheduled("agreement")


def scheduled_spend() -> None:
    """The worker's daily spend re-pricing."""
    _run_scheduled("spend")


def scheduled_storage() -> None:
    """The worker's daily folding of event segments."""
    _run_scheduled("storage")


def _run_scheduled(name: str) -> JobOutcome | None:
    try:
        return run_job(name, trigger="schedule")
    except JobBusy as busy:
        log.info("job %s not started: %s", name, busy)
        return None


def _busy(job: Job) -> JobBusy:
    sharing = [other.name for other in JOBS.values() if other.lock == job.lock]
    which = job.name if sharing == [job.name] else f"{job.name} (or {', '.join(sharing)})"
    return JobBusy(f"{which} is running right now; try again when it has finished.")


def _record_start(
    factory: sessionmaker[Session], job: Job, trigger: str, runner: str
) -> tuple[int, dt.datetime]:
    """Commit the run's ``running`` row, first closing runs a dead process left behind."""
    group = [other.name for other in JOBS.values() if other.lock == job.lock]
    with transaction(factory) as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        run = JobRun(job=job.name, trigger=trigger, status="running", worker=runner)
        session.add(run)
        session.flush()
        for other in [r for name in group for r in list_running_job_runs(session, job=name)]:
            if other.id == run.id:
                continue
            # On PostgreSQL the caller holds the job's lock, so any other running row is a
            # leftover. SQLite has no such lock: a row whose process is alive is a live run.
            if postgres or not _process_alive(other.worker):
                other.status = "failed"
                # Its end is unknown; the new run's start bounds it, so runs never overlap.
                other.finished_at = run.started_at
                other.error = "interrupted: the process running it stopped before it finished"
            else:
                raise _busy(job)
        return run.id, run.started_at


def _record_failure(
    factory: sessionmaker[Session], run_id: int, finished_at: dt.datetime, message: str
) -> None:
    with transaction(factory) as session:
        finish_job_run(
            session,
            run_id=run_id,
            status="failed",
            finished_at=finished_at,
            rows=None,
            error=message,
        )


def _process_alive(worker: str | None) -> bool:
    """Whether the host:pid that recorded a run is still running; True when unknowable."""
    if not worker:
        return False
    host, _, pid = worker.rpartition("@")[2].rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _error_text(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt | SystemExit):
        return f"interrupted ({type(error).__name__})"
    outage = describe_outage(error)
    text = f"{type(error).__name__}: {outage or error}"
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 1] + "…"


def _ignore_progress(step: str, fraction: float) -> None:
    del step, fraction


def _bind_progress(progress: Callable[[str, str, float], None], name: str) -> Progress:
    def report(step: str, fraction: float) -> None:
        progress(name, step, fraction)

    return report


# --- worker heartbeat ----------------------------------------------------------------------


def record_heartbeat(
    session: Session, *, worker: str, leader_since: dt.datetime, poll_seconds: float
) -> None:
    """The leading worker says it is alive; the Jobs page reads this."""
    now = utcnow()
    document = {
        "worker": worker,
        "leader_since": leader_since.isoformat(),
        "heartbeat": now.isoformat(),
        "poll_seconds": poll_seconds,
    }
    save_job_state(session, job=WORKER_STATE, values=document, at=now)


# --- the Jobs page -------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerStatus:
    """Whether a worker leads, and since when, from its heartbeat."""

    running: bool
    worker: str | None
    leader_since: dt.datetime | None
    last_heartbeat: dt.datetime | None
    message: str


@dataclass(frozen=True)
class JobSummary:
    """One job on the Jobs page: schedule, next run and its latest run."""

    name: str
    title: str
    schedule: str
    description: str
    next_run: dt.datetime | None
    last_status: str | None
    last_started: dt.datetime | None
    last_seconds: float | None
    last_rows: int | None
    last_error: str | None


@dataclass(frozen=True)
class JobsOverview:
    """Everything the Jobs page shows."""

    worker: WorkerStatus
    jobs: list[JobSummary]
    runs: list[dict[str, object]]


def summarise_jobs(
    session: Session, principal: Principal, *, now: dt.datetime | None = None, limit: int = 30
) -> JobsOverview:
    """The jobs, when they run next, and their latest runs; needs ``jobs.view``."""
    require(principal, "jobs.view")
    now = now or utcnow()
    worker = _worker_status(session, now)
    scheduled = list_scheduled_jobs(session) if worker.running else {}
    summaries = []
    for job in JOBS.values():
        latest = list_job_runs(session, job=job.name, limit=1)
        last = latest[0] if latest else None
        # Alerts are not scheduled on their own: they follow each rollup, and so do
        # notifications, which also run at the digest hour.
        next_run = scheduled.get("rollup" if job.name == "alerts" else job.name)
        if job.name == "notify":
            next_run = min(
                (due for due in (scheduled.get("rollup"), next_run) if due is not None),
                default=None,
            )
        summaries.append(
            JobSummary(
                name=job.name,
                title=job.title,
                schedule=describe_schedule(job),
                description=describe_job(job),
                next_run=next_run,
                last_status=None if last is None else last.status,
                last_started=None if last is None else last.started_at,
                last_seconds=None if last is None else _duration(last, now),
                last_rows=None if last is None else last.rows,
                last_error=None if last is None else last.error,
            )
        )
    runs: list[dict[str, object]] = [
        {
            "job": run.job,
            "trigger": run.trigger,
            "started": run.started_at,
            "seconds": _duration(run, now),
            "status": run.status,
            "rows": run.rows,
            "error": run.error or "",
            "worker": run.worker or "",
        }
        for run in list_job_runs(session, limit=limit)
    ]
    return JobsOverview(worker=worker, jobs=summaries, runs=runs)


def _duration(run: JobRun, now: dt.datetime) -> float:
    """Seconds the run took, or has taken so far while it runs."""
    return round(((run.finished_at or now) - run.started_at).total_seconds(), 3)


def _worker_status(session: Session, now: dt.datetime) -> WorkerStatus:
    state = get_job_state(session, job=WORKER_STATE)
    if not state.get("heartbeat"):
        return WorkerStatus(
            False,
            None,
            None,
            None,
            "No worker has run on this database: start one with `annops worker`.",
        )
    heartbeat = dt.datetime.fromisoformat(state["heartbeat"])
    since = dt.datetime.fromisoformat(state["leader_since"])
    poll = float(state.get("poll_seconds", get_settings().worker_poll_seconds))
    # A few missed beats before calling it gone: a long SQLite job can delay one.
    if (now - heartbeat).total_seconds() > max(3 * poll, 30.0):
        return WorkerStatus(
            False,
            state.get("worker"),
            since,
            heartbeat,
            f"The worker is not running: last seen {heartbeat:%Y-%m-%d %H:%M:%S} UTC "
            f"({state.get('worker')}). Start one with `annops worker`.",
        )
    return WorkerStatus(
        True,
        state.get("worker"),
        since,
        heartbeat,
        f"Worker {state.get('worker')} leads since {since:%Y-%m-%d %H:%M:%S} UTC.",
    )
