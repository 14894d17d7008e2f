"""Errors that carry a message meant for the person who caused them."""

from __future__ import annotations


class AnnopsError(Exception):
    """Base class: the message is shown to the user as is."""


class ValidationError(AnnopsError):
    """Input that cannot be stored; ``field`` names what to fix."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(AnnopsError):
    """A named thing does not exist."""


class PermissionDenied(AnnopsError):
    """The acting user's role does not allow this."""


class ConflictError(AnnopsError):
    """Someone else changed the record since it was read."""


class LoginError(AnnopsError):
    """Login refused; the message says why (wrong password, locked until ...)."""
