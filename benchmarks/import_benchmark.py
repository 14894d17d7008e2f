"""Import throughput on PostgreSQL against raw COPY, measured in the same run.

    ANNOPS_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python benchmarks/import_benchmark.py [--events 1000000] [--annotations 200000]
    .venv/bin/python benchmarks/import_benchmark.py --database URL [--events 1000000]

Without ``--database`` it makes a scratch database next to the one named and also reports
a raw COPY into a table shaped, indexed and constrained like annotation_events, reading a
Label Studio JSON export, and ``annops import labelstudio`` of it.

With ``--database`` (a database that already holds the work, e.g. the demo at 10M events:
``annops demo --annotators 5000 --events 10000000 --no-serve``) it migrates it to the
newest schema, writes a canonical CSV of new work for a project of its own, times a raw
COPY of the file into an unindexed table and ``annops import events`` of it, prints the
ratio, and then removes what it added, so the database can be measured again. ``--spread``
makes the file the work of everyone stored, in their own projects; ``--labelstudio`` also
times ``annops import labelstudio`` of an ``--annotations`` export into a project of its own,
and ``--later`` then a later export of that project with 10% of its annotations newer.
``measure_import_ratio`` is that measurement for other benchmarks to call.

Targets: import >= 0.5 x bare COPY; Label Studio >= 100k/s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from ops.importers.labelstudio import LabelStudioReader
from ops.importers.pipeline import ImportRequest, ImportResult, import_file
from ops.permissions import SYSTEM
from ops.projects import add_project
from ops.rollups import refresh

BARE = """CREATE TABLE bare_events (project text, item_id text, annotator text, label text,
    submitted_at timestamptz, active_seconds double precision, skipped boolean,
    escalated boolean, gold_label text, reviewer text, review_outcome text,
    review_seconds double precision, reviewed_at timestamptz, guideline_version text,
    external_id text)"""


def canonical_csv(
    path: Path,
    rows: int,
    rng: np.random.Generator,
    *,
    project: str = "bench",
    prefix: str = "ev",
    start: np.datetime64 | None = None,
    workers: list[tuple[str, str]] | None = None,
) -> None:
    """``rows`` events over 60 days from ``start``, external ids ``{prefix}-0`` on: of
    ``project`` by 300 annotators by email, or by the (project slug, email) ``workers``."""
    if start is None:
        start = np.datetime64("2026-01-05T08:00:00", "ms")
    submitted = start + rng.integers(0, 60 * 86_400_000, rows).astype("timedelta64[ms]")
    labels = np.array(["cat", "dog", "bird"], dtype=object)
    if workers is None:
        workers = [(project, f"person{i}@example.org") for i in range(300)]
    chosen = np.array(workers, dtype=object)[rng.integers(0, len(workers), rows)]
    table = pa.table(
        {
            "project": pa.array(chosen[:, 0], pa.string()),
            "item_id": pa.array([f"item-{i % (rows // 3 + 1)}" for i in range(rows)]),
            "annotator": pa.array(chosen[:, 1], pa.string()),
            "label": pa.array(labels[rng.integers(0, 3, rows)], pa.string()),
            "submitted_at": pc.binary_join_element_wise(
                pa.array(np.datetime_as_string(submitted, unit="ms")), "Z", ""
            ),
            "active_seconds": pa.array(np.round(rng.gamma(2.0, 10.0, rows), 3)),
            "skipped": pa.array(rng.random(rows) < 0.02),
            "escalated": pa.array(rng.random(rows) < 0.01),
            "gold_label": pa.nulls(rows, pa.string()),
            "reviewer": pa.nulls(rows, pa.string()),
            "review_outcome": pa.nulls(rows, pa.string()),
            "review_seconds": pa.nulls(rows, pa.float64()),
            "reviewed_at": pa.nulls(rows, pa.string()),
            "guideline_version": pa.nulls(rows, pa.string()),
            "external_id": pa.array([f"{prefix}-{i}" for i in range(rows)]),
        }
    )
    pa_csv.write_csv(table, path)


def scratch_database(base_url: str) -> str:
    name = f"annops_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_database(base_url: str, url: str) -> None:
    admin = make_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def timed_copy(engine: object, statement: str, data: io.BufferedIOBase) -> float:
    raw = engine.raw_connection()  # type: ignore[attr-defined]
    try:
        started = time.perf_counter()
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            while block := data.read(1 << 20):
                copy.write(block)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


@dataclass(frozen=True)
class ImportRatio:
    """One run of ``annops import events`` against a raw COPY of the same file."""

    rows: int
    events_before: int
    copy_seconds: float
    import_seconds: float

    @property
    def copy_rate(self) -> float:
        return self.rows / self.copy_seconds

    @property
    def import_rate(self) -> float:
        return self.rows / self.import_seconds

    @property
    def ratio(self) -> float:
        """Import speed as a fraction of raw COPY speed (target >= 0.5)."""
        return self.copy_seconds / self.import_seconds

    def lines(self) -> list[str]:
        return [
            f"canonical events: {self.rows:,} rows into {self.events_before:,} stored events",
            f"  raw COPY, bare table:            {self.copy_rate:>10,.0f} rows/s  "
            f"({self.copy_seconds:.1f} s)",
            f"  annops import events:            {self.import_rate:>10,.0f} rows/s  "
            f"({self.import_seconds:.1f} s)",
            f"  ratio import / bare COPY:        {self.ratio:>10.2f}  (target >= 0.5)",
        ]


BENCH_PROJECT = "bench-import"


def slow_statements(engine: Engine, threshold: float = 0.2) -> list[tuple[float, str]]:
    """A list that fills, while the engine runs, with (seconds, statement) of every
    statement slower than ``threshold`` (COPY included)."""
    found: list[tuple[float, str]] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("started", []).append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seconds = time.perf_counter() - conn.info["started"].pop()
        if seconds >= threshold:
            found.append((seconds, " ".join(statement.split())[:160]))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    return found


# Who has work stored, and in which project: the people of a --spread run.
WORKERS = """SELECT DISTINCT p.slug, a.email FROM daily_rollups r
    JOIN projects p ON p.id = r.project_id JOIN annotators a ON a.id = r.annotator_id
    WHERE a.email IS NOT NULL AND p.slug <> :bench ORDER BY 1, 2"""
BATCH_KEYS = """SELECT DISTINCT annotator_id, project_id,
    CAST(timezone('UTC', submitted_at) AS DATE) FROM annotation_events
    WHERE import_batch_id = :batch"""


# The tables summed from events per project: a benchmark project's rows go with its events.
PROJECT_ROLLUP_TABLES = ("daily_rollups", "gold_confusion_rollups", "project_day_spend")


def forget_project(connection: Any, slug: str) -> None:
    """Remove a project the run added, now empty: left in place, it came first in the
    pages' project pickers, and the scale benchmark then timed those pages on a project
    without work. Its lineage rows stay, without their project."""
    connection.execute(text("DELETE FROM projects WHERE slug = :slug"), {"slug": slug})


def forget_project_rollups(session: Any) -> None:
    """Remove the benchmark project's rollup rows, whose events the run deletes (earlier
    versions of this benchmark left them behind)."""
    for table in PROJECT_ROLLUP_TABLES:
        session.execute(
            text(
                f"DELETE FROM {table} WHERE project_id = "
                "(SELECT id FROM projects WHERE slug = :slug)"
            ),
            {"slug": BENCH_PROJECT},
        )


def forget_batch(connection: Any, batch: int) -> int:
    """Remove the events an import added: its segment tables (detached and dropped, on
    PostgreSQL), then any of its rows stored elsewhere; returns the rows deleted."""
    segments = connection.execute(
        text(
            "SELECT child.relname, parent.relname FROM pg_inherits "
            "JOIN pg_class AS child ON child.oid = inhrelid "
            "JOIN pg_class AS parent ON parent.oid = inhparent "
            "WHERE child.relname LIKE 'annotation\\_events\\_%' AND child.relname LIKE :name"
        ),
        {"name": f"%\\_b{batch}"},
    ).all()
    for segment, month in segments:
        connection.execute(text(f"ALTER TABLE {month} DETACH PARTITION {segment}"))
        connection.execute(text(f"DROP TABLE {segment}"))
    return int(
        connection.execute(
            text("DELETE FROM annotation_events WHERE import_batch_id = :batch"), {"batch": batch}
        ).rowcount
    )


def vacuum_after(engine: Engine, deleted: int) -> None:
    """Without this, after a large delete, the next max(id) walks over dead index entries."""
    if deleted:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM annotation_events"))


def measure_import_ratio(
    database_url: str, rows: int, *, profile: bool = False, spread: bool = False
) -> ImportRatio:
    """Time a raw COPY of a ``rows``-row canonical CSV into an unindexed table and
    ``annops import events`` of the same file into the database at ``database_url``.

    The work is by 300 new people in a project of the benchmark's own, or with ``spread``
    by everyone with work stored, in their projects: the rollup rows of people and days
    already rolled up are then recomputed too.

    The database is migrated to the newest schema first; the events imported go to a
    project of their own and are deleted again at the end (their lineage rows stay).
    """
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    statements = slow_statements(engine) if profile else []
    run = uuid.uuid4().hex[:8]
    try:
        with factory() as session, session.begin():
            exists = session.execute(
                text("SELECT 1 FROM projects WHERE slug = :slug"), {"slug": BENCH_PROJECT}
            ).first()
            if exists is None:
                add_project(session, SYSTEM, slug=BENCH_PROJECT, name="Import benchmark")
            # Left by runs of an earlier version, which kept them.
            forget_project_rollups(session)
            before = int(
                session.execute(text("SELECT count(*) FROM annotation_events")).scalar_one()
            )
            latest = session.execute(
                text("SELECT max(submitted_at) FROM annotation_events")
            ).scalar()
            workers = (
                [
                    (str(slug), str(email))
                    for slug, email in session.execute(
                        text(WORKERS), {"bench": BENCH_PROJECT}
                    ).all()
                ]
                if spread
                else None
            )
        start = np.datetime64("2026-01-05T08:00:00", "ms")
        if latest is not None:
            start = np.datetime64(latest.replace(tzinfo=None), "ms") - np.timedelta64(60, "D")
        with tempfile.TemporaryDirectory() as folder:
            events = Path(folder) / "events.csv"
            canonical_csv(
                events,
                rows,
                np.random.default_rng(20261201),
                project=BENCH_PROJECT,
                prefix=f"bench-{run}",
                start=start,
                workers=workers,
            )
            with engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS bare_events"))
                connection.execute(text(BARE))
            try:
                with events.open("rb") as data:
                    bare = timed_copy(
                        engine, "COPY bare_events FROM STDIN WITH (FORMAT csv, HEADER true)", data
                    )
            finally:
                with engine.begin() as connection:
                    connection.execute(text("DROP TABLE IF EXISTS bare_events"))
            started = time.perf_counter()
            result = import_file(factory, SYSTEM, ImportRequest(source="events", path=events))
            imported = time.perf_counter() - started
        for seconds, statement in statements:
            print(f"  {seconds:6.2f} s  {statement}")
        assert result.inserted == rows, result
        with factory() as session, session.begin():
            # At the default work_mem, hashing the keys of a spread import spills to disk
            # in hundreds of thousands of batches (two minutes instead of one second).
            session.execute(text("SET LOCAL work_mem = '256MB'"))
            keys = session.execute(text(BATCH_KEYS), {"batch": result.batch_id}).all()
            deleted = forget_batch(session.connection(), result.batch_id)
            forget_project_rollups(session)
            # Work added to people's own projects: their rows go back to what they were.
            refresh(session, also=[tuple(key) for key in keys])
            forget_project(session.connection(), BENCH_PROJECT)
        vacuum_after(engine, deleted)
        return ImportRatio(
            rows=rows, events_before=before, copy_seconds=bare, import_seconds=imported
        )
    finally:
        engine.dispose()


BENCH_LS_PROJECT = "bench-import-ls"


def later_export(first: Path, path: Path, share: int = 10) -> int:
    """Write ``first`` again as a later export would: every ``share``-th task's annotations
    updated since, with another answer. Returns the annotations changed."""
    tasks = json.loads(first.read_text(encoding="utf-8"))
    changed = 0
    for task in tasks[::share]:
        for annotation in task["annotations"]:
            annotation["updated_at"] = "2026-11-29T10:00:00.000000Z"
            annotation["result"][0]["value"]["choices"] = ["no_defect"]
            changed += 1
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return changed


def measure_labelstudio_import(
    database_url: str, annotations: int, *, profile: bool = False, later: bool = False
) -> tuple[int, float, float | None]:
    """Time ``annops import labelstudio`` of an ``annotations``-annotation export (the Label
    Studio benchmark's) into a project of its own in the database at ``database_url``;
    with ``later``, then also the import of a later export of the same project (10% of
    the tasks' annotations updated, see later_export). Returns (events imported, seconds,
    seconds of the later export or None).

    Its Label Studio users are mapped to stored people by a users file, so no unlinked
    people are added; the events and the project's rollup rows are removed afterwards.
    """
    # This runs as a script, with benchmarks/ on the path.
    from labelstudio_benchmark import write_export

    upgrade(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    statements = slow_statements(engine) if profile else []
    try:
        with factory() as session, session.begin():
            exists = session.execute(
                text("SELECT 1 FROM projects WHERE slug = :slug"), {"slug": BENCH_LS_PROJECT}
            ).first()
            if exists is None:
                add_project(session, SYSTEM, slug=BENCH_LS_PROJECT, name="Import benchmark LS")
            emails = list(
                session.scalars(
                    text("SELECT email FROM annotators WHERE email IS NOT NULL ORDER BY id")
                )
            )
        # The export's user ids run from 2 to 399.
        users = [{"id": user_id, "email": emails[user_id % len(emails)]} for user_id in range(400)]
        with tempfile.TemporaryDirectory() as folder:
            export = Path(folder) / "labelstudio.json"
            write_export(export, annotations, np.random.default_rng(20261201))
            users_path = Path(folder) / "users.json"
            users_path.write_text(json.dumps(users), encoding="utf-8")

            def run(path: Path) -> tuple[ImportResult, float]:
                started = time.perf_counter()
                result = import_file(
                    factory,
                    SYSTEM,
                    ImportRequest(
                        source="labelstudio",
                        path=path,
                        project=BENCH_LS_PROJECT,
                        users_path=users_path,
                    ),
                )
                return result, time.perf_counter() - started

            result, seconds = run(export)
            batches = [result.batch_id]
            later_seconds = None
            if later:
                newer = Path(folder) / "later.json"
                changed = later_export(export, newer)
                statements.clear()
                again, later_seconds = run(newer)
                batches.append(again.batch_id)
                assert again.updated == changed, again
        for took, statement in statements:
            print(f"  {took:6.2f} s  {statement}")
        with engine.begin() as connection:
            deleted = sum(forget_batch(connection, batch) for batch in batches)
            for table in PROJECT_ROLLUP_TABLES:
                connection.execute(
                    text(
                        f"DELETE FROM {table} WHERE project_id = "
                        "(SELECT id FROM projects WHERE slug = :slug)"
                    ),
                    {"slug": BENCH_LS_PROJECT},
                )
            forget_project(connection, BENCH_LS_PROJECT)
        vacuum_after(engine, deleted)
        return result.inserted, seconds, later_seconds
    finally:
        engine.dispose()


def measure_labelstudio_rate(database_url: str, annotations: int) -> float:
    """Annotations per second of ``annops import labelstudio`` end to end (see
    measure_labelstudio_import), for the scale benchmark."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    inserted, seconds, _ = measure_labelstudio_import(database_url, annotations)
    return inserted / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--annotations", type=int, default=200_000)
    parser.add_argument("--url", default=os.environ.get("ANNOPS_TEST_DATABASE_URL"))
    parser.add_argument(
        "--database", help="measure the import into this database (kept) instead of a scratch one"
    )
    parser.add_argument(
        "--profile", action="store_true", help="with --database: list the import's slow statements"
    )
    parser.add_argument(
        "--labelstudio",
        action="store_true",
        help="with --database: also time annops import labelstudio of --annotations",
    )
    parser.add_argument(
        "--later",
        action="store_true",
        help="with --labelstudio: then also a later export of the same project, 10%% newer",
    )
    parser.add_argument(
        "--spread",
        action="store_true",
        help="with --database: work of everyone stored, in their projects (not 300 new people)",
    )
    args = parser.parse_args()
    if args.database:
        if not args.database.startswith("postgresql"):
            parser.error("--database must be a PostgreSQL URL")
        ratio = measure_import_ratio(
            args.database, args.events, profile=args.profile, spread=args.spread
        )
        print("\n".join(ratio.lines()))
        if args.labelstudio:
            events, seconds, later = measure_labelstudio_import(
                args.database, args.annotations, profile=args.profile, later=args.later
            )
            print(f"Label Studio JSON: {args.annotations:,} annotations into a project of its own")
            print(
                f"  annops import labelstudio:       {args.annotations / seconds:>10,.0f} "
                f"annotations/s  ({seconds:.1f} s; {events:,} events)"
            )
            if later is not None:
                print(
                    f"  a later export, 10% newer:       {args.annotations / later:>10,.0f} "
                    f"annotations/s  ({later:.1f} s)"
                )
        return
    if not args.url or not args.url.startswith("postgresql"):
        parser.error("give a PostgreSQL URL with --url or ANNOPS_TEST_DATABASE_URL")
    rng = np.random.default_rng(20261128)
    url = scratch_database(args.url)
    try:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            add_project(session, SYSTEM, slug="bench", name="Benchmark")
            add_project(session, SYSTEM, slug="bench-ls", name="Benchmark LS")
        with tempfile.TemporaryDirectory() as folder:
            events = Path(folder) / "events.csv"
            canonical_csv(events, args.events, rng)
            with engine.begin() as connection:
                connection.execute(text(BARE))
            with events.open("rb") as data:
                bare = timed_copy(
                    engine, "COPY bare_events FROM STDIN WITH (FORMAT csv, HEADER true)", data
                )
            started = time.perf_counter()
            result = import_file(factory, SYSTEM, ImportRequest(source="events", path=events))
            imported = time.perf_counter() - started
            assert result.inserted == args.events, result
            # The same rows, copied raw into a table indexed and constrained like the real one.
            dump = io.BytesIO()
            raw = engine.raw_connection()
            with (
                raw.cursor() as cursor,
                cursor.copy(
                    "COPY (SELECT * FROM annotation_events) TO STDOUT WITH (FORMAT csv)"
                ) as copy,
            ):
                for block in copy:
                    dump.write(block)
            raw.close()
            dump.seek(0)
            with engine.begin() as connection:
                connection.execute(
                    text("CREATE TABLE shaped_events (LIKE annotation_events INCLUDING ALL)")
                )
                for column, table in (
                    ("project_id", "projects"),
                    ("annotator_id", "annotators"),
                    ("import_batch_id", "import_batches"),
                    ("guideline_version_id", "guideline_versions"),
                    ("reviewer_id", "annotators"),
                ):
                    connection.execute(
                        text(
                            f"ALTER TABLE shaped_events ADD FOREIGN KEY ({column}) "
                            f"REFERENCES {table} (id)"
                        )
                    )
            shaped = timed_copy(engine, "COPY shaped_events FROM STDIN WITH (FORMAT csv)", dump)

            export = Path(folder) / "labelstudio.json"
            # The same export the Label Studio benchmark reads (this runs as a script, with
            # benchmarks/ on the path).
            from labelstudio_benchmark import write_export

            write_export(export, args.annotations, rng)
            started = time.perf_counter()
            with export.open("rb") as stream:
                reader = LabelStudioReader(stream, export.name)
                read = sum(len(chunk) for chunk in reader.chunks())
            parsed = time.perf_counter() - started
            started = time.perf_counter()
            ls_result = import_file(
                factory,
                SYSTEM,
                ImportRequest(source="labelstudio", path=export, project="bench-ls"),
            )
            ls_time = time.perf_counter() - started
            size_mb = export.stat().st_size / 1e6
        engine.dispose()
    finally:
        drop_database(args.url, url)
    n = args.events
    print(f"canonical events: {n:,} rows")
    print(f"  raw COPY, bare table:            {n / bare:>10,.0f} rows/s  ({bare:.1f} s)")
    print(f"  raw COPY, annotation_events-like: {n / shaped:>9,.0f} rows/s  ({shaped:.1f} s)")
    print(f"  annops import events:            {n / imported:>10,.0f} rows/s  ({imported:.1f} s)")
    print(f"  ratio import / bare COPY:        {bare / imported:>10.2f}  (target >= 0.5)")
    print(f"  ratio import / shaped COPY:      {shaped / imported:>10.2f}")
    total = args.annotations
    print(f"Label Studio JSON: {total:,} annotations, {size_mb:.0f} MB")
    print(
        f"  reading only:                    {total / parsed:>10,.0f} annotations/s "
        f"({read:,} records)"
    )
    print(
        f"  annops import labelstudio:       {total / ls_time:>10,.0f} annotations/s  "
        f"({ls_time:.1f} s; {ls_result.inserted:,} events)  (target >= 100,000)"
    )


if __name__ == "__main__":
    main()
