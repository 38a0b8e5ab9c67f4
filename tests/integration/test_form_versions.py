"""Form versions in a real SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.db import Database
from engine.errors import NotFound
from engine.forms import (
    FormDefinition,
    FormLibrary,
    definition_of,
    get_form_version,
    latest_form_version,
    register_form_version,
)
from engine.models import FormVersion

FORMS = Path(__file__).parents[1] / "fixtures" / "forms"
NTI = "notice-to-improve.schema.json"
MONDAY = datetime(2024, 9, 2, 9, 0, tzinfo=UTC)
TUESDAY = datetime(2024, 9, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/t.sqlite")
    database.create_all()
    yield database
    database.dispose()


@pytest.fixture
def notice() -> FormDefinition:
    return FormLibrary(FORMS).get(NTI)


def changed(form: FormDefinition) -> FormDefinition:
    schema = {**form.schema, "title": "Notice to improve (2025 guidance)"}
    return FormDefinition(ref=form.ref, schema=schema, ui_schema=form.ui_schema, ui_ref=form.ui_ref)


def test_first_registration_is_version_one(db: Database, notice: FormDefinition) -> None:
    with db.transaction() as session:
        row = register_form_version(session, notice, now=MONDAY)

    assert (row.form_ref, row.version, row.previous_id) == (NTI, 1, None)
    assert row.content_hash == notice.content_hash
    assert row.ui_schema_ref == "notice-to-improve.uischema.json"
    assert row.created_at == MONDAY


def test_same_content_twice_gives_the_same_row(db: Database, notice: FormDefinition) -> None:
    with db.transaction() as session:
        first = register_form_version(session, notice, now=MONDAY)
    with db.transaction() as session:
        again = register_form_version(session, FormLibrary(FORMS).get(NTI), now=TUESDAY)

    assert again.id == first.id
    assert again.created_at == MONDAY


def test_changed_content_is_the_next_version_pointing_back(db: Database, notice: FormDefinition) -> None:
    with db.transaction() as session:
        first = register_form_version(session, notice, now=MONDAY)
    with db.transaction() as session:
        second = register_form_version(session, changed(notice), now=TUESDAY)

    assert (second.version, second.previous_id) == (2, first.id)
    with db.transaction() as session:
        latest = latest_form_version(session, NTI)
        assert latest is not None and latest.id == second.id
        assert get_form_version(session, first.id).schema == notice.schema


def test_going_back_to_old_content_reuses_the_old_version(db: Database, notice: FormDefinition) -> None:
    with db.transaction() as session:
        first = register_form_version(session, notice, now=MONDAY)
        register_form_version(session, changed(notice), now=TUESDAY)
        back = register_form_version(session, notice, now=TUESDAY)

    assert back.id == first.id


def test_versions_are_numbered_per_form(db: Database, notice: FormDefinition) -> None:
    review = FormLibrary(FORMS).get("penalty-notice-review.schema.json")
    with db.transaction() as session:
        register_form_version(session, notice, now=MONDAY)
        register_form_version(session, changed(notice), now=MONDAY)
        other = register_form_version(session, review, now=MONDAY)

    assert (other.version, other.previous_id) == (1, None)


def test_a_stored_version_gives_back_its_definition(db: Database, notice: FormDefinition) -> None:
    with db.transaction() as session:
        row = register_form_version(session, notice, now=MONDAY)
    with db.transaction() as session:
        stored = definition_of(get_form_version(session, row.id))

    assert stored == notice


def test_lookups_of_missing_versions(db: Database) -> None:
    with db.transaction() as session:
        assert latest_form_version(session, "never-registered.schema.json") is None
        with pytest.raises(NotFound, match="999"):
            get_form_version(session, 999)


def test_naive_times_are_refused(db: Database, notice: FormDefinition) -> None:
    with db.transaction() as session, pytest.raises(ValueError, match="UTC offset"):
        register_form_version(session, notice, now=datetime(2024, 9, 2, 9, 0))


def test_losing_a_race_returns_the_winners_row(
    db: Database, notice: FormDefinition, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.forms import versions

    with db.transaction() as session:
        winner = register_form_version(session, notice, now=MONDAY)
    real_lookup = versions._by_hash
    calls = iter([None])  # the first look-up misses, as if the winner had not committed yet
    monkeypatch.setattr(versions, "_by_hash", lambda *args: next(calls, real_lookup(*args)))
    monkeypatch.setattr(versions, "latest_form_version", lambda *args: None)

    with db.transaction() as session:
        loser = register_form_version(session, notice, now=TUESDAY)
        assert loser.id == winner.id
        assert len(session.scalars(select(FormVersion)).all()) == 1
