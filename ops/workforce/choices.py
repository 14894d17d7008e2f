"""The fixed vocabularies of the workforce records, for forms to offer."""

from __future__ import annotations

from db.models import (
    ANNOTATOR_STATUSES,
    ASSIGNMENT_ROLES,
    EMPLOYMENT_TYPES,
    FEEDBACK_CATEGORIES,
    PAY_BASES,
    TIERS,
    TRAINING_KINDS,
)

__all__ = [
    "ANNOTATOR_STATUSES",
    "ASSIGNMENT_ROLES",
    "EMPLOYMENT_TYPES",
    "FEEDBACK_CATEGORIES",
    "PAY_BASES",
    "TIERS",
    "TRAINING_KINDS",
]
