"""The pages each role sees come from the permission table, and match the product's menu."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.pages import PAGES, pages_for_role
from ops.permissions import ACTIONS, ROLES

PAGES_DIR = Path(__file__).resolve().parents[2] / "dashboard" / "pages"

HOME = ("home.py", "Home", ":material/home:")
PROJECTS = ("projects.py", "Projects", ":material/work:")
ALERTS = ("alerts.py", "Alerts", ":material/notifications:")
REVIEW = ("review.py", "Review & correction", ":material/fact_check:")
QUALITY = ("quality.py", "Quality", ":material/verified:")
DATA = [
    ("imports.py", "Import", ":material/upload_file:"),
    ("import_history.py", "Import history", ":material/history:"),
    ("unlinked_identities.py", "Unlinked identities", ":material/person_search:"),
]
POOL = ("pool.py", "Pool", ":material/groups:")
PROFILE = ("annotator.py", "Annotator profile", ":material/badge:")
NOTIFICATIONS = ("notifications.py", "Notifications", ":material/campaign:")
MY_NOTIFICATIONS = ("notification_settings.py", "My notifications", ":material/mail:")
COACHING = [
    ("calibration.py", "Calibration", ":material/tune:"),
    ("guidelines.py", "Guidelines", ":material/menu_book:"),
]

# role -> section -> (file, title, icon): the menu each role had when it was written by hand.
EXPECTED: dict[str, dict[str, list[tuple[str, str, str]]]] = {
    "admin": {
        "": [
            HOME,
            PROJECTS,
            ALERTS,
            ("jobs.py", "Jobs", ":material/schedule:"),
            NOTIFICATIONS,
            MY_NOTIFICATIONS,
        ],
        "Data": DATA,
        "People": [POOL, PROFILE, *COACHING],
        "Admin": [
            ("users.py", "Users", ":material/manage_accounts:"),
            ("audit_log.py", "Audit log", ":material/policy:"),
        ],
    },
    "ops": {
        "": [HOME, PROJECTS, ALERTS, REVIEW, QUALITY, MY_NOTIFICATIONS],
        "Data": DATA,
        "People": [POOL, PROFILE, *COACHING],
    },
    "lead": {
        "": [HOME, PROJECTS, ALERTS, REVIEW, QUALITY, MY_NOTIFICATIONS],
        "People": [POOL, PROFILE, *COACHING],
    },
    "finance": {"": [HOME, PROJECTS, MY_NOTIFICATIONS], "People": [POOL, PROFILE]},
    "annotator": {"": [("scorecard.py", "My scorecard", ":material/person:"), MY_NOTIFICATIONS]},
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_the_pages_of_its_menu(role: str) -> None:
    derived: dict[str, list[tuple[str, str, str]]] = {}
    for page in pages_for_role(role):
        derived.setdefault(page.section, []).append((page.file, page.title, page.icon))
    assert derived == EXPECTED[role]


def test_every_role_has_an_expected_menu() -> None:
    assert set(EXPECTED) == set(ROLES)


def test_an_unknown_role_sees_no_page() -> None:
    assert pages_for_role("intern") == ()


def test_every_page_is_granted_by_an_action_in_the_permission_table() -> None:
    missing = {page.slug: page.action for page in PAGES if page.action not in ACTIONS}
    assert missing == {}


def test_every_page_is_seen_by_some_role() -> None:
    assert [page.slug for page in PAGES if not ACTIONS[page.action]] == []


def test_slugs_are_unique_url_paths() -> None:
    slugs = [page.slug for page in PAGES]
    assert len(set(slugs)) == len(slugs)
    assert all(slug and "/" not in slug and slug == slug.strip() for slug in slugs)


def test_every_page_file_is_declared_and_every_declared_file_exists() -> None:
    on_disk = {path.name for path in PAGES_DIR.glob("*.py") if path.name != "__init__.py"}
    assert {page.file for page in PAGES} == on_disk


@pytest.mark.parametrize("role", ROLES)
def test_no_role_gets_one_page_file_twice(role: str) -> None:
    files = [page.file for page in pages_for_role(role)]
    assert len(set(files)) == len(files)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lands_on_a_page_of_the_top_group(role: str) -> None:
    first = pages_for_role(role)[0]
    landing = "scorecard.py" if role == "annotator" else "home.py"
    assert first.section == "" and first.file == landing
