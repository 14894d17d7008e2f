"""One agreement analysis, one typed result: the command's report, the nightly job's stored
figures and the Quality page's view are the same numbers."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from db.models import ProjectAgreement
from ops.agreement import AgreementAnalysis, analyse_agreement
from ops.agreement_report import build_agreement_report
from ops.metrics.ratings import collect_latest_gold_labels
from ops.quality import StoredAgreement, measure_agreement, stored_figures

RATINGS = pd.DataFrame(
    {
        "item_id": ["i1", "i1", "i1", "i2", "i2", "i2", "i3", "i3", "i4", "i4"],
        "annotator_id": [7, 8, 9, 7, 8, 9, 7, 8, 7, 9],
        "label": ["x", "x", "y", "y", "y", "y", "x", "y", "x", "x"],
        "gold": ["x", "x", "x", None, None, None, "y", "x", None, None],
    },
    dtype=object,
).astype({"annotator_id": "int64"})


def test_the_command_prints_the_typed_analysis() -> None:
    frame = RATINGS.assign(
        annotator_id=RATINGS["annotator_id"].astype(str),
        gold=RATINGS["gold"].where(RATINGS["item_id"] != "i3"),
    )
    analysis = analyse_agreement(frame, top_disputed=2)
    assert analysis.to_report() == build_agreement_report(frame, top_disputed=2)
    assert (analysis.n_items, analysis.n_annotators, analysis.n_labels) == (4, 3, 10)
    assert [row.annotator_id for row in analysis.annotators] == ["7", "8", "9"]
    assert analysis.consensus is not None and analysis.consensus.unresolved_items == 1
    assert all(row.dawid_skene_accuracy is not None for row in analysis.annotators)


def test_without_consensus_there_is_no_command_report() -> None:
    analysis = analyse_agreement(RATINGS, consensus=False, gold=collect_latest_gold_labels(RATINGS))
    assert analysis.consensus is None
    assert all(row.dawid_skene_accuracy is None for row in analysis.annotators)
    with pytest.raises(ValueError, match="full analysis"):
        analysis.to_report()


def test_corrected_gold_needs_saying_which_one_stands() -> None:
    # i3's gold changed from y to x between the two ratings.
    with pytest.raises(ValueError, match="conflicting gold labels"):
        analyse_agreement(RATINGS)
    analysis = analyse_agreement(RATINGS, gold=collect_latest_gold_labels(RATINGS))
    [i3] = [item for item in analysis.disputed_items if item.item_id == "i3"]
    assert i3.gold == "x"


def test_the_page_reads_back_what_the_nightly_job_stored() -> None:
    figures = measure_agreement(RATINGS)
    row = ProjectAgreement(
        project_id=1,
        window_start=dt.date(2026, 3, 1),
        window_end=dt.date(2026, 3, 30),
        computed_at=dt.datetime(2026, 3, 31, 2, 30, tzinfo=dt.UTC),
        **figures,
    )
    stored = StoredAgreement.from_row(row)
    assert stored_figures(stored) == figures
    analysis = analyse_agreement(
        RATINGS, consensus=False, top_disputed=20, gold=collect_latest_gold_labels(RATINGS)
    )
    for name in ("n_items", "n_labels", "alpha", "fleiss_kappa", "percent_agreement"):
        assert getattr(stored, name) == getattr(analysis, name), name
    assert [(pair.annotator_a, pair.annotator_b, pair.kappa) for pair in stored.pairs] == [
        (pair.annotator_a, pair.annotator_b, pair.kappa) for pair in analysis.pairs
    ]
    assert [row.agreement_with_majority for row in stored.annotators] == [
        row.agreement_with_majority for row in analysis.annotators
    ]
    assert stored.disputed_items == analysis.disputed_items
    assert stored.window_end == dt.date(2026, 3, 30)


def test_no_ratings_is_an_analysis_that_says_why() -> None:
    empty = AgreementAnalysis.without_ratings("no labels in the window")
    assert empty.n_labels == 0 and empty.alpha is None and empty.pairs == []
    assert dataclasses.asdict(empty)["fleiss_kappa_note"] == "no labels in the window"
    with pytest.raises(ValueError, match="no ratings to analyse"):
        analyse_agreement(RATINGS.iloc[0:0])
