"""The numbers on each role's home page, read from rollups and small tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.models import utcnow
from db.queries.events import count_events, estimate_event_count
from db.queries.feedback import count_unread_feedback
from db.queries.imports import get_latest_import
from db.queries.jobs import list_job_runs
from db.queries.people import count_annotators, list_pool_annotators
from db.queries.projects import list_projects
from db.queries.rollups import (
    WindowSpend,
    load_rollup_totals_frame,
    sum_rollups,
    sum_rollups_by_project,
    sum_spend_by_project,
)
from db.queries.training import count_expired_training, list_expiring_training
from db.queries.users import count_users
from ops.alerts.triage import AlertFilter, count_alerts
from ops.metrics.accuracy import compute_gold_accuracy, compute_gold_accuracy_table
from ops.money import format_money
from ops.permissions import Principal, people_scope, require
from ops.reports import major_average

# Below this many events (by PostgreSQL's estimate) the admin's home counts them exactly;
# beyond it, counting every event would take seconds, so the estimate is shown as one.
EXACT_EVENT_COUNT_BELOW = 200_000

# The totals of a project without rollup rows in a window.
NO_WORK: dict[str, float] = {
    "annotations": 0,
    "active_seconds": 0.0,
    "gold_answered": 0,
    "gold_correct": 0,
    "spend_minor": 0,
    "reviewed": 0,
    "accepted": 0,
    "annotators": 0,
}


@dataclass(frozen=True)
class Figure:
    """One headline number with the words that explain it."""

    label: str
    value: str
    help: str = ""


@dataclass(frozen=True)
class HomeSummary:
    """What a role sees first: headline figures and an optional table of rows."""

    title: str
    intro: str
    figures: list[Figure]
    table_title: str = ""
    table: list[dict[str, object]] = field(default_factory=list)


def _accuracy_texts(counts: list[tuple[float, float]]) -> list[str]:
    """Accuracy with its Wilson interval for each (correct, answered), as table cells; the
    intervals of a whole table are computed in one pass."""
    if not counts:
        return []
    frame = pd.DataFrame(
        [(int(correct), int(answered)) for correct, answered in counts],
        columns=["correct", "answered"],
    )
    table = compute_gold_accuracy_table(frame)
    return [
        "no gold answers" if answered == 0 else f"{accuracy:.1%} ({low:.1%}–{high:.1%})"
        for answered, accuracy, low, high in zip(
            table["answered"],
            table["accuracy"],
            table["accuracy_ci_low"],
            table["accuracy_ci_high"],
            strict=True,
        )
    ]


def _accuracy_figure(label: str, correct: float, answered: float) -> Figure:
    """Point estimate as the value; the interval and sample size underneath."""
    result = compute_gold_accuracy(int(correct), int(answered))
    if result.accuracy is None or result.ci_low is None or result.ci_high is None:
        return Figure(label, "—", "no gold answers in this window")
    return Figure(
        label,
        f"{result.accuracy:.1%}",
        f"95% Wilson interval {result.ci_low:.1%}–{result.ci_high:.1%}, "
        f"{int(answered):,} gold answers",
    )


def summarise_home(
    session: Session, principal: Principal, *, now: dt.datetime | None = None
) -> HomeSummary:
    """The home page of ``principal``'s role; each role sees only its own scope."""
    require(principal, "scorecard.view_own" if principal.role == "annotator" else "home.view")
    now = now or utcnow()
    today = now.date()
    week_ago = today - dt.timedelta(days=7)
    builders = {
        "admin": _admin,
        "ops": _ops,
        "lead": _lead,
        "finance": _finance,
        "annotator": _annotator,
    }
    return builders[principal.role](session, principal, now, today, week_ago)


def _admin(
    session: Session, principal: Principal, now: dt.datetime, today: dt.date, week_ago: dt.date
) -> HomeSummary:
    latest = get_latest_import(session)
    last_run = next(iter(list_job_runs(session, limit=1)), None)
    users = count_users(session)
    locked = count_users(session, locked_at=now)
    return HomeSummary(
        title="System overview",
        intro="Health of annops: accounts, data coming in and scheduled jobs.",
        figures=[
            Figure("User accounts", f"{users:,}", f"{locked} locked right now"),
            _events_figure(session),
            Figure(
                "Last import",
                latest.started_at.strftime("%Y-%m-%d %H:%M UTC") if latest else "never",
                f"{latest.source}: {latest.file_name}" if latest else "",
            ),
            Figure(
                "Last job run",
                f"{last_run.job} · {last_run.status}" if last_run else "none yet",
                last_run.started_at.strftime("%Y-%m-%d %H:%M UTC")
                if last_run
                else "start `annops worker`",
            ),
        ],
    )


def _events_figure(session: Session) -> Figure:
    """All events: counted while that is cheap, PostgreSQL's estimate beyond, and said so."""
    estimate = estimate_event_count(session)
    if estimate is None or estimate < EXACT_EVENT_COUNT_BELOW:
        return Figure("Annotation events", f"{count_events(session):,}", "all time, all projects")
    return Figure(
        "Annotation events",
        approximate_count(estimate),
        "all time, all projects; estimated from PostgreSQL's table statistics "
        "(as its last ANALYZE left them), not counted",
    )


def approximate_count(estimate: int) -> str:
    """An estimated count shown as one: '≈ 9.8 million', '≈ 254,000'."""
    if estimate >= 1_000_000:
        return f"≈ {estimate / 1_000_000:,.1f} million"
    return f"≈ {round(estimate, -3):,}"


def _ops(
    session: Session, principal: Principal, now: dt.datetime, today: dt.date, week_ago: dt.date
) -> HomeSummary:
    week = sum_rollups(session, since=week_ago)
    return HomeSummary(
        title="Operations",
        intro="Staffing, throughput and quality across all projects over the last 7 days.",
        figures=[
            Figure(
                "Active annotators",
                f"{count_annotators(session, status='active'):,}",
                "status active",
            ),
            Figure(
                "Annotations, last 7 days",
                f"{int(week['annotations']):,}",
                f"by {int(week['annotators'])} people",
            ),
            _accuracy_figure(
                "Gold accuracy, last 7 days", week["gold_correct"], week["gold_answered"]
            ),
            _open_alerts(session, principal),
            Figure(
                "Training expired",
                f"{count_expired_training(session, now=now):,}",
                "active annotators",
            ),
        ],
        table_title="Projects, last 7 days",
        table=_project_rows(session, week_ago),
    )


def _open_alerts(session: Session, principal: Principal) -> Figure:
    """The number the role's Alerts page lists with its default filter (status open)."""
    count = count_alerts(session, principal, AlertFilter(status="open"))
    return Figure("Open alerts", f"{count:,}", "status open, as listed on the Alerts page")


def _project_rows(session: Session, since: dt.date) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    by_project = sum_rollups_by_project(session, since=since)
    projects = list_projects(session)
    week = [by_project.get(project.id, NO_WORK) for project in projects]
    accuracy = _accuracy_texts([(t["gold_correct"], t["gold_answered"]) for t in week])
    for project, totals, accuracy_text in zip(projects, week, accuracy, strict=True):
        hours = totals["active_seconds"] / 3600
        rows.append(
            {
                "project": project.slug,
                "annotations": int(totals["annotations"]),
                "per active hour": round(totals["annotations"] / hours, 1) if hours else None,
                "gold accuracy": accuracy_text,
                "target": f"{project.quality_target:.0%}",
            }
        )
    return rows


def _lead(
    session: Session, principal: Principal, now: dt.datetime, today: dt.date, week_ago: dt.date
) -> HomeSummary:
    scope = people_scope(principal)
    if scope.nobody:
        return HomeSummary(title="My team", intro=scope.reason, figures=[])
    week = sum_rollups(session, since=week_ago, scope=scope)
    people = list_pool_annotators(session, today=today, scope=scope)
    totals = load_rollup_totals_frame(
        session, since=week_ago, annotator_ids=[person.id for person in people]
    )
    by_person = totals.set_index("annotator_id")[["annotations", "gold_correct", "gold_answered"]]
    done: dict[Hashable, dict[Hashable, Any]] = by_person.to_dict("index")
    nothing: dict[Hashable, Any] = {"annotations": 0, "gold_correct": 0, "gold_answered": 0}
    sums = [done.get(person.id, nothing) for person in people]
    accuracy = _accuracy_texts([(s["gold_correct"], s["gold_answered"]) for s in sums])
    table = [
        {
            "annotator": person.display_name,
            "tier": person.tier,
            "status": person.status,
            "annotations (7d)": int(person_sums["annotations"]),
            "gold accuracy (7d)": accuracy_text,
        }
        for person, person_sums, accuracy_text in zip(people, sums, accuracy, strict=True)
    ]
    return HomeSummary(
        title="My team",
        intro="How each of your people did over the last 7 days.",
        figures=[
            Figure(
                "Active in team",
                f"{count_annotators(session, status='active', scope=scope):,}",
            ),
            Figure("Annotations, last 7 days", f"{int(week['annotations']):,}"),
            _accuracy_figure("Team gold accuracy", week["gold_correct"], week["gold_answered"]),
            _open_alerts(session, principal),
            Figure(
                "Training expired",
                f"{count_expired_training(session, now=now, scope=scope):,}",
            ),
        ],
        table_title="Team, last 7 days",
        table=table,
    )


def _finance(
    session: Session, principal: Principal, now: dt.datetime, today: dt.date, week_ago: dt.date
) -> HomeSummary:
    month_start = today.replace(day=1)
    last_month_start = (month_start - dt.timedelta(days=1)).replace(day=1)
    # All time, this month and last month of every project and currency, in one pass.
    by_project = sum_spend_by_project(
        session,
        windows=[
            (dt.date.min, None),
            (month_start, None),
            (last_month_start, month_start - dt.timedelta(days=1)),
        ],
    )
    # Currencies are never added together: each figure has a line per pay currency.
    per_currency: dict[str, list[WindowSpend]] = {}
    for (_project_id, currency), windows in by_project.items():
        if currency is not None:
            totals = per_currency.setdefault(currency, [WindowSpend()] * len(windows))
            per_currency[currency] = [_plus(a, b) for a, b in zip(totals, windows, strict=True)]
    currencies = sorted(per_currency)
    table: list[dict[str, object]] = []
    for project in list_projects(session):
        own = by_project.get((project.id, project.currency), [WindowSpend()])[0]
        others = [
            format_money(windows[0].spend_minor, currency)
            for (project_id, currency), windows in sorted(
                by_project.items(), key=lambda item: str(item[0][1])
            )
            if project_id == project.id and currency not in (None, project.currency)
        ]
        table.append(
            {
                "project": project.slug,
                "spend": " + ".join([format_money(own.spend_minor, project.currency), *others]),
                "budget": format_money(project.budget_minor, project.currency),
                "budget used": f"{own.spend_minor / project.budget_minor:.0%}"
                if project.budget_minor
                else "—",
                "cost per annotation": format_cost_per_annotation(own, project.currency),
            }
        )
    return HomeSummary(
        title="Spend",
        intro="Annotation spend (work and review time at the pay rate in effect) against "
        "budget. Cost per annotation is the work's cost over the annotations priced, review "
        "excluded, as on the Spend page and in `annops report spend`.",
        figures=[
            *(
                Figure(
                    f"Spend this month ({currency})",
                    format_money(per_currency[currency][1].spend_minor, currency),
                    f"since {month_start:%d %b}",
                )
                for currency in currencies
            ),
            *(
                Figure(
                    f"Spend last month ({currency})",
                    format_money(per_currency[currency][2].spend_minor, currency),
                )
                for currency in currencies
            ),
            *(
                Figure(
                    f"Cost per annotation, this month ({currency})",
                    format_cost_per_annotation(per_currency[currency][1], currency),
                    "work cost / annotations priced in this currency, review excluded",
                )
                for currency in currencies
            ),
            Figure(
                "Annotations this month",
                f"{sum(windows[1].annotations for windows in by_project.values()):,}",
            ),
        ],
        table_title="Projects, all time",
        table=table,
    )


def _plus(first: WindowSpend, second: WindowSpend) -> WindowSpend:
    return WindowSpend(
        spend_minor=first.spend_minor + second.spend_minor,
        cost_minor=first.cost_minor + second.cost_minor,
        annotations=first.annotations + second.annotations,
    )


def format_cost_per_annotation(sums: WindowSpend, currency: str) -> str:
    """The work's cost over the annotations priced in ``currency``, as `annops report
    spend` computes it, to four decimals; an em dash without priced work."""
    per_annotation = major_average(sums.cost_minor, sums.annotations, currency)
    return "—" if per_annotation is None else f"{currency} {per_annotation:,.4f}"


def _annotator(
    session: Session, principal: Principal, now: dt.datetime, today: dt.date, week_ago: dt.date
) -> HomeSummary:
    scope = people_scope(principal)
    if scope.nobody or principal.annotator_id is None:
        return HomeSummary(title="My scorecard", intro=scope.reason, figures=[])
    me = [principal.annotator_id]
    week = sum_rollups(session, since=week_ago, annotator_ids=me)
    month = sum_rollups(session, since=today - dt.timedelta(days=30), annotator_ids=me)
    unread = count_unread_feedback(session, annotator_id=principal.annotator_id)
    expiring = list_expiring_training(session, annotator_id=principal.annotator_id)
    due = [
        record
        for record in expiring
        if record.expires_at and record.expires_at < now + dt.timedelta(days=30)
    ]
    hours = week["active_seconds"] / 3600
    return HomeSummary(
        title="My scorecard",
        intro="Your own work: how much, how accurate on hidden golden items, and what is due.",
        figures=[
            Figure("Annotations, last 7 days", f"{int(week['annotations']):,}"),
            Figure(
                "Per active hour",
                f"{week['annotations'] / hours:.1f}" if hours else "—",
                "last 7 days",
            ),
            _accuracy_figure(
                "Gold accuracy, last 30 days", month["gold_correct"], month["gold_answered"]
            ),
            Figure("Feedback to read", f"{unread}"),
            Figure("Training due within 30 days", f"{len(due)}", ", ".join(r.topic for r in due)),
        ],
    )
