"""Rendering JSON Schema forms as GOV.UK components: one test per component, errors, conditional
reveals, repeating sections, ui:order, read-only and hidden fields, and escaping (no Flask)."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag

from engine.errors import FieldError
from webapp.forms_render import ParsedForm, RawAnswer, render_form
from webapp.forms_render.parse import FormAction


def form(required: tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    """A form schema with these properties."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "A form",
        "type": "object",
        "required": list(required),
        "properties": properties,
    }


def page(
    schema: dict[str, Any], ui: dict[str, Any] | None = None, data: Any = None, **kwargs: Any
) -> BeautifulSoup:
    rendered = render_form(schema, ui, data, **kwargs)
    return BeautifulSoup(str(rendered), "html.parser")


def one(soup: BeautifulSoup | Tag, selector: str) -> Tag:
    found = soup.select(selector)
    assert len(found) == 1, f"{selector}: {len(found)} found"
    return found[0]


def text(element: Tag) -> str:
    return " ".join(element.get_text().split())


# --- components ---------------------------------------------------------------------------------


def test_text_input_has_label_id_name_value_and_optional_marker() -> None:
    soup = page(
        form(("upn",), upn={"type": "string", "title": "UPN"}, notes={"type": "string"}), data={"upn": "A1"}
    )
    upn = one(soup, "input#upn")
    assert upn["name"] == "upn" and upn["value"] == "A1" and upn["type"] == "text"
    assert "govuk-input" in upn["class"]
    assert text(one(soup, "label[for=upn]")) == "UPN"
    assert text(one(soup, "label[for=notes]")) == "Notes (optional)"


def test_hint_comes_from_description_and_ui_help() -> None:
    schema = form(name={"type": "string", "description": "As on the birth certificate."})
    soup = page(schema, {"name": {"ui:help": "Include middle names."}})
    hint = one(soup, "#name-hint")
    assert text(hint) == "As on the birth certificate. Include middle names."
    assert one(soup, "input#name")["aria-describedby"] == "name-hint"


@pytest.mark.parametrize(("fmt", "kind"), [("email", "email"), ("uri", "url")])
def test_email_and_uri_formats_choose_the_input_type(fmt: str, kind: str) -> None:
    field = one(page(form(x={"type": "string", "format": fmt})), "input#x")
    assert field["type"] == kind and field["spellcheck"] == "false"


def test_long_text_is_a_textarea_with_a_character_count() -> None:
    soup = page(form(notes={"type": "string", "maxLength": 2000}), data={"notes": "one\ntwo"})
    group = one(soup, "[data-module=govuk-character-count]")
    assert group["data-maxlength"] == "2000"
    area = one(soup, "textarea#notes")
    assert "govuk-js-character-count" in area["class"] and area.get_text() == "one\ntwo"
    assert "You can enter up to 2000 characters" in text(one(soup, "#notes-info"))


def test_ui_widget_textarea_without_a_limit_is_a_plain_textarea() -> None:
    soup = page(
        form(reason={"type": "string"}), {"reason": {"ui:widget": "textarea", "ui:options": {"rows": 8}}}
    )
    area = one(soup, "textarea#reason")
    assert area["rows"] == "8" and not soup.select("[data-module=govuk-character-count]")


def test_short_max_length_stays_a_text_input() -> None:
    assert one(page(form(ref={"type": "string", "maxLength": 20})), "input#ref")


@pytest.mark.parametrize(("kind", "mode"), [("integer", "numeric"), ("number", "decimal")])
def test_numbers_use_a_text_input_with_an_inputmode(kind: str, mode: str) -> None:
    field = one(page(form(n={"type": kind}), data={"n": 12}), "input#n")
    assert field["type"] == "text" and field["inputmode"] == mode and field["value"] == "12"


def test_date_input_has_day_month_and_year_boxes() -> None:
    soup = page(
        form(on={"type": "string", "format": "date", "title": "Date of review"}), data={"on": "2024-09-02"}
    )
    assert text(one(soup, "legend")) == "Date of review (optional)"
    boxes = {box["id"]: (box["name"], box["value"]) for box in soup.select(".govuk-date-input input")}
    assert boxes == {"on-day": ("on-day", "2"), "on-month": ("on-month", "9"), "on-year": ("on-year", "2024")}
    assert "For example, 27 3 2007" in text(one(soup, "#on-hint"))


def test_date_time_adds_a_time_box_in_uk_time() -> None:
    soup = page(form(at={"type": "string", "format": "date-time"}), data={"at": "2024-01-15T09:05:00Z"})
    values = [box["value"] for box in soup.select(".govuk-date-input input")]
    assert values == ["15", "1", "2024", "09:05"]
    summer = page(
        form(at={"type": "string", "format": "date-time"}), data={"at": "2024-07-01T08:30:00+00:00"}
    )
    assert one(summer, "input#at-time")["value"] == "09:30"


def test_six_options_or_fewer_are_radios() -> None:
    soup = page(
        form(outcome={"type": "string", "enum": ["support", "escalate"]}), data={"outcome": "escalate"}
    )
    radios = soup.select("input.govuk-radios__input")
    assert [(r["id"], r["value"], r.has_attr("checked")) for r in radios] == [
        ("outcome", "support", False),
        ("outcome-2", "escalate", True),
    ]
    assert [text(label) for label in soup.select(".govuk-radios__label")] == ["Support", "Escalate"]


def test_more_than_six_options_are_a_select_with_an_empty_choice() -> None:
    codes = [f"code_{n}" for n in range(8)]
    soup = page(form(code={"type": "string", "enum": codes}), data={"code": "code_3"})
    options = one(soup, "select#code").select("option")
    assert options[0]["value"] == "" and len(options) == 9
    assert [o["value"] for o in options if o.has_attr("selected")] == ["code_3"]


def test_ui_widget_overrides_radios_or_select() -> None:
    many = form(code={"type": "string", "enum": [f"c{n}" for n in range(8)]})
    assert page(many, {"code": {"ui:widget": "radio"}}).select("input[type=radio]")
    few = form(code={"type": "string", "enum": ["a", "b"]})
    assert one(page(few, {"code": {"ui:widget": "select"}}), "select#code")


def test_option_labels_from_one_of_titles_and_enum_names() -> None:
    schema = form(
        rel={"oneOf": [{"const": "mum", "title": "Mother"}, {"const": "dad", "title": "Father"}]},
        code={"type": "integer", "enum": [1, 2]},
    )
    soup = page(schema, {"code": {"ui:enumNames": ["One", "Two"]}}, {"code": 2})
    assert [text(x) for x in soup.select("label[for^=rel]")] == ["Mother", "Father"]
    assert [text(x) for x in soup.select("label[for^=code]")] == ["One", "Two"]
    assert one(soup, "input#code-2")["value"] == "2" and one(soup, "input#code-2").has_attr("checked")


def test_array_of_enums_is_checkboxes() -> None:
    schema = form(
        reasons={"type": "array", "title": "Reasons", "items": {"enum": ["illness", "holiday", "other"]}}
    )
    soup = page(schema, data={"reasons": ["illness", "other"]})
    boxes = soup.select("input.govuk-checkboxes__input")
    assert [(b["id"], b["name"], b.has_attr("checked")) for b in boxes] == [
        ("reasons", "reasons", True),
        ("reasons-2", "reasons", False),
        ("reasons-3", "reasons", True),
    ]
    assert text(one(soup, "legend")) == "Reasons (optional)"


def test_boolean_is_a_single_checkbox_or_yes_no_radios() -> None:
    schema = form(consent={"type": "boolean", "title": "Parent consents"})
    box = one(page(schema, data={"consent": True}), "input#consent")
    assert box["type"] == "checkbox" and box["value"] == "true" and box.has_attr("checked")
    soup = page(schema, {"consent": {"ui:widget": "radio"}}, {"consent": False})
    assert [(r["value"], r.has_attr("checked")) for r in soup.select("input[type=radio]")] == [
        ("true", False),
        ("false", True),
    ]
    assert "govuk-radios--inline" in one(soup, ".govuk-radios")["class"]


def test_nested_object_is_a_fieldset_with_path_ids() -> None:
    schema = form(school={"type": "object", "title": "School", "properties": {"name": {"type": "string"}}})
    soup = page(schema, data={"school": {"name": "Anytown"}})
    group = one(soup, "#school")
    assert text(one(group, "legend")) == "School"
    field = one(group, "input#school-name")
    assert field["name"] == "school.name" and field["value"] == "Anytown"


def test_ui_order_with_a_wildcard() -> None:
    schema = form(a={"type": "string"}, b={"type": "string"}, c={"type": "string"}, d={"type": "string"})
    soup = page(schema, {"ui:order": ["c", "*", "a"]})
    assert [field["id"] for field in soup.select("input")] == ["c", "b", "d", "a"]


def test_read_only_answers_are_summary_text_and_hidden_ones_absent() -> None:
    schema = form(
        upn={"type": "string", "title": "UPN", "readOnly": True},
        seen={"type": "string", "format": "date", "title": "Seen on"},
        secret={"type": "string"},
    )
    ui = {"seen": {"ui:readonly": True}, "secret": {"ui:widget": "hidden"}}
    soup = page(schema, ui, {"upn": "A123", "seen": "2024-09-02", "secret": "x"})
    assert not soup.select("input")
    rows = [
        (text(r.select_one("dt")), text(r.select_one("dd"))) for r in soup.select(".govuk-summary-list__row")
    ]
    assert rows == [("UPN", "A123"), ("Seen on", "2 September 2024")]
    assert "secret" not in str(soup)


# --- errors -------------------------------------------------------------------------------------

REVIEW = form(
    ("outcome", "reviewed_on"),
    outcome={"title": "Outcome", "type": "string", "enum": ["support", "escalate"]},
    reviewed_on={"title": "Date of review", "type": "string", "format": "date"},
    notes={"title": "Notes", "type": "string"},
)


def test_error_summary_links_to_each_field_in_page_order() -> None:
    errors = [
        FieldError("reviewed_on", "Date of review is required"),
        FieldError("outcome", "Select the outcome"),
        FieldError("", "Check the whole form"),
    ]
    soup = page(REVIEW, errors=errors)
    summary = one(soup, ".govuk-error-summary")
    assert text(one(summary, "h2")) == "There is a problem"
    links = [(a["href"], text(a)) for a in summary.select("a")]
    assert links == [("#outcome", "Select the outcome"), ("#reviewed_on-day", "Date of review is required")]
    assert "Check the whole form" in text(summary)
    assert one(soup, "#outcome")  # the first radio carries the field's id, so the link lands on it


def test_inline_error_messages_and_error_classes() -> None:
    errors = [
        FieldError("notes", "Notes must be shorter"),
        FieldError("reviewed_on", "Date of review is required"),
    ]
    soup = page(REVIEW, data={"notes": "too long"}, errors=errors)
    assert text(one(soup, "#notes-error")) == "Error: Notes must be shorter"
    notes = one(soup, "input#notes")
    assert "govuk-input--error" in notes["class"] and notes["value"] == "too long"
    assert "notes-error" in notes["aria-describedby"]
    assert all("govuk-input--error" in box["class"] for box in soup.select(".govuk-date-input input"))
    assert len(soup.select(".govuk-form-group--error")) == 2


def test_typed_date_that_is_not_real_is_shown_again_with_only_bad_boxes_marked() -> None:
    parsed = ParsedForm(
        data={},
        errors=[FieldError("reviewed_on", "Date of review must be a real date")],
        raw={("reviewed_on",): RawAnswer({"day": "31", "month": "2", "year": "2024"}, ("day",))},
    )
    soup = page(REVIEW, errors=parsed.errors, parsed=parsed)
    boxes = {
        box["id"]: (box["value"], "govuk-input--error" in box["class"])
        for box in soup.select(".govuk-date-input input")
    }
    assert boxes == {
        "reviewed_on-day": ("31", True),
        "reviewed_on-month": ("2", False),
        "reviewed_on-year": ("2024", False),
    }
    assert one(soup, ".govuk-error-summary a")["href"] == "#reviewed_on-day"


def test_error_below_a_field_is_shown_by_it() -> None:
    schema = form(reasons={"type": "array", "items": {"enum": ["a", "b"]}})
    soup = page(schema, errors=[FieldError("reasons.1", "Select a reason from the list")])
    assert text(one(soup, "#reasons-error")) == "Error: Select a reason from the list"


# --- conditional reveal ---------------------------------------------------------------------------

OUTCOME = {
    **form(
        ("outcome",),
        outcome={"title": "Outcome", "type": "string", "enum": ["improved", "penalty", "other"]},
        reason={"title": "Reason", "type": "string"},
        meeting_at={"title": "Meeting", "type": "string", "format": "date"},
        location={"title": "Location", "type": "string"},
    ),
    "dependentRequired": {"meeting_at": ["location"]},
    "allOf": [
        {
            "if": {"properties": {"outcome": {"const": "other"}}, "required": ["outcome"]},
            "then": {"required": ["reason"]},
        }
    ],
}


def test_conditional_question_is_revealed_under_its_radio() -> None:
    soup = page(OUTCOME)
    other = one(soup, "input#outcome-3")
    assert other["value"] == "other" and other["data-aria-controls"] == "conditional-outcome-3"
    reveal = one(soup, "#conditional-outcome-3")
    assert "govuk-radios__conditional--hidden" in reveal["class"]
    assert one(reveal, "input#reason") and text(one(reveal, "label")) == "Reason"  # required when shown
    shown = one(page(OUTCOME, data={"outcome": "other"}), "#conditional-outcome-3")
    assert "govuk-radios__conditional--hidden" not in shown["class"]


def test_question_depending_on_a_free_answer_is_always_shown_with_a_hint() -> None:
    soup = page(OUTCOME)
    assert not soup.select(".govuk-radios__conditional input#location")
    assert text(one(soup, "#location-hint")) == "Required if Meeting is answered."
    assert text(one(soup, "label[for=location]")) == "Location"


def test_boolean_checkbox_reveals_its_dependent_schema() -> None:
    schema = {
        **form(interpreter={"type": "boolean", "title": "Needs an interpreter"}),
        "dependentSchemas": {
            "interpreter": {"properties": {"language": {"type": "string"}}, "required": ["language"]}
        },
    }
    soup = page(schema, data={"interpreter": True, "language": "Polish"})
    box = one(soup, "input#interpreter")
    reveal = one(soup, f"#{box['data-aria-controls']}")
    assert one(reveal, "input#language")["value"] == "Polish"


# --- repeating sections ---------------------------------------------------------------------------

PEOPLE = form(
    parents={
        "type": "array",
        "title": "Parents",
        "maxItems": 3,
        "items": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string", "title": "Name"}},
        },
    }
)


def test_repeating_section_shows_each_item_with_remove_and_add_another() -> None:
    soup = page(PEOPLE, data={"parents": [{"name": "Sam"}, {"name": "Jo"}]}, action_url="/tasks/7")
    section = one(soup, "#parents")
    assert [
        text(x) for x in section.select(".educase-repeating__item > .govuk-form-group > fieldset > legend")
    ] == [
        "Parent 1",
        "Parent 2",
    ]
    assert [f["name"] for f in section.select("input[type=text]")] == ["parents.0.name", "parents.1.name"]
    removes = section.select("button.educase-repeating__remove")
    assert [(b["name"], b["value"], text(b)) for b in removes] == [
        ("_action", "remove:parents.0", "Remove Parent 1"),
        ("_action", "remove:parents.1", "Remove Parent 2"),
    ]
    add = one(section, "button.educase-repeating__add")
    assert (add["name"], add["value"], text(add)) == ("_action", "add:parents", "Add another parent")
    assert (add["hx-post"], add["hx-target"], add["hx-select"], add["hx-swap"]) == (
        "/tasks/7",
        "#parents",
        "#parents",
        "outerHTML",
    )


def test_repeating_section_keeps_enter_on_continue_and_one_empty_item() -> None:
    soup = page(PEOPLE)
    first = soup.select("button")[0]
    assert first["value"] == "continue" and "govuk-visually-hidden" in first["class"]
    assert len(soup.select(".educase-repeating__item")) == 1
    assert not soup.select(".educase-repeating__remove")


def test_add_another_adds_an_empty_item_with_the_focus_and_max_items_hides_it() -> None:
    parsed = ParsedForm(
        data={"parents": [{"name": "Sam"}, {"name": "Jo"}]}, action=FormAction("add", ("parents",))
    )
    soup = page(PEOPLE, parsed=parsed)
    assert one(soup, "[autofocus]")["id"] == "parents-2-name"
    assert one(soup, "input#parents-2-name")["value"] == ""
    assert not soup.select(".educase-repeating__add")  # three is the most


# --- escaping -------------------------------------------------------------------------------------

XSS = "<script>alert('x')</script>"


def test_everything_from_the_form_and_the_answers_is_escaped() -> None:
    schema = form(
        name={"type": "string", "title": XSS, "description": XSS},
        choice={"type": "string", "enum": [XSS, "b"]},
        notes={"type": "string", "maxLength": 500},
        items={"type": "array", "title": XSS, "items": {"type": "string"}},
        shown={"type": "string", "readOnly": True},
    )
    data = {"name": XSS, "choice": XSS, "notes": XSS, "items": [XSS], "shown": XSS}
    soup = page(schema, data=data, errors=[FieldError("name", XSS)])
    assert not soup.select("script")
    assert one(soup, "input#name")["value"] == XSS
    assert one(soup, "textarea#notes").get_text() == XSS
    assert one(soup, "input#choice")["value"] == XSS
    assert XSS in text(one(soup, "#name-error")) and XSS in text(one(soup, ".govuk-error-summary"))
    assert XSS in text(one(soup, ".govuk-summary-list"))
