"""The Projects page's parts: headline figures and chart, requirements, the staffing
panel with its proposal form, and the proposals awaiting a decision."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.cache import cached
from dashboard.forms import FormErrors, form_key, may, option_label, submit
from dashboard.session import db_session
from dashboard.text import inert
from dashboard.workspace_charts import progress_chart
from ops.metrics.forecast import RANGE_LABEL, STAFFING_BUFFER
from ops.money import format_money
from ops.permissions import Principal
from ops.projects import THROUGHPUT_DAYS, ProjectOverview, projection
from ops.workforce import proposals
from ops.workforce.candidates import ACCURACY_DAYS, scope_staffing_plan, staffing_scope
from ops.workforce.staffing import REASSIGNMENT_REASONS

PERCENT = st.column_config.NumberColumn(format="percent")
METHOD = (
    f"How the forecast is made: the mean annotations per calendar day over the last "
    f"{THROUGHPUT_DAYS} days (days without work count as zero), scaled by the people assigned "
    "today over the people who did that work, divides the remaining volume. The "
    f"{RANGE_LABEL} assumes each coming day varies as those {THROUGHPUT_DAYS} days did, "
    "independently of the others; real weeks are more alike than that, so treat the range "
    "as the least uncertainty there is. Cost at completion: spend so far plus the remaining "
    "volume at the cost per annotation so far."
)


def _date(value: object) -> str:
    return "—" if value is None else f"{value:%d %b %Y}"


def render_figures(overview: ProjectOverview) -> None:
    """Volume, throughput, completion and budget figures, each with its context."""
    forecast = overview.forecast
    columns = st.columns(4)
    target = overview.volume_target
    columns[0].metric(
        "Done",
        f"{overview.done:,}",
        help="annotations submitted, all time",
    )
    columns[0].caption(
        f"of {target:,}; {overview.remaining:,} remaining"
        if target is not None and overview.remaining is not None
        else "no volume target set"
    )
    columns[1].metric("Per day", f"{overview.per_day:,.0f}")
    columns[1].caption(
        f"mean of the last {THROUGHPUT_DAYS} days, by {overview.contributors} people; "
        f"{overview.assigned} assigned today"
    )
    late = overview.late_by_days
    columns[2].metric(
        "Forecast finish",
        _date(forecast.finish if forecast else None),
        delta=None if late is None else (f"{late} days late" if late > 0 else "on time"),
        delta_color="inverse" if late is not None and late > 0 else "normal",
    )
    columns[2].caption(
        f"{RANGE_LABEL} {_date(forecast.finish_early)} to {_date(forecast.finish_late)}; "
        f"deadline {_date(overview.deadline)}"
        if forecast is not None and forecast.finish is not None
        else f"deadline {_date(overview.deadline)}; no finish at the current pace"
    )
    if overview.show_money:
        columns[3].metric(
            "Forecast cost", format_money(overview.forecast_cost_minor, overview.currency)
        )
        columns[3].caption(
            f"spent {format_money(overview.spent_minor, overview.currency)} of a budget of "
            f"{format_money(overview.budget_minor, overview.currency)}"
        )
    else:
        columns[3].metric("Quality target", f"{overview.quality_target:.0%}", help="gold accuracy")
    chart = progress_chart(
        overview.daily,
        projection(overview),
        deadline=overview.deadline,
        target=overview.volume_target,
    )
    if chart is not None:
        st.altair_chart(chart, width="stretch")
        st.caption(
            "Blue: annotations done, cumulative. Orange: the forecast from today, dashed, "
            f"with its {RANGE_LABEL} shaded. Red line: the deadline; grey: the volume target."
        )
    st.caption(METHOD)


def render_requirements(overview: ProjectOverview) -> None:
    """What the project asks of the people on it."""
    facts = {
        "client": overview.client or "—",
        "task type": overview.task_type,
        "domain": overview.domain or "—",
        "complexity": overview.complexity,
        "required skills": ", ".join(overview.required_skills) or "none",
        "minimum tier": overview.min_tier,
        "quality target (gold accuracy)": f"{overview.quality_target:.0%}",
        "status": overview.status,
    }
    st.table(pd.Series(facts, name="").to_frame())


def render_staffing(principal: Principal, overview: ProjectOverview) -> None:
    """Candidates ranked with their reasons, who is left out and why, and a proposal form."""
    # Keyed on the people ranked, not on the viewer: admin and ops share one cached plan.
    plan = cached(scope_staffing_plan)(staffing_scope(principal), overview.id)
    if overview.people_needed is not None and overview.per_person_per_day:
        st.markdown(
            f"**{overview.people_needed} people** are needed to meet the deadline at current "
            f"rates: {overview.remaining:,} remaining / {overview.days_left} days left / "
            f"{overview.per_person_per_day:,.1f} a day per person, plus "
            f"{STAFFING_BUFFER:.0%} for absences and ramp-up. {overview.assigned} are "
            "assigned today."
        )
    elif overview.deadline is None or overview.remaining is None:
        st.caption("No deadline or volume target, so no head count to meet it.")
    else:
        st.caption("No recent work to measure a per-person rate from.")
    st.caption(
        f"{plan.scope_note} Ranked by the lower end of the 95% interval of gold accuracy "
        f"over the last {ACCURACY_DAYS} days, then by hours left this week. On the project "
        f"now: {inert(', '.join(plan.on_project)) or 'nobody'}."
    )
    candidates = pd.DataFrame(
        [
            {
                "rank": item.rank,
                "id": item.annotator_id,
                "name": item.name,
                "team": item.team,
                "tier": item.tier,
                "gold accuracy": item.gold_accuracy,
                "lower bound": item.gold_ci_low,
                "gold answers": item.gold_answered,
                "hours left this week": "capacity not recorded"
                if item.capacity_left_hours is None
                else f"{item.capacity_left_hours:.1f}",
                "why": item.reasons,
            }
            for item in plan.candidates
        ]
    )
    if candidates.empty:
        st.info("Nobody in your scope meets the project's requirements right now.")
    else:
        st.dataframe(
            candidates,
            hide_index=True,
            key="projects-candidates",
            column_config={
                "id": None,
                "gold accuracy": PERCENT,
                "lower bound": PERCENT,
            },
        )
    with st.expander(f"Not eligible now ({len(plan.excluded)})"):
        st.dataframe(
            pd.DataFrame(
                [
                    {"name": item.name, "team": item.team, "why not": item.reasons}
                    for item in plan.excluded
                ],
                columns=["name", "team", "why not"],
            ),
            hide_index=True,
            key="projects-excluded",
        )
    if may(principal, "staffing.propose") and not candidates.empty:
        _proposal_form(
            principal, overview, dict(zip(candidates["id"], candidates["name"], strict=True))
        )


def _proposal_form(principal: Principal, overview: ProjectOverview, people: dict[int, str]) -> None:
    name = f"propose-{overview.id}"
    key = form_key(name)
    errors = FormErrors(name)
    with st.form(key):
        st.markdown(f"**Propose someone for {overview.slug}** (ops approves or rejects)")
        person = st.selectbox(
            "Person", list(people), format_func=option_label(people), key=f"{key}-person"
        )
        errors.slot("annotator")
        role = st.selectbox("As", ("annotator", "reviewer"), key=f"{key}-role")
        errors.slot("role")
        reason = st.selectbox(
            "Reason",
            REASSIGNMENT_REASONS,
            index=REASSIGNMENT_REASONS.index("workload"),
            key=f"{key}-reason",
        )
        errors.slot("reason_category")
        notes = st.text_area("Notes", key=f"{key}-notes")
        errors.slot("notes")
        errors.slot("project_id")
        if st.form_submit_button("Propose", type="primary"):
            submit(
                errors,
                lambda session: proposals.propose_staffing(
                    session,
                    principal,
                    person,
                    project_id=overview.id,
                    role=role,
                    reason_category=reason,
                    notes=notes,
                ),
                f"Proposal recorded: {people.get(person, 'the person')} for {overview.slug}. "
                "It waits for ops to approve it.",
            )


def render_proposals(principal: Principal, overview: ProjectOverview) -> None:
    """Proposals for this project: pending ones with approve and reject, then the rest."""
    with db_session() as session:
        items = proposals.list_proposals(session, principal, project_id=overview.id)
    pending = [item for item in items if item.status == "pending"]
    decided = [item for item in items if item.status != "pending"]
    if not pending:
        st.info("No proposal waits for a decision.")
    for item in pending:
        with st.container(border=True):
            st.text(
                f"{proposals.describe_move(item)}; reason {item.reason}; proposed by "
                f"{item.proposed_by} on {item.proposed_at:%d %b %Y %H:%M} UTC"
            )
            if item.notes:
                st.text(f"Notes: {item.notes}")
            if may(principal, "staffing.edit"):
                _decision_form(principal, item.id)
    if decided:
        st.markdown("**Decided**")
        st.dataframe(
            proposals.proposals_frame(decided).drop(columns=["id"]),
            hide_index=True,
            key="projects-decided",
        )


def _decision_form(principal: Principal, proposal_id: int) -> None:
    name = f"decide-{proposal_id}"
    key = form_key(name)
    errors = FormErrors(name)
    with st.form(key):
        note = st.text_input(
            "Decision note (needed to reject, or to approve someone who misses a requirement)",
            key=f"{key}-note",
        )
        errors.slot("note")
        errors.slot("override_justification")
        approve, reject = st.columns(2)
        if approve.form_submit_button("Approve", type="primary"):
            submit(
                errors,
                lambda session: proposals.approve_proposal(
                    session, principal, proposal_id, note=note
                ),
                "Proposal approved: the assignment is recorded and the forecast includes them.",
            )
        if reject.form_submit_button("Reject"):
            submit(
                errors,
                lambda session: proposals.reject_proposal(
                    session, principal, proposal_id, note=note
                ),
                "Proposal rejected.",
            )
