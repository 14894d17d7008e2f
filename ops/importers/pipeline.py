"""One import, start to end: read, check, resolve people, stage, merge, record lineage.

A whole file is one transaction (a savepoint inside the caller's): by default the
first bad row stops the import and nothing stays stored; with ``skip_invalid`` bad
rows go to a rejects CSV and the rest is imported. A dry run does all of it and
then rolls back, leaving only a ``dry_run`` lineage row with the counts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.models import REVIEW_OUTCOMES, Annotator, AnnotatorIdentity, ImportBatch, utcnow
from db.queries.guidelines import list_guideline_versions
from db.queries.imports import (
    REFERENCES,
    STAGED_SCHEMA,
    MissingReference,
    NewGoldItem,
    StagedRows,
    add_gold_items,
    apply_known_gold,
    count_staged_gold,
    delete_gold_reference_events,
    drop_staged,
    find_repeated_keys,
    list_gold_items,
    list_gold_reference_ids,
    lock_imports,
    merge,
    stage,
    staging_table,
)
from db.queries.people import (
    list_annotators_by_email,
    list_annotators_by_id,
    list_identities,
    list_identity_matches,
)
from db.queries.projects import get_project, list_projects_by_slug
from db.rollup_sql import RollupKey, list_keys_an_import_may_change
from ops import audit, rollups
from ops.importers.chunks import GoldReference, Person, RawChunk
from ops.importers.events import EventsReader
from ops.importers.fields import (
    MAX_KEY_LENGTH,
    TIMESTAMP,
    Problems,
    booleans,
    person_key,
    seconds,
    split_key,
    texts,
    timestamps,
)
from ops.importers.labelstudio import (
    FLAT_FORMAT_LACKS,
    FLAT_FORMAT_NAMES,
    PLATFORM,
    LabelStudioReader,
    ReferenceAnnotators,
    load_users,
)
from ops.importers.problems import ImportFailed, Reject, RejectWriter, check_rejects_path
from ops.permissions import Principal, require

SOURCES = ("labelstudio", "events")
HASH_BLOCK = 1 << 20
# How many names a summary lists before it only counts.
SUMMARY_NAMES = 50

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ImportRequest:
    """What to import and how; ``file_name`` is the name shown in lineage (default: the path's)."""

    source: str
    path: Path
    file_name: str | None = None
    project: str | None = None
    users_path: Path | None = None
    guideline_version: str | None = None
    label_field: str | None = None
    # JSON_MIN and CSV: whose annotations are gold references (e-mails or user ids),
    # or that no one's are.
    reference_annotators: tuple[str, ...] = ()
    no_gold: bool = False
    dry_run: bool = False
    skip_invalid: bool = False
    rejects_path: Path | None = None

    @property
    def name(self) -> str:
        return self.file_name or self.path.name


@dataclass(frozen=True)
class AnnotatorEvents:
    """How many events of an import belong to one person."""

    annotator: str  # display name, marked "(unlinked)" for people created by the import
    events: int


@dataclass(frozen=True)
class ImportSummary:
    """What one import found besides its row counts; kept with its batch for lineage."""

    format: str | None
    tasks: int | None  # Label Studio JSON only
    skipped: int | None  # Label Studio JSON only
    golden_items: int
    gold_events: int
    gold_references: int
    gold_items_new: int
    gold_items_changed: int
    gold_reference_events_removed: int
    repeated_rows: int
    annotators_matched: int
    annotators_unlinked: int
    per_annotator: tuple[AnnotatorEvents, ...]  # the SUMMARY_NAMES busiest people
    unlinked_names: tuple[str, ...]  # at most SUMMARY_NAMES
    label_field: str | None
    guideline_version: str | None
    # What the file's format does not carry, so this import could not record it.
    format_lacks: tuple[str, ...] = ()
    reference_annotators: tuple[str, ...] = ()


def summary_record(summary: ImportSummary) -> dict[str, Any]:
    """The summary as the JSON document stored with the batch and printed by the CLI."""
    record = asdict(summary)
    record["per_annotator"] = [asdict(entry) for entry in summary.per_annotator]
    record["unlinked_names"] = list(summary.unlinked_names)
    record["format_lacks"] = list(summary.format_lacks)
    record["reference_annotators"] = list(summary.reference_annotators)
    return record


@dataclass
class ImportResult:
    """The counts and findings of one import (or dry run)."""

    batch_id: int
    status: str
    source: str
    file_name: str
    sha256: str
    rows: int
    inserted: int
    updated: int
    duplicate: int
    rejected: int
    summary: ImportSummary
    rejects_path: Path | None = None

    @property
    def dry_run(self) -> bool:
        return self.status == "dry_run"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _to_arrow(values: Any) -> pa.Array:
    """A column of raw values as Arrow; mixed types fall back to text for the checks."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return pa.array([None if value is None else str(value) for value in values], pa.string())


class IdentityResolver:
    """Maps identity keys to annotators, creating unlinked annotators for unknown people."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.ids: dict[str, int] = {}
        self.matched: set[str] = set()
        self.created: set[str] = set()

    def resolve(self, keys: list[str], people: dict[str, Person]) -> dict[str, int]:
        missing = [key for key in keys if key not in self.ids]
        if missing:
            self._look_up(missing, people)
        return {key: self.ids[key] for key in keys}

    def _look_up(self, keys: list[str], people: dict[str, Person]) -> None:
        by_platform: dict[str, list[str]] = {}
        for key in keys:
            platform, external_id = split_key(key)
            by_platform.setdefault(platform, []).append(external_id)
        for platform, external_ids in by_platform.items():
            found = list_identity_matches(
                self.session, platform=platform, external_ids=external_ids
            )
            for external_id, annotator_id in found.items():
                key = f"{platform}:{external_id}"
                self.ids[key] = annotator_id
                self.matched.add(key)
        unknown = [key for key in keys if key not in self.ids]
        emails = {key: self._email(key, people) for key in unknown}
        by_email = list_annotators_by_email(
            self.session, emails=[email for email in emails.values() if email]
        )
        new_people: list[tuple[str, Annotator]] = []
        for key in unknown:
            email = emails[key]
            match = by_email.get(email.lower()) if email else None
            if match is None:
                person = people.get(key, Person())
                platform, external_id = split_key(key)
                name = person.name or email or f"{platform} {external_id}"
                annotator = Annotator(
                    display_name=_printable(name)[:200],
                    is_linked=False,
                    status="candidate",
                    updated_by=self.principal.username,
                )
                self.session.add(annotator)
                new_people.append((key, annotator))
            else:
                self.ids[key] = match
                self.matched.add(key)
        if new_people:
            self.session.flush()
            for key, annotator in new_people:
                self.ids[key] = annotator.id
                self.created.add(key)
        for key in unknown:
            platform, external_id = split_key(key)
            self.session.add(
                AnnotatorIdentity(
                    annotator_id=self.ids[key],
                    platform=platform,
                    external_id=external_id,
                    email=_printable(emails[key] or "")[:254] or None,
                )
            )
        self.session.flush()

    @staticmethod
    def _email(key: str, people: dict[str, Person]) -> str | None:
        platform, external_id = split_key(key)
        if platform == "email":
            return external_id
        person = people.get(key)
        return person.email.strip().lower() if person and person.email else None


def _printable(text: str) -> str:
    """``text`` without NUL characters, which PostgreSQL cannot store."""
    return text.replace("\x00", "")


@dataclass
class _Context:
    """Everything one import run carries from chunk to chunk."""

    request: ImportRequest
    project_id: int | None
    guideline_version_id: int | None
    resolver: IdentityResolver
    rejects: RejectWriter
    now: dt.datetime
    projects: dict[str, int | None] = field(default_factory=dict)
    versions: dict[int, tuple[np.ndarray, list[int], dict[str, int]]] = field(default_factory=dict)
    # Reference annotations of golden items already known; JSON_MIN and CSV exports
    # carry no ground-truth flag, so these are recognised by their key instead.
    references: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))
    file_format: str | None = None
    seq: int = 0
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    gold: dict[str, GoldReference] = field(default_factory=dict)
    # Rollup keys of stored events this import replaces or removes.
    stale_keys: list[RollupKey] = field(default_factory=list)
    # The staged rows' natural keys and references (STAGED_KEYS), chunk by chunk.
    keys: list[pa.Table] = field(default_factory=list)


def run_import(
    session: Session,
    principal: Principal,
    request: ImportRequest,
    *,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> ImportResult:
    """Import one file in the caller's transaction; raises ImportFailed with nothing stored."""
    require(principal, "import.run")
    if request.source not in SOURCES:
        raise ImportFailed(
            request.name, f"unknown source {request.source!r}; use labelstudio or events"
        )
    if not request.path.is_file():
        raise ImportFailed(request.name, "no such file")
    if request.skip_invalid and request.rejects_path is not None:
        check_rejects_path(request.name, request.rejects_path)
    project_id, version_id = _check_project(session, request)
    users = load_users(request.users_path) if request.users_path is not None else {}
    references = _reference_annotators(session, request, users)
    sha256 = file_sha256(request.path)
    lock_imports(session)
    total = max(request.path.stat().st_size, 1)
    context = _Context(
        request=request,
        project_id=project_id,
        guideline_version_id=version_id,
        resolver=IdentityResolver(session, principal),
        rejects=RejectWriter(request.rejects_path if request.skip_invalid else None, request.name),
        now=now or utcnow(),
    )
    savepoint = session.begin_nested()
    try:
        batch = ImportBatch(
            source=request.source,
            file_name=request.name[:500],
            sha256=sha256,
            project_id=project_id,
            imported_by=principal.username,
            status="running",
            summary={},
        )
        session.add(batch)
        session.flush()
        with request.path.open("rb") as stream, context.rejects:
            reader = _reader(stream, request, users, references)
            with staging_table(session):
                if project_id is not None:
                    context.references = pa.array(
                        list_gold_reference_ids(session, project_id=project_id),
                        pa.string(),
                    )
                for chunk in reader.chunks():
                    context.file_format = reader.format
                    _stage_chunk(session, context, chunk)
                    if progress is not None:
                        progress(reader.bytes_read, total)
                result = _finish(session, context, batch, reader.format)
        if request.dry_run:
            savepoint.rollback()
            return _record_dry_run(session, principal, request, result, project_id)
        # Reports read the rollups: bring the rows this import changed up to date with it.
        rollups.refresh(session, also=context.stale_keys)
        audit.record(
            session,
            principal,
            "import.commit",
            batch,
            after={
                "source": request.source,
                "file_name": batch.file_name,
                "sha256": sha256,
                "inserted": batch.n_inserted,
                "duplicate": batch.n_duplicate,
                "rejected": batch.n_rejected,
            },
        )
        savepoint.commit()
        return result
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise


def _check_project(session: Session, request: ImportRequest) -> tuple[int | None, int | None]:
    if request.source == "events":
        if request.project is not None or request.guideline_version is not None:
            raise ImportFailed(
                request.name,
                "the events file names project and guideline_version per row; "
                "--project and --guideline-version are for Label Studio",
            )
        return None, None
    if not request.project:
        raise ImportFailed(request.name, "a Label Studio import needs --project SLUG")
    project = get_project(session, slug=request.project)
    if project is None:
        raise ImportFailed(
            request.name,
            f"project {request.project!r} does not exist; create it with "
            f"`annops project add {request.project} --name NAME`",
            field="project",
        )
    if request.guideline_version is None:
        return project.id, None
    for version in list_guideline_versions(session, project_id=project.id):
        if version.version == request.guideline_version:
            return project.id, version.id
    raise ImportFailed(
        request.name,
        f"project {project.slug!r} has no guideline version {request.guideline_version!r}",
        field="guideline_version",
    )


def _reference_annotators(
    session: Session, request: ImportRequest, users: dict[str, Person]
) -> ReferenceAnnotators:
    """The identities ``--reference-annotator`` names: user ids as they are, e-mails through
    the user list, the people annops knows and their identities."""
    if request.source != "labelstudio" and (request.reference_annotators or request.no_gold):
        raise ImportFailed(
            request.name,
            "--reference-annotator and --no-gold are for Label Studio exports; the events "
            "file marks gold with its is_gold and gold_label columns",
            field="reference_annotator",
        )
    if not request.reference_annotators:
        return ReferenceAnnotators()
    if request.no_gold:
        raise ImportFailed(
            request.name,
            "--no-gold and --reference-annotator contradict each other; use one of them",
            field="reference_annotator",
        )
    references = ReferenceAnnotators()
    for given in request.reference_annotators:
        text = given.strip()
        if text.isdigit():
            references.keys[f"{PLATFORM}:{int(text)}"] = text
        elif "@" in text and len(text) <= 254 and not any(char.isspace() for char in text):
            references.emails[text.lower()] = text
            references.keys[f"email:{text.lower()}"] = text
        else:
            raise ImportFailed(
                request.name,
                "--reference-annotator takes an e-mail or a Label Studio user id",
                field="reference_annotator",
                value=given,
            )
    for key, person in users.items():
        if person.email and person.email.strip().lower() in references.emails:
            references.keys[key] = references.emails[person.email.strip().lower()]
    known = list_annotators_by_email(session, emails=list(references.emails))
    if known:
        given_by_annotator = {
            annotator_id: references.emails[email] for email, annotator_id in known.items()
        }
        for identity in list_identities(session, annotator_ids=list(given_by_annotator)):
            key = f"{identity.platform}:{identity.external_id}"
            references.keys[key] = given_by_annotator[identity.annotator_id]
    return references


def _reader(
    stream: BinaryIO,
    request: ImportRequest,
    users: dict[str, Person],
    references: ReferenceAnnotators,
) -> LabelStudioReader | EventsReader:
    if request.source == "labelstudio":
        return LabelStudioReader(
            stream,
            request.name,
            users=users,
            label_field=request.label_field,
            references=references,
            no_gold=request.no_gold,
        )
    return EventsReader(stream, request.name)


def _stage_chunk(session: Session, context: _Context, chunk: RawChunk) -> None:
    for name, amount in chunk.counts.items():
        context.counts[name] = context.counts.get(name, 0) + amount
    for reference in chunk.gold:
        context.gold[reference.item_id] = reference
    context.rows += len(chunk) + len(chunk.rejects)
    rows, rejects = _check_chunk(session, context, chunk)
    context.rejects.write(rejects)
    context.keys.append(rows.select(STAGED_KEYS))
    stage(session, rows=rows)


def _row(reject: Reject) -> int:
    return reject.row


def _column(chunk: RawChunk, name: str) -> pa.Array:
    values = chunk.columns.get(name)
    if values is None:
        return pa.nulls(len(chunk), pa.string())
    return _to_arrow(values)


def _check_chunk(
    session: Session, context: _Context, chunk: RawChunk
) -> tuple[pa.Table, list[Reject]]:
    """Typed, checked rows of a chunk ready to stage, and the rows refused."""
    size = len(chunk)
    if size == 0:
        if chunk.rejects and not context.request.skip_invalid:
            raise ImportFailed.from_reject(context.request.name, min(chunk.rejects, key=_row))
        return STAGED_SCHEMA.empty_table(), list(chunk.rejects)
    row_numbers = pa.array(chunk.rows, pa.int64())
    problems = Problems(rows=row_numbers)
    now = context.now
    project_ids = _project_ids(session, context, chunk, problems)
    item_id = texts(
        _column(chunk, "item_id"), "item_id", problems, required=True, max_length=MAX_KEY_LENGTH
    )
    external_id = texts(
        _column(chunk, "external_id"),
        "external_id",
        problems,
        required=True,
        max_length=MAX_KEY_LENGTH,
    )
    submitted_at = timestamps(
        _column(chunk, "submitted_at"), "submitted_at", problems, required=True, now=now
    )
    active_seconds = seconds(
        _column(chunk, "active_seconds"), "active_seconds", problems, default=0.0
    )
    skipped = booleans(_column(chunk, "skipped"), "skipped", problems)
    escalated = booleans(_column(chunk, "escalated"), "escalated", problems)
    label = texts(_column(chunk, "label"), "label", problems)
    gold_label = texts(_column(chunk, "gold_label"), "gold_label", problems)
    if "is_gold" in chunk.columns:
        is_gold = booleans(_column(chunk, "is_gold"), "is_gold", problems)
    else:
        is_gold = pc.is_valid(gold_label)
    review_outcome = texts(
        _column(chunk, "review_outcome"), "review_outcome", problems, choices=REVIEW_OUTCOMES
    )
    review_seconds = seconds(_column(chunk, "review_seconds"), "review_seconds", problems)
    reviewed_at = timestamps(_column(chunk, "reviewed_at"), "reviewed_at", problems, now=now)
    source_updated_at = timestamps(
        _column(chunk, "source_updated_at"), "updated_at", problems, now=now
    )
    annotator_keys = _person_keys(_column(chunk, "annotator"), "annotator", problems, required=True)
    reviewer_keys = _person_keys(_column(chunk, "reviewer"), "reviewer", problems, required=False)
    version_ids = _guideline_versions(session, context, chunk, project_ids, submitted_at, problems)
    rejects = sorted([*chunk.rejects, *problems.found.values()], key=_row)
    if rejects and not context.request.skip_invalid:
        # Stop before anyone unknown is created for a file that will not be imported.
        raise ImportFailed.from_reject(context.request.name, rejects[0])
    good = pc.invert(problems.bad_mask(size))
    if context.file_format in ("json_min", "csv") and len(context.references):
        reference = pc.and_(good, pc.is_in(external_id, value_set=context.references))
        context.counts["gold_references"] = context.counts.get("gold_references", 0) + int(
            pc.sum(reference).as_py() or 0
        )
        good = pc.and_(good, pc.invert(reference))
    annotator_ids = _people_ids(context, chunk, pc.filter(annotator_keys, good))
    reviewer_ids = _people_ids(context, chunk, pc.filter(reviewer_keys, good))
    kept = int(pc.sum(good).as_py() or 0)
    first = context.seq
    context.seq += kept
    table = pa.table(
        {
            "seq": pa.array(range(first, first + kept), pa.int64()),
            "row_number": pc.filter(row_numbers, good),
            "project_id": pc.filter(project_ids, good),
            "item_id": pc.filter(item_id, good),
            "annotator_id": annotator_ids,
            "label": pc.filter(label, good),
            "submitted_at": pc.filter(submitted_at, good),
            "active_seconds": pc.filter(active_seconds, good),
            "skipped": pc.filter(skipped, good),
            "escalated": pc.filter(escalated, good),
            "guideline_version_id": pc.filter(version_ids, good),
            "external_id": pc.filter(external_id, good),
            "source_updated_at": pc.filter(source_updated_at, good),
            "is_gold": pc.filter(is_gold, good),
            "gold_label": pc.filter(gold_label, good),
            "reviewer_id": reviewer_ids,
            "review_outcome": pc.filter(review_outcome, good),
            "review_seconds": pc.filter(review_seconds, good),
            "reviewed_at": pc.filter(reviewed_at, good),
            "rereview_request_id": pa.nulls(kept, pa.int32()),
            "replaces": pa.array([False] * kept, pa.bool_()),
        },
        schema=STAGED_SCHEMA,
    )
    return table, rejects


def _project_ids(
    session: Session, context: _Context, chunk: RawChunk, problems: Problems
) -> pa.Array:
    size = len(chunk)
    if context.project_id is not None:
        return pa.array([context.project_id] * size, pa.int32())
    slugs = texts(_column(chunk, "project"), "project", problems, required=True)
    # Slugs with a NUL are already refused and cannot even be looked up on PostgreSQL.
    unseen = [
        slug
        for slug in pc.unique(slugs).to_pylist()
        if slug and "\x00" not in slug and slug not in context.projects
    ]
    if unseen:
        found = list_projects_by_slug(session, slugs=unseen)
        for slug in unseen:
            context.projects[slug] = found.get(slug)
    known = {slug: project_id for slug, project_id in context.projects.items() if project_id}
    unknown = pc.and_(
        pc.is_valid(slugs), pc.invert(pc.is_in(slugs, value_set=pa.array(list(known), pa.string())))
    )
    problems.add_mask(
        unknown, slugs, "project", "no such project; create it with `annops project add`"
    )
    index = pc.index_in(slugs, value_set=pa.array(list(known), pa.string()))
    return pc.take(pa.array(list(known.values()), pa.int32()), index)


def _person_keys(values: pa.Array, name: str, problems: Problems, *, required: bool) -> pa.Array:
    text = texts(values, name, problems, required=required, max_length=MAX_KEY_LENGTH)
    unique = [value for value in pc.unique(text).to_pylist() if value is not None]
    keys = {value: person_key(value) for value in unique}
    bad = [value for value, key in keys.items() if key is None]
    if bad:
        problems.add_mask(
            pc.is_in(text, value_set=pa.array(bad, pa.string())),
            text,
            name,
            "must be an e-mail or platform:id (e.g. labelstudio:12)",
        )
    good = {value: key for value, key in keys.items() if key is not None}
    index = pc.index_in(text, value_set=pa.array(list(good), pa.string()))
    return pc.take(pa.array(list(good.values()), pa.string()), index)


def _people_ids(context: _Context, chunk: RawChunk, keys: pa.Array) -> pa.Array:
    unique = [key for key in pc.unique(keys).to_pylist() if key is not None]
    if not unique:
        return pa.nulls(len(keys), pa.int32())
    ids = context.resolver.resolve(unique, chunk.people)
    index = pc.index_in(keys, value_set=pa.array(unique, pa.string()))
    return pc.take(pa.array([ids[key] for key in unique], pa.int32()), index)


def _guideline_versions(
    session: Session,
    context: _Context,
    chunk: RawChunk,
    project_ids: pa.Array,
    submitted_at: pa.Array,
    problems: Problems,
) -> pa.Array:
    size = len(chunk)
    if context.guideline_version_id is not None:
        return pa.array([context.guideline_version_id] * size, pa.int32())
    named = texts(_column(chunk, "guideline_version"), "guideline_version", problems)
    # Whole columns at a time: a chunk has tens of thousands of rows, a project few versions.
    result = np.full(size, -1, dtype=np.int64)  # -1: no version
    projects = pc.fill_null(project_ids, -1).to_numpy(zero_copy_only=False)
    moments = pc.fill_null(pc.cast(submitted_at, pa.int64()), 0).to_numpy(zero_copy_only=False)
    valid_moment = pc.is_valid(submitted_at).to_numpy(zero_copy_only=False)
    has_name = pc.is_valid(named).to_numpy(zero_copy_only=False)
    for project_id in np.unique(projects[projects >= 0]).tolist():
        effective, ids, by_name = _versions_of(session, context, project_id)
        rows = np.flatnonzero(projects == project_id)
        if len(ids) and rows.size:
            positions = np.searchsorted(effective, moments[rows], side="right") - 1
            found = valid_moment[rows] & (positions >= 0)
            result[rows[found]] = np.asarray(ids, dtype=np.int64)[positions[found]]
        for row in rows[has_name[rows]].tolist():
            name = named[row].as_py()
            if name in by_name:
                result[row] = by_name[name]
            else:
                problems.add(
                    row, "guideline_version", name, "the project has no such guideline version"
                )
    return pa.array(result, pa.int32(), mask=result < 0)


def _versions_of(
    session: Session, context: _Context, project_id: int
) -> tuple[np.ndarray, list[int], dict[str, int]]:
    if project_id not in context.versions:
        versions = list_guideline_versions(session, project_id=project_id)
        effective = np.array(
            [int(version.effective_from.timestamp() * 1_000_000) for version in versions],
            dtype=np.int64,
        )
        context.versions[project_id] = (
            effective,
            [version.id for version in versions],
            {version.version: version.id for version in versions},
        )
    return context.versions[project_id]


# The columns of the staged rows the importer keeps in memory: the natural key, to find
# repeated keys, and what the merge and the summary count (see _staged_rows).
STAGED_KEYS = [
    "seq",
    "project_id",
    "external_id",
    "annotator_id",
    "reviewer_id",
    "guideline_version_id",
    "submitted_at",
]


def _keys_repeat(keys: pa.Table) -> bool:
    """True when some natural key occurs on more than one staged row."""
    if keys.num_rows == 0:
        return False
    if len(pc.unique(keys["project_id"])) == 1:  # the usual file: one project
        return bool(len(pc.unique(keys["external_id"])) < keys.num_rows)
    distinct = keys.group_by(["project_id", "external_id"]).aggregate([])
    return bool(distinct.num_rows < keys.num_rows)


def _reject_repeated(session: Session, context: _Context, keys: pa.Table) -> list[int]:
    """Refuse the staged rows that repeat an earlier row's key; returns their ``seq``."""
    # Most files repeat no key: a hash over the keys in memory says so without a
    # statement over the staging table; only a file that does is searched row by row.
    if not _keys_repeat(keys):
        return []
    repeated = find_repeated_keys(session, limit=None if context.request.skip_invalid else 1)
    if not repeated:
        return []
    rejects = [
        Reject(
            row=key.row_number,
            field="external_id",
            value=key.external_id,
            reason=f"repeats the work of row {key.first_row_number} (same external_id)",
        )
        for key in repeated
    ]
    if not context.request.skip_invalid:
        raise ImportFailed.from_reject(context.request.name, rejects[0])
    context.rejects.write(rejects)
    dropped = [key.seq for key in repeated]
    drop_staged(session, seqs=dropped)
    return dropped


def _staged_keys(context: _Context) -> pa.Table:
    """The STAGED_KEYS columns of every staged row, in one table."""
    keys = pa.concat_tables(context.keys) if context.keys else None
    context.keys = []
    if keys is None:
        return STAGED_SCHEMA.empty_table().select(STAGED_KEYS)
    return keys


def _staged_rows(keys: pa.Table, dropped: list[int]) -> tuple[StagedRows, dict[int, int]]:
    """What the staging table holds once the ``dropped`` rows left it, counted from the
    rows in memory instead of by passes over the table: the merge's StagedRows, and
    annotator id -> rows. The ids and months also cover the dropped rows."""
    references = {
        name: {int(value) for value in pc.unique(keys[name]).to_pylist() if value is not None}
        for name in REFERENCES
    }
    months = {
        moment.date()
        for moment in pc.unique(pc.floor_temporal(keys["submitted_at"], unit="month")).to_pylist()
    }
    kept = keys
    if dropped:
        gone = pc.is_in(keys["seq"], value_set=pa.array(dropped, pa.int64()))
        kept = keys.filter(pc.invert(gone))
    counts = pc.value_counts(kept["annotator_id"]).to_pylist()
    per_annotator = {int(count["values"]): int(count["counts"]) for count in counts}
    return StagedRows(rows=kept.num_rows, references=references, months=months), per_annotator


def _store_gold(session: Session, context: _Context, batch: ImportBatch) -> dict[str, int]:
    """Add or update golden items found in the file; the newest reference wins."""
    if not context.gold or context.project_id is None:
        return {"new": 0, "changed": 0}
    existing = list_gold_items(session, project_id=context.project_id, item_ids=list(context.gold))
    added: list[NewGoldItem] = []
    changed = 0
    for item_id, reference in context.gold.items():
        updated_at = _parse_time(reference.source_updated_at)
        gold = existing.get(item_id)
        if gold is None:
            added.append(
                NewGoldItem(
                    item_id=item_id,
                    gold_label=_printable(reference.gold_label or "") or None,
                    external_id=reference.external_id,
                    set_by=_printable(reference.set_by or "")[:254] or None,
                    source_updated_at=updated_at,
                )
            )
            continue
        older = gold.source_updated_at is None or (
            updated_at is not None and updated_at >= gold.source_updated_at
        )
        if older and (gold.gold_label, gold.external_id) != (
            reference.gold_label,
            reference.external_id,
        ):
            gold.gold_label = _printable(reference.gold_label or "") or None
            gold.external_id = reference.external_id
            gold.set_by = _printable(reference.set_by or "")[:254] or None
            gold.source_updated_at = updated_at
            gold.import_batch_id = batch.id
            changed += 1
        elif gold.external_id == reference.external_id:
            gold.import_batch_id = gold.import_batch_id or batch.id
    session.flush()
    if added:
        add_gold_items(
            session,
            project_id=context.project_id,
            import_batch_id=batch.id,
            items=added,
            created_at=utcnow(),
        )
    return {"new": len(added), "changed": changed}


def _parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo else None


def _finish(
    session: Session, context: _Context, batch: ImportBatch, file_format: str | None
) -> ImportResult:
    request = context.request
    keys = _staged_keys(context)
    dropped = _reject_repeated(session, context, keys)
    staged, per_annotator = _staged_rows(keys, dropped)
    del keys
    gold_stored = {"new": 0, "changed": 0}
    removed_references = 0
    if request.source == "labelstudio":
        gold_stored = _store_gold(session, context, batch)
        apply_known_gold(session)
        assert context.project_id is not None  # a Label Studio import names its project
        context.stale_keys = list_keys_an_import_may_change(
            session, import_batch_id=batch.id, project_id=context.project_id
        )
        removed_references = delete_gold_reference_events(session, import_batch_id=batch.id)
    gold_rows, gold_items = count_staged_gold(session)
    try:
        counts = merge(
            session,
            import_batch_id=batch.id,
            replace_newer=request.source == "labelstudio",
            staged=staged,
        )
    except MissingReference as error:
        # Every id the rows carry was looked up or created by this import; this only
        # happens if something deleted them meanwhile.
        raise ImportFailed(request.name, str(error)) from error
    resolver = context.resolver
    names = _display_names(session, per_annotator)
    gold_references = context.counts.get("gold_references", 0)
    summary = ImportSummary(
        format=file_format,
        tasks=context.counts.get("tasks"),
        skipped=context.counts.get("skipped"),
        golden_items=max(gold_items, len(context.gold)),
        gold_events=gold_rows,
        gold_references=gold_references,
        gold_items_new=gold_stored["new"],
        gold_items_changed=gold_stored["changed"],
        gold_reference_events_removed=removed_references,
        repeated_rows=len(dropped),
        annotators_matched=len(resolver.matched),
        annotators_unlinked=len(resolver.created),
        per_annotator=tuple(
            AnnotatorEvents(annotator=names.get(annotator_id, str(annotator_id)), events=count)
            for annotator_id, count in sorted(
                per_annotator.items(), key=lambda item: (-item[1], names.get(item[0], ""))
            )
        )[:SUMMARY_NAMES],
        unlinked_names=tuple(
            sorted(names.get(resolver.ids[key], key) for key in resolver.created)[:SUMMARY_NAMES]
        ),
        label_field=request.label_field,
        guideline_version=request.guideline_version,
        format_lacks=FLAT_FORMAT_LACKS if file_format in FLAT_FORMAT_NAMES else (),
        reference_annotators=request.reference_annotators,
    )
    batch.status = "dry_run" if request.dry_run else "committed"
    # Reference annotations the reader set aside never reach a chunk's rows; those of
    # golden items already known are recognised later and are counted in them.
    batch.n_rows = context.rows + context.counts.get("reference_rows", 0)
    batch.n_inserted = counts.inserted
    batch.n_updated = counts.updated
    batch.n_duplicate = counts.duplicate
    batch.n_rejected = context.rejects.count
    batch.summary = summary_record(summary)
    batch.finished_at = utcnow()
    session.flush()
    return ImportResult(
        batch_id=batch.id,
        status=batch.status,
        source=batch.source,
        file_name=batch.file_name,
        sha256=batch.sha256,
        rows=batch.n_rows,
        inserted=batch.n_inserted,
        updated=batch.n_updated,
        duplicate=batch.n_duplicate,
        rejected=batch.n_rejected,
        summary=summary,
        rejects_path=request.rejects_path if context.rejects.count else None,
    )


def _display_names(session: Session, per_annotator: dict[int, int]) -> dict[int, str]:
    if not per_annotator:
        return {}
    annotators = list_annotators_by_id(session, annotator_ids=list(per_annotator))
    return {
        annotator.id: annotator.display_name + ("" if annotator.is_linked else " (unlinked)")
        for annotator in annotators
    }


def _record_dry_run(
    session: Session,
    principal: Principal,
    request: ImportRequest,
    result: ImportResult,
    project_id: int | None,
) -> ImportResult:
    batch = ImportBatch(
        source=request.source,
        file_name=request.name[:500],
        sha256=result.sha256,
        project_id=project_id,
        imported_by=principal.username,
        status="dry_run",
        n_rows=result.rows,
        n_inserted=result.inserted,
        n_updated=result.updated,
        n_duplicate=result.duplicate,
        n_rejected=result.rejected,
        summary=summary_record(result.summary),
        finished_at=utcnow(),
    )
    session.add(batch)
    session.flush()
    result.batch_id = batch.id
    return result


def record_failure(
    session: Session, principal: Principal, request: ImportRequest, error: ImportFailed
) -> ImportBatch:
    """A ``failed`` lineage row saying why, written after the import was rolled back."""
    try:
        sha256 = file_sha256(request.path)
    except OSError:
        sha256 = ""
    project = get_project(session, slug=request.project) if request.project else None
    batch = ImportBatch(
        source=request.source[:40],
        file_name=request.name[:500],
        sha256=sha256,
        project_id=project.id if project else None,
        imported_by=principal.username,
        status="failed",
        error=str(error),
        summary={},
        finished_at=utcnow(),
    )
    session.add(batch)
    audit.record(session, principal, "import.failed", batch)
    return batch


def import_file(
    factory: sessionmaker[Session],
    principal: Principal,
    request: ImportRequest,
    *,
    progress: Progress | None = None,
) -> ImportResult:
    """Import in a transaction of its own; a failure is rolled back and then recorded."""
    try:
        with transaction(factory) as session:
            return run_import(session, principal, request, progress=progress)
    except ImportFailed as error:
        with transaction(factory) as session:
            record_failure(session, principal, request, error)
        raise


def iter_rejects(path: Path) -> Iterator[str]:
    """Lines of a rejects file, for showing or downloading."""
    with path.open(encoding="utf-8") as handle:
        yield from handle


__all__ = [
    "TIMESTAMP",
    "AnnotatorEvents",
    "ImportFailed",
    "ImportRequest",
    "ImportResult",
    "ImportSummary",
    "import_file",
    "record_failure",
    "run_import",
    "summary_record",
]
