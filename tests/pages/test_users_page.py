"""The Users page: admins list, add, change and disable logins; no other role reaches it."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from db.engine import make_engine, make_session_factory
from db.models import AuditEntry, User
from ops.errors import PermissionDenied
from ops.permissions import Principal
from ops.users import list_users, set_enabled
from tests.pages.conftest import PASSWORD, as_read, log_in
from tests.pages.workforce_helpers import frame_with, labelled, open_page


def submit_add_user(app: AppTest, username: str, role: str, password: str, repeat: str) -> None:
    form = "add-user-0" if "add-user-0-username" in app.session_state else "add-user-1"
    app.text_input(key=f"{form}-username").input(username)
    app.selectbox(key=f"{form}-role").set_value(role)
    app.text_input(key=f"{form}-password").input(password)
    app.text_input(key=f"{form}-repeat").input(repeat)
    labelled(app.button, "Add user").click()
    app.run()


def test_admin_sees_every_login(app: AppTest) -> None:
    open_page(app, "admin", "users")
    assert not app.exception, app.exception
    users = frame_with(app, "open sessions")
    assert {"admin", "ops", "lead", "finance", "annotator"} <= set(users["user"])
    rows = users.set_index("user")
    assert rows.loc["lead", "team"] == "Text"
    assert str(rows.loc["annotator", "annotator"]).endswith("@annotators.example")
    assert rows.loc["admin", "open sessions"] == 1
    assert [button.label for button in app.sidebar.button] == ["Log out"]


def test_admin_adds_a_user_with_the_password_policy(app: AppTest) -> None:
    open_page(app, "admin", "users")
    submit_add_user(app, "New.Person", "finance", "password1234", "password1234")
    assert "common passwords" in as_read(app.error[0].value)
    submit_add_user(app, "New.Person", "finance", "a long fresh phrase", "a long fresh phrase!")
    assert "The two passwords differ." in [as_read(error.value) for error in app.error]
    submit_add_user(app, "New.Person", "finance", "a long fresh phrase", "a long fresh phrase")
    assert not app.exception, app.exception
    assert as_read(app.success[0].value) == "User added."
    rows = frame_with(app, "open sessions").set_index("user")
    assert rows.loc["new.person", "role"] == "finance"
    app.sidebar.button(key="logout").click()
    app.run()
    log_in(app, "NEW.PERSON", "a long fresh phrase")
    # Logged in on the page the admin left: finance may not see it, and is told so.
    assert [b.label for b in app.sidebar.button] == ["Log out"]
    assert as_read(app.error[0].value) == (
        "Your role (finance) may not open Users. Ask an admin if you need it."
    )


def test_the_last_admin_cannot_disable_themself(app: AppTest) -> None:
    open_page(app, "admin", "users")
    app.selectbox(key="users_pick").set_value("admin")
    app.run()
    labelled(app.button, "Disable admin").click()
    app.run()
    assert "last enabled admin" in " ".join(as_read(error.value) for error in app.error)


def test_a_disabled_user_is_logged_out_at_their_next_click(app: AppTest, demo_url: str) -> None:
    log_in(app, "finance")
    assert app.metric, "finance should see their home"
    engine = make_engine(demo_url)
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        admin = Principal(username="admin", role="admin", user_id=1)
        finance = session.scalars(select(User).where(User.username == "finance")).one()
        set_enabled(session, admin, finance.id, enabled=False)
    app.run()
    assert not app.metric
    assert "Your session has ended" in as_read(app.info[0].value)
    assert app.text_input(key="login_username") is not None
    with factory() as session, session.begin():
        session.execute(update(User).where(User.username == "finance").values(is_active=True))
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.disable")
        ).all()[-1]
        assert entry.after is not None and entry.after["sessions_ended"] == 1
    engine.dispose()
    log_in(app, "finance", PASSWORD)
    assert app.metric


@pytest.mark.parametrize("role", ["ops", "lead", "finance", "annotator"])
def test_other_roles_cannot_reach_users(app: AppTest, demo_url: str, role: str) -> None:
    log_in(app, role)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/users.py")
    engine = make_engine(demo_url)
    try:
        with pytest.raises(PermissionDenied), make_session_factory(engine)() as session:
            list_users(session, Principal(username=role, role=role))
    finally:
        engine.dispose()
