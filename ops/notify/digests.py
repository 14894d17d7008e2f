"""Daily digests per role, each built by calling the ops reads as the recipient.

Nothing here decides who may see what: every section asks the same functions the
dashboard asks (``list_alerts``, ``spend_report``, ``list_feedback``, ...) with the
recipient's principal, so the one scope rule in ops decides what a digest holds. A
section a role may not read is not in that role's digest at all.

Extension point: ``ROLE_DIGESTS`` is a role's digest, a tuple of parts in reading order.
A new part is a builder ``(session, principal, period) -> DigestSection | None`` added
to its role's tuple. Pending staffing proposals for ops belong there once annops records
proposals that await a decision (it records decisions only, so there is no such part yet).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ops.alerts import AlertFilter, list_alerts
from ops.alerts.triage import AlertRow
from ops.notify.messages import Message, alert_link, footer, one_line, page_link
from ops.permissions import Principal
from ops.reports import SpendReportRow, spend_report
from ops.workforce.feedback import list_feedback, list_my_feedback
from ops.workforce.profile import list_people
from ops.workforce.training import list_my_training

# Lines listed per section before "and N more".
SECTION_LIMIT = 15
ACTIVE = ("open", "acknowledged")
RISK_RULES = ("deadline_risk", "budget_burn")
# Budgets this far used are called out in the finance digest.
BUDGET_WARNING_SHARE = 0.8


@dataclass(frozen=True)
class DigestPeriod:
    """What counts as new: things that happened from ``since`` up to ``now``."""

    since: dt.datetime
    now: dt.datetime


@dataclass(frozen=True)
class DigestSection:
    """One titled block of a digest, with a link to where it is in the dashboard."""

    title: str
    lines: tuple[str, ...]
    link: str


SectionBuilder = Callable[[Session, Principal, DigestPeriod], DigestSection | None]


@dataclass(frozen=True)
class DigestPart:
    """A section a role's digest may have: its title and how to build it."""

    title: str
    build: SectionBuilder


def _capped(lines: list[str], more_link: str) -> tuple[str, ...]:
    if len(lines) <= SECTION_LIMIT:
        return tuple(lines)
    rest = len(lines) - SECTION_LIMIT
    return (*lines[:SECTION_LIMIT], f"… and {rest} more: {more_link}")


def _alert_line(row: AlertRow) -> str:
    who = row.annotator or row.project or ""
    where = f" in {row.project}" if row.annotator and row.project else ""
    return one_line(
        f"#{row.id} [{row.severity}] {row.title}: {who}{where} ({row.status}) {alert_link(row.id)}",
        300,
    )


# --- ops and admin -------------------------------------------------------------------------


def new_critical_alerts(
    session: Session, principal: Principal, period: DigestPeriod
) -> DigestSection | None:
    """Critical alerts raised since the last digest and not closed yet."""
    rows = list_alerts(session, principal, AlertFilter(severity="critical"))
    new = [row for row in rows if row.status in ACTIVE and row.created_at >= period.since]
    if not new:
        return None
    link = page_link("alerts")
    return DigestSection(
        "New critical alerts", _capped([_alert_line(row) for row in new], link), link
    )


def _risk_line(row: AlertRow) -> str:
    return one_line(f"#{row.id} {row.title}: {row.readable.sentence} {alert_link(row.id)}", 600)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def deadline_and_budget_risks(
    session: Session, principal: Principal, period: DigestPeriod
) -> DigestSection | None:
    """Projects whose deadline or budget is at risk, as long as the alert is open."""
    lines = []
    for rule in RISK_RULES:
        rows = list_alerts(session, principal, AlertFilter(rule=rule))
        lines += [_risk_line(row) for row in rows if row.status in ACTIVE]
    if not lines:
        return None
    link = page_link("alerts")
    return DigestSection("Deadline and budget risks", _capped(lines, link), link)


def delivery_problems(
    session: Session, principal: Principal, period: DigestPeriod
) -> DigestSection | None:
    """Notifications that failed or may not have arrived, since the last digest."""
    from ops.notify.deliveries import DeliveryFilter, list_deliveries

    lines = []
    for status in ("failed", "unconfirmed"):
        for row in list_deliveries(session, principal, DeliveryFilter(status=status)):
            if row.created_at >= period.since:
                lines.append(
                    one_line(
                        f"{row.status}: {row.kind} to {row.recipient} on {row.channel}: "
                        f"{row.last_error or ''}",
                        300,
                    )
                )
    if not lines:
        return None
    link = page_link("notifications")
    return DigestSection("Notification delivery problems", _capped(lines, link), link)


# --- lead ----------------------------------------------------------------------------------


def team_alerts(
    session: Session, principal: Principal, period: DigestPeriod
) -> DigestSection | None:
    """Alerts about the lead's own people: the new ones, and how many are open."""
    rows = [row for row in list_alerts(session, principal) if row.status in ACTIVE]
    if not rows:
        return None
    new = [row for row in rows if row.created_at >= period.since]
    link = page_link("alerts")
    lines = [_alert_line(row) for row in new]
    lines.append(f"{_count(len(rows), 'alert')} about your team open or acknowledged in all.")
    return DigestSection("Your team's alerts", _capped(lines, link), link)


def unacknowledged_feedback(
    session: Session, principal: Principal, period: DigestPeriod
) -> DigestSection | None:
    """Feedback to the lead's people that they have not acknowledged yet."""
    lines = []
    for annotator_id, name in list_people(session, principal):
        notes = list_feedback(session, principal, annotator_id)
        for note in notes[notes["acknowledged"] == ""].to_dict("records"):
            lines.append(
                one_line(
                    f"{name}: {note['category']} feedback of {note['given']} by "
                    f"{note['by'] or 'someone'}, not acknowledged: "
                    f"{one_line(note['feedback'], 80)} "
                    f"{page_link('annotator', annotator=annotator_id)}",
                    300,
                )
            )
    if not lines:
        return None
    link = page_link("pool")
    return DigestSection("Feedback not acknowledged", _capped(lines, link), link)


# --- finance -------------------------------------------------------------------------------


def _money(value: float | None, currency: str) -> str:
    return "—" if value is None else f"{currency} {value:,.2f}"


def _latest_per_project(
    rows: list[SpendReportRow],
) -> dict[tuple[str, str], SpendReportRow]:
    latest: dict[tuple[str, str], SpendReportRow] = {}
    for row in rows:  # months come in order, so the last row is the newest
        latest[(row.project, row.currency)] = row
    return latest


def budget_burn(
    session: Session, principal: Principal, period: DigestPeriod
) -> DigestSection | None:
    """Each project's spend to date against its budget, the most used first."""
    latest = _latest_per_project(spend_report(session, principal))
    budgeted = [row for row in latest.values() if row.budget]
    if not budgeted:
        return None
    budgeted.sort(key=lambda row: -(row.budget_used or 0.0))
    lines = []
    for row in budgeted:
        used = row.budget_used or 0.0
        warning = " (over 80% used)" if used >= BUDGET_WARNING_SHARE else ""
        lines.append(
            f"{row.project}: {_money(row.spend_to_date, row.currency)} of "
            f"{_money(row.budget, row.currency)} spent, {used:.0%}{warning}"
        )
    link = page_link("")
    return DigestSection("Budget burn", _capped(lines, link), link)


def month_to_date_spend(
    session: Session, principal: Principal, period: DigestPeriod
) -> DigestSection | None:
    """This month's spend per project, with what is left of its budget."""
    month = period.now.strftime("%Y-%m")
    rows = [row for row in spend_report(session, principal) if row.month == month]
    if not rows:
        return None
    lines = []
    for row in rows:
        left = (
            f"; {_money(row.budget - row.spend_to_date, row.currency)} of the budget left"
            if row.budget is not None and row.budget
            else "; no budget set"
        )
        per = row.cost_per_annotation
        lines.append(
            f"{row.project}: {_money(row.spend, row.currency)} in {month} for "
            f"{row.annotations:,} annotations"
            + (f" ({row.currency} {per:,.4f} each)" if per is not None else "")
            + left
        )
    link = page_link("")
    return DigestSection("Month-to-date spend against budget", _capped(lines, link), link)


# --- annotator -----------------------------------------------------------------------------


def my_feedback(
    session: Session, principal: Principal, period: DigestPeriod
) -> DigestSection | None:
    """Feedback the annotator received since the last digest, and what is left to read."""
    notes = list_my_feedback(session, principal)
    if not notes:
        return None
    since = period.since.date()
    unread = [note for note in notes if note.acknowledged_on is None]
    new = [note for note in notes if note.given_on >= since]
    lines = [
        one_line(
            f"{note.given_on.isoformat()} {note.category} from {note.author or 'your lead'}: "
            f"{one_line(note.text, 160)}",
            300,
        )
        for note in new
    ]
    if unread:
        lines.append(f"{_count(len(unread), 'feedback note')} waiting for you to acknowledge.")
    if not lines:
        return None
    link = page_link("")
    return DigestSection("Feedback for you", _capped(lines, link), link)


def my_training(
    session: Session, principal: Principal, period: DigestPeriod
) -> DigestSection | None:
    """The annotator's trainings that expired, are due within 30 days, or are missing."""
    rows = list_my_training(session, principal, now=period.now)
    if rows.empty:
        return None
    lines = [
        one_line(
            f"{row['status']}: {row['kind']} {row['topic']}"
            + (f" ({row['project']})" if row["project"] else "")
            + (f", expires {row['expires']}" if row["expires"] else ""),
            300,
        )
        for row in rows.to_dict("records")
    ]
    link = page_link("")
    return DigestSection("Training coming due", _capped(lines, link), link)


# --- the digests ---------------------------------------------------------------------------

NEW_CRITICAL = DigestPart("New critical alerts", new_critical_alerts)
RISKS = DigestPart("Deadline and budget risks", deadline_and_budget_risks)

ROLE_DIGESTS: dict[str, tuple[DigestPart, ...]] = {
    "admin": (
        NEW_CRITICAL,
        RISKS,
        DigestPart("Notification delivery problems", delivery_problems),
    ),
    # Pending staffing proposals join here once annops records them (see the docstring).
    "ops": (NEW_CRITICAL, RISKS),
    "lead": (
        DigestPart("Your team's alerts", team_alerts),
        DigestPart("Feedback not acknowledged", unacknowledged_feedback),
    ),
    "finance": (
        DigestPart("Budget burn", budget_burn),
        DigestPart("Month-to-date spend against budget", month_to_date_spend),
    ),
    "annotator": (
        DigestPart("Feedback for you", my_feedback),
        DigestPart("Training coming due", my_training),
    ),
}


def section_titles(principal: Principal) -> tuple[str, ...]:
    """What the principal's digest can hold, for their settings page."""
    return tuple(part.title for part in ROLE_DIGESTS.get(principal.role, ()))


def build_digest(session: Session, principal: Principal, period: DigestPeriod) -> Message | None:
    """The principal's digest for the period; None when there is nothing to tell."""
    sections = [
        section
        for part in ROLE_DIGESTS.get(principal.role, ())
        if (section := part.build(session, principal, period)) is not None
    ]
    if not sections:
        return None
    day = period.now.date().isoformat()
    lines = [
        f"Your annops digest for {day}, {principal.username} ({principal.role}): "
        f"what is new since {period.since:%Y-%m-%d %H:%M} UTC.",
    ]
    for section in sections:
        lines += ["", section.title, "-" * len(section.title), *section.lines]
    lines += ["", f"Open annops: {page_link('')}", "", footer()]
    subject = one_line(
        f"annops digest {day}: " + ", ".join(section.title.lower() for section in sections)
    )
    return Message(
        subject=subject,
        body="\n".join(lines),
        link=page_link(""),
        details={"digest": {"day": day, "sections": [section.title for section in sections]}},
    )
