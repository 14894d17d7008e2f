"""``annops demo``: fill an empty database with the demo story and serve it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from db import migrate
from db.engine import transaction
from ops.cli.dashboard import serve
from ops.cli.output import fail, user_errors
from ops.database import session_factory
from ops.demo import DemoConfig, database_state, load_demo, wipe_demo
from ops.settings import get_settings

DEMO_LOGINS_FILE = Path("annops-demo-logins.txt")
ROLES = ("admin", "ops", "lead", "finance", "annotator")


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
    url = get_settings().database_url
    with user_errors():
        # A size the demo cannot build is refused before the database is touched.
        config = DemoConfig(annotators=annotators, events=events, seed=seed)
        migrate.upgrade(url)
        factory = session_factory(url)
        with factory() as session:
            state = database_state(session)
        if reset and state == "other":
            raise fail(
                "refusing to reset: this database holds data that is not the demo's "
                "(imports or changes made by people). Point ANNOPS_DATABASE_URL at another "
                "database for the demo."
            )
        if reset and state == "demo":
            typer.echo("Removing the existing demo…", err=True)
            with transaction(factory) as session:
                wipe_demo(session)
            state = "empty"
        if state == "empty":
            typer.echo(
                f"Loading the demo: {annotators} annotators, {events:,} events, seed {seed}",
                err=True,
            )
            password = os.environ.get("ANNOPS_DEMO_PASSWORD")
            passwords = dict.fromkeys(ROLES, password) if password else {}
            logins = load_demo(factory, config, progress=_progress, passwords=passwords)
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


def _progress(step: str, done: int, total: int) -> None:
    share = f" ({done / total:.0%})" if total > 1 else ""
    typer.echo(f"  {step}: {done:,} / {total:,}{share}" if total > 1 else f"  {step}…", err=True)


def _print_logins(logins: dict[str, str]) -> None:
    typer.echo("Demo logins (one per role):")
    for username, password in logins.items():
        typer.echo(f"  {username:<10} password: {password}")


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
