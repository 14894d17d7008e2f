"""The Jobs page: admins see the schedule and run jobs now; no other role can reach it."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from db.engine import make_engine, make_session_factory
from ops.errors import PermissionDenied
from ops.jobs import run_job_now, summarise_jobs
from ops.permissions import Principal
from tests.pages.conftest import log_in


def table_with(app: AppTest, column: str) -> pd.DataFrame:
    """The one table on the page that has ``column``."""
    [frame] = [df.value for df in app.dataframe if column in df.value.columns]
    return frame


def open_jobs(app: AppTest) -> AppTest:
    log_in(app, "admin")
    app.switch_page("pages/jobs.py")
    return app.run()


def test_admin_sees_every_job_and_that_no_worker_runs(app: AppTest) -> None:
    open_jobs(app)
    assert not app.exception, app.exception
    schedule = table_with(app, "schedule")
    assert list(schedule["job"]) == ["rollup", "alerts", "notify", "agreement", "spend", "storage"]
    assert list(schedule["schedule"])[:4] == [
        "every 15 minutes",
        "after each successful rollup",
        "after each alerts run, and at 07:00 UTC for the digests",
        "nightly at 02:30 UTC",
    ]
    assert "No worker has run on this database" in app.warning[0].value
    assert set(schedule["next run (UTC)"].isna()) == {True}


def test_run_now_runs_the_job_and_lists_the_run(app: AppTest) -> None:
    open_jobs(app)
    app.selectbox(key="jobs_run_name").set_value("agreement")
    app.button(key="jobs_run_now").click()
    app.run()
    assert not app.exception, app.exception
    assert app.success[0].value.startswith("agreement succeeded: 4 rows in")
    runs = table_with(app, "trigger")
    latest = runs.iloc[0]
    assert (latest["job"], latest["trigger"], latest["status"], latest["rows"]) == (
        "agreement",
        "manual",
        "succeeded",
        4,
    )
    assert latest["worker"].startswith("admin@")
    schedule = table_with(app, "schedule").set_index("job")
    assert schedule.loc["agreement", "status"] == "succeeded"
    assert schedule.loc["rollup", "status"] == "never run"


def test_full_rebuild_is_offered_only_for_the_rollup_jobs(app: AppTest) -> None:
    open_jobs(app)
    assert not app.checkbox(key="jobs_run_full").disabled
    app.selectbox(key="jobs_run_name").set_value("alerts")
    app.run()
    assert app.checkbox(key="jobs_run_full").disabled


@pytest.mark.parametrize("role", ["ops", "lead", "finance", "annotator"])
def test_other_roles_cannot_reach_jobs(app: AppTest, demo_url: str, role: str) -> None:
    log_in(app, role)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/jobs.py")
    # Nor can they get past ops, whatever a page did.
    engine = make_engine(demo_url)
    factory = make_session_factory(engine)
    who = Principal(username=role, role=role)
    try:
        with pytest.raises(PermissionDenied), factory() as session:
            summarise_jobs(session, who)
        with pytest.raises(PermissionDenied):
            run_job_now(who, "rollup", factory=factory)
    finally:
        engine.dispose()
