"""The demo is deterministic, tells its stories, and never touches other data."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import ColumnElement, Select, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from db.models import (
    AnnotationEvent,
    Annotator,
    CalibrationSession,
    GuidelineVersion,
    PayRate,
    Project,
    TrainingRecord,
    User,
)
from db.queries.projects import get_project, list_projects
from db.queries.rollups import sum_rollups
from db.queries.training import count_expired_training
from ops.demo import DemoConfig, DemoRefused, database_state, load_demo, wipe_demo
from ops.metrics.accuracy import compute_gold_accuracy
from ops.permissions import SYSTEM
from ops.projects import add_project
from tests.conftest import postgres_only

END = dt.date(2026, 6, 30)
SMALL = DemoConfig(annotators=40, events=50_000, seed=11, end=END)


def fingerprint(session: Session) -> tuple[tuple[object, ...], ...]:
    """Numbers that change if any generated value changes."""
    events = session.execute(
        select(
            func.count(AnnotationEvent.id),
            func.sum(AnnotationEvent.active_seconds),
            func.count(AnnotationEvent.label.distinct()),
            func.sum(func.length(AnnotationEvent.item_id)),
        )
    ).one()
    by_label = session.execute(
        select(AnnotationEvent.label, func.count())
        .group_by(AnnotationEvent.label)
        .order_by(AnnotationEvent.label)
    ).all()
    totals = sum_rollups(session, since=dt.date.min)
    people = session.scalars(select(Annotator.display_name).order_by(Annotator.id)).all()
    # Float sums depend on summation order, which PostgreSQL does not fix.
    events_key = (events[0], round(float(events[1]), 3), events[2], events[3])
    totals_key = tuple(sorted((k, round(v, 3)) for k, v in totals.items()))
    return (events_key, tuple(map(tuple, by_label)), totals_key, tuple(people))


@pytest.fixture
def demo_factory(fresh_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    load_demo(fresh_factory, SMALL, passwords={"admin": "pw-admin-1"})
    return fresh_factory


def _gold(session: Session, *where: ColumnElement[bool]) -> tuple[int, int]:
    answered = AnnotationEvent.is_gold.is_(True) & AnnotationEvent.label.is_not(None)
    row = session.execute(
        select(
            func.count().filter(answered),
            func.count().filter(answered & (AnnotationEvent.label == AnnotationEvent.gold_label)),
        ).where(*where)
    ).one()
    return int(row[1]), int(row[0])


def _annotator(session: Session, name: str) -> Annotator:
    return session.scalars(select(Annotator).where(Annotator.display_name == name)).one()


def _project(session: Session, slug: str) -> Project:
    project = get_project(session, slug=slug)
    assert project is not None
    return project


def test_same_seed_gives_the_same_demo(
    demo_factory: sessionmaker[Session], tmp_path_factory: pytest.TempPathFactory
) -> None:
    with demo_factory() as session:
        first = fingerprint(session)
        assert first[0][0] == SMALL.events
    with demo_factory() as session, session.begin():
        wipe_demo(session)
    load_demo(demo_factory, SMALL)
    with demo_factory() as session:
        assert fingerprint(session) == first
    with demo_factory() as session, session.begin():
        wipe_demo(session)
    load_demo(demo_factory, DemoConfig(annotators=40, events=50_000, seed=12, end=END))
    with demo_factory() as session:
        assert fingerprint(session) != first


def test_general_purpose_annotators_confuse_blemishes_with_critical_defects(
    demo_factory: sessionmaker[Session],
) -> None:
    with demo_factory() as session:
        project = _project(session, "defect-inspection")
        experts = select(Annotator.id).where(
            Annotator.id.in_(
                select(AnnotationEvent.annotator_id).where(AnnotationEvent.project_id == project.id)
            )
        )
        from db.models import AnnotatorSkill

        skilled = select(AnnotatorSkill.annotator_id).where(
            AnnotatorSkill.name == "defect-inspection"
        )
        blemish = (AnnotationEvent.project_id == project.id) & (
            AnnotationEvent.gold_label == "cosmetic_blemish"
        )
        called_critical = AnnotationEvent.label == "critical_defect"

        def share(people: Select[int]) -> float:
            total, critical = session.execute(
                select(func.count(), func.count().filter(called_critical)).where(
                    blemish,
                    AnnotationEvent.annotator_id.in_(people),
                )
            ).one()
            return critical / total

        generalists = experts.where(Annotator.id.not_in(skilled))
        assert share(generalists) > 0.25
        assert share(experts.where(Annotator.id.in_(skilled))) < 0.08


def test_guideline_change_drops_several_annotators_at_once(
    demo_factory: sessionmaker[Session],
) -> None:
    with demo_factory() as session:
        project = _project(session, "retail-sentiment")
        change = session.scalars(
            select(GuidelineVersion).where(
                GuidelineVersion.project_id == project.id, GuidelineVersion.is_major.is_(True)
            )
        ).one()
        start = change.effective_from
        in_project = AnnotationEvent.project_id == project.id
        before = AnnotationEvent.submitted_at < start
        after = (AnnotationEvent.submitted_at >= start) & (
            AnnotationEvent.submitted_at < start + dt.timedelta(days=10)
        )
        dropped = 0
        people = session.scalars(
            select(AnnotationEvent.annotator_id).where(in_project).distinct()
        ).all()
        for person in people:
            mine = AnnotationEvent.annotator_id == person
            c0, n0 = _gold(session, in_project, mine, before)
            c1, n1 = _gold(session, in_project, mine, after)
            if n0 >= 10 and n1 >= 3 and c1 / n1 < c0 / n0 - 0.1:
                dropped += 1
        assert dropped >= 3


def test_fast_but_inaccurate_annotators(demo_factory: sessionmaker[Session]) -> None:
    with demo_factory() as session:
        for name in ("Rex Turner", "Dana Voss", "Milo Park"):
            person = _annotator(session, name)
            mine = AnnotationEvent.annotator_id == person.id
            for project_id in session.scalars(
                select(AnnotationEvent.project_id).where(mine).distinct()
            ):
                in_project = AnnotationEvent.project_id == project_id
                everyone = session.scalar(
                    select(func.avg(AnnotationEvent.active_seconds)).where(in_project)
                )
                seconds = session.scalar(
                    select(func.avg(AnnotationEvent.active_seconds)).where(in_project, mine)
                )
                assert seconds is not None and everyone is not None
                assert seconds < 0.6 * everyone, name
            correct, answered = _gold(session, mine)
            accuracy = compute_gold_accuracy(correct, answered)
            assert accuracy.ci_high is not None and accuracy.ci_high < 0.85, name


def test_steady_high_performer_and_expired_training(demo_factory: sessionmaker[Session]) -> None:
    with demo_factory() as session:
        amara = _annotator(session, "Amara Okafor")
        assert amara.tier == "annotator"
        correct, answered = _gold(session, AnnotationEvent.annotator_id == amara.id)
        accuracy = compute_gold_accuracy(correct, answered)
        assert answered >= 100 and accuracy.ci_low is not None and accuracy.ci_low > 0.92
        priya = _annotator(session, "Priya Nair")
        now = dt.datetime.combine(END, dt.time(), tzinfo=dt.UTC)
        domain = session.scalars(
            select(TrainingRecord).where(
                TrainingRecord.annotator_id == priya.id, TrainingRecord.kind == "domain"
            )
        ).one()
        assert domain.expires_at is not None and domain.expires_at < now
        assert priya.status == "active"
        assert count_expired_training(session, now=now) >= 1


def test_budget_burns_faster_than_progress_on_street_scenes(
    demo_factory: sessionmaker[Session],
) -> None:
    with demo_factory() as session:
        shares = {}
        for slug in ("street-scenes", "support-intents"):
            project = _project(session, slug)
            totals = sum_rollups(session, since=dt.date.min, project_id=project.id)
            assert project.budget_minor and project.volume_target
            shares[slug] = (
                totals["spend_minor"] / project.budget_minor,
                totals["annotations"] / project.volume_target,
            )
        spent, done = shares["street-scenes"]
        assert spent > 0.8 and done < 0.5
        spent, done = shares["support-intents"]
        assert spent <= done + 0.05


def test_pay_rates_changed_and_calibrations_gold_reviews_exist(
    demo_factory: sessionmaker[Session],
) -> None:
    with demo_factory() as session:
        raised = session.scalar(
            select(func.count()).select_from(
                select(PayRate.annotator_id)
                .group_by(PayRate.annotator_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
        assert raised and raised >= 10
        assert session.execute(select(func.count(CalibrationSession.id))).scalar_one() >= 6
        counts = session.execute(
            select(
                func.count().filter(AnnotationEvent.is_gold.is_(True)),
                func.count().filter(AnnotationEvent.review_outcome.is_not(None)),
                func.count().filter(AnnotationEvent.escalated.is_(True)),
                func.count().filter(AnnotationEvent.skipped.is_(True)),
            )
        ).one()
        assert all(count > 100 for count in counts), counts
        assert {u.role for u in session.scalars(select(User))} == {
            "admin",
            "ops",
            "lead",
            "finance",
            "annotator",
        }


def test_demo_refuses_a_database_with_other_data(fresh_factory: sessionmaker[Session]) -> None:
    with fresh_factory() as session, session.begin():
        add_project(session, SYSTEM, slug="real-work", name="Real work")
    with fresh_factory() as session:
        assert database_state(session) == "other"
    with pytest.raises(DemoRefused):
        load_demo(fresh_factory, SMALL)
    with fresh_factory() as session:
        assert [p.slug for p in list_projects(session)] == ["real-work"]


def test_a_demo_someone_worked_in_is_no_longer_demo_only(
    demo_factory: sessionmaker[Session],
) -> None:
    with demo_factory() as session:
        assert database_state(session) == "demo"
    with demo_factory() as session, session.begin():
        add_project(session, SYSTEM, slug="real-work", name="Real work")
    with demo_factory() as session:
        assert database_state(session) == "other"


def test_the_planted_stories_raise_the_alerts_a_manager_expects(
    demo_factory: sessionmaker[Session],
) -> None:
    from ops.alerts import AlertFilter, list_alerts
    from ops.permissions import SYSTEM

    with demo_factory() as session:
        rows = list_alerts(session, SYSTEM, AlertFilter(include_children=True))
    by_rule: dict[str, set[tuple[str | None, str]]] = {}
    for row in rows:
        by_rule.setdefault(row.rule, set()).add((row.project, row.subject))
    fast = {
        "rex.turner@annotators.example",
        "dana.voss@annotators.example",
        "milo.park@annotators.example",
    }
    speed = {subject for _project, subject in by_rule["quality_vs_speed"]}
    assert "rex.turner@annotators.example" in speed and speed <= fast
    assert {project for project, _ in by_rule["systematic_issue"]} == {"retail-sentiment"}
    assert ("defect-inspection", "priya.nair@annotators.example") in by_rule["training_expired"]
    assert {project for project, _ in by_rule["budget_burn"]} == {"street-scenes"}
    assert {project for project, _ in by_rule["deadline_risk"]} == {"street-scenes"}
    # General-purpose annotators on the defect project fall below its target.
    assert any(project == "defect-inspection" for project, _ in by_rule["gold_below_target"])
    # The steady high performer raises nothing.
    assert not any("amara.okafor" in subject for pairs in by_rule.values() for _p, subject in pairs)


@postgres_only("fresh_database_url")
def test_a_loaded_demo_leaves_postgresql_statistics_of_every_table(
    demo_factory: sessionmaker[Session],
) -> None:
    with demo_factory() as session:
        never_analysed = session.scalars(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
                "AND c.reltuples < 0 AND c.relname <> 'alembic_version'"
            )
        ).all()
        people = session.scalar(select(func.count()).select_from(Annotator))
        estimate = session.scalar(
            text("SELECT reltuples FROM pg_class WHERE relname = 'annotators'")
        )
    assert never_analysed == []
    assert estimate == people
