"""The Spend page for each role that has it, its filters and exports, and denial."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import as_read, log_in
from tests.pages.workforce_helpers import frame_with, open_page, texts


@pytest.mark.parametrize("role", ["finance", "ops", "admin"])
def test_spend_shows_months_budgets_and_breakdowns(app: AppTest, role: str) -> None:
    open_page(app, role, "spend")
    assert not app.exception, app.exception
    assert app.title[0].value == "Spend"
    monthly = frame_with(app, "cost per accepted annotation")
    assert {"project", "month", "currency", "spend"} <= set(monthly.columns)
    assert monthly["spend"].dtype.kind == "f"
    budgets = frame_with(app, "forecast at completion")
    assert set(budgets["project"]) >= {"street-scenes", "retail-sentiment"}
    page = texts(app)
    assert "Monthly spend per project (USD)" in page
    assert "Spend by tier, team and employment type" in page
    assert [tab.label for tab in app.tabs] == ["Tier", "Team", "Employment type"]
    labels = {button.proto.label for button in app.get("download_button")}
    assert labels == {"Download CSV (monthly spend)", "Download XLSX (every table)"}


def test_finance_filters_to_a_quarter_and_one_project(app: AppTest) -> None:
    open_page(app, "finance", "spend")
    period = app.selectbox(key="spend-period")
    quarter = next(option for option in period.options if option.startswith("Q"))
    period.select(quarter).run()
    app.multiselect(key="spend-projects").select("street-scenes").run()
    assert not app.exception, app.exception
    monthly = frame_with(app, "cost per accepted annotation")
    assert set(monthly["project"]) == {"street-scenes"}
    assert len(set(monthly["month"])) <= 3
    assert "(UTC days, both included)" in texts(app)


def test_finance_sees_no_coaching_text(app: AppTest) -> None:
    open_page(app, "finance", "spend")
    page = texts(app) + " ".join(str(frame.value) for frame in app.dataframe)
    for coaching in ("feedback", "Please slow down", "justification"):
        assert coaching not in page


def test_a_custom_range_that_ends_before_it_starts_is_explained(app: AppTest) -> None:
    open_page(app, "ops", "spend")
    app.selectbox(key="spend-period").select("Custom range").run()
    app.date_input(key="spend-range").set_value((dt.date(2026, 5, 1), dt.date(2026, 4, 1))).run()
    assert not app.exception, app.exception
    assert any("before it starts" in as_read(error.value) for error in app.error)


@pytest.mark.parametrize("role", ["lead", "annotator"])
def test_leads_and_annotators_have_no_spend_page(app: AppTest, role: str) -> None:
    log_in(app, role)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/spend.py")


def test_a_first_pay_rate_says_it_replaced_none(app: AppTest) -> None:
    open_page(app, "finance", "spend")
    changes = frame_with(app, "previous basis")
    first = changes[changes["previous rate"].isna()]
    assert not first.empty
    assert set(first["previous basis"]) == {"none (first rate)"}
    assert set(first["previous currency"]) == {""}
    replaced = changes[changes["previous rate"].notna()]
    assert not replaced.empty
    assert "none (first rate)" not in set(replaced["previous basis"])
