"""Every ops function that takes a principal, called as every role on two teams.

A function is either refused (PermissionDenied) to a role that lacks its action, or it
returns only what that role may see: no one of another team or outside the scope, no
email to a role without contact.view, no coaching text to finance. The enumeration test
fails when a new ops function takes a principal and is in none of the tables here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.orm import Session

import ops
from db.models import Alert, Annotator, GuidelineVersion, Project
from ops import projects, rollups, spend, team, teams
from ops.alerts import triage
from ops.audit import AuditFilter, audit_choices, audit_log
from ops.auth import principal_for
from ops.errors import NotFound, PermissionDenied
from ops.home import summarise_home
from ops.identities import list_link_targets, list_unlinked
from ops.importers.uploads import history, list_project_slugs
from ops.jobs import summarise_jobs
from ops.notify import digests
from ops.notify.channels import list_channels
from ops.notify.deliveries import list_deliveries
from ops.notify.preferences import my_preferences
from ops.permissions import SYSTEM, Principal, allows
from ops.projects import alert_settings_for, list_projects
from ops.quality import summarise_quality
from ops.reports import annotator_report, spend_report
from ops.review import Criteria, find_affected_work, plan_review_sample, rereview_progress
from ops.scorecard import my_scorecard
from ops.users import list_users, user_choices
from ops.workforce import (
    availability,
    calibration,
    candidates,
    feedback,
    guidelines,
    pay,
    profile,
    proposals,
    qualifications,
    roster,
    staffing,
    tiers,
    training,
)
from ops.workforce.roster import PoolFilter
from tests.factories import (
    make_annotator,
    make_event,
    make_pay_rate,
    make_project,
    make_team,
    make_user,
)

NOW = dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC)
COACHING = "COACHING-TEXT"


@dataclasses.dataclass
class World:
    """Two teams (Alpha with two people, Bravo with one), one person in no team, two
    projects, and coaching records about Alpha One and Bravo One."""

    alpha_one: Annotator
    alpha_two: Annotator
    bravo_one: Annotator
    loner: Annotator
    alpha_team: int
    projects: tuple[Project, Project]
    superseded: GuidelineVersion
    alerts: dict[str, Alert]
    calibration_id: int

    @property
    def people(self) -> list[Annotator]:
        return [self.alpha_one, self.alpha_two, self.bravo_one, self.loner]


@pytest.fixture
def world(session: Session) -> World:
    alpha, bravo = make_team(session, name="Alpha"), make_team(session, name="Bravo")
    people = [
        make_annotator(
            session,
            display_name=name,
            email=f"{name.lower().replace(' ', '.')}@mail.example",
            team_id=team,
        )
        for name, team in (
            ("Alpha One", alpha.id),
            ("Alpha Two", alpha.id),
            ("Bravo One", bravo.id),
            ("Loner One", None),
        )
    ]
    one = make_project(session, slug="matrix-one", quality_target=0.9, budget="500")
    two = make_project(session, slug="matrix-two")
    v1 = GuidelineVersion(
        project_id=one.id, version="v1", effective_from=NOW - dt.timedelta(days=60)
    )
    v2 = GuidelineVersion(
        project_id=one.id, version="v2", effective_from=NOW - dt.timedelta(days=20)
    )
    session.add_all([v1, v2])
    session.flush()
    for person in people:
        make_pay_rate(session, person)
        for project in (one, two):
            for day in range(1, 30, 3):
                make_event(
                    session,
                    project,
                    person,
                    submitted_at=NOW - dt.timedelta(days=day),
                    is_gold=day % 2 == 0,
                    gold_label="cat",
                    label="cat" if day % 5 else "dog",
                    guideline_version_id=v1.id if project is one and day > 20 else None,
                )
    rollups.rebuild(session)
    alerts = {}
    for key, person in (("alpha", people[0]), ("bravo", people[2])):
        alert = Alert(
            rule="gold_below_target",
            subject_key=f"annotator:{person.id}:project:{one.id}",
            project_id=one.id,
            annotator_id=person.id,
            window_start=(NOW - dt.timedelta(days=14)).date(),
            window_end=NOW.date(),
            title="Gold accuracy below target",
            evidence={"gold_answered": 10, "gold_correct": 5},
        )
        session.add(alert)
        alerts[key] = alert
    alerts["project"] = Alert(
        rule="budget_burn",
        subject_key=f"project:{one.id}",
        project_id=one.id,
        window_start=(NOW - dt.timedelta(days=14)).date(),
        window_end=NOW.date(),
        title="Budget burning ahead of progress",
    )
    session.add(alerts["project"])
    session.flush()
    for person in people:
        qualifications.record_qualification(
            session,
            SYSTEM,
            person.id,
            task_type="classification",
            n_items=20,
            n_correct=19,
            taken_on=NOW.date() - dt.timedelta(days=50),
        )
        training.record_training(
            session,
            SYSTEM,
            person.id,
            kind="initial",
            topic="Basics",
            completed_on=NOW.date() - dt.timedelta(days=100),
            today=NOW.date(),
        )
    for person in (people[0], people[2]):
        feedback.give_feedback(
            session,
            SYSTEM,
            person.id,
            category="accuracy",
            text=f"{COACHING} re-read section 3",
            today=NOW.date(),
        )
        staffing.assign_to_project(
            session,
            SYSTEM,
            person.id,
            project_id=one.id,
            starts_on=NOW.date() - dt.timedelta(days=40),
        )
        staffing.record_reassignment(
            session,
            SYSTEM,
            person.id,
            from_project_id=one.id,
            to_project_id=two.id,
            reason_category="other",
            notes=f"{COACHING} move for coaching",
            now=NOW,
        )
        session.refresh(person)
        tiers.change_tier(
            session,
            SYSTEM,
            person.id,
            to_tier="reviewer",
            justification=f"{COACHING} steady and careful work",
            expected_version=person.version_id,
            now=NOW,
        )
    calibration_session = calibration.create_session(
        session,
        SYSTEM,
        project_id=one.id,
        name="Matrix calibration",
        held_on=NOW.date() - dt.timedelta(days=3),
        items=[("c1", "cat"), ("c2", "dog")],
    )
    for person in (people[0], people[2]):
        calibration.record_labels(
            session,
            SYSTEM,
            calibration_session.id,
            person.id,
            {"c1": "cat", "c2": "cat"},
            expected_labels={},
        )
    session.flush()
    return World(
        alpha_one=people[0],
        alpha_two=people[1],
        bravo_one=people[2],
        loner=people[3],
        alpha_team=alpha.id,
        projects=(one, two),
        superseded=v1,
        alerts=alerts,
        calibration_id=calibration_session.id,
    )


# name -> (action the role needs, call). The call targets Alpha One where it names a person.
Call = Callable[[Session, Principal, World], Any]
DIGEST = digests.DigestPeriod(since=NOW - dt.timedelta(days=7), now=NOW)


def person(world: World) -> int:
    return world.alpha_one.id


READS: dict[str, tuple[str | None, Call]] = {
    "alerts.triage.list_alerts": ("alerts.view", lambda s, p, w: triage.list_alerts(s, p)),
    "alerts.triage.list_alert_table": (
        "alerts.view",
        lambda s, p, w: triage.list_alert_table(s, p),
    ),
    "alerts.triage.count_alerts": ("alerts.view", lambda s, p, w: triage.count_alerts(s, p)),
    "alerts.triage.get_alert": (
        "alerts.view",
        lambda s, p, w: triage.get_alert(s, p, w.alerts["alpha"].id),
    ),
    "alerts.triage.alert_metric_series": (
        "alerts.view",
        lambda s, p, w: triage.alert_metric_series(s, p, w.alerts["alpha"].id),
    ),
    "audit.audit_log": ("audit.view", lambda s, p, w: audit_log(s, p, AuditFilter())),
    "audit.audit_choices": ("audit.view", lambda s, p, w: audit_choices(s, p)),
    "home.summarise_home": (None, lambda s, p, w: summarise_home(s, p, now=NOW)),
    "identities.list_unlinked": ("identity.link", lambda s, p, w: list_unlinked(s, p)),
    "identities.list_link_targets": ("identity.link", lambda s, p, w: list_link_targets(s, p)),
    "importers.uploads.list_project_slugs": (
        "import.run",
        lambda s, p, w: list_project_slugs(s, p),
    ),
    "importers.uploads.history": ("import.run", lambda s, p, w: history(s, p)),
    "jobs.summarise_jobs": ("jobs.view", lambda s, p, w: summarise_jobs(s, p, now=NOW)),
    "notify.channels.list_channels": ("notify.admin", lambda s, p, w: list_channels(s, p)),
    "notify.deliveries.list_deliveries": (
        "notify.admin",
        lambda s, p, w: list_deliveries(s, p),
    ),
    "notify.preferences.my_preferences": (
        "notify.preferences",
        lambda s, p, w: my_preferences(s, p),
    ),
    "notify.digests.build_digest": (None, lambda s, p, w: digests.build_digest(s, p, DIGEST)),
    "projects.list_projects": ("project.view", lambda s, p, w: list_projects(s, p)),
    "projects.alert_settings_for": (
        "project.view",
        lambda s, p, w: alert_settings_for(s, p, slug="matrix-one"),
    ),
    "quality.summarise_quality": (
        "quality.view",
        lambda s, p, w: summarise_quality(s, p, project_slug="matrix-one", now=NOW),
    ),
    "reports.annotator_report": (
        "annotator.view",
        lambda s, p, w: annotator_report(s, p, project_slug="matrix-one"),
    ),
    "reports.spend_report": ("spend.view", lambda s, p, w: spend_report(s, p)),
    "review.plan_review_sample": (
        "review.plan",
        lambda s, p, w: plan_review_sample(
            s,
            p,
            project_slug="matrix-one",
            since=NOW.date() - dt.timedelta(days=30),
            until=NOW.date(),
        ),
    ),
    "review.find_affected_work": (
        "review.plan",
        lambda s, p, w: find_affected_work(
            s, p, Criteria(project_slug="matrix-one", guideline_version="v1")
        ),
    ),
    "review.rereview_progress": (
        "review.plan",
        lambda s, p, w: rereview_progress(s, p, project_slug="matrix-one"),
    ),
    "users.list_users": ("user.manage", lambda s, p, w: list_users(s, p)),
    "users.user_choices": ("user.manage", lambda s, p, w: user_choices(s, p)),
    "workforce.calibration.list_sessions": (
        "calibration.view",
        lambda s, p, w: calibration.list_sessions(s, p),
    ),
    "workforce.calibration.session_detail": (
        "calibration.view",
        lambda s, p, w: calibration.session_detail(s, p, w.calibration_id),
    ),
    "workforce.calibration.session_participants": (
        "calibration.view",
        lambda s, p, w: calibration.session_participants(s, p, w.calibration_id),
    ),
    "workforce.calibration.participant_labels": (
        "calibration.view",
        lambda s, p, w: calibration.participant_labels(s, p, w.calibration_id, person(w)),
    ),
    "workforce.calibration.calibration_history": (
        "annotator.view",
        lambda s, p, w: calibration.calibration_history(s, p, person(w)),
    ),
    "workforce.feedback.list_wrong_gold": (
        "coaching.view",
        lambda s, p, w: feedback.list_wrong_gold(s, p, person(w), now=NOW),
    ),
    "workforce.feedback.list_feedback": (
        "coaching.view",
        lambda s, p, w: feedback.list_feedback(s, p, person(w)),
    ),
    "workforce.feedback.list_my_feedback": (
        "feedback.acknowledge",
        lambda s, p, w: feedback.list_my_feedback(s, p),
    ),
    "workforce.guidelines.list_versions": (
        "guideline.view",
        lambda s, p, w: guidelines.list_versions(s, p, w.projects[0].id, now=NOW),
    ),
    "workforce.guidelines.version_choices": (
        "guideline.view",
        lambda s, p, w: guidelines.version_choices(s, p, w.projects[0].id, now=NOW),
    ),
    "workforce.guidelines.superseded_work": (
        "guideline.view",
        lambda s, p, w: guidelines.superseded_work(
            s, p, w.projects[0].id, w.superseded.id, now=NOW
        ),
    ),
    "workforce.pay.list_pay_history": (
        "pay.view",
        lambda s, p, w: pay.list_pay_history(s, p, person(w), now=NOW),
    ),
    "workforce.profile.list_people": ("annotator.view", lambda s, p, w: profile.list_people(s, p)),
    "workforce.profile.get_profile": (
        "annotator.view",
        lambda s, p, w: profile.get_profile(s, p, person(w), now=NOW),
    ),
    "workforce.profile.profile_metrics": (
        "annotator.view",
        lambda s, p, w: profile.profile_metrics(s, p, person(w), now=NOW),
    ),
    "workforce.profile.profile_trend": (
        "annotator.view",
        lambda s, p, w: profile.profile_trend(s, p, person(w), now=NOW),
    ),
    "workforce.qualifications.list_qualifications": (
        "annotator.view",
        lambda s, p, w: qualifications.list_qualifications(s, p, person(w)),
    ),
    "workforce.roster.scoped_annotators": (
        "annotator.view",
        # Model rows for other ops functions to build on; who is in them is what counts.
        lambda s, p, w: [a.display_name for a in roster.scoped_annotators(s, p, PoolFilter())],
    ),
    "workforce.roster.pool_options": ("annotator.view", lambda s, p, w: roster.pool_options(s, p)),
    "workforce.roster.matching_ids": (
        "annotator.view",
        lambda s, p, w: roster.matching_ids(s, p, PoolFilter(), now=NOW),
    ),
    "workforce.roster.load_roster": (
        "annotator.view",
        lambda s, p, w: roster.load_roster(s, p, now=NOW),
    ),
    "spend.spend_audience": ("spend.view", lambda s, p, w: spend.spend_audience(p)),
    "spend.spend_workspace": (
        "spend.view",
        lambda s, p, w: spend.spend_workspace(
            s, p, spend.SpendFilter(since=NOW.date() - dt.timedelta(days=90), until=NOW.date())
        ),
    ),
    "team.team_choices": ("team.view", lambda s, p, w: team.team_choices(s, p)),
    "team.team_scorecard": ("team.view", lambda s, p, w: team.team_scorecard(s, p, now=NOW)),
    "team.person_drilldown": (
        "team.view",
        lambda s, p, w: team.person_drilldown(s, p, person(w), now=NOW),
    ),
    "team.team_project_slugs": (
        "quality.view",
        lambda s, p, w: team.team_project_slugs(s, p, now=NOW),
    ),
    "workforce.roster.list_pool": (
        "annotator.view",
        lambda s, p, w: roster.list_pool(s, p, now=NOW),
    ),
    "workforce.roster.pool_csv": ("annotator.view", lambda s, p, w: roster.pool_csv(s, p, now=NOW)),
    "workforce.roster.list_training_due": (
        "annotator.view",
        lambda s, p, w: roster.list_training_due(s, p, now=NOW),
    ),
    "workforce.staffing.list_assignments": (
        "annotator.view",
        lambda s, p, w: staffing.list_assignments(s, p, person(w), today=NOW.date()),
    ),
    "workforce.staffing.reassignment_choices": (
        "annotator.view",
        lambda s, p, w: staffing.reassignment_choices(s, p, person(w), today=NOW.date()),
    ),
    "workforce.staffing.list_reassignments": (
        "annotator.view",
        lambda s, p, w: staffing.list_reassignments(s, p, person(w)),
    ),
    "workforce.tiers.list_promotion_candidates": (
        "annotator.view",
        lambda s, p, w: tiers.list_promotion_candidates(s, p, "lead", now=NOW),
    ),
    "workforce.tiers.check_promotion": (
        "annotator.view",
        lambda s, p, w: tiers.check_promotion(s, p, person(w), "lead", now=NOW),
    ),
    "workforce.tiers.list_tier_history": (
        "annotator.view",
        lambda s, p, w: tiers.list_tier_history(s, p, person(w)),
    ),
    "workforce.training.list_trainings": (
        "annotator.view",
        lambda s, p, w: training.list_trainings(s, p, person(w), now=NOW),
    ),
    "projects.visible_project_ids": (
        "project.view",
        lambda s, p, w: projects.visible_project_ids(s, p, today=NOW.date()),
    ),
    "projects.list_visible_projects": (
        "project.view",
        lambda s, p, w: projects.list_visible_projects(s, p, today=NOW.date()),
    ),
    "projects.project_overview": (
        "project.view",
        lambda s, p, w: projects.project_overview(s, p, w.projects[0].id, now=NOW),
    ),
    "scorecard.my_scorecard": (
        "scorecard.view_own",
        lambda s, p, w: my_scorecard(s, p, now=NOW),
    ),
    "workforce.availability.get_availability": (
        "annotator.view",
        lambda s, p, w: availability.get_availability(s, p, person(w)),
    ),
    "workforce.candidates.staffing_scope": (
        "staffing.view",
        lambda s, p, w: candidates.staffing_scope(p),
    ),
    "workforce.candidates.plan_staffing": (
        "staffing.view",
        lambda s, p, w: candidates.plan_staffing(s, p, w.projects[0].id, now=NOW),
    ),
    "workforce.proposals.list_proposals": (
        "staffing.view",
        lambda s, p, w: proposals.list_proposals(s, p),
    ),
    "workforce.staffing.check_requirements": (
        "annotator.view",
        lambda s, p, w: staffing.check_requirements(s, p, person(w), w.projects[1].id, now=NOW),
    ),
    "teams.list_teams": ("team.manage", lambda s, p, w: teams.list_teams(s, p)),
    "workforce.training.list_my_training": (
        "training.view_own",
        lambda s, p, w: training.list_my_training(s, p, now=NOW),
    ),
}

# Functions that change data: each is permission-checked and audited, which
# tests/db/test_audit_writes.py proves one by one.
WRITES = frozenset(
    {
        "alerts.triage.change_status",
        "alerts.triage.give_feedback_on_alert",
        "alerts.triage.propose_reassignment",
        "auth.create_user",
        "identities.merge_unlinked_identity",
        "identities.accept_as_new_annotator",
        "importers.pipeline.run_import",
        "importers.pipeline.record_failure",
        "importers.pipeline.import_file",
        "importers.uploads.import_upload",
        "jobs.run_jobs",
        "jobs.run_job_now",
        "notify.channels.add_webhook",
        "notify.channels.update_webhook",
        "notify.channels.set_enabled",
        "notify.delivery.send_test",
        "notify.delivery.send_again",
        "notify.preferences.save_preference",
        "projects.add_project",
        "projects.set_alert_settings",
        "review.request_rereview",
        "teams.add_team",
        "teams.rename_team",
        "sessions.start_session",
        "sessions.log_out",
        "users.set_enabled",
        "users.unlock",
        "users.reset_password",
        "users.change_access",
        "workforce.calibration.create_session",
        "workforce.calibration.import_pilot_csv",
        "workforce.calibration.record_labels",
        "workforce.calibration.save_notes",
        "workforce.calibration.archive_session",
        "workforce.feedback.give_feedback",
        "workforce.feedback.acknowledge_feedback",
        "workforce.guidelines.create_version",
        "workforce.guidelines.flag_superseded_work",
        "workforce.pay.add_pay_rate",
        "workforce.pay.correct_pay_rate",
        "workforce.qualifications.record_qualification",
        "workforce.roster.create_annotator",
        "workforce.roster.update_annotator",
        "workforce.roster.archive_annotator",
        "workforce.roster.restore_annotator",
        "workforce.roster.add_identity",
        "workforce.staffing.assign_to_project",
        "workforce.staffing.end_assignment",
        "workforce.staffing.record_reassignment",
        "workforce.tiers.set_promotion_criteria",
        "workforce.tiers.change_tier",
        "workforce.training.record_training",
        "workforce.availability.add_time_off",
        "workforce.availability.remove_time_off",
        "workforce.availability.set_weekly_capacity",
        "workforce.proposals.propose_staffing",
        "workforce.proposals.approve_proposal",
        "workforce.proposals.reject_proposal",
    }
)

# Taking a principal without being a read or a write of their own.
HELPERS = {
    "audit.record": "writes the audit entry of a change made by its caller",
    "permissions.people_scope": "the scope rule itself",
    "permissions.require": "the permission check itself",
    "workforce.common.may_see": "the scope rule on one loaded person",
    "workforce.common.load_annotator": "the scoped loader every per-person read goes through",
    "notify.delivery.make_test_message": "text of a test message, no data",
    "notify.preferences.rule_choices": "the rule names a role may subscribe to, no data",
    "notify.digests.section_titles": "the section titles of a role's digest, no data",
    # Each digest section is built from the scoped reads above, through build_digest.
    **{
        f"notify.digests.{name}": "a section of build_digest"
        for name in (
            "new_critical_alerts",
            "deadline_and_budget_risks",
            "delivery_problems",
            "team_alerts",
            "unacknowledged_feedback",
            "budget_burn",
            "month_to_date_spend",
            "my_feedback",
            "my_training",
            "pending_staffing_proposals",
        )
    },
}


def principal_functions() -> set[str]:
    """Every public ops function (outside the CLI and the demo) with a principal parameter."""
    found = set()
    for module_info in pkgutil.walk_packages(ops.__path__, "ops."):
        if module_info.name.startswith(("ops.demo", "ops.cli")):
            continue
        module = importlib.import_module(module_info.name)
        for name, function in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(function):
                continue
            if function.__module__ != module.__name__:
                continue
            if {"principal", "actor"} & set(inspect.signature(function).parameters):
                found.add(f"{module.__name__.removeprefix('ops.')}.{name}")
    return found


def test_every_function_that_takes_a_principal_is_in_the_matrix() -> None:
    known = set(READS) | WRITES | set(HELPERS)
    assert principal_functions() - known == set()
    assert known - principal_functions() == set()


def as_text(value: Any) -> str:
    """Everything a result carries, as text: frames in full, dataclasses field by field."""
    if isinstance(value, pd.DataFrame):
        return value.to_csv()
    if isinstance(value, pd.Series):
        return value.to_csv()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return " ".join(
            f"{field.name}={as_text(getattr(value, field.name))}"
            for field in dataclasses.fields(value)
        )
    if isinstance(value, dict):
        return " ".join(f"{as_text(key)}={as_text(item)}" for key, item in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return " ".join(as_text(item) for item in value)
    return str(value)


# kind -> (role, team name, annotator email) of a real login.
LOGINS: dict[str, tuple[str, str | None, str | None]] = {
    "admin": ("admin", None, None),
    "ops": ("ops", None, None),
    "lead": ("lead", "Alpha", None),
    "lead-without-team": ("lead", None, None),
    "finance": ("finance", None, None),
    "annotator": ("annotator", None, "alpha.one@mail.example"),
}


def log_in_as(session: Session, kind: str) -> Principal:
    """A user account of that kind, as ops sees it once logged in."""
    role, team, email = LOGINS[kind]
    user = make_user(
        session,
        username=f"matrix-{kind}",
        role=role,
        team_name=team,
        annotator_email=email,
    )
    return principal_for(user)


def visible_people(kind: str, world: World) -> list[Annotator]:
    if kind in ("admin", "ops", "finance"):
        return world.people
    if kind == "lead":
        return [world.alpha_one, world.alpha_two]
    if kind == "annotator":
        return [world.alpha_one]
    return []


def forbidden_text(kind: str, principal: Principal, world: World) -> list[str]:
    """What may not appear in any result for this principal."""
    shown = visible_people(kind, world)
    hidden = [person for person in world.people if person not in shown]
    words = [person.display_name for person in hidden]
    words += [person.email or "" for person in hidden]
    if not principal.can("contact.view"):
        words += [person.email or "" for person in world.people]
    if principal.role == "finance":
        # Finance sees money, never coaching; an annotator reads the feedback given to them.
        words.append(COACHING)
    return sorted({word for word in words if word})


def expected_action(name: str, role: str) -> str | None:
    action = READS[name][0]
    if name == "home.summarise_home":
        return "scorecard.view_own" if role == "annotator" else "home.view"
    return action


@pytest.mark.parametrize("kind", list(LOGINS))
def test_every_read_is_denied_or_stays_inside_the_scope(
    session: Session, world: World, kind: str
) -> None:
    principal = log_in_as(session, kind)
    problems = []
    for name, (_action, call) in READS.items():
        action = expected_action(name, principal.role)
        may = action is None or allows(principal.role, action)
        try:
            with session.begin_nested():
                result = call(session, principal, world)
        except PermissionDenied:
            if may:
                problems.append(f"{name}: refused although {principal.role} may {action}")
            continue
        except NotFound:
            # Alpha One is outside the scope of a lead without a team: not there at all.
            if kind in ("admin", "ops"):
                problems.append(f"{name}: NotFound for {kind}")
            continue
        if not may:
            problems.append(f"{name}: {principal.role} got a result without {action}")
            continue
        text = as_text(result)
        leaked = [word for word in forbidden_text(kind, principal, world) if word in text]
        if leaked:
            problems.append(f"{name}: shows {', '.join(leaked)}")
    assert problems == []


def test_the_matrix_sees_what_it_should(session: Session, world: World) -> None:
    """The fixture is rich enough that the checks above can fail: each role's reads do
    show their own people, and the coaching text, where they may."""
    lead = log_in_as(session, "lead")
    assert "Alpha Two" in as_text(roster.list_pool(session, lead, now=NOW))
    assert COACHING in as_text(staffing.list_reassignments(session, lead, world.alpha_one.id))
    assert COACHING in as_text(tiers.list_tier_history(session, lead, world.alpha_one.id))
    assert "Bravo One" in as_text(roster.list_pool(session, log_in_as(session, "finance"), now=NOW))
    alerts = triage.list_alerts(session, lead)
    assert [row.annotator_id for row in alerts] == [world.alpha_one.id]
    annotator = log_in_as(session, "annotator")
    assert COACHING in as_text(feedback.list_my_feedback(session, annotator))
