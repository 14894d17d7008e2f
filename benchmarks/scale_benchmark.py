"""Every dashboard page for every role at scale, on PostgreSQL.

    .venv/bin/python benchmarks/scale_benchmark.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/annops_scale \\
        [--annotators 5000] [--events 10000000] [--baseline /path/to/other/checkout]

Reuses the database when it already holds a demo, otherwise builds one of the size
asked (this takes a while at ten million events). Then, in a fresh process that plays
the dashboard, it opens every page each role may see through Streamlit's AppTest (the
same entry script, login and navigation the server runs) and prints the server-side
seconds of each page's first visit (nothing cached yet in that process), of a rerun
right after it (what the page's cached reads leave), of the filter changes on the
Pool page, and that process's peak resident memory, with the machine's load average.
``--profile DIR`` writes a cProfile file per role and page visit into DIR. ``--baseline``
runs the same pages with the code of another checkout on the same database in the same
run, so a change is read as a ratio rather than against figures taken on a differently
loaded machine.

Finally the import ratio against a raw COPY and the Label Studio import rate, from the
import benchmarks when they offer them; a figure not measured is printed as such.
Targets: every page <= 1 s, filter change included; peak RSS < 500 MB.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import importlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ROLES = ("admin", "ops", "lead", "finance", "annotator")
PAGE_TARGET_SECONDS = 1.0
RSS_TARGET_MB = 500
PROFILE_VARIABLE = "ANNOPS_SCALE_PROFILE_DIR"
# Each filter change on the Pool page: widget key, how to set it, how to set it back.
POOL_FILTERS: tuple[tuple[str, str, Callable[[Any], Any], Callable[[Any], Any]], ...] = (
    ("tier", "pool-tiers", lambda w: w.select("annotator"), lambda w: w.unselect("annotator")),
    ("search", "pool-search", lambda w: w.input("an"), lambda w: w.input("")),
    ("status", "pool-statuses", lambda w: w.select("active"), lambda w: w.unselect("active")),
    ("archived", "pool-archived", lambda w: w.check(), lambda w: w.uncheck()),
)


def ensure_database(url: str, annotators: int, events: int) -> None:
    """Migrate, and build the demo at the size asked unless the database holds one."""
    sys.path.insert(0, str(ROOT))
    from alembic.util.exc import CommandError

    from db.engine import make_engine, make_session_factory
    from db.migrate import upgrade
    from ops.demo import DemoConfig, load_demo
    from ops.demo.loader import database_state

    try:
        upgrade(url)
    except CommandError as error:
        # A database migrated by a newer checkout: time its pages as they are.
        print(f"not migrating ({error}); timing the database as it is", flush=True)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session:
        state = database_state(session)
    if state == "empty":
        print(f"building the demo: {annotators:,} annotators, {events:,} events", flush=True)
        started = time.perf_counter()
        load_demo(factory, DemoConfig(annotators=annotators, events=events, seed=7))
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    elif state != "demo":
        print("the database holds data other than the demo; timing its pages as they are")
    engine.dispose()


def run_pages(
    checkout: Path,
    url: str,
    roles: list[str],
    profile: Path | None = None,
    slugs: list[str] | None = None,
) -> dict[str, Any]:
    """Time every page of ``roles`` (or those of ``slugs``, after the landing page) in a
    child process running ``checkout``'s code."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--pages-child",
        str(checkout),
        ",".join(roles),
        ",".join(slugs or ()),
    ]
    environment = {**os.environ, "ANNOPS_DATABASE_URL": url, "PYTHONPATH": str(checkout)}
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        environment[PROFILE_VARIABLE] = str(profile.resolve())
    done = subprocess.run(
        command, cwd=checkout, env=environment, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"timing the pages of {checkout} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def time_pages_here(checkout: Path, roles: list[str], slugs: list[str]) -> dict[str, Any]:
    """In the child: log each role in through a stored session and open each page."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    from dashboard.session import SESSION_ID_KEY
    from db.models import User
    from ops.auth import principal_for
    from ops.database import session_factory
    from ops.pages import pages_for_role
    from ops.sessions import start_session

    # Run pages through app.py's navigation, as the server does, not as bare scripts.
    original = PagesManager.__init__

    def navigation_only(self: PagesManager, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = navigation_only  # type: ignore[method-assign]
    app_path = str(checkout / "dashboard" / "app.py")
    profile_dir = os.environ.get(PROFILE_VARIABLE)
    if profile_dir:
        _profile_script_thread()
    # The server fixes glibc's mmap threshold when it starts (dashboard.allocator).
    try:
        from dashboard.allocator import map_large_blocks
    except ImportError:  # a checkout from before the server did
        pass
    else:
        map_large_blocks()
    # The server imports the pages' libraries when it starts (dashboard.preload); do the
    # same before timing, and report it as the process's start, not as a page.
    preload_seconds: float | None = None
    try:
        from dashboard.preload import preload
    except ImportError:  # a checkout from before the server preloaded
        pass
    else:
        started = time.perf_counter()
        preload()
        preload_seconds = time.perf_counter() - started
    pages: dict[str, dict[str, float]] = {}
    cached_pages: dict[str, dict[str, float]] = {}
    failures: list[str] = []
    pool_filter: dict[str, dict[str, float]] = {}
    for role in roles:
        with session_factory()() as session, session.begin():
            user = session.query(User).filter(User.role == role).order_by(User.id).first()
            if user is None:
                continue
            session_id = start_session(session, principal_for(user)).session_id
        app = AppTest.from_file(app_path, default_timeout=900)
        app.session_state[SESSION_ID_KEY] = session_id
        seen: set[str] = set()
        for index, page in enumerate(pages_for_role(role)):
            if page.file in seen or (index and slugs and page.slug not in slugs):
                continue
            seen.add(page.file)
            # The first run lands on the role's first page; later pages are switched to.
            if index:
                app.switch_page(f"pages/{page.file}")
            # The first visit finds nothing cached in this process; the run right after
            # it (a rerun, as any widget change makes) reads what the first one cached.
            for visit, timings in (("first", pages), ("again", cached_pages)):
                seconds = _timed_run(app, profile_dir, f"{role}-{page.slug}-{visit}")
                timings.setdefault(page.title, {})[role] = seconds
                if app.exception:
                    failures.append(f"{role} {page.title}: {app.exception[0].message}")
            if page.slug == "pool" and not app.exception:
                pool_filter[role] = _time_pool_filters(app, profile_dir, role)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "pages": pages,
        "cached_pages": cached_pages,
        "pool_filter": pool_filter,
        "peak_rss_mb": peak_kb / 1024,
        "preload_seconds": preload_seconds,
        "failures": failures,
    }


def _timed_run(app: Any, profile_dir: str | None, name: str) -> float:
    """Seconds of one run of ``app``; with ``profile_dir``, the script thread's profile."""
    if profile_dir:
        _PROFILER[0] = cProfile.Profile()
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    profiler, _PROFILER[0] = _PROFILER[0], None
    if profiler is not None and profile_dir:
        profiler.dump_stats(str(Path(profile_dir) / f"{name}.prof"))
    return elapsed


# The profiler of the run being timed: the page runs in Streamlit's script thread, which
# a profiler started in this thread would not see.
_PROFILER: list[cProfile.Profile | None] = [None]


def _profile_script_thread() -> None:
    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner

    original = ScriptRunner._run_script

    def profiled(self: ScriptRunner, *args: Any, **kwargs: Any) -> None:
        profiler = _PROFILER[0]
        if profiler is None:
            original(self, *args, **kwargs)
            return
        profiler.enable()
        try:
            original(self, *args, **kwargs)
        finally:
            profiler.disable()

    ScriptRunner._run_script = profiled  # type: ignore[method-assign]


def _time_pool_filters(app: Any, profile_dir: str | None, role: str) -> dict[str, float]:
    """Seconds of the run after each of the roster's filter changes, each undone after."""
    seconds: dict[str, float] = {}
    for name, key, choose, undo in POOL_FILTERS:
        widget = _widget(app, key)
        if widget is None:
            continue
        choose(widget)
        seconds[name] = _timed_run(app, profile_dir, f"{role}-pool-filter-{name}")
        undo(_widget(app, key))
        app.run()
    return seconds


def _widget(app: Any, key: str) -> Any:
    for kind in ("multiselect", "text_input", "checkbox"):
        try:
            return getattr(app, kind)(key=key)
        except KeyError:
            continue
    return None


def _optional_measure(module: str, name: str) -> Callable[..., Any] | None:
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return found if callable(found) else None


def import_figures(url: str, rows: int, annotations: int) -> dict[str, str]:
    """The import ratio against raw COPY and the Label Studio rate, where the import
    benchmarks offer them (``measure_import_ratio(url, rows)`` in import_benchmark,
    ``measure_labelstudio_rate(url, annotations)`` in labelstudio_benchmark or
    import_benchmark); anything else is reported as not measured."""
    sys.path.insert(0, str(ROOT))
    figures = {"import ratio": "not measured", "label studio rate": "not measured"}
    ratio = _optional_measure("benchmarks.import_benchmark", "measure_import_ratio")
    if ratio is not None:
        measured = ratio(url, rows)
        # A plain number, or a result that carries it as ``ratio``.
        figures["import ratio"] = f"{float(getattr(measured, 'ratio', measured)):.2f}x raw COPY"
    for module in ("benchmarks.labelstudio_benchmark", "benchmarks.import_benchmark"):
        rate = _optional_measure(module, "measure_labelstudio_rate")
        if rate is not None:
            measured = rate(url, annotations)
            per_second = float(getattr(measured, "rate", measured))
            figures["label studio rate"] = f"{per_second:,.0f} annotations/s"
            break
    return figures


def _row(label: str, cells: dict[str, float]) -> str:
    return label.ljust(26) + "".join(
        f"{cells[role]:11.2f}" if role in cells else f"{'–':>11}" for role in ROLES
    )


def print_pages(results: dict[str, dict[str, Any]]) -> None:
    """One line per page: seconds per role for each checkout timed."""
    names = list(results)
    first = results[names[0]]
    titles = list(first["pages"])
    header = "page".ljust(26) + "".join(f"{role:>11}" for role in ROLES)
    for name in names:
        timings = results[name]
        for key, what in (
            ("pages", "first visit, nothing cached yet"),
            ("cached_pages", "rerun right after the first visit"),
        ):
            print(f"\n{name}: seconds of each page's {what} (server side)")
            print(header)
            for title in titles:
                print(_row(title, timings.get(key, {}).get(title, {})))
        filters = sorted({change for pool in timings["pool_filter"].values() for change in pool})
        for change in filters:
            print(
                _row(
                    f"Pool filter: {change}",
                    {
                        role: pool[change]
                        for role, pool in timings["pool_filter"].items()
                        if change in pool
                    },
                )
            )
        print(f"peak RSS of the dashboard process: {timings['peak_rss_mb']:.0f} MB")
        if timings.get("preload_seconds") is not None:
            print(f"server start, pages' libraries loaded: {timings['preload_seconds']:.2f} s")
        for failure in timings["failures"]:
            print(f"  page error: {failure}")
    if len(names) == 2:
        before, after = (results[name] for name in names)
        print(f"\nratio {names[0]} / {names[1]}, first visits (higher: {names[1]} faster)")
        print(header)
        for title in titles:
            old, new = before["pages"].get(title, {}), after["pages"].get(title, {})
            print(
                title.ljust(26)
                + "".join(
                    f"{old[role] / new[role]:10.1f}x"
                    if role in old and role in new
                    else f"{'–':>11}"
                    for role in ROLES
                )
            )
    last = results[names[-1]]
    every = [
        seconds
        for key in ("pages", "cached_pages")
        for timing in last.get(key, {}).values()
        for seconds in timing.values()
    ]
    every += [seconds for pool in last["pool_filter"].values() for seconds in pool.values()]
    worst = max(every, default=0.0)
    peak = last["peak_rss_mb"]
    pages_verdict = "meets" if worst <= PAGE_TARGET_SECONDS else "misses"
    rss_verdict = "meets" if peak < RSS_TARGET_MB else "misses"
    print(
        f"\nslowest page or filter change: {worst:.2f} s ({pages_verdict} the "
        f"{PAGE_TARGET_SECONDS:.0f} s target); peak RSS {peak:.0f} MB ({rss_verdict} the "
        f"{RSS_TARGET_MB} MB target); load average {_load()}"
    )


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min)"


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--pages-child":
        roles, slugs = (argument.split(",") if argument else [] for argument in sys.argv[3:])
        print(json.dumps(time_pages_here(Path(sys.argv[2]), roles, slugs)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("ANNOPS_SCALE_DATABASE_URL"),
        help="PostgreSQL database to reuse or fill (default: $ANNOPS_SCALE_DATABASE_URL)",
    )
    parser.add_argument("--annotators", type=int, default=5_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument(
        "--baseline", type=Path, help="another checkout whose pages to time first, for ratios"
    )
    parser.add_argument(
        "--roles", default=",".join(ROLES), help="comma-separated roles to time (default: all)"
    )
    parser.add_argument("--import-rows", type=int, default=1_000_000)
    parser.add_argument("--labelstudio-annotations", type=int, default=200_000)
    parser.add_argument("--skip-imports", action="store_true", help="time the pages only")
    parser.add_argument(
        "--pages",
        default="",
        help="comma-separated page slugs to time after the landing page (default: all)",
    )
    parser.add_argument(
        "--profile", type=Path, help="write a cProfile file per role and page visit here"
    )
    args = parser.parse_args()
    roles = [role for role in args.roles.split(",") if role]
    if unknown := set(roles) - set(ROLES):
        parser.error(f"no role {', '.join(sorted(unknown))}; roles are {', '.join(ROLES)}")
    if not args.database_url or not args.database_url.startswith("postgresql"):
        parser.error("name a PostgreSQL database with --database-url")
    ensure_database(args.database_url, args.annotators, args.events)
    print(
        f"timing pages on {args.database_url} at {dt.datetime.now(dt.UTC):%H:%M} UTC, "
        f"load average {_load()}",
        flush=True,
    )
    slugs = [slug for slug in args.pages.split(",") if slug]
    results: dict[str, dict[str, Any]] = {}
    if args.baseline is not None:
        results[f"baseline ({args.baseline.name})"] = run_pages(
            args.baseline.resolve(), args.database_url, roles, slugs=slugs
        )
    results["this checkout"] = run_pages(ROOT, args.database_url, roles, args.profile, slugs)
    print_pages(results)
    if not args.skip_imports:
        figures = import_figures(args.database_url, args.import_rows, args.labelstudio_annotations)
        for name, value in figures.items():
            print(f"{name}: {value}")


if __name__ == "__main__":
    main()
