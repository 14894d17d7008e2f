"""The pool: roster, export and the annotator record, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Annotator, AnnotatorIdentity, Assignment, QualificationResult
from ops.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from ops.metrics.accuracy import compute_gold_accuracy
from ops.workforce import roster
from ops.workforce.roster import AnnotatorDetails, PoolFilter
from tests.db.workforce_helpers import (
    ADMIN,
    FINANCE,
    NOW,
    OPS,
    TODAY,
    audit_entries,
    lead_of,
)
from tests.factories import make_annotator, make_project, make_rollup, make_team


def details(**overrides: Any) -> AnnotatorDetails:
    defaults = AnnotatorDetails(
        display_name="Noor Haddad",
        team_id=None,
        status="active",
        employment_type="employee",
        email="noor@example.org",
        phone="+49 30 1234567",
        country="de",
        skills=("bounding boxes",),
        domains=("Medical",),
        languages=("en", "ar"),
    )
    return dataclasses.replace(defaults, **overrides)


def test_create_annotator_stores_normalised_fields_and_audits_them(session: Session) -> None:
    team = make_team(session)
    annotator = roster.create_annotator(session, OPS, details(team_id=team.id))
    assert (annotator.email, annotator.country, annotator.team_id) == (
        "noor@example.org",
        "DE",
        team.id,
    )
    entry = audit_entries(session, "annotator.create")[-1]
    assert entry.actor == "olga"
    assert entry.entity_id == str(annotator.id)
    assert entry.after is not None
    assert entry.after["skills"] == {
        "skill": ["bounding boxes"],
        "domain": ["medical"],
        "language": ["ar", "en"],
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"display_name": "  "}, "display_name", "Enter the person's name"),
        ({"email": "not-an-email"}, "email", "is not an email address"),
        ({"phone": "call me"}, "phone", "phone number"),
        ({"country": "DEU"}, "country", "two-letter"),
        ({"status": "retired"}, "status", "Status must be one of"),
        ({"employment_type": "intern"}, "employment_type", "Employment type"),
        ({"skills": ("Boxes!",)}, "skills", "is not a valid name"),
        ({"team_id": 999_999}, "team_id", "No team"),
    ],
)
def test_create_refuses_bad_fields_naming_the_field(
    session: Session, overrides: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        roster.create_annotator(session, OPS, details(**overrides))
    assert caught.value.field == field
    assert not audit_entries(session, "annotator.create")


def test_an_email_belongs_to_one_person(session: Session) -> None:
    make_annotator(session, email="noor@example.org", display_name="Noor One")
    with pytest.raises(ValidationError, match="already belongs to Noor One") as caught:
        roster.create_annotator(session, OPS, details(email="NOOR@example.org"))
    assert caught.value.field == "email"


@pytest.mark.parametrize("role", ["lead", "finance", "annotator"])
def test_only_ops_and_admin_add_people(session: Session, role: str) -> None:
    from ops.permissions import Principal

    with pytest.raises(PermissionDenied):
        roster.create_annotator(session, Principal("someone", role, team_id=1), details())
    assert roster.create_annotator(session, ADMIN, details()).id


def test_update_keeps_before_and_after_and_moves_the_version(session: Session) -> None:
    annotator = roster.create_annotator(session, OPS, details())
    session.flush()
    version = annotator.version_id
    updated = roster.update_annotator(
        session,
        OPS,
        annotator.id,
        details(display_name="Noor H.", skills=(), languages=("en",)),
        expected_version=version,
    )
    assert updated.display_name == "Noor H."
    assert updated.version_id == version + 1
    entry = audit_entries(session, "annotator.update")[-1]
    assert entry.before is not None and entry.after is not None
    assert entry.before["display_name"] == "Noor Haddad"
    assert entry.after["display_name"] == "Noor H."
    assert entry.before["skills"]["skill"] == ["bounding boxes"]
    assert entry.after["skills"]["skill"] == []


def test_a_skills_only_edit_still_moves_the_version(session: Session) -> None:
    annotator = roster.create_annotator(session, OPS, details())
    session.flush()
    version = annotator.version_id
    roster.update_annotator(
        session, OPS, annotator.id, details(skills=("polygons",)), expected_version=version
    )
    assert annotator.version_id == version + 1


def test_a_stale_edit_is_refused_with_who_changed_it_and_when(session: Session) -> None:
    annotator = roster.create_annotator(session, OPS, details())
    session.flush()
    seen = annotator.version_id
    roster.update_annotator(
        session, ADMIN, annotator.id, details(display_name="By admin"), expected_version=seen
    )
    with pytest.raises(ConflictError, match=r"changed by ada at \d{4}-\d\d-\d\d .* Reload"):
        roster.update_annotator(
            session, OPS, annotator.id, details(display_name="By ops"), expected_version=seen
        )
    assert annotator.display_name == "By admin"
    assert len(audit_entries(session, "annotator.update")) == 1


def test_concurrent_saves_from_two_sessions_never_overwrite(
    fresh_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh_factory() as setup, setup.begin():
        annotator = roster.create_annotator(setup, OPS, details())
        setup.flush()
        annotator_id, seen = annotator.id, annotator.version_id
    # Two editors opened version ``seen``; the second one saves first.
    with fresh_factory() as second, second.begin():
        roster.update_annotator(
            second, ADMIN, annotator_id, details(display_name="Second"), expected_version=seen
        )
    with fresh_factory() as first, first.begin(), pytest.raises(ConflictError, match="by ada"):
        roster.update_annotator(
            first, OPS, annotator_id, details(display_name="First"), expected_version=seen
        )

    def racing_check(row: Annotator, expected: int, what: str) -> None:
        # Someone commits between this editor's version check and its write.
        with fresh_factory() as racer, racer.begin():
            raced = racer.get(Annotator, annotator_id)
            assert raced is not None
            raced.display_name = "Racer"

    monkeypatch.setattr(roster, "check_version", racing_check)
    with (
        fresh_factory() as third,
        third.begin(),
        pytest.raises(ConflictError, match="someone else"),
    ):
        roster.update_annotator(
            third, OPS, annotator_id, details(display_name="Third"), expected_version=seen + 1
        )
    with fresh_factory() as check:
        saved = check.get(Annotator, annotator_id)
        assert saved is not None and saved.display_name == "Racer"


def test_the_tier_only_changes_through_a_tier_change(session: Session) -> None:
    annotator = roster.create_annotator(session, OPS, details())
    session.flush()
    with pytest.raises(ValidationError, match="Tier history") as caught:
        roster.update_annotator(
            session,
            OPS,
            annotator.id,
            details(tier="reviewer"),
            expected_version=annotator.version_id,
        )
    assert caught.value.field == "tier"


def test_a_lead_edits_their_team_but_not_its_membership_or_contacts(session: Session) -> None:
    team, other = make_team(session), make_team(session)
    mine = make_annotator(session, team_id=team.id, email="mine@example.org")
    theirs = make_annotator(session, team_id=other.id)
    lead = lead_of(team.id)
    edit = details(display_name="Renamed", team_id=team.id, email=None, phone=None)
    roster.update_annotator(session, lead, mine.id, edit, expected_version=mine.version_id)
    assert mine.display_name == "Renamed" and mine.email == "mine@example.org"
    with pytest.raises(PermissionDenied, match="another team"):
        roster.update_annotator(
            session,
            lead,
            mine.id,
            dataclasses.replace(edit, team_id=other.id),
            expected_version=mine.version_id,
        )
    with pytest.raises(PermissionDenied, match="contact details"):
        roster.update_annotator(
            session,
            lead,
            mine.id,
            dataclasses.replace(edit, email="new@example.org"),
            expected_version=mine.version_id,
        )
    with pytest.raises(NotFound):
        roster.update_annotator(
            session,
            lead,
            theirs.id,
            dataclasses.replace(edit, team_id=other.id),
            expected_version=theirs.version_id,
        )


def test_finance_reads_the_pool_but_cannot_edit_it(session: Session) -> None:
    annotator = make_annotator(session)
    assert annotator.id in set(roster.list_pool(session, FINANCE, now=NOW)["id"])
    with pytest.raises(PermissionDenied):
        roster.update_annotator(
            session, FINANCE, annotator.id, details(), expected_version=annotator.version_id
        )


def test_archiving_keeps_the_person_and_needs_a_reason(session: Session) -> None:
    annotator = make_annotator(session, display_name="Leaving Soon")
    with pytest.raises(ValidationError) as caught:
        roster.archive_annotator(
            session, OPS, annotator.id, expected_version=annotator.version_id, reason=" "
        )
    assert caught.value.field == "reason"
    roster.archive_annotator(
        session, OPS, annotator.id, expected_version=annotator.version_id, reason="contract ended"
    )
    assert session.get(Annotator, annotator.id) is not None
    assert annotator.id not in set(roster.list_pool(session, OPS, now=NOW)["id"])
    archived = roster.list_pool(session, OPS, PoolFilter(include_archived=True), now=NOW)
    assert bool(archived.loc[archived["id"] == annotator.id, "archived"].iloc[0])
    entry = audit_entries(session, "annotator.archive")[-1]
    assert entry.before is not None and entry.before["archived_at"] is None
    assert entry.after is not None and entry.after["reason"] == "contract ended"
    with pytest.raises(ValidationError, match="already archived"):
        roster.archive_annotator(
            session, OPS, annotator.id, expected_version=annotator.version_id, reason="again"
        )
    roster.restore_annotator(
        session, OPS, annotator.id, expected_version=annotator.version_id, reason="rehired"
    )
    assert annotator.archived_at is None
    assert len(audit_entries(session, "annotator.restore")) == 1


def test_archiving_from_a_stale_profile_is_refused(session: Session) -> None:
    annotator = make_annotator(session)
    seen = annotator.version_id
    roster.update_annotator(
        session,
        ADMIN,
        annotator.id,
        details(display_name=annotator.display_name, email=annotator.email),
        expected_version=seen,
    )
    with pytest.raises(ConflictError, match="changed by ada"):
        roster.archive_annotator(
            session, OPS, annotator.id, expected_version=seen, reason="contract ended"
        )
    assert annotator.archived_at is None
    assert not audit_entries(session, "annotator.archive")


def test_leads_cannot_archive(session: Session) -> None:
    team = make_team(session)
    annotator = make_annotator(session, team_id=team.id)
    with pytest.raises(PermissionDenied):
        roster.archive_annotator(
            session,
            lead_of(team.id),
            annotator.id,
            expected_version=annotator.version_id,
            reason="no",
        )


def test_linking_an_identity_is_audited_and_an_identity_has_one_owner(session: Session) -> None:
    first = make_annotator(session, display_name="First Owner")
    second = make_annotator(session)
    identity = roster.add_identity(
        session, OPS, first.id, platform="CVAT", external_id="fo-22", email="FO@example.org"
    )
    assert (identity.platform, identity.email) == ("cvat", "fo@example.org")
    assert audit_entries(session, "identity.link")[-1].entity_id == str(identity.id)
    with pytest.raises(ValidationError, match="already linked to First Owner") as caught:
        roster.add_identity(session, OPS, second.id, platform="cvat", external_id="fo-22")
    assert caught.value.field == "external_id"
    with pytest.raises(ValidationError, match="already linked to First Owner"):
        roster.add_identity(session, OPS, first.id, platform="cvat", external_id="fo-22")
    with pytest.raises(ValidationError) as bad:
        roster.add_identity(session, OPS, first.id, platform="Label Studio!", external_id="1")
    assert bad.value.field == "platform"
    with pytest.raises(PermissionDenied):
        roster.add_identity(session, FINANCE, first.id, platform="cvat", external_id="x")


def test_an_imported_placeholder_is_linked_where_its_work_moves(session: Session) -> None:
    placeholder = make_annotator(session, is_linked=False, email=None)
    session.add(
        AnnotatorIdentity(annotator_id=placeholder.id, platform="labelstudio", external_id="77")
    )
    person = make_annotator(session)
    with pytest.raises(ValidationError, match="Unlinked identities page"):
        roster.add_identity(session, OPS, person.id, platform="labelstudio", external_id="77")


def _pool_people(session: Session) -> dict[str, Annotator]:
    vision, text = make_team(session, name="Vision test"), make_team(session, name="Text test")
    project = make_project(session, task_type="image_classification")
    people = {
        "ana": make_annotator(session, display_name="Ana Vision", team_id=vision.id),
        "ben": make_annotator(session, display_name="Ben Text", team_id=text.id, tier="reviewer"),
        "cy": make_annotator(session, display_name="Cy Text", team_id=text.id, status="probation"),
    }
    roster.update_annotator(
        session,
        OPS,
        people["ana"].id,
        details(
            display_name="Ana Vision",
            team_id=vision.id,
            email=people["ana"].email,
            domains=("manufacturing",),
            skills=(),
            languages=("de",),
        ),
        expected_version=people["ana"].version_id,
    )
    session.add(
        QualificationResult(
            annotator_id=people["ana"].id,
            task_type="image_classification",
            score=0.9,
            pass_mark=0.85,
            taken_at=NOW - dt.timedelta(days=40),
        )
    )
    session.add(
        QualificationResult(
            annotator_id=people["ben"].id,
            task_type="image_classification",
            score=0.7,
            pass_mark=0.85,
            taken_at=NOW - dt.timedelta(days=40),
        )
    )
    session.add(Assignment(annotator_id=people["ben"].id, project_id=project.id, starts_on=TODAY))
    make_rollup(session, project, people["ana"], day=TODAY, gold_answered=50, gold_correct=45)
    make_rollup(session, project, people["ben"], day=TODAY, gold_answered=200, gold_correct=190)
    # Work older than the 30-day window does not count.
    make_rollup(
        session,
        project,
        people["cy"],
        day=TODAY - dt.timedelta(days=30),
        gold_answered=100,
        gold_correct=10,
    )
    session.flush()
    return people


def test_roster_shows_recent_gold_accuracy_with_its_interval(session: Session) -> None:
    people = _pool_people(session)
    frame = roster.list_pool(session, OPS, now=NOW).set_index("id")
    ana = frame.loc[people["ana"].id]
    expected = compute_gold_accuracy(45, 50)
    assert ana["gold accuracy (30d)"] == pytest.approx(0.9)
    assert ana["lower bound"] == pytest.approx(expected.ci_low)
    assert ana["upper bound"] == pytest.approx(expected.ci_high)
    assert ana["domains"] == "manufacturing"
    assert ana["qualified for"] == "image_classification"
    assert frame.loc[people["ben"].id, "qualified for"] == ""
    assert frame.loc[people["ben"].id, "current projects"] != ""
    assert frame.loc[people["cy"].id, "gold answers (30d)"] == 0
    assert ana["email"] == people["ana"].email


@pytest.mark.parametrize(
    ("pool_filter", "expected"),
    [
        (PoolFilter(search="text"), {"ben", "cy"}),
        (PoolFilter(tiers=("reviewer",)), {"ben"}),
        (PoolFilter(statuses=("probation",)), {"cy"}),
        (PoolFilter(domain="manufacturing"), {"ana"}),
        (PoolFilter(language="de"), {"ana"}),
        (PoolFilter(qualified_task_type="image_classification"), {"ana"}),
    ],
)
def test_roster_filters(session: Session, pool_filter: PoolFilter, expected: set[str]) -> None:
    people = _pool_people(session)
    ids = {key: person.id for key, person in people.items()}
    shown = set(roster.list_pool(session, OPS, pool_filter, now=NOW)["id"])
    assert {key for key, value in ids.items() if value in shown} == expected


def test_roster_filters_by_team_and_current_project(session: Session) -> None:
    people = _pool_people(session)
    team_id = people["ben"].team_id
    by_team = set(roster.list_pool(session, OPS, PoolFilter(team_id=team_id), now=NOW)["id"])
    assert by_team == {people["ben"].id, people["cy"].id}
    project_id = session.scalars(
        select(Assignment.project_id).where(Assignment.annotator_id == people["ben"].id)
    ).one()
    on_project = roster.list_pool(session, OPS, PoolFilter(project_id=project_id), now=NOW)
    assert set(on_project["id"]) == {people["ben"].id}


def test_roster_sorts_by_lower_bound_with_the_unknown_last(session: Session) -> None:
    people = _pool_people(session)
    frame = roster.list_pool(
        session, OPS, PoolFilter(sort_by="accuracy lower bound", descending=True), now=NOW
    )
    mine = frame[frame["id"].isin([p.id for p in people.values()])]
    assert list(mine["id"]) == [people["ben"].id, people["ana"].id, people["cy"].id]
    with pytest.raises(ValidationError) as caught:
        roster.list_pool(session, OPS, PoolFilter(sort_by="salary"), now=NOW)
    assert caught.value.field == "sort_by"


def test_a_lead_sees_only_their_team_and_no_contact_details(session: Session) -> None:
    people = _pool_people(session)
    lead = lead_of(people["ben"].team_id)
    frame = roster.list_pool(session, lead, now=NOW)
    assert set(frame["id"]) == {people["ben"].id, people["cy"].id}
    assert "email" not in frame.columns and "phone" not in frame.columns
    # Asking for another team shows nothing rather than that team.
    other = roster.list_pool(session, lead, PoolFilter(team_id=people["ana"].team_id), now=NOW)
    assert other.empty
    assert roster.list_pool(session, lead_of(None), now=NOW).empty
    options = roster.pool_options(session, lead)
    assert [team_id for team_id, _ in options.teams] == [people["ben"].team_id]


def test_annotators_cannot_read_the_pool(session: Session) -> None:
    from ops.permissions import Principal

    with pytest.raises(PermissionDenied):
        roster.list_pool(session, Principal("a", "annotator", annotator_id=1), now=NOW)


def test_csv_export_has_the_visible_rows_and_columns(session: Session) -> None:
    people = _pool_people(session)
    lead = lead_of(people["ben"].team_id)
    rows = list(csv.DictReader(io.StringIO(roster.pool_csv(session, lead, now=NOW))))
    assert {row["name"] for row in rows} == {"Ben Text", "Cy Text"}
    assert "email" not in rows[0]
    full = list(csv.DictReader(io.StringIO(roster.pool_csv(session, OPS, now=NOW))))
    ana = next(row for row in full if row["name"] == "Ana Vision")
    assert ana["email"] == people["ana"].email
    assert float(ana["gold accuracy (30d)"]) == pytest.approx(0.9)
