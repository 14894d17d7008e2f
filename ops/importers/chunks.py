"""The shape every importer reads a file into: columns of raw values, a chunk at a time."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ops.importers.problems import Reject

# Raw fields a reader fills; the pipeline checks and types them.
RAW_FIELDS = (
    "project",
    "item_id",
    "annotator",
    "label",
    "submitted_at",
    "active_seconds",
    "skipped",
    "escalated",
    "is_gold",
    "gold_label",
    "reviewer",
    "review_outcome",
    "review_seconds",
    "reviewed_at",
    "guideline_version",
    "external_id",
    "source_updated_at",
)


@dataclass(frozen=True)
class Person:
    """What a file says about an identity besides its key."""

    email: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class GoldReference:
    """A reference annotation that makes its item golden; not anyone's regular work."""

    item_id: str
    gold_label: str | None
    external_id: str
    set_by: str | None
    source_updated_at: str | None


@dataclass
class RawChunk:
    """Up to a few ten thousand records, column by column, with their row numbers."""

    columns: dict[str, Any]
    rows: list[int]
    people: dict[str, Person] = field(default_factory=dict)
    gold: list[GoldReference] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)


class ColumnBuilder:
    """Collects records field by field into lists, then hands them out as a RawChunk."""

    def __init__(self, fields: tuple[str, ...] = RAW_FIELDS) -> None:
        self.fields = fields
        self.reset()

    def reset(self) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in self.fields}
        # Records given whole (add_record), turned into columns when the chunk is taken.
        self.records: list[tuple[Any, ...]] = []
        self.rows: list[int] = []
        self.people: dict[str, Person] = {}
        self.gold: list[GoldReference] = []
        self.rejects: list[Reject] = []
        self.counts: dict[str, int] = {}

    def add(self, row: int, values: dict[str, Any]) -> None:
        self.rows.append(row)
        for name in self.fields:
            self.columns[name].append(values.get(name))

    def add_record(self, row: int, values: tuple[Any, ...]) -> None:
        """One record as a tuple in the order of ``fields``; cheaper than ``add``."""
        self.rows.append(row)
        self.records.append(values)

    def add_records(self, row: int, records: list[tuple[Any, ...]]) -> None:
        """Several records of one row (a task's annotations), each as for ``add_record``."""
        self.rows.extend([row] * len(records))
        self.records.extend(records)

    def count(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    def __len__(self) -> int:
        return len(self.rows)

    def take(self) -> RawChunk:
        columns: dict[str, Any] = self.columns
        if self.records:
            if any(self.columns[name] for name in self.fields):
                raise ValueError("a chunk is built with add or with add_record, not both")
            # Tuples, not lists: the checks turn each column into an Arrow array anyway.
            columns = dict(zip(self.fields, zip(*self.records, strict=True), strict=True))
        chunk = RawChunk(
            columns=columns,
            rows=self.rows,
            people=self.people,
            gold=self.gold,
            rejects=self.rejects,
            counts=self.counts,
        )
        self.reset()
        return chunk


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block.

    A reader builds hundreds of thousands of small records that live until their chunk is
    staged and form no cycles; each collection would walk all of them again, which costs
    more than the reading itself.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def paused_collector(chunks: Iterator[RawChunk]) -> Iterator[RawChunk]:
    """``chunks`` made with the collector paused, and running again while each is used."""
    while True:
        with collector_paused():
            chunk = next(chunks, None)
        if chunk is None:
            return
        yield chunk
