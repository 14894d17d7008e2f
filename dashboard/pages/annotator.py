"""One annotator: key numbers and trends, qualifications, training, calibration, pay,
tier history, feedback and assignments, each with the forms that change them."""

from __future__ import annotations

import streamlit as st

from dashboard import profile_tabs
from dashboard.address import choose_by_address
from dashboard.availability_views import availability_tab
from dashboard.cache import cached
from dashboard.forms import may, option_label, show_flash
from dashboard.freshness import show_freshness
from dashboard.session import db_session, require_principal
from dashboard.text import inert
from ops.workforce import profile

PERSON_KEY = "profile-person"

principal = require_principal()
st.title("Annotator profile")
show_freshness()
show_flash()
people = dict(cached(profile.list_people)(principal, include_archived=True))
if not people:
    st.info("Nobody in the pool that you may see.")
    st.stop()
# The address names the person by their id, so a link to them can be shared.
follow_selection = choose_by_address(
    PERSON_KEY, "annotator", {str(person_id): person_id for person_id in people}, item="person"
)
person_id = st.selectbox(
    "Person",
    list(people),
    format_func=option_label(people),
    key=PERSON_KEY,
    on_change=follow_selection,
)
with db_session() as session:
    person = profile.get_profile(session, principal, person_id)
badges = [person.tier, person.status, person.team or "no team"]
if person.archived:
    badges.append("archived")
st.subheader(inert(person.display_name))
st.caption(" · ".join(inert(badge) for badge in badges))

tabs = {
    "Overview": profile_tabs.overview,
    "Qualifications": profile_tabs.qualification_tab,
    "Training": profile_tabs.training_tab,
    "Calibration": profile_tabs.calibration_tab,
    "Pay": profile_tabs.pay_tab,
    "Tier history": profile_tabs.tier_tab,
    "Feedback": profile_tabs.feedback_tab,
    "Assignments": profile_tabs.assignment_tab,
    "Availability": availability_tab,
}
# Pay is for ops, finance and admin; coaching notes are not for finance.
if not may(principal, "pay.view"):
    del tabs["Pay"]
if not may(principal, "coaching.view"):
    del tabs["Feedback"]
for tab, render in zip(st.tabs(list(tabs), key="profile-tabs"), tabs.values(), strict=True):
    with tab:
        render(principal, person)
