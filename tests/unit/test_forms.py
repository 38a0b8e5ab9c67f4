"""The form library, validation messages and filter_data (no database)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from engine.errors import FieldError, FormDataInvalid, FormSchemaError, InvalidInput, NotFound
from engine.forms import (
    FormDefinition,
    FormLibrary,
    check_form_file,
    filter_data,
    raise_if_invalid,
    validate_form_data,
)
from engine.forms.validation import REQUIRED_FORMATS, format_checker

FORMS = Path(__file__).parents[1] / "fixtures" / "forms"
NTI = "notice-to-improve.schema.json"


@pytest.fixture
def library() -> FormLibrary:
    return FormLibrary(FORMS)


@pytest.fixture
def nti(library: FormLibrary) -> dict[str, Any]:
    return library.get(NTI).schema


def a_notice(**changes: Any) -> dict[str, Any]:
    """A complete, valid Notice-to-Improve submission, with ``changes`` applied."""
    answers = {
        "upn": "A123456789012",
        "issued_on": "2024-09-02",
        "unauthorised_sessions": 12,
        "outcome": "attendance_improved",
        "parents": [{"name": "Sam Jones", "relationship": "mother"}],
    }
    return {**answers, **changes}


def paths(errors: list[FieldError]) -> list[str]:
    return [e.path for e in errors]


def write(directory: Path, name: str, content: Any) -> Path:
    path = directory / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


# --- library --------------------------------------------------------------------------------------


def test_get_loads_schema_and_conventional_ui_schema(library: FormLibrary) -> None:
    form = library.get(NTI)

    assert form.ref == NTI
    assert form.title == "Notice to improve"
    assert form.ui_ref == "notice-to-improve.uischema.json"
    assert form.ui_schema is not None and form.ui_schema["reason"] == {"ui:widget": "textarea"}
    assert len(form.content_hash) == 64
    assert form.content_hash == library.get(NTI).content_hash


def test_content_hash_covers_the_ui_schema_and_ignores_key_order() -> None:
    plain = FormDefinition(ref="x.schema.json", schema={"type": "object", "title": "X"})
    reordered = FormDefinition(ref="x.schema.json", schema={"title": "X", "type": "object"})
    with_ui = FormDefinition(ref="x.schema.json", schema=plain.schema, ui_schema={"ui:order": []})

    assert plain.content_hash == reordered.content_hash
    assert plain.content_hash != with_ui.content_hash


def test_refs_and_list_skip_ui_schema_files(library: FormLibrary) -> None:
    assert library.refs() == [NTI, "penalty-notice-review.schema.json", "review-case.schema.json"]
    assert [form.ref for form in library.list()] == library.refs()


def test_unknown_ref_says_where_it_looked(library: FormLibrary) -> None:
    with pytest.raises(NotFound, match=r"no-such-form\.schema\.json") as caught:
        library.get("no-such-form.schema.json")
    assert str(FORMS) in caught.value.message


@pytest.mark.parametrize(
    "ref",
    ["../secrets.json", "..", "/etc/passwd.json", "forms/x.schema.json", "..\\x.json", "C:x.json", ""],
)
def test_refs_must_be_plain_file_names(library: FormLibrary, ref: str) -> None:
    with pytest.raises(InvalidInput):
        library.get(ref)


def test_later_directories_override_earlier_ones(library: FormLibrary, tmp_path: Path) -> None:
    write(tmp_path, NTI, {"type": "object", "title": "Local notice to improve"})
    local = FormLibrary([FORMS, tmp_path])

    form = local.get(NTI)

    assert form.title == "Local notice to improve"
    assert form.ui_ref == "notice-to-improve.uischema.json"  # still found in the earlier folder
    assert local.refs() == library.refs()


def test_explicit_ui_ref_must_exist(library: FormLibrary) -> None:
    with pytest.raises(NotFound, match=r"missing\.uischema\.json"):
        library.get(NTI, ui_ref="missing.uischema.json")


def test_get_ui_loads_a_ui_schema_on_its_own(library: FormLibrary, tmp_path: Path) -> None:
    assert library.get_ui("notice-to-improve.uischema.json")["outcome"] == {"ui:widget": "radio"}

    write(tmp_path, "layout.json", ["not", "an", "object"])
    with pytest.raises(FormSchemaError, match="UI schema must be a JSON object"):
        FormLibrary(tmp_path).get_ui("layout.json")


def test_shipped_forms_can_be_overridden() -> None:
    forms = FormLibrary.shipped(FORMS)

    assert forms.get(NTI).title == "Notice to improve"
    assert forms.directories[-1] == FORMS


def test_a_changed_file_is_reloaded(tmp_path: Path) -> None:
    write(tmp_path, "a.schema.json", {"type": "object"})
    forms = FormLibrary(tmp_path)
    first = forms.get("a.schema.json")

    write(tmp_path, "a.schema.json", {"type": "object", "title": "Changed"})

    assert forms.get("a.schema.json").content_hash != first.content_hash


def test_a_file_that_is_not_json_names_the_file_line_and_column() -> None:
    broken = FormLibrary(FORMS / "broken")

    with pytest.raises(FormSchemaError) as caught:
        broken.get("not-json.schema.json")

    assert "not-json.schema.json" in caught.value.message
    assert "line 6, column 3" in caught.value.message


def test_an_invalid_schema_names_the_file_and_the_place(tmp_path: Path) -> None:
    write(tmp_path, "nope.schema.json", {"type": "nope"})

    with pytest.raises(FormSchemaError, match=r"nope\.schema\.json: at #/type: 'nope' is not one of"):
        FormLibrary(tmp_path).get("nope.schema.json")


def test_check_form_file_lists_every_problem() -> None:
    assert check_form_file(FORMS / NTI) == []
    assert check_form_file(FORMS / "notice-to-improve.uischema.json") == []
    [problem] = check_form_file(FORMS / "broken" / "bad-type.schema.json")
    assert "at #/properties/outcome/type" in problem


def test_check_form_file_reports_dangling_and_remote_refs_and_other_drafts(tmp_path: Path) -> None:
    dangling = write(tmp_path, "d.schema.json", {"properties": {"a": {"$ref": "#/$defs/missing"}}})
    remote = write(tmp_path, "r.schema.json", {"$ref": "https://example.com/form.json"})
    draft7 = write(tmp_path, "o.schema.json", {"$schema": "http://json-schema.org/draft-07/schema#"})
    ui_list = write(tmp_path, "d.uischema.json", [])

    assert "names nothing in this file" in check_form_file(dangling)[0]
    assert "self-contained" in check_form_file(remote)[0]
    assert "Draft 2020-12" in check_form_file(draft7)[0]
    assert "must be a JSON object" in check_form_file(ui_list)[0]


# --- validation -----------------------------------------------------------------------------------


def test_a_complete_notice_is_valid(nti: dict[str, Any]) -> None:
    assert validate_form_data(nti, a_notice()) == []


def test_format_checkers_for_dates_times_and_emails_are_active() -> None:
    assert set(REQUIRED_FORMATS) <= set(format_checker().checkers)


@pytest.mark.parametrize("bad", ["2024-02-30", "02/09/2024", "2024-9-2", "2024-09-02T10:00:00Z"])
def test_bad_dates_are_rejected(nti: dict[str, Any], bad: str) -> None:
    errors = validate_form_data(nti, a_notice(issued_on=bad))

    assert errors == [
        FieldError("issued_on", "Enter Date the notice was issued as a date in the form YYYY-MM-DD")
    ]


@pytest.mark.parametrize("bad", ["2024-09-02", "2024-09-02T10:00:00", "2024-09-02 10:00Z", "tomorrow"])
def test_bad_date_times_are_rejected(nti: dict[str, Any], bad: str) -> None:
    errors = validate_form_data(nti, a_notice(meeting_at=bad, meeting_location="School office"))

    assert paths(errors) == ["meeting_at"]
    assert errors[0].message.startswith("Enter Support meeting as a date and time")


def test_date_time_with_an_offset_is_accepted(nti: dict[str, Any]) -> None:
    data = a_notice(meeting_at="2024-09-02T09:30:00+01:00", meeting_location="School office")

    assert validate_form_data(nti, data) == []


def test_plain_messages_without_a_title() -> None:
    schema = {
        "type": "object",
        "required": ["reason", "when"],
        "properties": {
            "reason": {"type": "string", "minLength": 3},
            "count": {"type": "integer", "minimum": 3},
            "when": {"type": "string", "format": "date"},
            "outcome": {"enum": ["uphold", "quash", "reconsider"]},
        },
    }

    errors = validate_form_data(schema, {"count": 1, "when": "soon", "outcome": "maybe"})

    assert errors == [
        FieldError("count", "Must be at least 3"),
        FieldError("outcome", "Select one of: uphold, quash, reconsider"),
        FieldError("reason", "This field is required"),
        FieldError("when", "Enter a date in the form YYYY-MM-DD"),
    ]


def test_missing_required_fields_are_reported_at_their_own_path(nti: dict[str, Any]) -> None:
    errors = validate_form_data(nti, {"upn": "A123456789012", "outcome": "attendance_improved"})

    assert errors == [
        FieldError("issued_on", "Date the notice was issued is required"),
        FieldError("parents", "Parents is required"),
        FieldError("unauthorised_sessions", "Unauthorised sessions in the last 10 school weeks is required"),
    ]


def test_enum_and_type_messages(nti: dict[str, Any]) -> None:
    errors = validate_form_data(nti, a_notice(outcome="appeal", unauthorised_sessions="twelve"))

    assert errors == [
        FieldError("outcome", "Outcome: select one of attendance_improved, penalty_notice, other"),
        FieldError(
            "unauthorised_sessions",
            "Unauthorised sessions in the last 10 school weeks must be a whole number",
        ),
    ]


def test_if_then_requires_a_reason_for_other(nti: dict[str, Any]) -> None:
    assert validate_form_data(nti, a_notice(outcome="other")) == [FieldError("reason", "Reason is required")]
    assert validate_form_data(nti, a_notice(outcome="other", reason="ab")) == [
        FieldError("reason", "Reason must be at least 3 characters")
    ]
    assert validate_form_data(nti, a_notice(outcome="other", reason="Moved school")) == []


def test_conditional_fields_inside_all_of(nti: dict[str, Any]) -> None:
    errors = validate_form_data(nti, a_notice(outcome="penalty_notice", penalty_notice_number="PN1"))

    assert errors == [
        FieldError("penalty_notice_number", "Penalty notice number must be at least 6 characters")
    ]


def test_dependent_required_reports_the_missing_field(nti: dict[str, Any]) -> None:
    errors = validate_form_data(nti, a_notice(meeting_at="2024-09-10T09:30:00Z"))

    assert errors == [FieldError("meeting_location", "Where the meeting will be held is required")]


def test_errors_in_an_array_of_parents_are_sorted_by_number(nti: dict[str, Any]) -> None:
    parents: list[dict[str, Any]] = [{"name": f"Parent {i}"} for i in range(12)]
    parents[2] = {}
    parents[10] = {"name": "Pat", "email": "not-an-email"}
    parents[1] = {"name": "Lee", "interpreter_needed": True, "interpreter_language": "x"}

    errors = validate_form_data(nti, a_notice(parents=parents))

    assert errors == [
        FieldError("parents.1.interpreter_language", "Language must be at least 2 characters"),
        FieldError("parents.2.name", "Full name is required"),
        FieldError(
            "parents.10.email",
            "Enter Email address as an email address in the correct format, like name@example.com",
        ),
    ]


def test_an_empty_list_and_an_emptied_text_box(nti: dict[str, Any]) -> None:
    errors = validate_form_data(nti, a_notice(parents=[{"name": ""}]))
    assert errors == [FieldError("parents.0.name", "Full name is required")]

    errors = validate_form_data(nti, a_notice(parents=[]))
    assert errors == [FieldError("parents", "Parents: add at least 1 entry")]


def test_error_message_overrides(nti: dict[str, Any]) -> None:
    errors = validate_form_data(nti, a_notice(upn="123", unauthorised_sessions=4))

    assert errors == [
        FieldError(
            "unauthorised_sessions",
            "A notice to improve needs at least 10 unauthorised sessions in 10 school weeks",
        ),
        FieldError("upn", "Enter a UPN: a capital letter followed by 12 characters, like A123456789012"),
    ]


def test_error_message_for_a_required_field(library: FormLibrary) -> None:
    review = library.get("penalty-notice-review.schema.json").schema

    assert validate_form_data(review, {}) == [
        FieldError("decision", "Select whether to uphold, quash or reconsider the notice")
    ]
    assert validate_form_data(review, {"decision": "ignore"}) == [
        FieldError("decision", "Decision: select one of uphold, quash, reconsider")
    ]


def test_error_message_per_property_on_the_parent() -> None:
    schema = {
        "type": "object",
        "required": ["reason"],
        "properties": {"reason": {"type": "string"}},
        "errorMessage": {"required": {"reason": "Say why the notice was withdrawn"}},
    }

    assert validate_form_data(schema, {}) == [FieldError("reason", "Say why the notice was withdrawn")]


def test_one_of_labelled_options_lists_the_labels() -> None:
    schema = {
        "properties": {
            "decision": {
                "title": "Decision",
                "oneOf": [{"const": "uphold", "title": "Uphold"}, {"const": "quash", "title": "Quash"}],
            }
        }
    }

    errors = validate_form_data(schema, {"decision": "appeal"})

    assert errors == [FieldError("decision", "Decision: select one of Uphold, Quash")]


def test_any_of_explains_the_branch_that_fits() -> None:
    schema = {
        "properties": {
            "closed_on": {
                "title": "Closed on",
                "anyOf": [{"type": "string", "format": "date"}, {"type": "null"}],
            }
        },
        "anyOf": [{"required": ["phone"]}, {"required": ["email"]}],
    }

    errors = validate_form_data(schema, {"closed_on": "31/12/2024"})

    assert errors == [
        FieldError("", "Answer at least one of: phone, email"),
        FieldError("closed_on", "Enter Closed on as a date in the form YYYY-MM-DD"),
    ]


def test_a_ref_to_a_missing_definition_is_a_schema_error() -> None:
    schema = {"properties": {"a": {"$ref": "#/$defs/missing"}}}

    with pytest.raises(FormSchemaError, match="broken-form"):
        validate_form_data(schema, {"a": 1}, form_ref="broken-form")


def test_remote_refs_are_never_fetched() -> None:
    schema = {"properties": {"a": {"$ref": "https://example.invalid/schema.json"}}}

    with pytest.raises(FormSchemaError, match=r"https://example\.invalid/schema\.json"):
        validate_form_data(schema, {"a": 1})


def test_raise_if_invalid(nti: dict[str, Any]) -> None:
    raise_if_invalid(nti, a_notice(), NTI)

    with pytest.raises(FormDataInvalid) as caught:
        raise_if_invalid(nti, a_notice(outcome="other"), NTI)

    assert caught.value.form == NTI
    assert caught.value.errors == [FieldError("reason", "Reason is required")]


# --- filter_data ----------------------------------------------------------------------------------


def test_filter_data_drops_undeclared_keys_at_every_level(nti: dict[str, Any]) -> None:
    task_data = a_notice(
        case_worker_notes="internal",
        sql_connection={"password": "x"},
        parents=[{"name": "Sam", "national_insurance": "QQ123456C", "interpreter_language": "Polish"}],
    )

    shown = filter_data(nti, task_data)

    assert shown == {**a_notice(), "parents": [{"name": "Sam", "interpreter_language": "Polish"}]}


def test_filter_data_keeps_conditional_fields(nti: dict[str, Any]) -> None:
    task_data = a_notice(outcome="penalty_notice", penalty_notice_number="PN-12345", reason="Holiday")

    assert filter_data(nti, task_data) == task_data


def test_filter_data_follows_combinators_defs_and_prefix_items() -> None:
    schema = {
        "$defs": {"address": {"properties": {"postcode": {"type": "string"}}}},
        "properties": {
            "home": {"$ref": "#/$defs/address"},
            "pair": {"prefixItems": [{"properties": {"a": {}}}], "items": {"properties": {"b": {}}}},
        },
        "oneOf": [{"properties": {"phone": {}}}, {"properties": {"email": {}}}],
        "anyOf": [{"properties": {"mobile": True, "fax": False}}],
    }
    data = {
        "home": {"postcode": "LS1 1AA", "line1": "1 Road"},
        "pair": [{"a": 1, "b": 2}, {"a": 3, "b": 4}],
        "phone": "0113",
        "email": "a@b.example",
        "mobile": "07",
        "fax": "01",
        "other": 1,
    }

    assert filter_data(schema, data) == {
        "home": {"postcode": "LS1 1AA"},
        "pair": [{"a": 1}, {"b": 4}],
        "phone": "0113",
        "email": "a@b.example",
        "mobile": "07",
    }


def test_filter_data_handles_recursive_refs() -> None:
    schema = {
        "$defs": {"node": {"properties": {"name": {}, "children": {"items": {"$ref": "#/$defs/node"}}}}},
        "$ref": "#/$defs/node",
    }
    data = {"name": "a", "x": 1, "children": [{"name": "b", "x": 2, "children": [{"name": "c", "x": 3}]}]}

    assert filter_data(schema, data) == {
        "name": "a",
        "children": [{"name": "b", "children": [{"name": "c"}]}],
    }


def test_filter_data_never_raises_and_never_aliases(nti: dict[str, Any]) -> None:
    task_data = a_notice()
    before = copy.deepcopy(task_data)

    shown = filter_data(nti, task_data)
    shown["parents"][0]["name"] = "changed"

    assert task_data == before
    assert filter_data(nti, None) == {}
    assert filter_data(nti, {"parents": "not a list", "issued_on": {"deep": 1}}) == {
        "parents": "not a list",
        "issued_on": {},
    }
    assert filter_data({"properties": {"a": {"$ref": "#/nowhere"}}}, {"a": {"b": 1}}) == {"a": {}}


def test_a_submission_never_changes_read_only_fields() -> None:
    from engine.forms import submitted_data

    schema = {
        "type": "object",
        "properties": {
            "case_summary": {"type": "string", "readOnly": True},
            "decision": {"type": "string"},
            "panel": {"type": "object", "properties": {"chair": {"type": "string", "readOnly": True},
                                                       "notes": {"type": "string"}}},
        },
    }
    sent = {"case_summary": "forged", "decision": "uphold", "panel": {"chair": "forged", "notes": "ok"}}
    assert submitted_data(schema, sent) == {"decision": "uphold", "panel": {"notes": "ok"}}
    assert filter_data(schema, sent) == sent  # what is *shown* still includes them
