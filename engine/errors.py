"""The engine's exception hierarchy.

Every error a person can cause carries a stable ``code`` (used by the API and the CLI) and a message
that says what was wrong and what to do about it. Web layers map these to HTTP statuses; the CLI prints
``str(error)`` on one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class EduCaseError(Exception):
    """Base class of everything the engine raises on purpose."""

    code = "educase_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.details}


class NotFound(EduCaseError):
    code = "not_found"


class Conflict(EduCaseError):
    """The request clashes with the current state (someone else got there first)."""

    code = "conflict"


class InvalidInput(EduCaseError):
    code = "invalid_input"


class ConfigurationError(EduCaseError):
    code = "configuration_error"


# --- process library ------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a BPMN or form file, located as precisely as we can."""

    file: str
    reason: str
    element_id: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element_id:
            where += f" [{self.element_id}]"
        return f"{where}: {self.reason}"


class ProcessValidationError(EduCaseError):
    """A BPMN file (or set of files) cannot be deployed. ``problems`` lists every reason found."""

    code = "invalid_bpmn"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        summary = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(summary + more, problems=[p.__dict__ for p in problems])


# --- forms -------------------------------------------------------------------------------------


class FormSchemaError(EduCaseError):
    """A form file is not a usable JSON Schema."""

    code = "invalid_form_schema"


@dataclass(frozen=True)
class FieldError:
    """A validation failure on one field. ``path`` is a dotted path such as ``parents.0.name``."""

    path: str
    message: str


class FormDataInvalid(EduCaseError):
    """Submitted data does not satisfy the task's form. ``errors`` holds one entry per field."""

    code = "invalid_form_data"

    def __init__(self, errors: list[FieldError], form: str = "") -> None:
        self.errors = errors
        self.form = form
        first = "; ".join(f"{e.path or '(form)'}: {e.message}" for e in errors[:3])
        super().__init__(
            f"The form '{form}' has {len(errors)} problem(s): {first}",
            errors=[e.__dict__ for e in errors],
        )


# --- runtime -----------------------------------------------------------------------------------


class TaskNotReady(Conflict):
    code = "task_not_ready"


class TaskAlreadyCompleted(Conflict):
    code = "task_already_completed"


class InstanceChanged(Conflict):
    """Someone else changed the instance between our read and our write (optimistic locking)."""

    code = "instance_changed"


class InstanceNotRunning(Conflict):
    code = "instance_not_running"


class ScriptError(EduCaseError):
    """A script, condition or expression in a process failed."""

    code = "script_error"

    def __init__(
        self,
        message: str,
        *,
        process_id: str | None = None,
        task_id: str | None = None,
        task_name: str | None = None,
        line: int | None = None,
    ) -> None:
        where = " ".join(
            part
            for part in (
                f"process '{process_id}'" if process_id else "",
                f"task '{task_name or task_id}'" if (task_name or task_id) else "",
                f"line {line}" if line else "",
            )
            if part
        )
        super().__init__(
            f"{message} ({where})" if where else message,
            process_id=process_id,
            task_id=task_id,
            task_name=task_name,
            line=line,
        )


class ScriptTimeout(ScriptError):
    code = "script_timeout"


class SandboxViolation(ScriptError):
    """A script tried to do something scripts may not do (import, open files, reach internals)."""

    code = "sandbox_violation"


class WorkflowError(EduCaseError):
    """The process cannot go on (no gateway path matched, an event nobody catches...)."""

    code = "workflow_error"


class MessageNotDelivered(EduCaseError):
    code = "message_not_delivered"


class PermissionDenied(EduCaseError):
    code = "permission_denied"
