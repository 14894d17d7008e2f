"""Compare ops.metrics.fit_dawid_skene with crowd-kit's DawidSkene on simulated ratings.

Development check only: crowd-kit is deliberately not a dependency of annops (it
pulls in transformers and nltk). Run it from a throwaway environment that has it:

    python -m venv /tmp/crowdkit-venv
    /tmp/crowdkit-venv/bin/pip install crowd-kit statsmodels krippendorff
    PYTHONPATH=. /tmp/crowdkit-venv/bin/python benchmarks/compare_dawid_skene_crowdkit.py

Optionally pass --ratings FILE (long CSV item_id,annotator_id,label[,gold]) to
compare on real data as well, e.g. tests/fixtures/refdata/snow2008_temp.csv.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ops.metrics import fit_dawid_skene


def simulate_ratings(
    *,
    n_items: int,
    n_annotators: int,
    ratings_per_item: int,
    n_classes: int,
    seed: int,
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Long ratings plus true label per item and true accuracy per annotator."""
    generator = np.random.default_rng(seed)
    priors = generator.dirichlet(np.full(n_classes, 5.0))
    truth = generator.choice(n_classes, size=n_items, p=priors)
    accuracy = generator.uniform(0.45, 0.95, size=n_annotators)
    rows = []
    for item in range(n_items):
        for annotator in generator.choice(n_annotators, size=ratings_per_item, replace=False):
            if generator.random() < accuracy[annotator]:
                label = truth[item]
            else:
                # Errors spread evenly over the wrong classes.
                label = generator.choice([k for k in range(n_classes) if k != truth[item]])
            rows.append((f"item{item:05d}", f"annotator{annotator:03d}", f"class{label}"))
    frame = pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"])
    true_labels = pd.Series(
        [f"class{label}" for label in truth], index=[f"item{i:05d}" for i in range(n_items)]
    )
    true_accuracy = pd.Series(
        accuracy, index=[f"annotator{index:03d}" for index in range(n_annotators)]
    )
    return frame, true_labels, true_accuracy


def compare(frame: pd.DataFrame, truth: pd.Series | None, title: str) -> None:
    """Print how closely the two implementations agree on one dataset."""
    from crowdkit.aggregation import DawidSkene

    started = time.perf_counter()
    ours = fit_dawid_skene(frame)
    ours_seconds = time.perf_counter() - started

    data = frame.rename(columns={"item_id": "task", "annotator_id": "worker"})
    started = time.perf_counter()
    theirs = DawidSkene(n_iter=100, tol=1e-5).fit(data[["task", "worker", "label"]])
    theirs_seconds = time.perf_counter() - started

    labels = ours.labels
    their_posterior = theirs.probas_.reindex(index=ours.posterior.index, columns=labels)
    their_labels = theirs.labels_.reindex(ours.posterior.index)
    # crowd-kit's errors_ is indexed by (worker, observed label) with a column per true label.
    errors = theirs.errors_
    their_accuracy = pd.Series(
        {
            worker: sum(
                float(theirs.priors_[label]) * float(errors[label].get((worker, label), 0.0))
                for label in labels
            )
            for worker in ours.annotator_accuracy.index
        }
    )
    accuracy_gap = (ours.annotator_accuracy - their_accuracy).abs()

    print(f"== {title}")
    print(
        f"   {frame['item_id'].nunique()} items, {frame['annotator_id'].nunique()} annotators, "
        f"{len(frame)} ratings, {len(labels)} classes"
    )
    print(
        f"   annops: {ours.n_iterations} iterations, converged={ours.converged}, "
        f"{ours_seconds:.2f}s; crowd-kit: {len(theirs.loss_history_)} iterations, "
        f"{theirs_seconds:.2f}s"
    )
    same = (ours.item_labels == their_labels).mean()
    print(f"   items with the same consensus label: {same:.4f}")
    posterior_gap = np.abs(ours.posterior.to_numpy() - their_posterior.to_numpy())
    print(
        f"   posterior |difference|: max {posterior_gap.max():.2e}, mean {posterior_gap.mean():.2e}"
    )
    print(
        f"   annotator accuracy |difference|: max {accuracy_gap.max():.2e}, "
        f"mean {accuracy_gap.mean():.2e}"
    )
    if truth is not None:
        shared = truth.index.intersection(ours.posterior.index)
        ours_correct = (ours.item_labels[shared] == truth[shared]).mean()
        theirs_correct = (their_labels[shared] == truth[shared]).mean()
        print(f"   accuracy vs truth: annops {ours_correct:.6f}, crowd-kit {theirs_correct:.6f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--annotators", type=int, default=40)
    parser.add_argument("--per-item", type=int, default=5)
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--ratings", type=Path, help="long CSV to compare on as well")
    arguments = parser.parse_args()
    try:
        import crowdkit  # noqa: F401
    except ImportError:
        sys.exit("crowd-kit is not installed here; see this script's docstring for a setup")

    frame, truth, true_accuracy = simulate_ratings(
        n_items=arguments.items,
        n_annotators=arguments.annotators,
        ratings_per_item=arguments.per_item,
        n_classes=arguments.classes,
        seed=arguments.seed,
    )
    compare(frame, truth, f"simulated (seed {arguments.seed})")
    recovered = fit_dawid_skene(frame).annotator_accuracy.reindex(true_accuracy.index)
    gap = (recovered - true_accuracy).abs()
    print(f"   annops accuracy vs planted truth: max {gap.max():.3f}, mean {gap.mean():.3f}")

    if arguments.ratings is not None:
        ratings = pd.read_csv(arguments.ratings, dtype=str, keep_default_na=False)
        gold = None
        if "gold" in ratings.columns:
            golden = ratings[ratings["gold"] != ""]
            gold = golden.drop_duplicates("item_id").set_index("item_id")["gold"]
        compare(ratings[["item_id", "annotator_id", "label"]], gold, str(arguments.ratings))


if __name__ == "__main__":
    main()
