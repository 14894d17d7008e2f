"""Calibration sessions: everyone labels the same items, each person is compared with
the reference, the group's agreement is measured, and disputed items are discussed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.models import (
    Annotator,
    CalibrationItem,
    CalibrationLabel,
    CalibrationResult,
    CalibrationSession,
    GuidelineVersion,
    utcnow,
)
from db.queries.audit import get_latest_audit
from db.queries.calibration import (
    list_calibration_items,
    list_calibration_labels,
    list_calibration_results,
    list_calibration_sessions,
    load_calibration_label_frame,
    load_calibration_labels_of,
    load_calibration_result_frame,
)
from db.queries.people import list_annotator_choices, list_annotators_by_id, list_identities
from db.queries.projects import list_project_slugs_by_id
from ops import audit
from ops.agreement_report import read_agreement_csv
from ops.errors import ConflictError, NotFound, ValidationError
from ops.metrics.agreement import compute_fleiss_kappa, compute_krippendorff_alpha
from ops.metrics.calibration_agreement import compute_reference_agreement, rank_calibration_items
from ops.permissions import Principal, people_scope, require
from ops.projects import visible_project_ids
from ops.workforce.common import (
    changed_message,
    check_version,
    flush_or_conflict,
    load_annotator,
    may_see,
    require_project,
    require_text,
    start_of_day,
)
from ops.workforce.roster import PoolFilter, scoped_annotators

MAX_LABEL = 200


@dataclass(frozen=True)
class CalibrationDetail:
    """One session as the page shows it; results only for people in the viewer's scope."""

    id: int
    name: str
    project: str
    held_on: dt.date
    guideline_version: str
    version_id: int
    updated_by: str | None
    updated_at: dt.datetime
    discussion_notes: str
    items: pd.DataFrame  # item_id, reference
    results: pd.DataFrame  # annotator_id, name, agreement, agreed, items
    hidden_participants: int
    n_participants: int
    alpha: float | None
    kappa: float | None
    kappa_note: str | None
    disputed: pd.DataFrame  # item_id, reference, n_ratings, agreement, matching, labels


def parse_reference_lines(text: str) -> list[tuple[str, str]]:
    """'item_id,reference_label' per line -> pairs; errors name the line."""
    pairs: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for number, record in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != 2 or not record[0].strip() or not record[1].strip():
            raise ValidationError(
                f"Line {number}: write item_id,reference_label (e.g. rev-001,positive).",
                field="items",
            )
        item, label = record[0].strip(), record[1].strip()
        if item in seen:
            raise ValidationError(
                f"Line {number}: item {item!r} already appears on line {seen[item]}.",
                field="items",
            )
        seen[item] = number
        pairs.append((item, label))
    return pairs


def list_sessions(
    session: Session, principal: Principal, *, project_id: int | None = None
) -> pd.DataFrame:
    """Calibration sessions, newest first, with the group's agreement."""
    require(principal, "calibration.view")
    sessions = list_calibration_sessions(session, project_id=project_id)
    projects = visible_project_ids(session, principal)
    if projects is not None:
        sessions = [entry for entry in sessions if entry[0].project_id in projects]
    labels = _labels_in_scope(
        session,
        principal,
        load_calibration_labels_of(
            session, session_ids=[item.id for item, _slug, _count in sessions]
        ),
    )
    rows = []
    for item, slug, participants in sessions:
        # Agreement is recomputed from the labels, so sessions stored without it still show it.
        alpha, kappa = _group_agreement(labels[labels["session_id"] == item.id])
        rows.append(
            {
                "id": item.id,
                "held": item.held_at.date().isoformat(),
                "name": item.name,
                "project": slug or "",
                "participants": participants,
                "alpha": alpha,
                "kappa": kappa,
            }
        )
    return pd.DataFrame(
        rows, columns=["id", "held", "name", "project", "participants", "alpha", "kappa"]
    )


def create_session(
    session: Session,
    actor: Principal,
    *,
    project_id: int,
    name: str,
    held_on: dt.date,
    items: Sequence[tuple[str, str | None]],
    guideline_version_id: int | None = None,
) -> CalibrationSession:
    """A new session with its items and their reference labels."""
    require(actor, "calibration.edit")
    project = require_project(session, project_id)
    projects = visible_project_ids(session, actor)
    if projects is not None and project.id not in projects:
        raise NotFound(f"No project {project_id}.")
    name = require_text(name, "name", "Name the session, e.g. 'Sentiment calibration #4'.")
    if len(name) > 200:
        raise ValidationError("Keep the name under 200 characters.", field="name")
    if not items:
        raise ValidationError("Add at least one item with its reference label.", field="items")
    identifiers = [item for item, _ in items]
    if len(set(identifiers)) != len(identifiers):
        raise ValidationError("Each item appears once.", field="items")
    for item, label in items:
        if len(item) > MAX_LABEL or (label is not None and len(label) > MAX_LABEL):
            raise ValidationError(
                f"Item {item[:40]!r}: ids and labels are at most {MAX_LABEL} characters.",
                field="items",
            )
    if guideline_version_id is not None:
        version = session.get(GuidelineVersion, guideline_version_id)
        if version is None or version.project_id != project.id:
            raise ValidationError(
                f"That guideline version is not one of {project.slug}'s.",
                field="guideline_version_id",
            )
    calibration = CalibrationSession(
        project_id=project.id,
        name=name,
        held_at=start_of_day(held_on) + dt.timedelta(hours=12),
        guideline_version_id=guideline_version_id,
        discussion_notes="",
        created_by=actor.username,
        updated_by=actor.username,
    )
    session.add(calibration)
    session.flush()
    session.add_all(
        CalibrationItem(session_id=calibration.id, item_id=item, reference_label=label or None)
        for item, label in items
    )
    audit.record(
        session,
        actor,
        "calibration.create",
        calibration,
        after={**audit.snapshot(calibration), "items": dict(items)},
    )
    return calibration


def import_pilot_csv(
    session: Session,
    actor: Principal,
    *,
    project_id: int,
    name: str,
    held_on: dt.date,
    data: bytes,
    file_name: str,
    guideline_version_id: int | None = None,
) -> CalibrationSession:
    """A session from a pilot CSV item_id,annotator_id,label[,gold]: the gold column gives
    the reference labels, the rows the participants' labels."""
    require(actor, "calibration.edit")
    frame = _read_pilot(data, file_name)
    if "gold" not in frame.columns:
        raise ValidationError(
            f"{file_name}: no gold column; the reference labels come from it "
            "(header item_id,annotator_id,label,gold).",
            field="file",
        )
    people = _resolve_participants(session, actor, frame["annotator_id"].unique().tolist())
    repeated = frame.duplicated(["item_id", "annotator_id"])
    if repeated.any():
        row = frame[repeated].iloc[0]
        raise ValidationError(
            f"{file_name}: {row['annotator_id']} labels item {row['item_id']} twice; "
            "a calibration round has one label per person per item.",
            field="file",
        )
    reference = frame.dropna(subset=["gold"]).drop_duplicates("item_id").set_index("item_id")
    items = [
        (str(item), str(reference.at[item, "gold"]) if item in reference.index else None)
        for item in dict.fromkeys(frame["item_id"])
    ]
    calibration = create_session(
        session,
        actor,
        project_id=project_id,
        name=name,
        held_on=held_on,
        items=items,
        guideline_version_id=guideline_version_id,
    )
    session.add_all(
        CalibrationLabel(
            session_id=calibration.id,
            annotator_id=people[str(row.annotator_id)].id,
            item_id=str(row.item_id),
            label=str(row.label)[:MAX_LABEL],
        )
        for row in frame.itertuples(index=False)
    )
    session.flush()
    _recompute(session, calibration)
    audit.record(
        session,
        actor,
        "calibration.import",
        calibration,
        after={
            "file": file_name,
            "labels": len(frame),
            "participants": len({person.id for person in people.values()}),
        },
    )
    return calibration


def _read_pilot(data: bytes, file_name: str) -> pd.DataFrame:
    # The pilot reader validates the format line by line and reads from a path.
    handle, path = tempfile.mkstemp(suffix=".csv")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        return read_agreement_csv(path)
    except ValueError as error:
        raise ValidationError(str(error).replace(path, file_name), field="file") from error
    finally:
        os.unlink(path)


def _resolve_participants(
    session: Session, actor: Principal, keys: list[str]
) -> dict[str, Annotator]:
    """Pilot annotator ids -> people: by email, platform:id, platform id, or exact name."""
    people = {
        person.id: person
        for person in scoped_annotators(session, actor, PoolFilter(), today=utcnow().date())
    }
    identities = list_identities(session, annotator_ids=list(people))
    found: dict[str, Annotator] = {}
    unknown: list[str] = []
    for key in keys:
        text = str(key).strip()
        lowered = text.lower()
        matches = [p for p in people.values() if p.email and p.email.lower() == lowered]
        if not matches:
            matches = [
                people[i.annotator_id]
                for i in identities
                if lowered in (f"{i.platform}:{i.external_id}".lower(), i.external_id.lower())
            ]
        if not matches:
            matches = [p for p in people.values() if p.display_name.lower() == lowered]
        if len({p.id for p in matches}) == 1:
            found[str(key)] = matches[0]
        else:
            unknown.append(text)
    if unknown:
        raise ValidationError(
            f"Unknown participant(s) {', '.join(sorted(unknown)[:10])}: use their email, "
            "platform id (labelstudio:1004) or full name as annotator_id"
            + (" (only people in your team)." if actor.role == "lead" else "."),
            field="file",
        )
    return found


def _load(
    session: Session, principal: Principal, session_id: int, action: str
) -> CalibrationSession:
    require(principal, action)
    calibration = session.get(CalibrationSession, session_id, populate_existing=True)
    projects = visible_project_ids(session, principal)
    if (
        calibration is None
        or calibration.archived_at is not None
        or (projects is not None and calibration.project_id not in projects)
    ):
        raise NotFound(f"No calibration session {session_id}.")
    return calibration


def _labels_in_scope(session: Session, principal: Principal, labels: pd.DataFrame) -> pd.DataFrame:
    """The labels of the people ``principal`` may see: a session's group figures for a
    lead count their team's labels only."""
    if people_scope(principal).everyone or labels.empty:
        return labels
    ids = [int(value) for value in labels["annotator_id"].unique()]
    seen = {
        person.id
        for person in list_annotators_by_id(session, annotator_ids=ids)
        if may_see(principal, person)
    }
    return labels[labels["annotator_id"].isin(seen)]


def participant_labels(
    session: Session, principal: Principal, session_id: int, annotator_id: int
) -> dict[str, str]:
    """One participant's labels in a session, item -> label."""
    _load(session, principal, session_id, "calibration.view")
    load_annotator(session, principal, annotator_id)
    return {
        label.item_id: label.label
        for label in list_calibration_labels(
            session, session_id=session_id, annotator_id=annotator_id
        )
    }


def record_labels(
    session: Session,
    actor: Principal,
    session_id: int,
    annotator_id: int,
    labels: Mapping[str, str | None],
    *,
    expected_labels: Mapping[str, str],
) -> CalibrationSession:
    """Save a participant's labels (a blank label removes one) and recompute the results.

    ``expected_labels`` are the labels the editor started from; if someone saved this
    participant's labels since, the save is refused.
    """
    calibration = _load(session, actor, session_id, "calibration.edit")
    annotator = load_annotator(session, actor, annotator_id)
    current = {
        row.item_id: row
        for row in list_calibration_labels(
            session, session_id=calibration.id, annotator_id=annotator.id
        )
    }
    if {item: row.label for item, row in current.items()} != dict(expected_labels):
        last = get_latest_audit(
            session,
            entity_type="calibration_labels",
            entity_id=f"{calibration.id}:{annotator.id}",
            action="calibration.labels",
        )
        raise ConflictError(
            changed_message(
                f"{annotator.display_name}'s labels",
                last.actor if last else None,
                last.at if last else None,
            )
        )
    items = {item.item_id for item in list_calibration_items(session, session_id=calibration.id)}
    unknown = sorted(set(labels) - items)
    if unknown:
        raise ValidationError(
            f"Item(s) {', '.join(unknown[:5])} are not in this session.", field="labels"
        )
    cleaned = {item: (label or "").strip() for item, label in labels.items()}
    too_long = [item for item, label in cleaned.items() if len(label) > MAX_LABEL]
    if too_long:
        raise ValidationError(
            f"Labels are at most {MAX_LABEL} characters (item {too_long[0]}).", field="labels"
        )
    before = {item: row.label for item, row in current.items()}
    wanted = {**before, **{item: label for item, label in cleaned.items() if label}}
    wanted = {item: label for item, label in wanted.items() if cleaned.get(item, label)}
    if wanted == before:
        raise ValidationError("Nothing changed: edit a label first.", field="labels")
    for item, label in cleaned.items():
        row = current.get(item)
        if not label:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(
                CalibrationLabel(
                    session_id=calibration.id, annotator_id=annotator.id, item_id=item, label=label
                )
            )
        else:
            row.label = label
    session.flush()
    after = {
        row.item_id: row.label
        for row in list_calibration_labels(
            session, session_id=calibration.id, annotator_id=annotator.id
        )
    }
    _recompute(session, calibration)
    calibration.updated_by = actor.username
    flush_or_conflict(session, calibration.name)
    audit.record(
        session,
        actor,
        "calibration.labels",
        ("calibration_labels", f"{calibration.id}:{annotator.id}"),
        before=before,
        after=after,
    )
    return calibration


def _recompute(session: Session, calibration: CalibrationSession) -> None:
    """Per-person agreement with the reference, and the group's alpha and kappa."""
    labels = load_calibration_label_frame(session, session_id=calibration.id)
    reference = pd.Series(
        {
            item.item_id: item.reference_label
            for item in list_calibration_items(session, session_id=calibration.id)
        },
        dtype=object,
    )
    existing = {
        result.annotator_id: result
        for result in list_calibration_results(session, session_id=calibration.id)
    }
    scores = (
        compute_reference_agreement(labels, reference)
        if not labels.empty
        else pd.DataFrame(columns=["n_items", "agreement"])
    )
    for annotator_id, result in existing.items():
        if annotator_id not in scores.index:
            session.delete(result)
    rows: dict[Any, dict[Any, Any]] = scores.to_dict("index")
    for annotator_id, row in rows.items():
        stored = existing.get(int(annotator_id))
        if stored is None:
            session.add(
                CalibrationResult(
                    session_id=calibration.id,
                    annotator_id=int(annotator_id),
                    agreement=float(row["agreement"]),
                    n_items=int(row["n_items"]),
                )
            )
        else:
            stored.agreement = float(row["agreement"])
            stored.n_items = int(row["n_items"])
    calibration.group_agreement, calibration.group_kappa = _group_agreement(labels)


def _group_agreement(labels: pd.DataFrame) -> tuple[float | None, float | None]:
    """Krippendorff's alpha (nominal) and Fleiss' kappa over the participants' labels."""
    if labels.empty:
        return None, None
    frame = labels[["item_id", "annotator_id", "label"]]
    return compute_krippendorff_alpha(frame), compute_fleiss_kappa(frame).kappa


def save_notes(
    session: Session, actor: Principal, session_id: int, notes: str, *, expected_version: int
) -> CalibrationSession:
    """Keep the discussion notes; notes saved by someone else in the meantime are not lost."""
    calibration = _load(session, actor, session_id, "calibration.edit")
    check_version(calibration, expected_version, f"Session {calibration.name!r}")
    if len(notes) > 20_000:
        raise ValidationError("Notes are at most 20,000 characters.", field="notes")
    before = {"discussion_notes": calibration.discussion_notes}
    calibration.discussion_notes = notes.strip()
    calibration.updated_by = actor.username
    calibration.updated_at = utcnow()
    flush_or_conflict(session, f"Session {calibration.name!r}")
    audit.record(
        session,
        actor,
        "calibration.notes",
        calibration,
        before=before,
        after={"discussion_notes": calibration.discussion_notes},
    )
    return calibration


def archive_session(
    session: Session, actor: Principal, session_id: int, *, expected_version: int, reason: str
) -> CalibrationSession:
    """Take a session out of lists and histories; its records stay."""
    calibration = _load(session, actor, session_id, "calibration.edit")
    check_version(calibration, expected_version, f"Session {calibration.name!r}")
    reason = require_text(reason, "reason", "Say why the session is archived.")
    before = audit.snapshot(calibration)
    calibration.archived_at = utcnow()
    calibration.updated_by = actor.username
    flush_or_conflict(session, f"Session {calibration.name!r}")
    audit.record(
        session,
        actor,
        "calibration.archive",
        calibration,
        before=before,
        after={**audit.snapshot(calibration), "reason": reason},
    )
    return calibration


def session_detail(session: Session, principal: Principal, session_id: int) -> CalibrationDetail:
    """Items, results in scope, group agreement and the items to discuss."""
    calibration = _load(session, principal, session_id, "calibration.view")
    items = list_calibration_items(session, session_id=calibration.id)
    reference = pd.Series({item.item_id: item.reference_label for item in items}, dtype=object)
    labels = _labels_in_scope(
        session, principal, load_calibration_label_frame(session, session_id=calibration.id)
    )
    results = list_calibration_results(session, session_id=calibration.id)
    people = {
        person.id: person
        for person in list_annotators_by_id(
            session, annotator_ids=[result.annotator_id for result in results]
        )
    }
    visible = [
        r
        for r in results
        if r.annotator_id in people and may_see(principal, people[r.annotator_id])
    ]
    result_frame = pd.DataFrame(
        [
            {
                "annotator_id": result.annotator_id,
                "name": people[result.annotator_id].display_name,
                "agreement": result.agreement,
                "agreed": round(result.agreement * result.n_items),
                "items": result.n_items,
            }
            for result in visible
        ],
        columns=["annotator_id", "name", "agreement", "agreed", "items"],
    ).sort_values("agreement", ascending=False, kind="stable")
    kappa = compute_fleiss_kappa(labels) if not labels.empty else None
    alpha = compute_krippendorff_alpha(labels) if not labels.empty else None
    disputed = (
        rank_calibration_items(labels, reference)
        if not labels.empty
        else pd.DataFrame(columns=["reference", "n_ratings", "agreement", "matching_reference"])
    )
    disputed_frame = pd.DataFrame(
        {
            "item_id": list(disputed.index),
            "reference": [
                value if isinstance(value, str) else "" for value in disputed["reference"]
            ],
            "ratings": list(disputed["n_ratings"]),
            "agreement": list(disputed["agreement"]),
            "matching reference": list(disputed["matching_reference"]),
            "labels": [
                ", ".join(f"{label}: {count}" for label, count in counts.items())
                for counts in disputed.get("label_counts", pd.Series(dtype=object))
            ],
        }
    )
    version = (
        session.get(GuidelineVersion, calibration.guideline_version_id)
        if calibration.guideline_version_id
        else None
    )
    project = list_project_slugs_by_id(session, project_ids=[calibration.project_id or -1])
    return CalibrationDetail(
        id=calibration.id,
        name=calibration.name,
        project=project.get(calibration.project_id or -1, ""),
        held_on=calibration.held_at.date(),
        guideline_version=version.version if version else "",
        version_id=calibration.version_id,
        updated_by=calibration.updated_by,
        updated_at=calibration.updated_at,
        discussion_notes=calibration.discussion_notes,
        items=pd.DataFrame(
            {
                "item_id": [i.item_id for i in items],
                "reference": [i.reference_label or "" for i in items],
            }
        ),
        results=result_frame.reset_index(drop=True),
        hidden_participants=len(results) - len(visible),
        n_participants=len(results),
        alpha=alpha,
        kappa=kappa.kappa if kappa is not None else None,
        kappa_note=kappa.note if kappa is not None else "no labels yet",
        disputed=disputed_frame,
    )


def calibration_history(session: Session, principal: Principal, annotator_id: int) -> pd.DataFrame:
    """A person's calibration results, oldest first, for the trend."""
    load_annotator(session, principal, annotator_id)
    frame = load_calibration_result_frame(session, annotator_ids=[annotator_id])
    frame = frame.sort_values(["held_at", "session_id"]).reset_index(drop=True)
    return pd.DataFrame(
        {
            "held": [value.date() for value in frame["held_at"]],
            "session": frame["session"],
            "project": frame["project"].fillna(""),
            "agreement": frame["agreement"],
            "items": frame["n_items"],
            "group alpha": frame["group_agreement"],
        }
    )


def session_participants(
    session: Session, principal: Principal, session_id: int
) -> list[tuple[int, str]]:
    """People the principal may record labels for: active or on probation, in scope."""
    _load(session, principal, session_id, "calibration.view")
    require(principal, "annotator.view")
    return list_annotator_choices(
        session, scope=people_scope(principal), statuses=("active", "probation")
    )
