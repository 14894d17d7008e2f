"""Training records: record them, and know what is current, due soon, expired or missing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.models import TRAINING_KINDS, GuidelineVersion, TrainingRecord, utcnow
from db.queries.guidelines import list_major_guideline_versions
from db.queries.staffing import load_current_assignment_frame
from db.queries.training import load_training_frame
from ops import audit
from ops.errors import ValidationError
from ops.permissions import Principal, require
from ops.workforce.common import (
    load_annotator,
    require_active,
    require_project,
    require_text,
    start_of_day,
)

# A training that runs out within this many days is listed as due.
DUE_WITHIN_DAYS = 30
STATUS_ORDER = {"expired": 0, "missing": 1, "due": 2, "current": 3}


def training_status(
    expires_at: dt.datetime | None, now: dt.datetime, *, due_within_days: int = DUE_WITHIN_DAYS
) -> str:
    """'expired' from the expiry moment on, 'due' within the window before it, else 'current'."""
    if expires_at is None:
        return "current"
    if expires_at <= now:
        return "expired"
    if expires_at <= now + dt.timedelta(days=due_within_days):
        return "due"
    return "current"


def latest_trainings(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per annotator x kind x project: the most recently completed training."""
    if frame.empty:
        return frame
    keyed = frame.assign(_project=frame["project_id"].fillna(-1))
    keyed = keyed.sort_values(["completed_at", "id"], kind="stable")
    latest = keyed.drop_duplicates(["annotator_id", "kind", "_project"], keep="last")
    return latest.drop(columns="_project").reset_index(drop=True)


@dataclass(frozen=True)
class TrainingState:
    """Where one person stands: what is expired, due soon or missing, as readable labels."""

    expired: tuple[str, ...]
    due: tuple[str, ...]
    missing: tuple[str, ...]
    has_initial: bool

    @property
    def current(self) -> bool:
        """Initial training on record and nothing expired or missing."""
        return self.has_initial and not self.expired and not self.missing

    @property
    def summary(self) -> str:
        if self.expired:
            return "expired: " + ", ".join(self.expired)
        if self.missing:
            return "missing: " + ", ".join(self.missing)
        if not self.has_initial:
            return "no initial training"
        if self.due:
            return "due: " + ", ".join(self.due)
        return "current"


def _label(row: Mapping[Hashable, Any]) -> str:
    project = row.get("project")
    where = f" ({project})" if isinstance(project, str) and project else ""
    return f"{row['kind']}{where}"


def training_rows(session: Session, annotator_ids: Sequence[int], now: dt.datetime) -> pd.DataFrame:
    """Latest trainings with their status, plus a 'missing' row for every assignment to a
    project whose newest major guideline version the person has not been trained on."""
    ids = list(annotator_ids)
    latest = latest_trainings(load_training_frame(session, annotator_ids=ids))
    if not latest.empty:
        latest["status"] = [training_status(value, now) for value in _timestamps(latest)]
    missing = _missing_guideline_training(session, ids, now)
    frames = [frame for frame in (latest, missing) if not frame.empty]
    if not frames:
        return pd.DataFrame(
            columns=[*load_training_frame(session, annotator_ids=[]).columns, "status"]
        )
    return pd.concat(frames, ignore_index=True)


def _timestamps(frame: pd.DataFrame) -> list[dt.datetime | None]:
    return [None if pd.isna(value) else value for value in frame["expires_at"]]


def _missing_guideline_training(
    session: Session, annotator_ids: list[int], now: dt.datetime
) -> pd.DataFrame:
    assignments = load_current_assignment_frame(
        session, annotator_ids=annotator_ids, today=now.date()
    )
    if assignments.empty:
        return pd.DataFrame()
    majors = list_major_guideline_versions(
        session, project_ids=assignments["project_id"].unique().tolist(), effective_by=now
    )
    newest: dict[int, GuidelineVersion] = {major.project_id: major for major in majors}
    if not newest:
        return pd.DataFrame()
    trainings = load_training_frame(session, annotator_ids=annotator_ids)
    changes = trainings[trainings["kind"] == "guideline_change"]
    # Each person's guideline trainings per project, looked up once rather than
    # filtered out of the whole frame for every assignment.
    trained: dict[tuple[int, int], list[tuple[int | None, dt.datetime]]] = {}
    for annotator_id, project_id, version_id, completed in zip(
        changes["annotator_id"],
        changes["project_id"],
        changes["guideline_version_id"],
        changes["completed_at"],
        strict=True,
    ):
        if pd.isna(project_id):
            continue
        trained.setdefault((int(annotator_id), int(project_id)), []).append(
            (None if pd.isna(version_id) else int(version_id), completed)
        )
    rows = []
    for record in assignments.to_dict("records"):
        version = newest.get(int(record["project_id"]))
        if version is None:
            continue
        theirs = trained.get((int(record["annotator_id"]), int(record["project_id"])), [])
        # Trained on this version by name, or trained on the change after it took effect.
        covered = any(
            version_id == version.id or completed >= version.effective_from
            for version_id, completed in theirs
        )
        if not covered:
            rows.append(
                {
                    "annotator_id": int(record["annotator_id"]),
                    "kind": "guideline_change",
                    "topic": f"Guideline {version.version}: {version.change_summary}"[:200],
                    "project_id": int(record["project_id"]),
                    "project": record["project"],
                    "guideline_version": version.version,
                    "guideline_version_id": version.id,
                    "completed_at": None,
                    "expires_at": None,
                    "status": "missing",
                }
            )
    return pd.DataFrame(rows)


def training_states(
    session: Session, annotator_ids: Sequence[int], now: dt.datetime
) -> dict[int, TrainingState]:
    """Each person's training state; people with no records get an empty, not-current state."""
    rows = training_rows(session, annotator_ids, now)
    # One pass over the rows, grouped by person; filtering the frame once per person
    # costs people x rows, which at thousands of people is minutes.
    labels: dict[int, dict[str, list[str]]] = {}
    initial: set[int] = set()
    if not rows.empty:
        for row in rows.to_dict("records"):
            annotator_id = int(row["annotator_id"])
            status = row["status"]
            if status in ("expired", "due", "missing"):
                labels.setdefault(annotator_id, {}).setdefault(status, []).append(_label(row))
            if row["kind"] == "initial" and status != "expired":
                initial.add(annotator_id)
    states: dict[int, TrainingState] = {}
    for annotator_id in annotator_ids:
        theirs = labels.get(annotator_id, {})
        states[annotator_id] = TrainingState(
            expired=tuple(theirs.get("expired", ())),
            due=tuple(theirs.get("due", ())),
            missing=tuple(theirs.get("missing", ())),
            has_initial=annotator_id in initial,
        )
    return states


def list_trainings(
    session: Session, principal: Principal, annotator_id: int, *, now: dt.datetime | None = None
) -> pd.DataFrame:
    """Every training record of one person, newest first, with each one's status."""
    load_annotator(session, principal, annotator_id)
    now = now or utcnow()
    frame = load_training_frame(session, annotator_ids=[annotator_id])
    latest_ids = set(latest_trainings(frame)["id"]) if not frame.empty else set()
    statuses = [
        training_status(expires, now) if record_id in latest_ids else "superseded"
        for record_id, expires in zip(frame["id"], _timestamps(frame), strict=True)
    ]
    frame = frame.assign(status=statuses)
    missing = _missing_guideline_training(session, [annotator_id], now)
    if not missing.empty:
        frame = pd.concat([missing, frame], ignore_index=True)
    return frame


def list_my_training(
    session: Session, principal: Principal, *, now: dt.datetime | None = None
) -> pd.DataFrame:
    """The logged-in annotator's own trainings that are expired, due soon or missing."""
    require(principal, "training.view_own")
    columns = ["kind", "topic", "project", "status", "expires"]
    if principal.annotator_id is None:
        return pd.DataFrame(columns=columns)
    now = now or utcnow()
    rows = training_rows(session, [principal.annotator_id], now)
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = rows[rows["status"].isin(("expired", "missing", "due"))].copy()
    rows["expires"] = [
        value.date().isoformat() if isinstance(value, dt.datetime) else ""
        for value in rows["expires_at"]
    ]
    rows["project"] = rows["project"].fillna("")
    rows = rows.sort_values(by="status", key=lambda status: status.map(STATUS_ORDER), kind="stable")
    return rows[columns].reset_index(drop=True)


def record_training(
    session: Session,
    actor: Principal,
    annotator_id: int,
    *,
    kind: str,
    topic: str,
    completed_on: dt.date,
    expires_on: dt.date | None = None,
    project_id: int | None = None,
    guideline_version_id: int | None = None,
    today: dt.date | None = None,
) -> TrainingRecord:
    """Record a completed training; guideline-change training names project and version."""
    annotator = load_annotator(session, actor, annotator_id, action="annotator.edit")
    require_active(annotator)
    today = today or utcnow().date()
    if kind not in TRAINING_KINDS:
        raise ValidationError(
            f"Kind {kind!r} must be one of {', '.join(TRAINING_KINDS)}.", field="kind"
        )
    topic = require_text(topic, "topic", "Name the training's topic, e.g. 'Sarcasm in reviews'.")
    if len(topic) > 200:
        raise ValidationError("Keep the topic under 200 characters.", field="topic")
    if completed_on > today:
        raise ValidationError(
            f"Completion date {completed_on} is in the future; record a training once it is done.",
            field="completed_on",
        )
    if expires_on is not None and expires_on <= completed_on:
        raise ValidationError(
            f"Expiry {expires_on} must be after completion {completed_on}.", field="expires_on"
        )
    if kind == "guideline_change" and (project_id is None or guideline_version_id is None):
        raise ValidationError(
            "A guideline-change training names the project and the guideline version it covers.",
            field="guideline_version_id" if project_id is not None else "project_id",
        )
    if project_id is not None:
        require_project(session, project_id)
    if guideline_version_id is not None:
        version = session.get(GuidelineVersion, guideline_version_id)
        if version is None or version.project_id != project_id:
            raise ValidationError(
                "That guideline version does not belong to the chosen project.",
                field="guideline_version_id",
            )
    record = TrainingRecord(
        annotator_id=annotator.id,
        kind=kind,
        topic=topic,
        project_id=project_id,
        guideline_version_id=guideline_version_id,
        completed_at=start_of_day(completed_on),
        expires_at=start_of_day(expires_on) if expires_on else None,
        recorded_by=actor.username,
    )
    session.add(record)
    audit.record(session, actor, "training.record", record)
    return record
