"""The pool: a filtered, sorted roster with recent gold accuracy, CSV export, and the
annotator record itself (create, edit, archive, restore, link platform identities)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from db.models import (
    ANNOTATOR_STATUSES,
    EMPLOYMENT_TYPES,
    TIERS,
    Annotator,
    AnnotatorIdentity,
    AnnotatorSkill,
    utcnow,
)
from db.queries.people import (
    PoolFilters,
    get_annotator_by_email,
    get_identity,
    get_team,
    list_pool_annotator_ids,
    list_pool_annotators,
    list_skill_names,
    list_skills,
    list_teams,
)
from db.queries.projects import list_projects, list_task_types
from db.queries.rollups import load_scoped_rollup_totals_frame
from db.queries.roster import (
    list_roster_current_projects,
    list_roster_identities,
    list_roster_people,
    list_roster_qualified_task_types,
    list_roster_skills,
)
from ops import audit
from ops.errors import PermissionDenied, ValidationError
from ops.exports import frame_csv
from ops.identities import EMAIL_PATTERN, PLATFORM_PATTERN
from ops.metrics.accuracy import compute_gold_accuracy_table
from ops.permissions import Principal, people_scope, require
from ops.workforce.common import (
    check_version,
    flush_or_conflict,
    load_annotator,
    require_text,
)
from ops.workforce.training import training_rows, training_states

# Recent gold accuracy on the roster covers this many days, today included.
ROSTER_WINDOW_DAYS = 30
SORTS = ("name", "team", "tier", "status", "accuracy", "accuracy lower bound", "annotations")
SKILL_PATTERN = re.compile(r"^[a-z0-9][a-z0-9 _.+-]{0,79}$")
PHONE_PATTERN = re.compile(r"^[0-9 +()./-]{3,40}$")
TRAINING_STATUS_ORDER = {"expired": 0, "missing": 1, "due": 2}


@dataclass(frozen=True)
class PoolFilter:
    """What to show: every field left empty matches everyone."""

    search: str = ""
    team_id: int | None = None
    tiers: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    skill: str | None = None
    domain: str | None = None
    language: str | None = None
    qualified_task_type: str | None = None
    project_id: int | None = None
    include_archived: bool = False
    sort_by: str = "name"
    descending: bool = False


@dataclass(frozen=True)
class PoolOptions:
    """The values the roster's filters offer."""

    teams: list[tuple[int, str]]
    skills: list[str]
    domains: list[str]
    languages: list[str]
    task_types: list[str]
    projects: list[tuple[int, str]]


@dataclass(frozen=True)
class AnnotatorDetails:
    """The editable fields of an annotator. Contact fields left None stay as they are."""

    display_name: str
    team_id: int | None
    status: str = "candidate"
    employment_type: str = "contractor"
    tier: str = "annotator"
    email: str | None = None
    phone: str | None = None
    country: str | None = None
    skills: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


def _pool_query(principal: Principal, pool_filter: PoolFilter) -> PoolFilters:
    """The people query's arguments for a filter as the principal may apply it."""
    return {
        "scope": people_scope(principal),
        "team_id": pool_filter.team_id,
        "include_archived": pool_filter.include_archived,
        "search": pool_filter.search or None,
        "search_email": principal.can("contact.view"),
        "tiers": pool_filter.tiers,
        "statuses": pool_filter.statuses,
        "skill": pool_filter.skill,
        "domain": pool_filter.domain,
        "language": pool_filter.language,
        "qualified_task_type": pool_filter.qualified_task_type,
        "project_id": pool_filter.project_id,
    }


def scoped_annotators(
    session: Session,
    principal: Principal,
    pool_filter: PoolFilter,
    *,
    today: dt.date | None = None,
) -> list[Annotator]:
    """Annotators in the principal's scope that match the filter."""
    require(principal, "annotator.view")
    return list_pool_annotators(
        session, today=today or utcnow().date(), **_pool_query(principal, pool_filter)
    )


def pool_options(session: Session, principal: Principal) -> PoolOptions:
    """Teams (only the lead's own for a lead), skills, domains, task types and projects."""
    require(principal, "annotator.view")
    scope = people_scope(principal)
    teams = [
        (t.id, t.name)
        for t in list_teams(session)
        if scope.everyone or (scope.kind == "team" and t.id == scope.team_id)
    ]
    return PoolOptions(
        teams=teams,
        skills=list_skill_names(session, kind="skill"),
        domains=list_skill_names(session, kind="domain"),
        languages=list_skill_names(session, kind="language"),
        task_types=list_task_types(session),
        projects=[(p.id, p.slug) for p in list_projects(session)],
    )


def list_pool(
    session: Session,
    principal: Principal,
    pool_filter: PoolFilter = PoolFilter(),
    *,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """The roster: one row per person, with recent gold accuracy and its Wilson interval.

    Contact details appear only for roles allowed to see them.
    """
    check_sort(pool_filter)
    now = now or utcnow()
    roster = load_roster(session, principal, include_archived=pool_filter.include_archived, now=now)
    return filter_roster(
        roster, matching_ids(session, principal, pool_filter, now=now), pool_filter
    )


def check_sort(pool_filter: PoolFilter) -> None:
    """Refuse a sort the roster does not offer."""
    if pool_filter.sort_by not in SORTS:
        raise ValidationError(
            f"Sort by {pool_filter.sort_by!r} is not offered; use one of {', '.join(SORTS)}.",
            field="sort_by",
        )


def matching_ids(
    session: Session,
    principal: Principal,
    pool_filter: PoolFilter,
    *,
    now: dt.datetime | None = None,
) -> list[int]:
    """Ids of the people in scope the filter matches, by name."""
    require(principal, "annotator.view")
    return list_pool_annotator_ids(
        session, today=(now or utcnow()).date(), **_pool_query(principal, pool_filter)
    )


def narrows(pool_filter: PoolFilter) -> bool:
    """Whether the filter leaves anyone of the roster out (sorting and the archived switch
    choose the roster itself, not who in it is shown)."""
    unfiltered = PoolFilter(
        include_archived=pool_filter.include_archived,
        sort_by=pool_filter.sort_by,
        descending=pool_filter.descending,
    )
    return pool_filter != unfiltered


def filter_roster(roster: pd.DataFrame, ids: list[int], pool_filter: PoolFilter) -> pd.DataFrame:
    """The rows of ``roster`` (from load_roster) for ``ids``, in that order, then sorted."""
    check_sort(pool_filter)
    position = {annotator_id: index for index, annotator_id in enumerate(ids)}
    chosen = roster[roster["id"].isin(position)]
    chosen = chosen.iloc[chosen["id"].map(position).argsort(kind="stable")]
    return _sorted(chosen.reset_index(drop=True), pool_filter.sort_by, pool_filter.descending)


def load_roster(
    session: Session,
    principal: Principal,
    *,
    include_archived: bool = False,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """Every person in the principal's scope, one row each, by name: what the roster
    shows before its filters. Computed once, it serves every filter (filter_roster);
    with ``include_archived`` it holds everyone, and its "archived" column tells them
    apart, so one read also serves the archived switch.

    Each part is one set-based read for the whole scope, joined here by person.
    """
    require(principal, "annotator.view")
    now = now or utcnow()
    scope = people_scope(principal)
    contact = principal.can("contact.view")
    columns = _roster_columns(contact)
    people = [
        person
        for person in list_roster_people(session, scope=scope)
        if include_archived or not person.archived
    ]
    if not people:
        return pd.DataFrame(columns=columns)
    ids = [person.annotator_id for person in people]
    until = now.date()
    since = until - dt.timedelta(days=ROSTER_WINDOW_DAYS - 1)
    totals = load_scoped_rollup_totals_frame(session, scope=scope, since=since, until=until)
    totals = compute_gold_accuracy_table(
        totals.set_index("annotator_id").reindex(ids, fill_value=0),
        correct_column="gold_correct",
        answered_column="gold_answered",
    )
    states = training_states(session, ids, now, scope=scope, everyone_in_scope=True)
    names: dict[str, dict[int, list[str]]] = {"domain": {}, "skill": {}, "language": {}}
    for annotator_id, kind, name in list_roster_skills(session, scope=scope):
        names.setdefault(kind, {}).setdefault(annotator_id, []).append(name)
    task_types: dict[int, set[str]] = {}
    for annotator_id, task_type in list_roster_qualified_task_types(session, scope=scope):
        task_types.setdefault(annotator_id, set()).add(task_type)
    projects: dict[int, list[str]] = {}
    for annotator_id, slug in list_roster_current_projects(session, scope=scope, today=until):
        projects.setdefault(annotator_id, []).append(slug)
    linked: dict[int, list[str]] = {}
    for annotator_id, identity in list_roster_identities(session, scope=scope):
        linked.setdefault(annotator_id, []).append(identity)
    frame = pd.DataFrame(
        {
            "id": ids,
            "name": [person.display_name for person in people],
            "team": [person.team for person in people],
            "tier": [person.tier for person in people],
            "status": [person.status for person in people],
            "employment": [person.employment_type for person in people],
            "domains": _joined(names["domain"], ids),
            "skills": _joined(names["skill"], ids),
            "languages": _joined(names["language"], ids),
            "qualified for": [", ".join(sorted(task_types.get(i, ()))) for i in ids],
            "current projects": _joined(projects, ids),
            "annotations (30d)": totals["annotations"].to_numpy(dtype="int64"),
            "gold answers (30d)": totals["gold_answered"].to_numpy(dtype="int64"),
            "gold accuracy (30d)": totals["accuracy"].to_numpy(),
            "lower bound": totals["accuracy_ci_low"].to_numpy(),
            "upper bound": totals["accuracy_ci_high"].to_numpy(),
            "training": [states[i].summary for i in ids],
            "identities": _joined(linked, ids),
            "archived": [person.archived for person in people],
        }
    )
    if contact:
        frame["email"] = [person.email or "" for person in people]
        frame["phone"] = [person.phone or "" for person in people]
    return frame[columns]


def _roster_columns(contact: bool) -> list[str]:
    """The person, then the numbers decisions use, then what they can do, then the rest."""
    columns = [
        "id",
        "name",
        "team",
        "tier",
        "status",
        "annotations (30d)",
        "gold accuracy (30d)",
        "lower bound",
        "upper bound",
        "gold answers (30d)",
        "training",
        "current projects",
        "qualified for",
        "domains",
        "skills",
        "languages",
        "employment",
        "identities",
    ]
    return [*columns, *(("email", "phone") if contact else ()), "archived"]


def _joined(values: dict[int, list[str]], ids: list[int]) -> list[str]:
    """Each person's values, comma separated, in the order read."""
    return [", ".join(values.get(annotator_id, ())) for annotator_id in ids]


def _sorted(frame: pd.DataFrame, sort_by: str, descending: bool) -> pd.DataFrame:
    column = {
        "accuracy": "gold accuracy (30d)",
        "accuracy lower bound": "lower bound",
        "annotations": "annotations (30d)",
    }.get(sort_by, sort_by)
    key = None
    if sort_by == "tier":
        rank = {tier: index for index, tier in enumerate(TIERS)}
        key = lambda values: values.map(rank)  # noqa: E731 - a one-off sort key
    elif column in ("name", "team", "status"):
        key = lambda values: values.str.lower()  # noqa: E731
    ordered = frame.sort_values(
        [column, "name"] if column != "name" else ["name"],
        ascending=not descending,
        na_position="last",
        kind="stable",
        key=key,
    )
    return ordered.reset_index(drop=True)


def pool_csv(
    session: Session,
    principal: Principal,
    pool_filter: PoolFilter = PoolFilter(),
    *,
    now: dt.datetime | None = None,
) -> str:
    """The roster as CSV text, exactly the rows and columns the principal may see."""
    return frame_csv(list_pool(session, principal, pool_filter, now=now))


def list_training_due(
    session: Session, principal: Principal, *, now: dt.datetime | None = None
) -> pd.DataFrame:
    """Across the pool in scope: trainings expired, due within 30 days, or missing."""
    now = now or utcnow()
    people = scoped_annotators(
        session, principal, PoolFilter(statuses=("active", "probation")), today=now.date()
    )
    names = {person.id: person.display_name for person in people}
    columns = ["annotator", "annotator_id", "status", "kind", "topic", "project", "expires"]
    rows = training_rows(session, list(names), now) if names else pd.DataFrame()
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = rows[rows["status"].isin(tuple(TRAINING_STATUS_ORDER))].copy()
    rows["annotator"] = rows["annotator_id"].map(names)
    rows["expires"] = [
        value.date().isoformat() if isinstance(value, dt.datetime) else "—"
        for value in rows["expires_at"]
    ]
    rows["_order"] = rows["status"].map(TRAINING_STATUS_ORDER)
    rows = rows.sort_values(["_order", "expires", "annotator"], kind="stable")
    return rows[columns].reset_index(drop=True)


# --- the annotator record ----------------------------------------------------------------


def _clean_details(session: Session, details: AnnotatorDetails, own_id: int | None) -> None:
    require_text(details.display_name, "display_name", "Enter the person's name.")
    if len(details.display_name.strip()) > 200:
        raise ValidationError("Keep the name under 200 characters.", field="display_name")
    if details.status not in ANNOTATOR_STATUSES:
        raise ValidationError(
            f"Status must be one of {', '.join(ANNOTATOR_STATUSES)}.", field="status"
        )
    if details.employment_type not in EMPLOYMENT_TYPES:
        raise ValidationError(
            f"Employment type must be one of {', '.join(EMPLOYMENT_TYPES)}.",
            field="employment_type",
        )
    if details.tier not in TIERS:
        raise ValidationError(f"Tier must be one of {', '.join(TIERS)}.", field="tier")
    if details.team_id is not None and get_team(session, team_id=details.team_id) is None:
        raise ValidationError(f"No team {details.team_id}.", field="team_id")
    if details.email:
        email = details.email.strip().lower()
        if not EMAIL_PATTERN.match(email) or len(email) > 254:
            raise ValidationError(
                f"{details.email!r} is not an email address (name@example.org).", field="email"
            )
        holder = get_annotator_by_email(session, email=email)
        if holder is not None and holder.id != own_id:
            raise ValidationError(
                f"{email} already belongs to {holder.display_name}.", field="email"
            )
    if details.phone and not PHONE_PATTERN.match(details.phone.strip()):
        raise ValidationError(
            "A phone number has digits, spaces and + ( ) - . / only, e.g. +49 30 1234567.",
            field="phone",
        )
    if details.country and not re.fullmatch(r"[A-Za-z]{2}", details.country.strip()):
        raise ValidationError("Country is a two-letter ISO code such as DE or KE.", field="country")
    for kind, values in (
        ("skills", details.skills),
        ("domains", details.domains),
        ("languages", details.languages),
    ):
        for value in values:
            if not SKILL_PATTERN.match(value.strip().lower()):
                raise ValidationError(
                    f"{value!r} is not a valid name; use letters, digits, spaces, . _ + -.",
                    field=kind,
                )


def _skill_names(details: AnnotatorDetails) -> dict[str, list[str]]:
    return {
        kind: sorted({value.strip().lower() for value in values if value.strip()})
        for kind, values in (
            ("skill", details.skills),
            ("domain", details.domains),
            ("language", details.languages),
        )
    }


def _current_skills(session: Session, annotator_id: int) -> dict[str, list[str]]:
    current: dict[str, list[str]] = {"skill": [], "domain": [], "language": []}
    for skill in list_skills(session, annotator_id=annotator_id):
        current.setdefault(skill.kind, []).append(skill.name)
    return current


def _set_skills(session: Session, annotator: Annotator, wanted: dict[str, list[str]]) -> None:
    existing = {(s.kind, s.name): s for s in list_skills(session, annotator_id=annotator.id)}
    desired = {(kind, name) for kind, names in wanted.items() for name in names}
    for key, skill in existing.items():
        if key not in desired:
            session.delete(skill)
    for kind, name in sorted(desired - set(existing)):
        session.add(AnnotatorSkill(annotator_id=annotator.id, kind=kind, name=name, level=3))


def _record_of(annotator: Annotator, skills: dict[str, list[str]]) -> dict[str, Any]:
    return {**audit.snapshot(annotator), "skills": skills}


def create_annotator(session: Session, actor: Principal, details: AnnotatorDetails) -> Annotator:
    """Add a person to the pool."""
    require(actor, "annotator.create")
    _clean_details(session, details, None)
    annotator = Annotator(
        display_name=details.display_name.strip(),
        email=(details.email or "").strip().lower() or None,
        phone=(details.phone or "").strip() or None,
        country=(details.country or "").strip().upper() or None,
        team_id=details.team_id,
        status=details.status,
        tier=details.tier,
        employment_type=details.employment_type,
        is_linked=True,
        updated_by=actor.username,
    )
    session.add(annotator)
    session.flush()
    skills = _skill_names(details)
    _set_skills(session, annotator, skills)
    audit.record(session, actor, "annotator.create", annotator, after=_record_of(annotator, skills))
    return annotator


def update_annotator(
    session: Session,
    actor: Principal,
    annotator_id: int,
    details: AnnotatorDetails,
    *,
    expected_version: int,
) -> Annotator:
    """Save an edited record; a record changed by someone else since it was read is refused.

    The tier changes only through a recorded tier change with a justification.
    """
    annotator = load_annotator(session, actor, annotator_id, action="annotator.edit", fresh=True)
    check_version(annotator, expected_version, annotator.display_name)
    if details.tier != annotator.tier:
        raise ValidationError(
            "Change the tier on the Tier history tab, where the change is justified.",
            field="tier",
        )
    if details.team_id != annotator.team_id and actor.role == "lead":
        raise PermissionDenied(f"{actor.username} (lead) may not move people to another team")
    contact = actor.can("contact.view")
    if not contact and (details.email is not None or details.phone is not None):
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not edit contact details")
    _clean_details(session, details, annotator.id)
    before = _record_of(annotator, _current_skills(session, annotator.id))
    skills = _skill_names(details)
    # One flush at the end: one version step, and a lost race surfaces as a conflict.
    with session.no_autoflush:
        _set_skills(session, annotator, skills)
        annotator.display_name = details.display_name.strip()
        annotator.team_id = details.team_id
        annotator.status = details.status
        annotator.employment_type = details.employment_type
        annotator.country = (details.country or "").strip().upper() or None
        if details.email is not None:
            annotator.email = details.email.strip().lower() or None
        if details.phone is not None:
            annotator.phone = details.phone.strip() or None
        # Always touch the row, so a skills-only edit also moves the version on.
        annotator.updated_by = actor.username
        annotator.updated_at = utcnow()
    flush_or_conflict(session, annotator.display_name)
    audit.record(
        session,
        actor,
        "annotator.update",
        annotator,
        before=before,
        after=_record_of(annotator, skills),
    )
    return annotator


def archive_annotator(
    session: Session, actor: Principal, annotator_id: int, *, expected_version: int, reason: str
) -> Annotator:
    """Take a person out of the pool; their records and history stay."""
    return _set_archived(session, actor, annotator_id, expected_version, reason, archive=True)


def restore_annotator(
    session: Session, actor: Principal, annotator_id: int, *, expected_version: int, reason: str
) -> Annotator:
    """Bring an archived person back into the pool."""
    return _set_archived(session, actor, annotator_id, expected_version, reason, archive=False)


def _set_archived(
    session: Session,
    actor: Principal,
    annotator_id: int,
    expected_version: int,
    reason: str,
    *,
    archive: bool,
) -> Annotator:
    annotator = load_annotator(session, actor, annotator_id, action="annotator.archive", fresh=True)
    check_version(annotator, expected_version, annotator.display_name)
    reason = require_text(
        reason, "reason", "Say why, e.g. 'contract ended'; the reason is kept in the audit log."
    )
    if archive == (annotator.archived_at is not None):
        raise ValidationError(
            f"{annotator.display_name} is {'already' if archive else 'not'} archived.",
            field="annotator",
        )
    before = audit.snapshot(annotator)
    annotator.archived_at = utcnow() if archive else None
    annotator.updated_by = actor.username
    flush_or_conflict(session, annotator.display_name)
    audit.record(
        session,
        actor,
        "annotator.archive" if archive else "annotator.restore",
        annotator,
        before=before,
        after={**audit.snapshot(annotator), "reason": reason},
    )
    return annotator


def add_identity(
    session: Session,
    actor: Principal,
    annotator_id: int,
    *,
    platform: str,
    external_id: str,
    email: str | None = None,
) -> AnnotatorIdentity:
    """Record that the person is ``external_id`` on ``platform``, so imports find them."""
    annotator = load_annotator(session, actor, annotator_id, action="identity.link")
    platform = platform.strip().lower()
    if not PLATFORM_PATTERN.match(platform):
        raise ValidationError(
            "Platform is a short lower-case name such as labelstudio, cvat or vendor-x.",
            field="platform",
        )
    external_id = require_text(
        external_id, "external_id", "Enter the person's user id or name on that platform."
    )
    if len(external_id) > 200:
        raise ValidationError("Keep the platform id under 200 characters.", field="external_id")
    email = (email or "").strip().lower() or None
    if email is not None and not EMAIL_PATTERN.match(email):
        raise ValidationError(f"{email!r} is not an email address.", field="identity_email")
    holder = get_identity(session, platform=platform, external_id=external_id)
    if holder is not None:
        owner = session.get(Annotator, holder.annotator_id)
        if holder.annotator_id == annotator.id:
            message = f"{platform}:{external_id} is already linked to {annotator.display_name}."
        elif owner is not None and not owner.is_linked:
            message = (
                f"{platform}:{external_id} came in with an import and is not linked to anyone "
                "yet; link it on the Unlinked identities page so its work moves with it."
            )
        else:
            name = owner.display_name if owner is not None else "someone else"
            message = f"{platform}:{external_id} is already linked to {name}."
        raise ValidationError(message, field="external_id")
    identity = AnnotatorIdentity(
        annotator_id=annotator.id, platform=platform, external_id=external_id, email=email
    )
    session.add(identity)
    audit.record(session, actor, "identity.link", identity)
    return identity
