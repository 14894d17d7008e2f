"""Jobs (admin): schedule, next run, latest runs, and "run now" with progress."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.columns import JOB_RUN_COLUMNS, JOB_SCHEDULE_COLUMNS
from dashboard.session import db_session, require_principal
from dashboard.text import inert
from ops.errors import AnnopsError
from ops.jobs import JOBS, run_job_now, summarise_jobs

principal = require_principal()
st.title("Jobs")
st.caption(
    "Scheduled work of `annops worker`: every run is one transaction, recorded below with "
    "its duration, rows and error. Only one worker runs jobs at a time."
)

with st.container(border=True):
    st.subheader("Run now")
    columns = st.columns([2, 2, 1])
    name = columns[0].selectbox("Job", list(JOBS), key="jobs_run_name")
    full = columns[1].checkbox(
        "Full rebuild of the rollups",
        key="jobs_run_full",
        disabled=name not in ("rollup", "spend"),
        help="Recompute every daily rollup from all events instead of only the new ones.",
    )
    if columns[2].button("Run now", key="jobs_run_now", type="primary"):
        bar = st.progress(0.0, text=f"{name}: starting")

        def show(step: str, fraction: float) -> None:
            bar.progress(fraction, text=f"{name}: {step}")

        try:
            outcome = run_job_now(principal, name, full=full, progress=show)
        except AnnopsError as error:
            st.error(inert(error))
        else:
            if outcome.status == "succeeded":
                st.success(f"{name} succeeded: {outcome.rows:,} rows in {outcome.seconds:.2f} s")
            else:
                st.error(f"{name} failed after {outcome.seconds:.2f} s: {inert(outcome.error)}")

with db_session() as session:
    overview = summarise_jobs(session, principal)

if overview.worker.running:
    st.success(overview.worker.message, icon=":material/check_circle:")
else:
    st.warning(overview.worker.message, icon=":material/warning:")

st.subheader("Schedule")
st.dataframe(
    pd.DataFrame(
        [
            {
                "job": job.name,
                "what": job.title,
                "schedule": job.schedule,
                "next run (UTC)": job.next_run,
                "last run (UTC)": job.last_started,
                "status": job.last_status or "never run",
                "seconds": job.last_seconds,
                "rows": job.last_rows,
                "error": job.last_error or "",
            }
            for job in overview.jobs
        ]
    ),
    hide_index=True,
    width="stretch",
    key="jobs_schedule",
    column_config=JOB_SCHEDULE_COLUMNS,
)
with st.expander("What each job does"):
    for job in overview.jobs:
        st.markdown(f"**{job.name}** ({job.schedule}): {job.description}")

st.subheader("Latest runs")
if overview.runs:
    st.dataframe(
        pd.DataFrame(overview.runs),
        hide_index=True,
        width="stretch",
        key="jobs_runs",
        column_config=JOB_RUN_COLUMNS,
    )
else:
    st.info("No job has run yet.")
