"""Checking submitted answers against a form's schema, and filtering task data through it.

Messages are for the caseworker filling in the form: they say what to do, name the field by its
``title`` and honour an ``errorMessage`` in the schema (the ajv-errors convention: a string for every
error of that field, or a dict keyed by keyword, with ``_`` for any other keyword).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.exceptions import Unresolvable

from engine.errors import ConfigurationError, FieldError, FormDataInvalid, FormSchemaError

from .library import resolve_local_ref

Schema = dict[str, Any]
FieldPath = tuple[str | int, ...]

# Without rfc3339-validator (jsonschema[format-nongpl]) "date-time" and "time" silently accept anything.
REQUIRED_FORMATS = ("date", "date-time", "time", "email", "uri")
# An empty registry: a form's $ref is never fetched over the network.
_NO_REMOTE_REFS: Registry[Any] = Registry()

_FORMAT_HINTS = {
    "date": "a date in the form YYYY-MM-DD",
    "date-time": (
        "a date and time in the form YYYY-MM-DDTHH:MM:SS with a time zone, like 2024-09-02T09:30:00Z"
    ),
    "time": "a time in the form HH:MM:SS with a time zone, like 09:30:00Z",
    "email": "an email address in the correct format, like name@example.com",
    "uri": "a web address, like https://www.example.com",
    "duration": "a duration, like P7D for seven days",
    "uuid": "a reference in the correct format",
}
_TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "yes or no",
    "array": "a list",
    "object": "a set of answers",
    "null": "empty",
}
_UNEXPECTED = "Contains answers this form does not ask for"
# keyword: (message without a title, message with the field's title)
_MESSAGES = {
    "required": ("This field is required", "{title} is required"),
    "enum": ("Select one of: {options}", "{title}: select one of {options}"),
    "type": ("Must be {types}", "{title} must be {types}"),
    "format": ("Enter {hint}", "Enter {title} as {hint}"),
    "const": ("Must be {const}", "{title} must be {const}"),
    "minLength": ("Must be at least {value} characters", "{title} must be at least {value} characters"),
    "maxLength": ("Must be {value} characters or fewer", "{title} must be {value} characters or fewer"),
    "pattern": ("Enter this in the correct format", "Enter {title} in the correct format"),
    "minimum": ("Must be at least {value}", "{title} must be at least {value}"),
    "maximum": ("Must be {value} or less", "{title} must be {value} or less"),
    "exclusiveMinimum": ("Must be more than {value}", "{title} must be more than {value}"),
    "exclusiveMaximum": ("Must be less than {value}", "{title} must be less than {value}"),
    "multipleOf": ("Must be a multiple of {value}", "{title} must be a multiple of {value}"),
    "minItems": ("Add at least {value} {entries}", "{title}: add at least {value} {entries}"),
    "maxItems": ("Give {value} {entries} or fewer", "{title}: give {value} {entries} or fewer"),
    "uniqueItems": ("Each entry must be different", "Each entry in {title} must be different"),
    "additionalProperties": (_UNEXPECTED, "{title} contains unexpected answers"),
    "unevaluatedProperties": (_UNEXPECTED, "{title} contains unexpected answers"),
    "atLeastOne": ("Answer at least one of: {options}", "Answer at least one of: {options}"),
    "_": ("Check this answer", "Check {title}"),
}


def validate_form_data(schema: Schema, data: Any, *, form_ref: str = "") -> list[FieldError]:
    """Every problem with ``data`` against ``schema``, one :class:`FieldError` each, sorted by path."""
    validator = Draft202012Validator(schema, format_checker=format_checker(), registry=_NO_REMOTE_REFS)
    found: dict[tuple[FieldPath, str], None] = {}  # a dict keeps the first of duplicates, in order
    try:
        for error in validator.iter_errors(data):
            found.update(dict.fromkeys(_explain(error, schema)))
    except Unresolvable as exc:
        raise FormSchemaError(
            f"The form '{form_ref}' refers to '{exc.ref}', which it does not define", form=form_ref
        )
    ordered = sorted(found, key=lambda item: [(isinstance(p, str), p) for p in item[0]])
    return [FieldError(".".join(str(p) for p in path), message) for path, message in ordered]


def raise_if_invalid(schema: Schema, data: Any, form_ref: str = "") -> None:
    """Raise :class:`FormDataInvalid` listing every problem when ``data`` does not satisfy ``schema``."""
    errors = validate_form_data(schema, data, form_ref=form_ref)
    if errors:
        raise FormDataInvalid(errors, form=form_ref)


@cache
def format_checker() -> FormatChecker:
    """The Draft 2020-12 format checker, refusing to run without the checkers forms rely on."""
    checker = Draft202012Validator.FORMAT_CHECKER
    missing = [name for name in REQUIRED_FORMATS if name not in checker.checkers]
    if missing:
        raise ConfigurationError(
            f"JSON Schema format checks unavailable: {', '.join(missing)}; "
            "install jsonschema[format-nongpl] (it brings rfc3339-validator)"
        )
    return checker


def filter_data(schema: Schema, data: Any) -> dict[str, Any]:
    """Only the parts of ``data`` that the form declares, in new containers; never raises.

    Properties count as declared wherever the schema names them: nested objects, array items,
    ``if``/``then``/``else``, ``allOf``/``anyOf``/``oneOf``, ``dependentSchemas`` and local ``$ref``.
    ``additionalProperties`` and ``patternProperties`` expose nothing: task data holds internal
    variables that must never reach a browser.
    """
    if not isinstance(data, dict):
        return {}
    return _filter_object(schemas_at(schema, ()), data, schema, submitted=False)


def submitted_data(schema: Schema, data: Any) -> dict[str, Any]:
    """What a submission may change: :func:`filter_data` without ``readOnly`` fields.

    Read-only fields show case data on the form; a value sent back for one (by a browser or an API
    client) is never written over the case.
    """
    if not isinstance(data, dict):
        return {}
    return _filter_object(schemas_at(schema, ()), data, schema, submitted=True)


def _filter_object(
    schemas: list[Schema], value: dict[str, Any], root: Schema, *, submitted: bool
) -> dict[str, Any]:
    kept = {}
    for key, item in value.items():
        declared = _property_schemas(schemas, key, root)
        if declared is not None and not (submitted and any(s.get("readOnly") is True for s in declared)):
            kept[key] = _filter(declared, item, root, submitted=submitted)
    return kept


def _filter(schemas: list[Schema], value: Any, root: Schema, *, submitted: bool) -> Any:
    if isinstance(value, dict):
        return _filter_object(schemas, value, root, submitted=submitted)
    if isinstance(value, list | tuple):
        return [
            _filter(_item_schemas(schemas, i, root), item, root, submitted=submitted)
            for i, item in enumerate(value)
        ]
    return value


# --- walking the schema -------------------------------------------------------------------------


def schemas_at(root: Schema, path: Iterable[str | int]) -> list[Schema]:
    """Every subschema that describes the value at ``path`` (whatever branch or condition holds)."""
    schemas = _applicable(root, root)
    for part in path:
        if isinstance(part, int):
            schemas = _item_schemas(schemas, part, root)
        else:
            schemas = _property_schemas(schemas, part, root) or []
    return schemas


def _applicable(schema: Any, root: Schema) -> list[Schema]:
    """``schema`` and every subschema that applies to the same value, breadth first."""
    found: list[Schema] = []
    queue, seen = [schema], set()
    while queue:
        current = queue.pop(0)
        current = {} if current is True else current
        if not isinstance(current, dict) or id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        if isinstance(current.get("$ref"), str):
            queue.append(resolve_local_ref(root, current["$ref"]))
        for keyword in ("allOf", "anyOf", "oneOf"):
            queue.extend(_as_list(current.get(keyword)))
        queue.extend(current.get(keyword) for keyword in ("if", "then", "else"))
        dependent = current.get("dependentSchemas")
        queue.extend(dependent.values() if isinstance(dependent, dict) else [])
    return found


def _property_schemas(schemas: list[Schema], name: str, root: Schema) -> list[Schema] | None:
    """Schemas of property ``name`` (None when no schema declares it; ``false`` declares it absent)."""
    declared: list[Schema] | None = None
    for schema in schemas:
        properties = schema.get("properties")
        if isinstance(properties, dict) and name in properties and properties[name] is not False:
            declared = (declared or []) + _applicable(properties[name], root)
    return declared


def _item_schemas(schemas: list[Schema], index: int, root: Schema) -> list[Schema]:
    found: list[Schema] = []
    for schema in schemas:
        prefix = _as_list(schema.get("prefixItems"))
        found += _applicable(prefix[index] if index < len(prefix) else schema.get("items"), root)
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# --- turning jsonschema errors into field errors ------------------------------------------------


def _explain(error: ValidationError, root: Schema) -> Iterator[tuple[FieldPath, str]]:
    """The field errors behind one jsonschema error, as (path, message)."""
    path: FieldPath = tuple(error.absolute_path)
    if error.validator == "required":
        for name in error.validator_value:
            if name not in error.instance:
                yield (*path, name), _required_message(error, root, (*path, name))
    elif error.validator == "dependentRequired":
        for name, needs in error.validator_value.items():
            for need in needs if name in error.instance else []:
                if need not in error.instance:
                    yield (*path, need), _required_message(error, root, (*path, need))
    elif error.validator in ("anyOf", "oneOf") and error.context:
        yield from _explain_alternatives(error, root, path)
    else:
        yield path, _message(str(error.validator), error, root, path)


def _explain_alternatives(
    error: ValidationError, root: Schema, path: FieldPath
) -> Iterator[tuple[FieldPath, str]]:
    """A failed anyOf/oneOf: say what the likeliest branch wanted, not "not valid under any"."""
    field = [error.schema, *schemas_at(root, path)]
    branches = _as_list(error.validator_value)
    custom = _custom_message(field, str(error.validator))
    leaf = best_match([error])
    if custom:
        yield path, custom
    elif branches and all(isinstance(b, dict) and "const" in b for b in branches):
        options = ", ".join(str(b.get("title") or _show(b["const"])) for b in branches)
        yield path, _render("enum", _title(field[1:]), options=options)
    elif all(e.validator == "required" and not e.path for e in error.context):
        names = dict.fromkeys(n for e in error.context for n in e.validator_value if n not in e.instance)
        titles = [_title(schemas_at(root, (*path, n))) or n for n in names]
        yield path, _render("atLeastOne", None, options=", ".join(titles))
    elif leaf is None or leaf is error or leaf.validator in ("anyOf", "oneOf"):
        yield path, _message("_", error, root, path)
    else:
        yield from _explain(leaf, root)


def _required_message(error: ValidationError, root: Schema, path: FieldPath) -> str:
    field = schemas_at(root, path)
    custom = _custom_message(field, "required")
    # The parent may say it instead: {"errorMessage": {"required": {"reason": "Give a reason"}}}.
    parent = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    by_name = parent.get(error.validator) if isinstance(parent, dict) else None
    if custom is None and isinstance(by_name, dict) and isinstance(by_name.get(path[-1]), str):
        custom = by_name[path[-1]]
    if custom is None and isinstance(by_name, str):
        custom = by_name
    return custom or _render("required", _title(field))


def _message(keyword: str, error: ValidationError, root: Schema, path: FieldPath) -> str:
    field = schemas_at(root, path)
    own = [error.schema] if isinstance(error.schema, dict) else []
    if keyword == "minLength" and error.instance == "":
        keyword = "required"  # an emptied text box is a missing answer
    custom = _custom_message(own + field, keyword)
    if custom:
        return custom
    known = keyword if keyword in _MESSAGES else "_"
    return _render(known, _title(field + own), **_placeholders(known, error.validator_value))


def _placeholders(keyword: str, value: Any) -> dict[str, str]:
    """The values a message template for ``keyword`` fills in."""
    if keyword == "enum":
        return {"options": ", ".join(_show(v) for v in _as_list(value))}
    if keyword == "type":
        names = value if isinstance(value, list) else [value]
        return {"types": " or ".join(_TYPE_NAMES.get(str(n), str(n)) for n in names)}
    if keyword == "format":
        return {"hint": _FORMAT_HINTS.get(str(value), f"a valid {value}")}
    if keyword == "const":
        return {"const": "ticked" if value is True else _show(value)}
    return {"value": _show(value), "entries": "entry" if value == 1 else "entries"}


def _custom_message(schemas: list[Schema], keyword: str) -> str | None:
    """The first ``errorMessage`` that covers ``keyword`` among ``schemas``."""
    for schema in schemas:
        custom = schema.get("errorMessage")
        if isinstance(custom, str):
            return custom
        if isinstance(custom, dict):
            chosen = custom.get(keyword, custom.get("_"))
            if isinstance(chosen, str):
                return chosen
    return None


def _title(schemas: list[Schema]) -> str | None:
    return next((s["title"] for s in schemas if isinstance(s.get("title"), str) and s["title"]), None)


def _render(keyword: str, title: str | None, **values: str) -> str:
    plain, titled = _MESSAGES[keyword]
    return (titled if title else plain).format(title=title, **values)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "empty"}[value]
    return json.dumps(value)
