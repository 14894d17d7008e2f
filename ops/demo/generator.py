"""Synthetic annotation events for the demo story, vectorised with numpy, in chunks.

Memory stays bounded at any size: events are made EVENT_CHUNK rows at a time, and
each chunk is written before the next is made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ops.demo.story import PROJECTS, STORY_CAST, DemoConfig, Person, ProjectSpec

EVENT_CHUNK = 100_000
# A project's item pool; beyond it the same items are labeled more often.
MAX_ITEMS = 1_000_000
# However large the pool, a project's core team (its first people and the story cast)
# does at least CORE_SHARE of its work, as in real operations. The stories need enough
# golden items per person in an alert window, at 50,000 annotators as at 60.
CORE_TEAM = 16
CORE_SHARE = 0.5
# A missing value inside object arrays; written to the database as NULL.
NO_VALUE = np.array(None, dtype=object)


@dataclass(frozen=True)
class EventTarget:
    """Where one project's events go: its ids in the database."""

    project_id: int
    import_batch_id: int
    # (guideline version id, in effect from) of each version, the first one first.
    guideline_versions: tuple[tuple[int, dt.datetime], ...]


def project_event_counts(events: int) -> list[int]:
    """Events per project in PROJECTS order, by each project's share; they add up to ``events``."""
    shares = np.array([spec.share for spec in PROJECTS])
    counts = np.floor(shares / shares.sum() * events).astype(int)
    counts[0] += events - counts.sum()
    return [int(count) for count in counts]


def work_weights(workers: list[Person]) -> np.ndarray:
    """Each worker's probability of doing a project's next item."""
    weights = np.array([person.profile.productivity for person in workers], dtype=float)
    core = np.array(
        [index < CORE_TEAM or person.key in STORY_CAST for index, person in enumerate(workers)]
    )
    core_total, rest_total = weights[core].sum(), weights[~core].sum()
    rest_cap = core_total * (1 - CORE_SHARE) / CORE_SHARE
    if rest_total > rest_cap:
        weights[~core] *= rest_cap / rest_total
    probabilities: np.ndarray = weights / weights.sum()
    return probabilities


def event_frames(
    config: DemoConfig,
    people: list[Person],
    targets: dict[str, EventTarget],
    rng: np.random.Generator,
) -> Iterator[tuple[str, pd.DataFrame]]:
    """(project slug, events) project by project, in chunks of at most EVENT_CHUNK rows."""
    external = 0
    for spec, count in zip(PROJECTS, project_event_counts(config.events), strict=True):
        workers = [person for person in people if spec.slug in person.profile.projects]
        if not workers:
            continue
        reviewers = [person for person in workers if person.profile.tier != "annotator"]
        # A fixed item pool per project: several people label the same items (agreement),
        # and some of them (one in ten, as a rule) are hidden golden items.
        n_items = min(MAX_ITEMS, max(200, count // 2))
        item_truth = rng.integers(0, len(spec.labels), size=n_items)
        if spec.slug == "defect-inspection":
            item_truth = rng.choice(3, size=n_items, p=[0.2, 0.35, 0.45])
        pool = _ItemPool(item_truth, n_gold=max(30, int(n_items * spec.gold_share)))
        crew = _Crew(workers, reviewers)
        remaining = count
        while remaining > 0:
            size = min(EVENT_CHUNK, remaining)
            yield (
                spec.slug,
                _event_chunk(config, spec, size, external, crew, pool, targets[spec.slug], rng),
            )
            external += size
            remaining -= size


@dataclass(frozen=True)
class _ItemPool:
    truth: np.ndarray  # true label index per item
    n_gold: int  # items [0, n_gold) are golden


class _Crew:
    """A project's workers as arrays, computed once for all of its chunks."""

    def __init__(self, workers: list[Person], reviewers: list[Person]) -> None:
        self.workers = workers
        self.weights = work_weights(workers)
        self.accuracy = np.array([person.profile.accuracy for person in workers])
        self.speed = np.array([person.profile.speed for person in workers])
        self.ids = np.array([person.id for person in workers])
        self.generalist = np.array(
            ["defect-inspection" not in person.profile.skills for person in workers]
        )
        # Amara had read the draft of the sentiment guideline v2 and kept her accuracy.
        self.steady = np.array(
            [index % 4 == 0 or person.key == "amara" for index, person in enumerate(workers)]
        )
        self.has_reviewers = bool(reviewers)
        self.reviewer_ids = np.array([person.id for person in reviewers] or [0])


def _event_chunk(
    config: DemoConfig,
    spec: ProjectSpec,
    size: int,
    first_external: int,
    crew: _Crew,
    pool: _ItemPool,
    target: EventTarget,
    rng: np.random.Generator,
) -> pd.DataFrame:
    labels = np.array(spec.labels, dtype=object)
    who = rng.choice(len(crew.workers), size=size, p=crew.weights)
    accuracy = crew.accuracy[who]
    speed = crew.speed[who]

    # Working days only; 08:00-18:00 UTC.
    days_back = spec.started_days_ago
    day_offsets = rng.integers(0, days_back, size=size)
    start_day = np.datetime64(config.end - dt.timedelta(days=days_back))
    days = start_day + day_offsets.astype("timedelta64[D]")
    weekend = ~np.is_busday(days)
    days = np.where(weekend, np.busday_offset(days, 0, roll="forward"), days)
    days = np.minimum(days, np.datetime64(config.end - dt.timedelta(days=1)))
    seconds = rng.integers(8 * 3600, 18 * 3600, size=size).astype("timedelta64[s]")
    submitted = days.astype("datetime64[s]") + seconds
    days_ago = (np.datetime64(config.end) - days).astype(int)

    change_window = (days_ago <= 30) & (days_ago > 20)
    if spec.slug == "retail-sentiment":
        # Guideline v2 (30 days ago) confused most of the team for about ten days.
        accuracy = np.where(~crew.steady[who] & change_window, accuracy - 0.25, accuracy)

    items = rng.integers(0, len(pool.truth), size=size)
    truth = pool.truth[items]
    correct = rng.random(size) < accuracy
    wrong = (truth + rng.integers(1, len(labels), size=size)) % len(labels)
    if spec.slug == "defect-inspection":
        # Without domain training people call cosmetic blemishes critical defects.
        blemish = truth == 1
        confuses = crew.generalist[who] & blemish & (rng.random(size) < 0.35)
        correct = correct & ~confuses
        wrong = np.where(confuses, 0, wrong)
    label_index = np.where(correct, truth, wrong)
    label = labels[label_index]

    active = spec.base_seconds * speed * rng.lognormal(0.0, 0.35, size=size)
    skipped = rng.random(size) < 0.03
    escalation_rate = np.where(speed < 0.5, 0.002, 0.02)
    if spec.slug == "retail-sentiment":
        escalation_rate = np.where(change_window, 0.07, escalation_rate)
    escalated = (rng.random(size) < escalation_rate) & ~skipped
    label = np.where(skipped, NO_VALUE, label)

    is_gold = items < pool.n_gold
    gold_label = np.where(is_gold, labels[truth], NO_VALUE)

    versions = sorted(target.guideline_versions, key=lambda version: version[1])
    version_ids = np.full(size, versions[0][0])
    for version_id, effective_from in versions[1:]:
        effective = np.datetime64(effective_from.replace(tzinfo=None), "s")
        version_ids = np.where(submitted >= effective, version_id, version_ids)

    reviewed = (rng.random(size) < 0.12) & ~skipped & ~is_gold & crew.has_reviewers
    outcome = np.where(
        label_index == truth,
        np.where(rng.random(size) < 0.96, "accepted", "corrected"),
        np.where(rng.random(size) < 0.7, "corrected", "rejected"),
    )
    outcome = np.where(reviewed, outcome, NO_VALUE)
    reviewer_ids = crew.reviewer_ids[rng.integers(0, len(crew.reviewer_ids), size=size)]
    review_seconds = np.where(reviewed, active * rng.uniform(0.3, 0.6, size=size), np.nan)
    review_delay = rng.integers(3600, 36 * 3600, size=size).astype("timedelta64[s]")
    reviewed_at = np.minimum(submitted + review_delay, np.datetime64(config.end, "s"))

    frame = pd.DataFrame(
        {
            "project_id": target.project_id,
            "item_id": np.char.add(f"{spec.slug}-", np.char.zfill(items.astype(str), 6)),
            "annotator_id": crew.ids[who],
            "label": label,
            "submitted_at": pd.to_datetime(submitted).tz_localize("UTC"),
            "active_seconds": np.round(active, 1),
            "skipped": skipped,
            "escalated": escalated,
            "guideline_version_id": version_ids,
            "import_batch_id": target.import_batch_id,
            "external_id": np.char.add(
                "demo-", np.arange(first_external, first_external + size).astype(str)
            ),
            "is_gold": is_gold,
            "gold_label": gold_label,
            "reviewer_id": pd.array(np.where(reviewed, reviewer_ids, 0), dtype="Int64"),
            "review_outcome": outcome,
            "review_seconds": np.round(review_seconds, 1),
            "reviewed_at": pd.to_datetime(reviewed_at).tz_localize("UTC"),
        }
    )
    frame.loc[~reviewed, "reviewer_id"] = pd.NA
    frame.loc[~reviewed, "reviewed_at"] = pd.NaT
    return frame
