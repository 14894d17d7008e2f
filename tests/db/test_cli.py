"""The annops command line: clear errors and non-zero exits on bad input."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from db.engine import make_engine
from db.migrate import downgrade
from db.models import AuditEntry
from ops.cli import app

runner = CliRunner()


def invoke(*args: str, password: str | None = "long enough pw", **env: str) -> tuple[int, str]:
    environment = {"ANNOPS_PASSWORD": password} if password is not None else {}
    result = runner.invoke(app, list(args), env=environment | env)
    return result.exit_code, result.output


def test_help_lists_the_built_commands() -> None:
    code, output = invoke("--help")
    assert code == 0
    for command in ("init-db", "create-user", "project", "team", "demo", "serve"):
        assert command in output


def test_create_user_and_its_errors(fresh_database_url: str) -> None:
    assert invoke("create-user", "ada", "--role", "admin") == (
        0,
        "created user ada with role admin\n",
    )
    code, output = invoke("create-user", "ada", "--role", "admin")
    assert code == 1 and "already exists" in output
    code, output = invoke("create-user", "bob", "--role", "wizard")
    assert code == 1 and "Unknown role 'wizard'" in output and "admin, ops, lead" in output
    code, output = invoke("create-user", "cy", "--role", "annotator", "--annotator", "x@y.z")
    assert code == 1 and "No annotator with email 'x@y.z'" in output
    code, output = invoke("create-user", "dee", "--role", "ops", password=None)
    assert code == 1 and "ANNOPS_PASSWORD" in output


def test_create_user_applies_the_password_policy_and_is_audited(fresh_database_url: str) -> None:
    for password, message in [
        ("password", "at least 12 characters"),
        ("1234567890123", "common passwords"),
        (" " * 12, "only spaces"),
    ]:
        code, output = invoke("create-user", "eve", "--role", "ops", password=password)
        assert code == 1 and message in output, output
    assert invoke("create-user", "Eve.Adams", "--role", "ops") == (
        0,
        "created user eve.adams with role ops\n",
    )
    code, output = invoke("create-user", "EVE.ADAMS", "--role", "ops")
    assert code == 1 and "already exists" in output
    engine = make_engine(fresh_database_url)
    with engine.connect() as connection:
        actor, action = connection.execute(
            select(AuditEntry.actor, AuditEntry.action).where(AuditEntry.action == "user.create")
        ).one()
    engine.dispose()
    assert actor.startswith("cli:") and action == "user.create"


def test_project_add_and_list(fresh_database_url: str) -> None:
    code, _ = invoke(
        "project", "add", "weld-qa", "--name", "Weld QA", "--budget", "1500.50", "--currency", "eur"
    )
    assert code == 0
    code, output = invoke("project", "list", "--format", "json")
    assert code == 0
    [row] = json.loads(output)
    assert (row["slug"], row["budget"], row["quality_target"]) == ("weld-qa", "EUR 1,500.50", 0.9)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("weld_qa", "--name", "x"), "Slug 'weld_qa'"),
        (("weld-qa", "--name", "x", "--quality-target", "1.5"), "Quality target 1.5"),
        (("weld-qa", "--name", "x", "--budget", "-3"), "must be zero or more"),
        (("weld-qa", "--name", "x", "--budget", "12.345"), "more than 2 decimal places"),
        (("weld-qa", "--name", "x", "--currency", "euro"), "three-letter ISO code"),
    ],
)
def test_project_add_errors(fresh_database_url: str, args: tuple[str, ...], message: str) -> None:
    code, output = invoke("project", "add", *args)
    assert code == 1
    assert message in output


def test_unusable_database_is_reported_clearly(tmp_path_factory: pytest.TempPathFactory) -> None:
    from ops.settings import get_settings

    get_settings.cache_clear()
    missing = tmp_path_factory.mktemp("x") / "no" / "such" / "dir" / "a.db"
    code, output = invoke("init-db", ANNOPS_DATABASE_URL=f"sqlite:///{missing}")
    get_settings.cache_clear()
    assert code == 1
    assert "cannot use the database" in output and "ANNOPS_DATABASE_URL" in output


def test_init_db_says_in_one_line_what_to_fix_when_a_migration_refuses(
    fresh_database_url: str,
) -> None:
    downgrade(fresh_database_url, "0013")
    engine = make_engine(fresh_database_url)
    with engine.begin() as connection:
        for name in ("Day", "DAY"):
            connection.execute(
                text("INSERT INTO teams (name, created_at) VALUES (:name, CURRENT_TIMESTAMP)"),
                {"name": name},
            )
    engine.dispose()
    code, output = invoke("init-db")
    assert code == 1
    assert output.startswith("error: team names become unique without regard to case")
    assert "'Day' and 'DAY'" in output and "Traceback" not in output
    assert len(output.strip().splitlines()) == 1
    # Renamed as the message says, the upgrade goes through.
    code, output = invoke("team", "rename", "DAY", "Day shift")
    assert code == 0, output
    code, output = invoke("init-db")
    assert code == 0, output
    assert "newest schema" in output


def test_demo_loads_once_and_refuses_to_reset_other_data(
    fresh_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    args = ("demo", "--no-serve", "--annotators", "20", "--events", "6000")
    code, output = invoke(*args)
    assert code == 0, output
    assert "Demo logins (one per role):" in output and "finance" in output
    code, output = invoke(*args)
    assert code == 0 and "already loaded; nothing added" in output
    invoke("project", "add", "real-work", "--name", "Real")
    code, output = invoke(*args, "--reset")
    assert code == 1 and "refusing to reset" in output
    code, output = invoke("project", "list", "--format", "json")
    assert "real-work" in output and "street-scenes" in output


def test_team_add_rename_list_and_a_lead_for_the_new_team(fresh_database_url: str) -> None:
    code, output = invoke("team", "list")
    assert code == 0 and "no teams yet" in output
    assert invoke("team", "add", "  Night shift ") == (0, "created team Night shift\n")
    assert invoke("team", "add", "Day") == (0, "created team Day\n")
    assert invoke("team", "rename", "Day", "Day shift") == (0, "team Day is now Day shift\n")
    assert invoke("create-user", "lena", "--role", "lead", "--team", "Day shift") == (
        0,
        "created user lena with role lead\n",
    )
    code, output = invoke("team", "list")
    assert code == 0
    lines = [line.split() for line in output.splitlines()]
    assert lines == [
        ["name", "people", "leads"],
        ["Day", "shift", "0", "lena"],
        ["Night", "shift", "0"],
    ]
    code, output = invoke("team", "list", "--format", "json")
    assert code == 0
    assert json.loads(output) == [
        {"name": "Day shift", "people": 0, "leads": ["lena"]},
        {"name": "Night shift", "people": 0, "leads": []},
    ]
    engine = make_engine(fresh_database_url)
    with engine.connect() as connection:
        actions = connection.execute(
            select(AuditEntry.actor, AuditEntry.action)
            .where(AuditEntry.action.startswith("team."))
            .order_by(AuditEntry.id)
        ).all()
    engine.dispose()
    assert [action for _, action in actions] == ["team.create", "team.create", "team.rename"]
    assert all(actor.startswith("cli:") for actor, _ in actions)


def test_team_errors_are_one_line_and_exit_1(fresh_database_url: str) -> None:
    assert invoke("team", "add", "Night")[0] == 0
    assert invoke("team", "add", "NIGHT") == (
        1,
        "error: A team named 'Night' already exists.\n",
    )
    assert invoke("team", "add", "  ") == (1, "error: Enter the team's name.\n")
    assert invoke("team", "rename", "Day", "Dawn") == (1, "error: No team named 'Day'.\n")
    assert invoke("team", "add", "Day")[0] == 0
    assert invoke("team", "rename", "Day", "night") == (
        1,
        "error: A team named 'Night' already exists.\n",
    )
    code, output = invoke("create-user", "lee", "--role", "lead", "--team", "Dusk")
    assert code == 1 and "No team named 'Dusk'" in output


def test_a_team_is_named_in_any_case_on_the_command_line(fresh_database_url: str) -> None:
    assert invoke("team", "add", "Night shift")[0] == 0
    assert invoke("team", "add", "Day")[0] == 0
    assert invoke("create-user", "lena", "--role", "lead", "--team", " night SHIFT ") == (
        0,
        "created user lena with role lead\n",
    )
    assert invoke("team", "rename", "DAY", "Day shift") == (0, "team DAY is now Day shift\n")
    assert invoke("team", "rename", "day SHIFT", "NIGHT SHIFT") == (
        1,
        "error: A team named 'Night shift' already exists.\n",
    )
    code, output = invoke("team", "list", "--format", "json")
    assert code == 0
    assert json.loads(output) == [
        {"name": "Day shift", "people": 0, "leads": []},
        {"name": "Night shift", "people": 0, "leads": ["lena"]},
    ]
