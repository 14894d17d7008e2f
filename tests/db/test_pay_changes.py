"""Pay-rate changes of a period carry the rate each replaced, read in one query."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from db.queries.pay import load_pay_changes_frame
from db.scope import EVERYONE, PeopleScope
from tests.factories import make_annotator, make_pay_rate, make_team


def at(month: int, day: int = 1) -> dt.datetime:
    return dt.datetime(2026, month, day, tzinfo=dt.UTC)


def test_each_change_shows_the_latest_earlier_rate_of_the_same_person(session: Session) -> None:
    team = make_team(session)
    ada = make_annotator(session, display_name="Ada", team_id=team.id)
    ben = make_annotator(session, display_name="Ben")
    make_pay_rate(session, ada, effective_from=at(1), amount_minor=1500)
    make_pay_rate(session, ada, effective_from=at(2), amount_minor=1600, reason="review")
    make_pay_rate(
        session, ada, effective_from=at(4), basis="per_item", amount_minor=9, currency="EUR"
    )
    # Ben's first rate is in the period; his later one is not.
    make_pay_rate(session, ben, effective_from=at(3, 15), amount_minor=2000)
    make_pay_rate(session, ben, effective_from=at(6), amount_minor=2100)
    frame = load_pay_changes_frame(session, scope=EVERYONE, since=at(2), until=at(5))
    frame = frame.astype(object).where(frame.notna(), None)
    rows = [
        (
            row.annotator,
            row.amount_minor,
            row.currency,
            row.previous_basis,
            row.previous_amount_minor,
            row.previous_currency,
            row.reason,
        )
        for row in frame.itertuples()
    ]
    assert rows == [
        ("Ada", 1600, "USD", "hourly", 1500, "USD", "review"),
        ("Ben", 2000, "USD", None, None, None, ""),
        ("Ada", 9, "EUR", "hourly", 1600, "USD", ""),
    ]
    # A team's view keeps the rate replaced even when the period holds only the change.
    ours = load_pay_changes_frame(
        session, scope=PeopleScope("team", team_id=team.id), since=at(3), until=at(5)
    )
    assert ours[["annotator", "previous_amount_minor"]].values.tolist() == [["Ada", 1600]]
