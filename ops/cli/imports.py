"""``annops import labelstudio|events``: bring annotation work in from files."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from ops.cli.output import TEXT_FORMATS, TextFormat, check_format, echo_json, user_errors
from ops.database import session_factory
from ops.importers.pipeline import ImportRequest, ImportResult, import_file, summary_record
from ops.permissions import command_line_principal

app = typer.Typer(
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


@app.command("labelstudio")
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
    reference_annotator: Annotated[
        list[str] | None,
        typer.Option(
            help="JSON_MIN and CSV: this person's annotations are the gold references of "
            "their tasks, not work (e-mail or Label Studio user id; repeatable)"
        ),
    ] = None,
    no_gold: Annotated[
        bool,
        typer.Option(
            "--no-gold",
            help="JSON_MIN and CSV: no one's annotations in the export are gold references",
        ),
    ] = False,
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    rejects: Rejects = None,
    format: TextFormat = "text",
) -> None:
    """Import a Label Studio export (JSON recommended; JSON_MIN or CSV)."""
    _import(
        "labelstudio",
        file,
        Options(dry_run, skip_invalid, rejects, format),
        project=project,
        users_path=users,
        guideline_version=guideline_version,
        label_field=label_field,
        reference_annotators=tuple(reference_annotator or ()),
        no_gold=no_gold,
    )


@app.command("events")
def import_events(
    file: Annotated[
        Path, typer.Argument(help="canonical events CSV or Parquet (docs/events-format.md)")
    ],
    dry_run: DryRun = False,
    skip_invalid: SkipInvalid = False,
    rejects: Rejects = None,
    format: TextFormat = "text",
) -> None:
    """Import the canonical events file (CSV or Parquet)."""
    _import("events", file, Options(dry_run, skip_invalid, rejects, format))


@dataclass(frozen=True)
class Options:
    """The options every import shares."""

    dry_run: bool
    skip_invalid: bool
    rejects: Path | None
    format: str


def _import(source: str, file: Path, options: Options, **details: Any) -> None:
    """Import ``file`` from ``source``; ``details`` are the source's own request fields."""
    check_format(options.format, TEXT_FORMATS)
    request = ImportRequest(
        source=source,
        path=file,
        dry_run=options.dry_run,
        skip_invalid=options.skip_invalid,
        rejects_path=options.rejects or file.with_name(f"{file.stem}.rejects.csv"),
        **details,
    )
    with user_errors():
        result = import_file(
            session_factory(), command_line_principal(), request, progress=_Progress()
        )
    _report(result, options.format)


class _Progress:
    """Prints how far the import has read, every tenth of the file, to stderr."""

    def __init__(self) -> None:
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        tenth = min(10, done * 10 // max(total, 1))
        if tenth > self.shown and sys.stderr.isatty():
            self.shown = tenth
            typer.echo(f"  read {tenth * 10}%", err=True)


def _report(result: ImportResult, format: str) -> None:
    if format == "json":
        echo_json(
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
            }
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
    if summary.format_lacks:
        typer.echo(
            f"  not in a {summary.format} export, so not imported: "
            + "; ".join(summary.format_lacks)
            + " (the full JSON export has them)"
        )
    if result.rejects_path is not None:
        typer.echo(f"  rejected rows written to {result.rejects_path}")
    if result.dry_run:
        typer.echo("  dry run: nothing was stored")
