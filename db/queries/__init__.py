"""Queries by noun, one module each: ``from db.queries.people import list_teams``.

Keyword-only functions built with select() and bound parameters: ``get_`` one row,
``list_`` many, ``count_`` a number, ``load_*_frame`` a DataFrame.
"""
