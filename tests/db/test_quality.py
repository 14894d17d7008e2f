"""Project agreement stored by the nightly job, and the Quality page's view of it per role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from db.models import AnnotationEvent, Annotator, Assignment, Project, ProjectAgreement, Team
from db.queries.agreement import load_agreement_history_frame
from ops import rollups
from ops.errors import NotFound, PermissionDenied
from ops.metrics.agreement import compute_fleiss_kappa, compute_krippendorff_alpha
from ops.permissions import NO_TEAM, Principal
from ops.projects import list_projects
from ops.quality import PROJECT_FIGURES_WITHHELD, compute_project_agreements, summarise_quality
from tests.factories import make_annotator, make_project, make_rollup, make_team

NOW = dt.datetime(2026, 3, 20, 2, 30, tzinfo=dt.UTC)
OPS = Principal(username="ops", role="ops")


@dataclass(frozen=True)
class PlantedRatings:
    project: Project
    team: Team
    people: tuple[Annotator, Annotator, Annotator]
    labels: dict[int, list[str]]  # annotator id -> label per item, in item order


def plant_ratings(session: Session) -> PlantedRatings:
    """Three raters on twelve items inside the window, plus work outside it."""
    project = make_project(session, slug="sentiment", name="Sentiment", quality_target=0.8)
    team = make_team(session)
    a = make_annotator(session, display_name="Ada", team_id=team.id)
    b = make_annotator(session, display_name="Bo", team_id=team.id)
    c = make_annotator(session, display_name="Cyd")
    labels = {
        a.id: list("xxyyxxyyxxyy"),
        b.id: list("xxyyxxyyxyyy"),
        c.id: list("xyyyxxxyxxyx"),
    }
    rows = []
    for person, sequence in labels.items():
        for index, label in enumerate(sequence):
            rows.append(
                {
                    "project_id": project.id,
                    "item_id": f"item-{index:02d}",
                    "annotator_id": person,
                    "label": label,
                    "submitted_at": NOW - dt.timedelta(days=2, hours=index),
                    "active_seconds": 10.0,
                    "external_id": f"{person}-{index}",
                    "is_gold": index < 6,
                    "gold_label": ("x" if index % 4 < 2 else "y") if index < 6 else None,
                }
            )
    # Today's work is not in last night's window, nor is work from 40 days ago.
    for when, key in ((NOW, "today"), (NOW - dt.timedelta(days=40), "old")):
        rows.append(
            {
                "project_id": project.id,
                "item_id": f"item-{key}",
                "annotator_id": a.id,
                "label": "z",
                "submitted_at": when,
                "active_seconds": 10.0,
                "external_id": key,
            }
        )
    session.execute(insert(AnnotationEvent), rows)
    rollups.rebuild(session)
    return PlantedRatings(project=project, team=team, people=(a, b, c), labels=labels)


def test_stored_figures_equal_the_metrics_on_the_window(session: Session) -> None:
    planted = plant_ratings(session)
    assert compute_project_agreements(session, now=NOW, window_days=30) == 1
    [stored] = session.scalars(select(ProjectAgreement)).all()
    assert (stored.window_start, stored.window_end) == (dt.date(2026, 2, 18), dt.date(2026, 3, 19))
    assert (stored.n_items, stored.n_labels, stored.n_annotators) == (12, 36, 3)
    frame = pd.DataFrame(
        [
            {"item_id": f"item-{index:02d}", "annotator_id": person, "label": label}
            for person, sequence in planted.labels.items()
            for index, label in enumerate(sequence)
        ]
    )
    assert stored.alpha == pytest.approx(compute_krippendorff_alpha(frame))
    assert stored.fleiss_kappa == pytest.approx(compute_fleiss_kappa(frame).kappa)
    assert len(stored.cohen_pairs) == 3
    assert {row["item_id"] for row in stored.disputed_items} <= {f"item-{i:02d}" for i in range(12)}
    # Re-running for the same night replaces, a later night adds a row.
    compute_project_agreements(session, now=NOW, window_days=30)
    compute_project_agreements(session, now=NOW + dt.timedelta(days=1), window_days=30)
    ends = session.scalars(select(ProjectAgreement.window_end).order_by(ProjectAgreement.id)).all()
    assert ends == [dt.date(2026, 3, 19), dt.date(2026, 3, 20)]
    # The history the page charts: project-level figures only, oldest first, latest `limit`.
    project_id = session.scalars(select(Project.id).where(Project.slug == "sentiment")).one()
    history = load_agreement_history_frame(session, project_id=project_id)
    assert list(history.columns) == ["window_end", "alpha", "fleiss_kappa"]
    assert list(history["window_end"]) == ends
    assert history["alpha"].iloc[0] == pytest.approx(stored.alpha)
    latest = load_agreement_history_frame(session, project_id=project_id, limit=1)
    assert list(latest["window_end"]) == [dt.date(2026, 3, 20)]


def test_ops_sees_everyone_and_a_lead_only_their_team(session: Session) -> None:
    planted = plant_ratings(session)
    compute_project_agreements(session, now=NOW, window_days=30)
    everyone = summarise_quality(session, OPS, project_slug="sentiment", days=30, now=NOW)
    assert everyone.agreement is not None and everyone.agreement.n_items == 12
    assert everyone.quality_target == 0.8
    # Twelve shared items per pair: every pair makes it into the heatmap, both ways round.
    assert len(everyone.kappa_pairs) == 6
    assert set(everyone.kappa_pairs["annotator_a"]) == {"Ada", "Bo", "Cyd"}
    assert set(everyone.gold["annotator"]) == {"Ada", "Bo", "Cyd"}
    ada = everyone.gold.set_index("annotator").loc["Ada"]
    assert (ada["gold_answered"], ada["gold_correct"]) == (6, 6)
    assert ada["accuracy_ci_low"] < 1.0 == ada["accuracy"] <= ada["accuracy_ci_high"] + 1e-12
    assert list(everyone.majority["annotator"]) == ["Ada", "Bo", "Cyd"]

    team = planted.team
    lead = Principal(username="lead", role="lead", team_id=team.id)
    mine = summarise_quality(session, lead, project_slug="sentiment", days=30, now=NOW)
    assert set(mine.gold["annotator"]) == {"Ada", "Bo"}
    assert set(mine.kappa_pairs["annotator_a"]) | set(mine.kappa_pairs["annotator_b"]) == {
        "Ada",
        "Bo",
    }
    assert list(mine.majority["annotator"]) == ["Ada", "Bo"]
    # The project's own figures count Cyd's labels too: a lead does not get them.
    assert mine.agreement is None
    assert mine.agreement_history.empty and mine.disputed.empty
    assert not everyone.disputed.empty and not everyone.agreement_history.empty
    assert mine.notes == [PROJECT_FIGURES_WITHHELD]
    unlinked = summarise_quality(session, Principal(username="l2", role="lead"), now=NOW)
    assert mine.scope_note != everyone.scope_note
    assert unlinked.gold.empty and unlinked.notes == [NO_TEAM]


def test_before_the_first_nightly_run_the_page_says_so(session: Session) -> None:
    plant_ratings(session)
    summary = summarise_quality(session, OPS, project_slug="sentiment", days=7, now=NOW)
    assert summary.agreement is None
    assert summary.kappa_pairs.empty and summary.disputed.empty
    assert "not been computed" in summary.notes[0]
    # Gold accuracy comes from the rollups, so it is there already.
    assert len(summary.gold) == 3


@pytest.mark.parametrize("role", ["admin", "finance", "annotator"])
def test_other_roles_may_not_see_quality(session: Session, role: str) -> None:
    with pytest.raises(PermissionDenied, match="may not quality view"):
        summarise_quality(session, Principal(username=role, role=role))


def test_unknown_project_and_window(session: Session) -> None:
    plant_ratings(session)
    with pytest.raises(NotFound, match="No project 'nope'"):
        summarise_quality(session, OPS, project_slug="nope")
    with pytest.raises(ValueError, match="days must be one of 7, 30, 90"):
        summarise_quality(session, OPS, days=14)


def test_a_lead_gets_only_their_teams_projects(session: Session) -> None:
    planted = plant_ratings(session)
    # Work of Cyd's only, and a project nobody in the team touched for 91 days.
    elsewhere = make_project(session, slug="elsewhere")
    stale = make_project(session, slug="stale")
    cyd = planted.people[2]
    make_rollup(session, elsewhere, cyd, day=NOW.date())
    make_rollup(session, stale, planted.people[0], day=NOW.date() - dt.timedelta(days=91))
    lead = Principal(username="lead", role="lead", team_id=planted.team.id)

    assert [project.slug for project in list_projects(session, lead, today=NOW.date())] == [
        "sentiment"
    ]
    # Another team's project reads as no project at all.
    with pytest.raises(NotFound, match="No project 'elsewhere'"):
        summarise_quality(session, lead, project_slug="elsewhere", days=30, now=NOW)
    assert summarise_quality(session, lead, now=NOW).projects == [("sentiment", "Sentiment")]
    assert {slug for slug, _ in summarise_quality(session, OPS, now=NOW).projects} >= {
        "sentiment",
        "elsewhere",
        "stale",
    }
    # Assigned today counts too, without any work yet.
    session.add(
        Assignment(annotator_id=planted.people[1].id, project_id=stale.id, starts_on=NOW.date())
    )
    session.flush()
    assert {project.slug for project in list_projects(session, lead, today=NOW.date())} == {
        "sentiment",
        "stale",
    }
