"""Monthly spend of many projects from one daily frame, as the Spend page reads it."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from db.models import Project
from ops.reports import monthly_spend_rows


def _project(project_id: int, slug: str, currency: str, budget: int | None) -> Project:
    return Project(id=project_id, slug=slug, name=slug, currency=currency, budget_minor=budget)


def _daily(rows: list[tuple[int, dt.date, str | None, int, int, int, int]]) -> pd.DataFrame:
    columns = ["project_id", "day", "currency", "cost_minor", "review_cost_minor"]
    return pd.DataFrame(rows, columns=[*columns, "annotations", "accepted"])


def test_each_project_keeps_its_own_months_to_date_and_budget() -> None:
    alpha = _project(1, "alpha", "USD", 100_000)
    beta = _project(2, "beta", "EUR", None)
    daily = _daily(
        [
            (1, dt.date(2026, 9, 30), "USD", 1_000, 0, 10, 9),
            (2, dt.date(2026, 9, 30), "EUR", 500, 100, 5, 5),
            (1, dt.date(2026, 10, 1), "USD", 2_000, 500, 20, 18),
            (2, dt.date(2026, 10, 2), "EUR", 700, 0, 7, 6),
            (1, dt.date(2026, 10, 3), None, 0, 0, 4, 4),
            (1, dt.date(2026, 11, 5), "EUR", 300, 0, 3, 3),
            (2, dt.date(2026, 11, 6), "EUR", 900, 0, 9, 9),
        ]
    )
    rows = monthly_spend_rows([beta, alpha], daily, since=dt.date(2026, 10, 1))
    got = [(r.project, r.month, r.currency, r.spend, r.spend_to_date, r.budget_used) for r in rows]
    assert got == [
        ("beta", "2026-10", "EUR", 7.0, 13.0, None),
        ("beta", "2026-11", "EUR", 9.0, 22.0, None),
        ("alpha", "2026-10", "USD", 25.0, 35.0, 0.035),
        ("alpha", "2026-11", "EUR", 3.0, 3.0, None),
    ]
    october = rows[2]
    assert (october.annotations, october.unpriced_annotations, october.accepted) == (24, 4, 22)
    assert october.cost_per_annotation == 1.0  # 20.00 over the 20 priced annotations


def test_projects_not_asked_for_and_empty_periods_give_no_rows() -> None:
    alpha = _project(1, "alpha", "USD", None)
    daily = _daily([(2, dt.date(2026, 10, 1), "USD", 100, 0, 1, 1)])
    assert monthly_spend_rows([alpha], daily) == []
    early = _daily([(1, dt.date(2026, 9, 1), "USD", 100, 0, 1, 1)])
    assert monthly_spend_rows([alpha], early, since=dt.date(2026, 10, 1)) == []
