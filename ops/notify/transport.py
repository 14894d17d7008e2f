"""Sending one message: email over SMTP, or a signed JSON POST to a webhook.

Both raise DeliveryError with a message for the delivery log; ``permanent`` says that
trying again cannot help (a refused address, a webhook that answers 404).

Webhook requests carry three headers (docs/notifications.md shows a receiver):

- ``X-Annops-Delivery``: the delivery id, the same on every retry of one message;
- ``X-Annops-Timestamp``: Unix seconds when this attempt was made;
- ``X-Annops-Signature``: ``sha256=`` and the hex HMAC-SHA256, under the channel's
  secret, of the timestamp, a dot, and the raw request body.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from ops.settings import Settings

DELIVERY_HEADER = "X-Annops-Delivery"
TIMESTAMP_HEADER = "X-Annops-Timestamp"
SIGNATURE_HEADER = "X-Annops-Signature"
SIGNATURE_PREFIX = "sha256="
# A receiver should refuse signatures older than this (a replayed request).
SIGNATURE_TOLERANCE_SECONDS = 300
USER_AGENT = "annops-notify/1"
# Status codes worth retrying although they are client errors.
RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})


class DeliveryError(Exception):
    """A message did not go out; the text is kept in the delivery log."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class OutgoingMessage:
    """One message as it leaves annops: who, what, and the link into the dashboard."""

    delivery_key: str
    kind: str
    recipient: str
    address: str | None
    subject: str
    body: str
    link: str
    details: dict[str, Any] = field(default_factory=dict)


# --- webhooks ------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance: float = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def slack_escape(text: str) -> str:
    """Text for Slack's ``text`` field: &, < and > escaped, so no name becomes a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_body(message: OutgoingMessage) -> bytes:
    """The JSON document a webhook receives; ``text`` alone is what Slack shows."""
    document = {
        "text": slack_escape(f"{message.subject}\n{message.body}"),
        "delivery_id": message.delivery_key,
        "kind": message.kind,
        "recipient": message.recipient,
        "mention": message.address,
        "subject": message.subject,
        "body": message.body,
        "link": message.link,
        **message.details,
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True).encode()


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is misconfigured; following it would resend the body blindly."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def send_webhook(url: str, secret: str, message: OutgoingMessage, *, timeout: float) -> None:
    """POST the message, signed; any 2xx answer counts as delivered."""
    body = webhook_body(message)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            DELIVERY_HEADER: message.delivery_key,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        },
    )
    opener = urllib.request.build_opener(_RefuseRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read(65536)
    except urllib.error.HTTPError as error:
        code = error.code
        error.close()
        if 300 <= code < 400:
            raise DeliveryError(
                f"webhook answered HTTP {code} (a redirect); annops does not follow "
                "redirects: put the final URL in the channel",
                permanent=True,
            ) from None
        permanent = 400 <= code < 500 and code not in RETRYABLE_CLIENT_ERRORS
        raise DeliveryError(
            f"webhook answered HTTP {code} {error.reason}", permanent=permanent
        ) from None
    except urllib.error.URLError as error:
        raise DeliveryError(f"webhook unreachable: {error.reason}") from None
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryError(f"webhook failed: {type(error).__name__}: {error}") from None


# --- email ---------------------------------------------------------------------------------


def email_message(settings: Settings, message: OutgoingMessage) -> EmailMessage:
    """The plain-text email for ``message``; its Message-ID is the delivery id."""
    email = EmailMessage()
    email["From"] = settings.smtp_sender
    email["To"] = message.address or ""
    email["Subject"] = message.subject
    email["Date"] = formatdate(usegmt=True)
    domain = settings.smtp_sender.rpartition("@")[2] or "annops"
    # Mail systems that see the same Message-ID twice keep one copy.
    email["Message-ID"] = f"<{message.delivery_key}@{domain}>"
    email[DELIVERY_HEADER] = message.delivery_key
    email.set_content(message.body)
    return email


def send_email(settings: Settings, message: OutgoingMessage, *, timeout: float) -> None:
    """Send through the configured SMTP server, with STARTTLS and a login when set."""
    if not settings.smtp_host:
        raise DeliveryError(
            "email is not configured: set ANNOPS_SMTP_HOST (and the other ANNOPS_SMTP_* settings)",
            permanent=True,
        )
    if not message.address:
        raise DeliveryError("no email address for this recipient", permanent=True)
    email = email_message(settings, message)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                smtp.login(settings.smtp_user, password)
            smtp.send_message(email)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _text in error.recipients.values()]
        raise DeliveryError(
            f"the SMTP server refused {message.address}: "
            + "; ".join(f"{code} {_text(text)}" for code, text in error.recipients.values()),
            permanent=all(code >= 500 for code in codes),
        ) from None
    except smtplib.SMTPResponseException as error:
        raise DeliveryError(
            f"the SMTP server answered {error.smtp_code} {_text(error.smtp_error)}",
            permanent=error.smtp_code >= 500,
        ) from None
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(
            f"cannot send email through {settings.smtp_host}:{settings.smtp_port}: "
            f"{type(error).__name__}: {error}"
        ) from None


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply
