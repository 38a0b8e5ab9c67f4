"""Timer event definitions that read the engine clock instead of the system clock.

SpiffWorkflow's timers call ``datetime.now()`` directly and read naive times in the server's zone.
These subclasses use :func:`engine.clock.now` (so tests and ``timers run-due --now`` control time) and
:mod:`engine.workflow.deadlines` (so dates and school-day deadlines mean the same everywhere).
After parsing, :func:`use_engine_clock` swaps every timer definition in a spec for its subclass.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

from .. import clock
from .deadlines import deadline_instant


def _evaluate(my_task: Any, expression: str) -> Any:
    return my_task.workflow.script_engine.evaluate(my_task, expression)


class EngineTimeDate(TimeDateEventDefinition):
    """Fires at a date or instant."""

    def due_at(self, my_task: Any) -> datetime:
        value = my_task._get_internal_data("event_value")
        if value is None:
            value = deadline_instant(_evaluate(my_task, self.expression)).isoformat()
            my_task._set_internal_data(event_value=value)
        return datetime.fromisoformat(value)

    def has_fired(self, my_task: Any) -> bool:
        if self.due_at(my_task) <= clock.now():
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class EngineDuration(DurationTimerEventDefinition):
    """Fires a duration after the task was reached; an expression may also give a date (a deadline)."""

    def due_at(self, my_task: Any) -> datetime:
        value = my_task._get_internal_data("event_value")
        if value is None:
            result = _evaluate(my_task, self.expression)
            if isinstance(result, str) and result.strip().upper().startswith("P"):
                parsed = TimerEventDefinition.parse_iso_duration(result.strip())
                start = clock.now()
                due = start + TimerEventDefinition.get_timedelta_from_start(parsed, start)
            else:
                due = deadline_instant(result)
            value = due.isoformat()
            my_task._set_internal_data(event_value=value)
        return datetime.fromisoformat(value)

    def has_fired(self, my_task: Any) -> bool:
        if self.due_at(my_task) <= clock.now():
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class EngineCycle(CycleTimerEventDefinition):
    """Repeats ``R<n>/<start>/<duration>``; a missing start means "one duration from now"."""

    def due_at(self, my_task: Any) -> datetime | None:
        value = self._event_value(my_task)
        return datetime.fromisoformat(value["next"]) if value["cycles"] != 0 else None

    def _event_value(self, my_task: Any) -> dict[str, Any]:
        value = my_task._get_internal_data("event_value")
        if value is None:
            expression = _evaluate(my_task, self.expression)
            cycles, start, duration = _parse_cycle(expression)
            value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
            my_task._set_internal_data(event_value=value)
        return value

    def cycle_complete(self, my_task: Any) -> bool:
        value = self._event_value(my_task)
        if value["cycles"] == 0:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
            return False
        next_event = datetime.fromisoformat(value["next"])
        if next_event > clock.now():
            return False
        value["next"] = (next_event + timedelta(seconds=value["duration"])).isoformat()
        value["cycles"] -= 1
        my_task._set_internal_data(event_value=value)
        return True


def _parse_cycle(expression: str) -> tuple[int, datetime, timedelta]:
    parts = expression.strip().upper().split("/")
    cycles = int(parts[0].lstrip("R")) if parts[0].lstrip("R") else -1
    if len(parts) == 2:
        parsed = TimerEventDefinition.parse_iso_duration(parts[1])
        start = clock.now()
        duration = TimerEventDefinition.get_timedelta_from_start(parsed, start)
        return cycles, start + duration, duration
    first, second = parts[1], parts[2]
    if first.startswith("P"):  # duration/end
        end = deadline_instant(second)
        duration = TimerEventDefinition.get_timedelta_from_end(
            TimerEventDefinition.parse_iso_duration(first), end
        )
        return cycles, end - duration, duration
    start = deadline_instant(first)
    duration = TimerEventDefinition.get_timedelta_from_start(
        TimerEventDefinition.parse_iso_duration(second), start
    )
    return cycles, start, duration


_REPLACEMENTS: dict[type, type] = {
    TimeDateEventDefinition: EngineTimeDate,
    DurationTimerEventDefinition: EngineDuration,
    CycleTimerEventDefinition: EngineCycle,
}

ENGINE_TIMER_CLASSES = tuple(_REPLACEMENTS.values())


def _swap(definition: Any) -> None:
    replacement = _REPLACEMENTS.get(type(definition))
    if replacement is not None:
        definition.__class__ = replacement  # same attributes; only behaviour differs
    elif isinstance(definition, MultipleEventDefinition):
        for inner in definition.event_definitions:
            _swap(inner)


def use_engine_clock(*specs: Any) -> None:
    """Replace SpiffWorkflow's timer definitions in these process specs with the engine's."""
    for spec in specs:
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            if definition is not None:
                _swap(definition)


def timer_due_at(my_task: Any) -> datetime | None:
    """When a waiting timer task will fire (None for a finished cycle)."""
    definition = my_task.task_spec.event_definition
    if isinstance(definition, MultipleEventDefinition):
        dues = [
            d.due_at(my_task) for d in definition.event_definitions if isinstance(d, ENGINE_TIMER_CLASSES)
        ]
        dues = [d for d in dues if d is not None]
        return min(dues) if dues else None
    return definition.due_at(my_task)
