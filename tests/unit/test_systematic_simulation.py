"""Project-wide drops on simulated projects with fixed seeds, young and with a long history.

Each run is one project of 5-15 annotators, each with their own accuracy (0.85-0.95)
and daily volume (3-20 gold answers a day, a day off now and then). The alert rules
judge the windows that end on the change day and on each of the three days after it,
as the alerts job does when it runs every day. A run raised a systematic alert if any
of those four windows did. The regular suite runs a few dozen projects per case; the
``slow`` versions run enough for the rates to be read to a fraction of a percent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from ops.alerts.rules import (
    QUALITY_RULES,
    AlertSettings,
    Finding,
    ProjectContext,
    find_quality_findings,
    find_systematic_findings,
)

SETTINGS = AlertSettings()
PROJECTS = {1: ProjectContext(1, "simulated", 0.9)}
START = dt.date(2026, 1, 1)
CHANGE = 70  # the day everything changes, as a column of the simulated days
LOOKS = 4  # windows ending on the change day and the three days after it
HISTORY = {"young": False, "long history": True}


@dataclass(frozen=True)
class Project:
    """Gold answers and correct ones: one row per annotator, one column per day."""

    answered: np.ndarray
    correct: np.ndarray


def simulate_project(
    rng: np.random.Generator, *, history: bool, drop: float = 0.0, alone: bool = False
) -> Project:
    """A project; from CHANGE on, everyone (or the first annotator ``alone``) drops."""
    annotators = int(rng.integers(5, 16))
    days = CHANGE + LOOKS
    accuracy = rng.uniform(0.85, 0.95, annotators)
    per_day = rng.uniform(3, 20, annotators)
    working = rng.random((annotators, days)) < 0.9
    answered = rng.poisson(per_day[:, None], (annotators, days)) * working
    # A young project started 5-10 days before the change: no baseline at all.
    first_day = 0 if history else CHANGE - int(rng.integers(5, 11))
    answered[:, :first_day] = 0
    dropping = np.zeros(annotators) if alone else np.ones(annotators)
    if alone:
        dropping[0] = 1
    after = np.arange(days) >= CHANGE
    rate = accuracy[:, None] - drop * dropping[:, None] * after[None, :]
    return Project(answered, rng.binomial(answered, np.clip(rate, 0, 1)))


def window_frames(project: Project, end: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What the engine loads for the window ending on day ``end``: sums and daily rows."""
    start = end - SETTINGS.window_days + 1
    since = max(start - SETTINGS.baseline_days, 0)
    people = np.arange(len(project.answered))

    def sums(first: int, last: int) -> pd.DataFrame:
        answered = project.answered[:, first : last + 1].sum(axis=1)
        # Like the rollups: a row only for someone who worked in the period.
        frame = pd.DataFrame(
            {
                "annotator_id": people,
                "project_id": 1,
                "annotations": answered * 10,
                "active_seconds": answered * 10 * 30.0,
                "gold_answered": answered,
                "gold_correct": project.correct[:, first : last + 1].sum(axis=1),
                "escalations": 0,
            }
        )
        return frame[frame["gold_answered"] > 0]

    annotator, day = np.nonzero(project.answered[:, start : end + 1])
    daily = pd.DataFrame(
        {
            "annotator_id": annotator,
            "project_id": 1,
            "day": [START + dt.timedelta(days=int(d) + start) for d in day],
            "gold_answered": project.answered[annotator, day + start],
            "gold_correct": project.correct[annotator, day + start],
        }
    )
    return sums(start, end), sums(since, start - 1), daily


def first_systematic(project: Project) -> tuple[int, Finding, list[Finding]] | None:
    """Days after the change of the first window with a systematic alert, the alert,
    and the window's individual quality findings; None if no window had one."""
    for delay in range(LOOKS):
        window, baseline, daily = window_frames(project, CHANGE + delay)
        # Individual findings do not change the decision; they are worked out only
        # where there is a systematic alert to hang them under.
        if find_systematic_findings(window, baseline, PROJECTS, [], daily):
            individual = find_quality_findings(window, baseline, PROJECTS)
            [issue] = find_systematic_findings(window, baseline, PROJECTS, individual, daily)
            return delay, issue, individual
    return None


def systematic_share(seed: int, runs: int, **scenario: bool | float) -> float:
    """Share of simulated projects in which a systematic alert was raised."""
    rng = np.random.default_rng(seed)
    raised = sum(
        first_systematic(simulate_project(rng, **scenario)) is not None  # type: ignore[arg-type]
        for _ in range(runs)
    )
    return raised / runs


def check_shared_drops_are_caught(seed: int, runs: int, *, history: bool) -> list[int]:
    """A 0.15 drop of everyone in the project: caught in >= 90% of runs within 3 days,
    as one alert with every individual quality finding under it, naming the change
    day. Returns the delays."""
    rng = np.random.default_rng(seed)
    delays = []
    day_errors = []
    for _ in range(runs):
        project = simulate_project(rng, history=history, drop=0.15)
        found = first_systematic(project)
        if found is None:
            continue
        delay, issue, individual = found
        delays.append(delay)
        assert issue.rule == "systematic_issue" and issue.annotator_id is None
        quality = [f for f in individual if f.rule in QUALITY_RULES]
        assert issue.children == quality
        evidence = issue.evidence
        if evidence["method"] == "change day within the window":
            change = dt.date.fromisoformat(evidence["change_day"])
            day_errors.append(abs((change - START).days - CHANGE))
            assert evidence["accuracy_before"] > evidence["accuracy_after"]
            assert evidence["p_value"] < SETTINGS.systematic_change_p_value
            assert evidence["annotators_dropped"] >= SETTINGS.systematic_min_annotators
    assert len(delays) >= 0.9 * runs, f"caught {len(delays)} of {runs}"
    # The change day named in the evidence is, nearly always, the day it happened.
    assert np.mean(np.array(day_errors) <= 1) >= 0.9, sorted(day_errors)
    return delays


@pytest.mark.parametrize("history", HISTORY.values(), ids=HISTORY.keys())
def test_no_change_rarely_raises_a_systematic_alert(history: bool) -> None:
    assert systematic_share(1 + history, 60, history=history) <= 0.01


@pytest.mark.parametrize("history", HISTORY.values(), ids=HISTORY.keys())
def test_a_shared_drop_is_one_alert_within_three_days(history: bool) -> None:
    check_shared_drops_are_caught(3 + history, 40, history=history)


@pytest.mark.parametrize("history", HISTORY.values(), ids=HISTORY.keys())
def test_one_annotator_dropping_alone_is_not_systematic(history: bool) -> None:
    assert systematic_share(5 + history, 60, history=history, drop=0.3, alone=True) <= 0.01


@pytest.mark.slow
@pytest.mark.parametrize("history", HISTORY.values(), ids=HISTORY.keys())
def test_rates_over_many_projects(history: bool) -> None:
    assert systematic_share(11 + history, 2000, history=history) <= 0.01
    delays = check_shared_drops_are_caught(13 + history, 1000, history=history)
    # Most are caught with a day or two of data after the change.
    assert np.mean(delays) <= 1.5
    assert systematic_share(15 + history, 2000, history=history, drop=0.3, alone=True) <= 0.01
