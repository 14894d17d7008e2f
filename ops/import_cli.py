"""``annops import labelstudio|events``: bring annotation work in from files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError

from ops.database import session_factory
from ops.errors import AnnopsError
from ops.importers.pipeline import ImportRequest, ImportResult, import_file, summary_record
from ops.permissions import SYSTEM
from ops.settings import get_settings

import_app = typer.Typer(
    help="Import annotation work: Label Studio exports or the canonical events file.",
    no_args_is_help=True,
)

DryRun = Annotated[
    bool, typer.Option("--dry-run", help="check and count everything, then store nothing")
]
SkipInvalid = Annotated[
    bool,
    typer.Option(
        "--skip-invalid",
        help="import the valid rows and write the others to a rejects CSV "
        "(default: any bad row stops the import and nothing is stored)",
    ),
]
Rejects = Annotated[
    Path | None,
    typer.Option(help="where --skip-invalid writes rejected rows (default: FILE.rejects.csv)"),
]
Format = Annotated[str, typer.Option(help="text or json")]


def _rejects_path(file: Path, rejects: Path | None) -> Path:
    return rejects or file.with_name(f"{file.stem}.rejects.csv")


class _Progress:
    """Prints how far the import has read, every tenth of the file, to stderr."""

    def __init__(self) -> None:
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        tenth = min(10, done * 10 // max(total, 1))
        if tenth > self.shown and sys.stderr.isatty():
            self.shown = tenth
            typer.echo(f"  read {tenth * 10}%", err=True)


def _run(request: ImportRequest, output: str) -> None:
    if output not in ("text", "json"):
        typer.echo(f"error: unknown format {output!r}; use text or json", err=True)
        raise typer.Exit(1)
    try:
        result = import_file(session_factory(), SYSTEM, request, progress=_Progress())
    except AnnopsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    except OperationalError as error:
        typer.echo(
            f"error: cannot use the database: {error.orig}. Check ANNOPS_DATABASE_URL "
            f"({get_settings().database_url!r}) and run `annops init-db`.",
            err=True,
        )
        raise typer.Exit(1) from None
    _report(result, output)


def _report(result: ImportResult, output: str) -> None:
    if output == "json":
        typer.echo(
            json.dumps(
                {
                    "batch_id": result.batch_id,
                    "status": result.status,
                    "source": result.source,
                    "file_name": result.file_name,
                    "sha256": result.sha256,
                    "rows": result.rows,
                    "inserted": result.inserted,
                    "updated": result.updated,
                    "duplicate": result.duplicate,
                    "rejected": result.rejected,
                    "rejects_file": str(result.rejects_path) if result.rejects_path else None,
                    "summary": summary_record(result.summary),
                },
                indent=2,
            )
        )
        return
    summary = result.summary
    verb = "would import" if result.dry_run else "imported"
    typer.echo(
        f"{result.file_name}: {verb} {result.inserted:,} new events, "
        f"{result.updated:,} updated, {result.duplicate:,} already stored, "
        f"{result.rejected:,} rejected (of {result.rows:,} records; batch {result.batch_id})"
    )
    typer.echo(
        f"  annotators: {summary.annotators_matched} matched, "
        f"{summary.annotators_unlinked} new and unlinked"
        + (" (link them on the Unlinked identities page)" if summary.annotators_unlinked else "")
    )
    if summary.golden_items or summary.gold_references:
        typer.echo(
            f"  golden items: {summary.golden_items}, "
            f"{summary.gold_events} events on them; "
            f"{summary.gold_references} reference annotations not counted as work"
        )
    if summary.skipped:
        typer.echo(f"  skipped annotations: {summary.skipped}")
    if result.rejects_path is not None:
        typer.echo(f"  rejected rows written to {result.rejects_path}")
    if result.dry_run:
        typer.echo("  dry run: nothing was stored")


@import_app.command("labelstudio")
def import_labelstudio(
    file: Annotated[Path, typer.Argument(help="Label Studio export: JSON, JSON_MIN or CSV")],
    project: Annotated[str, typer.Option(help="slug of the annops project the work belongs to")],
    users: Annotated[
        Path | None, typer.Option(help="the platform's user list (GET /api/users) as JSON")
    ] = None,
    guideline_version: Annotated[
        str | None,
        typer.Option(help="guideline version for all the work (default: the one in effect)"),
    ] = None,
    label_field: Annotated[
        str | None,
        typer.Option(
            help="the control (from_name) whose value is the label, e.g. defect; "
            "needed for CSV and for JSON_MIN with several controls"
        ),
    ] = None,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    rejects: Rejects = None,
    format: Format = "text",
) -> None:
    """Import a Label Studio export (JSON, JSON_MIN or CSV)."""
    _run(
        ImportRequest(
            source="labelstudio",
            path=file,
            project=project,
            users_path=users,
            guideline_version=guideline_version,
            label_field=label_field,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            rejects_path=_rejects_path(file, rejects),
        ),
        format,
    )


@import_app.command("events")
def import_events(
    file: Annotated[
        Path, typer.Argument(help="canonical events CSV or Parquet (docs/events-format.md)")
    ],
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    rejects: Rejects = None,
    format: Format = "text",
) -> None:
    """Import the canonical events file (CSV or Parquet)."""
    _run(
        ImportRequest(
            source="events",
            path=file,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            rejects_path=_rejects_path(file, rejects),
        ),
        format,
    )
