"""``annops serve``: the dashboard process."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ops.settings import get_settings

# Streamlit serving dashboard/app.py, plus the endpoint that sets the login cookie.
DASHBOARD_SERVER = Path(__file__).resolve().parents[2] / "dashboard" / "server.py"


def serve(
    port: Annotated[int | None, typer.Option(help="port (default 8501)")] = None,
) -> None:
    """Start the dashboard."""
    settings = get_settings()
    chosen = port or settings.dashboard_port
    typer.echo(f"Dashboard: http://{settings.dashboard_address}:{chosen}  (Ctrl+C stops it)")
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(DASHBOARD_SERVER),
        "--server.port",
        str(chosen),
        "--server.address",
        settings.dashboard_address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]
    sys.stdout.flush()
    # Become the dashboard process, so stopping `annops serve` stops the dashboard too.
    os.execv(sys.executable, command)
