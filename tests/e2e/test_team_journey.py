"""A lead finds the label a person of their team confuses and sends feedback with the golden
items they got wrong; the annotator reads it on their scorecard and acknowledges it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from db.engine import make_engine, make_session_factory
from db.models import Annotator, AuditEntry, FeedbackNote
from tests.e2e.conftest import PASSWORD, rerun
from tests.e2e.test_login_journeys import log_in
from tests.e2e.test_pool_journey import choose

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.e2e

FEEDBACK = "You often pick the neighbouring label; re-read the examples of each class."


def test_lead_sends_feedback_with_evidence_and_the_annotator_acknowledges_it(
    page: Page,
    browser: Browser,
    served_demo: str,
    demo_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    shots = Path(tmp_path_factory.getbasetemp()) / "screens"
    shots.mkdir(exist_ok=True)

    log_in(page, served_demo, "lead")
    page.get_by_role("heading", name="My team").wait_for()
    with rerun(page):
        page.get_by_role("link", name="Team").click()
    page.get_by_role("heading", name="Team", exact=True).wait_for()
    choose(page, "Look closer at", "Amara Okafor")
    page.get_by_role("heading", name="Amara Okafor: labels against gold in").wait_for()
    # She makes few mistakes; the review-sentiment project holds some.
    choose(page, "Project", "retail-sentiment")
    page.get_by_role("heading", name="labels against gold in retail-sentiment").wait_for()
    # The confusion matrix and the most confused labels, in words.
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    confused = page.get_by_text("Gold '").first
    confused.wait_for()
    assert "labeled '" in confused.inner_text()
    page.screenshot(path=str(shots / "team-lead-confusion.png"), full_page=True)

    evidence = page.get_by_test_id("stMultiSelect").filter(has_text="Golden items they got wrong")
    evidence.scroll_into_view_if_needed()
    evidence.click()
    page.get_by_role("option").first.click()
    page.keyboard.press("Escape")
    page.get_by_role("textbox", name="Feedback").fill(FEEDBACK)
    with rerun(page):
        page.get_by_role("button", name="Send feedback").click()
    sent = page.get_by_text("golden item(s) attached")
    sent.wait_for()
    attached = int(sent.inner_text().split(" with ", 1)[1].split(" ", 1)[0])
    page.screenshot(path=str(shots / "team-lead-feedback-sent.png"), full_page=True)
    assert "Traceback" not in page.get_by_test_id("stMain").inner_text()

    # The annotator, in a browser of their own, reads it and acknowledges it.
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    own = context.new_page()
    own.set_default_timeout(30_000)
    log_in(own, served_demo, "annotator", PASSWORD)
    own.get_by_role("heading", name="My scorecard").wait_for()
    own.get_by_text(FEEDBACK).wait_for()
    engine = make_engine(demo_database_url)
    with make_session_factory(engine)() as session:
        note_id = session.scalars(
            select(FeedbackNote.id).where(FeedbackNote.text == FEEDBACK)
        ).one()
    engine.dispose()
    # The Acknowledge button of that note (Streamlit marks an element with its key).
    with rerun(own):
        own.locator(f".st-key-ack-{note_id} button").click()
    own.get_by_text("the feedback is marked as read").wait_for()
    own.screenshot(path=str(shots / "scorecard-acknowledged.png"), full_page=True)
    assert "Traceback" not in own.get_by_test_id("stMain").inner_text()
    context.close()

    engine = make_engine(demo_database_url)
    with make_session_factory(engine)() as session:
        note = session.scalars(select(FeedbackNote).where(FeedbackNote.text == FEEDBACK)).one()
        person = session.get(Annotator, note.annotator_id)
        assert person is not None and person.display_name == "Amara Okafor"
        assert note.author == "lead"
        items = note.evidence["golden_items"]
        assert len(items) == attached >= 1
        assert {item["project"] for item in items} == {"retail-sentiment"}
        assert note.acknowledged_at is not None
        actions = set(
            session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.entity_type == "feedback_notes",
                    AuditEntry.entity_id == str(note.id),
                )
            )
        )
        assert {"feedback.create", "feedback.acknowledge"} <= actions
    engine.dispose()
