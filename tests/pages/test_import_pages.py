"""Import, Import history and Unlinked identities pages, per role, on the demo database."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from ops.auth import create_user
from ops.permissions import SYSTEM
from ops.settings import get_settings
from tests.pages.conftest import APP, PASSWORD, as_read, log_in

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "labelstudio"


def open_page(app: AppTest, role: str, page: str) -> AppTest:
    log_in(app, role)
    app.switch_page(f"pages/{page}")
    return app.run()


def summary(app: AppTest) -> dict[str, int]:
    table = app.dataframe[0].value
    return dict(zip(table["what"], table["count"], strict=True))


def upload_export(app: AppTest) -> None:
    app.radio(key="import_source").set_value("labelstudio")
    app.run()
    app.selectbox(key="import_project").set_value("defect-inspection")
    app.file_uploader(key="import_file").upload(
        "export.json", (FIXTURES / "export.json").read_bytes()
    )
    app.file_uploader(key="import_users").upload(
        "users.json", (FIXTURES / "users.json").read_bytes()
    )


def test_ops_previews_then_imports_a_label_studio_export(app: AppTest) -> None:
    open_page(app, "ops", "imports.py")
    assert not app.exception, app.exception
    upload_export(app)
    app.button(key="import_preview").click()
    app.run()
    assert not app.exception, app.exception
    assert any("nothing was stored" in as_read(info.value) for info in app.info)
    counts = summary(app)
    assert counts["new events"] == 73
    assert counts["new unlinked annotators"] == 4
    assert counts["golden items found"] == 3
    people = set(app.dataframe[1].value["annotator"])
    assert "Bob Okafor (unlinked)" in people

    app.button(key="import_run").click()
    app.run()
    assert not app.exception, app.exception
    assert any("Imported export.json" in as_read(success.value) for success in app.success)
    assert summary(app)["new events"] == 73

    app.button(key="import_run").click()
    app.run()
    assert summary(app)["new events"] == 0
    assert summary(app)["already stored (unchanged)"] == 73

    app.switch_page("pages/import_history.py")
    app.run()
    history = app.dataframe[0].value
    mine = history[history["file"] == "export.json"]
    assert list(mine["status"]) == ["committed", "committed", "dry_run"]
    assert list(mine["inserted"]) == [0, 73, 73]


def test_a_bad_file_shows_the_error_and_offers_rejects(app: AppTest) -> None:
    open_page(app, "ops", "imports.py")
    app.radio(key="import_source").set_value("events")
    app.run()
    content = (
        b"project,item_id,annotator,submitted_at,external_id\n"
        b"defect-inspection,i1,someone@example.org,2026-03-02T10:00:00Z,page-1\n"
        b"defect-inspection,i2,someone@example.org,last tuesday,page-2\n"
    )
    app.file_uploader(key="import_file").upload("work.csv", content)
    app.button(key="import_preview").click()
    app.run()
    assert any("work.csv, row 3, field submitted_at" in as_read(error.value) for error in app.error)
    app.checkbox(key="import_skip_invalid").check()
    app.button(key="import_preview").click()
    app.run()
    assert not app.exception, app.exception
    assert summary(app)["rejected rows"] == 1
    assert summary(app)["new events"] == 1
    assert app.get("download_button"), "the rejects are offered for download"


def test_ops_links_an_unlinked_identity_to_a_person(app: AppTest) -> None:
    open_page(app, "ops", "imports.py")
    upload_export(app)
    app.button(key="import_run").click()
    app.run()
    app.switch_page("pages/unlinked_identities.py")
    app.run()
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    assert len(table) == 4 and set(table["events"]) == {16, 22, 19}
    identity = app.selectbox(key="link_identity_id")
    bob = next(index for index, text in enumerate(identity.options) if "labelstudio:3" in text)
    identity.select_index(bob)
    form_buttons = [button for button in app.button if button.label == "Link identity"]
    form_buttons[0].click()
    app.run()
    assert not app.exception, app.exception
    assert any("Linked labelstudio:3" in as_read(success.value) for success in app.success)
    assert len(app.dataframe[0].value) == 3


@pytest.mark.parametrize("role", ["lead", "finance", "annotator"])
@pytest.mark.parametrize("page", ["imports.py", "import_history.py", "unlinked_identities.py"])
def test_other_roles_cannot_reach_the_import_pages(app: AppTest, role: str, page: str) -> None:
    log_in(app, role)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(f"pages/{page}")


def test_admin_sees_the_demo_lineage(app: AppTest) -> None:
    open_page(app, "admin", "import_history.py")
    assert not app.exception, app.exception
    history = app.dataframe[0].value
    demo = history[history["source"] == "demo"]
    assert len(demo) >= 3, "one demo batch per project"
    assert (demo["inserted"] > 0).all()
    assert set(demo["status"]) == {"committed"}


def test_a_label_studio_import_without_any_project_says_to_add_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session, session.begin():
        create_user(session, SYSTEM, username="ops", role="ops", password=PASSWORD)
    engine.dispose()
    monkeypatch.setenv("ANNOPS_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        app = AppTest.from_file(APP, default_timeout=30)
        open_page(app, "ops", "imports.py")
        app.radio(key="import_source").set_value("labelstudio")
        app.run()
    finally:
        get_settings.cache_clear()
    assert not app.exception, app.exception
    assert [as_read(info.value) for info in app.info] == [
        "There are no projects to import into yet: add one with `annops project add`."
    ]
    # Nothing to pick and nothing to press on the page; the sidebar keeps its Log out.
    assert not app.selectbox and [button.key for button in app.button] == ["logout"]
