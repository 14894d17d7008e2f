"""``annops project add|list``: create and list projects."""

from __future__ import annotations

from typing import Annotated

import typer

from ops.cli.output import as_system, check_format, echo_rows
from ops.money import format_money
from ops.projects import add_project, list_projects

app = typer.Typer(help="Create and list projects.", no_args_is_help=True)

COLUMNS = ("slug", "name", "task_type", "quality_target", "budget", "status")


@app.command("add")
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
    project = as_system(
        add_project,
        slug=slug,
        name=name,
        task_type=task_type,
        quality_target=quality_target,
        budget=budget,
        currency=currency,
        complexity=complexity,
        domain=domain,
    )
    typer.echo(f"created project {project.slug}")


@app.command("list")
def project_list(
    format: Annotated[str, typer.Option(help="table or json")] = "table",
) -> None:
    """List projects."""
    check_format(format, ("table", "json"))
    rows = [
        {
            "slug": project.slug,
            "name": project.name,
            "task_type": project.task_type,
            "quality_target": project.quality_target,
            "budget": format_money(project.budget_minor, project.currency),
            "status": project.status,
        }
        for project in as_system(list_projects)
    ]
    echo_rows(
        rows,
        COLUMNS,
        format,
        empty="no projects yet: add one with `annops project add SLUG --name NAME`",
    )
