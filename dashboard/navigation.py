"""Which pages each role sees. Hiding a page is convenience; ops/ enforces permissions."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).parent / "pages"

# role -> {section: [(file, title, icon)]}; one line per page.
ROLE_PAGES: dict[str, dict[str, list[tuple[str, str, str]]]] = {
    "admin": {
        "": [
            ("home.py", "Home", ":material/home:"),
            ("alerts.py", "Alerts", ":material/notifications:"),
            ("jobs.py", "Jobs", ":material/schedule:"),
        ],
        "Data": [
            ("imports.py", "Import", ":material/upload_file:"),
            ("import_history.py", "Import history", ":material/history:"),
            ("unlinked_identities.py", "Unlinked identities", ":material/person_search:"),
        ],
        "People": [
            ("pool.py", "Pool", ":material/groups:"),
            ("annotator.py", "Annotator profile", ":material/badge:"),
            ("calibration.py", "Calibration", ":material/tune:"),
            ("guidelines.py", "Guidelines", ":material/menu_book:"),
        ],
        "Admin": [
            ("users.py", "Users", ":material/manage_accounts:"),
            ("audit_log.py", "Audit log", ":material/policy:"),
        ],
    },
    "ops": {
        "": [
            ("home.py", "Home", ":material/home:"),
            ("alerts.py", "Alerts", ":material/notifications:"),
            ("review.py", "Review & correction", ":material/fact_check:"),
            ("quality.py", "Quality", ":material/verified:"),
        ],
        "Data": [
            ("imports.py", "Import", ":material/upload_file:"),
            ("import_history.py", "Import history", ":material/history:"),
            ("unlinked_identities.py", "Unlinked identities", ":material/person_search:"),
        ],
        "People": [
            ("pool.py", "Pool", ":material/groups:"),
            ("annotator.py", "Annotator profile", ":material/badge:"),
            ("calibration.py", "Calibration", ":material/tune:"),
            ("guidelines.py", "Guidelines", ":material/menu_book:"),
        ],
    },
    "lead": {
        "": [
            ("home.py", "Home", ":material/home:"),
            ("alerts.py", "Alerts", ":material/notifications:"),
            ("review.py", "Review & correction", ":material/fact_check:"),
            ("quality.py", "Quality", ":material/verified:"),
        ],
        "People": [
            ("pool.py", "Pool", ":material/groups:"),
            ("annotator.py", "Annotator profile", ":material/badge:"),
            ("calibration.py", "Calibration", ":material/tune:"),
            ("guidelines.py", "Guidelines", ":material/menu_book:"),
        ],
    },
    "finance": {
        "": [
            ("home.py", "Home", ":material/home:"),
        ],
        "People": [
            ("pool.py", "Pool", ":material/groups:"),
            ("annotator.py", "Annotator profile", ":material/badge:"),
        ],
    },
    "annotator": {
        "": [
            ("home.py", "My scorecard", ":material/person:"),
        ],
    },
}


def pages_for(role: str) -> dict[str, list[st.Page]]:
    """st.Page objects for ``role``; an unknown role gets none."""
    sections = ROLE_PAGES.get(role, {})
    return {
        section: [
            st.Page(PAGES_DIR / file, title=title, icon=icon, default=index == 0 and not section)
            for index, (file, title, icon) in enumerate(entries)
        ]
        for section, entries in sections.items()
    }
