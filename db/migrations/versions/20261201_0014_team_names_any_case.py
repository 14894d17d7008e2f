"""team names unique without regard to case: a unique index on lower(name)

Until now only the check in ops/teams.py kept "Night shift" and "night SHIFT" from being
two teams, so two writers adding them at the same instant could both succeed. The index
refuses the second. Teams whose names already differ only in case stop the upgrade, naming
them, until all but one of each are renamed.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 18:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.migrate import MigrationRefused

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_teams_lower_name"


def upgrade() -> None:
    """Upgrade schema."""
    _refuse_case_duplicates()
    op.create_index(INDEX, "teams", [sa.text("lower(name)")], unique=True)


def _refuse_case_duplicates() -> None:
    """Stop with the names to fix when two teams differ only in case."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT lower(name), name FROM teams WHERE lower(name) IN "
            "(SELECT lower(name) FROM teams GROUP BY lower(name) HAVING count(*) > 1) "
            "ORDER BY lower(name), id"
        )
    )
    clashes: dict[str, list[str]] = {}
    for folded, name in rows:
        clashes.setdefault(folded, []).append(repr(name))
    if clashes:
        groups = "; ".join(f"{', '.join(names[:-1])} and {names[-1]}" for names in clashes.values())
        raise MigrationRefused(
            "team names become unique without regard to case, but these differ only in case: "
            f"{groups}. Rename all but one of each (annops team rename takes the exact name, "
            'e.g. annops team rename "night SHIFT" "Night shift 2") and run the upgrade again.'
        )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(INDEX, table_name="teams")
