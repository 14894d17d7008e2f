"""The annotator profile's tabs: each reads its widgets, makes one ops call, renders."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from dashboard.charts import calibration_trend_chart, weekly_accuracy_chart, weekly_work_chart
from dashboard.forms import FormErrors, form_key, form_token, may, option_label, submit
from dashboard.pool_views import PERCENT, split_list
from dashboard.session import db_session
from dashboard.text import inert
from ops.permissions import Principal
from ops.projects import list_projects
from ops.workforce import (
    calibration,
    feedback,
    guidelines,
    pay,
    profile,
    qualifications,
    roster,
    staffing,
    tiers,
    training,
)
from ops.workforce.choices import (
    ANNOTATOR_STATUSES,
    ASSIGNMENT_ROLES,
    EMPLOYMENT_TYPES,
    FEEDBACK_CATEGORIES,
    PAY_BASES,
    TIERS,
    TRAINING_KINDS,
)
from ops.workforce.profile import Profile
from ops.workforce.roster import AnnotatorDetails

if TYPE_CHECKING:
    # What st.column_config's constructors return; streamlit does not re-export the name.
    from streamlit.elements.lib.column_types import ColumnConfig


def _table(frame: pd.DataFrame, empty: str, **config: ColumnConfig | None) -> None:
    if frame.empty:
        st.caption(inert(empty))
    else:
        st.dataframe(frame, hide_index=True, column_config=config or None)


def _projects(principal: Principal) -> dict[int, str]:
    with db_session() as session:
        return {project.id: project.slug for project in list_projects(session, principal)}


# --- overview ------------------------------------------------------------------------------

FIGURES_PER_ROW = 4


def overview(principal: Principal, person: Profile) -> None:
    """Key numbers of the last 30 days, weekly trends, and the record itself."""
    with db_session() as session:
        metrics = profile.profile_metrics(session, principal, person.id)
        trend = profile.profile_trend(session, principal, person.id)
    figures = profile.overview_figures(metrics)
    # At most four to a row, so no label is cut off on a laptop screen.
    for start in range(0, len(figures), FIGURES_PER_ROW):
        row = figures[start : start + FIGURES_PER_ROW]
        for column, figure in zip(st.columns(FIGURES_PER_ROW), row, strict=False):
            column.metric(figure.label, figure.value, help=figure.help or None)
    left, right = st.columns(2)
    accuracy_chart = weekly_accuracy_chart(trend)
    work_chart = weekly_work_chart(trend)
    with left:
        st.markdown("**Gold accuracy per week**")
        if accuracy_chart is not None:
            st.altair_chart(accuracy_chart)
    with right:
        st.markdown("**Annotations per week**")
        if work_chart is not None:
            st.altair_chart(work_chart)
    facts = {
        "Team": person.team or "none",
        "Employment": person.employment_type,
        "Country": person.country or "—",
        "Domains": ", ".join(person.domains) or "—",
        "Skills": ", ".join(person.skills) or "—",
        "Languages": ", ".join(person.languages) or "—",
        "Current projects": ", ".join(person.current_projects) or "—",
        "Platform identities": ", ".join(person.identities) or "—",
    }
    if person.show_contact:
        facts = {"Email": person.email or "—", "Phone": person.phone or "—", **facts}
    st.table(pd.Series(facts, name="").to_frame())
    if may(principal, "annotator.edit"):
        with st.expander("Edit details"):
            _edit_form(principal, person)
    if may(principal, "identity.link"):
        with st.expander("Link a platform identity"):
            _identity_form(principal, person)
    if may(principal, "annotator.archive"):
        with st.expander("Restore to the pool" if person.archived else "Archive"):
            _archive_form(principal, person)


def _edit_form(principal: Principal, person: Profile) -> None:
    name = f"annotator-{person.id}"
    token = form_token(name, person.version_id)
    key = f"{form_key(name)}-{token}"
    with db_session() as session:
        teams = dict(roster.pool_options(session, principal).teams)
    errors = FormErrors(name)
    with st.form(key):
        display_name = st.text_input("Name", person.display_name, key=f"{key}-name")
        errors.slot("display_name")
        team_id = person.team_id
        if principal.role != "lead":
            choices = [None, *teams]
            team_id = st.selectbox(
                "Team",
                choices,
                index=choices.index(person.team_id) if person.team_id in choices else 0,
                format_func=lambda t: teams.get(t, "none"),
                key=f"{key}-team",
            )
        status = st.selectbox(
            "Status",
            ANNOTATOR_STATUSES,
            index=ANNOTATOR_STATUSES.index(person.status),
            key=f"{key}-status",
        )
        employment = st.selectbox(
            "Employment",
            EMPLOYMENT_TYPES,
            index=EMPLOYMENT_TYPES.index(person.employment_type),
            key=f"{key}-employment",
        )
        country = st.text_input("Country", person.country, max_chars=2, key=f"{key}-country")
        errors.slot("country")
        email = phone = None
        if person.show_contact:
            email = st.text_input("Email", person.email or "", key=f"{key}-email")
            errors.slot("email")
            phone = st.text_input("Phone", person.phone or "", key=f"{key}-phone")
            errors.slot("phone")
        skills = st.text_input("Skills", ", ".join(person.skills), key=f"{key}-skills")
        errors.slot("skills")
        domains = st.text_input("Domains", ", ".join(person.domains), key=f"{key}-domains")
        errors.slot("domains")
        languages = st.text_input("Languages", ", ".join(person.languages), key=f"{key}-languages")
        errors.slot("languages")
        errors.slot("tier")
        if st.form_submit_button("Save details"):
            details = AnnotatorDetails(
                display_name=display_name,
                team_id=team_id,
                status=status,
                employment_type=employment,
                tier=person.tier,
                email=email,
                phone=phone,
                country=country,
                skills=split_list(skills),
                domains=split_list(domains),
                languages=split_list(languages),
            )
            submit(
                errors,
                lambda session: roster.update_annotator(
                    session, principal, person.id, details, expected_version=token
                ),
                f"Saved {display_name.strip()}.",
            )


def _identity_form(principal: Principal, person: Profile) -> None:
    errors = FormErrors(f"identity-{person.id}")
    with st.form(f"identity-{person.id}"):
        platform = st.text_input("Platform", "labelstudio", key=f"identity-{person.id}-platform")
        errors.slot("platform")
        external_id = st.text_input("User id on the platform", key=f"identity-{person.id}-id")
        errors.slot("external_id")
        email = st.text_input("Email on the platform", key=f"identity-{person.id}-email")
        errors.slot("identity_email")
        if st.form_submit_button("Link identity"):
            submit(
                errors,
                lambda session: roster.add_identity(
                    session,
                    principal,
                    person.id,
                    platform=platform,
                    external_id=external_id,
                    email=email,
                ),
                f"Linked {platform}:{external_id.strip()} to {person.display_name}.",
            )


def _archive_form(principal: Principal, person: Profile) -> None:
    name = f"archive-{person.id}"
    token = form_token(name, person.version_id)
    errors = FormErrors(name)
    with st.form(f"{name}-{token}"):
        reason = st.text_input("Reason", key=f"{name}-{token}-reason")
        errors.slot("reason")
        label = "Restore" if person.archived else "Archive"
        if st.form_submit_button(label):
            action = roster.restore_annotator if person.archived else roster.archive_annotator
            submit(
                errors,
                lambda session: action(
                    session, principal, person.id, expected_version=token, reason=reason
                ),
                f"{person.display_name} {'restored' if person.archived else 'archived'}.",
            )


# --- qualifications and training -----------------------------------------------------------


def qualification_tab(principal: Principal, person: Profile) -> None:
    """Test results with pass or fail, and a form to record one."""
    with db_session() as session:
        frame = qualifications.list_qualifications(session, principal, person.id)
        task_types = roster.pool_options(session, principal).task_types
    _table(
        frame,
        "No qualification tests recorded.",
        score=PERCENT,
        **{"lower bound": PERCENT, "upper bound": PERCENT, "pass mark": PERCENT},
    )
    if not may(principal, "annotator.edit"):
        return
    name = f"qualification-{person.id}"
    key = form_key(name)
    errors = FormErrors(name)
    with st.form(key):
        st.markdown("**Record a test result**")
        task_type = st.selectbox(
            "Task type", task_types, accept_new_options=True, key=f"{key}-task"
        )
        errors.slot("task_type")
        domain = st.text_input("Domain (optional)", key=f"{key}-domain")
        errors.slot("domain")
        left, middle, right = st.columns(3)
        n_items = left.number_input("Items", min_value=0, value=40, key=f"{key}-items")
        n_correct = middle.number_input("Correct", min_value=0, value=0, key=f"{key}-correct")
        pass_mark = right.number_input(
            "Pass mark", 0.0, 1.0, value=qualifications.DEFAULT_PASS_MARK, key=f"{key}-pass"
        )
        errors.slot("n_items")
        errors.slot("n_correct")
        errors.slot("pass_mark")
        taken_on = st.date_input("Taken on", key=f"{key}-date")
        errors.slot("taken_on")
        if st.form_submit_button("Record result"):
            submit(
                errors,
                lambda session: qualifications.record_qualification(
                    session,
                    principal,
                    person.id,
                    task_type=task_type or "",
                    domain=domain,
                    n_items=int(n_items),
                    n_correct=int(n_correct),
                    pass_mark=float(pass_mark),
                    taken_on=taken_on,
                ),
                "Qualification result recorded.",
            )


def training_tab(principal: Principal, person: Profile) -> None:
    """Training records with their status, and a form to record one."""
    with db_session() as session:
        frame = training.list_trainings(session, principal, person.id)
    _table(
        frame.drop(columns=["id", "annotator_id", "project_id", "guideline_version_id"]),
        "No training recorded.",
    )
    if not may(principal, "annotator.edit"):
        return
    name = f"training-{person.id}"
    st.markdown("**Record a training**")
    projects = _projects(principal)
    project_id = st.selectbox(
        "Project (for domain and guideline-change training)",
        [None, *projects],
        format_func=lambda p: projects.get(p, "none"),
        key=f"{name}-project",
    )
    versions: dict[int, str] = {}
    if project_id is not None and may(principal, "guideline.view"):
        with db_session() as session:
            versions = guidelines.version_choices(session, principal, project_id)
    key = form_key(name)
    errors = FormErrors(name)
    with st.form(key):
        errors.slot("project_id")
        kind = st.selectbox("Kind", TRAINING_KINDS, key=f"{key}-kind")
        errors.slot("kind")
        version_id = st.selectbox(
            "Guideline version",
            [None, *versions],
            format_func=lambda v: versions.get(v, "none"),
            key=f"{key}-version",
        )
        errors.slot("guideline_version_id")
        topic = st.text_input("Topic", key=f"{key}-topic")
        errors.slot("topic")
        completed_on = st.date_input("Completed on", key=f"{key}-completed")
        errors.slot("completed_on")
        expires_on = st.date_input("Expires on (optional)", value=None, key=f"{key}-expires")
        errors.slot("expires_on")
        if st.form_submit_button("Record training"):
            submit(
                errors,
                lambda session: training.record_training(
                    session,
                    principal,
                    person.id,
                    kind=kind,
                    topic=topic,
                    project_id=project_id,
                    guideline_version_id=version_id,
                    completed_on=completed_on,
                    expires_on=expires_on,
                ),
                "Training recorded.",
            )


def calibration_tab(principal: Principal, person: Profile) -> None:
    """Agreement with the reference in each calibration session, as a table and a trend."""
    with db_session() as session:
        history = calibration.calibration_history(session, principal, person.id)
    chart = calibration_trend_chart(history)
    if chart is not None:
        st.altair_chart(chart)
    _table(history, "Not in any calibration session yet.", agreement=PERCENT)


# --- pay ------------------------------------------------------------------------------------


def pay_tab(principal: Principal, person: Profile) -> None:
    """Pay-rate history; new rates and audited corrections."""
    with db_session() as session:
        history = pay.list_pay_history(session, principal, person.id)
    _table(
        history.drop(columns=["amount", "currency", "corrections"]),
        "No pay rate recorded.",
        id=None,
    )
    if not may(principal, "pay.edit"):
        return
    left, right = st.columns(2)
    with left:
        _new_rate_form(principal, person, history)
    if not history.empty:
        with right:
            _correction_form(principal, person, history)


def _new_rate_form(principal: Principal, person: Profile, history: pd.DataFrame) -> None:
    name = f"rate-{person.id}"
    currency = str(history["currency"].iloc[0]) if not history.empty else "USD"
    key = form_key(name)
    errors = FormErrors(name)
    with st.form(key):
        st.markdown("**New rate** (starts after the latest one)")
        basis = st.selectbox("Basis", PAY_BASES, key=f"{key}-basis")
        errors.slot("basis")
        amount = st.text_input("Amount", key=f"{key}-amount", placeholder="18.50")
        errors.slot("amount")
        code = st.text_input("Currency", currency, max_chars=3, key=f"{key}-currency")
        errors.slot("currency")
        effective_on = st.date_input("Effective from", key=f"{key}-date")
        errors.slot("effective_on")
        reason = st.text_input("Reason", key=f"{key}-reason")
        errors.slot("reason")
        if st.form_submit_button("Add rate"):
            submit(
                errors,
                lambda session: pay.add_pay_rate(
                    session,
                    principal,
                    person.id,
                    basis=basis,
                    amount=amount,
                    currency=code,
                    effective_on=effective_on,
                    reason=reason,
                    expected_pay_version=person.pay_version,
                ),
                "New pay rate recorded.",
            )


def _correction_form(principal: Principal, person: Profile, history: pd.DataFrame) -> None:
    rates = {int(row["id"]): row for _, row in history.iterrows()}
    rate_id = st.selectbox(
        "Correct the rate",
        list(rates),
        format_func=lambda r: f"{rates[r]['rate']} from {rates[r]['from']}",
        key=f"correct-{person.id}-rate",
    )
    rate = rates[rate_id]
    name = f"correct-{rate_id}"
    token = form_token(name, int(rate["corrections"]))
    key = f"{form_key(name)}-{token}"
    errors = FormErrors(name)
    with st.form(key):
        st.markdown("**Correction** (the old terms stay on record)")
        basis = st.selectbox(
            "Corrected basis", PAY_BASES, index=PAY_BASES.index(rate["basis"]), key=f"{key}-basis"
        )
        amount = st.text_input("Corrected amount", str(rate["amount"]), key=f"{key}-amount")
        errors.slot("amount")
        code = st.text_input("Corrected currency", str(rate["currency"]), key=f"{key}-currency")
        errors.slot("currency")
        effective_on = st.date_input(
            "Corrected start", dt.date.fromisoformat(str(rate["from"])), key=f"{key}-date"
        )
        errors.slot("effective_on")
        reason = st.text_input("What was wrong", key=f"{key}-reason")
        errors.slot("reason")
        if st.form_submit_button("Record correction"):
            submit(
                errors,
                lambda session: pay.correct_pay_rate(
                    session,
                    principal,
                    rate_id,
                    basis=basis,
                    amount=amount,
                    currency=code,
                    effective_on=effective_on,
                    reason=reason,
                    expected_corrections=token,
                ),
                "Correction recorded; the work it covers is re-priced in Spend and the reports.",
            )


# --- tiers ----------------------------------------------------------------------------------


def tier_tab(principal: Principal, person: Profile) -> None:
    """Tier history, where the person stands against the next tier, and the change form."""
    with db_session() as session:
        history = tiers.list_tier_history(session, principal, person.id)
    _table(history, f"{person.display_name} has been a {person.tier} from the start.")
    position = TIERS.index(person.tier)
    if position + 1 < len(TIERS):
        next_tier = TIERS[position + 1]
        with db_session() as session:
            check = tiers.check_promotion(session, principal, person.id, next_tier)
        verdict = "meets" if check.meets_all else "does not yet meet"
        st.markdown(f"**{inert(person.display_name)} {verdict} the criteria for {next_tier}**")
        st.dataframe(
            pd.DataFrame([vars(item) for item in check.checks]),
            hide_index=True,
            column_config={"met": st.column_config.CheckboxColumn()},
        )
    if not may(principal, "tier.change") or person.archived:
        return
    name = f"tier-{person.id}"
    token = form_token(name, person.version_id)
    key = f"{form_key(name)}-{token}"
    choices = [tier for tier in TIERS if tier != person.tier]
    errors = FormErrors(name)
    with st.form(key):
        st.markdown("**Change tier**")
        to_tier = st.selectbox("New tier", choices, key=f"{key}-to")
        errors.slot("to_tier")
        justification = st.text_area("Justification", key=f"{key}-why")
        errors.slot("justification")
        if st.form_submit_button("Record tier change", type="primary"):
            submit(
                errors,
                lambda session: tiers.change_tier(
                    session,
                    principal,
                    person.id,
                    to_tier=to_tier,
                    justification=justification,
                    expected_version=token,
                ),
                f"{person.display_name} is now a {to_tier}; the evidence is on record.",
            )


# --- feedback -------------------------------------------------------------------------------


def feedback_tab(principal: Principal, person: Profile) -> None:
    """Feedback given, whether it was acknowledged, and a form with linked evidence."""
    with db_session() as session:
        notes = feedback.list_feedback(session, principal, person.id)
        wrong = feedback.list_wrong_gold(session, principal, person.id)
    _table(notes, "No feedback yet.", id=None)
    if not may(principal, "coaching.edit") or person.archived:
        return
    name = f"feedback-{person.id}"
    evidence = {
        int(row["event_id"]): f"{row['project']}/{row['item_id']}: said {row['label']}, "
        f"gold {row['gold_label']} ({str(row['submitted_at'])[:10]})"
        for _, row in wrong.iterrows()
    }
    key = form_key(name)
    errors = FormErrors(name)
    with st.form(key):
        st.markdown("**Give feedback**")
        category = st.selectbox("Category", FEEDBACK_CATEGORIES, key=f"{key}-category")
        errors.slot("category")
        text = st.text_area("Feedback", key=f"{key}-text")
        errors.slot("text")
        linked = st.multiselect(
            f"Golden items they got wrong (last {feedback.EVIDENCE_DAYS} days)",
            list(evidence),
            format_func=option_label(evidence),
            key=f"{key}-evidence",
        )
        errors.slot("evidence")
        follow_up = st.date_input("Follow up on (optional)", value=None, key=f"{key}-follow")
        errors.slot("follow_up_on")
        if st.form_submit_button("Record feedback"):
            submit(
                errors,
                lambda session: feedback.give_feedback(
                    session,
                    principal,
                    person.id,
                    category=category,
                    text=text,
                    follow_up_on=follow_up,
                    evidence_event_ids=linked,
                ),
                "Feedback recorded; the annotator sees it on their scorecard.",
            )


# --- assignments ----------------------------------------------------------------------------


def assignment_tab(principal: Principal, person: Profile) -> None:
    """Assignments, reassignment decisions with their evidence, and the decision form."""
    with db_session() as session:
        assignments = staffing.list_assignments(session, principal, person.id)
        decisions = staffing.list_reassignments(session, principal, person.id)
    st.markdown("**Assignments**")
    _table(assignments, "Never assigned.", id=None)
    st.markdown("**Reassignment decisions**")
    _table(decisions, "No reassignment decisions.")
    if not may(principal, "staffing.edit") or person.archived:
        return
    with db_session() as session:
        current, joinable = staffing.reassignment_choices(session, principal, person.id)
    name = f"reassign-{person.id}"
    key = form_key(name)
    errors = FormErrors(name)
    with st.form(key):
        st.markdown("**Reassign** (their metrics now are stored with the decision)")
        source = st.selectbox(
            "Leaves project",
            [None, *current],
            format_func=lambda p: current.get(p, "none"),
            key=f"{key}-from",
        )
        errors.slot("from_project_id")
        target = st.selectbox(
            "Joins project",
            [None, *joinable],
            format_func=lambda p: joinable.get(p, "none"),
            key=f"{key}-to",
        )
        errors.slot("to_project_id")
        role = st.selectbox("As", ASSIGNMENT_ROLES, key=f"{key}-role")
        errors.slot("role")
        reason = st.selectbox("Reason", staffing.REASSIGNMENT_REASONS, key=f"{key}-reason")
        errors.slot("reason_category")
        notes = st.text_area("Notes", key=f"{key}-notes")
        errors.slot("notes")
        justification = st.text_area(
            "Override: why they should join although they miss the project's requirements "
            "(qualification, training, tier; audited)",
            key=f"{key}-override",
        )
        errors.slot("override_justification")
        if st.form_submit_button("Record decision"):
            submit(
                errors,
                lambda session: staffing.record_reassignment(
                    session,
                    principal,
                    person.id,
                    from_project_id=source,
                    to_project_id=target,
                    reason_category=reason,
                    notes=notes,
                    role=role,
                    override_justification=justification,
                ),
                "Reassignment recorded with the evidence.",
            )
