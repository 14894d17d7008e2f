"""Identities: the shape of an e-mail and of a platform name, and the identities imports
could not match to a person (list them, merge them into a person, or accept them)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from db.models import Annotator, AnnotatorIdentity, utcnow
from db.queries.events import reassign_events
from db.queries.imports import lock_imports
from db.queries.people import (
    UnlinkedIdentity,
    list_annotators_by_email,
    list_identities,
    list_linked_annotators,
    list_unlinked_identities,
)
from ops import audit, rollups
from ops.errors import NotFound, ValidationError
from ops.permissions import Principal, require

# No colon before the @, so ``platform:id`` is never read as an e-mail.
EMAIL_PATTERN = re.compile(r"^[^@\s:]+@[^@\s]+\.[^@\s]+$")
# A platform's short lower-case name: labelstudio, cvat, vendor-x.
_PLATFORM = r"[a-z][a-z0-9_.-]{0,39}"
PLATFORM_PATTERN = re.compile(rf"^{_PLATFORM}$")
# A person as an import names them: ``platform:id``.
IDENTITY_KEY_PATTERN = re.compile(rf"^{_PLATFORM}:.+$")


@dataclass(frozen=True)
class LinkTarget:
    """An annotator an identity can be linked to."""

    annotator_id: int
    label: str


def list_unlinked(session: Session, principal: Principal) -> list[UnlinkedIdentity]:
    """Identities waiting for an ops manager, with the work each carries."""
    require(principal, "identity.link")
    return list_unlinked_identities(session)


def list_link_targets(session: Session, principal: Principal) -> list[LinkTarget]:
    """People in the pool an identity can belong to."""
    require(principal, "identity.link")
    return [
        LinkTarget(
            annotator.annotator_id,
            f"{annotator.display_name} <{annotator.email}>"
            if annotator.email
            else annotator.display_name,
        )
        for annotator in list_linked_annotators(session)
    ]


def _unlinked_identity(session: Session, identity_id: int) -> tuple[AnnotatorIdentity, Annotator]:
    identity = session.get(AnnotatorIdentity, identity_id)
    if identity is None:
        raise NotFound(f"No identity with id {identity_id}.")
    placeholder = session.get(Annotator, identity.annotator_id)
    assert placeholder is not None
    if placeholder.is_linked or placeholder.merged_into_id is not None:
        raise ValidationError(
            f"Identity {identity.platform}:{identity.external_id} is already linked to "
            f"{placeholder.display_name}.",
            field="identity",
        )
    return identity, placeholder


def merge_unlinked_identity(
    session: Session, principal: Principal, *, identity_id: int, annotator_id: int
) -> int:
    """Merge an unlinked identity into a person in the pool; returns the events moved.

    The work imported under the identity moves to that person, and the annotator
    the import created for it is archived as merged into them; the rollups follow in
    the same transaction.
    """
    require(principal, "identity.link")
    # Moved events get new ids. Holding the import lock from before they are written
    # until commit keeps a rollup from passing those ids while they are invisible, and
    # keeps an import from filing work under the identity's old annotator meanwhile.
    lock_imports(session)
    identity, placeholder = _unlinked_identity(session, identity_id)
    target = session.get(Annotator, annotator_id)
    if target is None or target.archived_at is not None or not target.is_linked:
        raise ValidationError(
            f"Annotator {annotator_id} is not a linked, active person to link to.",
            field="annotator",
        )
    before = {
        "annotator_id": placeholder.id,
        "annotator": placeholder.display_name,
        "platform": identity.platform,
        "external_id": identity.external_id,
        "email": identity.email,
    }
    session.flush()
    moved = reassign_events(session, from_annotator_id=placeholder.id, to_annotator_id=target.id)
    for other in list_identities(session, annotator_ids=[placeholder.id]):
        other.annotator_id = target.id
    placeholder.merged_into_id = target.id
    placeholder.archived_at = utcnow()
    placeholder.updated_by = principal.username
    session.flush()
    rollups.refresh(session)
    audit.record(
        session,
        principal,
        "identity.link",
        ("annotator_identities", identity.id),
        before=before,
        after={
            "annotator_id": target.id,
            "annotator": target.display_name,
            "events_moved": moved,
        },
    )
    session.flush()
    return moved


def accept_as_new_annotator(session: Session, principal: Principal, *, identity_id: int) -> None:
    """Confirm that an unlinked identity is a new person in the pool."""
    require(principal, "identity.link")
    identity, placeholder = _unlinked_identity(session, identity_id)
    before = audit.snapshot(placeholder)
    placeholder.is_linked = True
    email = identity.email
    if (
        email
        and placeholder.email is None
        and not list_annotators_by_email(session, emails=[email], include_archived=True)
    ):
        placeholder.email = email
    placeholder.updated_by = principal.username
    audit.record(session, principal, "identity.accept", placeholder, before=before)
