"""The people a profile can be opened for: the pool's own list, read as names only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from db.queries.people import list_annotator_choices, list_pool_annotators
from db.scope import EVERYONE, PeopleScope
from tests.factories import make_annotator, make_team

TODAY = dt.date(2026, 3, 2)


def test_choices_are_the_pool_by_name(session: Session) -> None:
    team = make_team(session)
    zoe = make_annotator(session, display_name="Zoe", team_id=team.id)
    al = make_annotator(session, display_name="Al", status="inactive")
    make_annotator(session, display_name="Al")  # the same name twice: ids keep them apart
    make_annotator(
        session,
        display_name="Bea",
        team_id=team.id,
        archived_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    make_annotator(session, display_name="Cy", merged_into_id=zoe.id)
    for scope in (EVERYONE, PeopleScope("team", team_id=team.id)):
        for archived in (False, True):
            pool = list_pool_annotators(
                session, today=TODAY, scope=scope, include_archived=archived
            )
            choices = list_annotator_choices(session, scope=scope, include_archived=archived)
            assert choices == [(person.id, person.display_name) for person in pool]
    names = [name for _, name in list_annotator_choices(session, include_archived=True)]
    assert "Cy" not in names and "Bea" in names
    active = list_annotator_choices(session, statuses=("active", "probation"))
    pool = list_pool_annotators(session, today=TODAY, statuses=("active", "probation"))
    assert active == [(person.id, person.display_name) for person in pool]
    assert list_annotator_choices(session, statuses=("inactive",)) == [(al.id, "Al")]
    team_names = list_annotator_choices(session, scope=PeopleScope("team", team_id=team.id))
    assert [name for _, name in team_names] == ["Zoe"]
