"""The Spend workspace: monthly spend per project, budget against actual with the forecast
at completion, costs per annotation over time, spend by tier, team and employment type,
and pay-rate changes, for a date range and a choice of projects; with exports.

Everything reads the daily rollups (and the pay-rate table), never raw events. Money
leaves here in major units as numbers, each row with its currency; nothing is summed
across currencies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import pandas as pd
from sqlalchemy.orm import Session

from db.models import ROLLUP_COSTS, Project, utcnow
from db.queries import pay as pay_queries
from db.queries import rollups as rollup_queries
from db.queries.projects import list_projects
from db.scope import PeopleScope
from ops.errors import ValidationError
from ops.exports import frame_csv, frames_xlsx
from ops.metrics.forecast import forecast_cost_at_completion
from ops.money import minor_digits, to_major
from ops.permissions import Principal, people_scope, require
from ops.reports import monthly_spend_rows
from ops.rollups import last_refreshed
from ops.workforce.common import start_of_day

GROUPS = tuple(rollup_queries.SPEND_GROUPS)


@dataclass(frozen=True)
class SpendFilter:
    """Days [since, until] (UTC, both included) and the projects (slugs; none = all)."""

    since: dt.date
    until: dt.date
    projects: tuple[str, ...] = ()


@dataclass(frozen=True)
class SpendWorkspace:
    """The tables of the Spend page; money in major units with a currency column."""

    filter: SpendFilter
    project_names: dict[str, str]
    currencies: tuple[str, ...]
    monthly: pd.DataFrame
    budgets: pd.DataFrame
    by_group: dict[str, pd.DataFrame] = field(default_factory=dict)
    pay_changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    refreshed: dt.datetime | None = None  # when the rollups were last brought up to date


def default_filter(today: dt.date | None = None) -> SpendFilter:
    """The last twelve months up to today."""
    today = today or utcnow().date()
    first = (today.replace(day=1) - dt.timedelta(days=335)).replace(day=1)
    return SpendFilter(since=first, until=today)


def quarter(year: int, number: int) -> SpendFilter:
    """Days of a calendar quarter (1-4)."""
    if number not in (1, 2, 3, 4):
        raise ValidationError(f"Quarter {number} is not 1 to 4.", field="quarter")
    since = dt.date(year, 3 * number - 2, 1)
    until = (since + dt.timedelta(days=95)).replace(day=1) - dt.timedelta(days=1)
    return SpendFilter(since=since, until=until)


def _major(amount_minor: int | float | None, currency: str) -> float | None:
    if amount_minor is None or pd.isna(amount_minor):
        return None
    return float(to_major(int(amount_minor), currency))


@dataclass(frozen=True)
class SpendAudience:
    """What of the Spend page a viewer may see: whose work, and pay rates or not. Viewers
    with the same audience see the same tables, so one read can serve them all."""

    scope: PeopleScope
    sees_pay: bool


def spend_audience(principal: Principal) -> SpendAudience:
    """The principal's audience, if they may see spend at all."""
    require(principal, "spend.view")
    return SpendAudience(scope=people_scope(principal), sees_pay=principal.can("pay.view"))


def spend_workspace(
    session: Session, principal: Principal, spend_filter: SpendFilter
) -> SpendWorkspace:
    """The Spend page's tables for the filter, as the principal may see them."""
    return audience_workspace(session, spend_audience(principal), spend_filter)


def audience_workspace(
    session: Session, audience: SpendAudience, spend_filter: SpendFilter
) -> SpendWorkspace:
    """The Spend page's tables for the filter, as ``audience`` (from spend_audience) may
    see them."""
    if spend_filter.until < spend_filter.since:
        raise ValidationError(
            f"The range ends ({spend_filter.until}) before it starts ({spend_filter.since}).",
            field="until",
        )
    projects = list_projects(session, include_archived=True)
    names = {project.slug: project.name for project in projects}
    unknown = [slug for slug in spend_filter.projects if slug not in names]
    if unknown:
        raise ValidationError(f"No project {', '.join(unknown)}.", field="projects")
    chosen = [
        project
        for project in projects
        if not spend_filter.projects or project.slug in spend_filter.projects
    ]
    # Every project when none is chosen: no list of ids to send.
    project_ids = [project.id for project in chosen] if spend_filter.projects else None
    # One read of the daily spend up to the period's end serves the months and the budgets.
    daily = rollup_queries.load_daily_spend_frame(
        session, project_ids=project_ids, until=spend_filter.until
    )
    monthly = pd.DataFrame(
        [asdict(row) for row in monthly_spend_rows(chosen, daily, since=spend_filter.since)],
        columns=[
            "project",
            "month",
            "currency",
            "spend",
            "annotation_spend",
            "review_spend",
            "annotations",
            "accepted",
            "unpriced_annotations",
            "cost_per_annotation",
            "cost_per_accepted_annotation",
            "spend_to_date",
            "budget",
            "budget_used",
        ],
    )
    budgets = _budgets(chosen, daily)
    groups = rollup_queries.load_spend_by_groups_frame(
        session,
        scope=audience.scope,
        since=spend_filter.since,
        until=spend_filter.until,
        project_ids=project_ids,
    ).dropna(subset=["currency"])
    by_group = {}
    for group in GROUPS:
        frame = groups[groups["grouping"] == group]
        by_group[group] = pd.DataFrame(
            {
                group: frame["group"].astype(str),
                "currency": frame["currency"],
                "spend": _major_column(frame["spend_minor"], frame["currency"]),
                "annotations": frame["annotations"],
            }
        ).reset_index(drop=True)
    currencies = tuple(
        sorted(
            set(monthly["currency"])
            | set(budgets["currency"])
            | {currency for frame in by_group.values() for currency in frame["currency"]}
        )
    )
    return SpendWorkspace(
        filter=spend_filter,
        project_names=names,
        currencies=currencies,
        monthly=monthly,
        budgets=budgets,
        by_group=by_group,
        pay_changes=_pay_changes(session, audience, spend_filter),
        refreshed=last_refreshed(session),
    )


def _major_column(amounts: pd.Series, currencies: pd.Series) -> pd.Series:
    """_major of each row at once (NaN where no amount): an integer below 2**53 over an
    exact power of ten, divided once in floating point, is the same number as the exact
    Decimal amount converted to float."""
    scale = currencies.map(
        {currency: 10.0 ** minor_digits(str(currency)) for currency in currencies.dropna().unique()}
    )
    return pd.to_numeric(amounts, errors="coerce").astype(float) / scale.astype(float)


def _budgets(projects: list[Project], daily: pd.DataFrame) -> pd.DataFrame:
    """Per project: budget, spent to date (every day of ``daily``, the daily spend up to the
    period's end), forecast at completion."""
    sums = daily.groupby("project_id")[[*ROLLUP_COSTS, "annotations"]].sum()
    spent_of = sums[list(ROLLUP_COSTS)].sum(axis=1).astype("int64").to_dict()
    done_of = sums["annotations"].astype("int64").to_dict()
    rows = []
    for project in projects:
        spent = int(spent_of.get(project.id, 0))
        done = int(done_of.get(project.id, 0))
        forecast = forecast_cost_at_completion(
            spent_minor=spent, done=done, volume_target=project.volume_target
        )
        budget = project.budget_minor
        rows.append(
            {
                "project": project.slug,
                "currency": project.currency,
                "budget": _major(budget, project.currency),
                "spent_to_date": _major(spent, project.currency),
                "budget_used": spent / budget if budget else None,
                "annotations_done": done,
                "volume_target": project.volume_target,
                "forecast_at_completion": _major(forecast, project.currency),
                "forecast_over_budget": (forecast - budget) / budget
                if forecast is not None and budget
                else None,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "project",
            "currency",
            "budget",
            "spent_to_date",
            "budget_used",
            "annotations_done",
            "volume_target",
            "forecast_at_completion",
            "forecast_over_budget",
        ],
    )


def _pay_changes(
    session: Session, audience: SpendAudience, spend_filter: SpendFilter
) -> pd.DataFrame:
    """Pay rates that took effect in the period, with the rate they replaced."""
    columns = [
        "annotator",
        "effective_from",
        "basis",
        "rate",
        "currency",
        "previous_basis",
        "previous_rate",
        "previous_currency",
        "reason",
    ]
    if not audience.sees_pay:
        return pd.DataFrame(columns=columns)
    changes = pay_queries.load_pay_changes_frame(
        session,
        scope=audience.scope,
        since=start_of_day(spend_filter.since),
        until=start_of_day(spend_filter.until + dt.timedelta(days=1)),
    )
    if changes.empty:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(
        {
            "annotator": changes["annotator"],
            "effective_from": [moment.date() for moment in changes["effective_from"]],
            "basis": changes["basis"],
            "rate": _major_column(changes["amount_minor"], changes["currency"]),
            "currency": changes["currency"],
            "previous_basis": changes["previous_basis"],
            "previous_rate": _major_column(
                changes["previous_amount_minor"], changes["previous_currency"]
            ),
            "previous_currency": changes["previous_currency"],
            "reason": changes["reason"].fillna(""),
        },
        columns=columns,
    )


def _sheets(workspace: SpendWorkspace) -> dict[str, pd.DataFrame]:
    sheets = {
        "Monthly spend": workspace.monthly,
        "Budget and forecast": workspace.budgets,
        **{f"By {group}": frame for group, frame in workspace.by_group.items()},
    }
    if not workspace.pay_changes.empty or list(workspace.pay_changes.columns):
        sheets["Pay-rate changes"] = workspace.pay_changes
    return sheets


def spend_csv(workspace: SpendWorkspace) -> bytes:
    """The monthly spend table as CSV: one row per project, month and currency; amounts in
    major units as plain numbers, the currency in its own column."""
    return frame_csv(workspace.monthly).encode("utf-8")


def spend_xlsx(workspace: SpendWorkspace) -> bytes:
    """Every table of the workspace as one worksheet each, numbers as numbers."""
    return frames_xlsx(_sheets(workspace))


def export_name(workspace: SpendWorkspace, extension: str) -> str:
    """A file name that says what the export covers."""
    return f"annops-spend-{workspace.filter.since}-to-{workspace.filter.until}.{extension}"


@dataclass(frozen=True)
class SpendTotal:
    """The period's spend in one currency, across the chosen projects."""

    currency: str
    spend: float
    annotations: int
    cost_per_annotation: float | None


def period_totals(workspace: SpendWorkspace) -> list[SpendTotal]:
    """Spend and annotations of the period per currency (currencies are never added up)."""
    totals = []
    monthly = workspace.monthly
    for currency in sorted(set(monthly["currency"])):
        rows = monthly[monthly["currency"] == currency]
        spend = float(rows["spend"].sum())
        priced = int(rows["annotations"].sum() - rows["unpriced_annotations"].sum())
        annotation_spend = float(rows["annotation_spend"].sum())
        totals.append(
            SpendTotal(
                currency=currency,
                spend=round(spend, 4),
                annotations=int(rows["annotations"].sum()),
                cost_per_annotation=annotation_spend / priced if priced else None,
            )
        )
    return totals


def period_choices(today: dt.date | None = None) -> dict[str, SpendFilter]:
    """Named periods for the page's picker: the last twelve months and the last eight
    calendar quarters, newest first."""
    today = today or utcnow().date()
    choices = {"Last 12 months": default_filter(today)}
    year, number = today.year, (today.month - 1) // 3 + 1
    for _ in range(8):
        period = quarter(year, number)
        label = f"Q{number} {year}" + (" (so far)" if period.until >= today else "")
        choices[label] = SpendFilter(since=period.since, until=min(period.until, today))
        year, number = (year - 1, 4) if number == 1 else (year, number - 1)
    return choices
