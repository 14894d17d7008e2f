"""Real receivers on loopback for notification tests: an SMTP server and a webhook endpoint."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from db.models import Annotator, Project, Team, User
from tests.factories import make_annotator, make_event, make_project, make_team, make_user

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


class SmtpSink:
    """An SMTP server on loopback that keeps every message it receives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._controller = Controller(self, hostname=LOOPBACK, port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        """The messages addressed to ``address``."""
        return [message for message in self.messages if message["To"] == address]


@dataclass
class Received:
    """One request the webhook receiver got."""

    headers: dict[str, str]
    body: bytes

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class WebhookReceiver:
    """An HTTP endpoint on loopback: answers with the queued status codes, then 200.

    With ``hold`` set, it records a request and waits for ``release`` before answering,
    like a receiver that is slow when the sender dies.
    """

    statuses: list[int] = field(default_factory=list)
    hold: bool = False
    requests: list[Received] = field(default_factory=list)
    got_request: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.requests.append(Received(dict(self.headers.items()), body))
                receiver.got_request.set()
                if receiver.hold:
                    receiver.release.wait(30)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender is gone

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}/hooks/annops"

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# --- a small organisation with a fast but inaccurate annotator ------------------------------


@dataclass
class World:
    """Two teams, a project, a careless fast annotator in team A, and one login per role."""

    project: Project
    team_a: Team
    team_b: Team
    careless: Annotator
    steady: Annotator
    other: Annotator
    users: dict[str, User]


def plant_gold(
    session: Session,
    project: Project,
    annotator: Annotator,
    *,
    now: dt.datetime,
    days: int = 10,
    per_day: int = 5,
    correct_share: float = 1.0,
    seconds: float = 30.0,
) -> None:
    """Gold answers over the ``days`` days before ``now``."""
    for day in range(days):
        when = now - dt.timedelta(days=day + 1)
        correct = round(per_day * correct_share)
        for index in range(per_day):
            make_event(
                session,
                project,
                annotator,
                submitted_at=when + dt.timedelta(minutes=index),
                is_gold=True,
                gold_label="cat",
                label="cat" if index < correct else "dog",
                active_seconds=seconds,
            )


def build_world(session: Session, *, now: dt.datetime, plant: bool = True) -> World:
    """The organisation; with ``plant``, work that makes the careless person's alert fire."""
    team_a = make_team(session, name="Vision")
    team_b = make_team(session, name="Text")
    project = make_project(session, slug="weld-qa", name="Weld QA", quality_target=0.9)
    careless = make_annotator(
        session, team_id=team_a.id, display_name="Rex Turner", email="rex@annotators.example"
    )
    steady = make_annotator(session, team_id=team_a.id, display_name="Ada Steady")
    other = make_annotator(session, team_id=team_b.id, display_name="Bo Other")
    if plant:
        plant_gold(session, project, careless, now=now, correct_share=0.6, seconds=5.0)
        plant_gold(session, project, steady, now=now, correct_share=1.0, seconds=30.0)
        plant_gold(session, project, other, now=now, correct_share=1.0, seconds=28.0)
    users = {
        "admin": make_user(session, username="ada-admin", role="admin"),
        "ops": make_user(session, username="olga", role="ops"),
        "lead_a": make_user(session, username="lee", role="lead", team_name=team_a.name),
        "lead_b": make_user(session, username="lou", role="lead", team_name=team_b.name),
        "finance": make_user(session, username="fin", role="finance"),
        "annotator": make_user(
            session, username="rex", role="annotator", annotator_email=careless.email
        ),
    }
    return World(project, team_a, team_b, careless, steady, other, users)
