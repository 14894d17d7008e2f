"""`annops jobs run [NAME] [--full]`: runs now, once, recorded; a failure exits non-zero."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from db.models import AuditEntry, JobRun
from ops.cli import app
from ops.jobs import JOBS, Job, JobContext
from tests.db.test_jobs import seed

runner = CliRunner()


def recorded(factory: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with factory() as session:
        return [
            (run.job, run.trigger, run.status)
            for run in session.scalars(select(JobRun).order_by(JobRun.id))
        ]


def test_jobs_run_without_a_name_runs_every_job_once(
    fresh_factory: sessionmaker[Session],
) -> None:
    seed(fresh_factory)
    result = runner.invoke(app, ["jobs", "run"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "rollup",
        "alerts",
        "notify",
        "agreement",
        "spend",
        "storage",
    ]
    assert re.fullmatch(r"rollup: succeeded, 2 rows in \d+\.\d\d s", lines[0])
    assert "agreement of weld-qa" in result.stderr
    assert recorded(fresh_factory) == [
        ("rollup", "manual", "succeeded"),
        ("alerts", "manual", "succeeded"),
        ("notify", "manual", "succeeded"),
        ("agreement", "manual", "succeeded"),
        ("spend", "manual", "succeeded"),
        ("storage", "manual", "succeeded"),
    ]


def test_each_command_line_run_is_audited(fresh_factory: sessionmaker[Session]) -> None:
    seed(fresh_factory)
    assert runner.invoke(app, ["jobs", "run", "rollup", "--full"]).exit_code == 0
    assert runner.invoke(app, ["jobs", "run", "alerts"]).exit_code == 0
    with fresh_factory() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "job.run").order_by(AuditEntry.id)
        ).all()
        runs = {run.id: run for run in session.scalars(select(JobRun))}
    assert [entry.after for entry in entries] == [
        {"job": "rollup", "full": True, "status": "succeeded", "rows": 2},
        {"job": "alerts", "full": False, "status": "succeeded", "rows": 0},
    ]
    for entry in entries:
        assert entry.actor.startswith("cli:") and entry.entity_type == "job_runs"
        assert runs[int(entry.entity_id or 0)].trigger == "manual"


def test_jobs_run_rollup_full_rebuilds(fresh_factory: sessionmaker[Session]) -> None:
    seed(fresh_factory)
    assert runner.invoke(app, ["jobs", "run", "rollup"]).stdout.startswith(
        "rollup: succeeded, 2 rows"
    )
    # Incremental: nothing new. Full: every row rewritten again.
    assert runner.invoke(app, ["jobs", "run", "rollup"]).stdout.startswith(
        "rollup: succeeded, 0 rows"
    )
    result = runner.invoke(app, ["jobs", "run", "rollup", "--full"])
    assert result.stdout.startswith("rollup: succeeded, 2 rows")
    assert "rebuilding every daily rollup" in result.stderr


def test_a_failed_job_exits_non_zero_with_its_error(
    fresh_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: Session, context: JobContext) -> int:
        raise LookupError("no such partition")

    monkeypatch.setitem(JOBS, "alerts", Job("alerts", "Alerts", "x", "x", broken, "alerts"))
    result = runner.invoke(app, ["jobs", "run"])
    assert result.exit_code == 1
    assert "alerts: failed after" in result.stdout
    assert "LookupError: no such partition" in result.stdout
    # The other jobs still ran.
    assert [status for _, _, status in recorded(fresh_factory)] == [
        "succeeded",
        "failed",
        "succeeded",
        "succeeded",
        "succeeded",
        "succeeded",
    ]


def test_unknown_job_is_one_clear_line(fresh_factory: sessionmaker[Session]) -> None:
    result = runner.invoke(app, ["jobs", "run", "backup"])
    assert result.exit_code == 1
    assert (
        result.stderr
        == "error: no job 'backup'; jobs: rollup, alerts, notify, agreement, spend, storage\n"
    )
    assert recorded(fresh_factory) == []


def test_help_lists_the_new_commands() -> None:
    result = runner.invoke(app, ["--help"])
    for command in ("agreement", "jobs", "worker", "report"):
        assert command in result.stdout
    result = runner.invoke(app, ["report", "--help"])
    assert "annotators" in result.stdout and "spend" in result.stdout
