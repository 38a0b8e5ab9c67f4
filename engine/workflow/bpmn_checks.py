"""Checks that a BPMN file will run in EduCase, each returning Problems instead of raising.

SpiffWorkflow accepts much that can only fail later, while a case is open: bare ISO 8601 or cron timers,
service tasks with nothing behind them, Java delegates from Camunda, scripts that do not compile, calls to
processes nobody deployed. These checks find all of that at deploy time, with the element to fix.
The element checks apply to executable processes only; other processes are read but can never be run.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping

from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from engine.errors import Problem
from engine.workflow.process_outline import BPMN_NS, CAMUNDA_NS, NS, SPIFF_NS, bpmn, describe, is_bpmn
from engine.workflow.timer_expressions import TIMER_KINDS, check_timer_expression

ScriptChecker = Callable[[str, str], list[str]]

_PREFIXES = {BPMN_NS: "bpmn", CAMUNDA_NS: "camunda", SPIFF_NS: "spiffworkflow"}
_CLARK = re.compile(r"\{([^}]*)\}")
# lxml keeps the errors of the last run on the shared schema object: one validation at a time.
SCHEMA_LOCK = threading.Lock()

_CAMUNDA_IMPLEMENTATIONS = ("class", "expression", "delegateExpression")
_JUEL = re.compile(r"^\s*[$#]\{")


def _problem(
    filename: str, node: etree._Element, reason: str, element: etree._Element | None = None
) -> Problem:
    """A problem at ``element`` (default ``node``), reported against the id of ``node``."""
    line = (element if element is not None else node).sourceline
    return Problem(filename, reason, element_id=node.get("id"), line=line)


# --- BPMN 2.0 schema ---------------------------------------------------------------------------


def check_schema(filename: str, tree: etree._ElementTree) -> list[Problem]:
    """Validate against the BPMN 2.0 XSD (plus SpiffWorkflow's extensions), reporting every error found.

    Camunda and modeler attributes and extension elements are in other namespaces, which the XSD accepts
    laxly. Note that SpiffWorkflow's validator rewrites correlation retrieval expressions in place.
    """
    root = tree.getroot()
    if not is_bpmn(tree):
        found = _shorten(str(root.tag))
        reason = (
            f"this is not a BPMN 2.0 file: it starts with <{found}> where <bpmn:definitions> was expected"
        )
        return [Problem(filename, reason, line=root.sourceline)]
    with SCHEMA_LOCK:
        VALIDATOR.preprocess(tree)
        if VALIDATOR.validator.validate(tree):
            return []
        errors = [(entry.line, entry.message) for entry in VALIDATOR.validator.error_log]
    return [
        Problem(
            filename,
            f"not valid BPMN 2.0: {_shorten(message)}",
            element_id=_id_at_line(tree, line),
            line=line,
        )
        for line, message in dict.fromkeys(errors)
    ]


def _shorten(message: str) -> str:
    return _CLARK.sub(
        lambda m: f"{_PREFIXES[m.group(1)]}:" if m.group(1) in _PREFIXES else m.group(0), message
    )


def _id_at_line(tree: etree._ElementTree, line: int) -> str | None:
    """The id of the element starting on ``line``, or of its nearest ancestor that has one."""
    for element in tree.getroot().iter(etree.Element):
        if element.sourceline == line:
            for candidate in (element, *element.iterancestors()):
                if candidate.get("id"):
                    return candidate.get("id")
            return None
    return None


# --- timers --------------------------------------------------------------------------------------


def normalise_timers(filename: str, process: etree._Element) -> tuple[list[Problem], list[Problem]]:
    """Quote bare ISO 8601 in the process's timers, in place. Returns (problems, warnings)."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for definition in process.iter(bpmn("timerEventDefinition")):
        event = definition.getparent()
        times = [child for child in definition if etree.QName(child).localname in TIMER_KINDS]
        if not times:
            reason = (
                f"the timer on {describe(event)} has no time set: give a date (timeDate), "
                "a duration (timeDuration) or a repeating interval (timeCycle)"
            )
            problems.append(_problem(filename, event, reason, definition))
        for time in times:
            try:
                check = check_timer_expression(etree.QName(time).localname, time.text)
            except ValueError as error:
                problems.append(
                    _problem(filename, event, f"the timer on {describe(event)} cannot run: {error}", time)
                )
                continue
            time.text = check.expression
            warnings += [
                _problem(filename, event, f"the timer on {describe(event)}: {n}", time) for n in check.notes
            ]
            if check.unbounded_cycle and event.tag == bpmn("startEvent"):
                note = (
                    f"the timer on {describe(event)} repeats without end ({check.expression}): each repetition "
                    "runs the process again inside the same instance until someone cancels it"
                )
                warnings.append(_problem(filename, event, note, time))
    return problems, warnings


# --- service tasks -------------------------------------------------------------------------------


def check_service_tasks(filename: str, process: etree._Element, operators: frozenset[str]) -> list[Problem]:
    """Every service task must name a connector (``spiffworkflow:serviceTaskOperator``) that is installed."""
    problems = []
    for task in process.iter(bpmn("serviceTask")):
        reason = _camunda_implementation(task) or _missing_operator(task, operators)
        if reason:
            problems.append(_problem(filename, task, reason))
    return problems


def _camunda_implementation(task: etree._Element) -> str | None:
    for attribute in _CAMUNDA_IMPLEMENTATIONS:
        value = task.get(f"{{{CAMUNDA_NS}}}{attribute}")
        if value:
            return _java_reason(task, f'camunda:{attribute}="{value}"')
    if task.get(f"{{{CAMUNDA_NS}}}type") == "external":
        return _java_reason(
            task, f'an external task worker (topic "{task.get(f"{{{CAMUNDA_NS}}}topic", "")}")'
        )
    if task.find("bpmn:extensionElements/camunda:connector", NS) is not None:
        return _java_reason(task, "a Camunda connector")
    return None


def _java_reason(task: etree._Element, what: str) -> str:
    return (
        f"{describe(task)} is implemented by {what}; EduCase cannot run Java or external (Camunda) "
        "implementations: name an installed EduCase connector with spiffworkflow:serviceTaskOperator"
    )


def _missing_operator(task: etree._Element, operators: frozenset[str]) -> str | None:
    operator = task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
    name = (operator.get("id") or "").strip() if operator is not None else ""
    if not name:
        return (
            f"{describe(task)} has no implementation: no operator given "
            "(name an installed connector with spiffworkflow:serviceTaskOperator)"
        )
    if name not in operators:
        installed = ", ".join(sorted(operators)) or "none"
        return f"{describe(task)} has no implementation: no connector '{name}' is installed (installed: {installed})"
    return None


# --- scripts and conditions ----------------------------------------------------------------------


def check_scripts(filename: str, process: etree._Element, checker: ScriptChecker | None) -> list[Problem]:
    """Script tasks, flow conditions and spiff pre/post scripts must be Python that the checker accepts."""
    problems: list[Problem] = []
    for task in process.iter(bpmn("scriptTask")):
        problems += _check_script_task(filename, task, checker)
    for flow in process.iter(bpmn("sequenceFlow")):
        condition = flow.find("bpmn:conditionExpression", NS)
        if condition is not None:
            problems += _check_condition(filename, flow, condition, checker)
    for element in process.iter(etree.Element):
        for which in ("preScript", "postScript"):
            script = element.find(f"bpmn:extensionElements/spiffworkflow:{which}", NS)
            if script is not None and (script.text or "").strip():
                what = f"the {which.replace('S', '-s')} of {describe(element)}"
                problems += _run_checker(filename, element, script, what, script.text or "", "exec", checker)
    return problems


def _check_script_task(filename: str, task: etree._Element, checker: ScriptChecker | None) -> list[Problem]:
    language = (task.get("scriptFormat") or "python").strip().lower()
    if language not in ("python", "python3"):
        reason = f"{describe(task)} is written in {language}; EduCase runs Python scripts only"
        return [_problem(filename, task, reason)]
    script = task.find("bpmn:script", NS)
    source = script.text if script is not None else None
    if not (source or "").strip():
        return [_problem(filename, task, f"{describe(task)} has no script: write one, or use a plain task")]
    return _run_checker(
        filename, task, script, f"the script of {describe(task)}", source or "", "exec", checker
    )


def _check_condition(
    filename: str, flow: etree._Element, condition: etree._Element, checker: ScriptChecker | None
) -> list[Problem]:
    source = condition.text or ""
    language = (condition.get("language") or "python").strip().lower()
    if _JUEL.match(source) or language not in ("python", "python3"):
        reason = (
            f"the condition on {describe(flow)} ({source.strip()}) is not Python, which is all EduCase "
            "can run: write it as a Python expression such as attendance_rate < 90"
        )
        return [_problem(filename, flow, reason, condition)]
    return _run_checker(
        filename, flow, condition, f"the condition on {describe(flow)}", source, "eval", checker
    )


def _run_checker(
    filename: str,
    node: etree._Element,
    element: etree._Element | None,
    what: str,
    source: str,
    mode: str,
    checker: ScriptChecker | None,
) -> list[Problem]:
    if checker is None:
        return []
    return [
        _problem(filename, node, f"{what} cannot run: {message}", element)
        for message in checker(source, mode)
    ]


# --- call activities -----------------------------------------------------------------------------


def check_call_activities(
    filename: str, process: etree._Element, executable_by_id: Mapping[str, bool]
) -> list[Problem]:
    """Every call activity must call a process that one of the given files defines and that can run."""
    problems = []
    for call in process.iter(bpmn("callActivity")):
        called = (call.get("calledElement") or "").strip()
        if not called:
            reason = f"{describe(call)} does not say which process it calls: set its called element"
        elif called not in executable_by_id:
            reason = f"{describe(call)} calls process '{called}', which none of the given files define"
        elif not executable_by_id[called]:
            reason = (
                f"{describe(call)} calls process '{called}', which is not executable: "
                'set isExecutable="true" on that process'
            )
        else:
            continue
        problems.append(_problem(filename, call, reason))
    return problems
