"""Teams: adding, renaming and listing them, who may, the checks on names, the audit log."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.models import AuditEntry, Team
from db.queries import people
from ops import teams
from ops.auth import create_user
from ops.errors import NotFound, PermissionDenied, ValidationError
from ops.permissions import Principal
from ops.workforce.roster import archive_annotator
from tests.conftest import postgres_only
from tests.factories import make_annotator, make_team, make_user

ADMIN = Principal(username="admin-user", role="admin")
OPS = Principal(username="ops-user", role="ops")


def entries(session: Session, action: str) -> list[AuditEntry]:
    session.flush()
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def test_an_admin_adds_a_team_trimmed_and_audited(session: Session) -> None:
    team = teams.add_team(session, ADMIN, name="  Night shift  ")
    assert team.name == "Night shift"
    stored = session.scalars(select(Team).where(Team.id == team.id)).one()
    assert stored.name == "Night shift"
    [entry] = entries(session, "team.create")
    assert entry.actor == "admin-user"
    assert entry.entity_type == "teams" and entry.entity_id == str(team.id)
    assert entry.before is None and entry.after is not None
    assert entry.after["name"] == "Night shift"


def test_ops_renames_a_team_with_the_names_before_and_after(session: Session) -> None:
    team = make_team(session, name="Day")
    renamed = teams.rename_team(session, OPS, old_name=" Day ", new_name=" Day shift ")
    assert renamed.id == team.id and renamed.name == "Day shift"
    [entry] = entries(session, "team.rename")
    assert entry.actor == "ops-user" and entry.entity_id == str(team.id)
    assert entry.before is not None and entry.before["name"] == "Day"
    assert entry.after is not None and entry.after["name"] == "Day shift"


def test_renaming_to_the_same_name_changes_and_records_nothing(session: Session) -> None:
    make_team(session, name="Day")
    assert teams.rename_team(session, ADMIN, old_name="Day", new_name=" Day ").name == "Day"
    assert entries(session, "team.rename") == []


def test_a_rename_may_change_only_the_case(session: Session) -> None:
    make_team(session, name="night shift")
    assert teams.rename_team(session, ADMIN, old_name="night shift", new_name="Night Shift").name
    assert [entry.after["name"] for entry in entries(session, "team.rename") if entry.after] == [
        "Night Shift"
    ]


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_a_blank_or_too_long_name_is_refused_naming_the_field(session: Session, name: str) -> None:
    with pytest.raises(ValidationError) as error:
        teams.add_team(session, ADMIN, name=name)
    assert error.value.field == "name"
    make_team(session, name="Day")
    with pytest.raises(ValidationError) as error:
        teams.rename_team(session, ADMIN, old_name="Day", new_name=name)
    assert error.value.field == "name"
    assert entries(session, "team.create") == entries(session, "team.rename") == []


def test_the_longest_name_the_column_keeps_is_accepted(session: Session) -> None:
    assert len(teams.add_team(session, ADMIN, name="x" * 120).name) == 120


@pytest.mark.parametrize("name", ["Day", "day", " DAY "])
def test_a_name_taken_in_any_case_is_refused_naming_the_field(session: Session, name: str) -> None:
    make_team(session, name="Day")
    night = make_team(session, name="Night")
    with pytest.raises(ValidationError, match="A team named 'Day' already exists") as error:
        teams.add_team(session, ADMIN, name=name)
    assert error.value.field == "name"
    with pytest.raises(ValidationError, match="A team named 'Day' already exists") as error:
        teams.rename_team(session, ADMIN, old_name="Night", new_name=name)
    assert error.value.field == "name"
    session.refresh(night)
    assert night.name == "Night"
    assert session.scalar(select(func.count(Team.id))) == 2


def test_renaming_a_team_that_does_not_exist_is_refused(session: Session) -> None:
    with pytest.raises(NotFound, match="No team named 'Nowhere'"):
        teams.rename_team(session, ADMIN, old_name="Nowhere", new_name="Somewhere")
    with pytest.raises(ValidationError) as error:
        teams.rename_team(session, ADMIN, old_name=" ", new_name="Somewhere")
    assert error.value.field == "team"


@pytest.mark.parametrize("role", ["lead", "finance", "annotator"])
def test_only_admins_and_ops_manage_teams(session: Session, role: str) -> None:
    make_team(session, name="Day")
    someone = Principal(username="someone", role=role, team_id=None)
    with pytest.raises(PermissionDenied):
        teams.add_team(session, someone, name="Night")
    with pytest.raises(PermissionDenied):
        teams.rename_team(session, someone, old_name="Day", new_name="Night")
    with pytest.raises(PermissionDenied):
        teams.list_teams(session, someone)
    assert session.scalar(select(func.count(Team.id))) == 1
    assert entries(session, "team.create") == entries(session, "team.rename") == []


def test_the_list_counts_people_not_archived_and_names_the_lead_logins(session: Session) -> None:
    day = make_team(session, name="Day")
    make_team(session, name="Night")
    make_annotator(session, display_name="Ann", team_id=day.id)
    make_annotator(session, display_name="Bo", team_id=day.id)
    gone = make_annotator(session, display_name="Cy", team_id=day.id)
    make_annotator(session, display_name="Dee", team_id=None)
    archive_annotator(session, ADMIN, gone.id, expected_version=gone.version_id, reason="left")
    make_user(session, username="zoe", role="lead", team_name="Day")
    make_user(session, username="lena", role="lead", team_name="Day")
    make_user(session, username="olga", role="ops", team_name="Day")
    session.flush()
    listed = teams.list_teams(session, OPS)
    assert [(team.name, team.people, team.leads) for team in listed] == [
        ("Day", 2, ("lena", "zoe")),
        ("Night", 0, ()),
    ]


def test_a_team_added_here_takes_a_lead_login_and_people(session: Session) -> None:
    team = teams.add_team(session, ADMIN, name="Audio")
    lead = create_user(
        session,
        ADMIN,
        username="lead-audio",
        role="lead",
        password="a long passphrase 42",
        team_name="Audio",
    )
    assert lead.team_id == team.id
    make_annotator(session, display_name="Ann", team_id=team.id)
    assert [(t.name, t.people, t.leads) for t in teams.list_teams(session, ADMIN)] == [
        ("Audio", 1, ("lead-audio",))
    ]


def test_a_name_stored_meanwhile_by_another_writer_is_refused_naming_the_field(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two people adding the same team at once: the check of each saw no such team, and the
    database's unique name refuses the second, as the same error as the check's."""
    make_team(session, name="Day")
    night = make_team(session, name="Night")
    # The check of this writer finds no such team (it trims and nothing more).
    monkeypatch.setattr(teams, "_clean_name", lambda session, name, own_id=None: name.strip())
    with pytest.raises(ValidationError, match="A team named 'Day' already exists") as error:
        teams.add_team(session, ADMIN, name="Day")
    assert error.value.field == "name"
    with pytest.raises(ValidationError, match="A team named 'Day' already exists") as error:
        teams.rename_team(session, ADMIN, old_name="Night", new_name="Day")
    assert error.value.field == "name"
    # The transaction goes on: nothing half done, and the next write works.
    session.refresh(night)
    assert night.name == "Night"
    assert teams.add_team(session, ADMIN, name="Dusk").name == "Dusk"
    assert session.scalar(select(func.count(Team.id))) == 3
    assert [entry.after["name"] for entry in entries(session, "team.create") if entry.after] == [
        "Dusk"
    ]


def test_a_name_stored_meanwhile_in_another_case_is_refused_naming_the_stored_team(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check of each writer saw no such team; the database's unique index on lower(name)
    refuses the second, as the check's error naming the team as it is stored."""
    make_team(session, name="Day")
    night = make_team(session, name="Night")
    # The check of this writer finds no such team (it trims and nothing more).
    monkeypatch.setattr(teams, "_clean_name", lambda session, name, own_id=None: name.strip())
    with pytest.raises(ValidationError, match="A team named 'Day' already exists") as error:
        teams.add_team(session, ADMIN, name=" DAY ")
    assert error.value.field == "name"
    with pytest.raises(ValidationError, match="A team named 'Day' already exists") as error:
        teams.rename_team(session, ADMIN, old_name="Night", new_name="dAy")
    assert error.value.field == "name"
    session.refresh(night)
    assert night.name == "Night"
    assert sorted(session.scalars(select(Team.name))) == ["Day", "Night"]
    assert entries(session, "team.create") == entries(session, "team.rename") == []


def test_two_writers_adding_a_name_in_two_cases_at_once_store_one(
    fresh_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another connection commits "night SHIFT" between this writer's check and its write."""
    checked = people.list_teams_named
    raced: list[bool] = []

    def check_then_other_writer_commits(session: Session, *, name: str) -> list[Team]:
        seen = checked(session, name=name)
        if not raced:
            raced.append(True)
            with transaction(fresh_factory) as other:
                teams.add_team(other, OPS, name="night SHIFT")
        return seen

    monkeypatch.setattr(people, "list_teams_named", check_then_other_writer_commits)
    with fresh_factory() as session, session.begin():
        with pytest.raises(ValidationError, match="A team named 'night SHIFT' already exists"):
            teams.add_team(session, ADMIN, name="Night shift")
        # The transaction goes on: the next write works.
        teams.add_team(session, ADMIN, name="Day shift")
    with fresh_factory() as session:
        assert sorted(session.scalars(select(Team.name))) == ["Day shift", "night SHIFT"]
        assert [entry.actor for entry in entries(session, "team.create")] == [
            "ops-user",
            "admin-user",
        ]


@postgres_only("fresh_database_url")
def test_a_writer_waiting_on_another_ones_name_in_another_case_is_refused(
    fresh_factory: sessionmaker[Session],
) -> None:
    """The second writer's check sees nothing (the first has not committed), its insert
    waits on the index, and once the first commits it is refused with the check's error."""
    outcome: list[BaseException | None] = []
    with fresh_factory() as session, session.begin():
        teams.add_team(session, ADMIN, name="Night shift")

        def racing() -> None:
            try:
                with transaction(fresh_factory) as other:
                    teams.add_team(other, OPS, name="night SHIFT")
            except BaseException as error:
                outcome.append(error)
            else:
                outcome.append(None)

        thread = threading.Thread(target=racing)
        thread.start()
        time.sleep(1.0)
        assert not outcome, "the second writer must wait for the first"
    thread.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], ValidationError), outcome
    assert str(outcome[0]) == "A team named 'Night shift' already exists."
    assert outcome[0].field == "name"
    with fresh_factory() as session:
        assert list(session.scalars(select(Team.name))) == ["Night shift"]


def test_a_team_is_found_by_its_name_in_any_case(session: Session) -> None:
    night = make_team(session, name="Night shift")
    nuit = make_team(session, name="Équipe de nuit")
    make_team(session, name="Night shift 2")
    assert people.get_team_by_name(session, name="  NIGHT shift ") is night
    assert people.get_team_by_name(session, name="ÉQUIPE DE NUIT") is nuit
    assert people.get_team_by_name(session, name="équipe de nuit") is nuit
    assert people.get_team_by_name(session, name="Night") is None
    renamed = teams.rename_team(session, OPS, old_name=" night SHIFT ", new_name="Nights")
    assert renamed.id == night.id and renamed.name == "Nights"
    [entry] = entries(session, "team.rename")
    assert entry.before is not None and entry.before["name"] == "Night shift"
    assert entry.after is not None and entry.after["name"] == "Nights"
    lead = create_user(
        session,
        ADMIN,
        username="lead-nuit",
        role="lead",
        password="a long passphrase 42",
        team_name=" équipe DE NUIT ",
    )
    assert lead.team_id == nuit.id
