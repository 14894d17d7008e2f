"""The Calibration page's parts: new sessions, results, disputed items, labels and notes."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.cache import cached
from dashboard.forms import FormErrors, form_key, form_token, may, option_label, submit
from dashboard.pool_views import PERCENT
from dashboard.session import db_session
from dashboard.text import inert
from ops.permissions import Principal
from ops.projects import list_projects
from ops.workforce import calibration, guidelines
from ops.workforce.calibration import CalibrationDetail


def project_choices(principal: Principal) -> dict[int, str]:
    """Projects by id, for the selects."""
    with db_session() as session:
        return {project.id: project.slug for project in list_projects(session, principal)}


def render_new_session(principal: Principal, projects: dict[int, str]) -> None:
    """Create a session from typed reference labels or from a pilot CSV."""
    project_id = st.selectbox(
        "Project", list(projects), format_func=option_label(projects), key="cal-new-project"
    )
    versions = cached(guidelines.version_choices)(principal, project_id)
    source = st.radio(
        "Items and reference labels",
        ["Type them in", "Pilot CSV"],
        horizontal=True,
        key="cal-new-source",
    )
    key = form_key("cal-new")
    errors = FormErrors("cal-new")
    with st.form(key):
        name = st.text_input("Name", key=f"{key}-name")
        errors.slot("name")
        held_on = st.date_input("Held on", key=f"{key}-held")
        version_id = st.selectbox(
            "Guideline version",
            [None, *versions],
            format_func=lambda v: versions.get(v, "none"),
            key=f"{key}-version",
        )
        errors.slot("guideline_version_id")
        if source == "Type them in":
            lines = st.text_area(
                "One item per line: item_id,reference_label", key=f"{key}-items", height=160
            )
            errors.slot("items")
            upload = None
        else:
            upload = st.file_uploader(
                "CSV with item_id,annotator_id,label,gold (gold gives the reference)",
                type=["csv"],
                key=f"{key}-file",
            )
            errors.slot("file")
            lines = ""
        if st.form_submit_button("Create session", type="primary"):
            if upload is not None:
                submit(
                    errors,
                    lambda session: calibration.import_pilot_csv(
                        session,
                        principal,
                        project_id=project_id,
                        name=name,
                        held_on=held_on,
                        guideline_version_id=version_id,
                        data=upload.getvalue(),
                        file_name=upload.name,
                    ),
                    f"Session {name.strip()} created from {upload.name}.",
                )
            else:
                submit(
                    errors,
                    lambda session: calibration.create_session(
                        session,
                        principal,
                        project_id=project_id,
                        name=name,
                        held_on=held_on,
                        guideline_version_id=version_id,
                        items=calibration.parse_reference_lines(lines),
                    ),
                    f"Session {name.strip()} created.",
                )


def render_detail(principal: Principal, detail: CalibrationDetail) -> None:
    """Group agreement, each person against the reference, and the items to discuss."""
    st.subheader(inert(detail.name))
    st.caption(
        f"{detail.project} · held {detail.held_on} · guideline {detail.guideline_version or '—'}"
    )
    columns = st.columns(4)
    columns[0].metric("Participants", f"{detail.n_participants}")
    columns[1].metric("Items", f"{len(detail.items)}")
    columns[2].metric(
        "Krippendorff's alpha",
        f"{detail.alpha:.2f}" if detail.alpha is not None else "—",
        help="Agreement among participants, 1 perfect, 0 chance (nominal).",
    )
    columns[3].metric(
        "Fleiss' kappa",
        f"{detail.kappa:.2f}" if detail.kappa is not None else "—",
        help=detail.kappa_note or "Agreement among participants beyond chance.",
    )
    st.markdown("**Agreement with the reference**")
    if detail.hidden_participants:
        st.caption(f"{detail.hidden_participants} participant(s) outside your team not shown.")
    if detail.results.empty:
        st.caption("No labels recorded yet.")
    else:
        st.dataframe(
            detail.results,
            hide_index=True,
            column_config={"annotator_id": None, "agreement": PERCENT},
        )
    st.markdown("**Disputed items** (split labels, or away from the reference)")
    if detail.disputed.empty:
        st.caption("Nothing to discuss: everyone agreed with the reference.")
    else:
        st.dataframe(
            detail.disputed,
            hide_index=True,
            column_config={"agreement": PERCENT, "matching reference": PERCENT},
        )


def render_labels(principal: Principal, detail: CalibrationDetail) -> None:
    """Enter or correct one participant's labels; results are recomputed on save."""
    people = dict(cached(calibration.session_participants)(principal, detail.id))
    if not people:
        st.caption("Nobody in your scope to record labels for.")
        return
    person_id = st.selectbox(
        "Participant", list(people), format_func=option_label(people), key=f"cal-{detail.id}-person"
    )
    with db_session() as session:
        saved = calibration.participant_labels(session, principal, detail.id, person_id)
    name = f"cal-labels-{detail.id}-{person_id}"
    token = form_token(name, saved)
    grid = detail.items.assign(label=[token.get(item, "") for item in detail.items["item_id"]])
    errors = FormErrors(name)
    with st.form(f"{name}-{len(token)}-{hash(tuple(sorted(token.items())))}"):
        edited = st.data_editor(
            grid,
            hide_index=True,
            disabled=["item_id", "reference"],
            key=f"{name}-grid-{hash(tuple(sorted(token.items())))}",
        )
        errors.slot("labels")
        if st.form_submit_button("Save labels"):
            labels = dict(zip(edited["item_id"], edited["label"].fillna(""), strict=True))
            submit(
                errors,
                lambda session: calibration.record_labels(
                    session, principal, detail.id, person_id, labels, expected_labels=token
                ),
                f"Labels of {people[person_id]} saved; results recomputed.",
            )


def render_notes(principal: Principal, detail: CalibrationDetail) -> None:
    """Discussion notes, kept with the session; a concurrent edit is not lost."""
    name = f"cal-notes-{detail.id}"
    token = form_token(name, detail.version_id)
    editable = may(principal, "calibration.edit")
    errors = FormErrors(name)
    with st.form(f"{name}-{token}"):
        notes = st.text_area(
            "Discussion notes",
            detail.discussion_notes,
            height=160,
            disabled=not editable,
            key=f"{name}-{token}-text",
        )
        errors.slot("notes")
        if st.form_submit_button("Save notes", disabled=not editable):
            submit(
                errors,
                lambda session: calibration.save_notes(
                    session, principal, detail.id, notes, expected_version=token
                ),
                "Notes saved.",
            )
    if detail.updated_by:
        st.caption(
            f"Last changed by {inert(detail.updated_by)} at {detail.updated_at:%Y-%m-%d %H:%M} UTC"
        )


def render_archive(principal: Principal, detail: CalibrationDetail) -> None:
    """Archive a session created by mistake; its records stay."""
    name = f"cal-archive-{detail.id}"
    token = form_token(name, detail.version_id)
    errors = FormErrors(name)
    with st.form(f"{name}-{token}"):
        reason = st.text_input("Reason", key=f"{name}-{token}-reason")
        errors.slot("reason")
        if st.form_submit_button("Archive session"):
            submit(
                errors,
                lambda session: calibration.archive_session(
                    session, principal, detail.id, expected_version=token, reason=reason
                ),
                f"Session {detail.name} archived.",
            )


def sessions_table(frame: pd.DataFrame) -> None:
    """The list of sessions."""
    st.dataframe(frame, hide_index=True, column_config={"id": None})
