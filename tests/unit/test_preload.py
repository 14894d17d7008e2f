"""The dashboard server loads its pages' libraries before the first visitor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dashboard.preload import PAGES, page_modules

ROOT = Path(__file__).resolve().parents[2]


def test_page_modules_are_what_the_page_scripts_import() -> None:
    names = page_modules()
    assert "ops.home" in names  # Home's summary
    assert "ops.quality" in names  # Quality's statistics
    assert "__future__" not in names
    assert not [name for name in names if name.startswith(".")]
    assert len(list(PAGES.glob("*.py"))) > 10


def test_preload_imports_the_statistics_and_chart_libraries_in_a_fresh_process() -> None:
    heavy = ["scipy.stats", "altair", "ops.alerts.engine", "ops.home"]
    script = (
        "import json, sys\n"
        f"heavy = {heavy!r}\n"
        "before = [name for name in heavy if name in sys.modules]\n"
        "from dashboard.preload import preload\n"
        "preload()\n"
        "print(json.dumps([before, [name for name in heavy if name in sys.modules]]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    before, after = json.loads(done.stdout.strip().splitlines()[-1])
    assert before == []
    assert after == heavy


def test_the_server_module_preloads_when_streamlit_loads_it() -> None:
    script = (
        "import sys\n"
        "assert 'scipy.stats' not in sys.modules\n"
        "import dashboard.server\n"
        "print('scipy.stats' in sys.modules and 'altair' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "True"
