"""Teams: add, rename and list them, with validation, permission checks and audit.

A team groups annotators, and a lead login leads one team (``annops create-user --team``,
the Users page). Admins and ops set teams up here; names are unique without regard to
case, so "Night shift" and "night shift" cannot be two teams (the database's unique index
on lower(name) refuses the second even when two writers store them at once), and a team
is found by its name in any case.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import Team
from db.queries import people, users
from ops import audit
from ops.errors import NotFound, ValidationError
from ops.permissions import Principal, require

# Longest team name the database keeps (teams.name).
MAX_NAME_LENGTH = 120


@dataclass(frozen=True)
class TeamSummary:
    """One team as the team list shows it."""

    id: int
    name: str
    people: int  # annotators in the team who are not archived
    leads: tuple[str, ...]  # user names of the lead logins that lead it


def _clean_name(session: Session, name: str | None, *, own_id: int | None = None) -> str:
    """The trimmed team name, or a ValidationError naming the field ``name``."""
    text = (name or "").strip()
    if not text:
        raise ValidationError("Enter the team's name.", field="name")
    if len(text) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"Team name must be at most {MAX_NAME_LENGTH} characters (it has {len(text):,}).",
            field="name",
        )
    for team in people.list_teams_named(session, name=text):
        if team.id != own_id:
            raise ValidationError(f"A team named {team.name!r} already exists.", field="name")
    return text


def _store(session: Session, team: Team, name: str) -> None:
    """Give ``team`` its ``name`` and write it now, in a savepoint: a name another writer
    stored meanwhile, in any case, is refused by the database's unique index on lower(name)
    (or on the name itself) and becomes the same ValidationError as the check's, naming the
    team as stored; nothing is half done."""
    try:
        with session.begin_nested():
            team.name = name
            session.add(team)
            session.flush()
    except IntegrityError:
        holder = people.get_team_by_name(session, name=name)
        taken = holder.name if holder is not None and holder is not team else name
        raise ValidationError(f"A team named {taken!r} already exists.", field="name") from None


def add_team(session: Session, actor: Principal, *, name: str) -> Team:
    """Create a team named ``name`` (trimmed)."""
    require(actor, "team.manage")
    team = Team()
    _store(session, team, _clean_name(session, name))
    audit.record(session, actor, "team.create", team)
    return team


def rename_team(session: Session, actor: Principal, *, old_name: str, new_name: str) -> Team:
    """Rename the team named ``old_name`` (trimmed, in any case) to ``new_name``.

    Renaming to the name it already has changes nothing and records nothing."""
    require(actor, "team.manage")
    current = (old_name or "").strip()
    if not current:
        raise ValidationError("Choose the team to rename.", field="team")
    team = people.get_team_by_name(session, name=current)
    if team is None:
        raise NotFound(f"No team named {current!r}.")
    name = _clean_name(session, new_name, own_id=team.id)
    if name == team.name:
        return team
    before = audit.snapshot(team)
    _store(session, team, name)
    audit.record(session, actor, "team.rename", team, before=before)
    return team


def list_teams(session: Session, actor: Principal) -> list[TeamSummary]:
    """Every team by name, with how many people it has and which logins lead it."""
    require(actor, "team.manage")
    counts = people.count_people_per_team(session)
    leads = users.list_team_leads(session)
    return [
        TeamSummary(
            id=team.id,
            name=team.name,
            people=counts.get(team.id, 0),
            leads=tuple(leads.get(team.id, ())),
        )
        for team in people.list_teams(session)
    ]
