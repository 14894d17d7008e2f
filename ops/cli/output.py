"""What every ``annops`` command shares: output formats, one-line errors, one transaction.

Rows go out as a table, JSON or CSV from here and nowhere else, and an error a user
can fix becomes one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session

from db.engine import transaction
from db.migrate import MigrationRefused
from ops.database import describe_outage, session_factory
from ops.errors import AnnopsError
from ops.exports import rows_csv
from ops.permissions import command_line_principal

T = TypeVar("T")
Row = Mapping[str, Any]

ROW_FORMATS = ("table", "json", "csv")
TEXT_FORMATS = ("text", "json")

RowFormat = Annotated[str, typer.Option(help="table, json or csv")]
TextFormat = Annotated[str, typer.Option(help="text or json")]


def fail(message: str) -> typer.Exit:
    """Print ``message`` to stderr as one line; returns the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can fix into one clear line and a non-zero exit."""
    try:
        yield
    except (AnnopsError, MigrationRefused) as error:
        raise fail(str(error)) from None
    except ArgumentError as error:
        # Raised when an engine is made from a URL SQLAlchemy cannot parse or has no driver for.
        raise fail(
            f"ANNOPS_DATABASE_URL is not a database URL annops can use ({error}); "
            "use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/NAME"
        ) from None
    except DBAPIError as error:
        message = describe_outage(error, show_url=True)
        if message is None:
            raise
        if not error.connection_invalidated:
            message += "; check ANNOPS_DATABASE_URL and run `annops init-db`"
        raise fail(message) from None


def in_transaction(work: Callable[[Session], T]) -> T:
    """``work(session)`` in a transaction of its own; errors a user can fix as one line."""
    with user_errors(), transaction(session_factory()) as session:
        return work(session)


def as_system(action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """One ops ``action(session, principal, ...)`` in a transaction of its own, as the
    command line's principal: full rights, audited under the operating-system account."""
    principal = command_line_principal()
    return in_transaction(lambda session: action(session, principal, *args, **kwargs))


def echo_freshness() -> None:
    """One line on stderr: when the rollups a report read were refreshed, what they lack."""
    from ops.freshness import get_freshness

    typer.echo(in_transaction(get_freshness).describe(), err=True)


def check_format(format: str, choices: Sequence[str] = ROW_FORMATS) -> None:
    """Refuse a ``--format`` outside ``choices`` with the list of the ones there are."""
    if format not in choices:
        listed = f"{', '.join(choices[:-1])} or {choices[-1]}"
        raise fail(f"unknown format {format!r}; use {listed}")


def echo_json(value: object, *, ascii_only: bool = True) -> None:
    """``value`` as indented JSON."""
    typer.echo(json.dumps(value, indent=2, ensure_ascii=ascii_only))


def echo_csv(rows: Sequence[Row], columns: Sequence[str]) -> None:
    """A header and one line per row; a nested value (a dict or list) is written as JSON;
    formulas neutralised."""
    text = rows_csv(
        (
            {
                column: json.dumps(row[column], sort_keys=True)
                if isinstance(row[column], dict | list)
                else row[column]
                for column in columns
            }
            for row in rows
        ),
        columns,
        lineterminator="\n",
    )
    typer.echo(text, nl=False)


def plain_cell(_column: str, value: Any) -> str:
    """A table cell as ``str`` writes it."""
    return str(value)


def echo_table(
    rows: Sequence[Row], columns: Sequence[str], *, cell: Callable[[str, Any], str] = plain_cell
) -> None:
    """A header and aligned columns, two spaces apart."""
    cells = [[cell(column, row[column]) for column in columns] for row in rows]
    widths = [
        max(len(column), *(len(line[index]) for line in cells))
        for index, column in enumerate(columns)
    ]
    for line in [list(columns), *cells]:
        typer.echo(
            "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        )


def echo_rows(
    rows: Sequence[Row],
    columns: Sequence[str],
    format: str,
    *,
    empty: str,
    cell: Callable[[str, Any], str] = plain_cell,
    line: Callable[[Row], str] | None = None,
) -> None:
    """``rows`` in ``format``: JSON, CSV, or a table (``empty`` when there are none).

    The table is aligned columns made of ``cell(column, value)``, or one ``line(row)``
    per row for a command that lays its rows out itself.
    """
    if format == "json":
        echo_json(list(rows))
    elif format == "csv":
        echo_csv(rows, columns)
    elif not rows:
        typer.echo(empty)
    elif line is not None:
        for row in rows:
            typer.echo(line(row))
    else:
        echo_table(rows, columns, cell=cell)
