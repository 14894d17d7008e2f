"""The ``annops`` command line: the stable interface scripts and cron jobs call.

One module per command group, each with its own commands (or its own ``typer.Typer``
for a group with subcommands); ``output`` holds the formats and the one-line errors
they all share. A new group, such as ``annops notify``, is one new module with its
``typer.Typer`` and one ``app.add_typer`` line below.
"""

from __future__ import annotations

import typer

from ops.cli import (
    agreement,
    alerts,
    dashboard,
    database,
    demo,
    imports,
    jobs,
    projects,
    reports,
    teams,
    users,
)
from ops.notify.cli import notify_app

app = typer.Typer(
    help="annops: annotator workforce and operations. Database: ANNOPS_DATABASE_URL "
    "(default sqlite:///annops.db).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# `annops --help` lists the commands in this order, then the groups.
app.command("init-db")(database.init_db)
app.command("create-user")(users.create_user)
app.command("agreement")(agreement.agreement)
app.command("demo")(demo.demo)
app.command("serve")(dashboard.serve)
app.command("worker")(jobs.worker)
app.command("alerts")(alerts.alerts)

app.add_typer(projects.app, name="project")
app.add_typer(teams.app, name="team")
app.add_typer(jobs.app, name="jobs")
app.add_typer(reports.app, name="report")
app.add_typer(imports.app, name="import")
app.add_typer(notify_app, name="notify")
