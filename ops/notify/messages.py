"""What a notification says: plain text, one subject line, and a link into the dashboard.

Text from people and imports (names, feedback) is only ever put into plain text here;
the webhook transport escapes it for Slack, and email goes out as text/plain.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ops.settings import get_settings

if TYPE_CHECKING:
    from ops.alerts.triage import AlertRow

SUBJECT_LIMIT = 200
# Evidence keys that say nothing to a reader of the notice.
QUIET_EVIDENCE = frozenset({"window_start", "window_end", "first_seen", "assignment_id"})
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
    lines = [
        one_line(row.title),
        f"Subject: {one_line(row.subject)}"
        + (f" ({one_line(row.annotator)})" if row.annotator else ""),
        f"Project: {where}",
        f"Severity: {row.severity}, window {row.window_start} to {row.window_end}",
    ]
    evidence = describe_evidence(row.evidence)
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


def describe_evidence(evidence: dict[str, Any]) -> list[str]:
    """The alert's numbers as ``name: value`` lines, rates as percentages."""
    lines = []
    for key, value in evidence.items():
        if key in QUIET_EVIDENCE or value is None:
            continue
        lines.append(f"{key.replace('_', ' ')}: {_value(key, value)}")
    return lines


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if key in ("target", "gold_accuracy", "ci_low", "ci_high", "baseline_accuracy", "drop"):
            return f"{value:.1%}"
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, list):
        return ", ".join(one_line(item, 80) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={one_line(v, 40)}" for k, v in value.items())
    return one_line(value, 120)
