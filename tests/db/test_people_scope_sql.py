"""db.scope turns a people scope into SQL that returns exactly the people it covers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Annotator
from db.queries.people import list_annotators_by_id
from db.scope import PeopleScope
from tests.factories import make_annotator, make_team


def test_the_sql_condition_returns_the_people_the_scope_covers(session: Session) -> None:
    vision, audio = make_team(session, name="Vision"), make_team(session, name="Audio")
    people = [
        make_annotator(session, email="v1@x.example", team_id=vision.id),
        make_annotator(session, email="v2@x.example", team_id=vision.id),
        make_annotator(session, email="a1@x.example", team_id=audio.id),
        make_annotator(session, email="n1@x.example", team_id=None),
    ]
    scopes = [
        PeopleScope("all"),
        PeopleScope("team", team_id=vision.id),
        PeopleScope("self", annotator_id=people[2].id),
        PeopleScope("none", reason="nobody"),
    ]
    for scope in scopes:
        found = set(session.scalars(select(Annotator.id).where(scope.where(Annotator.id))))
        expected = {
            person.id
            for person in people
            if scope.covers(annotator_id=person.id, team_id=person.team_id)
        }
        assert found & {person.id for person in people} == expected, scope.kind


def test_people_by_id_are_limited_to_the_scope(session: Session) -> None:
    vision, audio = make_team(session, name="Vision"), make_team(session, name="Audio")
    seer = make_annotator(session, email="seer@x.example", team_id=vision.id)
    hearer = make_annotator(session, email="hearer@x.example", team_id=audio.id)
    ids = [seer.id, hearer.id]
    assert {p.id for p in list_annotators_by_id(session, annotator_ids=ids)} == set(ids)
    team = PeopleScope("team", team_id=vision.id)
    assert [p.id for p in list_annotators_by_id(session, annotator_ids=ids, scope=team)] == [
        seer.id
    ]
