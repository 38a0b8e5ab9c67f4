"""What the API reads and writes, as marshmallow schemas.

Output schemas have a field set per role (as CTFd's schemas have per view): ``TaskSchema(view="school")``
dumps only what a school user may see. School users never see lanes, teams, who holds or completed a
task, message correlations (other systems' references), engine errors or case history; caseworkers see
their casework; managers and administrators also see the audit fields (who started, completed, when)
and the data recorded in the history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from engine.access import Principal
from engine.models.workflow import InstanceState, TaskState

VIEWS = ("school", "caseworker", "manager", "administrator")
MAX_PAGE = 200
MAX_ID = 2**31 - 1  # ids and versions are 32-bit integers in the database


def view_for(principal: Principal) -> str:
    """The field set a person gets: their role's."""
    return principal.role if principal.role in VIEWS else "school"  # unknown roles get the least


class Timestamp(fields.Field):
    """An ISO 8601 date-time; services hand over either ``datetime`` objects or ISO strings."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return value.isoformat() if isinstance(value, datetime) else value


class Text(fields.String):
    """Input text: a string without NUL characters (PostgreSQL cannot store them)."""

    default_error_messages = {"nul": "Remove the NUL character from this value."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("nul")
        return text


class RoleViewSchema(Schema):
    """A schema whose dumped fields depend on who is asking: ``views`` maps each role to its fields."""

    views: ClassVar[dict[str, tuple[str, ...]]] = {}

    class Meta:
        unknown = EXCLUDE

    def __init__(self, view: str | None = None, **kwargs: Any) -> None:
        if view is not None:
            kwargs["only"] = self.views[view]
        super().__init__(**kwargs)


def _views(school: str, caseworker: str, manager: str) -> dict[str, tuple[str, ...]]:
    """Each role sees what the one before it sees, and more (field names separated by spaces;
    ``tasks.id`` names a field of a nested list)."""
    seen_by_school, by_caseworker, by_manager = (
        tuple(names.split()) for names in (school, caseworker, manager)
    )
    everything = seen_by_school + by_caseworker + by_manager
    return {
        "school": seen_by_school,
        "caseworker": seen_by_school + by_caseworker,
        "manager": everything,
        "administrator": everything,
    }


# --- tasks ----------------------------------------------------------------------------------------------


class TaskSchema(RoleViewSchema):
    id = fields.String(metadata={"description": "The task's id (use it in /tasks/{id} URLs)."})
    instance_id = fields.Integer()
    process_id = fields.String()
    business_key = fields.String(allow_none=True, metadata={"description": "Usually the pupil's UPN."})
    task_id = fields.String(metadata={"description": "The BPMN element id of the user task."})
    name = fields.String()
    form = fields.String(allow_none=True, metadata={"description": "The task's form (JSON Schema file)."})
    due_at = Timestamp(allow_none=True)
    state = fields.String(metadata={"enum": [TaskState.READY, TaskState.COMPLETED, TaskState.CANCELLED]})
    completed_at = Timestamp(allow_none=True)
    lane = fields.String(allow_none=True)
    teams = fields.List(fields.String())
    assignee = fields.String(allow_none=True)
    ui_form = fields.String(allow_none=True)
    created_at = Timestamp()
    completed_by = fields.String(allow_none=True)

    views = _views(
        school="id instance_id process_id business_key task_id name form due_at state completed_at",
        caseworker="lane teams assignee ui_form",
        manager="created_at completed_by",
    )


class CompletedTaskSchema(TaskSchema):
    instance_state = fields.String(metadata={"description": "The case's state after the task."})
    next_tasks = fields.List(fields.String(), metadata={"description": "Ids of the tasks open now."})

    views = {
        view: (*names, "instance_state", *(("next_tasks",) if view != "school" else ()))
        for view, names in TaskSchema.views.items()
    }


class TaskFormSchema(Schema):
    task = fields.String(metadata={"description": "The task's id."})
    form = fields.String(allow_none=True)
    schema = fields.Dict(allow_none=True, metadata={"description": "The form's JSON Schema (2020-12)."})
    ui_schema = fields.Dict(allow_none=True)
    data = fields.Dict(
        metadata={"description": "The task's current data, only the fields the form declares."}
    )


class TaskListQuery(Schema):
    class Meta:
        unknown = RAISE

    team = Text(validate=validate.Length(1, 100))
    assignee = Text(
        validate=validate.Length(1, 100),
        metadata={"description": "`me` for the caller's own tasks (managers may name anyone)."},
    )
    unassigned = fields.Boolean(load_default=False)
    process = Text(validate=validate.Length(1, 200))
    business_key = Text(validate=validate.Length(1, 100))
    overdue = fields.Boolean(load_default=False)
    state = Text(
        load_default=TaskState.READY,
        validate=validate.OneOf([TaskState.READY, TaskState.COMPLETED, TaskState.CANCELLED]),
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


# --- instances ------------------------------------------------------------------------------------------

INSTANCE_STATES = [
    InstanceState.RUNNING,
    InstanceState.WAITING,
    InstanceState.USER_INPUT_REQUIRED,
    InstanceState.COMPLETE,
    InstanceState.CANCELLED,
    InstanceState.ERROR,
]


class InstanceTaskSchema(Schema):
    id = fields.String()
    task_id = fields.String()
    name = fields.String()
    state = fields.String()
    form = fields.String(allow_none=True)
    due_at = Timestamp(allow_none=True)
    completed_at = Timestamp(allow_none=True)
    teams = fields.List(fields.String())
    assignee = fields.String(allow_none=True)
    completed_by = fields.String(allow_none=True)


class TimerSchema(Schema):
    task_id = fields.String()
    name = fields.String(allow_none=True)
    kind = fields.String()
    due_at = Timestamp(allow_none=True)
    state = fields.String()
    fired_at = Timestamp(allow_none=True)


class MessageWaitSchema(Schema):
    task_id = fields.String()
    message = fields.String()
    correlation = fields.Dict(allow_none=True)
    state = fields.String()


class EventSchema(Schema):
    at = Timestamp()
    actor = fields.String(allow_none=True)
    kind = fields.String()
    task = fields.String(allow_none=True)
    data = fields.Raw(allow_none=True, metadata={"description": "What was recorded (managers only)."})


class InstanceSchema(RoleViewSchema):
    id = fields.Integer()
    process_id = fields.String()
    business_key = fields.String(allow_none=True)
    state = fields.String(metadata={"enum": INSTANCE_STATES})
    started_at = Timestamp()
    ended_at = Timestamp(allow_none=True)
    tasks = fields.List(fields.Nested(InstanceTaskSchema))
    version = fields.Integer()
    suspended = fields.Boolean()
    timers = fields.List(fields.Nested(TimerSchema))
    messages = fields.List(fields.Nested(MessageWaitSchema))
    events = fields.List(fields.Nested(EventSchema))
    started_by = fields.String(allow_none=True)
    error = fields.Dict(allow_none=True)

    views = _views(
        school="id process_id business_key state started_at ended_at "
        "tasks.id tasks.task_id tasks.name tasks.state tasks.form tasks.due_at tasks.completed_at",
        caseworker="version suspended timers messages tasks.teams tasks.assignee "
        "events.at events.actor events.kind events.task",
        manager="started_by error tasks.completed_by events.data",
    )


class InstanceSummarySchema(RoleViewSchema):
    id = fields.Integer()
    process_id = fields.String()
    business_key = fields.String(allow_none=True)
    state = fields.String(metadata={"enum": INSTANCE_STATES})
    started_at = Timestamp()
    ended_at = Timestamp(allow_none=True)
    version = fields.Integer()
    suspended = fields.Boolean()
    started_by = fields.String(allow_none=True)
    error = fields.Dict(allow_none=True)

    views = _views(
        school="id process_id business_key state started_at ended_at",
        caseworker="version suspended",
        manager="started_by error",
    )


class StartInstanceSchema(Schema):
    class Meta:
        unknown = RAISE

    process_id = Text(required=True, validate=validate.Length(1, 200))
    business_key = Text(allow_none=True, load_default=None, validate=validate.Length(1, 100))
    data = fields.Dict(load_default=dict, metadata={"description": "Start data (the start form's answers)."})
    version = fields.Integer(
        allow_none=True,
        load_default=None,
        validate=validate.Range(1, MAX_ID),
        metadata={"description": "A deployed version; the latest when left out (LA staff only)."},
    )


class InstanceListQuery(Schema):
    class Meta:
        unknown = RAISE

    process = Text(validate=validate.Length(1, 200))
    state = Text(validate=validate.OneOf(INSTANCE_STATES))
    business_key = Text(validate=validate.Length(1, 100))
    suspended = fields.Boolean()
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class ReasonSchema(Schema):
    class Meta:
        unknown = RAISE

    reason = Text(load_default="", validate=validate.Length(0, 1000))


class RetrySchema(Schema):
    class Meta:
        unknown = RAISE

    data_changes = fields.Dict(
        load_default=dict, metadata={"description": "Corrections to the case's data before the retry."}
    )


# --- processes and messages -----------------------------------------------------------------------------


class ProcessSchema(RoleViewSchema):
    process_id = fields.String()
    name = fields.String(allow_none=True)
    latest_version = fields.Integer()
    start_messages = fields.List(fields.String())
    open_instances = fields.Integer()
    deployed_at = Timestamp()
    deployed_by = fields.String(allow_none=True)

    views = _views(
        school="process_id name latest_version",
        caseworker="start_messages",
        manager="open_instances deployed_at deployed_by",
    )


class ProcessInFileSchema(Schema):
    process_id = fields.String()
    name = fields.String(allow_none=True)
    file = fields.String()
    executable = fields.Boolean()
    called_processes = fields.List(fields.String())
    start_messages = fields.List(fields.String())
    user_tasks = fields.Integer()


class DeployedProcessSchema(Schema):
    process_id = fields.String()
    name = fields.String(allow_none=True)
    version = fields.Integer()
    status = fields.String(metadata={"enum": ["new", "unchanged"]})
    file = fields.String()


class DeployReportSchema(Schema):
    processes = fields.List(fields.Nested(ProcessInFileSchema))
    deployed = fields.List(fields.Nested(DeployedProcessSchema))
    warnings = fields.List(fields.String())


class DeployQuery(Schema):
    class Meta:
        unknown = RAISE

    validate_only = fields.Boolean(
        load_default=False, metadata={"description": "Check the files as deployment would; deploy nothing."}
    )


class MessageSchema(Schema):
    class Meta:
        unknown = RAISE

    name = Text(required=True, validate=validate.Length(1, 200))
    correlation = fields.Dict(
        load_default=dict, metadata={"description": 'Values that pick the case, e.g. {"notice_ref": "PN-1"}.'}
    )
    payload = fields.Dict(allow_none=True, load_default=None)


class MessageResultSchema(Schema):
    message_id = fields.Integer()
    name = fields.String()
    delivered_to = fields.List(fields.Integer(), metadata={"description": "Cases that were waiting for it."})
    started = fields.List(fields.Integer(), metadata={"description": "Cases it started."})


# --- errors ---------------------------------------------------------------------------------------------


class FieldErrorSchema(Schema):
    path = fields.String(metadata={"description": "Dotted path of the field, e.g. parents.0.name."})
    message = fields.String()


class BpmnProblemSchema(Schema):
    file = fields.String()
    reason = fields.String()
    element_id = fields.String(allow_none=True)
    line = fields.Integer(allow_none=True)


class ProblemSchema(Schema):
    """An RFC 9457 problem; ``code`` is stable, ``detail`` is for people."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    code = fields.String()
    errors = fields.List(fields.Nested(FieldErrorSchema), metadata={"description": "422: one per field."})
    problems = fields.List(fields.Nested(BpmnProblemSchema), metadata={"description": "invalid_bpmn."})
    completed_by = fields.String(allow_none=True, metadata={"description": "task_already_completed."})
