"""The outbox: record each message, then claim it, send it, and confirm it.

Every message is a row in notification_deliveries before anything leaves annops. Sending
one takes three steps, each committed on its own:

1. claim: the row goes from ``pending`` to ``sending`` (attempts + 1), atomically, so of
   two senders only one gets it;
2. send, outside any transaction (SMTP or the webhook);
3. confirm: ``sent``; or back to ``pending`` with the next attempt set by exponential
   backoff; or ``failed`` when the error is permanent or the attempts are used up.

The guarantee: a message is sent automatically at most once per alert, recipient and
channel (a unique key holds it, and only a claimed row is sent). If the process dies
between claim and confirm, annops cannot know whether the message left; after
CLAIM_LEASE the row becomes ``unconfirmed`` and is not sent again blindly. An admin
may send it again from the delivery log; it keeps its delivery id (the webhook's
``X-Annops-Delivery`` header and the email's Message-ID), so a receiver that already
has it can drop the repeat. A failing channel holds back only its own messages: after a
failure on a channel, the rest of that channel's messages wait for the next run, and
every error stays with its message, so other channels and the alerts job go on.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.models import (
    NotificationChannel,
    NotificationDelivery,
    NotificationPreference,
    User,
    utcnow,
)
from db.queries import notifications as nq
from ops import audit
from ops.alerts import AlertFilter, list_alerts
from ops.auth import principal_for
from ops.database import session_factory
from ops.errors import PermissionDenied, ValidationError
from ops.jobs import worker_identity
from ops.notify import channels
from ops.notify.digests import DigestPeriod, build_digest
from ops.notify.messages import Message, alert_notice, footer, page_link
from ops.notify.transport import DeliveryError, OutgoingMessage, send_email, send_webhook
from ops.permissions import Principal, require
from ops.settings import Settings, get_settings

log = logging.getLogger(__name__)

# A claim older than this whose send was never confirmed belongs to a sender that died.
CLAIM_LEASE = dt.timedelta(minutes=10)
RATE_WINDOW = dt.timedelta(hours=1)
MAX_RETRY_DELAY = dt.timedelta(hours=6)
BATCH_LIMIT = 500
ERROR_LIMIT = 2000
Progress = Callable[[str, float], None]
Subscription = tuple[NotificationPreference, User, NotificationChannel]


@dataclass(frozen=True)
class Outcome:
    """What one attempt at one message came to.

    ``sent``, ``retrying`` (failed, tried again later), ``failed`` (given up), ``held``
    (rate limit), ``waiting`` (its channel failed earlier in this run) or ``taken``
    (not pending any more: another sender has it, or it is done).
    """

    delivery_id: int
    status: str
    error: str | None = None
    delivery_key: str | None = None


@dataclass(frozen=True)
class RunSummary:
    """One notify run: messages recorded, stale claims found, and how sending went."""

    recorded: int
    unconfirmed: int
    outcomes: dict[str, int]

    @property
    def sent(self) -> int:
        return self.outcomes.get("sent", 0)


def retry_delay(attempts: int, settings: Settings) -> dt.timedelta:
    """Wait before the next attempt after ``attempts`` failed ones: doubling, capped."""
    delay = dt.timedelta(seconds=settings.notify_retry_seconds * 2 ** max(attempts - 1, 0))
    return min(delay, MAX_RETRY_DELAY)


# --- recording -----------------------------------------------------------------------------


def record_delivery(
    session: Session,
    *,
    kind: str,
    channel: NotificationChannel,
    recipient: str,
    user_id: int | None,
    address: str | None,
    message: Message,
    now: dt.datetime,
    alert_id: int | None = None,
    digest_day: dt.date | None = None,
    status: str = "pending",
) -> NotificationDelivery:
    """Add a message to the outbox, due now."""
    row = NotificationDelivery(
        delivery_key=uuid.uuid4().hex,
        kind=kind,
        user_id=user_id,
        recipient=recipient,
        channel_id=channel.id,
        address=address,
        alert_id=alert_id,
        digest_day=digest_day,
        subject=message.subject,
        body=message.body,
        link=message.link,
        details=message.details,
        status=status,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def mark_unconfirmed(session: Session, *, now: dt.datetime) -> int:
    """Claims older than the lease and never confirmed: their sender died mid-send."""
    stale = nq.list_stale_claims(session, claimed_before=now - CLAIM_LEASE)
    for row in stale:
        row.status = "unconfirmed"
        row.last_error = (
            f"claimed by {row.claimed_by} at {row.claimed_at:%Y-%m-%d %H:%M:%S} UTC for "
            "sending, never confirmed: the sender stopped, and the message may or may not "
            "have arrived. It is not sent again automatically; 'Send again' resends it with "
            "the same delivery id."
        )
    return len(stale)


def record_alert_notices(session: Session, *, now: dt.datetime) -> int:
    """Notices of new open alerts for everyone who asked for their rule and may see them.

    Visibility is the recipient's own: the alerts are listed as them, so the one scope
    rule in ops decides. An alert reaches a person on a channel once (a unique key).
    """
    subscriptions: dict[int, list[Subscription]] = {}
    for pref, user, channel in nq.list_subscriptions(session, immediate=True):
        subscriptions.setdefault(user.id, []).append((pref, user, channel))
    recorded = 0
    for entries in subscriptions.values():
        user = entries[0][1]
        try:
            with session.begin_nested():
                recorded += _notices_for(session, user, entries, now)
        except Exception:
            # One person's notices never stop everyone else's.
            log.exception("could not record the notices of %s", user.username)
    return recorded


def _notices_for(
    session: Session,
    user: User,
    entries: list[Subscription],
    now: dt.datetime,
) -> int:
    principal = principal_for(user)
    try:
        rows = list_alerts(session, principal, AlertFilter(status="open"))
    except PermissionDenied:
        return 0
    recorded = 0
    for pref, _user, channel in entries:
        if not channels.usable(channel) or pref.immediate_since is None:
            continue
        wanted = [
            row
            for row in rows
            if row.rule in pref.immediate_rules and row.created_at >= pref.immediate_since
        ]
        done = nq.list_notified_alert_ids(
            session,
            user_id=user.id,
            channel_id=channel.id,
            alert_ids=[row.id for row in wanted],
        )
        for row in wanted:
            if row.id in done:
                continue
            record_delivery(
                session,
                kind="alert",
                channel=channel,
                recipient=user.username,
                user_id=user.id,
                address=pref.address,
                message=alert_notice(row),
                now=now,
                alert_id=row.id,
            )
            recorded += 1
    return recorded


@dataclass(frozen=True)
class DigestPreview:
    """A digest that is due: to whom, where, and what it says (None: nothing to tell)."""

    recipient: str
    role: str
    channel: str
    address: str | None
    message: Message | None


def _due_digests(
    session: Session, now: dt.datetime
) -> Iterator[tuple[User, NotificationChannel, str | None, Message | None]]:
    day = now.date()
    for pref, user, channel in nq.list_subscriptions(session, digest=True):
        if not channels.usable(channel):
            continue
        if nq.get_digest(session, user_id=user.id, channel_id=channel.id, day=day) is not None:
            continue
        previous = nq.get_latest_digest(session, user_id=user.id, channel_id=channel.id, before=day)
        since = previous.created_at if previous is not None else now - dt.timedelta(days=1)
        principal = principal_for(user)
        message = build_digest(session, principal, DigestPeriod(since=since, now=now))
        yield user, channel, pref.address, message


def preview_digests(session: Session, *, now: dt.datetime) -> list[DigestPreview]:
    """Today's digests not yet recorded, built but not stored: what would go to whom."""
    return [
        DigestPreview(user.username, user.role, channel.name, address, message)
        for user, channel, address, message in _due_digests(session, now)
    ]


def record_digests(
    session: Session, *, now: dt.datetime, force: bool = False
) -> list[NotificationDelivery]:
    """Record today's digests once the digest hour has come (or now, with ``force``).

    A digest with nothing in it is recorded as ``skipped``, so it is not built again.
    """
    if not force and now.hour < get_settings().notify_digest_hour:
        return []
    recorded = []
    for user, channel, address, message in _due_digests(session, now):
        recorded.append(
            record_delivery(
                session,
                kind="digest",
                channel=channel,
                recipient=user.username,
                user_id=user.id,
                address=address,
                message=message
                or Message("annops digest: nothing new", "Nothing new today.", page_link("")),
                now=now,
                digest_day=now.date(),
                status="pending" if message is not None else "skipped",
            )
        )
    return recorded


# --- sending -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    message: OutgoingMessage
    channel_id: int
    kind: str
    url: str | None
    secret: str | None
    attempts: int
    test: bool


def deliver_one(
    factory: sessionmaker[Session],
    delivery_id: int,
    *,
    now: dt.datetime,
    settings: Settings | None = None,
    worker: str | None = None,
    broken: set[int] | None = None,
) -> Outcome:
    """Claim, send and confirm one pending message; never raises for a failed send."""
    settings = settings or get_settings()
    worker = worker or worker_identity()
    broken = broken if broken is not None else set()
    with transaction(factory) as session:
        prepared = _claim(session, delivery_id, now, settings, worker, broken)
    if isinstance(prepared, Outcome):
        return prepared
    # The claim is committed: from here on a crash leaves the row 'sending', never re-sent.
    try:
        _send(prepared, settings)
    except DeliveryError as error:
        failure: DeliveryError | None = error
    except Exception as error:  # a bug in one channel must not stop the others
        log.exception("sending delivery %s failed unexpectedly", delivery_id)
        failure = DeliveryError(f"{type(error).__name__}: {error}")
    else:
        failure = None
    return _confirm(factory, delivery_id, prepared, failure, now, settings, worker, broken)


def _claim(
    session: Session,
    delivery_id: int,
    now: dt.datetime,
    settings: Settings,
    worker: str,
    broken: set[int],
) -> _Claimed | Outcome:
    row = nq.get_delivery(session, delivery_id=delivery_id)
    if row is None or row.status != "pending":
        return Outcome(delivery_id, "taken")
    if row.channel_id in broken:
        return Outcome(delivery_id, "waiting", delivery_key=row.delivery_key)
    channel = session.get(NotificationChannel, row.channel_id)
    assert channel is not None
    reason = _undeliverable(session, row, channel, settings)
    if reason is not None:
        row.status = "failed"
        row.last_error = reason
        return Outcome(delivery_id, "failed", reason, row.delivery_key)
    if row.kind == "alert" and row.user_id is not None:
        count, oldest = nq.recent_alert_sends(
            session, user_id=row.user_id, channel_id=row.channel_id, since=now - RATE_WINDOW
        )
        if count >= settings.notify_rate_limit_per_hour and oldest is not None:
            row.next_attempt_at = oldest + RATE_WINDOW
            row.last_error = (
                f"held back: {count} notices to {row.recipient} on {channel.name} in the last "
                f"hour reach the limit of {settings.notify_rate_limit_per_hour} "
                "(ANNOPS_NOTIFY_RATE_LIMIT_PER_HOUR)"
            )
            return Outcome(delivery_id, "held", row.last_error, row.delivery_key)
    attempts = row.attempts + 1
    message = OutgoingMessage(
        delivery_key=row.delivery_key,
        kind=row.kind,
        recipient=row.recipient,
        address=row.address,
        subject=row.subject,
        body=row.body,
        link=row.link,
        details=dict(row.details or {}),
    )
    if not nq.claim_delivery(session, delivery_id=delivery_id, now=now, worker=worker):
        return Outcome(delivery_id, "taken")
    return _Claimed(
        message, channel.id, channel.kind, channel.url, channel.secret, attempts, row.kind == "test"
    )


def _undeliverable(
    session: Session, row: NotificationDelivery, channel: NotificationChannel, settings: Settings
) -> str | None:
    if not channel.enabled:
        return f"the channel {channel.name} is turned off"
    if channel.kind == channels.EMAIL and not settings.smtp_host:
        return "email is not configured: set ANNOPS_SMTP_HOST"
    if row.user_id is not None:
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            return f"the account {row.recipient} is not active"
    return None


def _send(claimed: _Claimed, settings: Settings) -> None:
    if claimed.kind == channels.EMAIL:
        send_email(settings, claimed.message, timeout=settings.notify_timeout_seconds)
        return
    assert claimed.url is not None and claimed.secret is not None
    send_webhook(
        claimed.url, claimed.secret, claimed.message, timeout=settings.notify_timeout_seconds
    )


def _confirm(
    factory: sessionmaker[Session],
    delivery_id: int,
    claimed: _Claimed,
    failure: DeliveryError | None,
    now: dt.datetime,
    settings: Settings,
    worker: str,
    broken: set[int],
) -> Outcome:
    key = claimed.message.delivery_key
    if failure is None:
        values: dict[str, object] = {"status": "sent", "sent_at": now, "last_error": None}
        outcome = Outcome(delivery_id, "sent", None, key)
    else:
        error = _error_text(failure, claimed.attempts)
        give_up = (
            failure.permanent or claimed.test or claimed.attempts >= settings.notify_max_attempts
        )
        if give_up:
            values = {"status": "failed", "last_error": error}
            outcome = Outcome(delivery_id, "failed", error, key)
        else:
            values = {
                "status": "pending",
                "last_error": error,
                "next_attempt_at": now + retry_delay(claimed.attempts, settings),
            }
            outcome = Outcome(delivery_id, "retrying", error, key)
        if claimed.kind != channels.EMAIL or not failure.permanent:
            # The channel looks down or wrongly set up (a refused address is the one
            # message's own problem): its other messages wait for the next run.
            broken.add(claimed.channel_id)
    with transaction(factory) as session:
        if not nq.finish_delivery(session, delivery_id=delivery_id, worker=worker, values=values):
            log.warning(
                "delivery %s was no longer claimed by %s when confirmed", delivery_id, worker
            )
    return outcome


def _error_text(error: DeliveryError, attempts: int) -> str:
    kind = "permanent error" if error.permanent else f"attempt {attempts}"
    text = f"{kind}: {error}"
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 1] + "…"


def deliver_due(
    factory: sessionmaker[Session],
    *,
    now: dt.datetime,
    ids: list[int] | None = None,
    settings: Settings | None = None,
    worker: str | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Send every pending message that is due (or only ``ids``); outcome -> count."""
    settings = settings or get_settings()
    worker = worker or worker_identity()
    with transaction(factory) as session:
        due = nq.list_due_delivery_ids(session, now=now, limit=BATCH_LIMIT, ids=ids)
    broken: set[int] = set()
    tally: Counter[str] = Counter()
    for index, delivery_id in enumerate(due):
        if progress is not None:
            progress(f"sending message {index + 1} of {len(due)}", 0.3 + 0.7 * index / len(due))
        outcome = deliver_one(
            factory, delivery_id, now=now, settings=settings, worker=worker, broken=broken
        )
        tally[outcome.status] += 1
    return dict(tally)


def run_notifications(
    factory: sessionmaker[Session], *, now: dt.datetime, progress: Progress | None = None
) -> RunSummary:
    """The notify job: record what is due (notices, digests), then send what is pending."""
    report = progress or (lambda step, fraction: None)
    report("recording new alert notices and due digests", 0.05)
    with transaction(factory) as session:
        unconfirmed = mark_unconfirmed(session, now=now)
        recorded = record_alert_notices(session, now=now)
        recorded += len(record_digests(session, now=now))
    report("sending", 0.3)
    outcomes = deliver_due(factory, now=now, progress=report)
    summary = RunSummary(recorded=recorded, unconfirmed=unconfirmed, outcomes=outcomes)
    log.info(
        "notify: %d recorded, %d unconfirmed claims found, outcomes %s",
        recorded,
        unconfirmed,
        outcomes,
    )
    return summary


@dataclass(frozen=True)
class DigestResult:
    """What became of one digest sent on request."""

    recipient: str
    channel: str
    status: str
    error: str | None


def send_digests(
    factory: sessionmaker[Session], *, now: dt.datetime | None = None
) -> list[DigestResult]:
    """Record today's due digests whatever the hour, and send them at once."""
    now = now or utcnow()
    with transaction(factory) as session:
        names = {channel.id: channel.name for channel in nq.list_channels(session)}
        rows = [
            (row.id, row.recipient, names[row.channel_id], row.status)
            for row in record_digests(session, now=now, force=True)
        ]
    results = []
    broken: set[int] = set()
    for delivery_id, recipient, channel, status in rows:
        if status != "pending":
            results.append(DigestResult(recipient, channel, status, None))
            continue
        outcome = deliver_one(factory, delivery_id, now=now, broken=broken)
        results.append(DigestResult(recipient, channel, outcome.status, outcome.error))
    return results


# --- admin actions -------------------------------------------------------------------------


def make_test_message(channel: str, principal: Principal) -> Message:
    """The text of a test message."""
    return Message(
        subject=f"annops test message on {channel}",
        body="\n".join(
            [
                f"This is a test message from annops, sent by {principal.username} "
                f"on the channel {channel}.",
                "If you can read it, notifications reach you here.",
                "",
                footer(),
            ]
        ),
        link=page_link("notifications"),
        details={"test": True},
    )


def send_test(
    principal: Principal,
    channel: str,
    *,
    address: str | None = None,
    factory: sessionmaker[Session] | None = None,
    now: dt.datetime | None = None,
) -> Outcome:
    """Send a test message on a channel now; recorded in the delivery log and audited."""
    require(principal, "notify.admin")
    factory = factory or session_factory()
    now = now or utcnow()
    with transaction(factory) as session:
        target = channels.get_channel(session, channel)
        if not channels.usable(target):
            raise ValidationError(
                f"The channel {target.name} cannot send: "
                + ("email is not configured." if target.enabled else "it is turned off."),
                field="channel",
            )
        address = (address or "").strip() or None
        if target.kind == channels.EMAIL and not address:
            raise ValidationError("Give an email address to send the test to.", field="address")
        row = record_delivery(
            session,
            kind="test",
            channel=target,
            recipient=principal.username,
            user_id=principal.user_id,
            address=address,
            message=make_test_message(target.name, principal),
            now=now,
        )
        delivery_id, channel_name = row.id, target.name
    outcome = deliver_one(factory, delivery_id, now=now)
    with transaction(factory) as session:
        audit.record(
            session,
            principal,
            "notify.test",
            ("notification_deliveries", delivery_id),
            after={
                "channel": channel_name,
                "address": address,
                "status": outcome.status,
                "error": outcome.error,
            },
        )
    return outcome


def send_again(
    principal: Principal,
    delivery_id: int,
    *,
    factory: sessionmaker[Session] | None = None,
    now: dt.datetime | None = None,
) -> Outcome:
    """An admin resends a failed or unconfirmed message, same delivery id, and it goes now."""
    require(principal, "notify.admin")
    factory = factory or session_factory()
    now = now or utcnow()
    with transaction(factory) as session:
        row = nq.get_delivery(session, delivery_id=delivery_id)
        if row is None:
            raise ValidationError(f"No delivery {delivery_id}.", field="delivery")
        if row.status not in ("failed", "unconfirmed"):
            raise ValidationError(
                f"Delivery {delivery_id} is {row.status}; only failed or unconfirmed "
                "messages are sent again.",
                field="delivery",
            )
        before = {"status": row.status, "attempts": row.attempts, "last_error": row.last_error}
        row.status = "pending"
        row.attempts = 0
        row.next_attempt_at = now
        row.claimed_at = None
        row.claimed_by = None
        audit.record(
            session,
            principal,
            "notify.resend",
            ("notification_deliveries", delivery_id),
            before=before,
            after={"status": "pending", "attempts": 0},
        )
    return deliver_one(factory, delivery_id, now=now)
