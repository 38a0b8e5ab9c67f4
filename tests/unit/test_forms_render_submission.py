"""Reading submitted forms back into JSON: what a browser posts for a rendered form parses back into
the data it showed; typed answers that cannot be read become field errors; "Add another" and "Remove"
work without JavaScript; hidden conditional answers are dropped. Every form in the library renders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from werkzeug.datastructures import MultiDict

from engine.forms import FormLibrary
from webapp.forms_render import check_submission, parse_form, render_form

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "forms"
NTI = json.loads((FIXTURES / "notice-to-improve.schema.json").read_text())
NTI_UI = json.loads((FIXTURES / "notice-to-improve.uischema.json").read_text())
REVIEW = json.loads((FIXTURES / "review-case.schema.json").read_text())


def browser_post(html: str, pressed: tuple[str, str] | None = None) -> MultiDict[str, str]:
    """What a browser submits for this form: successful controls in document order, textareas with
    CRLF line breaks, and the name/value of the button pressed (if any)."""
    soup = BeautifulSoup(html, "html.parser")
    fields: list[tuple[str, str]] = []
    for control in soup.find_all(["input", "select", "textarea"]):
        name = control.get("name")
        if not name or control.has_attr("disabled"):
            continue
        if control.name == "textarea":
            fields.append((name, control.get_text().replace("\n", "\r\n")))
        elif control.name == "select":
            options = control.find_all("option")
            chosen = [o for o in options if o.has_attr("selected")] or options[:1]
            fields.append((name, chosen[0].get("value", "")))
        elif control.get("type") in ("checkbox", "radio"):
            if control.has_attr("checked"):
                fields.append((name, control.get("value", "on")))
        elif control.get("type") not in ("submit", "button", "reset", "image", "file"):
            fields.append((name, control.get("value", "")))
    return MultiDict([*fields, *([pressed] if pressed else [])])


def shown(schema: dict[str, Any], ui: dict[str, Any] | None, data: dict[str, Any]) -> str:
    return str(render_form(schema, ui, data))


def a_notice(**changes: Any) -> dict[str, Any]:
    answers = {
        "upn": "A123456789012",
        "issued_on": "2024-09-02",
        "improvement_period_ends_on": "2024-11-15",
        "unauthorised_sessions": 12,
        "meeting_at": "2024-09-10T14:30:00+01:00",
        "meeting_location": "Anytown Primary",
        "outcome": "other",
        "reason": "Moved out of area.\nNew school not known.",
        "parents": [
            {"name": "Sam Jones", "relationship": "mother", "email": "sam@example.com"},
            {"name": "Ana Nowak", "interpreter_needed": True, "interpreter_language": "Polish"},
        ],
    }
    return {**answers, **changes}


# --- round trips ----------------------------------------------------------------------------------


def test_notice_to_improve_round_trips() -> None:
    data = a_notice()
    parsed = parse_form(NTI, NTI_UI, browser_post(shown(NTI, NTI_UI, data)))
    assert parsed.data == data
    assert parsed.errors == [] and parsed.action is None
    assert check_submission(NTI, parsed) == []


EVERY_KIND = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "email": {"type": "string", "format": "email"},
        "site": {"type": "string", "format": "uri"},
        "notes": {"type": "string", "maxLength": 1000},
        "count": {"type": "integer"},
        "hours": {"type": "number"},
        "whole_hours": {"type": "number"},
        "on": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "code": {"type": "integer", "enum": [10, 20, 30, 40, 50, 60, 70]},
        "level": {"type": "string", "enum": ["low", "high"]},
        "reasons": {"type": "array", "items": {"enum": ["a", "b", "c"]}},
        "agreed": {"type": "boolean"},
        "refused": {"type": "boolean"},
        "visited": {"type": "boolean"},
        "school": {"type": "object", "properties": {"name": {"type": "string"}, "urn": {"type": "integer"}}},
        "phones": {"type": "array", "items": {"type": "string", "title": "Phone"}},
        "contacts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "seen_on": {"type": "string", "format": "date"},
                    "numbers": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
EVERY_KIND_UI = {"visited": {"ui:widget": "radio"}}


def test_every_kind_of_answer_round_trips() -> None:
    data = {
        "name": "Sam",
        "email": "sam@example.com",
        "site": "https://example.com/a?b=c",
        "notes": "line 1\nline 2",
        "count": -3,
        "hours": 12.5,
        "whole_hours": 12,
        "on": "2024-02-29",
        "at": "2024-12-24T23:59:00+00:00",
        "code": 40,
        "level": "high",
        "reasons": ["a", "c"],
        "agreed": True,
        "refused": False,
        "visited": False,
        "school": {"name": "Anytown", "urn": 100001},
        "phones": ["0123", "0456"],
        "contacts": [{"name": "A", "seen_on": "2025-01-02", "numbers": ["1", "2"]}, {"name": "B"}],
    }
    parsed = parse_form(EVERY_KIND, EVERY_KIND_UI, browser_post(shown(EVERY_KIND, EVERY_KIND_UI, data)))
    assert parsed.errors == []
    assert parsed.data == data


def test_empty_answers_are_left_out() -> None:
    parsed = parse_form(EVERY_KIND, EVERY_KIND_UI, browser_post(shown(EVERY_KIND, EVERY_KIND_UI, {})))
    assert parsed.data == {"agreed": False, "refused": False}
    spaces = MultiDict({"name": "   ", "count": " ", "on-day": "", "on-month": " ", "on-year": ""})
    assert parse_form(EVERY_KIND, EVERY_KIND_UI, spaces).data == {"agreed": False, "refused": False}


def test_numbers_accept_commas_and_keep_their_type() -> None:
    posted = MultiDict({"count": "1,000", "hours": "7.25", "whole_hours": " 8 "})
    assert parse_form(EVERY_KIND, EVERY_KIND_UI, posted).data == {
        "count": 1000,
        "hours": 7.25,
        "whole_hours": 8,
        "agreed": False,
        "refused": False,
    }


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "Count must be a whole number"),
        ("12.5", "Count must be a whole number"),
        ("1e3", "Count must be a whole number"),
    ],
)
def test_numbers_that_cannot_be_read_are_errors_with_the_text_kept(typed: str, message: str) -> None:
    parsed = parse_form(EVERY_KIND, None, MultiDict({"count": typed}))
    assert [(e.path, e.message) for e in parsed.errors] == [("count", message)]
    assert "count" not in parsed.data
    soup = BeautifulSoup(
        str(render_form(EVERY_KIND, None, errors=parsed.errors, parsed=parsed)), "html.parser"
    )
    assert soup.select_one("input#count")["value"] == typed


# --- dates ----------------------------------------------------------------------------------------


def review_post(day: str, month: str, year: str) -> MultiDict[str, str]:
    return MultiDict(
        {"outcome": "support", "reviewed_on-day": day, "reviewed_on-month": month, "reviewed_on-year": year}
    )


@pytest.mark.parametrize(
    ("day", "month", "year", "message", "parts"),
    [
        ("31", "2", "2024", "Date of review must be a real date", ("day",)),
        ("30", "13", "2024", "Date of review must be a real date", ("month",)),
        ("1", "2", "24", "Date of review must be a real date", ("year",)),
        ("x", "2", "2024", "Date of review must be a real date", ("day",)),
        ("1", "", "2024", "Date of review must include a month", ("month",)),
        ("", "", "2024", "Date of review must include a day and month", ("day", "month")),
    ],
)
def test_dates_that_cannot_be_read_are_field_errors(
    day: str, month: str, year: str, message: str, parts: tuple[str, ...]
) -> None:
    parsed = parse_form(REVIEW, None, review_post(day, month, year))
    assert [(e.path, e.message) for e in parsed.errors] == [("reviewed_on", message)]
    assert parsed.raw[("reviewed_on",)].bad_parts == parts
    assert parsed.raw[("reviewed_on",)].value == {"day": day, "month": month, "year": year}
    # the schema's own "is required" is not added on top of the typed date's problem
    assert [e.message for e in check_submission(REVIEW, parsed)] == [message]


def test_dates_accept_month_names_and_leading_zeros() -> None:
    assert parse_form(REVIEW, None, review_post("02", "Sept", "2024")).data["reviewed_on"] == "2024-09-02"
    assert parse_form(REVIEW, None, review_post("2", "march", "2025")).data["reviewed_on"] == "2025-03-02"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("14:30", "2024-07-01T14:30:00+01:00"),
        ("2:30pm", "2024-07-01T14:30:00+01:00"),
        ("9am", "2024-07-01T09:00:00+01:00"),
        ("midday", "2024-07-01T12:00:00+01:00"),
    ],
)
def test_date_times_are_read_as_uk_time(typed: str, stored: str) -> None:
    posted = MultiDict({"at-day": "1", "at-month": "7", "at-year": "2024", "at-time": typed})
    assert parse_form(EVERY_KIND, None, posted).data["at"] == stored


def test_date_time_without_a_real_time_is_an_error() -> None:
    posted = MultiDict({"at-day": "1", "at-month": "7", "at-year": "2024", "at-time": "25:00"})
    parsed = parse_form(EVERY_KIND, None, posted)
    assert [(e.path, e.message) for e in parsed.errors] == [("at", "At must be a real time")]


def test_validation_messages_follow_the_unreadable_ones() -> None:
    parsed = parse_form(
        NTI,
        NTI_UI,
        MultiDict(
            {
                "issued_on-day": "40",
                "issued_on-month": "1",
                "issued_on-year": "2024",
                "unauthorised_sessions": "3",
            }
        ),
    )
    errors = {e.path: e.message for e in check_submission(NTI, parsed)}
    assert errors["issued_on"] == "Date the notice was issued must be a real date"
    assert (
        errors["unauthorised_sessions"]
        == "A notice to improve needs at least 10 unauthorised sessions in 10 school weeks"
    )
    assert errors["upn"] == "Enter a UPN: a capital letter followed by 12 characters, like A123456789012"
    assert next(iter(errors)) == "issued_on"


# --- choices --------------------------------------------------------------------------------------


def test_an_option_the_form_does_not_offer_is_an_error() -> None:
    parsed = parse_form(REVIEW, None, MultiDict({"outcome": "<b>made up</b>"}))
    assert [(e.path, e.message) for e in parsed.errors] == [
        ("outcome", "Outcome must be one of the options listed")
    ]
    tampered = parse_form(EVERY_KIND, None, MultiDict([("reasons", "a"), ("reasons", "zzz")]))
    assert [e.path for e in tampered.errors] == ["reasons"] and "reasons" not in tampered.data


# --- conditional answers --------------------------------------------------------------------------


def test_answers_under_a_radio_that_is_not_chosen_are_dropped() -> None:
    html = shown(NTI, NTI_UI, a_notice(outcome="other", penalty_notice_number="PN123456"))
    changed = browser_post(html)
    changed["outcome"] = "attendance_improved"  # the person changed their mind: the reason is hidden
    data = parse_form(NTI, NTI_UI, changed).data
    assert data["outcome"] == "attendance_improved"
    assert "reason" not in data and "penalty_notice_number" not in data


def test_an_unticked_checkbox_that_reveals_answers_is_not_answered() -> None:
    html = shown(NTI, NTI_UI, a_notice())
    posted = browser_post(html)
    posted.poplist("parents.1.interpreter_needed")
    parent = parse_form(NTI, NTI_UI, posted).data["parents"][1]
    assert parent == {"name": "Ana Nowak"}


# --- repeating sections ---------------------------------------------------------------------------


def test_add_another_is_an_action_that_keeps_the_answers() -> None:
    html = shown(NTI, NTI_UI, a_notice())
    parsed = parse_form(NTI, NTI_UI, browser_post(html, ("_action", "add:parents")))
    assert parsed.action is not None and (parsed.action.verb, parsed.action.path) == ("add", ("parents",))
    assert parsed.data == a_notice()
    again = BeautifulSoup(str(render_form(NTI, NTI_UI, parsed=parsed)), "html.parser")
    assert [x["id"] for x in again.select("input[id$=-name]")] == [
        "parents-0-name",
        "parents-1-name",
        "parents-2-name",
    ]
    assert again.select_one("[autofocus]")["id"] == "parents-2-name"


def test_remove_takes_out_the_item_and_renumbers_the_rest() -> None:
    data = a_notice(parents=[{"name": "A"}, {"name": "B"}, {"name": "C"}])
    parsed = parse_form(NTI, NTI_UI, browser_post(shown(NTI, NTI_UI, data), ("_action", "remove:parents.1")))
    assert parsed.action is not None and parsed.action.verb == "remove"
    assert parsed.data["parents"] == [{"name": "A"}, {"name": "C"}]
    again = BeautifulSoup(str(render_form(NTI, NTI_UI, parsed=parsed)), "html.parser")
    assert [x["value"] for x in again.select("input[id$=-name]")] == ["A", "C"]


def test_blank_items_are_dropped_and_errors_follow_their_item() -> None:
    posted = MultiDict(
        {
            "contacts.0.name": "",
            "contacts.1.name": "B",
            "contacts.1.seen_on-day": "31",
            "contacts.1.seen_on-month": "9",
            "contacts.1.seen_on-year": "2024",
        }
    )
    parsed = parse_form(EVERY_KIND, None, posted)
    assert parsed.data["contacts"] == [{"name": "B"}]
    assert [(e.path, e.message) for e in parsed.errors] == [
        ("contacts.0.seen_on", "Seen on must be a real date")
    ]
    again = BeautifulSoup(
        str(render_form(EVERY_KIND, None, errors=parsed.errors, parsed=parsed)), "html.parser"
    )
    assert again.select_one("input#contacts-0-seen_on-day")["value"] == "31"
    assert again.select_one(".govuk-error-summary a")["href"] == "#contacts-0-seen_on-day"


def test_nested_add_follows_its_item_when_an_earlier_one_is_dropped() -> None:
    posted = MultiDict({"contacts.0.name": "", "contacts.1.name": "B", "_action": "add:contacts.1.numbers"})
    parsed = parse_form(EVERY_KIND, None, posted)
    assert parsed.action is not None and parsed.action.path == ("contacts", 0, "numbers")


def test_read_only_answers_keep_their_value_whatever_is_posted() -> None:
    schema = {
        "type": "object",
        "properties": {"upn": {"type": "string", "readOnly": True}, "note": {"type": "string"}},
    }
    parsed = parse_form(schema, None, MultiDict({"upn": "FORGED", "note": "hi"}), current={"upn": "A123"})
    assert parsed.data == {"upn": "A123", "note": "hi"}


# --- the form library -----------------------------------------------------------------------------


def library_forms() -> list[tuple[Path, str]]:
    found = []
    for folder in (ROOT / "form_library", FIXTURES):
        found += [(folder, ref) for ref in FormLibrary(folder).refs()]
    return found


@pytest.mark.parametrize(
    ("folder", "ref"), library_forms(), ids=lambda value: str(getattr(value, "name", value))
)
def test_every_library_form_renders_and_reads_back(folder: Path, ref: str) -> None:
    definition = FormLibrary(folder).get(ref)
    rendered = render_form(definition.schema, definition.ui_schema)
    soup = BeautifulSoup(str(rendered), "html.parser")
    ids = [element["id"] for element in soup.select("[id]")]
    assert len(ids) == len(set(ids)), "ids must be unique"
    assert all(
        soup.select(f"label[for='{field['id']}']")
        for field in soup.select("input[type=text], textarea, select")
    )
    parsed = parse_form(definition.schema, definition.ui_schema, browser_post(str(rendered)))
    errors = check_submission(definition.schema, parsed, form_ref=ref)
    again = BeautifulSoup(
        str(render_form(definition.schema, definition.ui_schema, errors=errors, parsed=parsed)), "html.parser"
    )
    assert len(again.select(".govuk-error-summary li")) == len(errors)
