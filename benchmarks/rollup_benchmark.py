"""Rollup and agreement timings on PostgreSQL with the demo at scale.

    ANNOPS_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python benchmarks/rollup_benchmark.py [--events 10000000] [--new 100000] \\
        [--labels 1000000] [--keep]

Makes a scratch database next to the one named and loads the demo into it, then:

- full rollup (``rollups.rebuild``) against a plain GROUP BY of the same events into a
  table, measured in the same run (target: rollup <= 1.5 x GROUP BY);
- incremental rollup (``rollups.refresh``) of new events on top: a day's new import,
  and as many late events scattered over the whole history (target: <= 5% of rebuild);
- ``annops agreement`` on a long CSV of that many labels (target: <= 10 s).

Each timing is the best of ``--repeat`` runs. ``--explain`` prints the plan of the
rebuild's INSERT ... SELECT.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from db import rollup_sql
from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from ops import rollups
from ops.demo import DemoConfig, load_demo

ROOT = Path(__file__).resolve().parents[1]

PLAIN_GROUP_BY = """
CREATE TABLE plain_rollup AS
SELECT annotator_id, project_id, CAST(timezone('UTC', submitted_at) AS date) AS day,
       count(*) FILTER (WHERE NOT skipped AND label IS NOT NULL) AS annotations,
       count(*) FILTER (WHERE skipped) AS skipped,
       coalesce(sum(active_seconds), 0) AS active_seconds,
       count(*) FILTER (WHERE is_gold AND NOT skipped AND label IS NOT NULL) AS gold_answered,
       count(*) FILTER (WHERE is_gold AND NOT skipped AND label = gold_label) AS gold_correct,
       count(*) FILTER (WHERE escalated) AS escalations,
       count(*) FILTER (WHERE review_outcome IS NOT NULL) AS reviewed,
       count(*) FILTER (WHERE review_outcome = 'accepted') AS accepted
FROM annotation_events
GROUP BY 1, 2, 3
"""

EVENT_COLUMNS = (
    "project_id, item_id, annotator_id, label, submitted_at, active_seconds, skipped, "
    "escalated, guideline_version_id, import_batch_id, is_gold, gold_label, reviewer_id, "
    "review_outcome, review_seconds, reviewed_at"
)

# A day's new import: copies of a sample of events, all moved to the day after the last.
NEW_DAY = f"""
INSERT INTO annotation_events ({EVENT_COLUMNS}, external_id)
SELECT project_id, item_id, annotator_id, label, submitted_at + shift, active_seconds,
       skipped, escalated, guideline_version_id, import_batch_id, is_gold, gold_label,
       reviewer_id, review_outcome, review_seconds, reviewed_at + shift, external_id || :suffix
FROM (
    SELECT *, (SELECT date_trunc('day', max(submitted_at)) FROM annotation_events)
              + interval '1 day' - date_trunc('day', submitted_at) AS shift
    FROM recent
) AS moved
"""
# A sample spread over everyone's work, so the new day has the usual people in it.
RECENT = """
CREATE TEMPORARY TABLE recent AS
SELECT * FROM annotation_events
WHERE id % (SELECT greatest(max(id) / :n, 1) FROM annotation_events) = 0
LIMIT :n
"""
# Late events: copies of events spread evenly over all of history, on their own days.
LATE = f"""
INSERT INTO annotation_events ({EVENT_COLUMNS}, external_id)
SELECT {EVENT_COLUMNS}, external_id || :suffix
FROM annotation_events
WHERE id % :step = 0 AND id <= :high
LIMIT :n
"""


def best_of(repeat: int, work: Callable[[], None]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


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


def vacuum(url: str) -> None:
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def rebuild(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        rollups.rebuild(session)


def plain_group_by(factory: sessionmaker[Session], *, tuned: bool) -> None:
    with factory() as session, session.begin():
        if tuned:
            # The settings the rollup gives itself, so the ratio compares queries only.
            rollup_sql.prepare_aggregation(session)
        session.execute(text("DROP TABLE IF EXISTS plain_rollup"))
        session.execute(text(PLAIN_GROUP_BY))


def refresh_after(
    factory: sessionmaker[Session], insert: Callable[[Session], int]
) -> tuple[float, int, int]:
    """Insert events (committed, as an import would), then time the incremental rollup."""
    with factory() as session, session.begin():
        added = insert(session)
    start = time.perf_counter()
    with factory() as session, session.begin():
        rewritten = rollups.refresh(session)
    return time.perf_counter() - start, added, rewritten


def add_new_day(session: Session, n: int) -> int:
    session.execute(text("DROP TABLE IF EXISTS recent"))
    session.execute(text(RECENT), {"n": n})
    return session.execute(text(NEW_DAY), {"suffix": f"-new-{uuid.uuid4().hex[:6]}"}).rowcount


def add_late(session: Session, n: int) -> int:
    high = int(session.scalar(text("SELECT max(id) FROM annotation_events")) or 0)
    step = max(high // n, 1)
    return session.execute(
        text(LATE), {"suffix": f"-late-{uuid.uuid4().hex[:6]}", "step": step, "high": high, "n": n}
    ).rowcount


def write_labels(url: str, path: Path, n: int) -> None:
    """The newest ``n`` labelled events of the busiest project as a long CSV
    item_id,annotator_id,label,gold: a pilot round is about one labelling task."""
    engine = make_engine(url)
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        query = (
            "COPY (SELECT item_id, annotator_id, label, "
            "CASE WHEN is_gold THEN gold_label END AS gold FROM annotation_events "
            "WHERE label IS NOT NULL AND NOT skipped AND project_id = (SELECT project_id "
            "FROM annotation_events GROUP BY project_id ORDER BY count(*) DESC LIMIT 1) "
            f"ORDER BY id DESC LIMIT {int(n)}) "
            "TO STDOUT WITH (FORMAT csv, HEADER)"
        )
        with path.open("wb") as output, cursor.copy(query) as copy:
            for block in copy:
                output.write(block)
    engine.dispose()


def explain(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        select = rollup_sql.aggregate_select(
            "postgresql", boundaries=rollup_sql.rate_boundaries(session)
        )
        compiled = select.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        rollup_sql.prepare_aggregation(session)
        for (line,) in session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")):
            print(line)
        session.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--annotators", type=int, default=60)
    parser.add_argument("--new", type=int, default=100_000)
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--explain", action="store_true", help="print the rebuild's plan")
    parser.add_argument("--url", help="use this already-loaded database instead of a new one")
    args = parser.parse_args()
    base = os.environ.get("ANNOPS_TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        sys.exit("set ANNOPS_TEST_DATABASE_URL to a PostgreSQL database (a scratch one is made)")

    url = args.url or scratch_database(base)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        if not args.url:
            upgrade(url)
            start = time.perf_counter()
            load_demo(factory, DemoConfig(annotators=args.annotators, events=args.events, seed=7))
            print(f"demo with {args.events:,} events loaded in {time.perf_counter() - start:.1f} s")
        vacuum(url)
        with factory() as session:
            events = int(session.scalar(text("SELECT count(*) FROM annotation_events")) or 0)
        print(f"events: {events:,}")

        default = best_of(args.repeat, lambda: plain_group_by(factory, tuned=False))
        group_by = best_of(args.repeat, lambda: plain_group_by(factory, tuned=True))
        full = best_of(args.repeat, lambda: rebuild(factory))
        with factory() as session:
            rows = int(session.scalar(text("SELECT count(*) FROM daily_rollups")) or 0)
        print(f"plain GROUP BY into a table, default settings: {default:.2f} s")
        print(f"plain GROUP BY into a table, rollup settings:  {group_by:.2f} s ({rows:,} rows)")
        print(
            f"full rollup (rebuild):                         {full:.2f} s, "
            f"{full / group_by:.2f} x the GROUP BY with the same settings, "
            f"{full / default:.2f} x with defaults (target <= 1.5)"
        )
        if args.explain:
            explain(factory)

        seconds, added, rewritten = refresh_after(factory, lambda s: add_new_day(s, args.new))
        print(
            f"incremental, a new day of {added:,} events: {seconds:.2f} s, {rewritten:,} rows "
            f"rewritten, {seconds / full:.1%} of the rebuild (target <= 5%)"
        )
        seconds, added, rewritten = refresh_after(factory, lambda s: add_late(s, args.new))
        print(
            f"incremental, {added:,} late events over all history: {seconds:.2f} s, "
            f"{rewritten:,} rows rewritten, {seconds / full:.1%} of the rebuild"
        )

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "labels.csv"
            write_labels(url, path, args.labels)
            start = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "ops.cli", "agreement", str(path), "--format", "json"],
                cwd=ROOT,
                capture_output=True,
                check=False,
            )
            seconds = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"annops agreement failed: {result.stderr.decode()}")
        print(f"annops agreement on {args.labels:,} labels: {seconds:.2f} s (target <= 10 s)")
    finally:
        engine.dispose()
        if not args.keep and not args.url:
            drop_database(base, url)
        elif not args.url:
            print(f"kept {url}")


if __name__ == "__main__":
    main()
