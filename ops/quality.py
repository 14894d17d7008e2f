"""Quality: per-project agreement computed nightly from events, and the Quality page's view.

The nightly job stores each project's figures in project_agreements; the page reads
those stored figures and the daily rollups, never raw events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from db.models import Project, ProjectAgreement, utcnow
from db.queries.agreement import (
    delete_project_agreement,
    get_latest_project_agreement,
    load_agreement_history_frame,
)
from db.queries.events import load_label_frame
from db.queries.people import load_annotator_name_frame
from db.queries.projects import list_projects
from db.queries.rollups import load_annotator_totals_frame
from ops.agreement import (
    AgreementAnalysis,
    AnnotatorAgreement,
    DisputedItem,
    KappaPair,
    analyse_agreement,
)
from ops.errors import NotFound
from ops.metrics.accuracy import compute_gold_accuracy_table
from ops.metrics.ratings import collect_latest_gold_labels
from ops.permissions import Principal, people_scope, require
from ops.projects import NO_TEAM_PROJECTS
from ops.projects import list_projects as visible_projects

DISPUTED_ITEMS_KEPT = 20
# A pair's kappa on a handful of shared items is noise; the heatmap leaves such pairs out.
KAPPA_MIN_SHARED = 10
WINDOW_CHOICES = (7, 30, 90)


# --- the nightly computation ---------------------------------------------------------------


def agreement_window(now: dt.datetime, window_days: int) -> tuple[dt.date, dt.date]:
    """The inclusive UTC days the nightly figures cover: the last ``window_days`` full days."""
    if window_days < 1:
        raise ValueError(f"window_days must be at least 1, got {window_days}")
    end = now.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    return end - dt.timedelta(days=window_days - 1), end


def measure_agreement(frame: pd.DataFrame) -> dict[str, Any]:
    """The agreement figures of one rating frame as the nightly job stores them, JSON-ready:
    counts, alpha, kappas, each annotator against the majority, disputed items."""
    if frame.empty:
        return stored_figures(AgreementAnalysis.without_ratings("no labels in the window"))
    # Gold can be corrected over time; the last golden row seen stands for the item.
    analysis = analyse_agreement(
        frame,
        top_disputed=DISPUTED_ITEMS_KEPT,
        consensus=False,
        gold=collect_latest_gold_labels(frame),
    )
    figures = stored_figures(analysis)
    repeats = repeat_consistency(frame)
    for person in figures["annotators"]:
        repeated, consistent = repeats.get(person["annotator_id"], (0, 0))
        person["n_repeated"], person["n_consistent"] = repeated, consistent
    return figures


def repeat_consistency(frame: pd.DataFrame) -> dict[Any, tuple[int, int]]:
    """Per annotator of a rating frame: items they labeled more than once, and how many
    of those got the same label every time."""
    if frame.empty:
        return {}
    per_item = (
        frame.groupby(["annotator_id", "item_id"])["label"].agg(["size", "nunique"]).reset_index()
    )
    repeated = per_item[per_item["size"] > 1]
    result: dict[Any, tuple[int, int]] = {}
    for record in repeated.to_dict("records"):
        person = record["annotator_id"]
        count, same = result.get(person, (0, 0))
        result[person] = (count + 1, same + int(record["nunique"] == 1))
    return result


def _stored_annotator(row: AnnotatorAgreement) -> dict[str, Any]:
    person: dict[str, Any] = {
        "annotator_id": row.annotator_id,
        "n": row.n,
        "n_compared": row.n_compared_with_majority,
        "agreement_with_majority": row.agreement_with_majority,
    }
    if row.n_repeated_items is not None:
        person["n_repeated"] = row.n_repeated_items
        person["n_consistent"] = (
            round(row.consistency * row.n_repeated_items) if row.consistency is not None else 0
        )
    return person


def stored_figures(analysis: AgreementAnalysis) -> dict[str, Any]:
    """The columns of a project_agreements row holding ``analysis``."""
    return {
        "n_items": analysis.n_items,
        "n_labels": analysis.n_labels,
        "n_annotators": analysis.n_annotators,
        "percent_agreement": analysis.percent_agreement,
        "alpha": analysis.alpha,
        "fleiss_kappa": analysis.fleiss_kappa,
        "fleiss_kappa_note": analysis.fleiss_kappa_note,
        "cohen_pairs": [
            {
                "annotator_a": pair.annotator_a,
                "annotator_b": pair.annotator_b,
                "n_shared": pair.n_shared,
                "kappa": pair.kappa,
            }
            for pair in analysis.pairs
        ],
        "annotators": [_stored_annotator(row) for row in analysis.annotators],
        "disputed_items": [
            {
                "item_id": str(item.item_id),
                "n_ratings": item.n_ratings,
                "agreement": item.agreement,
                "gold": None if item.gold is None else str(item.gold),
                "label_counts": item.label_counts,
            }
            for item in analysis.disputed_items
        ],
    }


def compute_project_agreements(
    session: Session,
    *,
    now: dt.datetime,
    window_days: int,
    progress: Callable[[str, float], None] | None = None,
) -> int:
    """Store every active project's agreement over the last full days; projects stored.

    Idempotent: a second run for the same window replaces the first one's figures.
    """
    start, end = agreement_window(now, window_days)
    projects = list_projects(session)  # archived projects are left out
    for index, project in enumerate(projects):
        if progress is not None:
            progress(f"agreement of {project.slug}", index / max(len(projects), 1))
        frame = load_label_frame(
            session,
            project_id=project.id,
            start=dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC),
            end=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
        )
        figures = measure_agreement(frame)
        delete_project_agreement(session, project_id=project.id, window_end=end)
        session.add(
            ProjectAgreement(
                project_id=project.id,
                window_start=start,
                window_end=end,
                computed_at=utcnow(),
                **figures,
            )
        )
    session.flush()
    return len(projects)


# --- the Quality page ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StoredAgreement(AgreementAnalysis):
    """A project's agreement as the nightly job stored it, and the window it covers."""

    window_start: dt.date
    window_end: dt.date
    computed_at: dt.datetime

    @classmethod
    def from_row(cls, row: ProjectAgreement, *, pairs: bool = True) -> StoredAgreement:
        """The analysis a project_agreements row holds (what stored_figures wrote); without
        ``pairs``, no Cohen pair is kept (a busy project has hundreds of thousands)."""
        kept = [
            KappaPair(
                annotator_a=pair["annotator_a"],
                annotator_b=pair["annotator_b"],
                n_shared=pair["n_shared"],
                kappa=pair["kappa"],
            )
            for pair in (row.cohen_pairs if pairs else row.cohen_pairs[:1])
        ]
        return cls(
            window_start=row.window_start,
            window_end=row.window_end,
            computed_at=row.computed_at,
            n_items=row.n_items,
            n_annotators=row.n_annotators,
            n_labels=row.n_labels,
            categories=None,
            n_gold_items=None,
            percent_agreement=row.percent_agreement,
            # The nightly job measures with the defaults: nominal alpha, unweighted kappa.
            alpha=row.alpha,
            alpha_level="nominal",
            fleiss_kappa=row.fleiss_kappa,
            fleiss_kappa_note=row.fleiss_kappa_note,
            cohen_kappa=kept[0].kappa
            if row.n_annotators == 2 and len(row.cohen_pairs) == 1
            else None,
            kappa_weights="none",
            pairs=kept if pairs else [],
            annotators=[
                AnnotatorAgreement(
                    annotator_id=person["annotator_id"],
                    n=person["n"],
                    n_compared_with_majority=person["n_compared"],
                    agreement_with_majority=person["agreement_with_majority"],
                    # Rows stored before consistency was kept have no repeat counts.
                    n_repeated_items=person.get("n_repeated"),
                    consistency=(
                        person["n_consistent"] / person["n_repeated"]
                        if person.get("n_repeated")
                        else None
                    ),
                )
                for person in row.annotators
            ],
            disputed_items=[
                DisputedItem(
                    item_id=item["item_id"],
                    n_ratings=item["n_ratings"],
                    agreement=item["agreement"],
                    gold=item["gold"],
                    label_counts=item["label_counts"],
                )
                for item in row.disputed_items
            ],
        )


@dataclass(frozen=True)
class QualitySummary:
    """What the Quality page shows for one project; people limited to the viewer's scope."""

    projects: list[tuple[str, str]]
    project_slug: str | None
    project_name: str
    quality_target: float | None
    days: int
    scope_note: str
    # The project's figures; its per-person and per-item lists are the frames below,
    # narrowed to the viewer's scope, and not kept twice.
    agreement: StoredAgreement | None
    agreement_history: pd.DataFrame
    kappa_pairs: pd.DataFrame
    majority: pd.DataFrame
    gold: pd.DataFrame
    disputed: pd.DataFrame
    notes: list[str] = field(default_factory=list)


# What a lead reads instead of the project's agreement figures.
PROJECT_FIGURES_WITHHELD = (
    "The project's agreement figures and its most disputed items count every team's "
    "labels, so they are shown to ops only. Below: your team's people, their agreement "
    "with the others' majority, their kappa with each other, and their gold accuracy."
)


def summarise_quality(
    session: Session,
    principal: Principal,
    *,
    project_slug: str | None = None,
    days: int = 30,
    now: dt.datetime | None = None,
) -> QualitySummary:
    """Agreement and gold accuracy of one project; a lead sees only their team's people."""
    require(principal, "quality.view")
    if days not in WINDOW_CHOICES:
        raise ValueError(f"days must be one of {', '.join(map(str, WINDOW_CHOICES))}")
    now = now or utcnow()
    scope = people_scope(principal)
    projects = visible_projects(session, principal, today=now.date())
    choices = [(project.slug, project.name) for project in projects]
    project = _choose_project(projects, project_slug)
    names = load_annotator_name_frame(session, scope=scope)
    scope_note = (
        "All annotators of the project." if scope.everyone else "Your team's annotators only."
    )
    if scope.nobody:
        return _empty_summary(choices, days, scope_note, scope.reason)
    if project is None:
        none = "There are no projects yet." if scope.everyone else NO_TEAM_PROJECTS
        return _empty_summary(choices, days, scope_note, none)
    row = get_latest_project_agreement(session, project_id=project.id)
    stored = None if row is None else StoredAgreement.from_row(row, pairs=False)
    visible = set(names.index)
    notes = []
    if not scope.everyone:
        # The project's figures and its disputed items count every team's labels.
        notes.append(PROJECT_FIGURES_WITHHELD)
    elif stored is None:
        notes.append(
            "Agreement has not been computed for this project yet: the nightly agreement job "
            "stores it (an admin can run it now from the Jobs page)."
        )
    project_wide = scope.everyone and stored is not None
    history = (
        load_agreement_history_frame(session, project_id=project.id)
        if scope.everyone
        else pd.DataFrame(columns=["window_end", "alpha", "fleiss_kappa"])
    )
    since = now.date() - dt.timedelta(days=days - 1)
    totals = load_annotator_totals_frame(
        session, project_id=project.id, since=since, annotator_ids=sorted(visible)
    )
    return QualitySummary(
        projects=choices,
        project_slug=project.slug,
        project_name=project.name,
        quality_target=project.quality_target,
        days=days,
        scope_note=scope_note,
        # The per-person and per-item lists are in the frames below, narrowed to the scope.
        agreement=(
            replace(stored, annotators=[], disputed_items=[])
            if project_wide and stored is not None
            else None
        ),
        agreement_history=history,
        kappa_pairs=_kappa_pairs(None if row is None else row.cohen_pairs, names),
        majority=_majority(stored, names),
        gold=_gold(totals, names),
        disputed=_disputed(stored if project_wide else None),
        notes=notes,
    )


def _choose_project(projects: list[Project], slug: str | None) -> Project | None:
    if slug is None:
        return projects[0] if projects else None
    for project in projects:
        if project.slug == slug:
            return project
    raise NotFound(f"No project {slug!r}.")


def _kappa_pairs(stored_pairs: list[dict[str, Any]] | None, names: pd.DataFrame) -> pd.DataFrame:
    """Both orientations of every visible pair, so a heatmap is symmetric: ``stored_pairs``
    as the nightly job stored them (annotator_a, annotator_b, n_shared, kappa)."""
    columns = ["annotator_a", "annotator_b", "kappa", "n_shared"]
    if not stored_pairs:
        return pd.DataFrame(columns=columns)
    # Every pair of a busy project: filtered as whole columns, not pair by pair.
    pairs = pd.DataFrame(stored_pairs, columns=["annotator_a", "annotator_b", "n_shared", "kappa"])
    shown = pairs[
        pairs["annotator_a"].isin(names.index)
        & pairs["annotator_b"].isin(names.index)
        & pairs["kappa"].notna()
        & (pairs["n_shared"] >= KAPPA_MIN_SHARED)
    ]
    if shown.empty:
        return pd.DataFrame(columns=columns)
    name_of = names["display_name"]
    name_a = name_of.reindex(shown["annotator_a"]).to_numpy(dtype=object)
    name_b = name_of.reindex(shown["annotator_b"]).to_numpy(dtype=object)
    kappa = shown["kappa"].to_numpy(dtype=float)
    shared = shown["n_shared"].to_numpy(dtype=np.int64)
    # Each pair one way round, then the other, pair after pair.
    rows = zip(
        np.column_stack([name_a, name_b]).ravel(),
        np.column_stack([name_b, name_a]).ravel(),
        np.repeat(kappa, 2).tolist(),
        np.repeat(shared, 2).tolist(),
        strict=True,
    )
    return pd.DataFrame(list(rows), columns=columns)


def _majority(stored: StoredAgreement | None, names: pd.DataFrame) -> pd.DataFrame:
    columns = ["annotator", "labels", "compared", "agreement_with_majority"]
    if stored is None:
        return pd.DataFrame(columns=columns)
    rows = [
        (
            names.at[row.annotator_id, "display_name"],
            row.n,
            row.n_compared_with_majority,
            row.agreement_with_majority,
        )
        for row in stored.annotators
        if row.annotator_id in names.index
    ]
    return pd.DataFrame(rows, columns=columns).sort_values("annotator", ignore_index=True)


def _gold(totals: pd.DataFrame, names: pd.DataFrame) -> pd.DataFrame:
    """One row per visible annotator with gold answers: accuracy and its Wilson interval."""
    per_person = totals.groupby("annotator_id")[["gold_answered", "gold_correct"]].sum()
    per_person = per_person[per_person["gold_answered"] > 0]
    table = compute_gold_accuracy_table(
        per_person, correct_column="gold_correct", answered_column="gold_answered"
    )
    table = table.assign(annotator=names["display_name"].reindex(table.index).to_numpy())
    columns = [
        "annotator",
        "gold_answered",
        "gold_correct",
        "accuracy",
        "accuracy_ci_low",
        "accuracy_ci_high",
    ]
    return table[columns].sort_values("accuracy", ascending=False, ignore_index=True)


def _disputed(stored: StoredAgreement | None) -> pd.DataFrame:
    columns = ["item", "ratings", "agreement", "gold", "labels"]
    if stored is None:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(
        [
            (
                item.item_id,
                item.n_ratings,
                item.agreement,
                item.gold or "",
                ", ".join(f"{label}: {count}" for label, count in item.label_counts.items()),
            )
            for item in stored.disputed_items
        ],
        columns=columns,
    )


def _empty_summary(
    choices: list[tuple[str, str]], days: int, scope_note: str, note: str
) -> QualitySummary:
    return QualitySummary(
        projects=choices,
        project_slug=None,
        project_name="",
        quality_target=None,
        days=days,
        scope_note=scope_note,
        agreement=None,
        agreement_history=pd.DataFrame(columns=["window_end", "alpha", "fleiss_kappa"]),
        kappa_pairs=pd.DataFrame(columns=["annotator_a", "annotator_b", "kappa", "n_shared"]),
        majority=pd.DataFrame(
            columns=["annotator", "labels", "compared", "agreement_with_majority"]
        ),
        gold=pd.DataFrame(
            columns=[
                "annotator",
                "gold_answered",
                "gold_correct",
                "accuracy",
                "accuracy_ci_low",
                "accuracy_ci_high",
            ]
        ),
        disputed=pd.DataFrame(columns=["item", "ratings", "agreement", "gold", "labels"]),
        notes=[note],
    )
