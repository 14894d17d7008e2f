"""Which people a read may return, as one value every query applies the same way.

ops.permissions decides a principal's scope (the one rule); this module only turns it
into SQL, so no query writes its own version of "a lead sees only their team".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, false, select, true

from db.models import Annotator

ScopeKind = Literal["all", "team", "self", "none"]


@dataclass(frozen=True)
class PeopleScope:
    """Everyone, the annotators of one team, one annotator, or nobody.

    ``reason`` says, for a scope of nobody, why there is nobody to show.
    """

    kind: ScopeKind
    team_id: int | None = None
    annotator_id: int | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.kind == "team" and self.team_id is None:
            raise ValueError("a team scope needs a team_id")
        if self.kind == "self" and self.annotator_id is None:
            raise ValueError("a self scope needs an annotator_id")

    @property
    def everyone(self) -> bool:
        return self.kind == "all"

    @property
    def nobody(self) -> bool:
        return self.kind == "none"

    def covers(self, *, annotator_id: int | None, team_id: int | None) -> bool:
        """True when one annotator (with their team) is inside the scope, in Python."""
        if self.kind == "all":
            return True
        if self.kind == "team":
            return annotator_id is not None and team_id == self.team_id
        if self.kind == "self":
            return annotator_id is not None and annotator_id == self.annotator_id
        return False

    def where(self, annotator_id: Any) -> ColumnElement[bool]:
        """SQL condition: the annotator id in ``annotator_id`` (a column) is in scope."""
        if self.kind == "all":
            return true()
        if self.kind == "team":
            members = select(Annotator.id).where(Annotator.team_id == self.team_id)
            condition: ColumnElement[bool] = annotator_id.in_(members)
            return condition
        if self.kind == "self":
            same: ColumnElement[bool] = annotator_id == self.annotator_id
            return same
        return false()


EVERYONE = PeopleScope("all")
