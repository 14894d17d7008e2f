"""Calibration sessions and guideline versions on both databases."""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import (
    AnnotationEvent,
    Assignment,
    CalibrationResult,
    CalibrationSession,
    GuidelineVersion,
    Project,
    RereviewRequest,
)
from ops.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from ops.metrics.agreement import compute_fleiss_kappa, compute_krippendorff_alpha
from ops.workforce import calibration, guidelines
from tests.db.workforce_helpers import FINANCE, NOW, OPS, TODAY, audit_entries, lead_of
from tests.factories import (
    make_annotator,
    make_event,
    make_pay_rate,
    make_project,
    make_rollup,
    make_team,
)


class NewVersion(TypedDict):
    version: str
    effective_on: dt.date
    change_summary: str


ITEMS = [("i1", "pos"), ("i2", "neg"), ("i3", "neu"), ("i4", "pos")]


def _session_with_people(session: Session) -> tuple[int, list[int], int]:
    team = make_team(session)
    project = make_project(session)
    people = [
        make_annotator(session, display_name=name, team_id=team.id).id
        for name in ("Ann", "Bo", "Cas")
    ]
    # The team works on the project, so it is one of its lead's projects.
    session.add(Assignment(annotator_id=people[0], project_id=project.id, starts_on=TODAY))
    created = calibration.create_session(
        session, OPS, project_id=project.id, name="Round 1", held_on=TODAY, items=ITEMS
    )
    return created.id, people, team.id


def test_creating_a_session_needs_items_and_is_audited(session: Session) -> None:
    project = make_project(session)
    with pytest.raises(ValidationError) as empty:
        calibration.create_session(
            session, OPS, project_id=project.id, name="x", held_on=TODAY, items=[]
        )
    assert empty.value.field == "items"
    with pytest.raises(ValidationError) as unnamed:
        calibration.create_session(
            session, OPS, project_id=project.id, name=" ", held_on=TODAY, items=ITEMS
        )
    assert unnamed.value.field == "name"
    with pytest.raises(PermissionDenied):
        calibration.create_session(
            session, FINANCE, project_id=project.id, name="x", held_on=TODAY, items=ITEMS
        )
    created = calibration.create_session(
        session, OPS, project_id=project.id, name="Round 1", held_on=TODAY, items=ITEMS
    )
    entry = audit_entries(session, "calibration.create")[-1]
    assert entry.after is not None and entry.after["items"] == dict(ITEMS)
    detail = calibration.session_detail(session, OPS, created.id)
    assert list(detail.items["reference"]) == ["pos", "neg", "neu", "pos"]
    assert detail.alpha is None and detail.results.empty


def test_labels_give_per_person_agreement_and_group_statistics(session: Session) -> None:
    session_id, (ann, bo, cas), _team = _session_with_people(session)
    answers = {
        ann: {"i1": "pos", "i2": "neg", "i3": "neu", "i4": "pos"},
        bo: {"i1": "pos", "i2": "neg", "i3": "pos", "i4": "pos"},
        cas: {"i1": "neg", "i2": "neg", "i3": "pos", "i4": "pos"},
    }
    for person, labels in answers.items():
        calibration.record_labels(session, OPS, session_id, person, labels, expected_labels={})
    results = {
        result.annotator_id: result
        for result in session.scalars(
            select(CalibrationResult).where(CalibrationResult.session_id == session_id)
        )
    }
    assert {person: results[person].agreement for person in answers} == {
        ann: 1.0,
        bo: 0.75,
        cas: 0.5,
    }
    detail = calibration.session_detail(session, OPS, session_id)
    import pandas as pd

    frame = pd.DataFrame(
        [
            {"item_id": item, "annotator_id": person, "label": label}
            for person, labels in answers.items()
            for item, label in labels.items()
        ]
    )
    assert detail.alpha == pytest.approx(compute_krippendorff_alpha(frame))
    assert detail.kappa == pytest.approx(compute_fleiss_kappa(frame).kappa)
    assert list(detail.disputed["item_id"]) == ["i3", "i1"]
    assert list(detail.results["name"]) == ["Ann", "Bo", "Cas"]
    listed = calibration.list_sessions(session, OPS)
    assert listed.loc[listed["id"] == session_id, "participants"].iloc[0] == 3
    history = calibration.calibration_history(session, OPS, bo)
    assert list(history["agreement"]) == [0.75]
    entry = audit_entries(session, "calibration.labels")[-1]
    assert entry.entity_id == f"{session_id}:{cas}"
    assert entry.after == answers[cas]


def test_saving_labels_over_someone_elses_is_refused(session: Session) -> None:
    session_id, (ann, _bo, _cas), _team = _session_with_people(session)
    calibration.record_labels(session, OPS, session_id, ann, {"i1": "pos"}, expected_labels={})
    with pytest.raises(ConflictError, match="Ann's labels was changed by olga"):
        calibration.record_labels(session, OPS, session_id, ann, {"i1": "neg"}, expected_labels={})
    # Starting from what is saved works, and a blank label removes one.
    calibration.record_labels(
        session, OPS, session_id, ann, {"i1": "", "i2": "neg"}, expected_labels={"i1": "pos"}
    )
    assert calibration.participant_labels(session, OPS, session_id, ann) == {"i2": "neg"}
    with pytest.raises(ValidationError, match="Nothing changed") as unchanged:
        calibration.record_labels(
            session, OPS, session_id, ann, {"i2": "neg", "i3": ""}, expected_labels={"i2": "neg"}
        )
    assert unchanged.value.field == "labels"
    with pytest.raises(ValidationError, match="not in this session") as caught:
        calibration.record_labels(
            session, OPS, session_id, ann, {"zz": "neg"}, expected_labels={"i2": "neg"}
        )
    assert caught.value.field == "labels"


def test_a_lead_sees_and_labels_only_their_team(session: Session) -> None:
    session_id, (ann, bo, _cas), team_id = _session_with_people(session)
    outsider = make_annotator(session, display_name="Out").id
    for person in (ann, bo, outsider):
        calibration.record_labels(
            session, OPS, session_id, person, {"i1": "pos"}, expected_labels={}
        )
    lead = lead_of(team_id)
    detail = calibration.session_detail(session, lead, session_id)
    assert set(detail.results["name"]) == {"Ann", "Bo"}
    assert detail.hidden_participants == 1 and detail.n_participants == 3
    with pytest.raises(NotFound):
        calibration.record_labels(
            session, lead, session_id, outsider, {"i1": "neg"}, expected_labels={"i1": "pos"}
        )
    assert {name for _, name in calibration.session_participants(session, lead, session_id)} == {
        "Ann",
        "Bo",
        "Cas",
    }


def test_notes_are_kept_and_a_stale_edit_is_refused(session: Session) -> None:
    session_id, _people, _team = _session_with_people(session)
    seen = calibration.session_detail(session, OPS, session_id).version_id
    calibration.save_notes(session, OPS, session_id, "i3 is ambiguous", expected_version=seen)
    with pytest.raises(ConflictError, match="changed by olga"):
        calibration.save_notes(session, OPS, session_id, "other text", expected_version=seen)
    detail = calibration.session_detail(session, OPS, session_id)
    assert detail.discussion_notes == "i3 is ambiguous"
    entry = audit_entries(session, "calibration.notes")[-1]
    assert entry.before == {"discussion_notes": ""}
    assert entry.after == {"discussion_notes": "i3 is ambiguous"}


def test_archiving_from_a_stale_view_is_refused(session: Session) -> None:
    session_id, _people, _team = _session_with_people(session)
    seen = calibration.session_detail(session, OPS, session_id).version_id
    calibration.save_notes(session, OPS, session_id, "keep this", expected_version=seen)
    with pytest.raises(ConflictError, match="changed by olga"):
        calibration.archive_session(
            session, OPS, session_id, expected_version=seen, reason="created by mistake"
        )
    assert calibration.session_detail(session, OPS, session_id).discussion_notes == "keep this"
    assert not audit_entries(session, "calibration.archive")


def test_archiving_a_session_hides_it_and_keeps_it(session: Session) -> None:
    session_id, (ann, _bo, _cas), _team = _session_with_people(session)
    calibration.record_labels(session, OPS, session_id, ann, {"i1": "pos"}, expected_labels={})
    version = calibration.session_detail(session, OPS, session_id).version_id
    calibration.archive_session(
        session, OPS, session_id, expected_version=version, reason="duplicate of round 2"
    )
    assert session_id not in set(calibration.list_sessions(session, OPS)["id"])
    assert calibration.calibration_history(session, OPS, ann).empty
    with pytest.raises(NotFound):
        calibration.session_detail(session, OPS, session_id)
    with pytest.raises(NotFound):
        calibration.archive_session(
            session, OPS, session_id, expected_version=version, reason="archived twice"
        )
    kept = session.scalars(
        select(CalibrationResult).where(CalibrationResult.session_id == session_id)
    ).all()
    assert [result.annotator_id for result in kept] == [ann]
    archived = audit_entries(session, "calibration.archive")[-1]
    assert archived.after is not None and archived.after["reason"] == "duplicate of round 2"


def test_a_pilot_csv_becomes_a_session_with_labels_and_results(session: Session) -> None:
    project = make_project(session)
    ann = make_annotator(session, email="ann@example.org", display_name="Ann")
    bo = make_annotator(session, display_name="Bo Berg")
    data = (
        b"item_id,annotator_id,label,gold\n"
        b"i1,ann@example.org,pos,pos\n"
        b"i1,bo berg,neg,pos\n"
        b"i2,ANN@example.org,neg,neg\n"
        b"i2,Bo Berg,neg,\n"
        b"i3,ann@example.org,neu,\n"
    )
    created = calibration.import_pilot_csv(
        session,
        OPS,
        project_id=project.id,
        name="Pilot",
        held_on=TODAY,
        data=data,
        file_name="pilot.csv",
    )
    detail = calibration.session_detail(session, OPS, created.id)
    assert dict(zip(detail.items["item_id"], detail.items["reference"], strict=True)) == {
        "i1": "pos",
        "i2": "neg",
        "i3": "",
    }
    scores = dict(zip(detail.results["name"], detail.results["agreement"], strict=True))
    assert scores == {"Ann": 1.0, "Bo Berg": 0.5}
    assert calibration.participant_labels(session, OPS, created.id, bo.id) == {
        "i1": "neg",
        "i2": "neg",
    }
    assert ann.id in set(detail.results["annotator_id"])
    assert audit_entries(session, "calibration.import")[-1].after == {
        "file": "pilot.csv",
        "labels": 5,
        "participants": 2,
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"item_id,annotator_id,label\ni1,a@x.org,pos\n", "no gold column"),
        (b"item,who,label\n", "missing column"),
        (b"item_id,annotator_id,label,gold\ni1,nobody,pos,pos\n", "Unknown participant"),
        (
            b"item_id,annotator_id,label,gold\ni1,ann@example.org,pos,pos\n"
            b"i1,ann@example.org,neg,pos\n",
            "twice",
        ),
        (b"item_id,annotator_id,label,gold\ni1,ann@example.org,,pos\n", "line 2"),
    ],
)
def test_a_bad_pilot_csv_is_refused_with_the_reason(
    session: Session, data: bytes, message: str
) -> None:
    project = make_project(session)
    make_annotator(session, email="ann@example.org")
    with pytest.raises(ValidationError, match=message) as caught:
        calibration.import_pilot_csv(
            session,
            OPS,
            project_id=project.id,
            name="Pilot",
            held_on=TODAY,
            data=data,
            file_name="pilot.csv",
        )
    assert caught.value.field == "file"
    assert "/tmp" not in str(caught.value)


# --- guideline versions ------------------------------------------------------------------


def _project_with_versions(session: Session) -> tuple[int, GuidelineVersion, GuidelineVersion]:
    project = make_project(session)
    first = GuidelineVersion(
        project_id=project.id, version="v1", effective_from=NOW - dt.timedelta(days=60)
    )
    second = GuidelineVersion(
        project_id=project.id,
        version="v2",
        effective_from=NOW - dt.timedelta(days=10),
        is_major=True,
        change_summary="sarcasm is negative",
    )
    session.add_all([first, second])
    session.flush()
    person = make_annotator(session)
    make_pay_rate(session, person)
    for days, version in ((30, first), (20, first), (5, first), (3, second)):
        make_event(
            session,
            project,
            person,
            guideline_version_id=version.id,
            submitted_at=NOW - dt.timedelta(days=days),
        )
    make_event(session, project, person, submitted_at=NOW - dt.timedelta(days=1))
    make_event(
        session,
        project,
        person,
        guideline_version_id=first.id,
        skipped=True,
        label=None,
        submitted_at=NOW - dt.timedelta(days=2),
    )
    return project.id, first, second


def test_versions_show_the_work_under_each(session: Session) -> None:
    project_id, first, second = _project_with_versions(session)
    table = guidelines.list_versions(session, OPS, project_id, now=NOW).set_index("version")
    assert table.loc["v2", "status"] == "current"
    assert table.loc["v1", "status"] == "superseded"
    assert table.loc["v1", "annotations"] == 3
    assert table.loc["v1", "after superseded"] == 1
    assert table.loc["v2", "annotations"] == 1
    assert table.loc["(none recorded)", "annotations"] == 1
    with pytest.raises(PermissionDenied):
        guidelines.list_versions(session, FINANCE, project_id, now=NOW)


def test_creating_a_version_is_checked_and_audited(session: Session) -> None:
    project_id, _first, _second = _project_with_versions(session)
    base: NewVersion = {
        "version": "v3",
        "change_summary": "Adds the 'mixed' label.",
        "effective_on": TODAY,
    }
    cases: list[tuple[NewVersion, str]] = [
        ({**base, "version": "v 3"}, "version"),
        ({**base, "version": "V2"}, "version"),
        ({**base, "change_summary": "tiny"}, "change_summary"),
        ({**base, "effective_on": TODAY - dt.timedelta(days=30)}, "effective_on"),
    ]
    for values, field in cases:
        with pytest.raises(ValidationError) as caught:
            guidelines.create_version(session, OPS, project_id, **values)
        assert caught.value.field == field
    with pytest.raises(PermissionDenied):
        guidelines.create_version(session, lead_of(1), project_id, **base)
    created = guidelines.create_version(
        session,
        OPS,
        project_id,
        version="v3",
        effective_on=TODAY + dt.timedelta(days=3),
        change_summary="Adds the 'mixed' label.",
        is_major=True,
    )
    assert audit_entries(session, "guideline.create")[-1].entity_id == str(created.id)
    table = guidelines.list_versions(session, OPS, project_id, now=NOW).set_index("version")
    assert table.loc["v3", "status"] == "upcoming"


def test_work_under_a_superseded_version_is_flagged_for_review(session: Session) -> None:
    project_id, first, second = _project_with_versions(session)
    work = guidelines.superseded_work(session, OPS, project_id, first.id, now=NOW)
    assert (work.annotations, work.after_superseded, work.flagged) == (3, 1, 0)
    assert work.superseded_by == "v2"
    assert len(work.sample) == 3
    with pytest.raises(ValidationError, match="not superseded"):
        guidelines.superseded_work(session, OPS, project_id, second.id, now=NOW)
    with pytest.raises(ValidationError) as short:
        guidelines.flag_superseded_work(session, OPS, project_id, first.id, reason="x", now=NOW)
    assert short.value.field == "reason"
    with pytest.raises(PermissionDenied):
        guidelines.flag_superseded_work(
            session, lead_of(1), project_id, first.id, reason="sarcasm rule changed", now=NOW
        )
    request = guidelines.flag_superseded_work(
        session, OPS, project_id, first.id, reason="sarcasm rule changed", now=NOW
    )
    assert request.n_events == 3
    assert "v1 superseded by v2" in request.reason
    entry = audit_entries(session, "rereview.create")[-1]
    assert entry.actor == "olga" and entry.entity_id == str(request.id)
    flagged = session.scalar(
        select(func.count(AnnotationEvent.id)).where(
            AnnotationEvent.rereview_request_id == request.id
        )
    )
    assert flagged == 3
    assert session.get(RereviewRequest, request.id) is not None
    table = guidelines.list_versions(session, OPS, project_id, now=NOW).set_index("version")
    assert table.loc["v1", "flagged for review"] == 3
    assert table.loc["v2", "flagged for review"] == 0


def test_the_sample_of_superseded_work_holds_only_the_viewers_people(session: Session) -> None:
    project_id, first, _second = _project_with_versions(session)
    team, other = make_team(session), make_team(session)
    ours = [make_annotator(session, team_id=team.id) for _ in range(2)]
    theirs = make_annotator(session, team_id=other.id)
    project = session.get(Project, project_id)
    assert project is not None
    for hours, person in ((1, ours[0]), (2, theirs), (3, ours[1]), (4, ours[0])):
        make_event(
            session,
            project,
            person,
            guideline_version_id=first.id,
            submitted_at=NOW - dt.timedelta(days=12, hours=hours),
        )
    names = {person.display_name for person in ours}
    # The team worked on the project lately, so it is one of the lead's projects.
    make_rollup(session, project, ours[0], day=(NOW - dt.timedelta(days=12)).date())
    lead = guidelines.superseded_work(session, lead_of(team.id), project_id, first.id, now=NOW)
    assert list(lead.sample["annotator"]) == [
        ours[0].display_name,
        ours[1].display_name,
        ours[0].display_name,
    ]
    assert set(lead.sample["annotator"]) <= names
    # The lead's counts are their team's work too; the sample is the newest first.
    assert (lead.annotations, lead.after_superseded) == (3, 0)
    versions = guidelines.list_versions(session, lead_of(team.id), project_id, now=NOW)
    assert versions.set_index("version").loc["v1", "annotations"] == 3
    assert "(none recorded)" not in set(versions["version"])
    stranger = lead_of(make_team(session).id)
    with pytest.raises(NotFound):
        guidelines.list_versions(session, stranger, project_id, now=NOW)
    with pytest.raises(NotFound):
        guidelines.superseded_work(session, stranger, project_id, first.id, now=NOW)
    nobody = guidelines.superseded_work(session, lead_of(None), project_id, first.id, now=NOW)
    assert nobody.sample.empty
    everyone = guidelines.superseded_work(session, OPS, project_id, first.id, now=NOW)
    assert len(everyone.sample) == 7
    assert theirs.display_name in set(everyone.sample["annotator"])


def test_a_lead_of_another_team_can_neither_read_nor_change_the_session(
    session: Session,
) -> None:
    session_id, (ann, bo, _cas), team_id = _session_with_people(session)
    outsider = make_annotator(session, display_name="Out").id
    for person, label in ((ann, "pos"), (bo, "pos"), (outsider, "neg")):
        calibration.record_labels(
            session, OPS, session_id, person, {"i1": label}, expected_labels={}
        )
    stranger = lead_of(make_team(session).id, username="other-lead")
    assert calibration.list_sessions(session, stranger).empty
    version = calibration.session_detail(session, OPS, session_id).version_id
    with pytest.raises(NotFound):
        calibration.session_detail(session, stranger, session_id)
    with pytest.raises(NotFound):
        calibration.save_notes(session, stranger, session_id, "x", expected_version=version)
    with pytest.raises(NotFound):
        calibration.archive_session(
            session, stranger, session_id, expected_version=version, reason="not mine"
        )
    held = session.get(CalibrationSession, session_id)
    assert held is not None and held.project_id is not None
    project_id = held.project_id
    with pytest.raises(NotFound):
        calibration.create_session(
            session, stranger, project_id=project_id, name="x", held_on=TODAY, items=ITEMS
        )
    # The team's own lead sees it, with the group figures over the team's labels only.
    lead = lead_of(team_id)
    [listed] = calibration.list_sessions(session, lead).to_dict("records")
    assert listed["id"] == session_id
    mine = calibration.session_detail(session, lead, session_id)
    assert mine.disputed.empty or "neg" not in " ".join(mine.disputed["labels"])
    everyone = calibration.session_detail(session, OPS, session_id)
    assert "neg: 1" in " ".join(everyone.disputed["labels"])
