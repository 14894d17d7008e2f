"""Label Studio imports of the real exports in tests/fixtures/labelstudio, on both databases."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import (
    AnnotationEvent,
    Annotator,
    AnnotatorIdentity,
    AuditEntry,
    GoldItem,
    GuidelineVersion,
    ImportBatch,
    Project,
)
from ops.errors import PermissionDenied
from ops.importers.pipeline import ImportFailed, ImportRequest, ImportResult, run_import
from ops.permissions import SYSTEM, Principal
from tests.factories import make_annotator, make_project

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "labelstudio"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
USERS = FIXTURES / "users.json"
EMAIL_BY_USER = {str(user_id): email for email, user_id in EXPECTED["user_ids"].items()}
GOLD_ANNOTATIONS = {gold["annotation_id"] for gold in EXPECTED["golden"]}
GOLD_BY_TASK = {str(gold["task_id"]): gold["gold_label"] for gold in EXPECTED["golden"]}


def import_ls(session: Session, project: Project, name: str, **options: Any) -> ImportResult:
    options.setdefault("users_path", USERS)
    return run_import(
        session,
        SYSTEM,
        ImportRequest(source="labelstudio", path=FIXTURES / name, project=project.slug, **options),
    )


def events_by_email(session: Session, project: Project) -> Counter[str]:
    """Events per Label Studio e-mail, through the identities the import made."""
    rows = session.execute(
        select(AnnotatorIdentity.email, func.count(AnnotationEvent.id))
        .join(AnnotationEvent, AnnotationEvent.annotator_id == AnnotatorIdentity.annotator_id)
        .where(AnnotationEvent.project_id == project.id)
        .group_by(AnnotatorIdentity.email)
    )
    return Counter({str(email): int(count) for email, count in rows})


def stored(session: Session, project: Project) -> dict[str, AnnotationEvent]:
    return {
        event.external_id: event
        for event in session.scalars(
            select(AnnotationEvent).where(AnnotationEvent.project_id == project.id)
        )
    }


def expected_work(rows: list[dict[str, Any]], *, min_rows: bool = False) -> Counter[str]:
    """Annotations per e-mail that are work: not gold references (nor skips in JSON_MIN/CSV)."""
    return Counter(
        row["annotator"]
        for row in rows
        if row["annotation_id"] not in GOLD_ANNOTATIONS and not (min_rows and row["was_cancelled"])
    )


def test_full_json_imports_every_annotation_with_its_person_skip_and_gold(
    session: Session,
) -> None:
    project = make_project(session)
    result = import_ls(session, project, "export.json")

    assert (result.rows, result.inserted, result.duplicate, result.rejected) == (76, 73, 0, 0)
    assert result.summary.format == "json"
    assert result.summary.golden_items == 3
    assert result.summary.gold_references == 3
    assert result.summary.skipped == 3
    assert result.summary.annotators_unlinked == 4
    work = expected_work(EXPECTED["export_annotations"])
    assert events_by_email(session, project) == work
    assert work["alice.nguyen@example.com"] == 16  # 17 minus her starred gold annotation

    events = stored(session, project)
    assert len(events) == 73
    for row in EXPECTED["export_annotations"]:
        key = f"ls:{row['annotation_id']}"
        if row["annotation_id"] in GOLD_ANNOTATIONS:
            assert key not in events, "a ground-truth annotation is not regular work"
            continue
        event = events[key]
        assert event.item_id == str(row["task_id"])
        assert event.skipped is row["was_cancelled"]
        if row["label"] is not None:
            assert event.label == row["label"]
        assert event.is_gold is (event.item_id in GOLD_BY_TASK)
        assert event.gold_label == GOLD_BY_TASK.get(event.item_id)
        assert event.import_batch_id == result.batch_id
        assert event.active_seconds > 0
    # The skipped annotations carry no label; a result without a choice keeps its content.
    assert {key for key, event in events.items() if event.skipped} == {"ls:14", "ls:31", "ls:55"}
    assert all(events[key].label is None for key in ("ls:14", "ls:31", "ls:55"))
    assert json.loads(events["ls:20"].label or "null")[0]["from_name"] == "comment"
    assert events["ls:19"].label == "cosmetic_blemish"
    assert events["ls:9"].label == "no_defect" and events["ls:9"].gold_label == "cosmetic_blemish"
    assert events["ls:1"].submitted_at == dt.datetime(
        2026, 11, 28, 1, 51, 47, 192879, tzinfo=dt.UTC
    )
    assert events["ls:1"].active_seconds == pytest.approx(19.441)
    gold = {g.item_id: g for g in session.scalars(select(GoldItem))}
    assert {item: g.gold_label for item, g in gold.items()} == GOLD_BY_TASK
    assert gold["17"].external_id == "ls:42" and gold["17"].set_by == "labelstudio:2"
    # Lead times per user add up to the fixture's sums (gold references excluded).
    alice = session.scalar(
        select(func.sum(AnnotationEvent.active_seconds))
        .join(AnnotatorIdentity, AnnotatorIdentity.annotator_id == AnnotationEvent.annotator_id)
        .where(AnnotatorIdentity.email == "bob.okafor@example.com")
    )
    assert alice == pytest.approx(421.910, abs=1e-3)


def test_unknown_people_become_unlinked_annotators_with_identities(session: Session) -> None:
    project = make_project(session)
    import_ls(session, project, "export.json")
    identities = {
        identity.external_id: identity
        for identity in session.scalars(
            select(AnnotatorIdentity).where(AnnotatorIdentity.platform == "labelstudio")
        )
    }
    assert set(identities) == {"2", "3", "4", "5"}, "the admin did only gold, no work"
    for external_id, identity in identities.items():
        assert identity.email == EMAIL_BY_USER[external_id]
        annotator = session.get(Annotator, identity.annotator_id)
        assert annotator is not None and annotator.is_linked is False
    people = [session.get(Annotator, i.annotator_id) for i in identities.values()]
    names = {person.display_name for person in people if person is not None}
    assert names == {"Alice Nguyen", "Bob Okafor", "Carla Mendes", "Dmitri Volkov"}


def test_known_people_are_matched_by_email_and_by_identity(session: Session) -> None:
    project = make_project(session)
    alice = make_annotator(session, email="Alice.Nguyen@example.com")
    bob = make_annotator(session)
    session.add(AnnotatorIdentity(annotator_id=bob.id, platform="labelstudio", external_id="3"))
    session.flush()
    result = import_ls(session, project, "export.json")
    assert result.summary.annotators_matched == 2
    assert result.summary.annotators_unlinked == 2
    by_annotator = Counter(
        session.scalars(
            select(AnnotationEvent.annotator_id).where(AnnotationEvent.project_id == project.id)
        )
    )
    assert by_annotator[alice.id] == 16
    assert by_annotator[bob.id] == 22


def test_reimport_adds_nothing(session: Session) -> None:
    project = make_project(session)
    import_ls(session, project, "export.json")
    again = import_ls(session, project, "export.json")
    assert (again.inserted, again.updated, again.duplicate) == (0, 0, 73)
    assert again.summary.annotators_unlinked == 0
    assert len(stored(session, project)) == 73
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "import.commit").order_by(AuditEntry.id)
    ).all()
    assert [(e.after or {}).get("inserted") for e in entries] == [73, 0]


@pytest.mark.parametrize("name", ["export_min.json", "export.csv"])
def test_flat_exports_import_the_same_work_without_gold_or_skips(
    session: Session, name: str
) -> None:
    project = make_project(session)
    result = import_ls(session, project, name, label_field="defect", no_gold=True)
    assert result.rows == 73
    assert result.inserted == 73, "told no one set gold: every row is work"
    assert result.summary.format == ("csv" if name.endswith("csv") else "json_min")
    assert result.summary.format_lacks, "the summary says skipped annotations are missing"
    counts = events_by_email(session, project)
    expected = Counter(
        row["annotator"] for row in EXPECTED["export_annotations"] if not row["was_cancelled"]
    )
    assert counts == expected
    events = stored(session, project)
    assert events["ls:19"].label == "cosmetic_blemish"
    assert events["ls:20"].label is None, "annotation 20 has no defect choice"
    assert not any(event.skipped or event.is_gold for event in events.values())


@pytest.mark.parametrize("name", ["export_min.json", "export.csv"])
def test_flat_export_after_full_json_adds_nothing_and_keeps_gold(
    session: Session, name: str
) -> None:
    project = make_project(session)
    import_ls(session, project, "export.json")
    result = import_ls(session, project, name, label_field="defect", no_gold=True)
    assert (result.inserted, result.updated, result.duplicate) == (0, 0, 70)
    assert result.summary.gold_references == 3
    assert result.summary.gold_events == 8
    assert result.summary.annotators_unlinked == 0, "the admin's gold rows are left out"
    assert len(stored(session, project)) == 73


def test_full_json_after_flat_export_moves_gold_references_out_of_work(session: Session) -> None:
    project = make_project(session)
    import_ls(session, project, "export_min.json", label_field="defect", no_gold=True)
    result = import_ls(session, project, "export.json", label_field="defect")
    assert result.summary.gold_reference_events_removed == 3
    events = stored(session, project)
    assert not GOLD_ANNOTATIONS & {int(key[3:]) for key in events}
    assert len(events) == 73
    # Events on golden items were replaced to carry their gold.
    assert result.updated == 8
    assert sum(event.is_gold for event in events.values()) == 8


def test_flat_export_needs_a_label_field_when_controls_are_ambiguous(session: Session) -> None:
    project = make_project(session)
    with pytest.raises(ImportFailed, match="--label-field") as raised:
        import_ls(session, project, "export.csv", no_gold=True)
    assert "export.csv" in str(raised.value)
    assert session.scalar(select(func.count(AnnotationEvent.id))) == 0


@pytest.mark.parametrize("name", ["export_min.json", "export.csv"])
def test_flat_export_without_reference_annotators_is_refused_and_stores_nothing(
    session: Session, name: str
) -> None:
    project = make_project(session)
    with pytest.raises(ImportFailed, match="no ground_truth and no was_cancelled") as raised:
        import_ls(session, project, name, label_field="defect")
    assert str(raised.value).startswith(f"{name}: ")
    assert "export JSON" in str(raised.value)
    assert session.scalar(select(func.count(AnnotationEvent.id))) == 0
    assert session.scalar(select(func.count(Annotator.id))) == 0


@pytest.mark.parametrize("name", ["export_min.json", "export.csv"])
@pytest.mark.parametrize("named", ["admin@example.com", "ADMIN@example.com", "1"])
def test_reference_annotator_makes_their_flat_rows_the_gold_of_their_tasks(
    session: Session, name: str, named: str
) -> None:
    project = make_project(session)
    result = import_ls(session, project, name, label_field="defect", reference_annotators=(named,))
    assert (result.rows, result.inserted) == (73, 71)
    assert result.summary.gold_references == 2
    assert result.summary.golden_items == 2
    assert result.summary.gold_events == 6
    assert result.summary.reference_annotators == (named,)
    assert "admin@example.com" not in events_by_email(session, project), "gold is not work"
    gold = {g.item_id: g for g in session.scalars(select(GoldItem))}
    assert {item: g.gold_label for item, g in gold.items()} == {
        "3": "cosmetic_blemish",
        "10": "no_defect",
    }
    assert gold["3"].external_id == "ls:75" and gold["3"].set_by == "labelstudio:1"
    events = stored(session, project)
    assert events["ls:9"].is_gold and events["ls:9"].gold_label == "cosmetic_blemish"
    assert events["ls:9"].label == "no_defect", "dmitri's wrong answer on a golden item"
    assert sum(event.is_gold for event in events.values()) == 6


def test_reference_annotator_known_to_annops_is_matched_without_a_user_list(
    session: Session,
) -> None:
    project = make_project(session)
    import_ls(session, project, "export.json")  # makes the identities labelstudio:1..5
    admin = session.scalars(
        select(AnnotatorIdentity).where(AnnotatorIdentity.external_id == "2")
    ).one()
    person = session.get(Annotator, admin.annotator_id)
    assert person is not None
    person.email = "alice@work.example"
    session.flush()
    result = import_ls(
        session,
        project,
        "export_min.json",
        label_field="defect",
        users_path=None,
        reference_annotators=("alice@work.example",),
    )
    assert result.summary.gold_references == 17 + 2, "alice's 17 rows, and the 2 known gold"


def test_unknown_reference_annotator_is_refused(session: Session) -> None:
    project = make_project(session)
    with pytest.raises(ImportFailed, match="no annotation by lead@example.com"):
        import_ls(
            session,
            project,
            "export_min.json",
            label_field="defect",
            reference_annotators=("lead@example.com",),
        )
    with pytest.raises(ImportFailed, match="an e-mail or a Label Studio user id"):
        import_ls(session, project, "export.csv", reference_annotators=("Morgan Reyes",))
    assert session.scalar(select(func.count(AnnotationEvent.id))) == 0


def test_later_export_adds_the_new_work_and_replaces_the_changed_label(session: Session) -> None:
    project = make_project(session)
    first = import_ls(session, project, "export.json")
    before = stored(session, project)
    later = import_ls(session, project, "export_later.json")
    assert (later.rows, later.inserted, later.updated, later.duplicate) == (81, 5, 1, 72)
    events = stored(session, project)
    assert len(events) == 78
    new = {f"ls:{annotation_id}" for annotation_id in EXPECTED["export_later_new_annotation_ids"]}
    assert set(events) - set(before) == new
    changed = events["ls:5"]
    assert changed.label == EXPECTED["export_later_updated"]["new_label"]
    assert changed.active_seconds == pytest.approx(46.232)
    assert changed.import_batch_id == later.batch_id
    assert changed.submitted_at == before["ls:5"].submitted_at
    assert events["ls:1"].import_batch_id == first.batch_id, "unchanged work keeps its lineage"
    assert events_by_email(session, project) == expected_work(EXPECTED["export_later_annotations"])
    # Importing the first export again does not bring the old label back.
    again = import_ls(session, project, "export.json")
    assert (again.inserted, again.updated) == (0, 0)
    assert stored(session, project)["ls:5"].label == "cosmetic_blemish"


def test_guideline_version_in_effect_or_given(session: Session) -> None:
    project = make_project(session)
    early = GuidelineVersion(
        project_id=project.id, version="v1", effective_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    later = GuidelineVersion(
        project_id=project.id,
        version="v2",
        effective_from=dt.datetime(2026, 11, 28, 1, 51, 49, tzinfo=dt.UTC),
    )
    session.add_all([early, later])
    session.flush()
    import_ls(session, project, "export.json")
    events = stored(session, project)
    assert events["ls:1"].guideline_version_id == early.id  # 01:51:47
    assert events["ls:74"].guideline_version_id == later.id  # 01:51:51
    other = make_project(session)
    with pytest.raises(ImportFailed, match="no guideline version 'v9'"):
        import_ls(session, other, "export.json", guideline_version="v9")
    given = GuidelineVersion(
        project_id=other.id, version="v7", effective_from=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    )
    session.add(given)
    session.flush()
    import_ls(session, other, "export.json", guideline_version="v7")
    assert {e.guideline_version_id for e in stored(session, other).values()} == {given.id}


def test_no_guideline_version_when_none_is_in_effect(session: Session) -> None:
    project = make_project(session)
    import_ls(session, project, "export.json")
    assert {e.guideline_version_id for e in stored(session, project).values()} == {None}


def test_dry_run_stores_nothing_but_its_lineage(session: Session) -> None:
    project = make_project(session)
    result = import_ls(session, project, "export.json", dry_run=True)
    assert result.status == "dry_run"
    assert (result.inserted, result.summary.annotators_unlinked) == (73, 4)
    assert session.scalar(select(func.count(AnnotationEvent.id))) == 0
    assert session.scalar(select(func.count(GoldItem.id))) == 0
    assert session.scalar(select(func.count(AnnotatorIdentity.id))) == 0
    batch = session.get(ImportBatch, result.batch_id)
    assert batch is not None and batch.status == "dry_run" and batch.n_inserted == 73


def test_nested_completed_by_and_reviews_are_understood(session: Session, tmp_path: Path) -> None:
    project = make_project(session)
    tasks = [
        {
            "id": 501,
            "data": {},
            "annotations": [
                {
                    "id": 9001,
                    "completed_by": {
                        "id": 77,
                        "email": "Nia.Obi@example.com",
                        "first_name": "Nia",
                        "last_name": "Obi",
                    },
                    "result": [
                        {"type": "choices", "from_name": "c", "value": {"choices": ["a", "b"]}}
                    ],
                    "was_cancelled": False,
                    "ground_truth": False,
                    "created_at": "2026-03-02T10:00:00Z",
                    "updated_at": "2026-03-02T10:05:00+00:00",
                    "lead_time": 12,
                    "last_action": "fixed_and_accepted",
                    "reviews": [
                        {"created_by": 1, "accepted": False, "created_at": "2026-03-03T09:00:00Z"},
                        {"created_by": 2, "accepted": True, "created_at": "2026-03-04T09:00:00Z"},
                    ],
                }
            ],
        }
    ]
    path = tmp_path / "nested.json"
    path.write_text(json.dumps(tasks))
    run_import(
        session,
        SYSTEM,
        ImportRequest(source="labelstudio", path=path, project=project.slug, users_path=USERS),
    )
    event = stored(session, project)["ls:9001"]
    annotator = session.get(Annotator, event.annotator_id)
    assert annotator is not None and annotator.display_name == "Nia Obi"
    assert event.label == '[{"from_name":"c","value":{"choices":["a","b"]}}]'
    assert event.review_outcome == "accepted"
    assert event.reviewed_at == dt.datetime(2026, 3, 4, 9, tzinfo=dt.UTC)
    reviewer = session.scalars(
        select(AnnotatorIdentity).where(AnnotatorIdentity.annotator_id == event.reviewer_id)
    ).one()
    assert (reviewer.external_id, reviewer.email) == ("2", "alice.nguyen@example.com")


def test_unknown_project_and_permission_are_refused(session: Session) -> None:
    with pytest.raises(ImportFailed, match="project 'no-such' does not exist"):
        run_import(
            session,
            SYSTEM,
            ImportRequest(source="labelstudio", path=FIXTURES / "export.json", project="no-such"),
        )
    project = make_project(session)
    with pytest.raises(PermissionDenied):
        run_import(
            session,
            Principal(username="lee", role="lead"),
            ImportRequest(
                source="labelstudio", path=FIXTURES / "export.json", project=project.slug
            ),
        )
