"""The rollup SQL and the pandas pricing follow one rule: they agree to the minor unit.

Hypothesis draws people with hourly and per-item rates (in two currencies, starting at
any moment), work and reviews around the rate changes, and corrections of rates after
the work was rolled up; the stored rollups, after a rebuild, an incremental refresh and
a repricing, must equal ops.metrics.cost priced event by event and summed per row.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import ROLLUP_MEASURES, AnnotationEvent, DailyRollup, PayRate
from db.queries.pay import load_pay_rate_frame
from ops import rollups
from ops.errors import ValidationError
from ops.metrics.cost import cost_by_rollup_row, milliseconds, price_events
from ops.permissions import SYSTEM
from ops.workforce.pay import correct_pay_rate
from tests.factories import make_annotator, make_pay_rate, make_project

EXTERNAL_IDS = itertools.count()
START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
PEOPLE = 3
CURRENCIES = ("EUR", "USD")


@dataclass(frozen=True)
class Rate:
    person: int
    start_seconds: int
    microseconds: int
    basis: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class Work:
    person: int
    submitted_seconds: int
    active_seconds: float
    skipped: bool
    labelled: bool
    reviewer: int | None
    outcome: str | None
    review_seconds: float | None
    review_delay_seconds: int | None


@dataclass(frozen=True)
class Correction:
    rate_index: int
    basis: str
    amount_minor: int
    currency: str
    day_offset: int


# Seconds with halves of a millisecond and odd fractions: the rounding edge cases.
seconds = st.one_of(
    st.integers(0, 4000).map(float),
    st.integers(0, 400_000).map(lambda tenths: tenths / 2000),
    st.floats(0, 5000, allow_nan=False, allow_infinity=False),
)
rates = st.lists(
    st.builds(
        Rate,
        person=st.integers(0, PEOPLE - 1),
        start_seconds=st.integers(-86_400, 4 * 86_400),
        microseconds=st.sampled_from((0, 0, 250_000, 999_999)),
        basis=st.sampled_from(("hourly", "per_item")),
        amount_minor=st.integers(1, 20_000),
        currency=st.sampled_from(CURRENCIES),
    ),
    max_size=8,
)
work = st.lists(
    st.builds(
        Work,
        person=st.integers(0, PEOPLE - 1),
        submitted_seconds=st.integers(0, 4 * 86_400),
        active_seconds=seconds,
        skipped=st.booleans(),
        labelled=st.booleans(),
        reviewer=st.none() | st.integers(0, PEOPLE - 1),
        outcome=st.none() | st.sampled_from(("accepted", "corrected", "rejected")),
        review_seconds=st.none() | seconds,
        review_delay_seconds=st.none() | st.integers(0, 2 * 86_400),
    ),
    min_size=1,
    max_size=40,
)
corrections = st.lists(
    st.builds(
        Correction,
        rate_index=st.integers(0, 7),
        basis=st.sampled_from(("hourly", "per_item")),
        amount_minor=st.integers(1, 20_000),
        currency=st.sampled_from(CURRENCIES),
        day_offset=st.integers(-1, 4),
    ),
    max_size=2,
)


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back afterwards, even if it commits."""
    with engine.connect() as connection:
        outer = connection.begin()
        factory = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            with factory() as session:
                yield session
        finally:
            outer.rollback()


def stored_rows(session: Session) -> dict[tuple[int, int, dt.date], tuple[Any, ...]]:
    return {
        (row.annotator_id, row.project_id, row.day): (
            row.cost_minor,
            row.review_cost_minor,
            row.currency,
            *(getattr(row, name) for name in ROLLUP_MEASURES),
        )
        for row in session.scalars(select(DailyRollup))
    }


def priced_rows(session: Session) -> dict[tuple[int, int, dt.date], tuple[int, int, str | None]]:
    """The pandas pricing of every stored event, summed per rollup row."""
    events = pd.DataFrame(
        [
            {column: getattr(event, column) for column in EVENT_FIELDS}
            for event in session.scalars(select(AnnotationEvent))
        ],
        columns=list(EVENT_FIELDS),
    )
    for column in ("submitted_at", "reviewed_at"):
        events[column] = pd.to_datetime(events[column], utc=True)
    ids = sorted(set(events["annotator_id"]) | set(events["reviewer_id"].dropna().astype(int)))
    rate_frame = load_pay_rate_frame(session, annotator_ids=ids)
    rate_frame["effective_from"] = pd.to_datetime(rate_frame["effective_from"], utc=True)
    rate_frame["amount_minor"] = rate_frame["amount_minor"].astype("int64")
    rows = cost_by_rollup_row(price_events(events, rate_frame))
    return {
        (int(annotator_id), int(project_id), day): (int(work), int(review), currency)
        for annotator_id, project_id, day, work, review, currency in zip(
            rows["annotator_id"],
            rows["project_id"],
            rows["day"],
            rows["cost_minor"],
            rows["review_cost_minor"],
            rows["currency"],
            strict=True,
        )
    }


EVENT_FIELDS = (
    "annotator_id",
    "project_id",
    "submitted_at",
    "active_seconds",
    "skipped",
    "label",
    "reviewer_id",
    "review_outcome",
    "review_seconds",
    "reviewed_at",
)


def add_work(session: Session, project_id: int, people: list[int], pieces: list[Work]) -> None:
    rows = []
    for index, piece in enumerate(pieces):
        submitted = START + dt.timedelta(seconds=piece.submitted_seconds)
        rows.append(
            {
                "project_id": project_id,
                "item_id": f"item-{index}",
                "annotator_id": people[piece.person],
                "label": "x" if piece.labelled and not piece.skipped else None,
                "skipped": piece.skipped,
                "submitted_at": submitted,
                "active_seconds": piece.active_seconds,
                "external_id": f"e-{next(EXTERNAL_IDS)}",
                "reviewer_id": None if piece.reviewer is None else people[piece.reviewer],
                "review_outcome": piece.outcome,
                "review_seconds": piece.review_seconds,
                "reviewed_at": None
                if piece.review_delay_seconds is None
                else submitted + dt.timedelta(seconds=piece.review_delay_seconds),
            }
        )
    if rows:
        session.execute(insert(AnnotationEvent), rows)


def check_agreement(session: Session) -> None:
    stored = stored_rows(session)
    priced = priced_rows(session)
    assert {key: value[:3] for key, value in stored.items()} == priced
    # Active seconds are summed in whole milliseconds: exact, whatever the order.
    events = session.execute(
        select(
            AnnotationEvent.annotator_id,
            AnnotationEvent.submitted_at,
            AnnotationEvent.active_seconds,
        )
    ).all()
    frame = pd.DataFrame(events, columns=["annotator_id", "submitted_at", "active_seconds"])
    frame["ms"] = milliseconds(frame["active_seconds"])
    frame["day"] = pd.to_datetime(frame["submitted_at"], utc=True).dt.date
    expected = frame.groupby(["annotator_id", "day"])["ms"].sum()
    index = ROLLUP_MEASURES.index("active_seconds") + 3
    for (annotator_id, _project_id, day), value in stored.items():
        assert value[index] == int(expected[(annotator_id, day)]) / 1000


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rates=rates, work=work, corrections=corrections, split=st.integers(0, 40))
def test_rollups_and_pandas_pricing_agree(
    migrated_engine: Engine,
    rates: list[Rate],
    work: list[Work],
    corrections: list[Correction],
    split: int,
) -> None:
    with rolled_back(migrated_engine) as session:
        project = make_project(session)
        annotators = [make_annotator(session) for _ in range(PEOPLE)]
        people = [person.id for person in annotators]
        stored: list[PayRate] = []
        seen: set[tuple[int, dt.datetime]] = set()
        for rate in rates:
            start = START + dt.timedelta(seconds=rate.start_seconds, microseconds=rate.microseconds)
            if (rate.person, start) in seen:
                continue
            seen.add((rate.person, start))
            stored.append(
                make_pay_rate(
                    session,
                    annotators[rate.person],
                    basis=rate.basis,
                    amount_minor=rate.amount_minor,
                    currency=rate.currency,
                    effective_from=start,
                )
            )
        # Some work is rolled up by a rebuild, the rest by an incremental refresh.
        add_work(session, project.id, people, work[:split])
        rollups.rebuild(session)
        add_work(session, project.id, people, work[split:])
        rollups.refresh(session)
        check_agreement(session)
        # Rates corrected after the work was rolled up: the repricing follows them.
        for correction in corrections:
            if not stored:
                break
            corrected = stored[correction.rate_index % len(stored)]
            try:
                with session.begin_nested():
                    correct_pay_rate(
                        session,
                        SYSTEM,
                        corrected.id,
                        basis=correction.basis,
                        amount=str(correction.amount_minor / 100),
                        currency=correction.currency,
                        effective_on=(START + dt.timedelta(days=correction.day_offset)).date(),
                        reason="entered the wrong terms",
                        expected_corrections=len(rate_corrections(session, corrected.id)),
                    )
            except ValidationError:
                continue
        rollups.reprice(session)
        check_agreement(session)
        incremental = stored_rows(session)
        rollups.rebuild(session)
        assert stored_rows(session) == incremental


def rate_corrections(session: Session, rate_id: int) -> list[Any]:
    from db.queries.pay import list_pay_rate_corrections

    return list(list_pay_rate_corrections(session, pay_rate_ids=[rate_id]))
