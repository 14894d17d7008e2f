"""The Team page: one scorecard row per person of the viewer's scope, and a drill-down into
one person (confusion against gold, speed against accuracy, calibration, wrong golden items
to attach to feedback). Numbers come from the rollups and the nightly agreement figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.orm import Session

from db.models import utcnow
from db.queries.agreement import list_latest_agreement_annotators
from db.queries.calibration import load_calibration_result_frame
from db.queries.people import list_teams
from db.queries.projects import get_project
from db.queries.team import (
    count_open_alerts_by_annotator,
    get_scoped_annotator,
    list_project_labels,
    list_scope_project_activity,
    load_confusion_frame,
    load_person_daily_frame,
    load_person_project_frame,
    load_scorecard_frame,
)
from db.scope import PeopleScope
from ops.errors import NotFound
from ops.metrics.accuracy import compute_gold_accuracy_table
from ops.metrics.confusion import Confusion, confusion_counts, most_confused, row_rates
from ops.permissions import Principal, people_scope, require
from ops.projects import list_projects as visible_projects
from ops.workforce.feedback import list_wrong_gold

WINDOW_DAYS = 28
SPARK_WEEKS = 8


@dataclass(frozen=True)
class TeamMember:
    """One person's row on the team scorecard, over the window; None where not measured."""

    annotator_id: int
    name: str
    tier: str
    status: str
    annotations: int
    gold_answered: int
    accuracy: float | None
    accuracy_low: float | None
    accuracy_high: float | None
    agreement_with_peers: float | None
    consistency: float | None  # same label on repeated items, from the nightly figures
    per_active_hour: float | None
    escalation_rate: float | None
    review_acceptance: float | None
    weekly_accuracy: tuple[float | None, ...]  # SPARK_WEEKS weeks, oldest first
    open_alerts: int


@dataclass(frozen=True)
class TeamScorecard:
    """The people of the viewer's scope over [since, until], and why nobody is shown if so."""

    since: dt.date
    until: dt.date
    members: tuple[TeamMember, ...]
    agreement_as_of: dt.date | None
    refreshed: dt.datetime
    note: str = ""

    @property
    def frame(self) -> pd.DataFrame:
        """One row per person; fractions as fractions (the page formats them)."""
        columns = [
            "annotator_id",
            "name",
            "tier",
            "annotations",
            "accuracy",
            "accuracy_low",
            "accuracy_high",
            "gold_answered",
            "agreement_with_peers",
            "consistency",
            "per_active_hour",
            "escalation_rate",
            "review_acceptance",
            "trend",
            "open_alerts",
        ]
        return pd.DataFrame(
            [
                {
                    "annotator_id": m.annotator_id,
                    "name": m.name,
                    "tier": m.tier,
                    "annotations": m.annotations,
                    "accuracy": m.accuracy,
                    "accuracy_low": m.accuracy_low,
                    "accuracy_high": m.accuracy_high,
                    "gold_answered": m.gold_answered,
                    "agreement_with_peers": m.agreement_with_peers,
                    "consistency": m.consistency,
                    "per_active_hour": m.per_active_hour,
                    "escalation_rate": m.escalation_rate,
                    "review_acceptance": m.review_acceptance,
                    "trend": [value for value in m.weekly_accuracy if value is not None],
                    "open_alerts": m.open_alerts,
                }
                for m in self.members
            ],
            columns=columns,
        )


def _ratios(numerators: pd.Series, denominators: pd.Series) -> list[float | None]:
    """numerator / denominator of each row; None where the denominator is 0."""
    return [
        float(numerator) / float(denominator) if denominator else None
        for numerator, denominator in zip(numerators, denominators, strict=True)
    ]


def _optional(value: float) -> float | None:
    return None if pd.isna(value) else float(value)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True)
class StoredPersonFigures:
    """Per person, from the projects' latest nightly figures: agreement with the others'
    majority and consistency on repeated items, each pooled over projects."""

    agreement: dict[int, float]
    consistency: dict[int, float]
    as_of: dt.date | None


def _stored_person_figures(session: Session) -> StoredPersonFigures:
    compared: dict[int, float] = {}
    agreeing: dict[int, float] = {}
    repeated: dict[int, int] = {}
    consistent: dict[int, int] = {}
    as_of = None
    for _project_id, window_end, annotators in list_latest_agreement_annotators(session):
        as_of = max(as_of or window_end, window_end)
        for person in annotators:
            key = int(person["annotator_id"])
            repeated[key] = repeated.get(key, 0) + int(person.get("n_repeated") or 0)
            consistent[key] = consistent.get(key, 0) + int(person.get("n_consistent") or 0)
            rate, n = person.get("agreement_with_majority"), int(person.get("n_compared") or 0)
            if rate is None or n == 0:
                continue
            compared[key] = compared.get(key, 0) + n
            agreeing[key] = agreeing.get(key, 0) + float(rate) * n
    return StoredPersonFigures(
        agreement={key: agreeing[key] / compared[key] for key in compared},
        consistency={key: consistent[key] / repeated[key] for key in repeated if repeated[key]},
        as_of=as_of,
    )


def team_choices(session: Session, principal: Principal) -> list[tuple[int, str]]:
    """(team id, name) the principal may look at: a lead their own, ops and admin any."""
    require(principal, "team.view")
    scope = people_scope(principal)
    teams = [(team.id, team.name) for team in list_teams(session)]
    if scope.everyone:
        return teams
    return [(team_id, name) for team_id, name in teams if team_id == scope.team_id]


def _team_scope(principal: Principal, team_id: int | None) -> PeopleScope:
    """The principal's scope narrowed to one team where they may see several."""
    scope = people_scope(principal)
    if scope.everyone and team_id is not None:
        return PeopleScope("team", team_id=team_id)
    return scope


def team_scorecard(
    session: Session,
    principal: Principal,
    *,
    team_id: int | None = None,
    days: int = WINDOW_DAYS,
    now: dt.datetime | None = None,
) -> TeamScorecard:
    """Scorecard rows of one team the principal may see: a lead their own whatever
    ``team_id`` says, ops and admin the team asked for (everyone without one)."""
    require(principal, "team.view")
    now = now or utcnow()
    until = now.date()
    since = until - dt.timedelta(days=days - 1)
    scope = _team_scope(principal, team_id)
    if scope.nobody:
        return TeamScorecard(since, until, (), None, now, note=scope.reason)
    spark_start = _monday(until) - dt.timedelta(weeks=SPARK_WEEKS - 1)
    week_starts = [spark_start + dt.timedelta(weeks=i) for i in range(SPARK_WEEKS)]
    # One row per person with the window's sums and each week's golden answers, summed in
    # the database; the figures below are whole-column arithmetic, not a loop per person.
    rows = load_scorecard_frame(session, scope=scope, since=since, week_starts=week_starts)
    gold = compute_gold_accuracy_table(
        rows, correct_column="gold_correct", answered_column="gold_answered"
    )
    hours = rows["active_seconds"] / 3600
    per_active_hour = _ratios(rows["annotations"], hours)
    escalation_rate = _ratios(rows["escalations"], rows["annotations"])
    review_acceptance = _ratios(rows["accepted"], rows["reviewed"])
    weekly = [
        _ratios(rows[f"gold_correct_{index}"], rows[f"gold_answered_{index}"])
        for index in range(SPARK_WEEKS)
    ]
    stored = _stored_person_figures(session)
    ids = [int(value) for value in rows["annotator_id"]]
    alerts = count_open_alerts_by_annotator(session, scope=scope, annotator_ids=ids)
    names, tiers, statuses = (rows[c].astype(str).tolist() for c in ("name", "tier", "status"))
    annotations = rows["annotations"].astype(int).tolist()
    answered = rows["gold_answered"].astype(int).tolist()
    accuracy, low, high = (
        [_optional(value) for value in gold[column]]
        for column in ("accuracy", "accuracy_ci_low", "accuracy_ci_high")
    )
    members = [
        TeamMember(
            annotator_id=annotator_id,
            name=names[index],
            tier=tiers[index],
            status=statuses[index],
            annotations=annotations[index],
            gold_answered=answered[index],
            accuracy=accuracy[index],
            accuracy_low=low[index],
            accuracy_high=high[index],
            agreement_with_peers=stored.agreement.get(annotator_id),
            consistency=stored.consistency.get(annotator_id),
            per_active_hour=per_active_hour[index],
            escalation_rate=escalation_rate[index],
            review_acceptance=review_acceptance[index],
            weekly_accuracy=tuple(week[index] for week in weekly),
            open_alerts=alerts.get(annotator_id, 0),
        )
        for index, annotator_id in enumerate(ids)
    ]
    note = "" if members else "Nobody in your scope yet."
    return TeamScorecard(since, until, tuple(members), stored.as_of, now, note=note)


@dataclass(frozen=True)
class PersonDrilldown:
    """Why one person scores as they do, in one project over [since, until]."""

    annotator_id: int
    name: str
    projects: tuple[tuple[str, str], ...]  # (slug, name) they worked on, most gold first
    project_slug: str | None
    since: dt.date
    until: dt.date
    counts: pd.DataFrame  # rows gold label, columns label given
    rates: pd.DataFrame  # counts as shares of each row
    confused: tuple[Confusion, ...]
    speed_accuracy: pd.DataFrame  # week, seconds_per_annotation, accuracy, gold_answered
    calibration: pd.DataFrame  # held, session, agreement, group alpha
    wrong_gold: pd.DataFrame  # event_id, project, item_id, label, gold_label, submitted_at
    notes: list[str] = field(default_factory=list)


def person_drilldown(
    session: Session,
    principal: Principal,
    annotator_id: int,
    *,
    project_slug: str | None = None,
    days: int = WINDOW_DAYS,
    now: dt.datetime | None = None,
) -> PersonDrilldown:
    """One person of the principal's scope in one project (by default, where they answered
    the most golden items); NotFound outside the scope."""
    require(principal, "team.view")
    scope = people_scope(principal)
    person = get_scoped_annotator(session, scope=scope, annotator_id=annotator_id)
    if person is None:
        raise NotFound(f"No annotator {annotator_id} that you may see.")
    now = now or utcnow()
    until = now.date()
    since = until - dt.timedelta(days=days - 1)
    worked = load_person_project_frame(session, annotator_id=person.id, since=since)
    projects = tuple(
        (str(slug), str(name)) for slug, name in zip(worked["slug"], worked["name"], strict=True)
    )
    slug = project_slug or (projects[0][0] if projects else None)
    notes: list[str] = []
    empty = pd.DataFrame()
    counts, rates = empty, empty
    confused: tuple[Confusion, ...] = ()
    if slug is not None:
        project = get_project(session, slug=slug)
        if project is None:
            raise NotFound(f"No project {slug!r}.")
        pairs = load_confusion_frame(
            session, scope=scope, project_id=project.id, since=since, annotator_id=person.id
        )
        if pairs.empty:
            notes.append(
                f"{person.display_name} answered no golden items in {slug} in this window."
            )
        else:
            counts = confusion_counts(pairs, list_project_labels(session, project_id=project.id))
            rates = row_rates(counts)
            confused = tuple(most_confused(counts))
    else:
        notes.append(f"{person.display_name} did no work in this window.")
    daily = load_person_daily_frame(session, scope=scope, since=since, annotator_id=person.id)
    wrong = list_wrong_gold(session, principal, person.id, now=now, days=days)
    if slug is not None:
        wrong = wrong[wrong["project"] == slug]
    # The same golden item answered wrong twice is one piece of evidence: the newest stays.
    wrong = wrong.drop_duplicates(subset=["project", "item_id"]).reset_index(drop=True)
    return PersonDrilldown(
        annotator_id=person.id,
        name=person.display_name,
        projects=projects,
        project_slug=slug,
        since=since,
        until=until,
        counts=counts,
        rates=rates,
        confused=confused,
        speed_accuracy=_speed_accuracy(daily),
        calibration=_calibration(session, person.id),
        wrong_gold=wrong,
        notes=notes,
    )


def _speed_accuracy(daily: pd.DataFrame) -> pd.DataFrame:
    """One row per week with golden answers: seconds per annotation and gold accuracy."""
    columns = ["week", "seconds_per_annotation", "accuracy", "gold_answered"]
    if daily.empty:
        return pd.DataFrame(columns=columns)
    weekly = (
        daily.assign(week=[_monday(day) for day in daily["day"]])
        .groupby("week", as_index=False)[
            ["annotations", "active_seconds", "gold_answered", "gold_correct"]
        ]
        .sum()
    )
    weekly = weekly[(weekly["gold_answered"] > 0) & (weekly["annotations"] > 0)]
    weekly = compute_gold_accuracy_table(
        weekly, correct_column="gold_correct", answered_column="gold_answered"
    )
    weekly["seconds_per_annotation"] = weekly["active_seconds"] / weekly["annotations"]
    return weekly[columns].reset_index(drop=True)


def _calibration(session: Session, annotator_id: int) -> pd.DataFrame:
    frame = load_calibration_result_frame(session, annotator_ids=[annotator_id])
    frame = frame.sort_values(["held_at", "session_id"]).reset_index(drop=True)
    return pd.DataFrame(
        {
            "held": [value.date() for value in frame["held_at"]],
            "session": frame["session"],
            "agreement": frame["agreement"],
            "group alpha": frame["group_agreement"],
        }
    )


def team_project_slugs(
    session: Session, principal: Principal, *, days: int = 90, now: dt.datetime | None = None
) -> list[str]:
    """The slugs of the projects the principal may see (ops.projects.list_projects), those
    their people worked on lately first (busiest first)."""
    require(principal, "quality.view")
    today = (now or utcnow()).date()
    all_slugs = [project.slug for project in visible_projects(session, principal, today=today)]
    scope = people_scope(principal)
    if scope.everyone or scope.nobody:
        return all_slugs
    since = today - dt.timedelta(days=days)
    ours = [
        slug
        for slug, _total in list_scope_project_activity(session, scope=scope, since=since)
        if slug in all_slugs
    ]
    return ours + [slug for slug in all_slugs if slug not in ours]
