"""``annops create-user``: add a login."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Annotated

import typer

from ops.auth import create_user as create_user_account
from ops.cli.output import as_system, fail


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
    user = as_system(
        create_user_account,
        username=name,
        role=role,
        password=password,
        annotator_email=annotator,
        team_name=team,
    )
    typer.echo(f"created user {user.username} with role {role}")
