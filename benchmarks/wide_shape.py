"""Build a wide-shaped scale database: many projects and teams, a year of history.

    .venv/bin/python benchmarks/wide_shape.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/annops_wide \\
        [--annotators 5000] [--events 10000000] [--projects 150] [--teams 34] \\
        [--days 365] [--chunk 1000000] [--demo-events 1000000] [--workdir /tmp/annops-wide]

The demo (``annops demo``) has 4 projects, 4 teams and about four months of history;
real operations run many more projects for many teams, each person working on
several, over a year or more. This builds such a database from an empty one through
the product's own paths, so ``benchmarks/scale_benchmark.py --skip-imports`` can time
every page on it:

1. the demo with ``--annotators`` people and ``--demo-events`` events (``load_demo``), which
   brings the logins of every role (written to ``annops-demo-logins.txt`` in
   ``--workdir``), pay rates, qualifications, training and calibration;
2. teams up to ``--teams`` in all (``Ops team 01`` ...) with ``add_team``, and every pool
   member below lead tier moved to one of them with ``update_annotator``;
3. projects up to ``--projects`` in all (``wide-000`` ...) with ``add_project``, each
   with a start day spread over the history, a deadline and a volume target;
4. every active person or person on probation assigned to three to six of the new
   projects with ``assign_to_project``;
5. the remaining events as canonical events CSVs of ``--chunk`` rows (written into
   ``--workdir``), each imported with the real importer (``import_file``, as
   ``annops import events`` does): work of the assigned people on their projects,
   spread evenly over the last ``--days`` days (from each project's start), about a
   tenth on golden items, a twentieth reviewed; the rollup tables are vacuumed after
   each import, as autovacuum would between them (each import, spread over the whole
   year, rewrites most rollup rows, and without it the table grows by its whole size
   with every import);
6. every job, as ``annops jobs run`` does (rollup, alerts, notify, agreement, spend,
   storage), so the rollups, alerts and agreement figures are fresh and each month's
   import segments are folded back;
7. ``VACUUM (ANALYZE)`` of the database, which is what autovacuum does in time on a
   production server: the imports' rollup refreshes leave millions of dead rollup rows
   behind and moving people between teams changes what the planner knows of
   ``annotators``. On a server that runs without autovacuum, pages would otherwise be
   timed on dead rows and on statistics from before the teams existed.

Every step is rerunnable: a team, project or assignment that exists is kept, a chunk
whose import is already committed is skipped (the files are rebuilt from the seed when
missing), and the jobs run again. The same seed gives the same database, apart from
the dates, which end today.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEMO_EVENTS = 1_000_000
TASKS = (
    ("image_classification", ("car", "pedestrian", "cyclist", "empty"), "autonomous-driving"),
    ("text_classification", ("billing", "technical", "account", "other"), "customer-support"),
    ("image_classification", ("critical_defect", "cosmetic_blemish", "no_defect"), "manufacturing"),
    ("text_classification", ("positive", "negative", "neutral", "mixed"), "e-commerce"),
)
# Distinct items of each new project: about three pieces of work per item over the year.
ITEMS_PER_PROJECT = 20_000
ROLLUP_TABLES = ("daily_rollups", "gold_confusion_rollups")


def log(message: str) -> None:
    print(f"{dt.datetime.now(dt.UTC):%H:%M:%S} {message}", flush=True)


def build_demo(url: str, annotators: int, demo_events: int, workdir: Path) -> None:
    from db.engine import make_engine, make_session_factory
    from db.migrate import upgrade
    from ops.demo import DemoConfig, load_demo
    from ops.demo.loader import database_state

    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session:
        state = database_state(session)
    if state == "empty":
        log(f"demo: {annotators:,} annotators, {demo_events:,} events")
        logins = load_demo(factory, DemoConfig(annotators=annotators, events=demo_events, seed=7))
        (workdir / "annops-demo-logins.txt").write_text(
            "".join(f"{user} {password}\n" for user, password in logins.items())
        )
    else:
        log(f"demo: the database is not empty ({state}); building on what is there")
    engine.dispose()


def add_teams(factory: sessionmaker[Session], teams: int) -> list[int]:
    """Teams up to ``teams`` in all, added with ``add_team``; returns every team's id, by
    name."""
    from db.queries.people import get_team_by_name, list_teams
    from ops.permissions import SYSTEM
    from ops.teams import add_team

    with factory() as session, session.begin():
        existing = len(list_teams(session))
        for number in range(1, max(0, teams - existing) + 1):
            name = f"Ops team {number:02d}"
            if get_team_by_name(session, name=name) is None:
                add_team(session, SYSTEM, name=name)
        ids = [team.id for team in list_teams(session)]
    log(f"teams: {len(ids)}")
    return ids


def move_people(factory: sessionmaker[Session], team_ids: list[int]) -> None:
    """Spread the pool below lead tier over every team, round robin by id."""
    from sqlalchemy import select

    from db.models import Annotator
    from db.queries.people import list_skills
    from ops.permissions import SYSTEM
    from ops.workforce.roster import AnnotatorDetails, update_annotator

    moved = 0
    with factory() as session, session.begin():
        people = session.scalars(
            select(Annotator).where(Annotator.tier != "lead").order_by(Annotator.id)
        ).all()
        for rank, person in enumerate(people):
            team_id = team_ids[rank % len(team_ids)]
            if person.team_id == team_id or person.status == "archived":
                continue
            skills: dict[str, list[str]] = {"skill": [], "domain": [], "language": []}
            for skill in list_skills(session, annotator_id=person.id):
                skills.setdefault(skill.kind, []).append(skill.name)
            details = AnnotatorDetails(
                display_name=person.display_name,
                team_id=team_id,
                status=person.status,
                employment_type=person.employment_type,
                tier=person.tier,
                email=person.email,
                phone=person.phone,
                country=person.country,
                skills=tuple(skills["skill"]),
                domains=tuple(skills["domain"]),
                languages=tuple(skills["language"]),
            )
            update_annotator(
                session, SYSTEM, person.id, details, expected_version=person.version_id
            )
            moved += 1
    log(f"team membership: {moved:,} people moved")


def add_projects(factory: sessionmaker[Session], projects: int, days: int, seed: int) -> list[str]:
    """New projects up to ``projects`` in all; returns the new projects' slugs."""
    from db.queries.projects import get_project, list_projects
    from ops.permissions import SYSTEM
    from ops.projects import add_project

    rng = np.random.default_rng([seed, 1])
    today = dt.datetime.now(dt.UTC).date()
    with factory() as session, session.begin():
        demo_projects = sum(
            1
            for p in list_projects(session, include_archived=True)
            if not p.slug.startswith("wide-")
        )
        count = max(0, projects - demo_projects)
        slugs = [f"wide-{number:03d}" for number in range(count)]
        created = 0
        for number, slug in enumerate(slugs):
            # Drawn for every project, created or not, so a rerun draws the same.
            started = int(rng.integers(30, days + 1))
            remaining = int(rng.integers(15, 200))
            budget = int(rng.integers(20, 400)) * 1_000
            if get_project(session, slug=slug) is not None:
                continue
            task_type, _labels, domain = TASKS[number % len(TASKS)]
            project = add_project(
                session,
                SYSTEM,
                slug=slug,
                name=f"Wide project {number:03d}",
                task_type=task_type,
                quality_target=0.88 + 0.02 * (number % 4),
                budget=str(budget),
                domain=domain,
            )
            project.starts_on = today - dt.timedelta(days=started)
            project.deadline = today + dt.timedelta(days=remaining)
            project.volume_target = 120_000
            created += 1
    log(f"projects: {created} created, {len(slugs)} wide projects in all")
    return slugs


def assign_people(
    factory: sessionmaker[Session], slugs: list[str], seed: int
) -> list[tuple[str, str, float]]:
    """Put each active person (or on probation) on three to six wide projects; returns
    (project slug, email, accuracy) of every such pair, for the events."""
    from sqlalchemy import select

    from db.models import Annotator
    from db.queries.projects import get_project
    from ops.errors import ValidationError
    from ops.permissions import SYSTEM
    from ops.workforce.staffing import assign_to_project

    rng = np.random.default_rng([seed, 2])
    pairs: list[tuple[str, str, float]] = []
    created = 0
    with factory() as session, session.begin():
        projects = {slug: get_project(session, slug=slug) for slug in slugs}
        people = session.scalars(
            select(Annotator)
            .where(Annotator.status.in_(("active", "probation")), Annotator.email.is_not(None))
            .order_by(Annotator.id)
        ).all()
        for person in people:
            chosen = rng.choice(len(slugs), size=int(rng.integers(3, 7)), replace=False)
            accuracy = float(np.clip(rng.normal(0.92, 0.03), 0.75, 0.99))
            for index in sorted(chosen.tolist()):
                project = projects[slugs[index]]
                assert project is not None and project.starts_on is not None
                pairs.append((project.slug, str(person.email), accuracy))
                try:
                    assign_to_project(
                        session,
                        SYSTEM,
                        person.id,
                        project_id=project.id,
                        starts_on=project.starts_on,
                    )
                except ValidationError:
                    continue  # already on it (a rerun)
                created += 1
    log(f"assignments: {created:,} created, {len(pairs):,} person-project pairs")
    return pairs


def write_chunk(
    path: Path,
    number: int,
    rows: int,
    pairs: list[tuple[str, str, float]],
    starts: dict[str, dt.date],
    days: int,
    seed: int,
) -> None:
    """One canonical events CSV of ``rows`` events, external ids ``wide{number}-0`` on."""
    rng = np.random.default_rng([seed, 100 + number])
    now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    end = np.datetime64(now.replace(tzinfo=None), "s") - np.timedelta64(2, "h")
    first = end - np.timedelta64(days * 86_400, "s")
    slug = np.array([p[0] for p in pairs], dtype=object)
    email = np.array([p[1] for p in pairs], dtype=object)
    accuracy = np.array([p[2] for p in pairs])
    start = np.array(
        [max(np.datetime64(starts[p[0]], "s"), first) for p in pairs],
        dtype="datetime64[s]",
    )
    pick = rng.integers(0, len(pairs), rows)
    span = (end - start[pick]).astype(np.int64)
    submitted = start[pick] + (rng.random(rows) * span).astype("timedelta64[s]")
    project_number = np.array([int(s.rsplit("-", 1)[1]) for s in slug[pick]])
    label_sets = [task[1] for task in TASKS]
    item = rng.integers(0, ITEMS_PER_PROJECT, rows)
    n_labels = np.array([len(label_sets[n % len(TASKS)]) for n in project_number])
    truth = item % n_labels
    correct = rng.random(rows) < accuracy[pick]
    given = np.where(correct, truth, (truth + rng.integers(1, 3, rows)) % n_labels)
    task = project_number % len(TASKS)
    label_table = np.array([list(labels) + [""] * (4 - len(labels)) for labels in label_sets])
    label = label_table[task, given]
    gold = np.where(item % 10 == 0, label_table[task, truth], None)
    reviewed = rng.random(rows) < 0.05
    reviewer_pick = rng.integers(0, len(pairs), rows)
    reviewed_at = submitted + np.timedelta64(3600, "s")

    def stamp(values: np.ndarray) -> pa.Array:
        return pc.binary_join_element_wise(
            pa.array(np.datetime_as_string(values, unit="s")), "Z", ""
        )

    reviewed_stamps = stamp(reviewed_at)
    table = pa.table(
        {
            "project": pa.array(slug[pick], pa.string()),
            "item_id": pa.array([f"item-{value}" for value in item.tolist()]),
            "annotator": pa.array(email[pick], pa.string()),
            "label": pa.array(label, pa.string()),
            "submitted_at": stamp(submitted),
            "active_seconds": pa.array(np.round(rng.gamma(2.0, 12.0, rows), 1)),
            "skipped": pa.array(rng.random(rows) < 0.02),
            "escalated": pa.array(rng.random(rows) < 0.01),
            "gold_label": pa.array(gold, pa.string()),
            "reviewer": pa.array(np.where(reviewed, email[reviewer_pick], None), pa.string()),
            "review_outcome": pa.array(
                np.where(reviewed, np.where(correct, "accepted", "corrected"), None), pa.string()
            ),
            "review_seconds": pa.array(np.where(reviewed, 20.0, np.nan), from_pandas=True),
            "reviewed_at": pc.if_else(
                pa.array(reviewed), reviewed_stamps, pa.nulls(rows, pa.string())
            ),
            "external_id": pa.array([f"wide{number}-{i}" for i in range(rows)]),
        }
    )
    pa_csv.write_csv(table, path)


def import_events(
    url: str,
    factory: sessionmaker[Session],
    workdir: Path,
    pairs: list[tuple[str, str, float]],
    events: int,
    chunk: int,
    days: int,
    seed: int,
) -> None:
    from sqlalchemy import func, select

    from db.models import AnnotationEvent, ImportBatch
    from db.queries.projects import get_project
    from ops.importers.pipeline import ImportRequest, import_file
    from ops.permissions import SYSTEM

    with factory() as session:
        demo_events = (
            session.scalar(
                select(func.count())
                .select_from(AnnotationEvent)
                .where(AnnotationEvent.external_id.not_like("wide%"))
            )
            or 0
        )
        starts = {}
        for slug in {p[0] for p in pairs}:
            project = get_project(session, slug=slug)
            assert project is not None and project.starts_on is not None
            starts[slug] = project.starts_on
    wanted = max(0, events - demo_events)
    chunks = [min(chunk, wanted - start) for start in range(0, wanted, chunk)]
    log(f"events: {demo_events:,} from the demo, {wanted:,} to import in {len(chunks)} files")
    for number, rows in enumerate(chunks):
        name = f"wide-events-{number:02d}.csv"
        with factory() as session:
            done = session.scalar(
                select(func.count())
                .select_from(ImportBatch)
                .where(ImportBatch.file_name == name, ImportBatch.status == "committed")
            )
        if done:
            log(f"  {name}: imported before")
            continue
        path = workdir / name
        if not path.exists():
            write_chunk(path, number, rows, pairs, starts, days, seed)
        started = time.perf_counter()
        result = import_file(factory, SYSTEM, ImportRequest(source="events", path=path))
        log(
            f"  {name}: {result.inserted:,} new, {result.duplicate:,} already stored "
            f"in {time.perf_counter() - started:.0f} s"
        )
        path.unlink()
        # Each import spread over the whole year rewrites most rollup rows; autovacuum
        # would make their space reusable before the next one.
        vacuum(url, ROLLUP_TABLES)


def run_jobs(url: str) -> None:
    environment = {**os.environ, "ANNOPS_DATABASE_URL": url}
    annops = Path(sys.executable).with_name("annops")
    started = time.perf_counter()
    subprocess.run([str(annops), "jobs", "run"], env=environment, check=True)
    log(f"jobs: all run in {time.perf_counter() - started:.0f} s")


def vacuum(url: str, tables: tuple[str, ...] = ()) -> None:
    """VACUUM (ANALYZE) ``tables``, or the whole database."""
    from sqlalchemy import text

    from db.engine import make_engine

    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    started = time.perf_counter()
    with engine.connect() as connection:
        connection.execute(text(f"VACUUM (ANALYZE) {', '.join(tables)}"))
    engine.dispose()
    log(f"vacuum and analyze {', '.join(tables) or 'all'}: {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--annotators", type=int, default=5_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument(
        "--demo-events", type=int, default=DEMO_EVENTS, help="events of the demo it starts from"
    )
    parser.add_argument("--projects", type=int, default=150)
    parser.add_argument("--teams", type=int, default=34)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/annops-wide"))
    parser.add_argument("--skip-jobs", action="store_true", help="do not run the jobs at the end")
    args = parser.parse_args()
    os.environ["ANNOPS_DATABASE_URL"] = args.database_url
    args.workdir.mkdir(parents=True, exist_ok=True)

    from db.engine import make_engine, make_session_factory

    build_demo(args.database_url, args.annotators, args.demo_events, args.workdir)
    engine = make_engine(args.database_url)
    factory = make_session_factory(engine)
    team_ids = add_teams(factory, args.teams)
    move_people(factory, team_ids)
    slugs = add_projects(factory, args.projects, args.days, args.seed)
    pairs = assign_people(factory, slugs, args.seed)
    import_events(
        args.database_url,
        factory,
        args.workdir,
        pairs,
        args.events,
        args.chunk,
        args.days,
        args.seed,
    )
    engine.dispose()
    if not args.skip_jobs:
        run_jobs(args.database_url)
    vacuum(args.database_url)


if __name__ == "__main__":
    main()
