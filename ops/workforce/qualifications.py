"""Qualification tests: a small pre-labeled set scored per task type or domain; the pass
mark gates eligibility."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
from sqlalchemy.orm import Session

from db.models import QualificationResult, utcnow
from db.queries.training import load_qualification_frame
from ops import audit
from ops.errors import ValidationError
from ops.metrics.accuracy import compute_gold_accuracy_table
from ops.permissions import Principal
from ops.workforce.common import load_annotator, require_active, require_text, start_of_day

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_ .-]{0,79}$")
DEFAULT_PASS_MARK = 0.85


def record_qualification(
    session: Session,
    actor: Principal,
    annotator_id: int,
    *,
    task_type: str,
    n_items: int,
    n_correct: int,
    pass_mark: float = DEFAULT_PASS_MARK,
    domain: str | None = None,
    taken_on: dt.date | None = None,
) -> QualificationResult:
    """Record a test result: ``n_correct`` of ``n_items`` pre-labeled items right."""
    annotator = load_annotator(session, actor, annotator_id, action="annotator.edit")
    require_active(annotator)
    today = utcnow().date()
    taken_on = taken_on or today
    task_type = require_text(
        task_type, "task_type", "Name the task type, e.g. text_classification."
    )
    task_type = task_type.lower()
    if not NAME_PATTERN.match(task_type):
        raise ValidationError(
            f"{task_type!r}: use lower-case letters, digits, _ . - and spaces.", field="task_type"
        )
    domain = (domain or "").strip().lower() or None
    if domain is not None and not NAME_PATTERN.match(domain):
        raise ValidationError(
            f"{domain!r}: use lower-case letters, digits, _ . - and spaces.", field="domain"
        )
    if n_items < 1:
        raise ValidationError("A test has at least one item.", field="n_items")
    if not 0 <= n_correct <= n_items:
        raise ValidationError(
            f"Correct answers must be between 0 and the {n_items} items.", field="n_correct"
        )
    if not 0 < pass_mark <= 1:
        raise ValidationError(
            f"Pass mark {pass_mark} must be a fraction in (0, 1], e.g. 0.85.", field="pass_mark"
        )
    if taken_on > today:
        raise ValidationError(f"Test date {taken_on} is in the future.", field="taken_on")
    result = QualificationResult(
        annotator_id=annotator.id,
        task_type=task_type,
        domain=domain,
        score=n_correct / n_items,
        pass_mark=pass_mark,
        n_items=n_items,
        taken_at=start_of_day(taken_on),
        recorded_by=actor.username,
    )
    session.add(result)
    audit.record(session, actor, "qualification.record", result)
    return result


def list_qualifications(session: Session, principal: Principal, annotator_id: int) -> pd.DataFrame:
    """A person's test results, newest first: score with its Wilson interval, pass or fail."""
    load_annotator(session, principal, annotator_id)
    frame = load_qualification_frame(session, annotator_ids=[annotator_id])
    columns = [
        "taken",
        "task type",
        "domain",
        "items",
        "score",
        "lower bound",
        "upper bound",
        "pass mark",
        "result",
        "recorded by",
    ]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    items = frame["n_items"].fillna(0).astype("int64")
    # Older results may lack the item count; their score stands without an interval.
    counts = pd.DataFrame(
        {"correct": (frame["score"] * items).round().astype("int64"), "answered": items}
    )
    interval = compute_gold_accuracy_table(counts)
    return pd.DataFrame(
        {
            "taken": [value.date().isoformat() for value in frame["taken_at"]],
            "task type": frame["task_type"],
            "domain": frame["domain"].fillna(""),
            "items": items.where(items > 0),
            "score": frame["score"],
            "lower bound": interval["accuracy_ci_low"],
            "upper bound": interval["accuracy_ci_high"],
            "pass mark": frame["pass_mark"],
            "result": [
                "pass" if passed else "fail" for passed in frame["score"] >= frame["pass_mark"]
            ],
            "recorded by": frame["recorded_by"].fillna(""),
        },
        columns=columns,
    )
