"""Ops plans staffing for the late project and approves a proposal; finance filters spend
to a quarter and one project and exports CSV and XLSX that open cleanly."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from db.engine import make_engine, make_session_factory
from db.models import Assignment, AuditEntry, Project, StaffingProposal
from tests.e2e.conftest import rerun
from tests.e2e.test_login_journeys import log_in
from tests.e2e.test_pool_journey import choose

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e


def screens(factory: pytest.TempPathFactory) -> Path:
    shots = Path(factory.getbasetemp()) / "screens"
    shots.mkdir(exist_ok=True)
    return shots


def test_ops_staffs_the_late_project_through_a_proposal(
    page: Page,
    served_demo: str,
    demo_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    log_in(page, served_demo, "ops")
    with rerun(page):
        page.get_by_role("link", name="Projects").click()
    page.get_by_role("heading", name="Projects").wait_for()
    choose(page, "Project", "Street scene tagging (street-scenes)")
    page.get_by_text("days late").wait_for()
    page.get_by_text("How the forecast is made").wait_for()
    shots = screens(tmp_path_factory)
    page.screenshot(path=str(shots / "projects-late.png"), full_page=True)

    page.get_by_role("tab", name="Staffing").click()
    page.get_by_text("are needed to meet the deadline").wait_for()
    with rerun(page):
        page.get_by_role("button", name="Propose").click()
    page.get_by_text("Proposal recorded").wait_for()
    page.screenshot(path=str(shots / "projects-proposed.png"), full_page=True)

    page.get_by_role("tab", name="Proposals").click()
    with rerun(page):
        page.get_by_role("button", name="Approve").click()
    page.get_by_text("Proposal approved").wait_for()
    page.screenshot(path=str(shots / "projects-approved.png"), full_page=True)
    body = page.get_by_test_id("stMain").inner_text()
    assert "Traceback" not in body

    engine = make_engine(demo_database_url)
    with make_session_factory(engine)() as session:
        project = session.scalars(select(Project).where(Project.slug == "street-scenes")).one()
        proposal = session.scalars(
            select(StaffingProposal).where(StaffingProposal.project_id == project.id)
        ).one()
        assert (proposal.status, proposal.proposed_by, proposal.decided_by) == (
            "approved",
            "ops",
            "ops",
        )
        assert session.scalars(
            select(Assignment).where(
                Assignment.project_id == project.id,
                Assignment.annotator_id == proposal.annotator_id,
            )
        ).one()
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "ops")))
        assert {"staffing_proposal.create", "staffing_proposal.approve"} <= actions
    engine.dispose()


def test_finance_exports_a_quarter_of_one_project(
    page: Page, served_demo: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    log_in(page, served_demo, "finance")
    with rerun(page):
        page.get_by_role("link", name="Spend").click()
    page.get_by_role("heading", name="Spend", exact=True).wait_for()
    period = page.get_by_test_id("stSelectbox").filter(has_text="Period")
    period.click()
    with rerun(page):
        page.get_by_role("option").filter(has_text="Q").first.click()
    projects = page.get_by_test_id("stMultiSelect").filter(has_text="Projects")
    projects.click()
    page.keyboard.type("street")
    with rerun(page):
        page.get_by_role("option", name="Street scene tagging (street-scenes)").click()
    page.keyboard.press("Escape")
    page.get_by_text("Monthly spend per project (USD)").wait_for()
    # Charts draw after the text; the screenshot should show them.
    page.locator(".vega-embed canvas, .vega-embed svg").first.wait_for()
    page.wait_for_timeout(1_000)
    shots = screens(tmp_path_factory)
    page.screenshot(path=str(shots / "spend-quarter.png"), full_page=True)

    with page.expect_download() as csv_download:
        page.get_by_role("button", name="Download CSV (monthly spend)").click()
    assert csv_download.value.suggested_filename.startswith("annops-spend-")
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text())))
    assert rows and {row["project"] for row in rows} == {"street-scenes"}
    assert {row["currency"] for row in rows} == {"USD"}
    for row in rows:
        float(row["spend"])  # a plain number, not "USD 1,234.56"
    assert len({row["month"] for row in rows}) <= 3

    with page.expect_download() as xlsx_download:
        page.get_by_role("button", name="Download XLSX (every table)").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    assert "Monthly spend" in workbook.sheetnames
    sheet = list(workbook["Monthly spend"].iter_rows(values_only=True))
    header = list(sheet[0])
    assert isinstance(sheet[1][header.index("spend")], float)
    for worksheet in workbook.worksheets:
        for cells in worksheet.iter_rows():
            assert all(cell.data_type != "f" for cell in cells)
