"""My scorecard: the annotator's own page, and nobody else's."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import log_in


def shown_text(app: AppTest) -> str:
    groups = (app.title, app.subheader, app.text, app.markdown, app.caption, app.info, app.success)
    return "\n".join(str(element.value) for group in groups for element in group)


def test_an_annotator_lands_on_their_scorecard(app: AppTest) -> None:
    log_in(app, "annotator")
    assert not app.exception, app.exception
    text = shown_text(app)
    assert app.title[0].value == "My scorecard"
    # Name, tier and team of the demo's annotator login.
    assert "Amara Okafor · annotator · Text" in text
    for heading in ("Annotations per week", "Gold accuracy per week", "Training due"):
        assert heading in text
    assert "Next tier: reviewer" in text
    assert "very likely lies" in text  # the interval in plain words
    assert "your true accuracy is very likely between" in text
    # One progress bar per criterion of the next tier, each with its line of text.
    assert len(app.get("progress")) >= 4
    assert "gold accuracy, lower bound" in text
    assert "Feedback" in text


@pytest.mark.parametrize("role", ["admin", "ops", "lead", "finance"])
def test_other_roles_have_no_scorecard_of_their_own(app: AppTest, role: str) -> None:
    log_in(app, role)
    # The page file is not in their navigation at all, only a refusal at its URL.
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/scorecard.py")
