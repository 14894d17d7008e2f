"""Review sampling sized by statistics, and retroactive correction of affected work."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.models import (
    AnnotationEvent,
    Annotator,
    GuidelineVersion,
    PayRate,
    Project,
    RereviewRequest,
)
from db.queries.projects import get_project
from db.queries.rollups import load_rollup_window_frame
from ops import audit
from ops.errors import NotFound, ValidationError
from ops.metrics.accuracy import compute_gold_accuracy_table
from ops.metrics.cost import price_events
from ops.metrics.sampling import allocate_review_sample, compute_review_sample_size
from ops.money import format_money
from ops.permissions import Principal, require

EXPORT_COLUMNS = [
    "external_id",
    "item_id",
    "annotator",
    "label",
    "submitted_at",
    "guideline_version",
]


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
    items: pd.DataFrame  # EXPORT_COLUMNS


def _project(session: Session, slug: str) -> Project:
    project = get_project(session, slug=slug)
    if project is None:
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
    project = _project(session, project_slug)
    start, end = _bounds(since, until)
    event = AnnotationEvent
    candidates = pd.DataFrame(
        session.execute(
            select(event.id, event.annotator_id)
            .where(
                event.project_id == project.id,
                event.submitted_at >= start,
                event.submitted_at < end,
                event.skipped.is_(False),
                event.is_gold.is_(False),
                event.review_outcome.is_(None),
            )
            .order_by(event.id)
        ).all(),
        columns=["id", "annotator_id"],
    )
    population = len(candidates)
    total = compute_review_sample_size(population, confidence=confidence, margin=margin)
    per_person = (
        candidates.groupby("annotator_id", as_index=False)
        .size()
        .rename(columns={"size": "n_items"})
    )
    gold = load_rollup_window_frame(session, since=since, until=until, project_ids=[project.id])
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
        ids = candidates.loc[candidates["annotator_id"] == row["annotator_id"], "id"].to_numpy()
        take = int(row["sample"])
        if take:
            chosen.extend(int(i) for i in rng.choice(ids, size=take, replace=False))
    items = _export_rows(session, chosen)
    names = _names(session, per_person["annotator_id"].tolist())
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


def _names(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        row.id: row.email or row.display_name
        for row in session.execute(
            select(Annotator.id, Annotator.email, Annotator.display_name).where(
                Annotator.id.in_(ids)
            )
        )
    }


def _export_rows(session: Session, event_ids: list[int]) -> pd.DataFrame:
    """The item list a labeling platform needs, one row per annotation."""
    rows: list[Any] = []
    for start in range(0, len(event_ids), 5000):
        chunk = event_ids[start : start + 5000]
        rows += session.execute(
            select(
                AnnotationEvent.external_id,
                AnnotationEvent.item_id,
                func.coalesce(Annotator.email, Annotator.display_name),
                AnnotationEvent.label,
                AnnotationEvent.submitted_at,
                GuidelineVersion.version,
            )
            .join(Annotator, Annotator.id == AnnotationEvent.annotator_id)
            .outerjoin(
                GuidelineVersion, GuidelineVersion.id == AnnotationEvent.guideline_version_id
            )
            .where(AnnotationEvent.id.in_(chunk))
            .order_by(AnnotationEvent.id)
        ).all()
    frame = pd.DataFrame(rows, columns=EXPORT_COLUMNS)
    return frame


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
    """What a correction would touch: counts, cost and the re-label list."""

    criteria: Criteria
    n_events: int
    cost_minor: int
    currency: str
    by_annotator: pd.DataFrame
    already_requested: int
    items: pd.DataFrame


def _affected_query(session: Session, criteria: Criteria) -> Any:
    project = _project(session, criteria.project_slug)
    query = select(AnnotationEvent.id).where(
        AnnotationEvent.project_id == project.id, AnnotationEvent.skipped.is_(False)
    )
    if criteria.annotator_emails:
        emails = [email.strip().lower() for email in criteria.annotator_emails if email.strip()]
        ids = session.scalars(select(Annotator.id).where(Annotator.email.in_(emails))).all()
        missing = set(emails) - set(
            session.scalars(select(Annotator.email).where(Annotator.email.in_(emails))).all()
        )
        if missing:
            raise ValidationError(
                f"No annotator with email {', '.join(sorted(missing))}.", field="annotators"
            )
        query = query.where(AnnotationEvent.annotator_id.in_(ids))
    if criteria.since or criteria.until:
        start, end = _bounds(criteria.since or dt.date.min, criteria.until or dt.date(9999, 12, 30))
        query = query.where(
            AnnotationEvent.submitted_at >= start, AnnotationEvent.submitted_at < end
        )
    if criteria.guideline_version:
        version_id = session.scalar(
            select(GuidelineVersion.id).where(
                GuidelineVersion.project_id == project.id,
                GuidelineVersion.version == criteria.guideline_version,
            )
        )
        if version_id is None:
            raise ValidationError(
                f"Project {project.slug} has no guideline version {criteria.guideline_version!r}.",
                field="guideline_version",
            )
        query = query.where(AnnotationEvent.guideline_version_id == version_id)
    if not (
        criteria.annotator_emails or criteria.since or criteria.until or criteria.guideline_version
    ):
        raise ValidationError(
            "Narrow the selection: choose annotators, a time window or a guideline version.",
            field="criteria",
        )
    return query, project


def find_affected_work(session: Session, principal: Principal, criteria: Criteria) -> AffectedWork:
    """Every annotation the criteria select, with what it cost at the rates then in effect."""
    require(principal, "review.plan")
    query, project = _affected_query(session, criteria)
    ids = list(session.scalars(query.order_by(AnnotationEvent.id)))
    events = pd.DataFrame(
        session.execute(
            select(
                AnnotationEvent.id,
                AnnotationEvent.annotator_id,
                AnnotationEvent.submitted_at,
                AnnotationEvent.active_seconds,
                AnnotationEvent.skipped,
                AnnotationEvent.rereview_request_id,
            ).where(AnnotationEvent.id.in_(query.scalar_subquery()))
        ).all(),
        columns=[
            "id",
            "annotator_id",
            "submitted_at",
            "active_seconds",
            "skipped",
            "rereview_request_id",
        ],
    )
    cost = 0
    if not events.empty:
        rates = pd.DataFrame(
            session.execute(
                select(
                    PayRate.annotator_id,
                    PayRate.effective_from,
                    PayRate.basis,
                    PayRate.amount_minor,
                    PayRate.currency,
                ).where(PayRate.annotator_id.in_(events["annotator_id"].unique().tolist()))
            ).all(),
            columns=["annotator_id", "effective_from", "basis", "amount_minor", "currency"],
        )
        if not rates.empty:
            # Without any pay rate the work cost nothing that annops knows of.
            events["submitted_at"] = pd.to_datetime(events["submitted_at"], utc=True)
            rates["effective_from"] = pd.to_datetime(rates["effective_from"], utc=True)
            priced = price_events(events, rates)
            cost = int(priced.events["annotation_cost_minor"].sum())
    names = _names(session, events["annotator_id"].unique().tolist() if not events.empty else [])
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
        cost_minor=cost,
        currency=project.currency,
        by_annotator=by_annotator.reset_index(drop=True),
        already_requested=int(events["rereview_request_id"].notna().sum())
        if not events.empty
        else 0,
        items=_export_rows(session, ids),
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
    affected = find_affected_work(session, principal, criteria)
    if affected.n_events == 0:
        raise ValidationError("The criteria select no annotations.", field="criteria")
    query, project = _affected_query(session, criteria)
    request = RereviewRequest(
        project_id=project.id,
        reason=reason.strip(),
        criteria=criteria.as_dict(),
        n_events=affected.n_events,
        cost_minor=affected.cost_minor,
        alert_id=alert_id,
        created_by=principal.username,
    )
    session.add(request)
    session.flush()
    session.execute(
        update(AnnotationEvent)
        .where(AnnotationEvent.id.in_(query.scalar_subquery()))
        .values(rereview_request_id=request.id)
        .execution_options(synchronize_session=False)
    )
    audit.record(session, principal, "rereview.create", request)
    return request


def rereview_progress(session: Session, principal: Principal, *, project_slug: str) -> pd.DataFrame:
    """Per re-review request: how much work came back re-labeled, and how much changed.

    An annotation has come back when its item got a newer annotation after the request;
    it was corrected when that newer label differs from the one under review.
    """
    require(principal, "review.plan")
    project = _project(session, project_slug)
    requests = session.scalars(
        select(RereviewRequest)
        .where(RereviewRequest.project_id == project.id)
        .order_by(RereviewRequest.id.desc())
    ).all()
    rows = []
    for request in requests:
        marked = AnnotationEvent.__table__.alias("marked")
        later = AnnotationEvent.__table__.alias("later")
        newer = (
            select(later.c.label)
            .where(
                later.c.project_id == marked.c.project_id,
                later.c.item_id == marked.c.item_id,
                later.c.submitted_at > request.created_at,
                later.c.skipped.is_(False),
            )
            .order_by(later.c.submitted_at.desc())
            .limit(1)
            .scalar_subquery()
        )
        outcome = (
            select(marked.c.label.label("old"), newer.label("new"))
            .where(marked.c.rereview_request_id == request.id)
            .subquery()
        )
        returned, corrected = session.execute(
            select(
                func.count(outcome.c.new),
                func.count().filter(outcome.c.new.is_not(None), outcome.c.new != outcome.c.old),
            )
        ).one()
        rows.append(
            {
                "request": request.id,
                "created": request.created_at.date().isoformat(),
                "reason": request.reason,
                "annotations": request.n_events,
                "came back": int(returned),
                "corrected": int(corrected),
                "pending": request.n_events - int(returned),
                "cost": format_money(request.cost_minor, project.currency),
                "by": request.created_by,
            }
        )
    return pd.DataFrame(rows)
