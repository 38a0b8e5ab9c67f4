"""What a BPMN file says about its processes, read straight from the XML.

SpiffWorkflow's parser skips non-executable processes and keeps no record of lanes as teams, of Camunda's
``candidateGroups`` or of spiff-arena's form properties in one place, so the library reads them here: every
process in the file (executable or not), what it calls, which messages start it, and for every user and
manual task the team, form and due date the inbox needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from engine.errors import Problem
from engine.workflow.timer_expressions import check_due_expression

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "spiffworkflow": SPIFF_NS}

HUMAN_TASK_KINDS = {"userTask": "user", "manualTask": "manual"}


@dataclass(frozen=True)
class TaskMeta:
    """What the inbox needs to know about one user or manual task, as the modeller drew it."""

    task_id: str
    name: str
    kind: str  # "user" | "manual"
    lane: str | None
    teams: tuple[str, ...]
    form_ref: str | None
    ui_form_ref: str | None
    due_expression: str | None
    boundary_timer_ids: tuple[str, ...]
    documentation: str | None


@dataclass(frozen=True)
class ProcessInfo:
    """One ``bpmn:process`` found in a file, whether or not it can be started."""

    process_id: str
    name: str | None
    file: str
    executable: bool
    called_processes: tuple[str, ...]
    start_messages: tuple[str, ...]
    tasks: dict[str, TaskMeta]
    start_form_ref: str | None = None  # a form on the start event: initial data must satisfy it


def bpmn(tag: str) -> str:
    """The Clark name (``{namespace}tag``) of a BPMN element."""
    return f"{{{BPMN_NS}}}{tag}"


def is_bpmn(tree: etree._ElementTree) -> bool:
    """Whether the document is a BPMN 2.0 ``definitions`` document at all."""
    return tree.getroot().tag == bpmn("definitions")


def top_level_processes(tree: etree._ElementTree) -> list[etree._Element]:
    """The ``bpmn:process`` elements of a definitions document, in file order."""
    return tree.getroot().findall("bpmn:process", NS)


def is_executable(process: etree._Element) -> bool:
    """Mirror SpiffWorkflow: a process is executable unless it says ``isExecutable="false"``."""
    return process.get("isExecutable", "true") == "true"


def describe(node: etree._Element) -> str:
    """Name an element the way a process designer would: ``user task 'Triage referral'``."""
    local = etree.QName(node).localname
    words = re.sub(r"(?<!^)([A-Z])", r" \1", local).lower()
    return f"{words} '{node.get('name') or node.get('id')}'"


def outline_processes(filename: str, tree: etree._ElementTree) -> tuple[list[ProcessInfo], list[Problem]]:
    """Describe every process in the file; problems are due dates that could never be worked out."""
    participants = {
        p.get("processRef"): p.get("name") for p in tree.getroot().iterfind(".//bpmn:participant", NS)
    }
    messages = {
        m.get("id"): m.get("name") or m.get("id") for m in tree.getroot().iterfind("bpmn:message", NS)
    }
    infos: list[ProcessInfo] = []
    problems: list[Problem] = []
    for process in top_level_processes(tree):
        tasks, task_problems = _human_tasks(filename, process)
        problems += task_problems
        process_id = process.get("id", "")
        infos.append(
            ProcessInfo(
                process_id=process_id,
                name=process.get("name") or participants.get(process_id),
                file=filename,
                executable=is_executable(process),
                called_processes=_unique(process.xpath(".//bpmn:callActivity/@calledElement", namespaces=NS)),
                start_messages=_start_messages(process, messages),
                tasks=tasks,
                start_form_ref=_start_form(process),
            )
        )
    return infos, problems


def _start_form(process: etree._Element) -> str | None:
    for start in process.iterfind("bpmn:startEvent", NS):
        form = _spiff_property(start, "formJsonSchemaFilename")
        if form:
            return form
    return None


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _start_messages(process: etree._Element, messages: dict[str, str]) -> tuple[str, ...]:
    refs = process.xpath("./bpmn:startEvent/bpmn:messageEventDefinition/@messageRef", namespaces=NS)
    return _unique([messages.get(ref, ref) for ref in refs])


def _human_tasks(filename: str, process: etree._Element) -> tuple[dict[str, TaskMeta], list[Problem]]:
    lanes = _lanes_by_node(process)
    timers = _boundary_timers(process)
    tasks: dict[str, TaskMeta] = {}
    problems: list[Problem] = []
    for node in process.iter(*(bpmn(tag) for tag in HUMAN_TASK_KINDS)):
        task_id = node.get("id", "")
        lane = _lane_of(node, process, lanes)
        due, due_problem = _due_expression(filename, node)
        problems += due_problem
        tasks[task_id] = TaskMeta(
            task_id=task_id,
            name=node.get("name") or task_id,
            kind=HUMAN_TASK_KINDS[etree.QName(node).localname],
            lane=lane,
            teams=_teams(node, lane),
            form_ref=_spiff_property(node, "formJsonSchemaFilename"),
            ui_form_ref=_spiff_property(node, "formUiSchemaFilename"),
            due_expression=due,
            boundary_timer_ids=tuple(timers.get(task_id, ())),
            documentation=_documentation(node),
        )
    return tasks, problems


def _lanes_by_node(process: etree._Element) -> dict[str, str]:
    """Flow node id -> lane name (or lane id); with nested lanes the innermost lane wins."""
    found: dict[str, tuple[int, str]] = {}
    for lane in process.iter(bpmn("lane")):
        depth = sum(1 for a in lane.iterancestors(bpmn("lane")))
        label = lane.get("name") or lane.get("id", "")
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            node_id = (ref.text or "").strip()
            if node_id and depth >= found.get(node_id, (-1, ""))[0]:
                found[node_id] = (depth, label)
    return {node_id: label for node_id, (_depth, label) in found.items()}


def _lane_of(node: etree._Element, process: etree._Element, lanes: dict[str, str]) -> str | None:
    """Tasks inside an embedded sub-process sit in the lane of the sub-process."""
    current: etree._Element | None = node
    while current is not None and current is not process:
        if current.get("id") in lanes:
            return lanes[current.get("id", "")]
        current = current.getparent()
    return None


def _teams(node: etree._Element, lane: str | None) -> tuple[str, ...]:
    groups = node.get(f"{{{CAMUNDA_NS}}}candidateGroups") or ""
    named = tuple(g.strip() for g in groups.split(",") if g.strip())
    if named:
        return named
    return (lane,) if lane else ()


def _boundary_timers(process: etree._Element) -> dict[str, list[str]]:
    timers: dict[str, list[str]] = {}
    for event in process.iter(bpmn("boundaryEvent")):
        if event.find("bpmn:timerEventDefinition", NS) is not None:
            timers.setdefault(event.get("attachedToRef", ""), []).append(event.get("id", ""))
    return timers


def _spiff_property(node: etree._Element, name: str) -> str | None:
    values = node.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name=$name]/@value",
        namespaces=NS,
        name=name,
    )
    return values[0] if values and values[0].strip() else None


def _documentation(node: etree._Element) -> str | None:
    doc = node.find("bpmn:documentation", NS)
    text = (doc.text or "").strip() if doc is not None else ""
    return text or None


def _due_expression(filename: str, node: etree._Element) -> tuple[str | None, list[Problem]]:
    raw = _spiff_property(node, "dueDate") or node.get(f"{{{CAMUNDA_NS}}}dueDate")
    if raw is None or not raw.strip():
        return None, []
    try:
        return check_due_expression(raw).expression, []
    except ValueError as error:
        reason = f"the due date of {describe(node)} cannot be worked out: {error}"
        return raw, [Problem(filename, reason, element_id=node.get("id"), line=node.sourceline)]
