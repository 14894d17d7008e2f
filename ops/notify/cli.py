"""``annops notify``: send a test message, and send (or print) the digests that are due."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from sqlalchemy.exc import OperationalError

from db.models import utcnow
from ops.database import session_factory
from ops.errors import AnnopsError
from ops.notify.channels import EMAIL
from ops.permissions import SYSTEM
from ops.settings import get_settings

# The sending code is imported by the commands that use it, so that `annops` starts fast.

T = TypeVar("T")

notify_app = typer.Typer(
    help="Notifications: test a channel, send the daily digests.", no_args_is_help=True
)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except AnnopsError as error:
        raise _fail(str(error)) from None
    except OperationalError as error:
        url = get_settings().database_url
        raise _fail(
            f"cannot use the database {url!r}: {error.orig}. "
            "Check ANNOPS_DATABASE_URL and run `annops init-db`."
        ) from None


def _read(work: Callable[..., T]) -> T:
    with session_factory()() as session, session.begin():
        return work(session)


@notify_app.command("test")
def notify_test(
    channel: Annotated[str, typer.Option("--channel", help="email, or a webhook's name")],
    to: Annotated[
        str | None,
        typer.Option("--to", help="address for the email channel (default: ANNOPS_SMTP_SENDER)"),
    ] = None,
) -> None:
    """Send a test message on one channel now; it is kept in the delivery log."""
    from ops.notify.delivery import send_test

    address = to
    if channel == EMAIL and not address:
        address = get_settings().smtp_sender
    with _user_errors():
        outcome = send_test(SYSTEM, channel, address=address)
    if outcome.status != "sent":
        raise _fail(f"the test message on {channel} was not sent: {outcome.error}")
    where = f" to {address}" if channel == EMAIL else ""
    typer.echo(f"sent a test message on {channel}{where} (delivery {outcome.delivery_key})")


@notify_app.command("digest")
def notify_digest(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print what would be sent to whom; send nothing")
    ] = False,
) -> None:
    """Send today's digests that have not gone out yet, whatever the digest hour."""
    from ops.notify.delivery import preview_digests, send_digests

    now = utcnow()
    if dry_run:
        with _user_errors():
            previews = _read(lambda session: preview_digests(session, now=now))
        if not previews:
            typer.echo("no digests due: nobody asked for one, or today's have gone out")
        for preview in previews:
            where = f" <{preview.address}>" if preview.address else ""
            typer.echo(f"== to {preview.recipient} ({preview.role}) on {preview.channel}{where}")
            if preview.message is None:
                typer.echo("(nothing to tell: no digest would be sent)")
            else:
                typer.echo(f"Subject: {preview.message.subject}")
                typer.echo(preview.message.body)
            typer.echo("")
        return
    with _user_errors():
        results = send_digests(session_factory(), now=now)
    if not results:
        typer.echo("no digests due: nobody asked for one, or today's have gone out")
        return
    for result in results:
        error = f": {result.error}" if result.error else ""
        typer.echo(f"{result.recipient} on {result.channel}: {result.status}{error}")
    failed = [result for result in results if result.status not in ("sent", "skipped")]
    if failed:
        raise _fail(
            f"{len(failed)} of {len(results)} digests did not go out; the delivery log on the "
            "Notifications page has each error, and the worker retries those it can"
        )
