"""The dashboard's pages, each declared once with the permission that shows it.

Each role's navigation is derived from this table, so a page is offered to exactly the
roles the permission table allows; anything else that points at a page (a link in a
notification) should read its slug from here too. Pure data: no streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

from ops.permissions import allows


@dataclass(frozen=True)
class PageSpec:
    """One dashboard page: its stable URL path, its file in dashboard/pages/, how the
    navigation shows it, and the action a role needs to see it."""

    slug: str
    file: str
    title: str
    icon: str
    section: str  # "" is the untitled group at the top
    action: str


# In navigation order; the first page a role may see is its landing page.
PAGES: tuple[PageSpec, ...] = (
    PageSpec("home", "home.py", "Home", ":material/home:", "", "home.view"),
    PageSpec(
        "scorecard", "scorecard.py", "My scorecard", ":material/person:", "", "scorecard.view_own"
    ),
    PageSpec("projects", "projects.py", "Projects", ":material/work:", "", "project.view"),
    PageSpec("alerts", "alerts.py", "Alerts", ":material/notifications:", "", "alerts.view"),
    PageSpec(
        "review", "review.py", "Review & correction", ":material/fact_check:", "", "review.view"
    ),
    PageSpec("quality", "quality.py", "Quality", ":material/verified:", "", "quality.view"),
    PageSpec("jobs", "jobs.py", "Jobs", ":material/schedule:", "", "jobs.view"),
    PageSpec(
        "notifications",
        "notifications.py",
        "Notifications",
        ":material/campaign:",
        "",
        "notify.admin",
    ),
    PageSpec(
        "notification_settings",
        "notification_settings.py",
        "My notifications",
        ":material/mail:",
        "",
        "notify.preferences",
    ),
    PageSpec("imports", "imports.py", "Import", ":material/upload_file:", "Data", "import.run"),
    PageSpec(
        "import_history",
        "import_history.py",
        "Import history",
        ":material/history:",
        "Data",
        "import.run",
    ),
    PageSpec(
        "unlinked_identities",
        "unlinked_identities.py",
        "Unlinked identities",
        ":material/person_search:",
        "Data",
        "identity.link",
    ),
    PageSpec("pool", "pool.py", "Pool", ":material/groups:", "People", "annotator.view"),
    PageSpec(
        "annotator",
        "annotator.py",
        "Annotator profile",
        ":material/badge:",
        "People",
        "annotator.view",
    ),
    PageSpec(
        "calibration",
        "calibration.py",
        "Calibration",
        ":material/tune:",
        "People",
        "calibration.view",
    ),
    PageSpec(
        "guidelines",
        "guidelines.py",
        "Guidelines",
        ":material/menu_book:",
        "People",
        "guideline.view",
    ),
    PageSpec("users", "users.py", "Users", ":material/manage_accounts:", "Admin", "user.manage"),
    PageSpec("audit_log", "audit_log.py", "Audit log", ":material/policy:", "Admin", "audit.view"),
)


def pages_for_role(role: str) -> tuple[PageSpec, ...]:
    """The pages ``role`` may see, in navigation order; none for an unknown role."""
    return tuple(page for page in PAGES if allows(role, page.action))
