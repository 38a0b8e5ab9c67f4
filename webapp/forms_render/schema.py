"""Reading a form's JSON Schema (draft 2020-12) and UI schema for display: which type a property has,
which answers it offers, what it is called, and which of an object's properties depend on other answers.

The UI schema follows react-jsonschema-form's conventions: ``ui:widget``, ``ui:title``, ``ui:help``,
``ui:order``, ``ui:readonly``, ``ui:enumNames``, ``ui:options``, with a key per property and ``items``
for the items of an array.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.forms.library import resolve_local_ref

Schema = dict[str, Any]
UiSchema = dict[str, Any]

_MAX_REF_DEPTH = 32


@dataclass(frozen=True)
class Option:
    """One answer a person can choose: the JSON value and the text shown for it."""

    value: Any
    label: str


@dataclass(frozen=True)
class Condition:
    """Properties of an object that apply only when another answer (the controller) says so.

    ``values`` are the answers that switch the condition on (None: any answer at all, as with
    ``dependentRequired``); ``contains``: the controller is a list that must include one of them;
    ``negate``: on when the answer is *not* one of them (the ``else`` of an ``if``). A condition whose
    ``controller`` is None has a test too complex to describe.
    """

    controller: str | None
    values: tuple[Any, ...] | None = None
    contains: bool = False
    negate: bool = False
    properties: dict[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()


@dataclass
class ObjectShape:
    """An object schema's properties (each with every schema that describes it, in order), the names
    it always requires, and its conditions."""

    properties: dict[str, list[Schema]] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    conditions: list[Condition] = field(default_factory=list)


def ui_value(ui: UiSchema, key: str, default: Any = None) -> Any:
    """``ui:<key>`` from a UI schema, or ``key`` inside its ``ui:options``."""
    if f"ui:{key}" in ui:
        return ui[f"ui:{key}"]
    options = ui.get("ui:options")
    return options.get(key, default) if isinstance(options, dict) else default


def resolve(schema: Any, root: Schema) -> Schema:
    """``schema`` with local ``$ref`` followed and ``allOf`` members folded in (its own keys win)."""
    return _resolve(schema, root, 0)


def _resolve(schema: Any, root: Schema, depth: int) -> Schema:
    if schema is True or not isinstance(schema, dict) or depth > _MAX_REF_DEPTH:
        return {}
    merged = {key: value for key, value in schema.items() if key not in ("$ref", "allOf")}
    if isinstance(schema.get("$ref"), str):
        target = resolve_local_ref(root, schema["$ref"])
        _fill(merged, _resolve(target, root, depth + 1))
    for member in schema.get("allOf") or []:
        _fill(merged, _resolve(member, root, depth + 1))
    return merged


def _fill(merged: Schema, extra: Schema) -> None:
    """Add ``extra``'s keys to ``merged``; properties and required lists are combined."""
    for key, value in extra.items():
        if key == "properties" and isinstance(value, dict):
            merged["properties"] = {**value, **merged.get("properties", {})}
        elif key == "required" and isinstance(value, list):
            merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
        else:
            merged.setdefault(key, value)


def merge(schemas: list[Schema], root: Schema) -> Schema:
    """One schema describing a property from every schema that does (the first to say a thing wins)."""
    merged: Schema = {}
    for schema in schemas:
        _fill(merged, resolve(schema, root))
    return merged


def primary_type(schema: Schema) -> str | None:
    """The JSON type of the value: ``type`` (the first that is not "null"), or one inferred."""
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    if isinstance(declared, str):
        return declared
    if "properties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    values = [*_as_list(schema.get("enum")), *[b.get("const") for b in _const_branches(schema)]]
    values += [schema["const"]] if "const" in schema else []
    kinds = {_json_type(v) for v in values if v is not None}
    return kinds.pop() if len(kinds) == 1 else None


def options(schema: Schema, ui: UiSchema) -> list[Option] | None:
    """The answers a property offers (from ``enum`` or ``oneOf``/``anyOf`` of ``const``), or None."""
    names = ui_value(ui, "enumNames")
    if isinstance(schema.get("enum"), list):
        values = [v for v in schema["enum"] if v is not None]
        titles: list[Any] = [None] * len(values)
    elif branches := _const_branches(schema):
        values = [b["const"] for b in branches]
        titles = [b.get("title") for b in branches]
    elif primary_type(schema) == "boolean":
        values, titles = [True, False], ["Yes", "No"]
    else:
        return None
    if isinstance(names, list) and len(names) == len(values):
        titles = names
    return [Option(v, str(t) if t else humanise_value(v)) for v, t in zip(values, titles, strict=True)]


def has_choices(schema: Schema) -> bool:
    """Whether the schema lists its allowed values (``enum``, or ``oneOf``/``anyOf`` of ``const``)."""
    return isinstance(schema.get("enum"), list) or bool(_const_branches(schema))


def _const_branches(schema: Schema) -> list[Schema]:
    for keyword in ("oneOf", "anyOf"):
        branches = schema.get(keyword)
        if isinstance(branches, list) and branches and all(_is_const(b) for b in branches):
            return [b for b in branches if b["const"] is not None]
    return []


def _is_const(branch: Any) -> bool:
    return isinstance(branch, dict) and "const" in branch


def label_of(name: str | int, schema: Schema, ui: UiSchema) -> str:
    """The question's text: ``ui:title``, the schema's ``title``, or the property name made readable."""
    title = ui_value(ui, "title") or schema.get("title")
    return str(title) if title else humanise(str(name))


def hint_of(schema: Schema, ui: UiSchema) -> str:
    """Help text: the schema's ``description`` (or ``ui:description``) and then ``ui:help``."""
    parts = [ui_value(ui, "description") or schema.get("description"), ui_value(ui, "help")]
    return " ".join(str(part).strip() for part in parts if part)


def humanise(name: str) -> str:
    """``meeting_location`` → ``Meeting location``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").replace("-", " ").split()
    text = " ".join(words)
    return text[:1].upper() + text[1:].lower() if text else name


def humanise_value(value: Any) -> str:
    """How an enum value reads when the form gives no title: snake_case words become a sentence."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", value):
        return humanise(value)
    return str(value)


def object_shape(schemas: list[Schema], root: Schema) -> ObjectShape:
    """Properties, required names and conditions of the object that ``schemas`` describe together,
    following ``$ref`` and including ``allOf`` members.

    Properties declared only inside a condition (``then``, ``else``, ``dependentSchemas``) come after
    the others. Properties of ``anyOf``/``oneOf`` branches are shown too, but not required.
    """
    shape = ObjectShape()
    conditional: dict[str, list[Schema]] = {}
    parts = [part for schema in schemas for part in _parts(schema, root)]
    for part, alternative in parts:
        for name, subschema in (part.get("properties") or {}).items():
            if subschema is not False:
                shape.properties.setdefault(name, []).append(subschema)
        if not alternative:
            shape.required.update(n for n in _as_list(part.get("required")) if isinstance(n, str))
        for condition in _conditions(part, root):
            shape.conditions.append(condition)
            for name, subschema in condition.properties.items():
                if subschema is not False:
                    conditional.setdefault(name, []).append(subschema)
    for name, schemas in conditional.items():
        shape.properties.setdefault(name, []).extend(schemas)
    return shape


def _parts(schema: Any, root: Schema, depth: int = 0, alternative: bool = False) -> list[tuple[Schema, bool]]:
    """The schema, its ``$ref`` target and its allOf/anyOf/oneOf members, each marked True when it
    is one of several alternatives."""
    if not isinstance(schema, dict) or depth > _MAX_REF_DEPTH:
        return []
    own = {k: v for k, v in schema.items() if k not in ("$ref", "allOf", "anyOf", "oneOf")}
    found = [(own, alternative)]
    if isinstance(schema.get("$ref"), str):
        found += _parts(resolve_local_ref(root, schema["$ref"]), root, depth + 1, alternative)
    for member in _as_list(schema.get("allOf")):
        found += _parts(member, root, depth + 1, alternative)
    for keyword in ("anyOf", "oneOf"):
        for member in _as_list(schema.get(keyword)):
            found += _parts(member, root, depth + 1, True)
    return found


def _conditions(part: Schema, root: Schema) -> list[Condition]:
    found = []
    test = _if_test(part.get("if"))
    controller, values, contains = test if test else (None, None, False)
    for keyword, negate in (("then", False), ("else", True)):
        branch = resolve(part.get(keyword), root) if "if" in part else {}
        if branch:
            found.append(
                Condition(controller, values, contains, negate, _properties(branch), _required(branch))
            )
    for name, needs in (part.get("dependentRequired") or {}).items():
        found.append(Condition(name, required=tuple(n for n in _as_list(needs) if isinstance(n, str))))
    for name, dependent in (part.get("dependentSchemas") or {}).items():
        branch = resolve(dependent, root)
        found.append(Condition(name, properties=_properties(branch), required=_required(branch)))
    return found


def _if_test(test: Any) -> tuple[str, tuple[Any, ...], bool] | None:
    """(controller, values, contains) for ``if`` tests on one property's const/enum/contains, else None."""
    if not isinstance(test, dict) or set(test) - {"properties", "required", "type"}:
        return None
    properties = test.get("properties")
    if not isinstance(properties, dict) or len(properties) != 1:
        return None
    ((name, check),) = properties.items()
    if not isinstance(check, dict) or set(_as_list(test.get("required"))) - {name}:
        return None
    contains = isinstance(check.get("contains"), dict) and len(check) == 1
    check = check["contains"] if contains else check
    if set(check) - {"const", "enum", "type"}:
        return None
    if "const" in check:
        return name, (check["const"],), contains
    if isinstance(check.get("enum"), list):
        return name, tuple(check["enum"]), contains
    return None


def _properties(branch: Schema) -> dict[str, Any]:
    properties = branch.get("properties")
    return dict(properties) if isinstance(properties, dict) else {}


def _required(branch: Schema) -> tuple[str, ...]:
    return tuple(n for n in _as_list(branch.get("required")) if isinstance(n, str))


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "string"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
