"""Faults against real PostgreSQL, through the real `annops` command in a subprocess: a
process killed with SIGKILL in the middle of a full rollup or an import, and a database
connection cut under a running command.

To stop a command at a known point, the test holds a lock that the command needs near its
end: the command has done its writes, uncommitted, and waits. What happens next (a kill, a
cut connection) is then the same on every run, however fast the machine is.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text

from db.engine import make_engine
from tests.conftest import POSTGRES_URL, create_scratch_database, drop_scratch_database

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not POSTGRES_URL, reason="ANNOPS_TEST_DATABASE_URL is not set; PostgreSQL tests not run"
    ),
]

ROOT = Path(__file__).resolve().parents[2]
ANNOPS = [sys.executable, "-m", "ops.cli"]
WAIT_SECONDS = 120
IMPORT_ROWS = 20_000


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL database of its own holding the demo, its rollups built."""
    url = create_scratch_database(tmp_path_factory, "postgres")
    run_annops(url, "demo", "--no-serve", "--annotators", "30", "--events", "20000", check=True)
    # A first full run records the rollup's watermark, which the test below locks.
    run_annops(url, "jobs", "run", "rollup", "--full", check=True)
    yield url
    drop_scratch_database(url)


@pytest.fixture
def watcher(demo_url: str) -> Iterator[Engine]:
    """A connection pool beside the commands, to hold locks and watch their sessions."""
    engine = make_engine(demo_url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def locker(watcher: Engine) -> Connection:
    """A connection of the watcher's pool whose transaction is real (holds its locks)."""
    return watcher.connect().execution_options(isolation_level="READ COMMITTED")


def environment(url: str) -> dict[str, str]:
    return os.environ | {"ANNOPS_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}


def run_annops(url: str, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``annops args`` to its end."""
    done = subprocess.run(
        [*ANNOPS, *args],
        cwd=ROOT,
        env=environment(url),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def start_annops(url: str, *args: str) -> subprocess.Popen[str]:
    """Start ``annops args`` without waiting for it."""
    return subprocess.Popen(
        [*ANNOPS, *args],
        cwd=ROOT,
        env=environment(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(what: str, probe: Callable[[], object]) -> object:
    """Poll ``probe`` until it returns something truthy; fail after WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


def blocked_backend(watcher: Engine, holder: Connection, process: subprocess.Popen[str]) -> int:
    """The pid of the command's database session once it waits for the lock ``holder`` has."""
    holder_pid = holder.scalar(text("SELECT pg_backend_pid()"))

    def probe() -> int | None:
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the command ended before it reached the lock: {out}{err}")
        with watcher.connect() as connection:
            pid = connection.scalar(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND :holder = ANY(pg_blocking_pids(pid))"
                ),
                {"holder": holder_pid},
            )
        return None if pid is None else int(pid)

    return int(str(wait_until("the command to wait for the lock", probe)))


def holds_write_lock(watcher: Engine, pid: int, table: str) -> bool:
    """Whether backend ``pid`` has changed ``table`` in its open transaction: written rows
    to it, or (a full rollup rebuild) swapped another table in for it."""
    with watcher.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE l.pid = :pid AND c.relname = :table AND l.granted "
                    "AND l.mode IN ('RowExclusiveLock', 'AccessExclusiveLock')"
                ),
                {"pid": pid, "table": table},
            )
        )


def wait_gone(watcher: Engine, pid: int) -> None:
    """Wait until the server has ended backend ``pid`` (rolling back its transaction)."""

    def gone() -> bool:
        with watcher.connect() as connection:
            return not connection.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )

    wait_until(f"backend {pid} to end", gone)


def rollup_rows(watcher: Engine) -> list[tuple[object, ...]]:
    """Every rollup row, in key order; seconds rounded (a sum of floats varies in its last
    digits with the order it was added up in)."""
    with watcher.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT annotator_id, project_id, day, annotations, skipped, "
                    "round(active_seconds::numeric, 6), gold_answered, gold_correct, "
                    "escalations, reviewed, accepted, cost_minor, review_cost_minor, currency "
                    "FROM daily_rollups ORDER BY annotator_id, project_id, day"
                )
            )
        ]


def one_line_error(stderr: str) -> str:
    """The command's error: one `error: ...` line, the last it wrote (progress lines may
    come before it), and no traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], stderr
    assert "Traceback" not in stderr
    return errors[0]


def count(watcher: Engine, sql: str, **params: object) -> int:
    with watcher.connect() as connection:
        return int(connection.scalar(text(sql), params) or 0)


def make_stale(watcher: Engine) -> list[tuple[object, ...]]:
    """Drop the first month of rollups, so that a rebuild that got through would show."""
    with watcher.connect() as connection:
        connection.execute(
            text("DELETE FROM daily_rollups WHERE day < (SELECT min(day) + 30 FROM daily_rollups)")
        )
    stale = rollup_rows(watcher)
    assert stale
    return stale


# --- a full rollup killed half way ---------------------------------------------------------


def test_a_full_rollup_killed_half_way_leaves_the_rollups_as_they_were(
    demo_url: str, watcher: Engine
) -> None:
    correct = rollup_rows(watcher)
    assert len(correct) > 1000
    stale = make_stale(watcher)

    with locker(watcher) as holder, holder.begin():
        # The rebuild records its watermark after rewriting every row: it stops there.
        locked = holder.execute(text("SELECT * FROM job_state WHERE job = 'rollup' FOR UPDATE"))
        assert len(locked.all()) == 1
        process = start_annops(demo_url, "jobs", "run", "rollup", "--full")
        backend = blocked_backend(watcher, holder, process)
        assert holds_write_lock(watcher, backend, "daily_rollups")
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
        process.communicate()
        # The killed process's database session still holds the job's lock: another run
        # says so in one line instead of running alongside it.
        busy = run_annops(demo_url, "jobs", "run", "rollup", "--full")
        assert busy.returncode == 1
        assert "is running right now; try again" in one_line_error(busy.stderr)
    # The lock is released: the server ends the orphaned session and rolls it back.
    wait_gone(watcher, backend)
    assert rollup_rows(watcher) == stale
    assert (
        count(watcher, "SELECT count(*) FROM job_runs WHERE job = 'rollup' AND status = 'running'")
        == 1
    )

    rerun = run_annops(demo_url, "jobs", "run", "rollup", "--full")
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.startswith("rollup: succeeded")
    assert rollup_rows(watcher) == correct
    with watcher.connect() as connection:
        statuses = connection.execute(
            text("SELECT status, error FROM job_runs WHERE job = 'rollup' ORDER BY id DESC LIMIT 2")
        ).all()
    assert statuses[0] == ("succeeded", None)
    assert statuses[1][0] == "failed" and "interrupted" in str(statuses[1][1])


# --- an import killed half way -------------------------------------------------------------


@pytest.fixture
def events_file(watcher: Engine, tmp_path: Path) -> Path:
    return write_events(watcher, tmp_path / "late-work.csv", "late")


def write_events(watcher: Engine, path: Path, prefix: str) -> Path:
    """A canonical events CSV for a demo project, by people annops does not know yet; every
    id in it starts with ``prefix``."""
    with watcher.connect() as connection:
        project = connection.scalar(text("SELECT slug FROM projects ORDER BY id LIMIT 1"))
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "project",
                "item_id",
                "annotator",
                "label",
                "submitted_at",
                "active_seconds",
                "external_id",
            ]
        )
        for row in range(IMPORT_ROWS):
            writer.writerow(
                [
                    project,
                    f"{prefix}-item-{row}",
                    f"{prefix}.worker{row % 25}@faults.example",
                    "yes" if row % 3 else "no",
                    f"2026-01-{1 + row % 28:02d}T{row % 24:02d}:00:00Z",
                    "12.5",
                    f"{prefix}-{row}",
                ]
            )
    return path


def import_footprint(watcher: Engine) -> tuple[int, int, int, int, int]:
    """Annotators and events, then the late file's events, import batches and people."""
    return (
        count(watcher, "SELECT count(*) FROM annotators"),
        count(watcher, "SELECT count(*) FROM annotation_events"),
        count(watcher, "SELECT count(*) FROM annotation_events WHERE external_id LIKE 'late-%'"),
        count(watcher, "SELECT count(*) FROM import_batches WHERE file_name = 'late-work.csv'"),
        count(
            watcher,
            "SELECT count(DISTINCT annotator_id) FROM annotator_identities "
            "WHERE coalesce(email, external_id) LIKE '%@faults.example'",
        ),
    )


def test_an_import_killed_half_way_leaves_none_of_its_rows(
    demo_url: str, watcher: Engine, events_file: Path
) -> None:
    before = import_footprint(watcher)
    assert before[2:] == (0, 0, 0)
    with locker(watcher) as holder, holder.begin():
        # The import records its audit entry after storing every row: it stops there.
        holder.execute(text("LOCK TABLE audit_entries IN EXCLUSIVE MODE"))
        process = start_annops(demo_url, "import", "events", str(events_file))
        backend = blocked_backend(watcher, holder, process)
        assert holds_write_lock(watcher, backend, "annotation_events")
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
        process.communicate()
    wait_gone(watcher, backend)
    assert import_footprint(watcher) == before

    again = run_annops(demo_url, "import", "events", str(events_file))
    assert again.returncode == 0, again.stderr
    assert import_footprint(watcher) == (
        before[0] + 25,
        before[1] + IMPORT_ROWS,
        IMPORT_ROWS,
        1,
        25,
    )
    assert (
        count(
            watcher,
            "SELECT count(DISTINCT external_id) FROM annotation_events "
            "WHERE external_id LIKE 'late-%'",
        )
        == IMPORT_ROWS
    )


# --- a connection cut under a running command ------------------------------------------


def test_an_import_whose_connection_is_cut_says_so_in_one_line_and_can_be_run_again(
    demo_url: str, watcher: Engine, tmp_path: Path
) -> None:
    cut_file = write_events(watcher, tmp_path / "cut-work.csv", "cut")
    stored = count(watcher, "SELECT count(*) FROM annotation_events")
    with locker(watcher) as holder, holder.begin():
        holder.execute(text("LOCK TABLE audit_entries IN EXCLUSIVE MODE"))
        process = start_annops(demo_url, "import", "events", str(cut_file))
        backend = blocked_backend(watcher, holder, process)
        with watcher.connect() as connection:
            assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        _out, err = process.communicate(timeout=WAIT_SECONDS)
    assert process.returncode == 1
    message = one_line_error(err)
    assert "connection to the database was lost" in message and "try again" in message
    assert count(watcher, "SELECT count(*) FROM annotation_events") == stored

    again = run_annops(demo_url, "import", "events", str(cut_file))
    assert again.returncode == 0, again.stderr
    assert count(watcher, "SELECT count(*) FROM annotation_events") == stored + IMPORT_ROWS


def test_a_rollup_whose_connection_is_cut_fails_in_one_line_and_the_next_run_works(
    demo_url: str, watcher: Engine
) -> None:
    run_annops(demo_url, "jobs", "run", "rollup", "--full", check=True)
    correct = rollup_rows(watcher)
    stale = make_stale(watcher)
    with locker(watcher) as holder, holder.begin():
        holder.execute(text("SELECT * FROM job_state WHERE job = 'rollup' FOR UPDATE"))
        process = start_annops(demo_url, "jobs", "run", "rollup", "--full")
        backend = blocked_backend(watcher, holder, process)
        with watcher.connect() as connection:
            assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        out, err = process.communicate(timeout=WAIT_SECONDS)
    assert process.returncode == 1
    assert "Traceback" not in out + err
    (line,) = out.splitlines()
    assert line.startswith("rollup: failed after ")
    assert line.endswith(
        "connection to the database was lost (terminating connection due "
        "to administrator command); nothing was saved, try again"
    )

    assert rollup_rows(watcher) == stale

    rerun = run_annops(demo_url, "jobs", "run", "rollup", "--full")
    assert rerun.returncode == 0, rerun.stderr
    assert rollup_rows(watcher) == correct
