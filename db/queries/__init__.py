"""Queries by noun, one module each: ``from db.queries.people import list_teams``.

Keyword-only functions built with select() and bound parameters: ``get_`` one row,
``list_`` many, ``count_`` a number, ``load_*_frame`` a DataFrame.
"""

# Kept for callers outside db/ that still import these from here.
from db.queries.projects import get_project as get_project
from db.queries.rollups import sum_rollups as sum_rollups
