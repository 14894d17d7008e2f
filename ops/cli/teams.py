"""``annops team add|rename|list``: set up teams, which annotators and lead logins belong to."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ops.cli.output import as_system, check_format, echo_rows, plain_cell
from ops.teams import add_team, list_teams, rename_team

app = typer.Typer(help="Add, rename and list teams.", no_args_is_help=True)

COLUMNS = ("name", "people", "leads")


@app.command("add")
def team_add(
    name: Annotated[str, typer.Argument(help="the team's name, e.g. 'Night shift'")],
) -> None:
    """Add a team."""
    team = as_system(add_team, name=name)
    typer.echo(f"created team {team.name}")


@app.command("rename")
def team_rename(
    old: Annotated[str, typer.Argument(help="the team's current name")],
    new: Annotated[str, typer.Argument(help="its new name")],
) -> None:
    """Rename a team."""
    team = as_system(rename_team, old_name=old, new_name=new)
    typer.echo(f"team {old.strip()} is now {team.name}")


@app.command("list")
def team_list(
    format: Annotated[str, typer.Option(help="table or json")] = "table",
) -> None:
    """List teams with their people (not archived) and lead logins."""
    check_format(format, ("table", "json"))
    rows = [
        {"name": team.name, "people": team.people, "leads": list(team.leads)}
        for team in as_system(list_teams)
    ]
    echo_rows(
        rows,
        COLUMNS,
        format,
        empty="no teams yet: add one with `annops team add NAME`",
        cell=_cell,
    )


def _cell(column: str, value: Any) -> str:
    """A table cell; the lead logins as one comma-separated cell."""
    if column == "leads":
        return ", ".join(value)
    return plain_cell(column, value)
