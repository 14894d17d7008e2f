"""The Spend workspace and its exports, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from ops.errors import PermissionDenied, ValidationError
from ops.spend import (
    SpendFilter,
    period_choices,
    period_totals,
    quarter,
    spend_csv,
    spend_workspace,
    spend_xlsx,
)
from tests.db.workforce_helpers import ADMIN, FINANCE, OPS, lead_of
from tests.factories import make_annotator, make_pay_rate, make_project, make_rollup, make_team

JAN = SpendFilter(since=dt.date(2026, 1, 1), until=dt.date(2026, 1, 31))
Q1 = SpendFilter(since=dt.date(2026, 1, 1), until=dt.date(2026, 3, 31))


def _scene(session: Session) -> None:
    team = make_team(session, name='=HYPERLINK("http://evil")')
    project = make_project(session, slug="receipts", budget="1000")
    project.volume_target = 1_000
    other = make_project(session, slug="invoices", currency="EUR")
    senior = make_annotator(session, team_id=team.id, tier="reviewer", employment_type="employee")
    junior = make_annotator(session, display_name="-Junior")
    make_pay_rate(
        session, junior, amount_minor=1500, effective_from=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    )
    make_pay_rate(
        session,
        junior,
        amount_minor=1800,
        effective_from=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        reason="contract renewal",
    )
    # December (before the quarter), January and February on receipts, in USD.
    for day, person, count, cost in (
        (dt.date(2025, 12, 15), senior, 100, 10_000),
        (dt.date(2026, 1, 10), senior, 200, 20_000),
        (dt.date(2026, 1, 11), junior, 100, 5_000),
        (dt.date(2026, 2, 3), junior, 100, 6_000),
    ):
        make_rollup(
            session,
            project,
            person,
            day=day,
            annotations=count,
            accepted=count // 2,
            cost_minor=cost,
            review_cost_minor=1_000,
            currency="USD",
        )
    make_rollup(
        session,
        other,
        junior,
        day=dt.date(2026, 1, 20),
        annotations=50,
        cost_minor=4_000,
        currency="EUR",
    )


def test_monthly_spend_budgets_and_forecast(session: Session) -> None:
    _scene(session)
    workspace = spend_workspace(session, FINANCE, Q1)
    receipts = workspace.monthly[workspace.monthly["project"] == "receipts"]
    assert list(receipts["month"]) == ["2026-01", "2026-02"]
    january = receipts.iloc[0]
    assert (january["spend"], january["currency"], january["annotations"]) == (270.0, "USD", 300)
    # Spend to date counts December too: 110 + 270.
    assert january["spend_to_date"] == pytest.approx(380.0)
    assert workspace.currencies == ("EUR", "USD")
    budgets = workspace.budgets.set_index("project")
    # 450 spent for 500 annotations: 0.90 each, 900 for the 1,000 of the target.
    assert budgets.at["receipts", "spent_to_date"] == pytest.approx(450.0)
    assert budgets.at["receipts", "forecast_at_completion"] == pytest.approx(900.0)
    assert budgets.at["receipts", "forecast_over_budget"] == pytest.approx(-0.1)
    assert budgets.at["receipts", "budget_used"] == pytest.approx(0.45)
    totals = {total.currency: total for total in period_totals(workspace)}
    assert totals["USD"].spend == pytest.approx(340.0) and totals["USD"].annotations == 400
    assert totals["EUR"].spend == pytest.approx(40.0)


def test_filters_narrow_to_the_days_and_projects_chosen(session: Session) -> None:
    _scene(session)
    january = spend_workspace(session, OPS, SpendFilter(JAN.since, JAN.until, ("receipts",)))
    assert list(january.monthly["month"]) == ["2026-01"]
    assert set(january.monthly["project"]) == {"receipts"}
    assert list(january.budgets["project"]) == ["receipts"]
    tiers = january.by_group["tier"].set_index("tier")
    assert tiers.at["reviewer", "spend"] == pytest.approx(210.0)
    assert tiers.at["annotator", "spend"] == pytest.approx(60.0)
    teams = set(january.by_group["team"]["team"])
    assert teams == {'=HYPERLINK("http://evil")', "no team"}
    with pytest.raises(ValidationError, match="No project nothing"):
        spend_workspace(session, OPS, SpendFilter(JAN.since, JAN.until, ("nothing",)))
    with pytest.raises(ValidationError, match="before it starts"):
        spend_workspace(session, OPS, SpendFilter(JAN.until, JAN.since))


def test_pay_rate_changes_show_the_rate_they_replaced(session: Session) -> None:
    _scene(session)
    changes = spend_workspace(session, ADMIN, Q1).pay_changes
    assert changes.to_dict("records") == [
        {
            "annotator": "-Junior",
            "effective_from": dt.date(2026, 2, 1),
            "basis": "hourly",
            "rate": 18.0,
            "currency": "USD",
            "previous_basis": "hourly",
            "previous_rate": 15.0,
            "previous_currency": "USD",
            "reason": "contract renewal",
        }
    ]
    assert spend_workspace(session, ADMIN, JAN).pay_changes.empty


def test_leads_and_annotators_have_no_spend(session: Session) -> None:
    _scene(session)
    with pytest.raises(PermissionDenied):
        spend_workspace(session, lead_of(1), Q1)


def test_csv_holds_numbers_and_a_currency_column(session: Session) -> None:
    _scene(session)
    rows = list(
        csv.DictReader(io.StringIO(spend_csv(spend_workspace(session, FINANCE, Q1)).decode()))
    )
    first = next(row for row in rows if row["project"] == "receipts")
    assert first["currency"] == "USD" and first["spend"] == "270.0"
    assert float(first["cost_per_annotation"]) == pytest.approx(0.8333, abs=1e-4)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value


def test_xlsx_opens_with_numbers_as_numbers_and_no_formula(session: Session) -> None:
    _scene(session)
    workbook = load_workbook(io.BytesIO(spend_xlsx(spend_workspace(session, FINANCE, Q1))))
    assert workbook.sheetnames == [
        "Monthly spend",
        "Budget and forecast",
        "By tier",
        "By team",
        "By employment type",
        "Pay-rate changes",
    ]
    monthly = list(workbook["Monthly spend"].iter_rows(values_only=True))
    records = [dict(zip(monthly[0], row, strict=True)) for row in monthly[1:]]
    record = next(item for item in records if item["project"] == "receipts")
    assert record["spend"] == 270.0 and isinstance(record["annotations"], int)
    assert record["currency"] == "USD"
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    teams = [row[0] for row in workbook["By team"].iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("http://evil")' in teams
    changes = list(workbook["Pay-rate changes"].iter_rows(min_row=2, values_only=True))
    assert changes[0][0] == "'-Junior"


def test_period_choices_cover_quarters() -> None:
    choices = period_choices(dt.date(2026, 5, 14))
    assert choices["Q2 2026 (so far)"] == SpendFilter(dt.date(2026, 4, 1), dt.date(2026, 5, 14))
    assert choices["Q1 2026"] == Q1
    assert choices["Q4 2025"] == quarter(2025, 4)
    assert quarter(2025, 4).until == dt.date(2025, 12, 31)
    assert len(choices) == 9
