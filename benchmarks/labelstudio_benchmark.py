"""Label Studio JSON import rate, against plain ``json.load`` of the same file in the same run.

    .venv/bin/python benchmarks/labelstudio_benchmark.py [--annotations 200000] [--url URL]
        [--profile FILE]

Writes an export shaped like Label Studio 1.23's (two annotations per task), then times:
``json.load`` of the whole file (the baseline: parsing alone, everything in memory),
annops' streaming reader alone, and ``annops import labelstudio`` end to end into a
scratch database (PostgreSQL when ``--url`` or ANNOPS_TEST_DATABASE_URL names one,
else a temporary SQLite file). Target: >= 100,000 annotations/s end to end.
``--profile FILE`` also writes a cProfile of the end-to-end import.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from ops.importers.labelstudio import LabelStudioReader
from ops.importers.pipeline import ImportRequest, ImportResult, import_file
from ops.permissions import SYSTEM
from ops.projects import add_project

T = TypeVar("T")
TARGET = 100_000
CHOICES = ("critical_defect", "cosmetic_blemish", "no_defect")


def write_export(path: Path, annotations: int, rng: np.random.Generator) -> None:
    """A JSON export as Label Studio 1.23 writes it; 1 in 50 skipped, 1 task in 40 golden."""
    people = rng.integers(2, 400, annotations)
    lead_times = np.round(rng.gamma(2.0, 6.0, annotations), 3)
    with path.open("w", encoding="utf-8") as handle:
        handle.write("[")
        annotation_id = 0
        for task_id in range(1, annotations // 2 + 1):
            entries = []
            for _ in range(2):
                annotation_id += 1
                stamp = (
                    f"2026-11-{1 + annotation_id % 27:02d}T10:{annotation_id % 60:02d}:00.123456Z"
                )
                entries.append(
                    {
                        "id": annotation_id,
                        "completed_by": int(people[annotation_id - 1]),
                        "result": [
                            {
                                "id": uuid.uuid4().hex[:10],
                                "type": "choices",
                                "value": {"choices": [CHOICES[annotation_id % 3]]},
                                "origin": "manual",
                                "to_name": "text",
                                "from_name": "defect",
                            }
                        ],
                        "was_cancelled": annotation_id % 50 == 0,
                        "ground_truth": task_id % 40 == 0 and annotation_id % 2 == 0,
                        "created_at": stamp,
                        "updated_at": stamp,
                        "draft_created_at": None,
                        "lead_time": float(lead_times[annotation_id - 1]),
                        "prediction": {},
                        "result_count": 1,
                        "unique_id": str(uuid.uuid4()),
                        "import_id": None,
                        "last_action": None,
                        "bulk_created": False,
                        "task": task_id,
                        "project": 1,
                        "updated_by": 2,
                        "parent_prediction": None,
                        "parent_annotation": None,
                        "last_created_by": None,
                    }
                )
            task = {
                "id": task_id,
                "annotations": entries,
                "drafts": [],
                "predictions": [],
                "data": {"text": f"Inspection note {task_id}", "item_ref": f"INSP-{task_id:07d}"},
                "meta": {},
                "created_at": "2026-11-01T09:00:00.000000Z",
                "updated_at": "2026-11-01T09:00:00.000000Z",
                "inner_id": task_id,
                "total_annotations": 2,
                "cancelled_annotations": 0,
                "total_predictions": 0,
                "project": 1,
                "updated_by": 2,
            }
            handle.write(("," if task_id > 1 else "") + json.dumps(task))
        handle.write("]")


def timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    value = work()
    return value, time.perf_counter() - started


def scratch_url(base_url: str | None, folder: Path) -> tuple[str, Callable[[], None]]:
    """A new empty database and how to drop it."""
    if not base_url or not base_url.startswith("postgresql"):
        return f"sqlite:///{folder / 'bench.db'}", lambda: None
    name = f"annops_ls_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base_url).set(database=name).render_as_string(hide_password=False), drop


def read_only(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(len(chunk) for chunk in LabelStudioReader(stream, path.name).chunks())


def load_all(path: Path) -> Any:
    with path.open("rb") as stream:
        return json.load(stream)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--annotations", type=int, default=200_000)
    parser.add_argument("--url", default=os.environ.get("ANNOPS_TEST_DATABASE_URL"))
    parser.add_argument("--profile", type=Path, help="write a cProfile of the import here")
    args = parser.parse_args()
    total = args.annotations
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        export = folder / "labelstudio.json"
        write_export(export, total, np.random.default_rng(20261201))
        size_mb = export.stat().st_size / 1e6
        tasks, baseline = timed(lambda: load_all(export))
        assert sum(len(task["annotations"]) for task in tasks) == total
        del tasks
        records, reading = timed(lambda: read_only(export))
        url, drop = scratch_url(args.url, folder)
        try:
            upgrade(url)
            engine = make_engine(url)
            factory = make_session_factory(engine)
            with factory() as session, session.begin():
                add_project(session, SYSTEM, slug="bench-ls", name="Benchmark LS")
            request = ImportRequest(source="labelstudio", path=export, project="bench-ls")
            profiler = cProfile.Profile() if args.profile else None
            if profiler is not None:
                profiler.enable()
            result, end_to_end = timed(lambda: import_file(factory, SYSTEM, request))
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(args.profile)
            engine.dispose()
        finally:
            drop()
    report(total, size_mb, url, baseline, reading, records, end_to_end, result)


def report(
    total: int,
    size_mb: float,
    url: str,
    baseline: float,
    reading: float,
    records: int,
    end_to_end: float,
    result: ImportResult,
) -> None:
    backend = make_url(url).get_backend_name()
    print(f"Label Studio JSON export: {total:,} annotations, {size_mb:.0f} MB, into {backend}")
    print(f"  json.load of the file (baseline): {total / baseline:>10,.0f} annotations/s")
    print(
        f"  annops reader only:               {total / reading:>10,.0f} annotations/s "
        f"({reading / baseline:.2f}x the baseline's time; {records:,} records)"
    )
    print(
        f"  annops import labelstudio:        {total / end_to_end:>10,.0f} annotations/s "
        f"({end_to_end / baseline:.2f}x the baseline's time; {end_to_end:.1f} s; "
        f"{result.inserted:,} events)  target >= {TARGET:,}"
    )


if __name__ == "__main__":
    main()
