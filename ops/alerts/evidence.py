"""An alert's evidence as a person reads it: one sentence per rule and a small table of
named figures, with money in its currency, rates as percentages, dates as dates and
people by name. The Alerts page and the notifications both read alerts through this
module, so a number reads the same on the page and in an email.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ops.money import format_money

# Evidence keys that say nothing to a reader (internal ids, or figures already in the
# sentence or the alert's header).
QUIET_KEYS = frozenset(
    {
        "window_start",
        "window_end",
        "first_seen",
        "assignment_id",
        "alert_id",
        "currency",
        "likely_causes",
        "dropped_annotator_ids",
        "accuracy_now",  # the older name of accuracy_after, kept in the stored evidence
    }
)

# key -> (label a person would write, how to show the value)
Formatter = Callable[[Any, str], str]


def percent(value: Any, _currency: str = "") -> str:
    """0.1234 -> '12.3%'."""
    return f"{float(value):.1%}"


def points(value: Any, _currency: str = "") -> str:
    """A difference of two rates: 0.081 -> '8.1 percentage points'."""
    return f"{float(value) * 100:.1f} percentage points"


def money(value: Any, currency: str) -> str:
    """Integer minor units -> 'USD 3,507.91'."""
    return format_money(int(value), currency or None)


def count(value: Any, _currency: str = "") -> str:
    """12345 -> '12,345'."""
    return f"{int(value):,}"


def number(value: Any, _currency: str = "") -> str:
    """A plain figure with sensible digits."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


def p_value(value: Any, _currency: str = "") -> str:
    """A p-value as it is, never rounded to 0."""
    value = float(value)
    return "below 0.0001" if value < 0.0001 else f"{value:.2g}"


def seconds(value: Any, _currency: str = "") -> str:
    """Seconds per annotation: 12.34 -> '12.3 s'."""
    return f"{float(value):.1f} s"


def day(value: Any, _currency: str = "") -> str:
    """An ISO date (or a date) -> '3 Nov 2026'."""
    return format_date(value)


def days(value: Any, _currency: str = "") -> str:
    """A count of days."""
    return f"{int(value):,} day" + ("" if int(value) == 1 else "s")


def per_day(value: Any, _currency: str = "") -> str:
    """Annotations a day."""
    return f"{float(value):,.1f} a day"


def times(value: Any, _currency: str = "") -> str:
    """A ratio: 0.42 -> '0.42 ×'."""
    return f"{float(value):.2f} ×"


FIELDS: dict[str, tuple[str, Formatter]] = {
    "gold_accuracy": ("Gold accuracy", percent),
    "ci_low": ("95% interval, low", percent),
    "ci_high": ("95% interval, high", percent),
    "gold_answered": ("Golden items answered", count),
    "gold_correct": ("Golden items right", count),
    "target": ("Target", percent),
    "min_gold": ("Golden items needed for a decision", count),
    "seconds_per_annotation": ("Time per annotation", seconds),
    "project_median_seconds": ("Project median time per annotation", seconds),
    "speed_ratio": ("Time against the project median", times),
    "baseline_gold_answered": ("Golden items answered before", count),
    "baseline_gold_correct": ("Golden items right before", count),
    "baseline_accuracy": ("Gold accuracy before", percent),
    "drop": ("Drop", points),
    "p_value": ("p-value", p_value),
    "p_value_at_day": ("p-value on the change day", p_value),
    "typical_drop": ("Typical person's drop", points),
    "typical_drop_p_value": ("p-value of the typical drop", p_value),
    "repeated_items": ("Repeated items", count),
    "consistent_items": ("Repeated items labeled the same", count),
    "consistency": ("Consistency", percent),
    "annotations": ("Annotations", count),
    "escalations": ("Escalations", count),
    "escalation_rate": ("Escalation rate", percent),
    "project_rate": ("Rest of the project's escalation rate", percent),
    "annotators_dropped": ("People who dropped", count),
    "annotators_measured": ("People measured", count),
    "share_dropped": ("Share who dropped", percent),
    "min_drop": ("Smallest drop that counts", points),
    "accuracy_before": ("Gold accuracy before", percent),
    "accuracy_after": ("Gold accuracy after", percent),
    "gold_answered_before": ("Golden items answered before", count),
    "gold_answered_after": ("Golden items answered after", count),
    "statistic": ("Test statistic", number),
    "change_day": ("Change day", day),
    "candidate_days": ("Days tested", count),
    "method": ("Method", lambda value, _c: str(value)),
    "test": ("Test", lambda value, _c: str(value)),
    "spent_minor": ("Spent", money),
    "budget_minor": ("Budget", money),
    "spent_share": ("Budget spent", percent),
    "done": ("Annotations done", count),
    "volume_target": ("Annotations planned", count),
    "done_share": ("Work done", percent),
    "forecast_at_completion_minor": ("Forecast at completion", money),
    "forecast_over_budget_share": ("Forecast over budget", percent),
    "remaining": ("Annotations remaining", count),
    "per_day": ("Recent throughput", per_day),
    "throughput_days": ("Throughput measured over", days),
    "deadline": ("Deadline", day),
    "days_left": ("Days left", days),
    "days_needed": ("Days needed at this pace", days),
    "projected_finish": ("Projected finish", day),
    "late_by_days": ("Late by", days),
    "needed_per_day": ("Needed to finish in time", per_day),
    "task_type": ("Task type", lambda value, _c: str(value)),
    "best_score": ("Best qualification score", percent),
    "expired": ("Expired training", lambda value, _c: _expired_text(value)),
    "rule": ("Rule", lambda value, _c: str(value).replace("_", " ")),
}


@dataclass(frozen=True)
class EvidenceRow:
    """One figure of an alert's evidence: what it is and its value, both as text."""

    label: str
    value: str


@dataclass(frozen=True)
class PersonRef:
    """A person the evidence names, with the id the Annotator profile opens on."""

    annotator_id: int
    name: str
    email: str | None


@dataclass(frozen=True)
class AlertEvidence:
    """An alert's evidence for a reader: a sentence, the figures, the people it names
    (``people_outside`` more are outside the reader's scope) and what to check."""

    sentence: str
    rows: tuple[EvidenceRow, ...]
    people: tuple[PersonRef, ...] = ()
    people_outside: int = 0
    checks: tuple[str, ...] = ()


def format_date(value: Any) -> str:
    """A date, datetime or ISO text as '3 Nov 2026' (datetimes with the UTC time)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        return f"{value.day} {value:%b %Y %H:%M} UTC"
    if isinstance(value, dt.date):
        return f"{value.day} {value:%b %Y}"
    try:
        return format_date(dt.date.fromisoformat(str(value)[:10]))
    except ValueError:
        return str(value)


def format_period(start: dt.date, end: dt.date) -> str:
    """'3–16 Nov 2026', '28 Oct – 10 Nov 2026' or across years in full."""
    if start == end:
        return format_date(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{format_date(start)} – {format_date(end)}"


def _expired_text(value: Any) -> str:
    if not isinstance(value, list):
        return str(value)
    parts = []
    for item in value:
        if isinstance(item, Mapping):
            parts.append(
                f"{str(item.get('kind', 'training')).replace('_', ' ')}, "
                f"expired {format_date(item.get('expired_on'))}"
            )
        else:
            parts.append(str(item))
    return "; ".join(parts)


def _label(key: str) -> str:
    return key.replace("_minor", "").replace("_", " ").capitalize()


def _generic(value: Any) -> str:
    """Any other evidence value without Python's reprs."""
    if isinstance(value, list):
        return ", ".join(_generic(item) for item in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{_label(str(k)).lower()}: {_generic(v)}" for k, v in value.items())
    return number(value)


def evidence_rows(evidence: Mapping[str, Any]) -> tuple[EvidenceRow, ...]:
    """Every figure of ``evidence`` worth reading, named and formatted, in stored order."""
    currency = str(evidence.get("currency") or "")
    rows = []
    for key, value in evidence.items():
        if key in QUIET_KEYS or value is None:
            continue
        if isinstance(value, float) and math.isnan(value):
            continue
        label, formatter = FIELDS.get(key, (_label(key), lambda v, _c: _generic(v)))
        try:
            text = formatter(value, currency)
        except (TypeError, ValueError):
            text = _generic(value)
        rows.append(EvidenceRow(label, text))
    return tuple(rows)


def _get(evidence: Mapping[str, Any], key: str, formatter: Formatter = number) -> str:
    value = evidence.get(key)
    if value is None:
        return "—"
    try:
        return formatter(value, str(evidence.get("currency") or ""))
    except (TypeError, ValueError):
        return _generic(value)


def _interval(evidence: Mapping[str, Any]) -> str:
    if evidence.get("ci_low") is None or evidence.get("ci_high") is None:
        return ""
    return (
        f" (95% interval {_get(evidence, 'ci_low', percent)}–{_get(evidence, 'ci_high', percent)})"
    )


def alert_sentence(
    rule: str, evidence: Mapping[str, Any], *, who: str, project: str, period: str
) -> str:
    """What the alert says, in one or two plain sentences."""
    e = evidence
    accuracy = (
        f"gold accuracy of {_get(e, 'gold_accuracy', percent)}{_interval(e)} on "
        f"{_get(e, 'gold_answered', count)} golden items"
    )
    if rule == "gold_below_target":
        return (
            f"{who} had a {accuracy} in {project} over {period}, credibly below the "
            f"target of {_get(e, 'target', percent)}."
        )
    if rule == "quality_vs_speed":
        return (
            f"{who} had a {accuracy} in {project} over {period}, credibly below the "
            f"target of {_get(e, 'target', percent)}, while taking "
            f"{_get(e, 'seconds_per_annotation', seconds)} per annotation against the "
            f"project's median of {_get(e, 'project_median_seconds', seconds)}."
        )
    if rule == "drift":
        return (
            f"{who}'s gold accuracy in {project} fell from "
            f"{_get(e, 'baseline_accuracy', percent)} before to "
            f"{_get(e, 'gold_accuracy', percent)} over {period}, a drop of "
            f"{_get(e, 'drop', points)} (p-value {_get(e, 'p_value', p_value)})."
        )
    if rule == "low_consistency":
        return (
            f"{who} gave the same label to {_get(e, 'consistent_items', count)} of "
            f"{_get(e, 'repeated_items', count)} repeated items in {project} "
            f"({_get(e, 'consistency', percent)}{_interval(e)}), below the target of "
            f"{_get(e, 'target', percent)}."
        )
    if rule in ("escalation_low", "escalation_high"):
        meaning = (
            "Escalating far less than others can mean guessing."
            if rule == "escalation_low"
            else "Escalating far more than others can mean the guidelines are unclear to them."
        )
        return (
            f"{who} escalated {_get(e, 'escalations', count)} of "
            f"{_get(e, 'annotations', count)} annotations in {project} over {period} "
            f"({_get(e, 'escalation_rate', percent)}), against "
            f"{_get(e, 'project_rate', percent)} for the rest of the project. {meaning}"
        )
    if rule == "systematic_issue":
        since = f" from {_get(e, 'change_day', day)}" if e.get("change_day") else f" over {period}"
        return (
            f"{_get(e, 'annotators_dropped', count)} of {_get(e, 'annotators_measured', count)} "
            f"people in {project} ({_get(e, 'share_dropped', percent)}) dropped by at least "
            f"{_get(e, 'min_drop', points)}{since}: gold accuracy went from "
            f"{_get(e, 'accuracy_before', percent)} to {_get(e, 'accuracy_after', percent)}. "
            "When many drop at once, look at guidelines, data and tooling before people."
        )
    if rule == "budget_burn":
        volume = (
            f" ({_get(e, 'done', count)} of {_get(e, 'volume_target', count)} annotations)"
            if e.get("done") is not None and e.get("volume_target") is not None
            else ""
        )
        over = (
            f", {_get(e, 'forecast_over_budget_share', percent)} over budget"
            if e.get("forecast_over_budget_share") is not None
            else ""
        )
        return (
            f"{project} has spent {_get(e, 'spent_minor', money)} of its "
            f"{_get(e, 'budget_minor', money)} budget ({_get(e, 'spent_share', percent)}) for "
            f"{_get(e, 'done_share', percent)} of the work{volume}. At the cost so far, "
            f"finishing costs {_get(e, 'forecast_at_completion_minor', money)}{over}."
        )
    if rule == "deadline_risk":
        finish = (
            f"finishes on {_get(e, 'projected_finish', day)}, "
            f"{_get(e, 'late_by_days', days)} after the deadline of {_get(e, 'deadline', day)}"
            if e.get("projected_finish")
            else f"does not finish at all before the deadline of {_get(e, 'deadline', day)}"
        )
        needed = (
            f" Finishing in time needs {_get(e, 'needed_per_day', per_day)}."
            if e.get("needed_per_day") is not None
            else ""
        )
        return (
            f"{project} has {_get(e, 'remaining', count)} annotations left; at "
            f"{_get(e, 'per_day', per_day)} (the last {_get(e, 'throughput_days', days)}) it "
            f"{finish}.{needed}"
        )
    if rule == "training_expired":
        return (
            f"{who} is assigned to {project} with expired training: "
            f"{_get(e, 'expired', lambda v, _c: _expired_text(v))}."
        )
    if rule == "qualification_missing":
        score = (
            f"their best score was {_get(e, 'best_score', percent)}"
            if e.get("best_score") is not None
            else "they have not taken it"
        )
        return (
            f"{who} is assigned to {project} without a passed qualification for "
            f"{_get(e, 'task_type', lambda v, _c: str(v))}: {score}."
        )
    return f"{who or project} over {period}."


def describe_alert(
    *,
    rule: str,
    evidence: Mapping[str, Any],
    who: str | None,
    project: str | None,
    window_start: dt.date,
    window_end: dt.date,
    people: Mapping[int, tuple[str, str | None]],
) -> AlertEvidence:
    """The reader's view of one alert's evidence; ``people`` names the annotators the
    reader may see (id -> name, email), anyone else is only counted."""
    named: list[PersonRef] = []
    outside = 0
    for annotator_id in evidence.get("dropped_annotator_ids") or []:
        found = people.get(int(annotator_id))
        if found is None:
            outside += 1
        else:
            named.append(PersonRef(int(annotator_id), found[0], found[1]))
    return AlertEvidence(
        sentence=alert_sentence(
            rule,
            evidence,
            who=who or "This person",
            project=project or "the project",
            period=format_period(window_start, window_end),
        ),
        rows=evidence_rows(evidence),
        people=tuple(sorted(named, key=lambda person: person.name.lower())),
        people_outside=outside,
        checks=tuple(str(cause) for cause in evidence.get("likely_causes") or []),
    )


def evidence_ids(evidence: Mapping[str, Any]) -> list[int]:
    """The annotators an alert's evidence refers to by id."""
    return [int(value) for value in evidence.get("dropped_annotator_ids") or []]


# Each alert threshold as the editor shows it: a label and what raising it does.
THRESHOLDS: dict[str, tuple[str, str]] = {
    "window_days": ("Window (days)", "Days of work each evaluation looks at."),
    "baseline_days": (
        "Baseline (days)",
        "Days before the window that a person's own earlier accuracy is taken from.",
    ),
    "min_gold": (
        "Golden items needed",
        "No quality decision about a person on fewer golden answers than this.",
    ),
    "confidence": ("Interval confidence", "Confidence of the Wilson intervals, e.g. 0.95."),
    "speed_ratio": (
        "Fast means under this share of the median time",
        "0.6: faster than 60% of the project's median time per annotation counts as fast.",
    ),
    "drift_min_drop": (
        "Smallest drop against own baseline",
        "As a share: 0.05 is 5 percentage points.",
    ),
    "drift_p_value": ("p-value for a drop", "Lower: fewer, surer drift alerts."),
    "consistency_target": (
        "Consistency target",
        "Share of repeated items that should get the same label again.",
    ),
    "min_repeated_items": ("Repeated items needed", "No consistency alert on fewer."),
    "escalation_min_annotations": (
        "Annotations needed for escalation alerts",
        "No escalation alert about a person with fewer annotations in the window.",
    ),
    "escalation_low_ratio": (
        "Escalates too little: under this times the project's rate",
        "0.25: under a quarter of the rest of the project's escalation rate.",
    ),
    "escalation_high_ratio": (
        "Escalates too much: over this times the project's rate",
        "3: over three times the rest of the project's escalation rate.",
    ),
    "escalation_p_value": ("p-value for escalation alerts", "Lower: fewer, surer alerts."),
    "systematic_min_annotators": (
        "People who must drop together",
        "A project alert needs at least this many people dropping at once.",
    ),
    "systematic_min_share": (
        "Share of people who must drop",
        "As a share of the people measured: 0.3 is 30%.",
    ),
    "systematic_min_drop": (
        "Drop that counts for a project alert",
        "As a share: 0.08 is 8 percentage points.",
    ),
    "systematic_min_gold": (
        "Golden items per person in the window",
        "People with fewer are not counted for a project alert.",
    ),
    "systematic_change_p_value": (
        "p-value for a change day",
        "Lower: a project-wide drop must be clearer before it is named.",
    ),
    "systematic_shared_p_value": (
        "p-value for the typical person's drop",
        "Lower: the drop must be shared more widely, not one person falling hard.",
    ),
    "budget_margin": (
        "Spend ahead of progress by",
        "0.15: budget spent share at least 15 points above work done share.",
    ),
    "budget_min_spent": (
        "Budget spent before budget alerts",
        "0.25: no budget alert before a quarter of the budget is spent.",
    ),
    "deadline_throughput_days": (
        "Throughput measured over (days)",
        "Recent days whose pace the deadline forecast assumes.",
    ),
}


def threshold_text(key: str) -> tuple[str, str]:
    """The label and explanation of one alert threshold."""
    return THRESHOLDS.get(key, (key.replace("_", " ").capitalize(), ""))
