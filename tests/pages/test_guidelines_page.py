"""The Guidelines page for ops and leads, its forms, and roles that must not see it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from db.models import AnnotationEvent, Annotator, GuidelineVersion, Project, Team
from tests.pages.conftest import as_read, log_in
from tests.pages.workforce_helpers import database, frame_with, labelled, open_page, texts


def choose_project(app: AppTest, url: str, slug: str) -> None:
    with database(url) as session:
        project_id = session.scalar(select(Project.id).where(Project.slug == slug))
    app.selectbox(key="gl-project").set_value(project_id).run()


@pytest.mark.parametrize("role", ["ops", "lead"])
def test_versions_with_the_work_under_each(app: AppTest, demo_url: str, role: str) -> None:
    open_page(app, role, "guidelines")
    choose_project(app, demo_url, "retail-sentiment")
    assert not app.exception, app.exception
    versions = frame_with(app, "change summary").set_index("version")
    assert versions.loc["v2", "status"] == "current" and bool(versions.loc["v2", "major"])
    assert versions.loc["v1", "status"] == "superseded"
    with database(demo_url) as session:
        query = (
            select(func.count(AnnotationEvent.id))
            .join(GuidelineVersion, GuidelineVersion.id == AnnotationEvent.guideline_version_id)
            .join(Project, Project.id == GuidelineVersion.project_id)
            .where(
                Project.slug == "retail-sentiment",
                GuidelineVersion.version == "v1",
                AnnotationEvent.skipped.is_(False),
            )
        )
        everyone = session.scalar(query) or 0
        # The demo lead leads the Text team; other teams work on this project too.
        text_team = (
            session.scalar(
                query.join(Annotator, Annotator.id == AnnotationEvent.annotator_id)
                .join(Team, Team.id == Annotator.team_id)
                .where(Team.name == "Text")
            )
            or 0
        )
    assert 0 < text_team < everyone
    under_v1 = everyone if role == "ops" else text_team
    assert versions.loc["v1", "annotations"] == under_v1
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Annotations"] == f"{under_v1:,}"
    buttons = [button.label for button in app.button]
    assert any(label.startswith("Flag all") for label in buttons) == (role == "ops")
    assert ("Add version" in buttons) == (role == "ops")


@pytest.mark.parametrize("role", ["finance", "annotator"])
def test_finance_and_annotators_have_no_guidelines_page(app: AppTest, role: str) -> None:
    log_in(app, role)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/guidelines.py")


def test_a_new_version_is_checked_then_added(app: AppTest, demo_url: str) -> None:
    open_page(app, "ops", "guidelines")
    choose_project(app, demo_url, "support-intents")
    labelled(app.text_input, "Version").input("v1")
    labelled(app.text_area, "What changed").input("Refund requests are billing, not account.")
    labelled(app.button, "Add version").click().run()
    assert [as_read(error.value) for error in app.error] == [
        "support-intents already has a version v1."
    ]
    labelled(app.text_input, "Version").input("v2")
    labelled(app.button, "Add version").click().run()
    assert not app.exception
    assert "Version v2 added to support-intents." in texts(app)
    assert "v2" in set(frame_with(app, "change summary")["version"])


def test_superseded_work_is_flagged_for_review(app: AppTest, demo_url: str) -> None:
    open_page(app, "ops", "guidelines")
    choose_project(app, demo_url, "retail-sentiment")
    labelled(app.text_input, "Why does work under v1").input("Sarcasm was labelled positive.")
    flag = next(button for button in app.button if button.label.startswith("Flag all"))
    flag.click().run()
    assert not app.exception
    assert "Work under v1 flagged for re-review." in texts(app)
    versions = frame_with(app, "change summary").set_index("version")
    flagged = versions["flagged for review"]
    assert flagged["v1"] == versions["annotations"]["v1"]
    assert flagged["v2"] == 0
