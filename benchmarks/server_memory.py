"""Where the dashboard server's memory goes: resident memory and Streamlit sessions over a run.

    .venv/bin/python benchmarks/server_memory.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/annops_mem \\
        --password P [--sessions 1] [--rounds 2] [--idle 150] [--ttl 120] [--root DIR]

Serves the database the way ``annops serve`` does (dashboard/server.py under Streamlit, the
same options), with a sampler thread in the server process that writes, every second, its
resident memory, the Streamlit sessions it holds (connected, and disconnected ones kept
for reconnecting) and how many session objects are still alive. Then opens pages in
Chromium as browser_load.py does: with ``--sessions 1`` one login per role in turn, each
page opened by its URL (a new Streamlit session each time), the server's memory read after
every page; with more sessions, that many at once. After the pages the server is left
idle for ``--idle`` seconds, so that disconnected sessions can expire.

``--ttl`` sets ``server.disconnectedSessionTTL`` for this run (unset: whatever the served
code configures). ``--root`` serves another checkout of annops (e.g. a baseline
worktree) with the same driver. The demo logins must have the password ``--password``.

Prints the server's memory after start, after each page (one session), at the end of
the pages, its peak, and after the idle period; with ``--json FILE`` also the samples.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_load import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    HEADING,
    IDLE,
    Timings,
    free_port,
    load,
    peak_rss_mb,
)

from db.models import ROLES  # noqa: E402
from ops.pages import pages_for_role  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# Runs inside the server process: samples memory and sessions into a file, then becomes
# `streamlit run` with the arguments given.
PROBE = r"""
import gc, json, sys, threading, time, weakref
out_path = sys.argv[1]
sys.argv = ["streamlit", *sys.argv[2:]]
from streamlit.runtime.app_session import AppSession
alive = weakref.WeakSet()
_init = AppSession.__init__
def _tracked(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    alive.add(self)
AppSession.__init__ = _tracked

def status():
    fields = {}
    for line in open("/proc/self/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            fields[key] = int(value.split()[0]) / 1024
    return fields

def sample():
    from streamlit.runtime import Runtime
    with open(out_path, "a") as out:
        while True:
            row = {"t": time.time(), **status(), "alive": len(alive)}
            try:
                if Runtime.exists():
                    manager = Runtime.instance()._session_mgr
                    row["active"] = len(manager.list_active_sessions())
                    row["stored"] = len(manager._session_storage.list())
            except (RuntimeError, AttributeError):  # starting, or changed while counted
                pass
            out.write(json.dumps(row) + "\n")
            out.flush()
            time.sleep(1.0)

def report(signum, frame):
    # kill -USR1 <pid>: how the heap is split, into the server's log.
    import ctypes
    fields = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
    class Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in fields.split()]
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = Info
    info = libc.mallinfo2()
    gc.collect()
    sys.stderr.write(json.dumps({
        "malloc_heaps_mb": info.arena >> 20, "malloc_mapped_mb": info.hblkhd >> 20,
        "malloc_used_mb": info.uordblks >> 20, "malloc_free_mb": info.fordblks >> 20,
        "python_blocks": sys.getallocatedblocks(), "alive": len(alive)}) + "\n")
    sys._debugmallocstats()
    sys.stderr.flush()

import signal
signal.signal(signal.SIGUSR1, report)
threading.Thread(target=sample, daemon=True).start()
from streamlit.web.cli import main
main()
"""


def start(
    root: Path, url: str, ttl: int | None, workdir: Path
) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    samples = workdir / "samples.jsonl"
    env = os.environ | {
        "ANNOPS_DATABASE_URL": url,
        "PYTHONPATH": str(root),
    }
    if ttl is not None:
        env["STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL"] = str(ttl)
    # The options `annops serve` passes (ops/cli/dashboard.py).
    command = [
        sys.executable,
        "-c",
        PROBE,
        str(samples),
        "run",
        str(root / "dashboard" / "server.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]
    log = (workdir / "serve.log").open("w")
    server = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return server, base, samples
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit(f"the dashboard did not start; see {workdir / 'serve.log'}")


def mappings(pid: int) -> dict[str, float]:
    """The server's resident memory by kind of mapping, MB: the heap and anonymous maps
    (malloc arenas, Python's and Arrow's allocators), shared libraries, other files."""
    kinds: dict[str, float] = {}
    kind = "?"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5:
            name = head[5] if len(head) > 5 else ""
            if name == "[heap]":
                kind = "heap (brk)"
            elif not name or name.startswith("[anon"):
                kind = "anonymous maps"
            elif ".so" in name:
                kind = "shared libraries"
            elif name.startswith("["):
                kind = name
            else:
                kind = "other files"
        elif line.startswith("Rss:"):
            kinds[kind] = kinds.get(kind, 0.0) + int(head[1]) / 1024
    return {name: round(mb) for name, mb in sorted(kinds.items())}


def heap_report(server: subprocess.Popen[bytes], log: Path) -> dict[str, Any]:
    """Ask the server (SIGUSR1) how its heap is split: glibc malloc and Python's allocator."""
    before = log.read_text(errors="replace")
    server.send_signal(signal.SIGUSR1)
    for _ in range(50):
        time.sleep(0.2)
        text = log.read_text(errors="replace")[len(before) :]
        if "# bytes in available blocks" in text:
            break
    found: dict[str, Any] = {}
    for line in text.splitlines():
        if line.startswith("{") and "malloc_used_mb" in line:
            found.update(json.loads(line))
        elif line.startswith("# arenas allocated current"):
            found["pymalloc_arenas"] = int(line.split("=")[-1].replace(",", ""))
        elif line.startswith("# bytes in allocated blocks"):
            found["pymalloc_used_mb"] = int(line.split("=")[-1].replace(",", "")) >> 20
        elif line.startswith("# bytes in available blocks"):
            found["pymalloc_free_mb"] = int(line.split("=")[-1].replace(",", "")) >> 20
    return found


def cache_mb(base: str) -> dict[str, float]:
    """Streamlit's own count of what its caches and session states hold, MB by kind."""
    with urllib.request.urlopen(f"{base}/_stcore/metrics", timeout=30) as response:
        body = response.read().decode()
    totals: dict[str, float] = {}
    for line in body.splitlines():
        if line.startswith("cache_memory_bytes{"):
            kind = re.search(r'cache_type="([^"]+)"', line)
            name = kind.group(1) if kind else "?"
            totals[name] = totals.get(name, 0.0) + float(line.rsplit(" ", 1)[1]) / 2**20
    return {name: round(mb, 1) for name, mb in totals.items()}


def last_sample(samples: Path) -> dict[str, Any]:
    lines = samples.read_text().splitlines() if samples.exists() else []
    return json.loads(lines[-1]) if lines else {}


async def one_by_one(
    base: str, password: str, rounds: int, timeout: float, samples: Path, roles: list[str]
) -> list[dict[str, Any]]:
    """Each role in turn logs in and opens its pages by URL; the memory after each page."""
    from playwright.async_api import async_playwright

    rows: list[dict[str, Any]] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for role in roles:
            context = await browser.new_context(viewport={"width": 1400, "height": 900})
            page = await context.new_page()
            page.set_default_timeout(timeout * 1000)
            await page.goto(base)
            await page.get_by_label("User name").fill(role)
            await page.get_by_label("Password", exact=True).fill(password)
            await page.get_by_role("button", name="Log in").click()
            await page.locator(HEADING).filter(has_not_text="annops").wait_for()
            for _ in range(100):
                if any(c["name"] == "annops_session" for c in await context.cookies()):
                    break
                await asyncio.sleep(0.1)
            for round_ in range(rounds):
                for spec in pages_for_role(role):
                    started = time.monotonic()
                    await page.goto(f"{base}/{spec.slug}")
                    await page.locator(IDLE).wait_for()
                    await page.locator(HEADING).first.wait_for()
                    seconds = time.monotonic() - started
                    await asyncio.sleep(1.1)  # one more sample after the page
                    row = {"role": role, "round": round_, "page": spec.slug, "s": seconds}
                    rows.append(row | last_sample(samples))
                    print(
                        f"{role:<10}{spec.slug:<24}{seconds:6.2f} s  "
                        f"RSS {rows[-1].get('VmRSS', 0):6.0f} MB  "
                        f"sessions {rows[-1].get('active')}+{rows[-1].get('stored')} "
                        f"(alive {rows[-1].get('alive')})",
                        flush=True,
                    )
            await context.close()
        await browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--idle", type=float, default=150.0, help="seconds idle after")
    parser.add_argument("--ttl", type=int, default=None, help="disconnectedSessionTTL, s")
    parser.add_argument("--root", type=Path, default=ROOT, help="the annops checkout served")
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--roles", default=",".join(ROLES), help="one session: these roles")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="annops-mem-"))
    server, base, samples = start(args.root.resolve(), args.database_url, args.ttl, workdir)
    try:
        time.sleep(2.0)
        started = last_sample(samples)
        heap_started = heap_report(server, workdir / "serve.log")
        print(f"served {args.root} (ttl {args.ttl}); after start: {started.get('VmRSS', 0):.0f} MB")
        t0 = time.monotonic()
        pages: list[dict[str, Any]] = []
        if args.sessions == 1:
            pages = asyncio.run(
                one_by_one(
                    base, args.password, args.rounds, args.timeout, samples, args.roles.split(",")
                )
            )
            errors = 0
        else:
            out: Timings = asyncio.run(
                load(base, args.sessions, args.password, args.rounds, args.timeout)
            )
            errors = sum(len(e) for e in out.errors.values())
            loads = sum(len(s) for s in out.seconds.values())
            print(f"{args.sessions} sessions at once: {loads} loads, {errors} errors")
        wall = time.monotonic() - t0
        time.sleep(1.1)
        ended = last_sample(samples)
        caches_ended = cache_mb(base)
        time.sleep(args.idle)
        idle = last_sample(samples)
        caches_idle = cache_mb(base)
        maps_idle = mappings(server.pid)
        heap_idle = heap_report(server, workdir / "serve.log")
        rows = [json.loads(line) for line in samples.read_text().splitlines()]
        peak = max([r.get("VmHWM", 0) for r in rows] + [peak_rss_mb(server.pid) or 0])
        most = max(r.get("active", 0) + r.get("stored", 0) for r in rows)
        load_avg = os.getloadavg()
        summary = {
            "root": str(args.root),
            "ttl": args.ttl,
            "sessions": args.sessions,
            "rounds": args.rounds,
            "pages_wall_s": round(wall, 1),
            "errors": errors,
            "rss_after_start_mb": round(started.get("VmRSS", 0)),
            "rss_after_pages_mb": round(ended.get("VmRSS", 0)),
            "sessions_after_pages": [ended.get("active"), ended.get("stored"), ended.get("alive")],
            "caches_after_pages_mb": caches_ended,
            "peak_rss_mb": round(peak),
            "rss_after_idle_mb": round(idle.get("VmRSS", 0)),
            "sessions_after_idle": [idle.get("active"), idle.get("stored"), idle.get("alive")],
            "caches_after_idle_mb": caches_idle,
            "rss_by_mapping_after_idle_mb": maps_idle,
            "heap_after_start": heap_started,
            "heap_after_idle": heap_idle,
            "anon_file_after_start_mb": [started.get("RssAnon"), started.get("RssFile")],
            "anon_file_after_idle_mb": [idle.get("RssAnon"), idle.get("RssFile")],
            "most_sessions_held": most,
            "load_average": [round(x, 1) for x in load_avg],
        }
        print(json.dumps(summary))
        if args.json:
            args.json.write_text(json.dumps({"summary": summary, "pages": pages, "samples": rows}))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
