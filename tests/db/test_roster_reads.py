"""The roster's set-based reads and the training states built from them, on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from db.models import (
    Annotator,
    AnnotatorIdentity,
    AnnotatorSkill,
    Assignment,
    GuidelineVersion,
    Project,
    QualificationResult,
    TrainingRecord,
)
from db.queries.people import list_pool_annotator_ids, list_pool_annotators
from db.queries.roster import (
    list_roster_current_projects,
    list_roster_identities,
    list_roster_people,
    list_roster_qualified_task_types,
    list_roster_skills,
)
from db.queries.training import (
    load_latest_training_frame,
    load_missing_guideline_training_frame,
)
from db.scope import EVERYONE, PeopleScope
from ops.workforce import roster
from ops.workforce.training import training_states
from tests.db.workforce_helpers import NOW, OPS, TODAY, lead_of
from tests.factories import make_annotator, make_project, make_team

DAY = dt.timedelta(days=1)


def _train(
    session: Session,
    person: Annotator,
    kind: str,
    *,
    completed: dt.datetime,
    expires: dt.datetime | None = None,
    project: Project | None = None,
    version: GuidelineVersion | None = None,
) -> TrainingRecord:
    record = TrainingRecord(
        annotator_id=person.id,
        kind=kind,
        topic=kind,
        project_id=project.id if project else None,
        guideline_version_id=version.id if version else None,
        completed_at=completed,
        expires_at=expires,
    )
    session.add(record)
    session.flush()
    return record


def _version(
    session: Session, project: Project, name: str, effective: dt.datetime, *, major: bool = True
) -> GuidelineVersion:
    version = GuidelineVersion(
        project_id=project.id,
        version=name,
        effective_from=effective,
        is_major=major,
        change_summary=f"change {name}",
    )
    session.add(version)
    session.flush()
    return version


def _assign(session: Session, person: Annotator, project: Project, **dates: dt.date) -> None:
    values = {"starts_on": TODAY - 10 * DAY, **dates}
    session.add(Assignment(annotator_id=person.id, project_id=project.id, **values))
    session.flush()


def test_latest_training_is_the_newest_per_kind_and_project_within_scope(
    session: Session,
) -> None:
    team, other = make_team(session), make_team(session)
    person = make_annotator(session, team_id=team.id)
    outsider = make_annotator(session, team_id=other.id)
    project = make_project(session)
    _train(session, person, "initial", completed=NOW - 400 * DAY)
    newest_initial = _train(session, person, "initial", completed=NOW - 10 * DAY)
    domain = _train(session, person, "domain", completed=NOW - 5 * DAY, project=project)
    refresher = _train(session, person, "refresher", completed=NOW - 50 * DAY)
    _train(session, outsider, "initial", completed=NOW - DAY)

    frame = load_latest_training_frame(session, annotator_ids=[person.id])
    # Oldest first, as the rows of a person are listed.
    assert list(frame["id"]) == [refresher.id, newest_initial.id, domain.id]
    assert frame.set_index("id").loc[domain.id, "project"] == project.slug
    scoped = load_latest_training_frame(session, scope=PeopleScope("team", team_id=team.id))
    assert set(scoped["annotator_id"]) == {person.id}


def test_missing_guideline_training_follows_the_newest_major_version_in_effect(
    session: Session,
) -> None:
    project, quiet = make_project(session), make_project(session)
    _version(session, project, "v1", NOW - 100 * DAY)
    v2 = _version(session, project, "v2", NOW - 20 * DAY)
    _version(session, project, "v2.1", NOW - 5 * DAY, major=False)
    _version(session, project, "v3", NOW + 5 * DAY)  # not in effect yet
    untrained = make_annotator(session, display_name="Untrained")
    by_name = make_annotator(session, display_name="Trained on v2 by name")
    after = make_annotator(session, display_name="Trained after v2 took effect")
    before = make_annotator(session, display_name="Trained before v2")
    ended = make_annotator(session, display_name="Assignment ended")
    for person in (untrained, by_name, after, before):
        _assign(session, person, project)
    _assign(session, untrained, quiet)  # no guideline versions: nothing to miss
    _assign(session, ended, project, ends_on=TODAY)
    _train(
        session, by_name, "guideline_change", completed=NOW - 30 * DAY, project=project, version=v2
    )
    _train(session, after, "guideline_change", completed=NOW - 19 * DAY, project=project)
    _train(session, before, "guideline_change", completed=NOW - 21 * DAY, project=project)
    # Training on another project covers nothing here.
    _train(session, before, "guideline_change", completed=NOW - DAY, project=quiet)

    people = [untrained.id, by_name.id, after.id, before.id, ended.id]
    frame = load_missing_guideline_training_frame(session, now=NOW, annotator_ids=people)
    assert list(frame["annotator_id"]) == sorted([untrained.id, before.id])
    assert set(frame["guideline_version"]) == {"v2"}
    assert set(frame["guideline_version_id"]) == {v2.id}
    assert set(frame["project"]) == {project.slug}
    assert set(frame["change_summary"]) == {"change v2"}


def test_training_states_read_for_a_whole_scope_match_those_read_by_id(
    session: Session,
) -> None:
    team = make_team(session)
    project = make_project(session)
    _version(session, project, "v1", NOW - 3 * DAY)
    expired = make_annotator(session, team_id=team.id)
    due = make_annotator(session, team_id=team.id)
    missing = make_annotator(session, team_id=team.id)
    never = make_annotator(session, team_id=team.id)
    current = make_annotator(session, team_id=team.id)
    _train(session, expired, "initial", completed=NOW - 400 * DAY, expires=NOW)
    _train(session, expired, "domain", completed=NOW - 9 * DAY, expires=NOW - DAY, project=project)
    _train(session, due, "initial", completed=NOW - 300 * DAY, expires=NOW + 30 * DAY)
    _train(session, missing, "initial", completed=NOW - 30 * DAY)
    _assign(session, missing, project)
    _train(session, current, "initial", completed=NOW - 30 * DAY, expires=NOW + 31 * DAY)

    ids = [expired.id, due.id, missing.id, never.id, current.id]
    scope = PeopleScope("team", team_id=team.id)
    by_id = training_states(session, ids, NOW)
    whole = training_states(session, ids, NOW, scope=scope, everyone_in_scope=True)
    assert whole == by_id
    assert [by_id[i].summary for i in ids] == [
        "expired: initial, domain (" + project.slug + ")",
        "due: initial",
        "missing: guideline_change (" + project.slug + ")",
        "no initial training",
        "current",
    ]


def test_roster_reads_cover_the_scope_with_archived_people_and_never_merged_ones(
    session: Session,
) -> None:
    team, other = make_team(session, name="Roster team"), make_team(session)
    project = make_project(session, slug="roster-b")
    first = make_project(session, slug="roster-a")
    ana = make_annotator(session, display_name="Ana", team_id=team.id, phone="+1 555")
    old = make_annotator(session, display_name="Old", team_id=team.id, archived_at=NOW - DAY)
    make_annotator(
        session, display_name="Merged", team_id=team.id, merged_into_id=ana.id, archived_at=NOW
    )
    otto = make_annotator(session, display_name="Otto", team_id=other.id)
    for kind, name in (("skill", "polygons"), ("language", "de"), ("skill", "boxes")):
        session.add(AnnotatorSkill(annotator_id=ana.id, kind=kind, name=name, level=3))
    session.add(AnnotatorSkill(annotator_id=otto.id, kind="skill", name="boxes", level=3))
    for task_type, score in (("ner", 0.9), ("ner", 0.95), ("classify", 0.9), ("boxes", 0.1)):
        session.add(
            QualificationResult(
                annotator_id=ana.id, task_type=task_type, score=score, pass_mark=0.8, taken_at=NOW
            )
        )
    _assign(session, ana, project)
    _assign(session, ana, first)
    _assign(session, old, first, ends_on=TODAY)
    session.add(AnnotatorIdentity(annotator_id=ana.id, platform="vendor", external_id="a1"))
    session.add(AnnotatorIdentity(annotator_id=ana.id, platform="cvat", external_id="ana"))
    session.flush()

    scope = PeopleScope("team", team_id=team.id)
    people = list_roster_people(session, scope=scope)
    assert [(p.display_name, p.team, p.archived) for p in people] == [
        ("Ana", "Roster team", False),
        ("Old", "Roster team", True),
    ]
    assert people[0].phone == "+1 555"
    assert list_roster_skills(session, scope=scope) == [
        (ana.id, "language", "de"),
        (ana.id, "skill", "boxes"),
        (ana.id, "skill", "polygons"),
    ]
    assert list_roster_qualified_task_types(session, scope=scope) == [
        (ana.id, "classify"),
        (ana.id, "ner"),
    ]
    assert list_roster_current_projects(session, scope=scope, today=TODAY) == [
        (ana.id, "roster-a"),
        (ana.id, "roster-b"),
    ]
    assert list_roster_identities(session, scope=scope) == [
        (ana.id, "cvat:ana"),
        (ana.id, "vendor:a1"),
    ]
    everyone = {p.annotator_id for p in list_roster_people(session, scope=EVERYONE)}
    assert {ana.id, old.id, otto.id} <= everyone

    frame = roster.load_roster(session, lead_of(team.id), include_archived=True, now=NOW)
    assert list(frame["name"]) == ["Ana", "Old"]
    row = frame.iloc[0]
    assert (row["skills"], row["languages"], row["qualified for"]) == (
        "boxes, polygons",
        "de",
        "classify, ner",
    )
    assert row["current projects"] == "roster-a, roster-b"
    assert row["identities"] == "cvat:ana, vendor:a1"
    assert list(frame["archived"]) == [False, True]
    assert list(roster.load_roster(session, lead_of(team.id), now=NOW)["name"]) == ["Ana"]


def test_the_filter_ids_are_those_of_the_people_query(session: Session) -> None:
    team = make_team(session)
    for name, tier in (("Zed", "annotator"), ("Amy", "reviewer"), ("Bo", "annotator")):
        make_annotator(session, display_name=name, team_id=team.id, tier=tier)
    scope = PeopleScope("team", team_id=team.id)
    for tiers in ((), ("annotator",)):
        people = list_pool_annotators(session, today=TODAY, scope=scope, tiers=tiers)
        ids = list_pool_annotator_ids(session, today=TODAY, scope=scope, tiers=tiers)
        assert ids == [person.id for person in people]
    assert (
        len(list_pool_annotator_ids(session, today=TODAY, scope=scope, tiers=("annotator",))) == 2
    )
    assert roster.matching_ids(session, OPS, roster.PoolFilter(search="zed"), now=NOW) == [
        person.id for person in list_pool_annotators(session, today=TODAY, search="zed")
    ]
