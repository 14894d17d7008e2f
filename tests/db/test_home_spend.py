"""Finance's home: spend per pay currency, never added across currencies, and cost per
annotation as the Spend page and the spend report define it."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy.orm import Session

from ops import spend
from ops.home import summarise_home
from ops.permissions import Principal
from ops.reports import spend_report
from tests.factories import make_annotator, make_project, make_rollup

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
FINANCE = Principal(username="finn", role="finance")


def test_finance_home_keeps_currencies_apart_and_prices_as_spend_does(session: Session) -> None:
    project = make_project(session, slug="alpha", currency="USD")
    ada, ben, eve = (make_annotator(session) for _ in range(3))
    day = dt.date(2026, 3, 10)
    # Work 1,000 for 40 priced annotations plus review 200; 10 more no rate covered.
    make_rollup(
        session,
        project,
        ada,
        day=day,
        annotations=40,
        accepted=30,
        cost_minor=1000,
        review_cost_minor=200,
        currency="USD",
    )
    make_rollup(session, project, ben, day=day, annotations=10)
    make_rollup(session, project, eve, day=day, annotations=5, cost_minor=900, currency="EUR")

    summary = summarise_home(session, FINANCE, now=NOW)

    figures = {figure.label: figure.value for figure in summary.figures}
    assert figures["Spend this month (USD)"] == "USD 12.00"
    assert figures["Spend this month (EUR)"] == "EUR 9.00"
    assert figures["Cost per annotation, this month (USD)"] == "USD 0.2500"
    assert figures["Annotations this month"] == "55"
    [row] = [row for row in summary.table if row["project"] == "alpha"]
    assert row["spend"] == "USD 12.00 + EUR 9.00"
    assert row["cost per annotation"] == "USD 0.2500"
    # The Spend page and the spend report give the same cost per annotation.
    chosen = dataclasses.replace(spend.default_filter(NOW.date()), projects=("alpha",))
    workspace = spend.spend_workspace(session, FINANCE, chosen)
    [usd] = [total for total in spend.period_totals(workspace) if total.currency == "USD"]
    assert usd.cost_per_annotation == 0.25
    [report] = [
        line
        for line in spend_report(session, FINANCE, project_slug="alpha")
        if line.currency == "USD"
    ]
    assert report.cost_per_annotation == 0.25
