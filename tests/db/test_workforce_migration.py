"""The workforce migration keeps existing calibration sessions and their labels."""

from __future__ import annotations

from sqlalchemy import text

from db.engine import make_engine
from db.migrate import check, downgrade, upgrade

CHILD_TABLES = ("calibration_items", "calibration_labels", "calibration_results")


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as connection:
        counts = {
            table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("calibration_sessions", *CHILD_TABLES)
        }
    engine.dispose()
    return counts


def test_calibration_rows_survive_upgrade_and_downgrade(fresh_database_url: str) -> None:
    url = fresh_database_url
    downgrade(url, "0002")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO annotators (display_name, status, tier, employment_type, is_linked,"
                " version_id, updated_at, created_at) VALUES ('Kim', 'active', 'annotator',"
                " 'employee', :yes, 1, :at, :at)"
            ),
            {"yes": True, "at": "2026-03-01 10:00:00+00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO calibration_sessions (name, held_at, discussion_notes, created_by,"
                " created_at) VALUES ('round 1', :at, 'notes', 'lead', :at)"
            ),
            {"at": "2026-03-02 09:30:00+00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO calibration_items (session_id, item_id, reference_label)"
                " VALUES (1, 'a', 'x')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO calibration_labels (session_id, annotator_id, item_id, label)"
                " VALUES (1, 1, 'a', 'x')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO calibration_results (session_id, annotator_id, agreement, n_items)"
                " VALUES (1, 1, 1.0, 1)"
            )
        )
    engine.dispose()
    expected = {"calibration_sessions": 1, **dict.fromkeys(CHILD_TABLES, 1)}

    upgrade(url)
    assert _counts(url) == expected
    engine = make_engine(url)
    with engine.connect() as connection:
        version, updated_by, same = connection.execute(
            text("SELECT version_id, updated_by, updated_at = created_at FROM calibration_sessions")
        ).one()
    engine.dispose()
    # An existing session was last changed when it was created, by whoever created it.
    assert (version, updated_by, bool(same)) == (1, "lead", True)
    check(url)

    downgrade(url, "0002")
    assert _counts(url) == expected
    upgrade(url)
    assert _counts(url) == expected
