"""Rollup costs equal a price per event at the rate then in effect, rates starting any time."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from db import rollup_sql
from db.models import AnnotationEvent, DailyRollup, PayRate
from ops import rollups
from tests.factories import make_annotator, make_pay_rate, make_project

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
SCALE = 3_600_000


def reference_costs(
    events: list[dict[str, object]], rates: list[PayRate]
) -> dict[tuple[int, int, dt.date], tuple[int, int]]:
    """Per rollup row: work and review cost in minor units, priced event by event."""

    def rate_at(person: object, moment: object) -> PayRate | None:
        if not isinstance(moment, dt.datetime):
            return None
        mine = sorted(
            (r for r in rates if r.annotator_id == person), key=lambda r: r.effective_from
        )
        current = None
        for rate in mine:
            if rate.effective_from <= moment:
                current = rate
        return current

    scaled: dict[tuple[int, int, dt.date], list[int]] = defaultdict(lambda: [0, 0])
    for event in events:
        submitted = event["submitted_at"]
        assert isinstance(submitted, dt.datetime)
        key = (int(str(event["annotator_id"])), int(str(event["project_id"])), submitted.date())
        work = rate_at(event["annotator_id"], submitted)
        milliseconds = round(float(str(event["active_seconds"])) * 1000)
        if work is not None and work.basis == "hourly":
            scaled[key][0] += milliseconds * work.amount_minor
        elif work is not None and not event["skipped"]:
            scaled[key][0] += work.amount_minor * SCALE
        if event["review_outcome"] is not None:
            review = rate_at(event["reviewer_id"], event["reviewed_at"])
            review_ms = round(float(str(event["review_seconds"])) * 1000)
            if review is not None and review.basis == "hourly":
                scaled[key][1] += review_ms * review.amount_minor
            elif review is not None:
                scaled[key][1] += review.amount_minor * SCALE
    return {
        key: ((work + SCALE // 2) // SCALE, (review + SCALE // 2) // SCALE)
        for key, (work, review) in scaled.items()
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_costs_match_a_price_per_event_with_rates_starting_mid_day(
    session: Session, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    project = make_project(session)
    people = [make_annotator(session) for _ in range(4)]
    rates = []
    for person in people:
        # Rates start at odd moments, some mid-day, one with fractions of a second.
        moments = sorted(
            START + dt.timedelta(days=int(day), seconds=int(second), microseconds=micro)
            for day, second, micro in zip(
                rng.integers(-2, 5, 3), rng.integers(0, 86_400, 3), (0, 250_000, 0), strict=True
            )
        )
        for index, moment in enumerate(dict.fromkeys(moments)):
            rates.append(
                make_pay_rate(
                    session,
                    person,
                    basis="per_item" if (index + seed) % 3 == 0 else "hourly",
                    amount_minor=int(rng.integers(500, 9000)),
                    effective_from=moment,
                )
            )
    events: list[dict[str, object]] = []
    for index in range(600):
        person = people[index % 4]
        submitted = START + dt.timedelta(seconds=int(rng.integers(0, 6 * 86_400)))
        reviewed = index % 3 == 0
        events.append(
            {
                "project_id": project.id,
                "item_id": f"item-{index}",
                "annotator_id": person.id,
                "label": None if index % 11 == 0 else "x",
                "skipped": index % 11 == 0,
                "submitted_at": submitted,
                "active_seconds": float(np.round(rng.gamma(2.0, 15.0), 3)),
                "external_id": f"e-{index}",
                "reviewer_id": people[(index + 1) % 4].id if reviewed else None,
                "review_outcome": "accepted" if reviewed else None,
                "review_seconds": float(np.round(rng.gamma(2.0, 5.0), 3)) if reviewed else None,
                "reviewed_at": submitted + dt.timedelta(seconds=int(rng.integers(60, 86_400)))
                if reviewed
                else None,
            }
        )
    session.execute(insert(AnnotationEvent), events)
    assert rollup_sql.rate_boundaries(session)  # the mid-day starts are really there
    rollups.rebuild(session)
    got = {
        (row.annotator_id, row.project_id, row.day): (row.cost_minor, row.review_cost_minor)
        for row in session.scalars(select(DailyRollup))
    }
    assert got == reference_costs(events, rates)
    assert sum(work for work, _ in got.values()) > 0
    assert sum(review for _, review in got.values()) > 0
