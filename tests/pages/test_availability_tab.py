"""The profile's Availability tab: capacity and time off, edited by the roles that may."""

from __future__ import annotations

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from db.models import Annotator, AnnotatorTimeOff, AuditEntry
from tests.pages.test_annotator_page import open_profile
from tests.pages.workforce_helpers import annotator_id, database, labelled, texts


def test_a_lead_records_capacity_and_time_off_for_their_person(app: AppTest, demo_url: str) -> None:
    open_profile(app, "lead", demo_url, "Amara Okafor")
    assert "Availability" in [tab.label for tab in app.tabs]
    labelled(app.number_input, "Weekly capacity").set_value(32.0)
    labelled(app.button, "Save capacity").click().run()
    assert not app.exception, app.exception
    assert "Weekly capacity saved." in texts(app)
    assert labelled(app.metric, "Weekly capacity").value == "32 h"
    labelled(app.text_input, "Kind").input("conference")
    labelled(app.button, "Add time off").click().run()
    assert not app.exception, app.exception
    assert "Time off recorded." in texts(app)
    person = annotator_id(demo_url, "Amara Okafor")
    with database(demo_url) as session:
        annotator = session.get(Annotator, person)
        assert annotator is not None and annotator.weekly_capacity_hours == 32.0
        kinds = session.scalars(
            select(AnnotatorTimeOff.kind).where(AnnotatorTimeOff.annotator_id == person)
        ).all()
        assert kinds == ["conference"]
        actions = set(
            session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.actor == "lead", AuditEntry.entity_id == str(person)
                )
            )
        )
        assert "annotator.capacity" in actions


def test_finance_sees_availability_without_forms(app: AppTest, demo_url: str) -> None:
    open_profile(app, "finance", demo_url, "Rex Turner")
    assert not app.exception, app.exception
    assert "Availability" in [tab.label for tab in app.tabs]
    assert str(labelled(app.metric, "Weekly capacity").value).endswith(" h")
    assert not [button for button in app.button if button.label == "Save capacity"]
