"""An ops manager triages an alert in the browser and the decision is stored and audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from db.engine import make_engine, make_session_factory
from db.models import Alert, AlertAction, AuditEntry
from tests.e2e.conftest import rerun
from tests.e2e.test_login_journeys import log_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e


def test_ops_acknowledges_the_budget_alert(
    page: Page, served_demo: str, demo_database_url: str
) -> None:
    from playwright.sync_api import expect

    log_in(page, served_demo, "ops")
    with rerun(page):
        page.get_by_role("link", name="Alerts").click()
    page.get_by_role("heading", name="Alerts").wait_for()
    # Narrow to the budget story, then decide on it. A form typed into while the filtered
    # run still renders may be drawn again, empty, so the run must have finished.
    page.get_by_test_id("stSelectbox").filter(has_text="Rule").click()
    with rerun(page):
        page.get_by_role("option", name="budget_burn").click()
    page.get_by_role("heading", name="Budget burning ahead of progress").wait_for()
    decision = page.get_by_role("radiogroup", name="Move to")
    expect(decision).to_have_count(1)
    decision.get_by_text("acknowledged", exact=True).click()
    note_box = page.get_by_label("Note (required to resolve or dismiss)")
    expect(note_box).to_have_count(1)
    note_box.fill("Asked the client for more budget.")
    # Leaving the box hands its text to the form before the form is sent.
    note_box.press("Tab")
    expect(note_box).to_have_value("Asked the client for more budget.")
    with rerun(page):
        page.get_by_role("button", name="Save decision").click()
    page.get_by_text("No alerts match these filters.").wait_for()

    engine = make_engine(demo_database_url)
    with make_session_factory(engine)() as session:
        alert = session.scalars(select(Alert).where(Alert.rule == "budget_burn")).one()
        assert alert.status == "acknowledged" and alert.assignee == "ops"
        note = session.scalars(
            select(AlertAction.note).where(
                AlertAction.alert_id == alert.id, AlertAction.action == "acknowledge"
            )
        ).one()
        assert note == "Asked the client for more budget."
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "alert.acknowledge")
        ).one()
        assert (
            audit.actor == "ops"
            and audit.after is not None
            and audit.after["status"] == "acknowledged"
        )
    engine.dispose()
