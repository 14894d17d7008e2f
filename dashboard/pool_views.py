"""The Pool page's parts: roster with filters and export, training due, promotion, new people."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import streamlit as st

from dashboard.cache import cached
from dashboard.forms import FormErrors, form_key, form_token, may, option_label, submit
from ops.exports import frame_csv
from ops.permissions import Principal
from ops.workforce import roster, tiers
from ops.workforce.choices import ANNOTATOR_STATUSES, EMPLOYMENT_TYPES, TIERS
from ops.workforce.roster import AnnotatorDetails, PoolFilter, PoolOptions

PROFILE_PAGE = "pages/annotator.py"
ANY = "any"
PERCENT = st.column_config.NumberColumn(format="percent")


def _choice(label: str, values: list[str], key: str) -> str | None:
    picked = st.selectbox(label, [ANY, *values], key=key)
    return None if picked == ANY else picked


def roster_filter(options: PoolOptions) -> PoolFilter:
    """The filter widgets, read into a PoolFilter."""
    teams = dict(options.teams)
    projects = dict(options.projects)
    first, second, third, fourth = st.columns(4)
    with first:
        search = st.text_input("Search name", key="pool-search")
        tiers_ = st.multiselect("Tier", list(TIERS), key="pool-tiers")
    with second:
        team = st.selectbox(
            "Team", [None, *teams], format_func=lambda t: teams.get(t, ANY), key="pool-team"
        )
        statuses = st.multiselect("Status", list(ANNOTATOR_STATUSES), key="pool-statuses")
    with third:
        skill = _choice("Skill", options.skills, "pool-skill")
        domain = _choice("Domain", options.domains, "pool-domain")
        language = _choice("Language", options.languages, "pool-language")
    with fourth:
        qualified = _choice("Qualified for", options.task_types, "pool-qualified")
        project = st.selectbox(
            "Current project",
            [None, *projects],
            format_func=lambda p: projects.get(p, ANY),
            key="pool-project",
        )
        archived = st.checkbox("Include archived", key="pool-archived")
    sort_by = st.segmented_control("Sort by", list(roster.SORTS), default="name", key="pool-sort")
    descending = st.toggle("Descending", key="pool-descending")
    return PoolFilter(
        search=search,
        team_id=team,
        tiers=tuple(tiers_),
        statuses=tuple(statuses),
        skill=skill,
        domain=domain,
        language=language,
        qualified_task_type=qualified,
        project_id=project,
        include_archived=archived,
        sort_by=sort_by or "name",
        descending=descending,
    )


pool_options = cached(roster.pool_options)
_load_roster = cached(roster.load_roster)
_matching_ids = cached(roster.matching_ids)
_training_due = cached(roster.list_training_due)
_promotion_candidates = cached(tiers.list_promotion_candidates)
_promotion_criteria = cached(tiers.get_promotion_criteria)


def roster_frame(principal: Principal, pool_filter: PoolFilter) -> pd.DataFrame:
    """roster.list_pool, with the whole roster (archived people included) cached: a filter
    change, the archived switch included, only asks the database which people match."""
    whole = _load_roster(principal, include_archived=True)
    if not pool_filter.include_archived:
        whole = whole[~whole["archived"].astype(bool)]
    if not roster.narrows(pool_filter):
        # Everyone in the roster, which is already in the people query's order (by name).
        return roster.filter_roster(whole, [int(value) for value in whole["id"]], pool_filter)
    ids = _matching_ids(principal, pool_filter)
    return roster.filter_roster(whole, ids, pool_filter)


def render_roster(principal: Principal) -> None:
    """Filters, the roster table, CSV download and a way into each profile."""
    pool_filter = roster_filter(pool_options(principal))
    frame = roster_frame(principal, pool_filter)
    st.caption(
        f"{len(frame)} people · gold accuracy over the last {roster.ROSTER_WINDOW_DAYS} days "
        "with its 95% Wilson interval"
    )
    st.dataframe(
        frame,
        hide_index=True,
        key="pool-table",
        column_config={
            "id": None,
            "gold accuracy (30d)": PERCENT,
            "lower bound": PERCENT,
            "upper bound": PERCENT,
        },
    )
    st.download_button(
        "Download CSV",
        # The export is exactly the rows and columns shown, so it is the same frame; it is
        # written when the button is clicked, not on every run of the page.
        lambda: frame_csv(frame),
        file_name="annotator-pool.csv",
        mime="text/csv",
        on_click="ignore",
        key="pool-download",
        icon=":material/download:",
    )
    people = dict(zip(frame["id"], frame["name"], strict=True))
    if people:
        chosen = st.selectbox(
            "Open the profile of", list(people), format_func=option_label(people), key="pool-open"
        )
        if st.button("Open profile", key="pool-open-button", icon=":material/person:"):
            st.switch_page(PROFILE_PAGE, query_params={"annotator": str(chosen)})


def render_training_due(principal: Principal) -> None:
    """Trainings expired, running out within 30 days, or missing after a guideline change."""
    frame = _training_due(principal)
    if frame.empty:
        st.info("Everyone's training is current.")
        return
    st.dataframe(frame, hide_index=True, column_config={"annotator_id": None})


def render_promotion(principal: Principal) -> None:
    """Who meets the criteria of the next tier, and the criteria themselves."""
    to_tier = st.segmented_control(
        "Promotion to", list(tiers.PROMOTION_TIERS), default="reviewer", key="promo-tier"
    )
    to_tier = to_tier or "reviewer"
    only = st.toggle("Only people who meet every criterion", key="promo-only")
    frame = _promotion_candidates(principal, to_tier, only_qualified=only)
    settings = _promotion_criteria()
    if frame.empty:
        st.info(f"Nobody one tier below {to_tier} in your scope.")
    else:
        st.dataframe(frame, hide_index=True, column_config={"id": None})
    criteria = settings.criteria[to_tier]
    with st.expander(f"Criteria for {to_tier}", expanded=False):
        st.caption(
            f"Saved by {settings.updated_by} at {settings.updated_at:%Y-%m-%d %H:%M} UTC"
            if settings.updated_at
            else "The defaults; nobody has changed them yet."
        )
        if may(principal, "workforce.settings"):
            _criteria_form(principal, to_tier, criteria, settings.updated_at)
        else:
            st.json(dataclasses.asdict(criteria))


def _criteria_form(
    principal: Principal,
    tier: str,
    criteria: tiers.PromotionCriteria,
    saved_at: dt.datetime | None,
) -> None:
    name = f"criteria-{tier}"
    token = form_token(name, saved_at)
    prefix = f"{form_key(name)}-{token}"
    errors = FormErrors(name)
    with st.form(prefix):
        values: dict[str, object] = {}
        for field in dataclasses.fields(criteria):
            current = getattr(criteria, field.name)
            label = field.name.replace("_", " ")
            if isinstance(current, bool):
                values[field.name] = st.checkbox(label, value=current, key=f"{prefix}-{field.name}")
            elif isinstance(current, float):
                values[field.name] = st.number_input(
                    label, 0.0, 1.0, value=current, step=0.01, key=f"{prefix}-{field.name}"
                )
            else:
                values[field.name] = st.number_input(
                    label, value=current, step=1, key=f"{prefix}-{field.name}"
                )
            errors.slot(field.name)
        if st.form_submit_button("Save criteria"):
            submit(
                errors,
                lambda session: tiers.set_promotion_criteria(
                    session,
                    principal,
                    tier,
                    tiers.criteria_from_form(values),
                    expected_updated_at=token,
                ),
                f"Criteria for {tier} saved.",
            )


def render_add_annotator(principal: Principal, options: PoolOptions) -> None:
    """A form to add a person to the pool."""
    teams = dict(options.teams)
    key = form_key("add-annotator")
    errors = FormErrors("add-annotator")
    with st.form(key):
        name = st.text_input("Name", key=f"{key}-name")
        errors.slot("display_name")
        email = st.text_input("Email", key=f"{key}-email")
        errors.slot("email")
        phone = st.text_input("Phone", key=f"{key}-phone")
        errors.slot("phone")
        country = st.text_input("Country (two letters)", key=f"{key}-country", max_chars=2)
        errors.slot("country")
        team = st.selectbox(
            "Team", [None, *teams], format_func=lambda t: teams.get(t, "none"), key=f"{key}-team"
        )
        errors.slot("team_id")
        status = st.selectbox("Status", list(ANNOTATOR_STATUSES), key=f"{key}-status")
        employment = st.selectbox("Employment", list(EMPLOYMENT_TYPES), key=f"{key}-employment")
        skills = st.text_input("Skills (comma separated)", key=f"{key}-skills")
        errors.slot("skills")
        domains = st.text_input("Domains (comma separated)", key=f"{key}-domains")
        errors.slot("domains")
        languages = st.text_input("Languages (comma separated)", key=f"{key}-languages")
        errors.slot("languages")
        if st.form_submit_button("Add to the pool", type="primary"):
            details = AnnotatorDetails(
                display_name=name,
                team_id=team,
                status=status,
                employment_type=employment,
                email=email,
                phone=phone,
                country=country,
                skills=split_list(skills),
                domains=split_list(domains),
                languages=split_list(languages),
            )
            submit(
                errors,
                lambda session: roster.create_annotator(session, principal, details),
                f"{name.strip()} added to the pool.",
            )


def split_list(text: str) -> tuple[str, ...]:
    """'a, b,,c' -> ('a', 'b', 'c')."""
    return tuple(part.strip() for part in text.split(",") if part.strip())
