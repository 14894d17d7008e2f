"""Uploads: import a file someone uploaded, and show import history and lineage."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from db.queries.imports import list_import_batches
from db.queries.projects import list_projects
from ops.database import session_factory
from ops.importers.pipeline import ImportRequest, ImportResult, Progress, import_file
from ops.permissions import Principal, require

# What each of the pipeline's SOURCES is, in words for people choosing one.
SOURCE_DESCRIPTIONS = {
    "labelstudio": "Label Studio export (JSON, JSON_MIN, CSV)",
    "events": "Canonical events (CSV, Parquet)",
}


@dataclass(frozen=True)
class UploadOutcome:
    """An import of an uploaded file, with the rejects CSV to offer for download."""

    result: ImportResult
    rejects_csv: bytes | None


def list_project_slugs(session: Session, principal: Principal) -> list[str]:
    """Projects an import can target."""
    require(principal, "import.run")
    return [project.slug for project in list_projects(session)]


def import_upload(
    principal: Principal,
    *,
    source: str,
    file_name: str,
    data: bytes,
    project: str | None = None,
    users_data: bytes | None = None,
    guideline_version: str | None = None,
    label_field: str | None = None,
    reference_annotators: str = "",
    no_gold: bool = False,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Callable[[float], object] | None = None,
) -> UploadOutcome:
    """Import an uploaded file (raises ImportFailed with nothing stored).

    ``reference_annotators`` is the e-mails or user ids of the people who set the gold,
    separated by commas or spaces. ``progress`` is told the share of the file read so far,
    from 0 to 1.
    """
    require(principal, "import.run")
    report: Progress | None = None
    if progress is not None:
        callback = progress

        def report(done: int, total: int) -> None:
            callback(min(1.0, done / max(total, 1)))

    with tempfile.TemporaryDirectory(prefix="annops-import-") as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        users_path = None
        if users_data is not None:
            users_path = Path(folder) / "users.json"
            users_path.write_bytes(users_data)
        rejects_path = Path(folder) / "rejects.csv"
        result = import_file(
            session_factory(),
            principal,
            ImportRequest(
                source=source,
                path=path,
                file_name=file_name,
                project=project if source == "labelstudio" else None,
                users_path=users_path,
                guideline_version=guideline_version or None,
                label_field=label_field or None,
                reference_annotators=tuple(split_names(reference_annotators)),
                no_gold=no_gold,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                rejects_path=rejects_path,
            ),
            progress=report,
        )
        rejects = rejects_path.read_bytes() if rejects_path.exists() else None
    result.rejects_path = None
    return UploadOutcome(result=result, rejects_csv=rejects)


def split_names(text: str) -> list[str]:
    """E-mails or ids typed into one field, separated by commas, semicolons or spaces."""
    return [part for part in text.replace(";", ",").replace(",", " ").split() if part]


def format_note(result: ImportResult) -> str | None:
    """What the file's format did not carry, in one sentence, or None."""
    summary = result.summary
    if not summary.format_lacks:
        return None
    return (
        f"A {summary.format} export does not carry "
        + "; ".join(summary.format_lacks)
        + ", so this import has none of them. The full JSON export has them."
    )


def summary_rows(result: ImportResult) -> list[dict[str, object]]:
    """The counts of one import as label/value rows."""
    summary = result.summary
    return [
        {"what": "records in the file", "count": result.rows},
        {"what": "new events", "count": result.inserted},
        {"what": "events replaced by a newer version", "count": result.updated},
        {"what": "already stored (unchanged)", "count": result.duplicate},
        {"what": "rejected rows", "count": result.rejected},
        {"what": "annotators matched", "count": summary.annotators_matched},
        {"what": "new unlinked annotators", "count": summary.annotators_unlinked},
        {"what": "golden items found", "count": summary.golden_items},
        {"what": "events on golden items", "count": summary.gold_events},
        {"what": "gold reference annotations (not work)", "count": summary.gold_references},
        {"what": "skipped annotations", "count": summary.skipped or 0},
    ]


def history(session: Session, principal: Principal, *, limit: int = 200) -> list[dict[str, object]]:
    """Recent imports with their lineage, newest first."""
    require(principal, "import.run")
    return [
        {
            "batch": batch.id,
            "started": batch.started_at.strftime("%Y-%m-%d %H:%M UTC"),
            "status": batch.status,
            "source": batch.source,
            "file": batch.file_name,
            "project": slug or "",
            "by": batch.imported_by or "",
            "records": batch.n_rows,
            "inserted": batch.n_inserted,
            "updated": batch.n_updated,
            "duplicate": batch.n_duplicate,
            "rejected": batch.n_rejected,
            "sha256": batch.sha256[:12],
            "error": batch.error or "",
        }
        for batch, slug in list_import_batches(session, limit=limit)
    ]
