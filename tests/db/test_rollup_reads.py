"""Grouped rollup reads agree with the one-project reads they replace; id lists of any
length select what they name."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Annotator
from db.queries.rollups import sum_rollups, sum_rollups_by_project
from db.queries.shared import among
from tests.factories import make_annotator, make_project, make_rollup

DAY = dt.date(2026, 3, 2)


def test_totals_by_project_equal_each_project_summed_alone(session: Session) -> None:
    first, second, idle = (make_project(session, slug=slug) for slug in ("alpha", "beta", "idle"))
    ada, ben = make_annotator(session), make_annotator(session)
    make_rollup(session, first, ada, day=DAY, annotations=10, gold_answered=4, gold_correct=3)
    make_rollup(session, first, ben, day=DAY, annotations=5, active_seconds=90.5)
    make_rollup(session, first, ada, day=DAY + dt.timedelta(days=1), annotations=7)
    make_rollup(session, second, ben, day=DAY - dt.timedelta(days=3), annotations=2)
    for since, until in ((dt.date.min, None), (DAY, DAY), (DAY, None)):
        grouped = sum_rollups_by_project(session, since=since, until=until)
        for project in (first, second):
            alone = sum_rollups(session, since=since, until=until, project_id=project.id)
            assert grouped.get(project.id, alone if not alone["annotations"] else {}) == alone
        assert idle.id not in grouped
    assert sum_rollups_by_project(session, since=DAY, until=DAY)[first.id]["annotators"] == 2


def test_among_matches_many_ids_one_id_and_none(session: Session) -> None:
    people = [make_annotator(session) for _ in range(3)]
    ids = [person.id for person in people]
    found = session.scalars(select(Annotator.id).where(among(Annotator.id, ids[:2]))).all()
    assert sorted(found) == ids[:2]
    many = [*range(-20_000, 0), ids[2]]
    assert session.scalars(select(Annotator.id).where(among(Annotator.id, many))).all() == [ids[2]]
    assert session.scalars(select(Annotator.id).where(among(Annotator.id, []))).all() == []
