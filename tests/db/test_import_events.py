"""The canonical events import: columns, checks, rejects, atomicity, on both databases."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import (
    AnnotationEvent,
    Annotator,
    AnnotatorIdentity,
    AuditEntry,
    GoldItem,
    GuidelineVersion,
    ImportBatch,
)
from ops.importers.events import COLUMNS
from ops.importers.pipeline import ImportFailed, ImportRequest, import_file, run_import
from ops.permissions import SYSTEM
from tests.factories import make_annotator, make_project

HEADER = ",".join(COLUMNS)


def row(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "project": "events-project",
        "item_id": "item-1",
        "annotator": "ann.lee@example.org",
        "submitted_at": "2026-03-02T10:00:00Z",
        "external_id": "ev-1",
        "label": "cat",
        "active_seconds": "12.5",
        "skipped": "false",
        "escalated": "false",
        "gold_label": "",
        "reviewer": "",
        "review_outcome": "",
        "review_seconds": "",
        "reviewed_at": "",
        "guideline_version": "",
    }
    base.update(values)
    return base


def write_csv(path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...] = COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def import_events(session: Session, path: Path, **options: Any) -> Any:
    return run_import(session, SYSTEM, ImportRequest(source="events", path=path, **options))


@pytest.fixture
def project(session: Session) -> Any:
    return make_project(session, slug="events-project")


def fingerprint(session: Session) -> tuple[Any, ...]:
    """Everything an import may touch except its own lineage row."""
    events = session.execute(
        select(
            AnnotationEvent.external_id, AnnotationEvent.label, AnnotationEvent.annotator_id
        ).order_by(AnnotationEvent.external_id)
    ).all()
    return (
        tuple(events),
        session.scalar(select(func.count(Annotator.id))),
        session.scalar(select(func.count(AnnotatorIdentity.id))),
        session.scalar(select(func.count(GoldItem.id))),
    )


def test_csv_rows_become_events_with_every_field(
    session: Session, project: Any, tmp_path: Path
) -> None:
    known = make_annotator(session, email="Ann.Lee@example.org")
    version = GuidelineVersion(
        project_id=project.id, version="v2", effective_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    session.add(version)
    session.flush()
    path = write_csv(
        tmp_path / "events.csv",
        [
            row(),
            row(
                external_id="ev-2",
                item_id="item-2",
                annotator="vendor:77",
                label="",
                skipped="TRUE",
                escalated="yes",
                gold_label="dog",
                reviewer="ann.lee@example.org",
                review_outcome="corrected",
                review_seconds="30",
                reviewed_at="2026-03-03T08:00:00+02:00",
                guideline_version="v2",
                submitted_at="2026-03-02 11:30:15.25+01:00",
            ),
        ],
    )
    result = import_events(session, path)
    assert (result.rows, result.inserted, result.duplicate, result.rejected) == (2, 2, 0, 0)
    assert result.summary.annotators_matched == 1 and result.summary.annotators_unlinked == 1
    events = {
        e.external_id: e
        for e in session.scalars(
            select(AnnotationEvent).where(AnnotationEvent.project_id == project.id)
        )
    }
    first, second = events["ev-1"], events["ev-2"]
    assert first.annotator_id == known.id
    assert (first.label, first.active_seconds, first.skipped, first.is_gold) == (
        "cat",
        12.5,
        False,
        False,
    )
    assert first.guideline_version_id == version.id, "the version in effect at submission"
    assert second.label is None and second.skipped and second.escalated
    assert (second.is_gold, second.gold_label) == (True, "dog")
    assert (second.reviewer_id, second.review_outcome, second.review_seconds) == (
        known.id,
        "corrected",
        30.0,
    )
    assert second.reviewed_at == dt.datetime(2026, 3, 3, 6, tzinfo=dt.UTC)
    assert second.submitted_at == dt.datetime(2026, 3, 2, 10, 30, 15, 250000, tzinfo=dt.UTC)
    vendor = session.scalars(
        select(AnnotatorIdentity).where(AnnotatorIdentity.platform == "vendor")
    ).one()
    assert vendor.external_id == "77" and vendor.annotator_id == second.annotator_id
    unlinked = session.get(Annotator, second.annotator_id)
    assert unlinked is not None and unlinked.is_linked is False


def test_parquet_with_only_required_columns(session: Session, project: Any, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "project": ["events-project"] * 3,
            "item_id": ["a", "b", "c"],
            "annotator": ["p1@example.org", "p2@example.org", "p1@example.org"],
            "submitted_at": pd.to_datetime(
                ["2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z", "2026-03-02T12:00:00Z"], utc=True
            ),
            "external_id": ["x1", "x2", "x3"],
            "active_seconds": [1.0, 2.0, 3.5],
        }
    )
    path = tmp_path / "events.parquet"
    frame.to_parquet(path)
    result = import_events(session, path)
    assert result.summary.format == "parquet"
    assert result.inserted == 3
    total = session.scalar(
        select(func.sum(AnnotationEvent.active_seconds)).where(
            AnnotationEvent.project_id == project.id
        )
    )
    assert total == pytest.approx(6.5)
    assert session.scalar(select(func.count(Annotator.id)).where(Annotator.is_linked == False)) == 2  # noqa: E712


def test_reimport_and_overlap_add_nothing_twice(
    session: Session, project: Any, tmp_path: Path
) -> None:
    first = write_csv(tmp_path / "a.csv", [row(external_id=f"ev-{i}") for i in range(5)])
    overlap = write_csv(tmp_path / "b.csv", [row(external_id=f"ev-{i}") for i in range(3, 8)])
    assert import_events(session, first).inserted == 5
    again = import_events(session, first)
    assert (again.inserted, again.duplicate) == (0, 5)
    result = import_events(session, overlap)
    assert (result.inserted, result.duplicate) == (3, 2)
    assert session.scalar(select(func.count(AnnotationEvent.id))) == 8


def test_lineage_records_the_hash_of_the_whole_file(
    session: Session, project: Any, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "a.csv", [row(external_id=f"ev-{i}") for i in range(300)])
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    rehearsal = import_events(session, path, dry_run=True)
    result = import_events(session, path)
    assert rehearsal.sha256 == result.sha256 == expected
    batch = session.get(ImportBatch, result.batch_id)
    assert batch is not None and batch.sha256 == expected
    audited = session.scalars(
        select(AuditEntry.after)
        .where(AuditEntry.action == "import.commit")
        .order_by(AuditEntry.id.desc())
    ).first()
    assert audited is not None and audited["sha256"] == expected


BAD_ROWS = [
    ({"submitted_at": "yesterday"}, "submitted_at", "ISO 8601"),
    ({"submitted_at": "2026-03-02T10:00:00"}, "submitted_at", "with a zone"),
    ({"submitted_at": "2026-02-30T10:00:00Z"}, "submitted_at", "not a valid date"),
    ({"submitted_at": "1970-01-01T00:00:00Z"}, "submitted_at", "outside"),
    ({"submitted_at": "2999-01-01T00:00:00Z"}, "submitted_at", "outside"),
    ({"active_seconds": "-3"}, "active_seconds", "negative"),
    ({"active_seconds": "999999"}, "active_seconds", "more than 24 hours"),
    ({"active_seconds": "ten"}, "active_seconds", "not a number"),
    ({"active_seconds": "nan"}, "active_seconds", "not a number"),
    ({"skipped": "maybe"}, "skipped", "true or false"),
    ({"project": "no-such-project"}, "project", "no such project"),
    ({"annotator": "just a name"}, "annotator", "e-mail or platform:id"),
    ({"annotator": ""}, "annotator", "required"),
    ({"item_id": ""}, "item_id", "required"),
    ({"external_id": "x" * 201}, "external_id", "longer than 200"),
    ({"review_outcome": "fine"}, "review_outcome", "must be one of"),
    ({"guideline_version": "v404"}, "guideline_version", "no such guideline version"),
    ({"review_seconds": "-1"}, "review_seconds", "negative"),
    ({"label": "c\x00t"}, "label", "NUL character"),
    ({"annotator": "a" * 190 + "@example.org"}, "annotator", "longer than 200"),
]


@pytest.mark.parametrize(("change", "field", "reason"), BAD_ROWS)
def test_a_bad_cell_stops_the_import_naming_file_row_and_field(
    session: Session, project: Any, tmp_path: Path, change: dict[str, str], field: str, reason: str
) -> None:
    path = write_csv(
        tmp_path / "events.csv",
        [row(external_id="ok-1"), row(external_id="ok-2"), row(**{"external_id": "bad", **change})],
    )
    before = fingerprint(session)
    with pytest.raises(ImportFailed) as raised:
        import_events(session, path)
    message = str(raised.value)
    assert message.startswith(f"events.csv, row 4, field {field}: "), message
    assert reason in message
    assert fingerprint(session) == before


@pytest.mark.parametrize(("change", "field", "reason"), BAD_ROWS[:6])
def test_skip_invalid_imports_the_rest_and_writes_rejects(
    session: Session, project: Any, tmp_path: Path, change: dict[str, str], field: str, reason: str
) -> None:
    path = write_csv(
        tmp_path / "events.csv",
        [row(external_id="ok-1"), row(**{"external_id": "bad", **change}), row(external_id="ok-2")],
    )
    rejects = tmp_path / "rejects.csv"
    result = import_events(session, path, skip_invalid=True, rejects_path=rejects)
    assert (result.rows, result.inserted, result.rejected) == (3, 2, 1)
    lines = list(csv.DictReader(io.StringIO(rejects.read_text(encoding="utf-8"))))
    assert len(lines) == 1
    assert (lines[0]["row"], lines[0]["field"]) == ("3", field)
    assert reason in lines[0]["reason"]
    assert lines[0]["value"] == next(iter(change.values()))[:80]


FILE_PROBLEMS = [
    (b"", "the file is empty"),
    (b"project,item_id\nx,y\n", "missing required column(s) annotator, submitted_at, external_id"),
    ((HEADER + ",colour\n").encode(), "unknown column(s) colour"),
    (b"\xff\xfep\x00r\x00", "UTF-16"),
    (b"PAR1 not really parquet", "Parquet"),
]


@pytest.mark.parametrize(("content", "reason"), FILE_PROBLEMS)
def test_unreadable_files_fail_with_one_clear_message(
    session: Session, project: Any, tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFailed, match="^broken.csv") as raised:
        import_events(session, path, skip_invalid=True)
    assert reason in str(raised.value)


def test_ragged_rows_latin1_and_repeats_are_rejected_with_their_rows(
    session: Session, project: Any, tmp_path: Path
) -> None:
    good = io.StringIO()
    write_csv(Path(tmp_path / "tmp.csv"), [row(external_id="a"), row(external_id="b")])
    text = (tmp_path / "tmp.csv").read_bytes()
    lines = text.split(b"\r\n")
    content = b"\r\n".join(
        [
            lines[0],
            lines[1],
            b"events-project,only,three",
            lines[2].replace(b"cat", b"caf\xe9"),
            lines[1],  # the same work again
            b"",
        ]
    )
    path = tmp_path / "messy.csv"
    path.write_bytes(b"\xef\xbb\xbf" + content)  # a byte order mark is fine
    with pytest.raises(ImportFailed, match="messy.csv, row 3, field \\(row\\): has 3 fields"):
        import_events(session, path)
    rejects = tmp_path / "messy.rejects.csv"
    result = import_events(session, path, skip_invalid=True, rejects_path=rejects)
    assert (result.rows, result.inserted, result.rejected) == (4, 1, 3)
    found = {
        (r["row"], r["field"])
        for r in csv.DictReader(io.StringIO(rejects.read_text(encoding="utf-8")))
    }
    assert found == {("3", "(row)"), ("4", "label"), ("5", "external_id")}
    assert good.getvalue() == ""


def test_repeated_work_in_one_file_stops_the_import(
    session: Session, project: Any, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "dup.csv", [row(), row(label="dog")])
    with pytest.raises(ImportFailed, match="row 3, field external_id: repeats the work of row 2"):
        import_events(session, path)


def test_a_key_repeats_only_within_its_project(
    session: Session, project: Any, tmp_path: Path
) -> None:
    make_project(session, slug="other-project")
    both = [row(external_id="e1"), row(project="other-project", external_id="e1")]
    path = write_csv(tmp_path / "two.csv", both)
    assert import_events(session, path).inserted == 2
    repeated = [
        row(external_id="e2"),
        row(project="other-project", external_id="e2"),
        row(project="other-project", external_id="e3"),
        row(project="other-project", external_id="e2", label="dog"),
    ]
    path = write_csv(tmp_path / "repeat.csv", repeated)
    with pytest.raises(ImportFailed, match="row 5, field external_id: repeats the work of row 3"):
        import_events(session, path)


def test_summary_counts_what_was_stored_per_person_without_the_repeats(
    session: Session, project: Any, tmp_path: Path
) -> None:
    make_project(session, slug="other-project")
    first = write_csv(tmp_path / "first.csv", [row(external_id="old")])
    assert import_events(session, first).inserted == 1
    rows = [
        row(external_id="old"),  # already stored
        row(external_id="a1"),
        row(external_id="a2", submitted_at="2026-04-30T23:30:00-02:00"),  # May in UTC
        row(external_id="a1", label="dog"),  # repeats row 3
        row(external_id="b1", annotator="bo@example.org", project="other-project"),
        row(external_id="a1", annotator="bo@example.org", project="other-project"),
        row(external_id="b1", annotator="bo@example.org", project="other-project"),  # repeat
    ]
    path = write_csv(tmp_path / "mixed.csv", rows)
    rejects = tmp_path / "mixed.rejects.csv"
    result = import_events(session, path, skip_invalid=True, rejects_path=rejects)
    assert (result.rows, result.inserted, result.duplicate, result.rejected) == (7, 4, 1, 2)
    assert result.summary.repeated_rows == 2
    # Rows staged per person, the one already stored included, the repeats not.
    per_person = {entry.annotator: entry.events for entry in result.summary.per_annotator}
    assert sorted(per_person.values()) == [2, 3]
    stored = session.scalars(
        select(AnnotationEvent.submitted_at).where(AnnotationEvent.external_id == "a2")
    ).one()
    assert (stored.year, stored.month, stored.day) == (2026, 5, 1)


def test_project_and_guideline_options_belong_to_label_studio(
    session: Session, project: Any, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "events.csv", [row()])
    with pytest.raises(ImportFailed, match="per row"):
        import_events(session, path, project=project.slug)


def test_failed_import_is_rolled_back_and_recorded(
    fresh_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with fresh_factory() as session, session.begin():
        make_project(session, slug="events-project")
    good = write_csv(tmp_path / "good.csv", [row(external_id=f"g{i}") for i in range(3)])
    import_file(fresh_factory, SYSTEM, ImportRequest(source="events", path=good))
    # Many valid rows with unknown people first, then one bad row at the end.
    rows = [row(external_id=f"n{i}", annotator=f"new{i}@example.org") for i in range(50)]
    bad = write_csv(tmp_path / "bad.csv", [*rows, row(external_id="z", active_seconds="-1")])
    with fresh_factory() as session:
        before = fingerprint(session)
    with pytest.raises(ImportFailed, match="row 52, field active_seconds"):
        import_file(fresh_factory, SYSTEM, ImportRequest(source="events", path=bad))
    with fresh_factory() as session:
        assert fingerprint(session) == before
        batches = session.scalars(select(ImportBatch).order_by(ImportBatch.id)).all()
        assert [b.status for b in batches] == ["committed", "failed"]
        assert batches[1].n_inserted == 0 and "row 52" in (batches[1].error or "")
        assert batches[1].file_name == "bad.csv" and len(batches[1].sha256) == 64


def _corrupt(data: bytes, how: str, position: int, blob: bytes) -> bytes:
    at = position % (len(data) + 1)
    if how == "truncate":
        return data[:at]
    if how == "insert":
        return data[:at] + blob + data[at:]
    if how == "overwrite":
        return data[:at] + blob + data[at + len(blob) :]
    return data[:at] + data[at + len(blob) :]  # delete


CORRUPTION = st.tuples(
    st.sampled_from(["truncate", "insert", "overwrite", "delete"]),
    st.integers(min_value=0, max_value=10_000),
    st.binary(min_size=1, max_size=12)
    | st.sampled_from(
        [
            b"\xe9",
            b'"',
            b",",
            b"\n",
            b"-1",
            b"\x00",
            b"{",
            b"]",
            b"Z",
            b"\xef\xbb\xbf",
            b"\\ud800",
            b"\\udfff\\ud800",
            b"[" * 5000,
            b'{"a":' * 3000,
            b'"yes"',
            b"-7",
            b"5",
        ]
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(corruption=CORRUPTION, target=st.sampled_from(["events.csv", "export.json", "export.csv"]))
def test_corrupted_files_either_import_or_change_nothing(
    session: Session,
    project: Any,
    tmp_path_factory: pytest.TempPathFactory,
    corruption: Any,
    target: str,
) -> None:
    """Any damage to a file gives ImportFailed with the database unchanged (or a clean import)."""
    folder = tmp_path_factory.mktemp("corrupt")
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "labelstudio"
    if target == "events.csv":
        original = write_csv(
            folder / "source.csv",
            [row(external_id=f"e{i}", annotator=f"p{i % 3}@example.org") for i in range(20)],
        ).read_bytes()
        request: dict[str, Any] = {"source": "events"}
    else:
        original = (fixtures / target).read_bytes()
        request = {
            "source": "labelstudio",
            "project": project.slug,
            "label_field": "defect",
            "no_gold": True,
        }
    path = folder / target
    path.write_bytes(_corrupt(original, *corruption))
    before = fingerprint(session)
    batches = session.scalar(select(func.count(ImportBatch.id)))
    nested = session.begin_nested()
    try:
        run_import(session, SYSTEM, ImportRequest(path=path, **request))
    except ImportFailed as error:
        assert str(error).startswith(target), error
        assert "\n" not in str(error), error
        assert fingerprint(session) == before
        assert session.scalar(select(func.count(ImportBatch.id))) == batches
    finally:
        nested.rollback()
    assert fingerprint(session) == before
