"""The Spend page's parts: figures, charts, tables and the export buttons."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.workspace_charts import (
    UNIT_COSTS,
    cost_per_annotation_chart,
    monthly_spend_chart,
    spend_by_group_chart,
)
from ops.permissions import Principal
from ops.projects import list_visible_projects
from ops.spend import SpendWorkspace, export_name, period_totals, spend_csv, spend_xlsx

PERCENT = st.column_config.NumberColumn(format="percent")
MONEY = st.column_config.NumberColumn(format="%,.2f")
PRECISE = st.column_config.NumberColumn(format="%,.4f")


def project_options(session: Session, principal: Principal) -> dict[str, str]:
    """slug -> "name (slug)" of the projects the principal may pick."""
    return {
        choice.slug: f"{choice.name} ({choice.slug})"
        for choice in list_visible_projects(session, principal)
    }


def render_workspace(workspace: SpendWorkspace) -> None:
    """Everything below the filters."""
    period = workspace.filter
    refreshed = f"{workspace.refreshed:%d %b %Y %H:%M} UTC" if workspace.refreshed else "not yet"
    st.caption(
        f"{period.since:%d %b %Y} to {period.until:%d %b %Y} (UTC days, both included). "
        "Spend is work and review time at the pay rate in effect, from the daily summaries "
        f"(last brought up to date {refreshed}). Amounts in each project's pay currency; "
        "currencies are never added together."
    )
    totals = period_totals(workspace)
    if not totals:
        st.info("No spend in this period for these projects.")
    for total in totals:
        columns = st.columns(3)
        columns[0].metric(f"Spend ({total.currency})", f"{total.spend:,.2f}")
        columns[1].metric("Annotations", f"{total.annotations:,}")
        columns[2].metric(
            f"Cost per annotation ({total.currency})",
            "—" if total.cost_per_annotation is None else f"{total.cost_per_annotation:,.4f}",
            help="annotation spend / priced annotations, review time excluded",
        )
    for currency in workspace.currencies:
        monthly = workspace.monthly[workspace.monthly["currency"] == currency]
        chart = monthly_spend_chart(monthly, currency)
        if chart is not None:
            st.subheader(f"Monthly spend per project ({currency})")
            st.altair_chart(chart, width="stretch")
        costs = {
            column: cost_per_annotation_chart(monthly, currency, column) for column in UNIT_COSTS
        }
        if any(chart is not None for chart in costs.values()):
            st.subheader(f"Cost per annotation and per accepted annotation ({currency})")
            for pane, chart in zip(st.columns(len(costs)), costs.values(), strict=True):
                if chart is not None:
                    pane.altair_chart(chart, width="stretch")
            st.caption(
                "Per annotation: annotation spend / priced annotations. Per accepted "
                "annotation: all spend, review included / annotations accepted in review. "
                "Each has its own axis."
            )
    st.subheader("Budget against actual, with the forecast at completion")
    st.caption(
        f"Spent to date counts everything up to {period.until:%d %b %Y}. Forecast at "
        "completion: spend so far plus the remaining volume at the spend per annotation so "
        "far (spent to date / annotations done, review included), which is why it differs "
        "from the cost per annotation above (work only, over the annotations priced)."
    )
    st.dataframe(
        workspace.budgets.rename(columns=lambda name: name.replace("_", " ")),
        hide_index=True,
        key="spend-budgets",
        column_config={
            "budget": MONEY,
            "spent to date": MONEY,
            "forecast at completion": MONEY,
            "budget used": PERCENT,
            "forecast over budget": PERCENT,
        },
    )
    _breakdowns(workspace)
    st.subheader("Pay-rate changes in the period")
    if workspace.pay_changes.empty:
        st.caption("No pay rate took effect in this period.")
    else:
        # A person's first rate replaced none: say so rather than show empty cells as None.
        first = {"previous_basis": "none (first rate)", "previous_currency": ""}
        st.dataframe(
            workspace.pay_changes.fillna(first).rename(columns=lambda name: name.replace("_", " ")),
            hide_index=True,
            key="spend-pay-changes",
            column_config={"rate": MONEY, "previous rate": MONEY},
        )
    st.subheader("Monthly detail and exports")
    st.dataframe(
        workspace.monthly.rename(columns=lambda name: name.replace("_", " ")),
        hide_index=True,
        key="spend-monthly",
        column_config={
            "spend": MONEY,
            "annotation spend": MONEY,
            "review spend": MONEY,
            "spend to date": MONEY,
            "budget": MONEY,
            "cost per annotation": PRECISE,
            "cost per accepted annotation": PRECISE,
            "budget used": PERCENT,
        },
    )
    csv_column, xlsx_column = st.columns(2)
    csv_column.download_button(
        "Download CSV (monthly spend)",
        spend_csv(workspace),
        file_name=export_name(workspace, "csv"),
        mime="text/csv",
        on_click="ignore",
        key="spend-csv",
        icon=":material/download:",
    )
    xlsx_column.download_button(
        "Download XLSX (every table)",
        # Built when the button is clicked, not on every run of the page.
        lambda: spend_xlsx(workspace),
        file_name=export_name(workspace, "xlsx"),
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
        key="spend-xlsx",
        icon=":material/download:",
    )
    st.caption(
        "Amounts are plain numbers in major units (12.5 is 12.50) with the currency in its "
        "own column; shares are fractions (0.48 is 48%)."
    )


def _breakdowns(workspace: SpendWorkspace) -> None:
    st.subheader("Spend by tier, team and employment type")
    st.caption("Grouped by each person's tier, team and employment type today.")
    tabs = st.tabs([group.capitalize() for group in workspace.by_group], key="spend-groups")
    for tab, (group, frame) in zip(tabs, workspace.by_group.items(), strict=True):
        with tab:
            if frame.empty:
                st.caption("No spend in this period.")
                continue
            for currency in sorted(set(frame["currency"])):
                chart = spend_by_group_chart(frame[frame["currency"] == currency], group, currency)
                if chart is not None:
                    st.altair_chart(chart, width="stretch")
            st.dataframe(frame, hide_index=True, column_config={"spend": MONEY})
