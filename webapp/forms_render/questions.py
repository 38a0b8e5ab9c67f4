"""The questions a form asks, built from its JSON Schema and UI schema: one :class:`Question` per
property, with the GOV.UK component that asks it, its label, hint and options, nested questions for
objects, and the questions that a radio or checkbox reveals (GOV.UK conditional reveal).

Field ids and names come from the JSON path: ``("parents", 0, "name")`` has the id
``parents-0-name`` and the name ``parents.0.name``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from .answers import option_key
from .schema import (
    Condition,
    Option,
    Schema,
    UiSchema,
    has_choices,
    hint_of,
    label_of,
    merge,
    object_shape,
    options,
    primary_type,
    resolve,
    ui_value,
)

Path = tuple[str | int, ...]
Kind = Literal[
    "text", "email", "url", "textarea", "integer", "number", "date", "datetime",
    "select", "radios", "checkboxes", "checkbox", "yesno", "fieldset", "repeating",
]  # fmt: skip

RADIOS_UP_TO = 6  # more options than this: a select
TEXTAREA_FROM = 200  # maxLength above this: a textarea
_RADIO_WIDGETS = ("radio", "radios")


@dataclass(eq=False)
class Question:
    """One question of a form, at ``path`` in the answers."""

    path: Path
    kind: Kind
    label: str
    hint: str
    schema: Schema  # every schema describing the value, merged (``$ref`` and ``allOf`` followed)
    ui: UiSchema
    root: Schema = field(repr=False)
    sources: list[Schema] = field(default_factory=list, repr=False)  # those schemas, as written
    required: bool = False
    conditionally_required: bool = False
    readonly: bool = False
    hidden: bool = False
    options: list[Option] = field(default_factory=list)
    children: list[Question] = field(default_factory=list)
    reveals: dict[str, list[Question]] = field(default_factory=dict)
    # A ticked single checkbox that other answers depend on: unticked means "not answered", not false.
    absent_when_unticked: bool = False

    @property
    def id(self) -> str:
        """The HTML id: the path joined with hyphens, made safe for ids and CSS selectors."""
        text = "-".join(re.sub(r"[^A-Za-z0-9_-]", "_", str(part)) for part in self.path)
        return f"f-{text}" if text[:1].isdigit() else text

    @property
    def name(self) -> str:
        """The HTML name: the path joined with dots."""
        return ".".join(str(part) for part in self.path)

    @property
    def is_optional(self) -> bool:
        """Whether the label says "(optional)": an answer nobody has to give."""
        return not (self.required or self.conditionally_required or self.readonly)

    def revealed(self) -> list[Question]:
        """Every question this one reveals, whatever the answer."""
        return [question for group in self.reveals.values() for question in group]

    def item(self, index: int) -> Question:
        """The question for item ``index`` of a repeating section."""
        items_ui = _ui_of(self.ui, "items")
        label = f"{item_title(self)} {index + 1}"
        items = self.schema.get("items")
        return build([items], items_ui, (*self.path, index), self.root, label=label, required=True)


def build_form(schema: Schema, ui_schema: UiSchema | None = None) -> Question:
    """The root question of a form: an object whose children are the form's questions."""
    return build([schema], ui_schema or {}, (), schema, label=str(schema.get("title") or ""), required=True)


def build(
    sources: list[Any], ui: UiSchema, path: Path, root: Schema, *, label: str = "", required: bool = False
) -> Question:
    """The question asking for the value that the schemas in ``sources`` describe together."""
    resolved = merge(sources, root)
    choices = options(resolved, ui) or []
    kind = kind_of(resolved, ui, choices, root)
    question = Question(
        path=path,
        kind=kind,
        label=label or label_of(path[-1] if path else "", resolved, ui),
        hint=hint_of(resolved, ui),
        schema=resolved,
        ui=ui,
        root=root,
        sources=sources,
        required=required,
        readonly=bool(resolved.get("readOnly") or ui_value(ui, "readonly") or ui_value(ui, "disabled")),
        hidden=ui_value(ui, "widget") == "hidden",
        options=choices if kind != "checkboxes" else item_options(resolved, ui, root),
    )
    if kind == "fieldset":
        question.children = _object_questions(question)
    return question


def kind_of(schema: Schema, ui: UiSchema, choices: list[Option], root: Schema) -> Kind:
    """Which component asks for a value of this schema (``ui:widget`` can choose another)."""
    widget = ui_value(ui, "widget")
    kind = primary_type(schema)
    if kind == "object":
        return "fieldset"
    if kind == "array":
        choosing = has_choices(resolve(schema.get("items"), root))
        return "checkboxes" if choosing and widget != "repeating" else "repeating"
    if kind == "boolean":
        return "yesno" if widget in (*_RADIO_WIDGETS, "select") else "checkbox"
    if choices:
        if widget in _RADIO_WIDGETS or (widget != "select" and len(choices) <= RADIOS_UP_TO):
            return "radios"
        return "select"
    if kind == "integer":
        return "integer"
    if kind == "number":
        return "number"
    return _text_kind(schema, widget)


def _text_kind(schema: Schema, widget: Any) -> Kind:
    form = schema.get("format")
    if widget == "textarea" or (widget is None and _max_length(schema) > TEXTAREA_FROM):
        return "textarea"
    if form == "date" or widget in ("date", "alt-date"):
        return "date"
    if form == "date-time" or widget in ("datetime", "alt-datetime"):
        return "datetime"
    if form == "email" or widget == "email":
        return "email"
    if form in ("uri", "url", "iri") or widget in ("uri", "url"):
        return "url"
    return "text"


def _max_length(schema: Schema) -> int:
    value = schema.get("maxLength")
    return value if isinstance(value, int) else 0


def item_options(schema: Schema, ui: UiSchema, root: Schema) -> list[Option]:
    """The options of a checkboxes question: those of its items (``ui:enumNames`` on either level)."""
    items_ui = _ui_of(ui, "items")
    if ui_value(ui, "enumNames") and not ui_value(items_ui, "enumNames"):
        items_ui = {**items_ui, "ui:enumNames": ui_value(ui, "enumNames")}
    return options(resolve(schema.get("items"), root), items_ui) or []


def item_title(question: Question) -> str:
    """What one item of a repeating section is called: ``items.title``, ``ui:options.itemTitle``, or
    the section's title made singular ("Parents" → "Parent"; "Item" when that does not work)."""
    items = question.schema.get("items")
    title = ui_value(question.ui, "itemTitle") or resolve(items, question.root).get("title")
    if title:
        return str(title)
    one = singular(question.label)
    return one if one != question.label else "Item"


def singular(title: str) -> str:
    """A plural title made singular, for the common English endings; anything else unchanged."""
    for ending, replacement in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("ches", "ch"), ("shes", "sh")):
        if title.endswith(ending):
            return title[: -len(ending)] + replacement
    return title[:-1] if title.endswith("s") and not title.endswith("ss") else title


# --- the questions of an object -----------------------------------------------------------------


def _object_questions(parent: Question) -> list[Question]:
    """The questions of an object, in ``ui:order``, with revealed questions moved under their answer."""
    shape = object_shape(parent.sources, parent.root)
    questions = {
        name: build(
            schemas,
            _ui_of(parent.ui, name),
            (*parent.path, name),
            parent.root,
            required=name in shape.required,
        )
        for name, schemas in shape.properties.items()
    }
    ordered = ordered_names(list(questions), ui_value(parent.ui, "order"))
    moved = _place_conditions(questions, shape.conditions, shape.required, ordered)
    return [questions[name] for name in ordered if name not in moved]


def _ui_of(ui: UiSchema, key: str) -> UiSchema:
    """The UI schema for property (or ``items``) ``key`` of a UI schema."""
    found = ui.get(key)
    return found if isinstance(found, dict) else {}


def ordered_names(names: list[str], order: Any) -> list[str]:
    """``names`` in ``ui:order`` (``"*"`` stands for every name not listed; without it they go last)."""
    if not isinstance(order, list):
        return names
    listed = [name for name in order if name in names]
    rest = [name for name in names if name not in listed]
    if "*" not in order:
        return listed + rest
    star = order.index("*")
    before = [name for name in order[:star] if name in names]
    return before + rest + [name for name in order[star + 1 :] if name in names]


def _place_conditions(
    questions: dict[str, Question], conditions: list[Condition], always: set[str], order: list[str]
) -> set[str]:
    """Put each conditional question under the answer that reveals it, or hint when it applies.

    Returns the names moved into a reveal (they are no longer asked at the object's own level).
    """
    moved: set[str] = set()
    for condition in conditions:
        controller = questions.get(condition.controller or "")
        target = _reveal_target(controller, condition) if controller else None
        names = [n for n in order if n in {*condition.properties, *condition.required}]
        for name in names:
            question = questions[name]
            if name in always or name in moved or question is controller:
                continue
            needed = name in condition.required
            question.conditionally_required = question.conditionally_required or needed
            if controller is not None and target is not None and not _contains(question, controller):
                controller.reveals.setdefault(target, []).append(question)
                controller.absent_when_unticked |= controller.kind == "checkbox" and condition.values is None
                moved.add(name)
            else:
                question.hint = " ".join(
                    filter(None, [_condition_hint(controller, condition, needed), question.hint])
                )
    return moved


def _contains(question: Question, other: Question) -> bool:
    return other in question.revealed() or any(_contains(q, other) for q in question.revealed())


def _reveal_target(controller: Question, condition: Condition) -> str | None:
    """The option key under which the condition's questions can be revealed, if there is exactly one."""
    if controller.readonly or controller.hidden:
        return None
    if controller.kind == "checkbox":
        said = None if condition.values is None else [option_key(v) for v in condition.values]
        ticked = said in (None, ["true"]) if not condition.negate else said == ["false"]
        return "true" if ticked else None
    lists = controller.kind == "checkboxes"
    if controller.kind not in ("radios", "yesno", "checkboxes") or lists != condition.contains:
        return None
    keys = [option_key(o.value) for o in controller.options]
    if condition.values is None:
        return keys[0] if len(keys) == 1 and not condition.negate else None
    wanted = {option_key(v) for v in condition.values}
    on = [k for k in keys if (k in wanted) != condition.negate]
    return on[0] if len(on) == 1 else None


def _condition_hint(controller: Question | None, condition: Condition, needed: bool) -> str:
    """ "Required if Outcome is Other", for a conditional question that stays where it is."""
    start = "Required" if needed else "Only answer this"
    if controller is None:
        return f"{start} in some cases, depending on your other answers." if needed else ""
    if condition.values is None:
        answered = "ticked" if controller.kind == "checkbox" else "answered"
        return f"{start} if {controller.label} is {answered}."
    labels = {option_key(o.value): o.label for o in controller.options}
    said = [labels.get(option_key(v), str(v)) for v in condition.values]
    verb = (
        "does not include"
        if condition.contains and condition.negate
        else "includes"
        if condition.contains
        else "is not"
        if condition.negate
        else "is"
    )
    return f"{start} if {controller.label} {verb} {' or '.join(said)}."
