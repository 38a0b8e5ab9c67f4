"""The form library: JSON Schema files (and optional UI schema files) named by user tasks.

User tasks name their form the way spiff-arena does: ``formJsonSchemaFilename`` (for example
``notice-to-improve.schema.json``) and optionally ``formUiSchemaFilename``
(``notice-to-improve.uischema.json``). A ref is a plain file name looked up in one or more directories;
later directories override earlier ones, so a local authority can replace a shipped form by putting a
file of the same name in its own folder.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match, relevance

import form_library
from engine.errors import FormSchemaError, InvalidInput, NotFound

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
_UI_SCHEMA_ENDING = "uischema.json"
# Values, not schemas: a "$ref" key inside these is data and must not be followed.
_DATA_KEYWORDS = frozenset({"const", "default", "enum", "examples"})
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "dependentSchemas", "$defs", "definitions"})
_META_VALIDATOR = Draft202012Validator(
    Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)


@dataclass(frozen=True)
class FormDefinition:
    """One form as loaded: its schema, its optional UI schema and a hash of both.

    The dicts may be shared with the library's cache: treat them as read-only.
    """

    ref: str
    schema: dict[str, Any]
    ui_schema: dict[str, Any] | None = None
    ui_ref: str | None = None
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "content_hash", content_hash(self.schema, self.ui_schema))

    @property
    def title(self) -> str:
        """The schema's ``title``, or the ref when it has none."""
        title = self.schema.get("title")
        return title if isinstance(title, str) and title else self.ref


def content_hash(schema: dict[str, Any], ui_schema: dict[str, Any] | None) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces) of a schema and its UI schema."""
    canonical = json.dumps(
        {"schema": schema, "ui_schema": ui_schema},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class FormLibrary:
    """Form files in one or more directories; a file in a later directory overrides an earlier one."""

    def __init__(self, directories: str | Path | Iterable[str | Path]) -> None:
        given = [directories] if isinstance(directories, str | Path) else list(directories)
        if not given:
            raise ValueError("a FormLibrary needs at least one directory")
        self.directories = tuple(Path(d) for d in given)
        self._cache: dict[tuple[Path, bool], tuple[tuple[int, int], Any]] = {}

    @classmethod
    def shipped(cls, *overrides: str | Path) -> FormLibrary:
        """The forms shipped with EduCase, overridden by files in ``overrides`` (in order)."""
        return cls([form_library.PATH, *overrides])

    def get(self, ref: str, ui_ref: str | None = None) -> FormDefinition:
        """Load form ``ref`` with UI schema ``ui_ref``.

        Without ``ui_ref`` the conventional sibling (``x.schema.json`` → ``x.uischema.json``,
        ``x-schema.json`` → ``x-uischema.json``) is used when it exists.
        """
        schema = self._load(self.path_of(ref))
        if ui_ref is None:
            sibling = ui_sibling(ref)
            ui_ref = sibling if sibling and self._find(sibling) else None
        ui_schema = self._load(self.path_of(ui_ref), ui=True) if ui_ref else None
        return FormDefinition(ref=ref, schema=schema, ui_schema=ui_schema, ui_ref=ui_ref)

    def get_ui(self, ui_ref: str) -> dict[str, Any]:
        """Load UI schema file ``ui_ref`` on its own (to check that a task's UI schema is usable)."""
        ui_schema: dict[str, Any] = self._load(self.path_of(ui_ref), ui=True)
        return ui_schema

    def refs(self) -> list[str]:
        """The names of every form schema file (UI schema files excluded), sorted."""
        names = {
            path.name
            for directory in self.directories
            if directory.is_dir()
            for path in directory.glob("*.json")
            if path.is_file() and not path.name.endswith(_UI_SCHEMA_ENDING)
        }
        return sorted(names)

    def path_of(self, ref: str) -> Path:
        """The file that ``ref`` names: the one in the last directory that has it."""
        path = self._find(ref)
        if path is None:
            looked_in = ", ".join(str(d) for d in self.directories)
            raise NotFound(f"No form file '{ref}' in the form library (looked in: {looked_in})", ref=ref)
        return path

    def _find(self, ref: str) -> Path | None:
        check_ref(ref)
        for directory in reversed(self.directories):
            if (directory / ref).is_file():
                return directory / ref
        return None

    def _load(self, path: Path, *, ui: bool = False) -> Any:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get((path, ui))
        if cached is not None and cached[0] == stamp:
            return cached[1]
        document, problems = read_form_file(path, ui=ui)
        if problems:
            raise FormSchemaError("; ".join(problems), file=str(path), problems=problems)
        self._cache[(path, ui)] = (stamp, document)
        return document

    # Last in the class, so that ``list`` in the annotations above still means the built-in.
    def list(self) -> list[FormDefinition]:
        """Every form, loaded (raises :class:`FormSchemaError` on the first broken file)."""
        return [self.get(ref) for ref in self.refs()]


def check_ref(ref: str) -> None:
    """Refuse anything but a plain ``.json`` file name: no folders, no ``..``, no absolute paths."""
    plain = (
        isinstance(ref, str)
        and ref not in {"", ".", ".."}
        and "\x00" not in ref
        and PurePosixPath(ref).name == ref
        and PureWindowsPath(ref).name == ref
    )
    if not plain:
        raise InvalidInput(f"'{ref}' is not a form file name: give a plain file name such as 'x.schema.json'")
    if not ref.endswith(".json"):
        raise InvalidInput(f"'{ref}' is not a form file name: form files end in .json")


def ui_sibling(ref: str) -> str | None:
    """The conventional UI schema file name for form ``ref`` (None when the name follows no convention)."""
    for ending in (".schema.json", "-schema.json"):
        if ref.endswith(ending):
            return ref[: -len("schema.json")] + _UI_SCHEMA_ENDING
    return None


def check_form_file(path: str | Path) -> list[str]:
    """Every problem with one form or UI schema file, one line each (empty when the file is usable)."""
    return read_form_file(Path(path))[1]


def read_form_file(path: Path, *, ui: bool | None = None) -> tuple[Any, list[str]]:
    """The parsed JSON of ``path`` and the problems that make it unusable (empty when it is fine).

    ``ui`` says whether it is a UI schema; by default, files whose names end in ``uischema.json`` are.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [f"{path}: is not UTF-8 text ({exc.reason} at byte {exc.start})"]
    except OSError as exc:
        return None, [f"{path}: cannot be read ({exc.strerror})"]
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [f"{path}: is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"]
    if path.name.endswith(_UI_SCHEMA_ENDING) if ui is None else ui:
        problems = [] if isinstance(document, dict) else ["a UI schema must be a JSON object"]
    else:
        problems = schema_problems(document)
    return document, [f"{path}: {problem}" for problem in problems]


def schema_problems(schema: Any) -> list[str]:
    """Why ``schema`` is not a usable Draft 2020-12 form schema (empty when it is)."""
    if not isinstance(schema, dict):
        return ["a form schema must be a JSON object"]
    declared = schema.get("$schema", DRAFT_2020_12)
    if isinstance(declared, str) and declared.rstrip("#") != DRAFT_2020_12:
        return [f"forms use JSON Schema Draft 2020-12, but this file declares $schema '{declared}'"]
    problems = []
    for error in sorted(_META_VALIDATOR.iter_errors(schema), key=lambda e: [str(p) for p in e.path]):
        detail = best_match([error]) or error
        if detail.context:  # branches tie ("not valid under any of..."): say what the first wanted
            detail = min(detail.context, key=relevance)
        problems.append(f"at {_pointer(detail.absolute_path)}: {detail.message}")
    return problems + list(_ref_problems(schema, schema, ()))


def _ref_problems(root: dict[str, Any], node: Any, where: tuple[Any, ...]) -> Iterator[str]:
    """Every ``$ref`` that does not point inside this file: forms must be self-contained."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _ref_problems(root, item, (*where, index))
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and resolve_local_ref(root, ref) is None:
        if ref.startswith("#/") or ref == "#":
            yield f"at {_pointer(where)}: $ref '{ref}' names nothing in this file"
        else:
            yield (
                f"at {_pointer(where)}: $ref '{ref}' is not a '#/...' reference inside this file; forms "
                "must be self-contained (put shared parts under $defs and use '#/$defs/name')"
            )
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            # Keys here are names (a property may be called "default"); every value is a schema.
            for name, subschema in value.items():
                yield from _ref_problems(root, subschema, (*where, key, name))
        elif key not in _DATA_KEYWORDS:
            yield from _ref_problems(root, value, (*where, key))


def resolve_local_ref(root: dict[str, Any], ref: str) -> dict[str, Any] | None:
    """The subschema that a local JSON Pointer ref such as ``#/$defs/parent`` names, or None."""
    if not ref.startswith("#") or (len(ref) > 1 and not ref.startswith("#/")):
        return None
    node: Any = root
    for raw in ref[2:].split("/") if len(ref) > 1 else []:
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    if node is True:  # the boolean schema that accepts anything
        return {}
    return node if isinstance(node, dict) else None


def _pointer(path: Any) -> str:
    return "#/" + "/".join(str(part) for part in path) if path else "# (top level)"
