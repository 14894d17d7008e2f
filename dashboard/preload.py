"""What a dashboard process imports before its first visitor: the modules its pages use.

Importing the statistics and chart libraries takes seconds (scipy.stats alone is over a
second); done when the server starts, no visitor waits for it on their first page.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

PAGES = Path(__file__).resolve().parent / "pages"


def page_modules() -> list[str]:
    """Every module a page script imports at its top, by absolute name."""
    names: set[str] = set()
    for script in sorted(PAGES.glob("*.py")):
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
    names.discard("__future__")
    return sorted(names)


def preload() -> list[str]:
    """Import what the pages import; returns the module names."""
    names = page_modules()
    for name in names:
        importlib.import_module(name)
    return names
