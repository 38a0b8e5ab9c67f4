"""Alert rules are data: a kind with parameters, a scope, and what happens when the rule fires.

The format (JSON; docs/alerts.md has the full reference)::

    {
      "id": "penalty-threshold",
      "name": "Penalty notice threshold",
      "description": "...",
      "kind": "codes_in_school_weeks",
      "params": {"codes": ["G", "N", "O", "U"], "count": 10, "weeks": 10},
      "scope": {"phases": [], "establishment_types": [], "flags": []},
      "action": {"team": "attendance",
                 "start_process": {"process": "attendance_legal_route", "enabled": false,
                                   "data": {"trigger": "penalty_threshold"},
                                   "facts_as": {"sessions_counted": "count"}}},
      "catch_up_school_days": 5,
      "enabled": true
    }

:func:`parse_rule` checks everything and reports every problem at once, each with its field path
(``params.count: must be a whole number of at least 1, not 0``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..attendance import vocabulary
from ..attendance.codes import UnknownCode, lookup
from ..errors import InvalidInput
from .kinds import KINDS, KindSpec, Param

RULE_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,99}")
TEAM = re.compile(r"[a-z][a-z0-9_-]{0,99}")
PROCESS_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,199}")
DEFAULTS_FILE = Path(__file__).with_name("defaults.json")
DEFAULT_CATCH_UP = 5
_TOP_LEVEL = {"id", "name", "description", "kind", "params", "scope", "action", "enabled",
              "catch_up_school_days", "version"}  # fmt: skip
_SCOPES = {"phases": vocabulary.PHASES, "establishment_types": vocabulary.ESTABLISHMENT_TYPES,
           "flags": vocabulary.FLAGS}  # fmt: skip


class RuleError(InvalidInput):
    """A rule that cannot be used; ``problems`` lists each with its field."""

    code = "invalid_rule"

    def __init__(self, problems: list[str], rule_id: str | None = None) -> None:
        where = f"rule {rule_id!r}" if rule_id else "the rule"
        super().__init__(f"{where} is not valid: " + "; ".join(problems), problems=problems, rule=rule_id)
        self.problems = problems


@dataclass(frozen=True)
class Scope:
    """Which enrolments a rule looks at. Each non-empty list narrows it (an enrolment must match all
    of them, and any value within one); no lists: every enrolment."""

    phases: tuple[str, ...] = ()
    establishment_types: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()

    @property
    def everyone(self) -> bool:
        return not (self.phases or self.establishment_types or self.flags)

    def as_dict(self) -> dict[str, list[str]]:
        return {"phases": list(self.phases), "establishment_types": list(self.establishment_types),
                "flags": list(self.flags)}  # fmt: skip


@dataclass(frozen=True)
class ProcessStart:
    """Start ``process`` once per alert, with the pupil's UPN as business key, when ``enabled``.

    The start data are ``data``, plus ``pupil``, ``school`` and ``alert``, plus each ``facts_as``
    variable set from the alert's fact of that name (``{"sessions_counted": "count"}``)."""

    process: str
    enabled: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    facts_as: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    kind: str
    params: dict[str, Any]
    team: str
    scope: Scope = Scope()
    description: str = ""
    start_process: ProcessStart | None = None
    enabled: bool = True
    catch_up_school_days: int = DEFAULT_CATCH_UP
    version: int = 0  # 0 until stored

    @property
    def spec(self) -> KindSpec:
        return KINDS[self.kind]

    def as_dict(self) -> dict[str, Any]:
        """The rule in its JSON format (what :func:`parse_rule` reads)."""
        action: dict[str, Any] = {"team": self.team}
        if self.start_process is not None:
            s = self.start_process
            action["start_process"] = {"process": s.process, "enabled": s.enabled, "data": s.data,
                                       "facts_as": s.facts_as}  # fmt: skip
        return {
            "id": self.id, "version": self.version, "name": self.name, "description": self.description,
            "kind": self.kind, "params": self.params, "scope": self.scope.as_dict(), "action": action,
            "catch_up_school_days": self.catch_up_school_days, "enabled": self.enabled,
        }  # fmt: skip

    def definition(self) -> dict[str, Any]:
        """What makes two versions of a rule differ (everything but ``version`` and ``enabled``)."""
        return {k: v for k, v in self.as_dict().items() if k not in ("version", "enabled")}


def parse_rule(data: Any, version: int = 0) -> Rule:
    """Validate a rule given as parsed JSON; raises :class:`RuleError` listing every problem."""
    if not isinstance(data, dict):
        raise RuleError([f"a rule must be a JSON object, not {type(data).__name__}"])
    problems: list[str] = [f"{key}: unknown field (fields: {', '.join(sorted(_TOP_LEVEL))})"
                           for key in data if key not in _TOP_LEVEL]  # fmt: skip
    rule_id = _text(data, "id", problems, pattern=RULE_ID, hint="lower-case letters, digits and '-'")
    name = _text(data, "name", problems)
    kind = data.get("kind")
    if kind not in KINDS:
        problems.append(f"kind: {kind!r} is not a kind of rule (kinds: {', '.join(KINDS)})")
    params = _params(KINDS[kind], data.get("params", {}), problems) if kind in KINDS else {}
    scope = _scope(data.get("scope", {}), problems)
    team, start = _action(data.get("action"), problems)
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"enabled: must be true or false, not {enabled!r}")
    catch_up = data.get("catch_up_school_days", DEFAULT_CATCH_UP)
    if isinstance(catch_up, bool) or not isinstance(catch_up, int) or not 0 <= catch_up <= 20:
        problems.append(f"catch_up_school_days: must be a whole number from 0 to 20, not {catch_up!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.append("description: must be text")
    if problems:
        raise RuleError(problems, rule_id if isinstance(rule_id, str) else None)
    return Rule(rule_id, name, kind, params, team, scope, description, start, enabled, catch_up, version)


def _text(data: dict[str, Any], key: str, problems: list[str], pattern: re.Pattern[str] | None = None,
          hint: str = "", where: str = "") -> str:  # fmt: skip
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}{key}: required text is missing")
        return ""
    if pattern is not None and not pattern.fullmatch(value):
        problems.append(f"{where}{key}: {value!r} is not allowed ({hint})")
    return value


def _params(spec: KindSpec, given: Any, problems: list[str]) -> dict[str, Any]:
    if not isinstance(given, dict):
        problems.append("params: must be an object")
        return {}
    known = {p.name: p for p in spec.params}
    problems += [f"params.{key}: not a parameter of {spec.name} (parameters: {', '.join(known)})"
                 for key in given if key not in known]  # fmt: skip
    params: dict[str, Any] = {}
    for param in spec.params:
        if param.name not in given:
            if param.required:
                problems.append(f"params.{param.name}: required ({param.help})")
            else:
                params[param.name] = param.default
            continue
        value, problem = check_param(param, given[param.name])
        if problem:
            problems.append(f"params.{param.name}: {problem}")
        params[param.name] = value
    return params


def check_param(param: Param, value: Any) -> tuple[Any, str | None]:
    """A parameter's value as stored, and what is wrong with it (None if nothing)."""
    if param.type == "codes":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            return value, 'must be a list of attendance codes, e.g. ["O", "N"]'
        checked = [_code(v) for v in value]
        bad = [c for c in checked if isinstance(c, UnknownCode)]
        return list(dict.fromkeys(c for c in checked if isinstance(c, str))), str(bad[0]) if bad else None
    if param.type == "code":
        checked = _code(value) if isinstance(value, str) else UnknownCode(str(value), False)
        return (checked, None) if isinstance(checked, str) else (value, str(checked))
    if param.type in ("int", "number"):
        return value, _number_problem(param, value)
    allowed = ", ".join(param.choices)
    if param.type == "choice":
        return value, None if value in param.choices else f"{value!r} is not one of: {allowed}"
    if not isinstance(value, list) or not value or any(v not in param.choices for v in value):
        return value, f"must be a non-empty list of: {allowed}"
    return list(dict.fromkeys(value)), None


def _code(text: str) -> str | UnknownCode:
    try:
        return lookup(text).code
    except UnknownCode as error:
        return error


def _number_problem(param: Param, value: Any) -> str | None:
    whole = param.type == "int"
    ok_type = not isinstance(value, bool) and isinstance(value, int if whole else int | float)
    low, high = param.minimum, param.maximum
    if ok_type and (low is None or value >= low) and (high is None or value <= high):
        return None
    what = "a whole number" if whole else "a number"
    bounds = f" from {low:g}" if low is not None else ""
    bounds += f" to {high:g}" if high is not None else ""
    return f"must be {what}{bounds}, not {value!r}"


def _scope(given: Any, problems: list[str]) -> Scope:
    if given in ("all", None):
        return Scope()
    if not isinstance(given, dict):
        problems.append('scope: must be "all" or an object with phases, establishment_types, flags')
        return Scope()
    values: dict[str, tuple[str, ...]] = {}
    for key in given:
        if key not in _SCOPES:
            problems.append(f"scope.{key}: unknown (use {', '.join(_SCOPES)})")
    for key, allowed in _SCOPES.items():
        items = given.get(key, [])
        if not isinstance(items, list) or any(i not in allowed for i in items):
            problems.append(f"scope.{key}: must be a list of: {', '.join(allowed)}")
            items = []
        values[key] = tuple(dict.fromkeys(items))
    return Scope(**values)


def _action(given: Any, problems: list[str]) -> tuple[str, ProcessStart | None]:
    if not isinstance(given, dict):
        problems.append('action: required, e.g. {"team": "attendance"}')
        return "", None
    problems += [
        f"action.{k}: unknown (use team, start_process)" for k in given if k not in ("team", "start_process")
    ]
    team = _text(
        given, "team", problems, pattern=TEAM, hint="a team's slug, its BPMN lane name", where="action."
    )
    start = given.get("start_process")
    if start is None:
        return team, None
    if not isinstance(start, dict) or not isinstance(start.get("process"), str):
        problems.append('action.start_process: must be {"process": ID, "enabled": true|false, ...}')
        return team, None
    problems += [f"action.start_process.{k}: unknown (use process, enabled, data, facts_as)"
                 for k in start if k not in ("process", "enabled", "data", "facts_as")]  # fmt: skip
    if not PROCESS_ID.fullmatch(start["process"]):
        problems.append(f"action.start_process.process: {start['process']!r} is not a process id")
    enabled, data, facts_as = start.get("enabled", False), start.get("data", {}), start.get("facts_as", {})
    if not isinstance(enabled, bool):
        problems.append("action.start_process.enabled: must be true or false")
    if not isinstance(data, dict):
        problems.append("action.start_process.data: must be an object")
    if not isinstance(facts_as, dict) or not all(isinstance(v, str) for v in facts_as.values()):
        problems.append(
            'action.start_process.facts_as: must map variables to fact names, e.g. {"n": "count"}'
        )
    return team, ProcessStart(start["process"], enabled is True, dict(data or {}), dict(facts_as or {}))


def default_rules() -> list[Rule]:
    """The rules shipped with EduCase (engine/alerts/defaults.json), with their stable ids."""
    data = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return [parse_rule(item) for item in data["rules"]]
