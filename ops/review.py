"""Review sampling sized by statistics, and retroactive correction of affected work."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from db.models import Project, RereviewRequest
from db.queries.events import (
    EventSelection,
    count_rereview_outcome,
    flag_for_rereview,
    list_rereview_requests,
    list_selected_event_ids,
    load_event_export_frame,
    load_review_candidates,
    load_selected_event_frame,
)
from db.queries.guidelines import get_guideline_version
from db.queries.pay import load_pay_rate_frame
from db.queries.people import list_annotators_by_email, list_annotators_by_id
from db.queries.projects import get_project
from db.queries.rollups import load_rollup_window_frame
from ops import audit
from ops.errors import NotFound, ValidationError
from ops.metrics.accuracy import compute_gold_accuracy_table
from ops.metrics.cost import cost_by_currency, cost_by_rollup_row, price_events
from ops.metrics.sampling import allocate_review_sample, compute_review_sample_size
from ops.money import format_costs
from ops.permissions import Principal, people_scope, require
from ops.projects import visible_project_ids


@dataclass(frozen=True)
class ReviewPlan:
    """How many items to review in a window, who they come from, and which ones."""

    project: str
    window_start: dt.date
    window_end: dt.date
    population: int
    sample_size: int
    confidence: float
    margin: float
    allocation: pd.DataFrame  # annotator, n_items, accuracy, accuracy_ci_low, sample
    items: pd.DataFrame  # db.queries.events.EXPORT_COLUMNS


def _project(session: Session, principal: Principal, slug: str) -> Project:
    """The project, or NotFound when there is none or it is not one of the principal's
    (a lead's team's, as ops.projects.list_projects says)."""
    project = get_project(session, slug=slug)
    # A scope of nobody is let through: every read finds no one's work.
    visible = None if people_scope(principal).nobody else visible_project_ids(session, principal)
    if project is None or (visible is not None and project.id not in visible):
        raise NotFound(f"No project {slug!r}.")
    return project


def _bounds(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if until < since:
        raise ValidationError("The window ends before it starts.", field="until")
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    return start, dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def plan_review_sample(
    session: Session,
    principal: Principal,
    *,
    project_slug: str,
    since: dt.date,
    until: dt.date,
    confidence: float = 0.95,
    margin: float = 0.05,
    seed: int = 0,
) -> ReviewPlan:
    """Cochran-sized sample of unreviewed work in the window, weighted toward low scorers."""
    require(principal, "review.plan")
    if not 0 < confidence < 1:
        raise ValidationError("Confidence must be between 0 and 1, e.g. 0.95.", field="confidence")
    if not 0 < margin < 0.5:
        raise ValidationError("Margin must be between 0 and 0.5, e.g. 0.05.", field="margin")
    project = _project(session, principal, project_slug)
    start, end = _bounds(since, until)
    scope = people_scope(principal)
    # Each person's candidate ids, in id order: one row per person from the database.
    by_person = load_review_candidates(
        session, project_id=project.id, start=start, end=end, scope=scope
    )
    population = sum(len(ids) for ids in by_person.values())
    total = compute_review_sample_size(population, confidence=confidence, margin=margin)
    people = sorted(by_person)
    per_person = pd.DataFrame(
        {"annotator_id": people, "n_items": [len(by_person[person]) for person in people]},
        columns=["annotator_id", "n_items"],
    ).astype({"annotator_id": "int64", "n_items": "int64"})
    gold = load_rollup_window_frame(
        session, since=since, until=until, project_ids=[project.id], scope=scope
    )
    per_person = per_person.merge(
        gold[["annotator_id", "gold_answered", "gold_correct"]], on="annotator_id", how="left"
    ).fillna({"gold_answered": 0, "gold_correct": 0})
    per_person = compute_gold_accuracy_table(
        per_person.astype({"gold_answered": "int64", "gold_correct": "int64"}),
        correct_column="gold_correct",
        answered_column="gold_answered",
    )
    per_person["sample"] = allocate_review_sample(per_person, total).to_numpy()
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for row in per_person.to_dict("records"):
        ids = by_person.get(row["annotator_id"], np.array([], dtype="int64"))
        take = int(row["sample"])
        if take:
            chosen.extend(int(i) for i in rng.choice(ids, size=take, replace=False))
    contact = principal.can("contact.view")
    items = load_event_export_frame(session, event_ids=chosen, by_email=contact)
    names = _names(session, per_person["annotator_id"].tolist(), contact=contact)
    allocation = per_person.assign(annotator=per_person["annotator_id"].map(names))[
        ["annotator", "n_items", "gold_answered", "accuracy", "accuracy_ci_low", "sample"]
    ].sort_values("sample", ascending=False)
    return ReviewPlan(
        project=project.slug,
        window_start=since,
        window_end=until,
        population=population,
        sample_size=int(per_person["sample"].sum()),
        confidence=confidence,
        margin=margin,
        allocation=allocation.reset_index(drop=True),
        items=items,
    )


def _names(session: Session, ids: list[int], *, contact: bool) -> dict[int, str]:
    """Annotator id -> email (for roles that may see contacts), or name."""
    if not ids:
        return {}
    return {
        person.id: (person.email if contact else None) or person.display_name
        for person in list_annotators_by_id(session, annotator_ids=ids)
    }


@dataclass(frozen=True)
class Criteria:
    """Which annotations a systematic error affected; every given field must match."""

    project_slug: str
    annotator_emails: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    guideline_version: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.project_slug,
            "annotators": list(self.annotator_emails),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "guideline_version": self.guideline_version,
        }


@dataclass(frozen=True)
class AffectedWork:
    """What a correction would touch: counts, cost (None for roles that may not see pay)
    and the re-label list."""

    criteria: Criteria
    n_events: int
    # Work and review cost per currency, in minor units (never summed across currencies);
    # None for a role that does not see pay.
    costs: dict[str, int] | None
    # Selected events whose work or review no pay rate covers.
    n_unpriced: int
    by_annotator: pd.DataFrame
    already_requested: int
    items: pd.DataFrame


def _selection(
    session: Session, principal: Principal, criteria: Criteria
) -> tuple[EventSelection, Project]:
    """The events of people in the principal's scope that the criteria select, and their
    project."""
    project = _project(session, principal, criteria.project_slug)
    scope = people_scope(principal)
    annotator_ids = None
    if criteria.annotator_emails:
        emails = [email.strip().lower() for email in criteria.annotator_emails if email.strip()]
        found = list_annotators_by_email(session, emails=emails, include_archived=True, scope=scope)
        missing = set(emails) - set(found)
        if missing:
            # Someone outside the scope reads the same as nobody, so nothing leaks.
            raise ValidationError(
                f"No annotator that you may see has the email {', '.join(sorted(missing))}.",
                field="annotators",
            )
        annotator_ids = sorted(set(found.values()))
    start = end = None
    if criteria.since or criteria.until:
        start, end = _bounds(criteria.since or dt.date.min, criteria.until or dt.date(9999, 12, 30))
    version_id = None
    if criteria.guideline_version:
        version = get_guideline_version(
            session, project_id=project.id, version=criteria.guideline_version
        )
        if version is None:
            raise ValidationError(
                f"Project {project.slug} has no guideline version {criteria.guideline_version!r}.",
                field="guideline_version",
            )
        version_id = version.id
    if not (
        criteria.annotator_emails or criteria.since or criteria.until or criteria.guideline_version
    ):
        raise ValidationError(
            "Narrow the selection: choose annotators, a time window or a guideline version.",
            field="criteria",
        )
    selection = EventSelection(
        project_id=project.id,
        annotator_ids=annotator_ids,
        start=start,
        end=end,
        guideline_version_id=version_id,
        scope=scope,
    )
    return selection, project


def find_affected_work(session: Session, principal: Principal, criteria: Criteria) -> AffectedWork:
    """Every annotation the criteria select, with what it cost at the rates then in effect
    (the cost only for roles that see pay)."""
    require(principal, "review.plan")
    affected = _find_affected_work(session, principal, criteria)
    if principal.can("pay.view"):
        return affected
    return replace(affected, costs=None, n_unpriced=0)


def _find_affected_work(session: Session, principal: Principal, criteria: Criteria) -> AffectedWork:
    selection, project = _selection(session, principal, criteria)
    ids = list_selected_event_ids(session, selection=selection)
    events = load_selected_event_frame(session, selection=selection)
    costs: dict[str, int] = {}
    n_unpriced = 0
    if not events.empty:
        # Everyone whose pay the work involves: the annotators and their reviewers.
        people = set(events["annotator_id"].dropna().astype(int))
        people |= set(events["reviewer_id"].dropna().astype(int))
        rates = load_pay_rate_frame(session, annotator_ids=sorted(people))
        for column in ("submitted_at", "reviewed_at"):
            events[column] = pd.to_datetime(events[column], utc=True)
        rates["effective_from"] = pd.to_datetime(rates["effective_from"], utc=True)
        rates["amount_minor"] = rates["amount_minor"].astype("int64")
        # Rounded as the rollups round, once per annotator x project x day.
        rows = cost_by_rollup_row(price_events(events, rates))
        costs = cost_by_currency(rows)
        n_unpriced = int(rows["unpriced_events"].sum())
    contact = principal.can("contact.view")
    names = _names(
        session,
        events["annotator_id"].unique().tolist() if not events.empty else [],
        contact=contact,
    )
    by_annotator = (
        events.assign(annotator=events["annotator_id"].map(names))
        .groupby("annotator", as_index=False)
        .size()
        .rename(columns={"size": "annotations"})
        .sort_values("annotations", ascending=False)
        if not events.empty
        else pd.DataFrame(columns=["annotator", "annotations"])
    )
    return AffectedWork(
        criteria=criteria,
        n_events=len(ids),
        costs=costs,
        n_unpriced=n_unpriced,
        by_annotator=by_annotator.reset_index(drop=True),
        already_requested=int(events["rereview_request_id"].notna().sum())
        if not events.empty
        else 0,
        items=load_event_export_frame(session, event_ids=ids, by_email=contact),
    )


def request_rereview(
    session: Session,
    principal: Principal,
    criteria: Criteria,
    *,
    reason: str,
    alert_id: int | None = None,
) -> RereviewRequest:
    """Mark the affected annotations as under re-review, in one transaction, audited."""
    require(principal, "rereview.create")
    if not reason.strip():
        raise ValidationError(
            "Say what went wrong: the reason is kept with the request.", field="reason"
        )
    require(principal, "review.plan")
    affected = _find_affected_work(session, principal, criteria)
    costs = affected.costs or {}
    if affected.n_events == 0:
        raise ValidationError("The criteria select no annotations.", field="criteria")
    selection, project = _selection(session, principal, criteria)
    request = RereviewRequest(
        project_id=project.id,
        reason=reason.strip(),
        criteria=criteria.as_dict(),
        n_events=affected.n_events,
        cost_minor=costs.get(project.currency, 0),
        costs=costs,
        alert_id=alert_id,
        created_by=principal.username,
    )
    session.add(request)
    session.flush()
    flag_for_rereview(session, selection=selection, request_id=request.id)
    audit.record(session, principal, "rereview.create", request)
    return request


def rereview_progress(session: Session, principal: Principal, *, project_slug: str) -> pd.DataFrame:
    """Per re-review request: how much work came back re-labeled, and how much changed.

    An annotation has come back when its item got a newer annotation after the request;
    it was corrected when that newer label differs from the one under review. The cost
    column only for roles that may see pay.
    """
    require(principal, "review.plan")
    project = _project(session, principal, project_slug)
    see_pay = principal.can("pay.view")
    rows = []
    for request in list_rereview_requests(session, project_id=project.id):
        returned, corrected = count_rereview_outcome(session, request=request)
        row: dict[str, object] = {
            "request": request.id,
            "created": request.created_at.date(),
            "reason": request.reason,
            "annotations": request.n_events,
            "came back": int(returned),
            "corrected": int(corrected),
            "pending": request.n_events - int(returned),
        }
        if see_pay:
            row["cost"] = format_costs(request.costs or {project.currency: request.cost_minor})
        rows.append({**row, "by": request.created_by})
    return pd.DataFrame(rows)
