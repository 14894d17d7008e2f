"""`annops worker`: APScheduler in one elected process, the others standing by.

Every worker tries to take the leader lock (a session-level PostgreSQL advisory lock on
a connection of its own; a file lock next to a SQLite database). The holder builds the
scheduler and runs the jobs; the others poll and take over within a poll interval of
the leader's death. A leader that finds its lock gone stops scheduling at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal
import threading
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.pool import NullPool

from db.engine import make_engine, transaction
from db.locks import LeaderLock, leader_lock_for
from db.models import utcnow
from db.queries.jobs import SCHEDULER_JOBS
from ops import jobs
from ops.database import session_factory
from ops.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Interval runs are aligned to this instant, so a restart keeps the same beat
# (every 15 minutes means :00, :15, :30, :45, whichever worker leads).
ALIGNED_START = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# Job id -> (the module-level function the job store refers to, its trigger).
SCHEDULED_JOBS = {
    "rollup": "ops.jobs:scheduled_rollup",
    "agreement": "ops.jobs:scheduled_agreement",
    "spend": "ops.jobs:scheduled_spend",
    "notify": "ops.jobs:scheduled_notify",
    "storage": "ops.jobs:scheduled_storage",
}


def build_scheduler(url: str, settings: Settings) -> BlockingScheduler:
    """The scheduler with every job registered under its fixed id, its store in the database."""
    # The job store gets its own small engine: APScheduler disposes it on shutdown.
    store = SQLAlchemyJobStore(
        engine=make_engine(url, poolclass=NullPool), tablename=SCHEDULER_JOBS.name
    )
    scheduler = BlockingScheduler(
        jobstores={"default": store},
        # One job at a time: the jobs are short, and on SQLite concurrent writers would
        # only wait for each other.
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.worker_misfire_grace_seconds,
        },
        timezone=dt.UTC,
    )
    triggers = {
        "rollup": IntervalTrigger(
            seconds=settings.worker_rollup_minutes * 60, start_date=ALIGNED_START, timezone=dt.UTC
        ),
        "agreement": CronTrigger(hour=2, minute=30, timezone=dt.UTC),
        "spend": CronTrigger(hour=3, minute=0, timezone=dt.UTC),
        "notify": CronTrigger(hour=settings.notify_digest_hour, minute=0, timezone=dt.UTC),
        "storage": CronTrigger(hour=4, minute=0, timezone=dt.UTC),
    }
    for job_id, function in SCHEDULED_JOBS.items():
        scheduler.add_job(
            function,
            trigger=triggers[job_id],
            id=job_id,
            name=jobs.get_job(job_id).title,
            replace_existing=True,
        )
    return scheduler


class Worker:
    """One worker process: stand by until it holds the leader lock, then schedule."""

    def __init__(self, url: str | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.url = url or self.settings.database_url
        self.identity = jobs.worker_identity()
        self.stopping = threading.Event()
        self._scheduler: BlockingScheduler | None = None
        self._lock: LeaderLock = leader_lock_for(self.url)

    def run(self) -> None:
        """Block until stop(): lead whenever the lock can be had, stand by otherwise."""
        announced = False
        try:
            while not self.stopping.is_set():
                if self._lock.try_acquire():
                    announced = False
                    self._lead()
                    continue
                if not announced:
                    log.info("worker %s standing by: another worker leads", self.identity)
                    announced = True
                self.stopping.wait(self.settings.worker_poll_seconds)
        finally:
            self._lock.release()
            log.info("worker %s stopped", self.identity)

    @property
    def leading(self) -> bool:
        """True while this worker holds the leader lock."""
        return self._lock.still_held()

    def stop(self) -> None:
        """Finish the running job, stop scheduling and give the lock up."""
        self.stopping.set()

    def handle_signal(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM / SIGINT: stop cleanly."""
        del frame
        log.info("worker %s received signal %d, stopping", self.identity, signum)
        self.stop()

    def _lead(self) -> None:
        since = utcnow()
        log.info("worker %s leads: scheduling jobs", self.identity)
        done = threading.Event()
        try:
            scheduler = build_scheduler(self.url, self.settings)
            self._heartbeat(since)
            watchdog = threading.Thread(
                target=self._watch,
                args=(scheduler, since, done),
                name="leader-watchdog",
                daemon=True,
            )
            watchdog.start()
            try:
                scheduler.start()
            finally:
                done.set()
                watchdog.join()
        except Exception:
            log.exception("worker %s could not run the scheduler; standing by", self.identity)
            self._lock.release()
            self.stopping.wait(self.settings.worker_poll_seconds)

    def _watch(
        self, scheduler: BlockingScheduler, since: dt.datetime, done: threading.Event
    ) -> None:
        """Check the lock and beat the heart every poll; stop scheduling when either says so."""
        while not scheduler.running and not done.is_set():
            done.wait(0.02)
        while not done.is_set():
            if self.stopping.wait(self.settings.worker_poll_seconds):
                with contextlib.suppress(SchedulerNotRunningError):
                    scheduler.shutdown(wait=True)
                return
            if not self._lock.still_held():
                log.error(
                    "worker %s lost the leader lock (database connection gone); "
                    "stopping the scheduler and standing by",
                    self.identity,
                )
                self._lock.release()
                with contextlib.suppress(SchedulerNotRunningError):
                    scheduler.shutdown(wait=False)
                return
            self._heartbeat(since)

    def _heartbeat(self, since: dt.datetime) -> None:
        try:
            with transaction(session_factory(self.url)) as session:
                jobs.record_heartbeat(
                    session,
                    worker=self.identity,
                    leader_since=since,
                    poll_seconds=self.settings.worker_poll_seconds,
                )
        except Exception:
            # A busy SQLite file or a blip: the lock, not the heartbeat, decides leadership.
            log.warning("worker %s could not record its heartbeat", self.identity, exc_info=True)


def run_worker(url: str | None = None) -> None:
    """Run a worker in the foreground until SIGTERM or Ctrl+C."""
    worker = Worker(url)
    signal.signal(signal.SIGTERM, worker.handle_signal)
    signal.signal(signal.SIGINT, worker.handle_signal)
    worker.run()
