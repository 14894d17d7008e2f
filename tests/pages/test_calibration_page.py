"""The Calibration page for ops and leads, its forms, and roles that must not see it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from db.models import AuditEntry, CalibrationSession
from ops.permissions import Principal
from ops.workforce import calibration
from tests.pages.conftest import as_read, log_in
from tests.pages.workforce_helpers import database, frame_with, labelled, open_page, texts


@pytest.mark.parametrize("role", ["ops", "lead", "admin"])
def test_sessions_with_group_agreement_and_disputed_items(app: AppTest, role: str) -> None:
    open_page(app, role, "calibration")
    assert not app.exception, app.exception
    assert app.title[0].value == "Calibration sessions"
    sessions = frame_with(app, "participants")
    assert len(sessions) >= 3
    metrics = {metric.label: metric.value for metric in app.metric}
    assert float(metrics["Krippendorff's alpha"]) > 0
    assert int(metrics["Items"]) == 20
    results = frame_with(app, "agreed")
    assert ((results["agreement"] >= 0) & (results["agreement"] <= 1)).all()
    disputed = frame_with(app, "matching reference")
    assert len(disputed) > 0
    assert set(disputed.columns) >= {"item_id", "reference", "labels"}


def test_a_lead_sees_only_their_teams_results(app: AppTest, demo_url: str) -> None:
    open_page(app, "ops", "calibration")
    everyone = set(frame_with(app, "agreed")["name"])
    lead = AppTest.from_file(app._script_path, default_timeout=30)
    open_page(lead, "lead", "calibration")
    mine = set(frame_with(lead, "agreed")["name"])
    assert mine < everyone
    assert "outside your team not shown" in texts(lead)


@pytest.mark.parametrize("role", ["finance", "annotator"])
def test_finance_and_annotators_have_no_calibration_page(app: AppTest, role: str) -> None:
    log_in(app, role)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/calibration.py")


def test_a_session_is_created_from_typed_reference_labels(app: AppTest, demo_url: str) -> None:
    open_page(app, "lead", "calibration")
    labelled(app.text_input, "Name").input("Sarcasm round")
    labelled(app.text_area, "One item per line").input("rev-1,negative\nrev-2")
    labelled(app.button, "Create session").click().run()
    assert not app.exception
    assert [as_read(error.value) for error in app.error] == [
        "Line 2: write item_id,reference_label (e.g. rev-001,positive)."
    ]
    labelled(app.text_area, "One item per line").input("rev-1,negative\nrev-2,mixed\n")
    labelled(app.button, "Create session").click().run()
    assert "Session Sarcasm round created." in texts(app)
    with database(demo_url) as session:
        created = session.scalars(
            select(CalibrationSession).where(CalibrationSession.name == "Sarcasm round")
        ).one()
        assert created.created_by == "lead"


def test_notes_are_saved_and_a_concurrent_edit_is_caught(app: AppTest, demo_url: str) -> None:
    open_page(app, "ops", "calibration")
    chosen = app.selectbox(key="cal-session").value
    assert chosen is not None
    session_id = int(chosen)
    with database(demo_url) as session:
        version = calibration.session_detail(session, Principal("x", "admin"), session_id)
        calibration.save_notes(
            session,
            Principal("lead", "ops"),
            session_id,
            "Item 04 is sarcasm.",
            expected_version=version.version_id,
        )
    labelled(app.text_area, "Discussion notes").input("We agreed item 07 is mixed.")
    labelled(app.button, "Save notes").click().run()
    assert "was changed by lead at" in as_read(app.warning[0].value)
    app.button(key=f"cal-notes-{session_id}-reload").click().run()
    assert labelled(app.text_area, "Discussion notes").value == "Item 04 is sarcasm."
    labelled(app.text_area, "Discussion notes").input("Item 04 is sarcasm; 07 is mixed.")
    labelled(app.button, "Save notes").click().run()
    assert "Notes saved." in texts(app)
    with database(demo_url) as session:
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "calibration.notes", AuditEntry.entity_id == str(session_id)
            )
        ).all()
        assert [entry.actor for entry in entries] == ["lead", "ops"]
