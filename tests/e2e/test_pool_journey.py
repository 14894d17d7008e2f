"""An ops manager opens the pool, then Amara's profile, and promotes her to reviewer;
the tier change and its audit entry, with the evidence, are stored."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from db.engine import make_engine, make_session_factory
from db.models import Annotator, AuditEntry, TierChange
from tests.e2e.conftest import rerun
from tests.e2e.test_login_journeys import log_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e


def choose(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit select box labelled ``label``; returns once the run
    the choice starts has finished (at once when the box already shows ``option``)."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label)
    if box.get_by_role("combobox").input_value() == option:
        return
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option).wait_for()
    with rerun(page):
        page.keyboard.press("Enter")


def test_ops_promotes_amara_to_reviewer_from_the_pool(
    page: Page,
    served_demo: str,
    demo_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    log_in(page, served_demo, "ops")
    with rerun(page):
        page.get_by_role("link", name="Pool").click()
    page.get_by_role("heading", name="Annotator pool").wait_for()
    # The pool computes only the open tab: each tab switch is a run of the page.
    with rerun(page):
        page.get_by_role("tab", name="Promotion").click()
    page.get_by_text("Only people who meet every criterion").wait_for()
    with rerun(page):
        page.get_by_role("tab", name="Roster").click()
    choose(page, "Open the profile of", "Amara Okafor")
    with rerun(page):
        page.get_by_role("button", name="Open profile").click()
    page.get_by_role("heading", name="Annotator profile").wait_for()
    page.get_by_role("heading", name="Amara Okafor").wait_for()
    assert "annotator=" in page.url

    page.get_by_role("tab", name="Tier history").click()
    page.get_by_text("Amara Okafor meets the criteria for reviewer").wait_for()
    page.get_by_label("Justification").fill(
        "Gold accuracy lower bound above 96% over 90 days; calibration agreement above 95%."
    )
    with rerun(page):
        page.get_by_role("button", name="Record tier change").click()
    page.get_by_text("Amara Okafor is now a reviewer; the evidence is on record.").wait_for()
    # The page stays on the tab where the decision was taken, now showing it.
    page.get_by_text("Amara Okafor meets the criteria for lead").or_(
        page.get_by_text("Amara Okafor does not yet meet the criteria for lead")
    ).wait_for()
    body = page.get_by_test_id("stMain").inner_text()
    assert "Traceback" not in body
    shots = Path(tmp_path_factory.getbasetemp()) / "screens"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / "profile-promoted.png"), full_page=True)

    engine = make_engine(demo_database_url)
    with make_session_factory(engine)() as session:
        amara = session.scalars(
            select(Annotator).where(Annotator.display_name == "Amara Okafor")
        ).one()
        assert amara.tier == "reviewer" and amara.updated_by == "ops"
        change = session.scalars(
            select(TierChange).where(
                TierChange.annotator_id == amara.id, TierChange.to_tier == "reviewer"
            )
        ).one()
        assert change.decided_by == "ops" and change.evidence["meets_criteria"] is True
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "tier.change", AuditEntry.entity_id == str(amara.id)
            )
        ).one()
        assert entry.actor == "ops"
        assert entry.before is not None and entry.before["tier"] == "annotator"
        assert entry.after is not None and entry.after["tier"] == "reviewer"
        assert entry.after["evidence"]["metrics"]["gold_answered"] >= 100
    engine.dispose()
