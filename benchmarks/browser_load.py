"""Page times with many people on the dashboard at once: concurrent Chromium sessions.

    ANNOPS_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python benchmarks/browser_load.py [--events 1000000] [--sessions 20]

Loads the demo with ``--events`` events into a scratch PostgreSQL database next to the one
named (or a SQLite file when no URL is set; ``--database-url`` reuses a demo database
already loaded, whose logins have the password ``--password``), serves it with
``annops serve``, and opens ``--sessions`` browser sessions at once in Debian's chromium.
Each session logs in as one of the roles in turn and opens every page its navigation
offers (from ops.pages) by its URL, ``--rounds`` times. A page's time runs from asking
for its URL until its script has finished and its heading is shown; an error is a page
that showed a Streamlit exception, the login form, or nothing within ``--timeout``.

Reports, per page: loads, median, 95th percentile and slowest seconds, errors; then the
total, and the dashboard server's peak resident memory (logins included: each hashes a
password). Writes the same as JSON with ``--json FILE``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.engine import make_engine
from db.models import ROLES
from ops.pages import pages_for_role

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
HEADING = '[data-testid="stMain"] h1'


@dataclass
class Timings:
    """Seconds per page load and the errors seen, by page slug."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, slug: str, seconds: float) -> None:
        self.seconds.setdefault(slug, []).append(seconds)

    def fail(self, slug: str, reason: str) -> None:
        self.errors.setdefault(slug, []).append(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scratch_postgres(named: str) -> str:
    name = f"annops_load_{uuid.uuid4().hex[:10]}"
    admin = make_engine(named, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(named).set(database=name).render_as_string(hide_password=False)


def drop_postgres(named: str, url: str) -> None:
    admin = make_engine(named, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        database = make_url(url).database
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    admin.dispose()


def serve(url: str, password: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = os.environ | {
        "ANNOPS_DATABASE_URL": url,
        "ANNOPS_DEMO_PASSWORD": password,
        "ANNOPS_DASHBOARD_PORT": str(port),
        "ANNOPS_DASHBOARD_ADDRESS": "127.0.0.1",
        "PYTHONPATH": str(ROOT),
    }
    log = (workdir / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "ops.cli", "serve"], cwd=workdir, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return server, base
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit(f"the dashboard did not start; see {workdir / 'serve.log'}")


def peak_rss_mb(pid: int) -> float | None:
    """The peak resident memory of process ``pid`` so far (Linux), in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


async def one_session(
    browser: Any, base: str, role: str, password: str, rounds: int, timeout: float, out: Timings
) -> None:
    """Log in as ``role`` and open each of its pages by URL, ``rounds`` times."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(timeout * 1000)
    try:
        started = time.monotonic()
        await page.goto(base)
        await page.get_by_label("User name").fill(role)
        await page.get_by_label("Password", exact=True).fill(password)
        await page.get_by_role("button", name="Log in").click()
        await page.locator(HEADING).filter(has_not_text="annops").wait_for()
        out.add("(log in)", time.monotonic() - started)
        # The session cookie arrives just after the first page; every URL below needs it.
        for _ in range(100):
            if any(c["name"] == "annops_session" for c in await context.cookies()):
                break
            await asyncio.sleep(0.1)
        for _ in range(rounds):
            for spec in pages_for_role(role):
                started = time.monotonic()
                try:
                    await page.goto(f"{base}/{spec.slug}")
                    await page.locator(IDLE).wait_for()
                    await page.locator(HEADING).first.wait_for()
                except Exception as error:  # a timeout is a result here, not a crash
                    out.fail(spec.slug, f"{role}: {type(error).__name__}")
                    continue
                seconds = time.monotonic() - started
                if await page.get_by_test_id("stException").count():
                    out.fail(spec.slug, f"{role}: exception on the page")
                elif await page.get_by_role("button", name="Log in").count():
                    out.fail(spec.slug, f"{role}: logged out")
                else:
                    out.add(spec.slug, seconds)
    except Exception as error:
        out.fail("(log in)", f"{role}: {type(error).__name__}: {error}".splitlines()[0])
    finally:
        await context.close()


async def load(base: str, sessions: int, password: str, rounds: int, timeout: float) -> Timings:
    from playwright.async_api import async_playwright

    out = Timings()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        await asyncio.gather(
            *(
                one_session(browser, base, ROLES[n % len(ROLES)], password, rounds, timeout, out)
                for n in range(sessions)
            )
        )
        await browser.close()
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(out: Timings, wall: float, sessions: int, events: str) -> dict[str, Any]:
    rows = []
    for slug in sorted(set(out.seconds) | set(out.errors)):
        times = out.seconds.get(slug, [])
        rows.append(
            {
                "page": slug,
                "loads": len(times),
                "median_s": round(statistics.median(times), 2) if times else None,
                "p95_s": round(percentile(times, 0.95), 2) if times else None,
                "max_s": round(max(times), 2) if times else None,
                "errors": len(out.errors.get(slug, [])),
            }
        )
    print(f"{sessions} concurrent sessions on a demo of {events} events, {wall:.1f} s in all")
    print(f"{'page':<24}{'loads':>6}{'median':>9}{'p95':>9}{'max':>9}{'errors':>8}")
    for row in rows:
        cells = [row["median_s"], row["p95_s"], row["max_s"]]
        shown = "".join(f"{'-' if c is None else f'{c:.2f}':>9}" for c in cells)
        print(f"{row['page']:<24}{row['loads']:>6}{shown}{row['errors']:>8}")
    every = [s for slug, times in out.seconds.items() if slug != "(log in)" for s in times]
    errors = sum(len(e) for e in out.errors.values())
    samples = [e for errs in out.errors.values() for e in errs][:10]
    summary = {
        "sessions": sessions,
        "events": events,
        "wall_s": round(wall, 1),
        "page_loads": len(every),
        "median_s": round(statistics.median(every), 2) if every else None,
        "p95_s": round(percentile(every, 0.95), 2) if every else None,
        "errors": errors,
        "error_samples": samples,
        "pages": rows,
    }
    print(
        f"all pages: {summary['page_loads']} loads, median {summary['median_s']} s, "
        f"p95 {summary['p95_s']} s, {errors} errors"
    )
    for sample in samples:
        print(f"  error: {sample}")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--annotators", type=int, default=None)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per page")
    parser.add_argument("--database-url", help="a demo database already loaded")
    parser.add_argument("--password", default="load-check-password")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    if not os.access(CHROMIUM, os.X_OK):
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install chromium)")

    workdir = Path(tempfile.mkdtemp(prefix="annops-load-"))
    named = os.environ.get("ANNOPS_TEST_DATABASE_URL")
    url = args.database_url
    made = url is None
    if url is None:
        url = scratch_postgres(named) if named else f"sqlite:///{workdir / 'annops.db'}"
        demo = ["demo", "--no-serve", "--events", str(args.events)]
        if args.annotators:
            demo += ["--annotators", str(args.annotators)]
        started = time.monotonic()
        loaded = subprocess.run(
            [sys.executable, "-m", "ops.cli", *demo],
            cwd=workdir,
            env=os.environ
            | {
                "ANNOPS_DATABASE_URL": url,
                "ANNOPS_DEMO_PASSWORD": args.password,
                "PYTHONPATH": str(ROOT),
            },
            capture_output=True,
            text=True,
        )
        if loaded.returncode:
            raise SystemExit(f"the demo did not load: {loaded.stderr}")
        print(f"demo of {args.events:,} events loaded in {time.monotonic() - started:.0f} s")
    server, base = serve(url, args.password, workdir)
    try:
        started = time.monotonic()
        out = asyncio.run(load(base, args.sessions, args.password, args.rounds, args.timeout))
        events = f"{args.events:,}" if made else "the given database's"
        summary = report(out, time.monotonic() - started, args.sessions, events)
        summary["database"] = make_url(url).get_backend_name()
        # `annops serve` becomes the Streamlit process, so the child is the dashboard.
        peak = peak_rss_mb(server.pid)
        summary["server_peak_rss_mb"] = peak
        print(f"peak RSS of the dashboard server: {'-' if peak is None else f'{peak:.0f}'} MB")
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2))
    finally:
        server.terminate()
        server.wait(timeout=30)
        if made and named and not args.keep:
            drop_postgres(named, url)
        elif args.keep:
            print(f"kept: {url}")


if __name__ == "__main__":
    main()
