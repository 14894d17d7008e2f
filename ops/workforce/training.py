"""Training records: record them, and know what is current, due soon, expired or missing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from db.models import TRAINING_KINDS, GuidelineVersion, TrainingRecord, utcnow
from db.queries.training import (
    load_latest_training_frame,
    load_missing_guideline_training_frame,
    load_training_frame,
)
from db.scope import EVERYONE, PeopleScope
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


def training_rows(
    session: Session,
    annotator_ids: Sequence[int] | None,
    now: dt.datetime,
    *,
    scope: PeopleScope = EVERYONE,
) -> pd.DataFrame:
    """Latest trainings with their status, plus a 'missing' row for every assignment to a
    project whose newest major guideline version the person has not been trained on; for
    the given people, or everyone inside ``scope`` when ``annotator_ids`` is None."""
    ids = None if annotator_ids is None else list(annotator_ids)
    latest = load_latest_training_frame(session, annotator_ids=ids, scope=scope)
    latest["status"] = training_statuses(latest["expires_at"], now)
    missing = _missing_guideline_training(session, ids, now, scope)
    if missing.empty:
        return latest
    if latest.empty:
        return missing
    return pd.concat([latest, missing], ignore_index=True)


def training_statuses(
    expires_at: pd.Series, now: dt.datetime, *, due_within_days: int = DUE_WITHIN_DAYS
) -> list[str]:
    """training_status of each expiry (None or NaT: no expiry), for a whole column at once."""
    expires = pd.to_datetime(expires_at, utc=True)
    expired = (expires <= now).to_numpy(dtype=bool)
    due = (expires <= now + dt.timedelta(days=due_within_days)).to_numpy(dtype=bool)
    return [str(status) for status in np.select([expired, due], ["expired", "due"], "current")]


def _timestamps(frame: pd.DataFrame) -> list[dt.datetime | None]:
    return [None if pd.isna(value) else value for value in frame["expires_at"]]


def _missing_guideline_training(
    session: Session, annotator_ids: list[int] | None, now: dt.datetime, scope: PeopleScope
) -> pd.DataFrame:
    missing = load_missing_guideline_training_frame(
        session, now=now, annotator_ids=annotator_ids, scope=scope
    )
    if missing.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "annotator_id": missing["annotator_id"].astype(int),
            "kind": "guideline_change",
            "topic": [
                f"Guideline {version}: {summary}"[:200]
                for version, summary in zip(
                    missing["guideline_version"], missing["change_summary"], strict=True
                )
            ],
            "project_id": missing["project_id"].astype(int),
            "project": missing["project"],
            "guideline_version": missing["guideline_version"],
            "guideline_version_id": missing["guideline_version_id"].astype(int),
            "completed_at": None,
            "expires_at": None,
            "status": "missing",
        }
    )


def training_states(
    session: Session,
    annotator_ids: Sequence[int],
    now: dt.datetime,
    *,
    scope: PeopleScope = EVERYONE,
    everyone_in_scope: bool = False,
) -> dict[int, TrainingState]:
    """Each person's training state; people with no records get an empty, not-current state.

    With ``everyone_in_scope`` the records are read for everyone inside ``scope`` (one
    query, however many people) and ``annotator_ids`` only names the people to return.
    """
    rows = training_rows(session, None if everyone_in_scope else annotator_ids, now, scope=scope)
    # One pass over the rows, grouped by person; filtering the frame once per person
    # costs people x rows, which at thousands of people is minutes.
    labels: dict[int, dict[str, list[str]]] = {}
    initial: set[int] = set()
    if not rows.empty:
        projects = [
            project if isinstance(project, str) and project else None for project in rows["project"]
        ]
        for annotator_id, kind, project, status in zip(
            rows["annotator_id"], rows["kind"], projects, rows["status"], strict=True
        ):
            if status in ("expired", "due", "missing"):
                label = f"{kind} ({project})" if project else str(kind)
                labels.setdefault(int(annotator_id), {}).setdefault(status, []).append(label)
            if kind == "initial" and status != "expired":
                initial.add(int(annotator_id))
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
    missing = _missing_guideline_training(session, [annotator_id], now, EVERYONE)
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
