"""Tables show column names a person would write, percentages as percentages and empty
cells where a value is missing, never "None"."""

from __future__ import annotations

import json
from typing import Any

from streamlit.testing.v1 import AppTest

from tests.pages.conftest import log_in


def open_page(app: AppTest, role: str, page: str) -> AppTest:
    log_in(app, role)
    app.switch_page(f"pages/{page}")
    return app.run()


def config_of(app: AppTest, column: str) -> tuple[Any, dict[str, Any]]:
    """The table that has ``column``, and its column configuration."""
    [table] = [frame for frame in app.dataframe if column in frame.value.columns]
    return table.value, json.loads(table.proto.columns)


def assert_readable(frame: Any, config: dict[str, Any]) -> None:
    for column in frame.columns:
        label = config.get(str(column), {}).get("label") or str(column)
        assert "_" not in label, f"column {column!r} shows as {label!r}"


def test_review_allocation_reads_as_words_and_percentages(app: AppTest) -> None:
    open_page(app, "ops", "review.py")
    assert not app.exception, app.exception
    frame, config = config_of(app, "n_items")
    assert_readable(frame, config)
    assert config["n_items"]["label"] == "Unreviewed annotations"
    assert config["accuracy"]["type_config"]["format"] == "percent"
    assert config["accuracy_ci_low"]["type_config"]["format"] == "percent"


def test_quality_tables_read_as_words_and_percentages(app: AppTest) -> None:
    log_in(app, "ops")
    app.switch_page("pages/quality.py")
    app.run()
    app.selectbox(key="quality_project").set_value("retail-sentiment")
    app.run()
    assert not app.exception, app.exception
    for column in ("gold_correct", "agreement_with_majority", "ratings"):
        frame, config = config_of(app, column)
        assert_readable(frame, config)
    _frame, gold = config_of(app, "gold_correct")
    assert gold["accuracy_ci_high"]["type_config"]["format"] == "percent"


def test_jobs_show_empty_cells_not_none(app: AppTest) -> None:
    open_page(app, "admin", "jobs.py")
    assert not app.exception, app.exception
    for column in ("next run (UTC)", "trigger"):
        if column == "trigger" and not any("trigger" in f.value.columns for f in app.dataframe):
            continue  # no run yet on this database
        frame, config = config_of(app, column)
        assert_readable(frame, config)
        # Missing numbers and times are typed columns, so they show as empty cells.
        for column in frame.columns:
            if frame[column].isna().any():
                assert config[str(column)]["type_config"]["type"] in ("number", "datetime"), column
        for column in frame.columns:
            assert "None" not in set(frame[column].map(lambda v: v if isinstance(v, str) else ""))
