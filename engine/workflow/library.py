"""The process library: load BPMN files, check that they will run, and hand SpiffWorkflow specs to the runtime.

``load_bpmn`` reads every file it is given before it says anything, then either returns a
:class:`LoadedBundle` or raises one :class:`ProcessValidationError` listing every problem found, each with
its file, element and line. It writes nothing anywhere. The checks themselves live beside this module:
:mod:`xml_safety` (no DOCTYPE, no entities), :mod:`timer_expressions` (ISO 8601 versus Python),
:mod:`bpmn_checks` (schema, timers, service tasks, scripts, calls) and :mod:`process_outline` (what each
process and human task says about itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.errors import NotFound, Problem, ProcessValidationError
from engine.workflow.bpmn_checks import (
    SCHEMA_LOCK,
    ScriptChecker,
    check_call_activities,
    check_schema,
    check_scripts,
    check_service_tasks,
    normalise_timers,
)
from engine.workflow.process_outline import (
    ProcessInfo,
    TaskMeta,
    describe,
    is_bpmn,
    is_executable,
    outline_processes,
    top_level_processes,
)
from engine.workflow.timer_expressions import normalise_timer_expression
from engine.workflow.xml_safety import parse_untrusted_xml

__all__ = [
    "LoadedBundle",
    "ProcessInfo",
    "TaskMeta",
    "load_bpmn",
    "load_bpmn_paths",
    "normalise_timer_expression",
]

# SpiffWorkflow's own wording, said the way a process designer would need to hear it.
_SPIFF_REASONS = {
    "No start event found": "there is no start event: add one where the process begins",
    "Non-default exclusive outgoing sequence flow without condition": (
        "this path out of a gateway has no condition and is not the default path: "
        "give it a condition, or make it the gateway's default"
    ),
}


class LoadedBundle:
    """BPMN files that passed every check, parsed together so call activities resolve across files."""

    def __init__(
        self,
        files: dict[str, bytes],
        processes: list[ProcessInfo],
        warnings: list[Problem],
        parser: SpiffBpmnParser,
    ) -> None:
        self.files = files
        self.processes = processes
        self.warnings = warnings
        self._parser = parser
        self._by_id = {info.process_id: info for info in processes}

    def executable_ids(self) -> list[str]:
        """Ids of the processes that can be started, in the order the files define them."""
        return [info.process_id for info in self.processes if info.executable]

    def specs(self, process_id: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
        """The spec of ``process_id`` and of every process it calls, ready for ``BpmnWorkflow(*specs)``."""
        info = self._info(process_id)
        if not info.executable:
            reason = f"process '{process_id}' is not executable: it was read but cannot be started"
            raise ProcessValidationError([Problem(info.file, reason, element_id=process_id)])
        try:
            return self._parser.get_spec(process_id), self._parser.get_subprocess_specs(process_id)
        except SpiffWorkflowException as error:
            raise ProcessValidationError([_spiff_problem(error, info.file, None)])

    def source_files_for(self, process_id: str) -> list[str]:
        """The file defining ``process_id`` and the files of every process it calls, directly or not."""
        order: list[str] = []
        seen: set[str] = set()
        pending = [process_id]
        while pending:
            info = self._info(pending.pop(0))
            if info.process_id in seen:
                continue
            seen.add(info.process_id)
            order.append(info.file)
            pending += [called for called in info.called_processes if called in self._by_id]
        return list(dict.fromkeys(order))

    def _info(self, process_id: str) -> ProcessInfo:
        if process_id not in self._by_id:
            known = ", ".join(self._by_id) or "none"
            raise NotFound(
                f"no process '{process_id}' in these files (found: {known})", process_id=process_id
            )
        return self._by_id[process_id]


@dataclass
class _Document:
    """One well-formed BPMN file on its way through the checks."""

    filename: str
    tree: etree._ElementTree
    processes: list[ProcessInfo] = field(default_factory=list)
    schema_valid: bool = False


@dataclass
class _Findings:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def load_bpmn(
    sources: Sequence[tuple[str, bytes]],
    *,
    script_checker: ScriptChecker | None = None,
    service_operators: frozenset[str] = frozenset(),
) -> LoadedBundle:
    """Check and parse BPMN ``sources`` (filename, content) as one bundle.

    ``script_checker(source, mode)`` (mode ``"exec"`` or ``"eval"``) returns the reasons a script or
    condition cannot run, if any; ``service_operators`` names the installed service-task connectors.
    Raises :class:`ProcessValidationError` with every problem in every file, or returns the bundle.
    """
    findings = _Findings()
    documents, files = _read_sources(sources, findings)
    for document in documents:
        _check_document(document, findings, script_checker, service_operators)
    parseable = _check_across_files(documents, findings)
    parser = _parse_with_spiff(parseable, findings)
    if findings.problems:
        raise ProcessValidationError(findings.problems)
    processes = [info for document in documents for info in document.processes]
    return LoadedBundle(files, processes, findings.warnings, parser)


def load_bpmn_paths(paths: Sequence[Path]) -> LoadedBundle:
    """Read BPMN files (a directory stands for every ``*.bpmn`` directly inside it), then :func:`load_bpmn`."""
    sources: list[tuple[str, bytes]] = []
    problems: list[Problem] = []
    for path in paths:
        found = sorted(path.glob("*.bpmn")) if path.is_dir() else [path]
        if not found:
            problems.append(Problem(str(path), "this folder holds no .bpmn files"))
        for file in found:
            try:
                sources.append((file.name, file.read_bytes()))
            except OSError as error:
                problems.append(Problem(str(file), f"the file cannot be read: {error.strerror or error}"))
    if problems:
        raise ProcessValidationError(problems)
    return load_bpmn(sources)


def _read_sources(
    sources: Sequence[tuple[str, bytes]], findings: _Findings
) -> tuple[list[_Document], dict[str, bytes]]:
    """Parse each file safely and quote bare ISO 8601 timers; ``files`` holds the bytes as normalised."""
    documents: list[_Document] = []
    files: dict[str, bytes] = {}
    seen: set[str] = set()
    for filename, data in sources:
        if filename in seen:
            findings.problems.append(Problem(filename, "two files were given with this name: rename one"))
            continue
        seen.add(filename)
        tree, problems = parse_untrusted_xml(filename, data)
        findings.problems += problems
        if tree is None:
            continue
        for process in filter(is_executable, top_level_processes(tree)):
            timer_problems, timer_warnings = normalise_timers(filename, process)
            findings.problems += timer_problems
            findings.warnings += timer_warnings
        files[filename] = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
        documents.append(_Document(filename, tree))
    return documents, files


def _check_document(
    document: _Document,
    findings: _Findings,
    script_checker: ScriptChecker | None,
    service_operators: frozenset[str],
) -> None:
    filename = document.filename
    schema_problems = check_schema(filename, document.tree)
    findings.problems += schema_problems
    document.schema_valid = not schema_problems
    if not is_bpmn(document.tree):
        return
    document.processes, outline_problems = outline_processes(filename, document.tree)
    findings.problems += outline_problems
    for process in top_level_processes(document.tree):
        if not is_executable(process):
            reason = f"process '{process.get('id')}' is not executable: it was read but cannot be started"
            findings.warnings.append(
                Problem(filename, reason, element_id=process.get("id"), line=process.sourceline)
            )
            continue
        findings.problems += check_service_tasks(filename, process, service_operators)
        findings.problems += check_scripts(filename, process, script_checker)
    if not any(info.executable for info in document.processes):
        findings.problems.append(_no_executable_process(document))


def _no_executable_process(document: _Document) -> Problem:
    found = ", ".join(f"'{info.process_id}'" for info in document.processes) or "none"
    reason = f'no executable process: set isExecutable="true" on the process you want to run (found: {found})'
    processes = top_level_processes(document.tree)
    if len(processes) == 1:
        return Problem(
            document.filename, reason, element_id=processes[0].get("id"), line=processes[0].sourceline
        )
    return Problem(document.filename, reason)


def _check_across_files(documents: list[_Document], findings: _Findings) -> list[_Document]:
    """Process ids must be unique across files and call activities must find their process.

    Returns the documents SpiffWorkflow can be given: schema-valid, and defining no process twice.
    """
    defined_in: dict[str, str] = {}
    parseable = []
    for document in documents:
        clashes = [info for info in document.processes if info.process_id in defined_in]
        for info in clashes:
            reason = (
                f"process '{info.process_id}' is also defined in {defined_in[info.process_id]}: "
                "each process needs its own id"
            )
            findings.problems.append(Problem(document.filename, reason, element_id=info.process_id))
        for info in document.processes:
            defined_in.setdefault(info.process_id, document.filename)
        if document.schema_valid and not clashes:
            parseable.append(document)
    executable_by_id = {info.process_id: info.executable for d in documents for info in d.processes}
    for document in documents:
        for process in filter(is_executable, top_level_processes(document.tree)):
            findings.problems += check_call_activities(document.filename, process, executable_by_id)
    return parseable


def _parse_with_spiff(documents: list[_Document], findings: _Findings) -> SpiffBpmnParser:
    """Parse every executable process with SpiffWorkflow, turning its exceptions into problems.

    SpiffWorkflow often objects to something a check here has already explained better (a service task
    without an operator, say): its problem is dropped when one about the same element is already listed.
    """
    parser = SpiffBpmnParser(validator=VALIDATOR)
    already_reported = {(p.file, p.element_id) for p in findings.problems}
    for document in documents:
        for problem in _spiff_problems(parser, document):
            if (problem.file, problem.element_id) not in already_reported:
                findings.problems.append(problem)
    return parser


def _spiff_problems(parser: SpiffBpmnParser, document: _Document) -> list[Problem]:
    # Any failure inside SpiffWorkflow is a problem with the file being read, never a crash.
    try:
        with SCHEMA_LOCK:
            parser.add_bpmn_xml(document.tree, filename=document.filename)
    except Exception as error:
        return [_spiff_problem(error, document.filename, document.tree)]
    problems = []
    for info in document.processes:
        if info.executable:
            try:
                parser.get_spec(info.process_id)
            except Exception as error:
                problems.append(_spiff_problem(error, document.filename, document.tree))
    return problems


def _spiff_problem(error: Exception, filename: str, tree: etree._ElementTree | None) -> Problem:
    """Say what SpiffWorkflow objected to, where, in words a process designer can act on."""
    if not isinstance(error, SpiffWorkflowException):
        return Problem(filename, f"SpiffWorkflow could not read this file: {error!r}")
    message = str(error.args[0]) if error.args else type(error).__name__
    reason = _SPIFF_REASONS.get(message, message)
    if not isinstance(error, ValidationException):
        return Problem(filename, reason)
    element_id = error.id or None
    found = tree.getroot().xpath("//*[@id=$id]", id=element_id) if tree is not None and element_id else []
    if found:
        reason = f"{describe(found[0])}: {reason}"
    line = found[0].sourceline if found else (error.line_number or None)
    return Problem(error.file_name or filename, reason, element_id=element_id, line=line)
