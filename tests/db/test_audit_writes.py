"""Every write of ops leaves an audit entry whose "after" is what was stored.

The writes are the ones tests/db/test_permission_matrix.py lists; that module fails when
a function taking a principal is in none of its tables, and this one when a write of the
list has no step here. Each step runs one write on the matrix's two-team world and checks
the entries it added: at least one with the expected action, and every field of "after"
that is a column of the entity equal to the stored row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.inspection import inspect
from sqlalchemy.orm import Session

from db.models import (
    AnnotatorIdentity,
    Assignment,
    AuditEntry,
    Base,
    CalibrationSession,
    FeedbackNote,
    PayRate,
)
from ops import projects, sessions, teams, users
from ops.alerts import triage
from ops.audit import jsonable
from ops.auth import authenticate, create_user, principal_for
from ops.identities import accept_as_new_annotator, merge_unlinked_identity
from ops.importers.pipeline import ImportRequest, record_failure, run_import
from ops.importers.problems import ImportFailed
from ops.notify import channels, preferences
from ops.permissions import SYSTEM, Principal
from ops.review import Criteria, request_rereview
from ops.workforce import (
    availability,
    calibration,
    feedback,
    guidelines,
    pay,
    proposals,
    qualifications,
    roster,
    staffing,
    tiers,
    training,
)
from ops.workforce.roster import AnnotatorDetails
from tests.db.test_permission_matrix import NOW, WRITES, World
from tests.db.test_permission_matrix import world as world  # noqa: F401 - the fixture
from tests.factories import make_annotator, make_user

Step = Callable[[Session, World, Path], object]
TABLES = {mapper.class_.__tablename__: mapper.class_ for mapper in Base.registry.mappers}


def _version(session: Session, row: Any) -> int:
    session.refresh(row)
    return int(row.version_id)


def _alpha_one_pay(session: Session, w: World) -> PayRate:
    return (
        session.scalars(
            select(PayRate).where(PayRate.annotator_id == w.alpha_one.id).order_by(PayRate.id)
        ).first()
        or PayRate()
    )


def _unlinked(session: Session, w: World, external_id: str) -> int:
    placeholder = make_annotator(
        session, display_name=f"unlinked {external_id}", email=None, is_linked=False
    )
    identity = AnnotatorIdentity(
        annotator_id=placeholder.id, platform="labelstudio", external_id=external_id
    )
    session.add(identity)
    session.flush()
    return identity.id


def _user_principal(session: Session) -> Principal:
    return principal_for(make_user(session, username="audit-ops", role="ops"))


def _annotator_principal(session: Session, w: World) -> Principal:
    user = make_user(
        session, username="audit-ann", role="annotator", annotator_email=w.bravo_one.email
    )
    return principal_for(user)


def _events_file(tmp: Path, w: World) -> ImportRequest:
    path = tmp / "events.csv"
    path.write_text(
        "project,item_id,annotator,submitted_at,external_id,label,active_seconds\n"
        f"matrix-two,new-1,{w.alpha_one.email},2026-03-20T10:00:00Z,audit-1,cat,12\n",
        encoding="utf-8",
    )
    return ImportRequest(source="events", path=path)


# write -> (the audit action it records, the call); in an order where each step's data exists.
STEPS: dict[str, tuple[str, Step]] = {
    "projects.add_project": (
        "project.create",
        lambda s, w, t: projects.add_project(s, SYSTEM, slug="audited", name="Audited"),
    ),
    "teams.add_team": (
        "team.create",
        lambda s, w, t: teams.add_team(s, SYSTEM, name="Audited team"),
    ),
    "teams.rename_team": (
        "team.rename",
        lambda s, w, t: teams.rename_team(s, SYSTEM, old_name="Bravo", new_name="Bravo two"),
    ),
    "projects.set_alert_settings": (
        "project.alert_settings",
        lambda s, w, t: projects.set_alert_settings(
            s, SYSTEM, slug="matrix-one", overrides={"window_days": 21}
        ),
    ),
    "auth.create_user": (
        "user.create",
        lambda s, w, t: create_user(
            s, SYSTEM, username="audited-user", role="finance", password="a long passphrase 42"
        ),
    ),
    "users.set_enabled": (
        "user.disable",
        lambda s, w, t: users.set_enabled(
            s, SYSTEM, make_user(s, username="to-disable").id, enabled=False
        ),
    ),
    "users.unlock": (
        "user.unlock",
        lambda s, w, t: users.unlock(s, SYSTEM, make_user(s, username="to-unlock").id),
    ),
    "users.reset_password": (
        "user.password_reset",
        lambda s, w, t: users.reset_password(
            s, SYSTEM, make_user(s, username="to-reset").id, "another long passphrase 7"
        ),
    ),
    "users.change_access": (
        "user.access",
        lambda s, w, t: users.change_access(
            s,
            SYSTEM,
            make_user(s, username="to-change").id,
            role="lead",
            team_name="Alpha",
            annotator_email=None,
        ),
    ),
    # A session starts after a login, whose entry records it.
    "sessions.start_session": (
        "login",
        lambda s, w, t: sessions.start_session(
            s, authenticate(s, _user_principal(s).username, "correct horse battery"), now=NOW
        ),
    ),
    "sessions.log_out": (
        "logout",
        lambda s, w, t: sessions.log_out(
            s, principal_for(make_user(s, username="to-log-out")), now=NOW
        ),
    ),
    "notify.channels.add_webhook": (
        "notify.channel.create",
        lambda s, w, t: channels.add_webhook(
            s,
            SYSTEM,
            name="audit-hook",
            url="https://hooks.example/x",
            secret="a-shared-secret-of-32-characters",
        ),
    ),
    "notify.channels.update_webhook": (
        "notify.channel.update",
        lambda s, w, t: channels.update_webhook(
            s,
            SYSTEM,
            "audit-hook",
            expected_version=_version(s, channels.get_channel(s, "audit-hook")),
            url="https://hooks.example/y",
        ),
    ),
    "notify.preferences.save_preference": (
        "notify.preferences",
        lambda s, w, t: preferences.save_preference(
            s,
            principal_for(make_user(s, username="prefs")),
            channel="audit-hook",
            digest=True,
        ),
    ),
    "notify.channels.set_enabled": (
        "notify.channel.disable",
        lambda s, w, t: channels.set_enabled(s, SYSTEM, "audit-hook", False),
    ),
    "workforce.roster.create_annotator": (
        "annotator.create",
        lambda s, w, t: roster.create_annotator(
            s, SYSTEM, AnnotatorDetails(display_name="Charlie New", team_id=w.alpha_team)
        ),
    ),
    "workforce.roster.update_annotator": (
        "annotator.update",
        lambda s, w, t: roster.update_annotator(
            s,
            SYSTEM,
            w.alpha_two.id,
            AnnotatorDetails(
                display_name="Alpha Two Renamed", team_id=w.alpha_team, status="active"
            ),
            expected_version=_version(s, w.alpha_two),
        ),
    ),
    "workforce.roster.archive_annotator": (
        "annotator.archive",
        lambda s, w, t: roster.archive_annotator(
            s, SYSTEM, w.loner.id, expected_version=_version(s, w.loner), reason="left the pool"
        ),
    ),
    "workforce.roster.restore_annotator": (
        "annotator.restore",
        lambda s, w, t: roster.restore_annotator(
            s, SYSTEM, w.loner.id, expected_version=_version(s, w.loner), reason="came back"
        ),
    ),
    "workforce.roster.add_identity": (
        "identity.link",
        lambda s, w, t: roster.add_identity(
            s, SYSTEM, w.alpha_one.id, platform="cvat", external_id="alpha1"
        ),
    ),
    "identities.merge_unlinked_identity": (
        "identity.link",
        lambda s, w, t: merge_unlinked_identity(
            s, SYSTEM, identity_id=_unlinked(s, w, "u-merge"), annotator_id=w.alpha_one.id
        ),
    ),
    "identities.accept_as_new_annotator": (
        "identity.accept",
        lambda s, w, t: accept_as_new_annotator(s, SYSTEM, identity_id=_unlinked(s, w, "u-new")),
    ),
    "workforce.pay.add_pay_rate": (
        "pay_rate.create",
        lambda s, w, t: pay.add_pay_rate(
            s,
            SYSTEM,
            w.alpha_one.id,
            basis="hourly",
            amount="21.50",
            currency="USD",
            effective_on=NOW.date(),
            reason="yearly raise",
        ),
    ),
    "workforce.pay.correct_pay_rate": (
        "pay_rate.correct",
        lambda s, w, t: pay.correct_pay_rate(
            s,
            SYSTEM,
            _alpha_one_pay(s, w).id,
            basis="hourly",
            amount="18.50",
            currency="USD",
            effective_on=dt.date(2026, 1, 1),
            reason="typo in the amount",
            expected_corrections=0,
        ),
    ),
    "workforce.qualifications.record_qualification": (
        "qualification.record",
        lambda s, w, t: qualifications.record_qualification(
            s, SYSTEM, w.alpha_two.id, task_type="ner", n_items=10, n_correct=9
        ),
    ),
    "workforce.training.record_training": (
        "training.record",
        lambda s, w, t: training.record_training(
            s,
            SYSTEM,
            w.alpha_two.id,
            kind="refresher",
            topic="Edge cases",
            completed_on=NOW.date(),
            today=NOW.date(),
        ),
    ),
    "workforce.feedback.give_feedback": (
        "feedback.create",
        lambda s, w, t: feedback.give_feedback(
            s, SYSTEM, w.bravo_one.id, category="speed", text="Slow down on the hard items"
        ),
    ),
    "workforce.feedback.acknowledge_feedback": (
        "feedback.acknowledge",
        lambda s, w, t: feedback.acknowledge_feedback(
            s,
            _annotator_principal(s, w),
            s.scalars(
                select(FeedbackNote.id).where(FeedbackNote.annotator_id == w.bravo_one.id)
            ).first()
            or 0,
        ),
    ),
    "workforce.staffing.assign_to_project": (
        "assignment.create",
        lambda s, w, t: staffing.assign_to_project(
            s, SYSTEM, w.bravo_one.id, project_id=w.projects[0].id
        ),
    ),
    "workforce.staffing.end_assignment": (
        "assignment.end",
        lambda s, w, t: staffing.end_assignment(
            s,
            SYSTEM,
            s.scalars(
                select(Assignment.id).where(
                    Assignment.annotator_id == w.alpha_one.id, Assignment.ends_on.is_(None)
                )
            ).first()
            or 0,
            ends_on=NOW.date(),
        ),
    ),
    "workforce.staffing.record_reassignment": (
        "reassignment.create",
        lambda s, w, t: staffing.record_reassignment(
            s,
            SYSTEM,
            w.alpha_two.id,
            from_project_id=None,
            to_project_id=w.projects[0].id,
            reason_category="skills_match",
            now=NOW,
        ),
    ),
    "workforce.tiers.set_promotion_criteria": (
        "settings.promotion_criteria",
        lambda s, w, t: tiers.set_promotion_criteria(
            s,
            SYSTEM,
            "reviewer",
            dataclasses.replace(
                tiers.get_promotion_criteria(s).criteria["reviewer"], min_annotations=123
            ),
            expected_updated_at=tiers.get_promotion_criteria(s).updated_at,
        ),
    ),
    "workforce.tiers.change_tier": (
        "tier.change",
        lambda s, w, t: tiers.change_tier(
            s,
            SYSTEM,
            w.alpha_two.id,
            to_tier="reviewer",
            justification="Consistent and careful for months",
            expected_version=_version(s, w.alpha_two),
            now=NOW,
        ),
    ),
    "workforce.availability.set_weekly_capacity": (
        "annotator.capacity",
        lambda s, w, t: availability.set_weekly_capacity(
            s, SYSTEM, w.bravo_one.id, hours=30.0, expected_version=_version(s, w.bravo_one)
        ),
    ),
    "workforce.availability.add_time_off": (
        "annotator.time_off.add",
        lambda s, w, t: availability.add_time_off(
            s,
            SYSTEM,
            w.bravo_one.id,
            starts_on=NOW.date() + dt.timedelta(days=300),
            ends_on=NOW.date() + dt.timedelta(days=305),
        ),
    ),
    "workforce.availability.remove_time_off": (
        "annotator.time_off.remove",
        lambda s, w, t: availability.remove_time_off(
            s,
            SYSTEM,
            availability.add_time_off(
                s,
                SYSTEM,
                w.bravo_one.id,
                starts_on=NOW.date() + dt.timedelta(days=400),
                ends_on=NOW.date() + dt.timedelta(days=401),
            ).id,
        ),
    ),
    "workforce.proposals.propose_staffing": (
        "staffing_proposal.create",
        lambda s, w, t: proposals.propose_staffing(
            s, SYSTEM, w.loner.id, project_id=w.projects[1].id
        ),
    ),
    "workforce.proposals.approve_proposal": (
        "staffing_proposal.approve",
        lambda s, w, t: proposals.approve_proposal(
            s,
            SYSTEM,
            proposals.propose_staffing(s, SYSTEM, w.loner.id, project_id=w.projects[0].id).id,
        ),
    ),
    "workforce.proposals.reject_proposal": (
        "staffing_proposal.reject",
        lambda s, w, t: proposals.reject_proposal(
            s,
            SYSTEM,
            proposals.propose_staffing(s, SYSTEM, w.alpha_two.id, project_id=w.projects[1].id).id,
            note="not this quarter",
        ),
    ),
    "workforce.guidelines.create_version": (
        "guideline.create",
        lambda s, w, t: guidelines.create_version(
            s,
            SYSTEM,
            w.projects[0].id,
            version="v3",
            effective_on=NOW.date() + dt.timedelta(days=3),
            change_summary="Clarified the edge cases of rule 4",
        ),
    ),
    "workforce.guidelines.flag_superseded_work": (
        "rereview.create",
        lambda s, w, t: guidelines.flag_superseded_work(
            s, SYSTEM, w.projects[0].id, w.superseded.id, reason="v2 changed rule 4", now=NOW
        ),
    ),
    "review.request_rereview": (
        "rereview.create",
        lambda s, w, t: request_rereview(
            s,
            SYSTEM,
            Criteria(project_slug="matrix-two", annotator_emails=(w.bravo_one.email or "",)),
            reason="labels of the wrong class",
        ),
    ),
    "workforce.calibration.create_session": (
        "calibration.create",
        lambda s, w, t: calibration.create_session(
            s,
            SYSTEM,
            project_id=w.projects[0].id,
            name="Audited calibration",
            held_on=NOW.date(),
            items=[("i1", "cat")],
        ),
    ),
    "workforce.calibration.import_pilot_csv": (
        "calibration.import",
        lambda s, w, t: calibration.import_pilot_csv(
            s,
            SYSTEM,
            project_id=w.projects[0].id,
            name="Audited pilot",
            held_on=NOW.date(),
            data=(
                "item_id,annotator_id,label,gold\n"
                f"p1,{w.alpha_one.email},cat,cat\np1,{w.bravo_one.email},dog,cat\n"
            ).encode(),
            file_name="pilot.csv",
        ),
    ),
    "workforce.calibration.record_labels": (
        "calibration.labels",
        lambda s, w, t: calibration.record_labels(
            s, SYSTEM, w.calibration_id, w.alpha_two.id, {"c1": "dog"}, expected_labels={}
        ),
    ),
    "workforce.calibration.save_notes": (
        "calibration.notes",
        lambda s, w, t: calibration.save_notes(
            s,
            SYSTEM,
            w.calibration_id,
            "c2 is ambiguous",
            expected_version=_version(s, s.get(CalibrationSession, w.calibration_id)),
        ),
    ),
    "workforce.calibration.archive_session": (
        "calibration.archive",
        lambda s, w, t: calibration.archive_session(
            s,
            SYSTEM,
            w.calibration_id,
            expected_version=_version(s, s.get(CalibrationSession, w.calibration_id)),
            reason="held twice by mistake",
        ),
    ),
    "alerts.triage.change_status": (
        "alert.acknowledge",
        lambda s, w, t: triage.change_status(s, SYSTEM, w.alerts["alpha"].id, "acknowledged"),
    ),
    "alerts.triage.give_feedback_on_alert": (
        "feedback.create",
        lambda s, w, t: triage.give_feedback_on_alert(
            s, SYSTEM, w.alerts["alpha"].id, category="accuracy", text="See the wrong golds"
        ),
    ),
    "alerts.triage.propose_reassignment": (
        "staffing_proposal.create",
        lambda s, w, t: triage.propose_reassignment(
            s, SYSTEM, w.alerts["bravo"].id, to_project_slug=None, reason_category="quality"
        ),
    ),
    "importers.pipeline.run_import": (
        "import.commit",
        lambda s, w, t: run_import(s, SYSTEM, _events_file(t, w)),
    ),
    "importers.pipeline.record_failure": (
        "import.failed",
        lambda s, w, t: record_failure(
            s,
            SYSTEM,
            _events_file(t, w),
            ImportFailed("events.csv", "label is empty", row=2, field="label"),
        ),
    ),
}

# Writes that run their own transactions (a session factory, not the caller's session);
# the test named beside each checks their audit entries on a database of its own.
OWN_TRANSACTIONS = {
    "importers.pipeline.import_file": "run_import and record_failure above, in order",
    "importers.uploads.import_upload": "import_file on the uploaded bytes, so the same entries",
    "jobs.run_jobs": "tests/db/test_cli_jobs.py (job.run entries under the CLI account)",
    "jobs.run_job_now": "tests/db/test_jobs.py (the job.run entry of a run now)",
    "notify.delivery.send_test": "tests/db/test_notify_delivery.py",
    "notify.delivery.send_again": "tests/db/test_notify_delivery.py",
}


def test_every_write_has_a_step() -> None:
    assert set(STEPS) | set(OWN_TRANSACTIONS) == set(WRITES)
    assert not set(STEPS) & set(OWN_TRANSACTIONS)


# Fields an entry shows masked on purpose: a webhook's secret and address are credentials.
MASKED = {("notification_channels", "secret"), ("notification_channels", "url")}


def _stored(session: Session, entry: AuditEntry) -> Base | None:
    model = TABLES.get(entry.entity_type)
    if model is None or entry.entity_id is None:
        return None
    key = inspect(model).primary_key
    if len(key) != 1:
        return None
    if not entry.entity_id.isdigit():
        return None
    return session.get(model, key[0].type.python_type(entry.entity_id))


def test_each_write_leaves_an_entry_with_what_was_stored(
    session: Session, world: World, tmp_path: Path
) -> None:
    problems = []
    for name, (action, step) in STEPS.items():
        before = session.scalar(select(func.max(AuditEntry.id))) or 0
        try:
            with session.begin_nested():
                step(session, world, tmp_path)
                session.flush()
        except Exception as error:  # noqa: BLE001 - report every failing step at once
            problems.append(f"{name}: failed with {type(error).__name__}: {error}")
            continue
        entries = list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.id > before).order_by(AuditEntry.id)
            )
        )
        if action not in {entry.action for entry in entries}:
            problems.append(f"{name}: no {action} entry, only {[e.action for e in entries]}")
        # The latest entry about each record holds its state now.
        latest = {(entry.entity_type, entry.entity_id): entry for entry in entries}
        for entry in latest.values():
            row = _stored(session, entry)
            if row is None or not entry.after:
                continue
            session.refresh(row)
            columns = {column.key for column in inspect(type(row)).column_attrs}
            for field, value in entry.after.items():
                if (entry.entity_type, field) in MASKED:
                    continue
                if field in columns and jsonable(getattr(row, field)) != value:
                    problems.append(
                        f"{name}: {entry.action} after[{field!r}] = {value!r}, "
                        f"stored {jsonable(getattr(row, field))!r}"
                    )
    assert problems == [], "\n".join(problems)
