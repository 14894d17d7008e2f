"""What a notification says: plain text, one subject line, and a link into the dashboard.

Text from people and imports (names, feedback) is only ever put into plain text here;
the webhook transport escapes it for Slack, and email goes out as text/plain.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ops.alerts.evidence import AlertEvidence, evidence_rows, format_period
from ops.settings import get_settings

if TYPE_CHECKING:
    from ops.alerts.triage import AlertRow

SUBJECT_LIMIT = 200
SETTINGS_PAGE = "notification_settings"


@dataclass(frozen=True)
class Message:
    """One message before it is addressed: subject, plain-text body, and its main link."""

    subject: str
    body: str
    link: str
    details: dict[str, Any] = field(default_factory=dict)


def page_link(page: str = "", **params: object) -> str:
    """The dashboard address of a page (its file stem) with query parameters."""
    base = get_settings().public_url.rstrip("/")
    query = urllib.parse.urlencode({key: str(value) for key, value in params.items()})
    return f"{base}/{page}" + (f"?{query}" if query else "")


def alert_link(alert_id: int) -> str:
    """The Alerts page opened on one alert."""
    return page_link("alerts", alert=alert_id)


def one_line(text: object, limit: int = SUBJECT_LIMIT) -> str:
    """``text`` on one line, shortened to ``limit`` characters."""
    flat = re.sub(r"\s+", " ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def footer() -> str:
    """The line every message ends with: where to change what you get."""
    return f"Change what you get: {page_link(SETTINGS_PAGE)}"


def alert_notice(row: AlertRow) -> Message:
    """The immediate notice of one alert, from the alert as its recipient may see it."""
    where = row.project or "all projects"
    who = row.annotator or row.project or ""
    subject = one_line(f"[{row.severity}] {row.title}: {who} ({where})")
    link = alert_link(row.id)
    readable = row.readable
    lines = [
        one_line(row.title),
        one_line(readable.sentence, 1000),
        "",
        f"Subject: {one_line(row.subject)}"
        + (f" ({one_line(row.annotator)})" if row.annotator else ""),
        f"Project: {where}",
        f"Severity: {row.severity}, {format_period(row.window_start, row.window_end)}",
    ]
    evidence = describe_evidence(readable)
    if evidence:
        lines.append("Evidence:")
        lines.extend(f"  {line}" for line in evidence)
    lines += ["", f"Open it in annops: {link}", "", footer()]
    return Message(
        subject=subject,
        body="\n".join(lines),
        link=link,
        details={
            "alert": {
                "id": row.id,
                "rule": row.rule,
                "severity": row.severity,
                "title": row.title,
                "project": row.project,
                "subject": row.subject,
                "window_start": row.window_start.isoformat(),
                "window_end": row.window_end.isoformat(),
            }
        },
    )


def describe_evidence(evidence: AlertEvidence | dict[str, Any]) -> list[str]:
    """The alert's figures as ``label: value`` lines, worded as on the Alerts page, then
    the people it names and what to check."""
    if not isinstance(evidence, AlertEvidence):
        evidence = AlertEvidence(
            sentence="",
            rows=evidence_rows(evidence),
            checks=tuple(str(cause) for cause in evidence.get("likely_causes") or []),
        )
    lines = [f"{row.label}: {one_line(row.value, 300)}" for row in evidence.rows]
    if evidence.people or evidence.people_outside:
        names = [one_line(person.name, 80) for person in evidence.people]
        if evidence.people_outside:
            names.append(f"{evidence.people_outside} more outside your team")
        lines.append("People who dropped: " + ", ".join(names))
    if evidence.checks:
        lines.append("Check first: " + "; ".join(one_line(check, 120) for check in evidence.checks))
    return lines
