"""Guideline versions per project: record each with its effective date and change
summary, count the work done under each, and send work done under a superseded
version for review."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from db.models import GuidelineVersion, Project, RereviewRequest, utcnow
from db.queries.events import (
    count_events_after,
    count_events_by_guideline_version,
    count_version_work,
    list_events_under_version,
)
from db.queries.guidelines import list_guideline_versions
from ops import audit
from ops.errors import NotFound, ValidationError
from ops.permissions import Principal, people_scope, require
from ops.projects import visible_project_ids
from ops.review import Criteria, request_rereview
from ops.workforce.common import require_project, require_text, start_of_day

VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
SAMPLE_SIZE = 50


def _require_visible(
    session: Session, principal: Principal, project_id: int, now: dt.datetime
) -> Project:
    """The project, or NotFound when it does not exist or is not one of the principal's
    (a lead's team's, as ops.projects.list_projects says)."""
    project = require_project(session, project_id)
    if people_scope(principal).nobody:  # every count is zero
        return project
    visible = visible_project_ids(session, principal, today=now.date())
    if visible is not None and project_id not in visible:
        raise NotFound(f"No project {project_id}.")
    return project


def _statuses(versions: list[GuidelineVersion], now: dt.datetime) -> dict[int, str]:
    in_effect = [version for version in versions if version.effective_from <= now]
    current = in_effect[-1].id if in_effect else None
    return {
        version.id: "current"
        if version.id == current
        else ("upcoming" if version.effective_from > now else "superseded")
        for version in versions
    }


def version_choices(
    session: Session, principal: Principal, project_id: int, *, now: dt.datetime | None = None
) -> dict[int, str]:
    """A project's guideline versions by id, oldest first, for a picker: names only,
    without list_versions' counts of the work under each (a pass over the project's
    events)."""
    require(principal, "guideline.view")
    _require_visible(session, principal, project_id, now or utcnow())
    return {
        version.id: version.version
        for version in list_guideline_versions(session, project_id=project_id)
    }


def list_versions(
    session: Session, principal: Principal, project_id: int, *, now: dt.datetime | None = None
) -> pd.DataFrame:
    """A project's versions, newest first: annotations made under each, how many of those
    came after a newer version applied, and how many are flagged for re-review."""
    require(principal, "guideline.view")
    now = now or utcnow()
    _require_visible(session, principal, project_id, now)
    versions = list_guideline_versions(session, project_id=project_id)
    statuses = _statuses(versions, now)
    # When each superseded version stopped applying: its successor's start.
    superseded_at = {
        version.id: successor.effective_from
        for version, successor in zip(versions, versions[1:], strict=False)
        if statuses[version.id] == "superseded"
    }
    counts = count_version_work(
        session,
        project_id=project_id,
        superseded_at=superseded_at,
        scope=people_scope(principal),
    )
    rows = []
    for version in versions:
        annotations, flagged, late = counts.get(version.id, (0, 0, 0))
        rows.append(
            {
                "id": version.id,
                "version": version.version,
                "effective from": version.effective_from.date().isoformat(),
                "major": version.is_major,
                "status": statuses[version.id],
                "change summary": version.change_summary,
                "annotations": annotations,
                "after superseded": late,
                "flagged for review": flagged,
                "created by": version.created_by or "",
            }
        )
    unversioned = counts.get(None, (0, 0, 0))[0]
    if unversioned:
        rows.append(
            {
                "id": None,
                "version": "(none recorded)",
                "effective from": "",
                "major": False,
                "status": "",
                "change summary": "work imported without a guideline version",
                "annotations": unversioned,
                "after superseded": 0,
                "flagged for review": counts[None][1],
                "created by": "",
            }
        )
    columns = [
        "id",
        "version",
        "effective from",
        "major",
        "status",
        "change summary",
        "annotations",
        "after superseded",
        "flagged for review",
        "created by",
    ]
    return pd.DataFrame(list(reversed(rows)), columns=columns)


def create_version(
    session: Session,
    actor: Principal,
    project_id: int,
    *,
    version: str,
    effective_on: dt.date,
    change_summary: str,
    is_major: bool = False,
) -> GuidelineVersion:
    """Record a new guideline version; versions take effect in the order they are added."""
    require(actor, "guideline.edit")
    project = require_project(session, project_id)
    version = version.strip()
    if not VERSION_PATTERN.match(version):
        raise ValidationError(
            "A version is a short label of letters, digits, . _ -, such as v3 or 2.1.",
            field="version",
        )
    summary = require_text(
        change_summary,
        "change_summary",
        "Summarise what changed in at least 10 characters, so annotators and reviewers know.",
        minimum=10,
    )
    existing = list_guideline_versions(session, project_id=project.id)
    if any(item.version.lower() == version.lower() for item in existing):
        raise ValidationError(f"{project.slug} already has a version {version}.", field="version")
    effective_from = start_of_day(effective_on)
    if existing and effective_from <= existing[-1].effective_from:
        raise ValidationError(
            f"It must take effect after {existing[-1].version} "
            f"({existing[-1].effective_from:%Y-%m-%d}).",
            field="effective_on",
        )
    guideline = GuidelineVersion(
        project_id=project.id,
        version=version,
        effective_from=effective_from,
        change_summary=summary,
        is_major=is_major,
        created_by=actor.username,
    )
    session.add(guideline)
    audit.record(session, actor, "guideline.create", guideline)
    return guideline


@dataclass(frozen=True)
class SupersededWork:
    """Work done under a version that a newer one replaced."""

    version: str
    superseded_by: str
    superseded_on: dt.date
    annotations: int
    after_superseded: int
    flagged: int
    sample: pd.DataFrame


def _superseded(
    session: Session, project_id: int, version_id: int, now: dt.datetime
) -> tuple[Project, GuidelineVersion, GuidelineVersion]:
    project = require_project(session, project_id)
    versions = list_guideline_versions(session, project_id=project.id)
    position = next((i for i, v in enumerate(versions) if v.id == version_id), None)
    if position is None:
        raise NotFound(f"{project.slug} has no guideline version {version_id}.")
    if _statuses(versions, now)[version_id] != "superseded":
        raise ValidationError(
            f"{versions[position].version} is not superseded; only work under a replaced "
            "version is sent for review.",
            field="version",
        )
    return project, versions[position], versions[position + 1]


def superseded_work(
    session: Session,
    principal: Principal,
    project_id: int,
    version_id: int,
    *,
    now: dt.datetime | None = None,
) -> SupersededWork:
    """How much work a superseded version carries, and the newest of it by people in the
    principal's scope."""
    require(principal, "guideline.view")
    now = now or utcnow()
    _require_visible(session, principal, project_id, now)
    project, version, successor = _superseded(session, project_id, version_id, now)
    scope = people_scope(principal)
    annotations, flagged = count_events_by_guideline_version(
        session, project_id=project.id, scope=scope
    ).get(version.id, (0, 0))
    sample = pd.DataFrame(
        [
            {
                "submitted": event.submitted_at.strftime("%Y-%m-%d %H:%M"),
                "item": event.item_id,
                "annotator": name,
                "label": event.label,
                "flagged": event.rereview_request_id is not None,
            }
            for event, name in list_events_under_version(
                session,
                project_id=project.id,
                guideline_version_id=version.id,
                limit=SAMPLE_SIZE,
                scope=scope,
            )
        ],
        columns=["submitted", "item", "annotator", "label", "flagged"],
    )
    return SupersededWork(
        version=version.version,
        superseded_by=successor.version,
        superseded_on=successor.effective_from.date(),
        annotations=annotations,
        after_superseded=count_events_after(
            session,
            project_id=project.id,
            guideline_version_id=version.id,
            after=successor.effective_from,
            scope=scope,
        ),
        flagged=flagged,
        sample=sample,
    )


def flag_superseded_work(
    session: Session,
    actor: Principal,
    project_id: int,
    version_id: int,
    *,
    reason: str,
    now: dt.datetime | None = None,
) -> RereviewRequest:
    """Mark every annotation made under a superseded version for re-review."""
    require(actor, "rereview.create")
    now = now or utcnow()
    project, version, successor = _superseded(session, project_id, version_id, now)
    reason = require_text(
        reason,
        "reason",
        f"Say why work under {version.version} needs review, e.g. what {successor.version} "
        "changed.",
        minimum=10,
    )
    return request_rereview(
        session,
        actor,
        Criteria(project_slug=project.slug, guideline_version=version.version),
        reason=f"Guideline {version.version} superseded by {successor.version}: {reason}",
    )
