"""marshmallow schemas as JSON Schema (the dialect of OpenAPI 3.1), for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from .schemas import Timestamp

#: marshmallow field class → JSON Schema type (the first that matches; order matters for subclasses).
TYPES: list[tuple[type[fields.Field], dict[str, Any]]] = [
    (Timestamp, {"type": "string", "format": "date-time"}),
    (fields.Boolean, {"type": "boolean"}),
    (fields.Integer, {"type": "integer"}),
    (fields.Number, {"type": "number"}),
    (fields.Dict, {"type": "object"}),
    (fields.String, {"type": "string"}),
]


class Components:
    """The ``components/schemas`` being built: each marshmallow schema once, by name."""

    def __init__(self) -> None:
        self.schemas: dict[str, dict[str, Any]] = {}

    def ref(self, schema: type[Schema]) -> dict[str, Any]:
        """A ``$ref`` to ``schema``, adding it (and the schemas it nests) on first use."""
        name = component_name(schema)
        if name not in self.schemas:
            self.schemas[name] = {}  # placed first, so that a schema nesting itself stops here
            self.schemas[name] = self.object_schema(schema)
        return {"$ref": f"#/components/schemas/{name}"}

    def object_schema(self, schema: type[Schema]) -> dict[str, Any]:
        declared = schema._declared_fields
        described: dict[str, Any] = {
            "type": "object",
            "properties": {name: self.field(field) for name, field in declared.items()},
        }
        if schema.__doc__:
            described["description"] = schema.__doc__.strip().splitlines()[0]
        if required := [name for name, field in declared.items() if field.required]:
            described["required"] = required
        if getattr(schema.Meta, "unknown", None) == RAISE:  # input schemas: unknown fields refused
            described["additionalProperties"] = False
        return described

    def parameters(self, schema: type[Schema]) -> list[dict[str, Any]]:
        """A query-string schema as OpenAPI parameters."""
        return [
            {
                "name": name,
                "in": "query",
                "required": field.required,
                "schema": {k: v for k, v in self.field(field).items() if k != "description"},
                **({"description": field.metadata["description"]} if "description" in field.metadata else {}),
            }
            for name, field in schema._declared_fields.items()
        ]

    def field(self, field: fields.Field) -> dict[str, Any]:
        """One field as JSON Schema: type, limits, enum, default, nullability, description."""
        described = self._shape(field)
        for validator in field.validators:
            described.update(_limits(validator, described.get("type")))
        if "enum" in field.metadata:
            described["enum"] = list(field.metadata["enum"])
        default = field.load_default
        if default is not None and not callable(default) and default.__class__.__name__ != "_Missing":
            described["default"] = default
        if "description" in field.metadata:
            described["description"] = field.metadata["description"]
        return _nullable(described) if field.allow_none else described

    def _shape(self, field: fields.Field) -> dict[str, Any]:
        if isinstance(field, fields.Nested):
            nested = field.nested
            assert isinstance(nested, type) and issubclass(nested, Schema), "nest schema classes"
            return self.ref(nested)
        if isinstance(field, fields.List):
            return {"type": "array", "items": self.field(field.inner)}
        return next((dict(shape) for cls, shape in TYPES if isinstance(field, cls)), {})


def component_name(schema: type[Schema]) -> str:
    return schema.__name__.removesuffix("Schema")


def _limits(validator: Any, kind: str | None) -> dict[str, Any]:
    if isinstance(validator, validate.OneOf):
        return {"enum": list(validator.choices)}
    if isinstance(validator, validate.Length):
        names = ("minItems", "maxItems") if kind == "array" else ("minLength", "maxLength")
        return {n: v for n, v in zip(names, (validator.min, validator.max), strict=True) if v is not None}
    if isinstance(validator, validate.Range):
        return {n: v for n, v in (("minimum", validator.min), ("maximum", validator.max)) if v is not None}
    return {}


def _nullable(described: dict[str, Any]) -> dict[str, Any]:
    kind = described.get("type")
    if isinstance(kind, str):
        enum = {"enum": [*described["enum"], None]} if "enum" in described else {}
        return {**described, "type": [kind, "null"], **enum}
    if "$ref" in described:
        return {"anyOf": [described, {"type": "null"}]}
    return described  # no type given: null is already allowed
