"""Sandboxed Python for BPMN script tasks, conditions and expressions (design traps 8, 9 and 11).

Code is compiled with RestrictedPython plus our own rules (:class:`_ScriptPolicy`), cached by source
text, and run against a deep copy of the task data under a wall-clock limit that works in any thread.
After a script, the task data holds the variables it set, turned into JSON-safe values.

How errors surface. :class:`SandboxScriptEngine` raises SpiffWorkflow's ``WorkflowTaskException``
(task, ``line_number``, ``error_line``) as usual; the original error is both its ``__cause__`` and its
``exception`` attribute, so the runtime unwraps with ``getattr(exc, "exception", None) or
exc.__cause__`` and finds :class:`ScriptTimeout`, :class:`SandboxViolation` or another
:class:`ScriptError`. Compile errors carry their line in ``error.details["line"]``. A few SpiffWorkflow
paths (process-level conditions, message correlations) call the environment directly: there the
:class:`ScriptError` itself arrives, without task.

Limits, on purpose or by necessity:
- ``try`` is allowed, but every ``except``/``finally`` block first re-checks the deadline, and ``except``
  may only name exception types, so a script cannot swallow its own timeout. ``import``, ``class`` and
  ``with`` are refused. RestrictedPython refuses ``x[k] += 1``: write ``x[k] = x[k] + 1``.
- The time limit is checked between Python lines; one long C-level call (``sorted`` of a huge list)
  finishes first. ``+ * ** <<`` and ``range()`` refuse results over ``_MAX_ITEMS`` items or
  ``_MAX_INT_BITS`` bits, but ``'%*d' % (10**9, 1)`` or ``str.ljust`` can still allocate: the worker's
  memory limit is the backstop.
- Helpers are trusted. One that calls back into script code must not catch ``Exception`` broadly.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import functools
import math
import operator
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import CodeType, FrameType
from typing import Any, Literal
from zoneinfo import ZoneInfo

from RestrictedPython import (
    CompileResult,
    PrintCollector,
    RestrictingNodeTransformer,
    compile_restricted_eval,
    compile_restricted_exec,
    safe_builtins,
)
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safer_getattr_raise
from RestrictedPython.transformer import INSPECT_ATTRIBUTES
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine import clock
from engine.errors import ConfigurationError, SandboxViolation, ScriptError, ScriptTimeout

Mode = Literal["exec", "eval"]
_FILENAME = "<string>"  # SpiffWorkflow finds the failing line by this name in the traceback
_MAX_ITEMS = 10_000_000
_MAX_INT_BITS = 1_000_000
_MAX_DEPTH = 50
_FORBIDDEN = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "open",
        "input",
        "globals",
        "locals",
        "vars",
        "dir",
        "type",
        "object",
        "super",
        "getattr",
        "setattr",
        "delattr",
        "memoryview",
        "breakpoint",
        "help",
        "exit",
        "quit",
    }
)
_GUARDED_BINOPS = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_"}


class _ScriptPolicy(RestrictingNodeTransformer):
    """RestrictedPython's rules, plus ours: see the module docstring."""

    def _refuse(self, node: ast.AST, reason: str) -> ast.AST:
        self.error(node, reason)
        return node

    def visit_Import(self, node: ast.AST) -> ast.AST:
        return self._refuse(node, "import is not allowed in scripts; use the functions provided")

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        return self._refuse(node, "classes cannot be defined in scripts")

    def visit_With(self, node: ast.With) -> ast.AST:
        return self._refuse(node, "'with' is not allowed in scripts")

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if isinstance(node.func, ast.Name) and node.func.id in _FORBIDDEN:
            self.error(node, f"{node.func.id}() is not allowed in scripts")
            return self.node_contents_visit(node)
        return super().visit_Call(node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        guard = _GUARDED_BINOPS.get(type(node.op))
        if guard is None:
            return node
        call = ast.Call(ast.Name(guard, ast.Load()), [node.left, node.right], [])
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_While(self, node: ast.While) -> ast.AST:
        # `while True: pass` jumps to itself and Python emits no line event for the tracer to see.
        node = self.node_contents_visit(node)
        node.body.insert(0, _time_check(node.body[0]))
        return node

    def visit_Try(self, node: ast.Try) -> ast.AST:
        node = self.node_contents_visit(node)
        for handler in node.handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            if not all(kind is None or isinstance(kind, ast.Name) for kind in kinds):
                self.error(handler, "'except' may only name exception types, e.g. except KeyError:")
            handler.body.insert(0, _time_check(handler.body[0]))
        if node.finalbody:
            node.finalbody.insert(0, _time_check(node.finalbody[0]))
        return node


def _time_check(at: ast.stmt) -> ast.stmt:
    statement = ast.Expr(ast.Call(ast.Name("_check_time_", ast.Load()), [], []))
    return ast.fix_missing_locations(ast.copy_location(statement, at))


@functools.lru_cache(maxsize=2048)
def compiled(source: str, mode: Mode = "exec") -> CompileResult:
    """Compile ``source`` under the sandbox rules, once per distinct text (a compile costs ~85 µs)."""
    compile_mode = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    return compile_mode(source, filename=_FILENAME, policy=_ScriptPolicy)


def check_script(source: str, mode: Mode = "exec") -> list[str]:
    """Problems that stop ``source`` from running (syntax, forbidden names), without running it."""
    problems = []
    for message in compiled(source, mode).errors:
        error = _compile_error(message)
        line = error.details.get("line")
        problems.append(f"line {line}: {error.message}" if line else error.message)
    return problems


def _compile_error(message: str) -> ScriptError:
    match = re.match(r"Line (\w+): (.*)", message, re.DOTALL)
    text = match[2] if match else message
    is_syntax = text.startswith(("SyntaxError", "IndentationError", "TabError"))
    error = (ScriptError if is_syntax else SandboxViolation)(text)
    # Kept out of the message so whoever adds the task and line later does not repeat it.
    error.details["line"] = int(match[1]) if match and match[1].isdigit() else None
    return error


def _code(source: str, mode: Mode) -> CodeType:
    result = compiled(source, mode)
    if result.errors:
        raise _compile_error(result.errors[0])
    assert result.code is not None
    return result.code


# --- guards the compiled code calls ---------------------------------------------------------------


def _check_size(symbol: str, a: Any, b: Any) -> None:
    """Refuse one-step results that would exhaust memory or CPU inside C, where the clock cannot reach."""
    ints = isinstance(a, int) and isinstance(b, int)
    if symbol == "**":
        too_big = ints and b > 0 and abs(a) > 1 and b * a.bit_length() > _MAX_INT_BITS
    elif symbol == "<<":
        too_big = ints and a != 0 and b + a.bit_length() > _MAX_INT_BITS
    elif ints:
        too_big = symbol == "*" and a.bit_length() + b.bit_length() > _MAX_INT_BITS
    elif symbol == "+":
        too_big = _length(a) + _length(b) > _MAX_ITEMS
    else:
        too_big = (
            max(_length(a) * (b if isinstance(b, int) else 0), _length(b) * (a if isinstance(a, int) else 0))
            > _MAX_ITEMS
        )
    if too_big:
        raise SandboxViolation(f"'{symbol}' would build a value too large for a script")


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple) else 0


def _guarded(symbol: str, apply: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def guarded(a: Any, b: Any) -> Any:
        _check_size(symbol, a, b)
        return apply(a, b)

    return guarded


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": _guarded("+", operator.iadd),
    "*=": _guarded("*", operator.imul),
    "**=": _guarded("**", operator.ipow),
    "<<=": _guarded("<<", operator.ilshift),
    "-=": operator.isub,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
    "@=": operator.imatmul,
}


def _guarded_getattr(obj: object, name: str) -> Any:
    if name.startswith("_") or name in INSPECT_ATTRIBUTES:
        raise SandboxViolation(f"scripts may not read the attribute '{name}'")
    if name in ("format", "format_map") and (isinstance(obj, str) or obj is str):
        raise SandboxViolation("str.format() is not allowed in scripts; use an f-string instead")
    if name in ("now", "today", "utcnow") and (isinstance(obj, date) or obj is date or obj is datetime):
        raise SandboxViolation(f"use now() or today() instead of .{name}(): they follow the process clock")
    return safer_getattr_raise(obj, name)


class _ReadOnly:
    """What ``_write_`` hands back for anything but a dict or list: every write is refused."""

    __slots__ = ("kind",)

    def __init__(self, value: object) -> None:
        object.__setattr__(self, "kind", type(value).__name__)

    def _refuse(self, *args: object) -> None:
        raise SandboxViolation(f"scripts cannot change a {self.kind} in place; build a new value instead")

    __setattr__ = __delattr__ = __setitem__ = __delitem__ = _refuse


def _range(*args: int) -> range:
    numbers = range(*args)
    with contextlib.suppress(OverflowError):
        if len(numbers) <= _MAX_ITEMS:
            return numbers
    raise SandboxViolation(f"range() is limited to {_MAX_ITEMS:,} numbers in scripts")


def _refused(name: str) -> Callable[..., Any]:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise SandboxViolation(f"{name}() is not allowed in scripts")

    return refused


_GUARDS: dict[str, Any] = {
    "_getattr_": _guarded_getattr,
    "_getitem_": operator.getitem,
    "_getiter_": iter,
    "_write_": lambda value: value if type(value) in (dict, list) else _ReadOnly(value),
    "_inplacevar_": lambda op, a, b: _INPLACE[op](a, b),
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_apply_": lambda func, *args, **kwargs: func(*args, **kwargs),
    "_print_": PrintCollector,
    "_add_": _guarded("+", operator.add),
    "_mul_": _guarded("*", operator.mul),
    "_pow_": _guarded("**", operator.pow),
    "_lshift_": _guarded("<<", operator.lshift),
}
_BUILTINS: dict[str, Any] = {
    **{name: value for name, value in safe_builtins.items() if not name.startswith("_")},
    **{name: _refused(name) for name in _FORBIDDEN | {"setattr", "delattr"}},
    "min": min,
    "max": max,
    "sum": sum,
    "any": any,
    "all": all,
    "sorted": sorted,
    "reversed": reversed,
    "enumerate": enumerate,
    "zip": zip,
    "map": map,
    "filter": filter,
    "list": list,
    "dict": dict,
    "set": set,
    "frozenset": frozenset,
    "tuple": tuple,
    "range": _range,
    "pow": lambda base, exp, mod=None: _GUARDS["_pow_"](base, exp) if mod is None else pow(base, exp, mod),
    # C code inside date.strftime / datetime.strptime imports these through the frame's builtins.
    # Scripts themselves can never name __import__ (RestrictedPython refuses names starting with "_").
    "__import__": lambda name, *args, **kwargs: _internal_import(name),
}


def _internal_import(name: str) -> Any:
    if name not in {"time", "_strptime"}:
        raise SandboxViolation(f"import {name} is not allowed in scripts")
    import importlib

    return importlib.import_module(name)


# --- helpers scripts can call ---------------------------------------------------------------------


@functools.cache
def _england() -> ZoneInfo:
    return ZoneInfo("Europe/London")


def today() -> date:
    """Today's date in England, by the engine clock (so tests and scenarios can move it)."""
    return clock.now().astimezone(_england()).date()


def parse_date(value: str | date | None) -> date | None:
    """A date from ``YYYY-MM-DD``, or from a date and time with an offset (its date in England)."""
    if isinstance(value, str):
        text = value.strip()
        value = (
            (date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)) if text else None
        )
    if isinstance(value, datetime):
        return clock.as_utc(value).astimezone(_england()).date()
    return value


STANDARD_HELPERS: Mapping[str, Any] = {
    "date": date,
    "datetime": datetime,
    "timedelta": timedelta,
    "timezone": timezone,
    "UTC": UTC,
    "now": clock.now,
    "today": today,
    "parse_date": parse_date,
    "floor": math.floor,
    "ceil": math.ceil,
    "format_date": lambda value, pattern=None: format_date(value, pattern),
}


def format_date(value: str | date, pattern: str | None = None) -> str:
    """A date as letters write it: "2 March 2026" (or with a strftime ``pattern``)."""
    day = parse_date(value) if isinstance(value, str) else value
    if day is None:
        return ""
    return day.strftime(pattern) if pattern else f"{day.day} {day:%B %Y}"


# --- running --------------------------------------------------------------------------------------


class _Deadline:
    """Stops script code after ``seconds`` of wall-clock time, in whichever thread runs it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.tracer = self.trace  # one bound method, so that `sys.gettrace() is self.tracer` works

    def check(self) -> None:
        if time.monotonic() > self.expires:
            raise ScriptTimeout(
                f"The script ran for more than {self.seconds:g} s and was stopped; look for a loop "
                "that never ends or move heavy work out of the process"
            )

    def resume(self) -> None:
        """Called first in every loop body and ``except``/``finally`` block. Python switches off a
        tracer that raised (a timeout, or a RecursionError while tracing): switch it back on, as pdb does."""
        if sys.gettrace() is not self.tracer:
            sys.settrace(self.tracer)
            frame: FrameType | None = sys._getframe(1)
            while frame is not None:
                if frame.f_code.co_filename == _FILENAME:
                    frame.f_trace = self.tracer
                frame = frame.f_back
        self.check()

    def trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != _FILENAME:
            return None  # helpers are trusted: do not interrupt them half-way
        self.check()
        return self.tracer


@contextlib.contextmanager
def _traced(deadline: _Deadline) -> Iterator[None]:
    previous = sys.gettrace()  # a debugger's or coverage's tracer
    sys.settrace(deadline.tracer)
    try:
        yield
    finally:
        sys.settrace(previous)


def _line_of(error: BaseException) -> int | None:
    tb, line = error.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _json_safe(value: Any, path: str, depth: int = 0) -> Any:
    """``value`` as it will read back from storage: tuples and sets become lists, dates ISO text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if depth > _MAX_DEPTH:
        raise ScriptError(f"'{path}' is nested too deeply (does it contain itself?)")
    if isinstance(value, dict):
        return {_json_key(k, path): _json_safe(v, f"{path}[{k!r}]", depth + 1) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        with contextlib.suppress(TypeError):
            value = sorted(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ScriptError(f"'{path}' is a date and time without a UTC offset; use now() or tzinfo=UTC")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        raise ScriptError(f"'{path}' is a Decimal, which cannot be saved with the case; use int or float")
    raise ScriptError(
        f"'{path}' holds a {type(value).__name__}, which cannot be saved with the case; "
        "keep text, numbers, true/false, lists and dictionaries"
    )


def _json_key(key: Any, path: str) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    raise ScriptError(f"'{path}' has the key {key!r}; dictionary keys must be text or whole numbers")


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Runs scripts and expressions like SpiffWorkflow's ``TaskDataEnvironment``, but sandboxed."""

    def __init__(self, helpers: Mapping[str, Any] | None = None, *, time_limit_seconds: float = 2.0) -> None:
        merged = {**STANDARD_HELPERS, **(helpers or {})}
        bad = sorted(name for name in merged if not name.isidentifier() or name.startswith("_"))
        if bad or time_limit_seconds <= 0:
            raise ConfigurationError(f"Script helpers need plain names and a positive time limit: {bad}")
        super().__init__(merged)
        self.time_limit_seconds = time_limit_seconds

    def evaluate(
        self, expression: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> Any:
        """The value of ``expression`` with the task data as variables (data may hide a helper)."""
        code = _code(expression.strip(), "eval")
        return self._run(code, self._scope(context, external_context or {}))

    def execute(
        self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> bool:
        """Run ``script``; on success ``context`` holds the variables it set, JSON-safe. On failure it
        is left as it was.

        Task data may use a helper's name (a form field called ``date`` is common): inside this
        script the data value hides the helper, and the field is kept as data.
        """
        external = external_context or {}
        scope = self._scope(context, external)
        self._run(_code(script, "exec"), scope)
        result = {
            name: _json_safe(value, name)
            for name, value in scope.items()
            if not (name.startswith("_") or callable(value))
        }
        kept = {name: value for name, value in context.items() if name.startswith("_")}
        context.clear()
        context.update(kept | result)
        return True

    def _scope(self, context: Mapping[str, Any], external: Mapping[str, Any]) -> dict[str, Any]:
        # Names starting with "_" cannot be written in a script; keeping them out of the scope also
        # stops task data from replacing a guard.
        scope = copy.deepcopy({name: value for name, value in context.items() if not name.startswith("_")})
        scope.update(_GUARDS)
        scope["__builtins__"] = {**_BUILTINS, **self.globals, **external}
        return scope

    def _run(self, code: CodeType, scope: dict[str, Any]) -> Any:
        deadline = _Deadline(self.time_limit_seconds)
        scope["_check_time_"] = deadline.resume
        try:
            with _traced(deadline):
                return eval(code, scope)
        except RecursionError as error:
            failure = ScriptError("The script calls functions too deeply (does a function call itself?)")
            failure.details["line"] = _line_of(error)
            raise failure from error


class SandboxScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine on a :class:`SandboxEnvironment`; see the module docstring."""

    def __init__(
        self,
        environment: SandboxEnvironment | None = None,
        *,
        helpers: Mapping[str, Any] | None = None,
        time_limit_seconds: float = 2.0,
        connectors: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(environment or SandboxEnvironment(helpers, time_limit_seconds=time_limit_seconds))
        self.connectors = dict(connectors or {})

    def call_service(self, task: Any, **kwargs: Any) -> str:
        """Run a service task's operator: one of the installed connectors (deploy refuses any other).

        A connector is ``callable(task_data, operation_params) -> JSON text``.
        """
        name = kwargs.get("operation_name", "")
        connector = self.connectors.get(name)
        try:
            if connector is None:
                raise ScriptError(f"No connector '{name}' is installed")
            return str(connector(dict(task.data), kwargs.get("operation_params") or {}))
        except Exception as error:
            detail = error.message if isinstance(error, ScriptError) else f"{type(error).__name__}: {error}"
            wrapped = WorkflowTaskException(detail, task=task, exception=error)
            wrapped.exception = error
            raise wrapped from error

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        """Evaluate ``expression`` for ``task``; failures become ``WorkflowTaskException`` (cause kept)."""
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as error:
            error.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as error:
            wrapped = WorkflowTaskException(
                f"Error evaluating expression '{expression}': {error}", task=task, exception=error
            )
            wrapped.exception = error
            raise wrapped from error

    def execute(self, task: Any, script: str, external_context: Mapping[str, Any] | None = None) -> bool:
        """Run ``script`` for ``task``; failures become ``WorkflowTaskException`` (cause kept)."""
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except Exception as error:
            wrapped = self.create_task_exec_exception(task, script, error)
            if wrapped is error:
                raise
            wrapped.exception = error
            raise wrapped from error

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> Exception:
        """Like SpiffWorkflow's, without its crash on errors whose first argument is not text."""
        if isinstance(err, SpiffWorkflowException):
            return super().create_task_exec_exception(task, script, err)
        line, error_line = self.get_error_line_number_and_content(script, err)
        detail = err.message if isinstance(err, ScriptError) else f"{type(err).__name__}: {err}"
        return WorkflowTaskException(
            detail, task=task, exception=err, line_number=line, error_line=error_line
        )

    def get_error_line_number_and_content(self, script: str, err: Exception) -> tuple[int, str]:
        """The failing line: from a compile error's details, else from the traceback."""
        line = err.details.get("line") if isinstance(err, ScriptError) else None
        if not line:
            return super().get_error_line_number_and_content(script, err)
        lines = script.splitlines()
        return line, lines[line - 1] if line <= len(lines) else ""
