"""Form versions: each distinct content of a form is stored once, so every submission can name the
exact schema it was checked against, even after the file changes.
"""

from __future__ import annotations

import copy
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.clock import as_utc
from engine.errors import Conflict, NotFound
from engine.models.forms import FormVersion

from .library import FormDefinition


def register_form_version(session: Session, definition: FormDefinition, *, now: datetime) -> FormVersion:
    """The stored version of ``definition``: the existing row when this content is known for the ref,
    otherwise a new row numbered one past the latest and pointing back to it.
    """
    existing = _by_hash(session, definition.ref, definition.content_hash)
    if existing is not None:
        return existing
    previous = latest_form_version(session, definition.ref)
    row = FormVersion(
        form_ref=definition.ref,
        version=previous.version + 1 if previous else 1,
        content_hash=definition.content_hash,
        # Copies: the definition's dicts may be shared with the library's cache.
        schema=copy.deepcopy(definition.schema),
        ui_schema_ref=definition.ui_ref,
        ui_schema=copy.deepcopy(definition.ui_schema),
        created_at=as_utc(now),
        previous_id=previous.id if previous else None,
    )
    try:
        with session.begin_nested():  # a savepoint, so losing a race leaves the transaction usable
            session.add(row)
    except IntegrityError:
        # Another process registered a version of this form between our read and our write.
        winner = _by_hash(session, definition.ref, definition.content_hash)
        if winner is not None:
            return winner
        raise Conflict(
            f"Another version of form '{definition.ref}' was registered at the same time; try again",
            ref=definition.ref,
        )
    return row


def latest_form_version(session: Session, ref: str) -> FormVersion | None:
    """The highest-numbered version of form ``ref``, or None if it has never been registered."""
    query = (
        select(FormVersion).where(FormVersion.form_ref == ref).order_by(FormVersion.version.desc()).limit(1)
    )
    return session.scalars(query).first()


def get_form_version(session: Session, version_id: int) -> FormVersion:
    """The form version with id ``version_id``; raises :class:`NotFound` when there is none."""
    row = session.get(FormVersion, version_id)
    if row is None:
        raise NotFound(f"No form version with id {version_id}", form_version_id=version_id)
    return row


def definition_of(version: FormVersion) -> FormDefinition:
    """The :class:`FormDefinition` a stored version holds (to validate against what was shown)."""
    return FormDefinition(
        ref=version.form_ref,
        schema=version.schema,
        ui_schema=version.ui_schema,
        ui_ref=version.ui_schema_ref,
    )


def _by_hash(session: Session, ref: str, content_hash: str) -> FormVersion | None:
    query = select(FormVersion).where(FormVersion.form_ref == ref, FormVersion.content_hash == content_hash)
    return session.scalars(query).one_or_none()
