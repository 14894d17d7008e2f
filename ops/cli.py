"""The ``annops`` command line: the stable interface scripts and cron jobs call."""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from db import migrate
from ops import demo as demo_module
from ops.auth import create_user as create_user_account
from ops.database import session_factory
from ops.errors import AnnopsError, NotFound
from ops.import_cli import import_app
from ops.money import format_money
from ops.notify.cli import notify_app
from ops.operations_cli import jobs_app, report_app, worker
from ops.permissions import SYSTEM, command_line_principal
from ops.projects import add_project, list_projects
from ops.settings import get_settings

app = typer.Typer(
    help="annops: annotator workforce and operations. Database: ANNOPS_DATABASE_URL "
    "(default sqlite:///annops.db).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
project_app = typer.Typer(help="Create and list projects.", no_args_is_help=True)
app.add_typer(project_app, name="project")
app.add_typer(jobs_app, name="jobs")
app.add_typer(report_app, name="report")
app.add_typer(import_app, name="import")
app.add_typer(notify_app, name="notify")

DEMO_LOGINS_FILE = Path("annops-demo-logins.txt")
# Streamlit serving dashboard/app.py, plus the endpoint that sets the login cookie.
DASHBOARD_SERVER = Path(__file__).resolve().parent.parent / "dashboard" / "server.py"

T = TypeVar("T")


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` to stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can fix into one clear line and a non-zero exit."""
    try:
        yield
    except AnnopsError as error:
        raise fail(str(error)) from None
    except OperationalError as error:
        url = get_settings().database_url
        raise fail(
            f"cannot use the database {url!r}: {error.orig}. "
            "Check ANNOPS_DATABASE_URL and run `annops init-db`."
        ) from None


def _database_url() -> str:
    return get_settings().database_url


def _in_transaction(work: Callable[..., T]) -> T:
    with session_factory()() as session, session.begin():
        return work(session)


@app.command("init-db")
def init_db() -> None:
    """Create or migrate the database to the newest schema."""
    url = _database_url()
    with user_errors():
        migrate.upgrade(url)
    typer.echo(f"database at {_display_url(url)} is at the newest schema")


def _display_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command("create-user")
def create_user(
    name: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="admin, ops, lead, finance or annotator")],
    annotator: Annotated[
        str | None, typer.Option(help="email of the annotator this login belongs to")
    ] = None,
    team: Annotated[str | None, typer.Option(help="team a lead login leads")] = None,
) -> None:
    """Add a login; the password comes from ANNOPS_PASSWORD or a prompt."""
    password = os.environ.get("ANNOPS_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise fail("no password: set ANNOPS_PASSWORD or run in a terminal to be prompted")
        password = getpass.getpass(f"Password for {name}: ")
        if getpass.getpass("Repeat password: ") != password:
            raise fail("the two passwords differ")
    with user_errors():
        username = _in_transaction(
            lambda session: (
                create_user_account(
                    session,
                    command_line_principal(),
                    username=name,
                    role=role,
                    password=password,
                    annotator_email=annotator,
                    team_name=team,
                ).username
            )
        )
    typer.echo(f"created user {username} with role {role}")


@project_app.command("add")
def project_add(
    slug: Annotated[str, typer.Argument(help="short name used by imports, e.g. defect-inspection")],
    name: Annotated[str, typer.Option(help="display name")],
    task_type: Annotated[str, typer.Option(help="e.g. image_classification")] = "classification",
    quality_target: Annotated[float, typer.Option(help="gold accuracy target, 0-1")] = 0.9,
    budget: Annotated[str | None, typer.Option(help="budget in major units, e.g. 25000")] = None,
    currency: Annotated[str, typer.Option(help="ISO currency code")] = "USD",
    complexity: Annotated[str, typer.Option(help="simple, moderate or complex")] = "moderate",
    domain: Annotated[str | None, typer.Option(help="domain, e.g. manufacturing")] = None,
) -> None:
    """Create a project."""
    with user_errors():
        project = _in_transaction(
            lambda session: add_project(
                session,
                SYSTEM,
                slug=slug,
                name=name,
                task_type=task_type,
                quality_target=quality_target,
                budget=budget,
                currency=currency,
                complexity=complexity,
                domain=domain,
            )
        )
    typer.echo(f"created project {project.slug}")


@project_app.command("list")
def project_list(
    format: Annotated[str, typer.Option(help="table or json")] = "table",
) -> None:
    """List projects."""
    if format not in ("table", "json"):
        raise fail(f"unknown format {format!r}; use table or json")
    with user_errors():
        projects = _in_transaction(lambda session: list_projects(session, SYSTEM))
    rows = [
        {
            "slug": project.slug,
            "name": project.name,
            "task_type": project.task_type,
            "quality_target": project.quality_target,
            "budget": format_money(project.budget_minor, project.currency),
            "status": project.status,
        }
        for project in projects
    ]
    if format == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no projects yet: add one with `annops project add SLUG --name NAME`")
        return
    widths = {key: max(len(key), *(len(str(row[key])) for row in rows)) for key in rows[0]}
    typer.echo("  ".join(key.ljust(widths[key]) for key in widths))
    for row in rows:
        typer.echo("  ".join(str(row[key]).ljust(widths[key]) for key in widths))


@app.command()
def agreement(
    file: Annotated[Path, typer.Argument(help="long CSV item_id,annotator_id,label[,gold]")],
    format: Annotated[str, typer.Option(help="text or json")] = "text",
    alpha_level: Annotated[
        str, typer.Option(help="Krippendorff level: nominal, ordinal, interval or ratio")
    ] = "nominal",
    kappa_weights: Annotated[
        str, typer.Option(help="Cohen's kappa weights: none, linear or quadratic")
    ] = "none",
    top_disputed: Annotated[int, typer.Option(help="disputed items to list")] = 10,
) -> None:
    """Pilot analysis: agreement, consensus and gold accuracy of a long ratings CSV."""
    from ops.agreement_report import (
        build_agreement_report,
        format_agreement_report,
        read_agreement_csv,
    )
    from ops.metrics.agreement import ALPHA_LEVELS, KAPPA_WEIGHTS

    if format not in ("text", "json"):
        raise fail(f"unknown format {format!r}; use text or json")
    level = next((choice for choice in ALPHA_LEVELS if choice == alpha_level), None)
    if level is None:
        raise fail(f"unknown --alpha-level {alpha_level!r}; use {', '.join(ALPHA_LEVELS)}")
    weights = next((choice for choice in KAPPA_WEIGHTS if choice == kappa_weights), None)
    if weights is None:
        raise fail(f"unknown --kappa-weights {kappa_weights!r}; use {', '.join(KAPPA_WEIGHTS)}")
    if top_disputed < 0:
        raise fail(f"--top-disputed must be 0 or more, got {top_disputed}")
    try:
        report = build_agreement_report(
            read_agreement_csv(file),
            alpha_level=level,
            kappa_weights=weights,
            top_disputed=top_disputed,
        )
    except FileNotFoundError:
        raise fail(f"{file}: no such file; give the path of a CSV to analyse") from None
    except OSError as error:
        raise fail(f"{file}: cannot read it ({error.strerror or error})") from None
    except ValueError as error:
        raise fail(str(error)) from None
    if format == "json":
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        typer.echo(format_agreement_report(report), nl=False)


def _progress(step: str, done: int, total: int) -> None:
    share = f" ({done / total:.0%})" if total > 1 else ""
    typer.echo(f"  {step}: {done:,} / {total:,}{share}" if total > 1 else f"  {step}…", err=True)


def _print_logins(logins: dict[str, str]) -> None:
    typer.echo("Demo logins (one per role):")
    for username, password in logins.items():
        typer.echo(f"  {username:<10} password: {password}")


@app.command()
def demo(
    annotators: Annotated[int, typer.Option(help="annotators in the pool")] = 60,
    events: Annotated[int, typer.Option(help="annotation events to generate")] = 200_000,
    seed: Annotated[int, typer.Option(help="random seed; same seed, same demo")] = 7,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="load only; don't start")] = False,
    reset: Annotated[
        bool, typer.Option("--reset", help="rebuild an existing demo (never other data)")
    ] = False,
) -> None:
    """Fill an empty database with a realistic demo and open the dashboard."""
    url = _database_url()
    with user_errors():
        migrate.upgrade(url)
        factory = session_factory(url)
        with factory() as session:
            state = demo_module.database_state(session)
        if reset and state == "other":
            raise fail(
                "refusing to reset: this database holds data that is not the demo's "
                "(imports or changes made by people). Point ANNOPS_DATABASE_URL at another "
                "database for the demo."
            )
        if reset and state == "demo":
            typer.echo("Removing the existing demo…", err=True)
            with factory() as session, session.begin():
                demo_module.wipe_demo(session)
            state = "empty"
        if state == "empty":
            config = demo_module.DemoConfig(annotators=annotators, events=events, seed=seed)
            typer.echo(
                f"Loading the demo: {annotators} annotators, {events:,} events, seed {seed}",
                err=True,
            )
            passwords = {}
            if os.environ.get("ANNOPS_DEMO_PASSWORD"):
                passwords = dict.fromkeys(
                    ("admin", "ops", "lead", "finance", "annotator"),
                    os.environ["ANNOPS_DEMO_PASSWORD"],
                )
            logins = demo_module.load_demo(factory, config, progress=_progress, passwords=passwords)
            _save_logins(url, logins)
            _print_logins(logins)
        elif state == "demo":
            typer.echo("The demo is already loaded; nothing added.")
            saved = _load_logins(url)
            if saved:
                _print_logins(saved)
            else:
                typer.echo(
                    "Demo logins were printed when the demo was created. "
                    "Run `annops demo --reset` for new ones."
                )
        else:
            typer.echo(
                "This database already holds data; the demo adds nothing to it. "
                "Log in with your own accounts (`annops create-user`)."
            )
    if not no_serve:
        serve()


def _save_logins(url: str, logins: dict[str, str]) -> None:
    DEMO_LOGINS_FILE.write_text(json.dumps({"database": url, "logins": logins}, indent=2))
    DEMO_LOGINS_FILE.chmod(0o600)


def _load_logins(url: str) -> dict[str, str] | None:
    try:
        saved = json.loads(DEMO_LOGINS_FILE.read_text())
    except (OSError, ValueError):
        return None
    if saved.get("database") != url:
        return None
    logins = saved.get("logins")
    return logins if isinstance(logins, dict) else None


@app.command()
def serve(
    port: Annotated[int | None, typer.Option(help="port (default 8501)")] = None,
) -> None:
    """Start the dashboard."""
    settings = get_settings()
    chosen = port or settings.dashboard_port
    typer.echo(f"Dashboard: http://{settings.dashboard_address}:{chosen}  (Ctrl+C stops it)")
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(DASHBOARD_SERVER),
        "--server.port",
        str(chosen),
        "--server.address",
        settings.dashboard_address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]
    sys.stdout.flush()
    # Become the dashboard process, so stopping `annops serve` stops the dashboard too.
    os.execv(sys.executable, command)


app.command("worker")(worker)


@app.command("alerts")
def alerts_command(
    project: Annotated[str | None, typer.Option(help="project slug")] = None,
    status: Annotated[
        str | None, typer.Option(help="open, acknowledged, resolved or dismissed")
    ] = None,
    rule: Annotated[str | None, typer.Option(help="one rule, e.g. quality_vs_speed")] = None,
    format: Annotated[str, typer.Option(help="table, json or csv")] = "table",
    linked: Annotated[
        bool, typer.Option("--linked", help="also list alerts grouped under a systematic one")
    ] = False,
) -> None:
    """List alerts with rule, subject, window, severity, status and evidence."""
    from ops.alerts import (
        ALERT_EXPORT_FIELDS,
        RULES,
        AlertFilter,
        alert_export_record,
        list_alerts,
    )

    if format not in ("table", "json", "csv"):
        raise fail(f"unknown format {format!r}; use table, json or csv")
    if rule is not None and rule not in RULES:
        raise fail(f"unknown rule {rule!r}; rules: {', '.join(RULES)}")
    with user_errors():
        if project is not None:
            _in_transaction(lambda session: _require_project(session, project))
        rows = _in_transaction(
            lambda session: list_alerts(
                session,
                SYSTEM,
                AlertFilter(
                    project_slug=project, status=status, rule=rule, include_children=linked
                ),
            )
        )
    columns = list(ALERT_EXPORT_FIELDS)
    records = [alert_export_record(row) for row in rows]
    if format == "json":
        typer.echo(json.dumps(records, indent=2))
    elif format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for record in records:
            writer.writerow(record | {"evidence": json.dumps(record["evidence"], sort_keys=True)})
        typer.echo(buffer.getvalue(), nl=False)
    elif not records:
        typer.echo("no alerts match")
    else:
        for record in records:
            typer.echo(
                f"#{record['id']:<5} {record['severity']:<8} {record['status']:<12} "
                f"{record['rule']:<22} {record['project'] or '':<20} {record['subject']:<38} "
                f"{record['window_start']}..{record['window_end']}"
            )


def _require_project(session: Session, slug: str) -> None:
    from db.queries import get_project

    if get_project(session, slug=slug) is None:
        raise NotFound(f"No project {slug!r}; `annops project list` shows the projects.")


if __name__ == "__main__":
    app()
