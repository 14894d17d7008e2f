"""The annotator profile for each role, its forms, and a role that must not see it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from db.models import (
    Annotator,
    Assignment,
    AuditEntry,
    FeedbackNote,
    Project,
    ReassignmentDecision,
    TierChange,
)
from ops.permissions import Principal
from ops.workforce import roster
from ops.workforce.staffing import check_requirements
from tests.pages.conftest import as_read, log_in
from tests.pages.workforce_helpers import (
    annotator_id,
    database,
    frame_with,
    labelled,
    texts,
)


def open_profile(app: AppTest, role: str, url: str, name: str) -> AppTest:
    log_in(app, role)
    app.switch_page("pages/annotator.py")
    app.query_params["annotator"] = str(annotator_id(url, name))
    return app.run()


@pytest.mark.parametrize(
    ("role", "pay", "coaching"),
    [("ops", True, True), ("admin", True, True), ("lead", False, True), ("finance", True, False)],
)
def test_each_role_sees_its_tabs(
    app: AppTest, demo_url: str, role: str, pay: bool, coaching: bool
) -> None:
    open_profile(app, role, demo_url, "Amara Okafor")
    assert not app.exception, app.exception
    assert app.subheader[0].value == "Amara Okafor"
    tabs = [tab.label for tab in app.tabs]
    assert tabs[:4] == ["Overview", "Qualifications", "Training", "Calibration"]
    assert ("Pay" in tabs) == pay
    assert ("Feedback" in tabs) == coaching
    labels = {metric.label: metric.value for metric in app.metric}
    assert int(labels["Annotations"].replace(",", "")) > 0
    assert labels["Gold accuracy"].endswith("%")
    shown = texts(app)
    assert ("amara.okafor@annotators.example" in str(app.table[0].value)) == (role != "lead")
    assert "meets the criteria for reviewer" in shown


def test_someone_without_any_work_or_assignment_renders(app: AppTest, demo_url: str) -> None:
    with database(demo_url) as session:
        name = session.scalars(
            select(Annotator.display_name).where(Annotator.status == "candidate")
        ).first()
    assert name is not None
    open_profile(app, "ops", demo_url, name)
    assert not app.exception, app.exception
    assert app.subheader[0].value == name
    assert {metric.label: metric.value for metric in app.metric}["Gold accuracy"] == "—"
    assert "Never assigned." in texts(app)


def test_a_lead_cannot_open_someone_outside_their_team(app: AppTest, demo_url: str) -> None:
    open_profile(app, "lead", demo_url, "Rex Turner")
    assert not app.exception
    assert app.subheader[0].value != "Rex Turner"
    assert "Rex Turner" not in app.selectbox(key="profile-person").options


def test_annotators_have_no_profile_page(app: AppTest) -> None:
    log_in(app, "annotator")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/annotator.py")


def test_promotion_needs_a_justification_then_is_recorded(app: AppTest, demo_url: str) -> None:
    open_profile(app, "ops", demo_url, "Amara Okafor")
    labelled(app.selectbox, "New tier").set_value("reviewer")
    labelled(app.text_area, "Justification").input("good")
    labelled(app.button, "Record tier change").click().run()
    assert not app.exception
    assert any("at least 20 characters" in as_read(error.value) for error in app.error)
    labelled(app.text_area, "Justification").input(
        "Gold accuracy lower bound 96% over 90 days and calibration above 95%."
    )
    labelled(app.button, "Record tier change").click().run()
    assert not app.exception
    assert "Amara Okafor is now a reviewer" in texts(app)
    assert list(frame_with(app, "justification")["to"]) == ["reviewer"]
    with database(demo_url) as session:
        amara = session.scalars(select(Annotator).where(Annotator.display_name == "Amara Okafor"))
        person = amara.one()
        change = session.scalars(
            select(TierChange).where(TierChange.annotator_id == person.id)
        ).one()
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "tier.change", AuditEntry.entity_id == str(person.id)
            )
        ).one()
        assert person.tier == "reviewer"
        assert change.evidence["meets_criteria"] is True
        assert entry.actor == "ops" and entry.after is not None
        assert entry.after["evidence"]["metrics"]["gold_answered"] > 100


def tabs_place(app: AppTest) -> list[int]:
    """Where on the page the profile's tabs are: the places of the main area's blocks that
    hold them."""
    return [
        place
        for place, node in app.main.children.items()
        if getattr(node, "type", None) == "tab_container"
    ]


def test_the_confirmation_of_a_save_does_not_move_the_tabs(app: AppTest, demo_url: str) -> None:
    # The browser keeps the open tab only for tabs that stay where they were.
    open_profile(app, "ops", demo_url, "Amara Okafor")
    before = tabs_place(app)
    assert len(before) == 1
    labelled(app.text_area, "Feedback").input("Read the examples of each class again.")
    labelled(app.button, "Record feedback").click().run()
    assert not app.exception
    assert "Feedback recorded" in texts(app)
    assert tabs_place(app) == before
    # The next run, without the confirmation, keeps them there too.
    app.run()
    assert "Feedback recorded" not in texts(app)
    assert tabs_place(app) == before


def test_a_stale_edit_gets_a_reload_message(app: AppTest, demo_url: str) -> None:
    open_profile(app, "ops", demo_url, "Dana Voss")
    person_id = annotator_id(demo_url, "Dana Voss")
    # Someone else saves Dana's record after this page drew its form.
    with database(demo_url) as session:
        dana = session.get(Annotator, person_id)
        assert dana is not None
        roster.update_annotator(
            session,
            Principal("admin", "admin"),
            person_id,
            roster.AnnotatorDetails(
                display_name="Dana Voss",
                team_id=dana.team_id,
                status="probation",
                employment_type=dana.employment_type,
                tier=dana.tier,
            ),
            expected_version=dana.version_id,
        )
    labelled(app.text_input, "Country").input("NL")
    labelled(app.button, "Save details").click().run()
    assert not app.exception
    warning = as_read(app.warning[0].value)
    assert "Dana Voss was changed by admin at" in warning and "Reload" in warning
    with database(demo_url) as session:
        dana = session.get(Annotator, person_id)
        assert dana is not None and dana.status == "probation" and dana.country != "NL"
    app.button(key=f"annotator-{person_id}-reload").click().run()
    assert labelled(app.selectbox, "Status").value == "probation"
    labelled(app.text_input, "Country").input("NL")
    labelled(app.button, "Save details").click().run()
    assert "Saved Dana Voss." in texts(app)


def test_feedback_with_evidence_reaches_the_scorecard(app: AppTest, demo_url: str) -> None:
    open_profile(app, "lead", demo_url, "Amara Okafor")
    labelled(app.selectbox, "Category").set_value("consistency")
    labelled(app.text_area, "Feedback").input("Keep flagging the mixed reviews as you do.")
    labelled(app.button, "Record feedback").click().run()
    assert not app.exception
    assert "Feedback recorded" in texts(app)
    assert "Keep flagging the mixed reviews as you do." in set(
        frame_with(app, "feedback")["feedback"]
    )

    scorecard = AppTest.from_file(app._script_path, default_timeout=30)
    log_in(scorecard, "annotator")
    assert "Keep flagging the mixed reviews as you do." in texts(scorecard)
    with database(demo_url) as session:
        note = session.scalars(
            select(FeedbackNote).where(FeedbackNote.category == "consistency")
        ).one()
    scorecard.button(key=f"ack-{note.id}").click().run()
    assert not scorecard.exception
    assert "marked as read" in texts(scorecard)
    with database(demo_url) as session:
        acknowledged = session.get(FeedbackNote, note.id)
        assert acknowledged is not None and acknowledged.acknowledged_at is not None


def test_finance_records_a_pay_rate_with_field_errors_first(app: AppTest, demo_url: str) -> None:
    open_profile(app, "finance", demo_url, "Rex Turner")
    labelled(app.text_input, "Amount").input("lots")
    labelled(app.text_input, "Reason").input("contract renewal")
    labelled(app.button, "Add rate").click().run()
    assert any("is not an amount of money" in as_read(error.value) for error in app.error)
    labelled(app.text_input, "Amount").input("21.50")
    labelled(app.button, "Add rate").click().run()
    assert not app.exception
    assert "New pay rate recorded." in texts(app)
    assert frame_with(app, "rate")["rate"].iloc[0] == "USD 21.50"


def test_ops_records_a_reassignment_with_evidence(app: AppTest, demo_url: str) -> None:
    person_id = annotator_id(demo_url, "Milo Park")
    with database(demo_url) as session:
        running = session.scalars(
            select(Assignment.project_id).where(
                Assignment.annotator_id == person_id, Assignment.ends_on.is_(None)
            )
        ).all()
        target = session.scalars(
            select(Project.id).where(Project.id.not_in(running)).order_by(Project.id)
        ).first()
    open_profile(app, "ops", demo_url, "Milo Park")
    labelled(app.selectbox, "Reason").set_value("quality")
    labelled(app.button, "Record decision").click().run()
    assert any("Choose the project they leave" in as_read(error.value) for error in app.error)
    labelled(app.selectbox, "Leaves project").set_value(running[0])
    labelled(app.selectbox, "Joins project").set_value(target)
    labelled(app.text_area, "Notes").input("Gold accuracy credibly under target.")
    assert target is not None
    with database(demo_url) as session:
        unmet = check_requirements(session, Principal("ops", "ops"), person_id, target).unmet
    if unmet:
        labelled(app.button, "Record decision").click().run()
        assert not app.exception
        assert any(
            "requirements" in as_read(error.value) and unmet[0] in as_read(error.value)
            for error in app.error
        )
        labelled(app.text_area, "Override").input("Needed on this project this week.")
    labelled(app.button, "Record decision").click().run()
    assert not app.exception
    assert "Reassignment recorded with the evidence." in texts(app)
    decisions = frame_with(app, "notes")
    assert list(decisions["reason"]) == ["quality"]
    assert "annotations in 30 days, gold" in decisions["evidence"].iloc[0]
    with database(demo_url) as session:
        decision = session.scalars(
            select(ReassignmentDecision).where(ReassignmentDecision.annotator_id == person_id)
        ).one()
        assert decision.evidence["from_project"]["gold_answered"] > 0
        assert decision.decided_by == "ops"


def test_a_link_opens_its_person_and_a_stale_address_does_not_undo_a_choice(
    app: AppTest, demo_url: str
) -> None:
    open_profile(app, "ops", demo_url, "Amara Okafor")
    assert not app.exception, app.exception
    assert app.subheader[0].value == "Amara Okafor"
    linked = app.query_params["annotator"]
    box = app.selectbox(key="profile-person")
    other = next(option for option in box.options if option != "Amara Okafor")
    box.select(other).run()
    assert app.subheader[0].value == other
    assert app.query_params["annotator"] != linked
    # The next click comes from a browser whose address still names the person before.
    app.query_params["annotator"] = linked
    app.run()
    assert app.subheader[0].value == other
    # Going to another page and following a link back opens the linked person again.
    app.switch_page("pages/pool.py").run()
    app.switch_page("pages/annotator.py")
    app.query_params["annotator"] = linked
    app.run()
    assert app.subheader[0].value == "Amara Okafor"


def test_a_link_to_someone_the_lead_may_not_see_says_so(app: AppTest, demo_url: str) -> None:
    # Dana Voss is in the Mixed team; the demo lead leads the Text team.
    dana = annotator_id(demo_url, "Dana Voss")
    open_profile(app, "lead", demo_url, "Dana Voss")
    assert not app.exception, app.exception
    assert app.subheader[0].value != "Dana Voss"
    [warning] = [as_read(warning.value) for warning in app.warning]
    assert f"The link names a person ({dana}) you cannot open here" in warning
    # Choosing someone puts them in the address, and the warning goes.
    box = app.selectbox(key="profile-person")
    box.select(box.options[-1]).run()
    assert not app.warning


def test_a_link_to_nobody_says_so(app: AppTest) -> None:
    log_in(app, "ops")
    app.switch_page("pages/annotator.py")
    app.query_params["annotator"] = "999999"
    app.run()
    assert not app.exception, app.exception
    assert any("(999999) you cannot open here" in as_read(w.value) for w in app.warning)
