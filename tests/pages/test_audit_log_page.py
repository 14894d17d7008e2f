"""The Audit log page: admins filter the log, read an entry's changes and export it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from db.engine import make_engine, make_session_factory
from ops.audit import AuditFilter, audit_log
from ops.errors import PermissionDenied
from ops.permissions import Principal
from tests.pages.conftest import log_in
from tests.pages.workforce_helpers import frame_with, open_page


def test_admin_filters_the_log_and_reads_an_entry(app: AppTest) -> None:
    log_in(app, "lead", "not-the-password")
    open_page(app, "admin", "audit_log")
    assert not app.exception, app.exception
    entries = frame_with(app, "changes")
    assert {"login", "login.failed"} <= set(entries["action"])
    app.selectbox(key="audit_action").set_value("login.failed")
    app.run()
    entries = frame_with(app, "changes")
    assert set(entries["action"]) == {"login.failed"}
    assert "lead" in set(entries["actor"])
    assert "reason: wrong password" in " ".join(entries["changes"])
    diff = frame_with(app, "before")
    assert list(diff.columns) == ["field", "changed", "before", "after"]
    assert diff.set_index("field").loc["reason", "after"] == "wrong password"
    [download] = list(app.get("download_button"))
    assert download.proto.label == "Download CSV"


@pytest.mark.parametrize("role", ["ops", "lead", "finance", "annotator"])
def test_other_roles_cannot_reach_the_audit_log(app: AppTest, demo_url: str, role: str) -> None:
    log_in(app, role)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/audit_log.py")
    engine = make_engine(demo_url)
    try:
        with pytest.raises(PermissionDenied), make_session_factory(engine)() as session:
            audit_log(session, Principal(username=role, role=role), AuditFilter())
    finally:
        engine.dispose()
