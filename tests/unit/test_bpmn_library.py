"""Loading BPMN files: safety, validation, timer normalisation, metadata, and that what loads really runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.errors import NotFound, Problem, ProcessValidationError
from engine.workflow.library import LoadedBundle, load_bpmn, load_bpmn_paths, normalise_timer_expression
from engine.workflow.timer_expressions import check_timer_expression
from engine.workflow.xml_safety import DOCTYPE_REFUSED

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn"

NAMESPACES = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
)


# --- helpers -------------------------------------------------------------------------------------


def fixture(*names: str) -> list[tuple[str, bytes]]:
    return [(name, (FIXTURES / name).read_bytes()) for name in names]


def inline(body: str, *, process_id: str = "inline", executable: str = "true", before: str = "") -> bytes:
    """A minimal BPMN document; ``body`` starts on line 5 of the file."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bpmn:definitions {NAMESPACES} id="Definitions_inline" targetNamespace="http://bpmn.io/schema/bpmn">\n'
        f"{before}"
        f'  <bpmn:process id="{process_id}" isExecutable="{executable}">\n'
        '    <bpmn:startEvent id="StartEvent_1" />\n'
        f"{body}\n"
        "  </bpmn:process>\n"
        "</bpmn:definitions>\n"
    ).encode()


def problems_of(sources: list[tuple[str, bytes]], **kwargs: object) -> list[Problem]:
    with pytest.raises(ProcessValidationError) as caught:
        load_bpmn(sources, **kwargs)  # type: ignore[arg-type]
    return caught.value.problems


def only_problem(sources: list[tuple[str, bytes]], **kwargs: object) -> Problem:
    problems = problems_of(sources, **kwargs)
    assert len(problems) == 1, problems
    return problems[0]


def compile_checker(source: str, mode: str) -> list[str]:
    """Stands in for the sandbox's checker: Python syntax only."""
    try:
        compile(source, "<script>", mode)
    except SyntaxError as error:
        return [f"line {error.lineno}: {error.msg}"]
    return []


def ready_task_ids(workflow: BpmnWorkflow) -> list[str]:
    return [task.task_spec.name for task in workflow.get_tasks(state=TaskState.READY)]


def started(bundle: LoadedBundle, process_id: str) -> BpmnWorkflow:
    workflow = BpmnWorkflow(*bundle.specs(process_id))
    workflow.do_engine_steps()
    return workflow


# --- XML safety ----------------------------------------------------------------------------------


def test_external_entity_payload_is_refused() -> None:
    problem = only_problem(fixture("xxe.bpmn"))
    assert problem == Problem("xxe.bpmn", DOCTYPE_REFUSED, element_id=None, line=2)


def test_billion_laughs_payload_is_refused() -> None:
    problem = only_problem(fixture("billion_laughs.bpmn"))
    assert problem == Problem("billion_laughs.bpmn", DOCTYPE_REFUSED, element_id=None, line=2)


def test_doctype_hidden_in_utf16_is_refused_and_the_file_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-PUPIL-DATA")
    text = (FIXTURES / "xxe.bpmn").read_text().replace("file:///etc/passwd", secret.as_uri())
    data = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")

    with pytest.raises(ProcessValidationError) as caught:
        load_bpmn([("xxe16.bpmn", data)])

    assert [p.reason for p in caught.value.problems] == [DOCTYPE_REFUSED]
    assert "TOP-SECRET" not in str(caught.value) + repr(caught.value.details)


def test_malformed_xml_reports_line_and_parser_message() -> None:
    problem = only_problem(fixture("malformed.bpmn"))
    assert problem.file == "malformed.bpmn"
    assert problem.line == 9
    assert problem.element_id is None
    assert "not well-formed XML" in problem.reason
    assert "Opening and ending tag mismatch: userTask" in problem.reason


def test_a_file_that_is_not_bpmn_is_refused() -> None:
    problem = only_problem([("page.bpmn", b"<html><body/></html>")])
    assert problem == Problem(
        "page.bpmn",
        "this is not a BPMN 2.0 file: it starts with <html> where <bpmn:definitions> was expected",
        line=1,
    )


# --- schema --------------------------------------------------------------------------------------


def test_schema_errors_name_the_element_and_line() -> None:
    problem = only_problem([("bogus.bpmn", inline('    <bpmn:bogus id="Bogus_1" />'))])
    assert (problem.file, problem.element_id, problem.line) == ("bogus.bpmn", "Bogus_1", 5)
    assert problem.reason.startswith("not valid BPMN 2.0: Element 'bpmn:bogus': This element is not expected")


def test_camunda_modeler_and_spiff_arena_files_pass_the_schema() -> None:
    bundle = load_bpmn(fixture("camunda_modeler_referral.bpmn", "spiff_arena_style.bpmn"))
    assert bundle.executable_ids() == ["attendance_referral", "absence_review"]
    assert bundle.warnings == []


# --- non-executable processes --------------------------------------------------------------------


def test_a_file_without_an_executable_process_is_refused() -> None:
    problem = only_problem(fixture("not_executable.bpmn"))
    assert problem == Problem(
        "not_executable.bpmn",
        'no executable process: set isExecutable="true" on the process you want to run '
        "(found: 'pupil_transfer_notes')",
        element_id="pupil_transfer_notes",
        line=3,
    )


def test_non_executable_processes_are_reported_beside_executable_ones() -> None:
    reference_pool = (  # drawn for context only: its cron timer is never checked, as it never runs
        '  <bpmn:process id="school_side" name="School" isExecutable="false">\n'
        '    <bpmn:userTask id="Activity_Register" name="Keep register" />\n'
        '    <bpmn:boundaryEvent id="Event_Nine" attachedToRef="Activity_Register">\n'
        '      <bpmn:timerEventDefinition id="T9"><bpmn:timeCycle>0 0 9 * * ?</bpmn:timeCycle>'
        "</bpmn:timerEventDefinition>\n"
        "    </bpmn:boundaryEvent>\n"
        "  </bpmn:process>\n"
    )
    body = '    <bpmn:userTask id="Activity_Review" name="Review" />'
    bundle = load_bpmn([("two.bpmn", inline(body, before=reference_pool))])

    assert [(p.process_id, p.executable) for p in bundle.processes] == [
        ("school_side", False),
        ("inline", True),
    ]
    assert bundle.executable_ids() == ["inline"]
    assert bundle.processes[0].tasks["Activity_Register"].name == "Keep register"
    assert bundle.warnings == [
        Problem(
            "two.bpmn",
            "process 'school_side' is not executable: it was read but cannot be started",
            element_id="school_side",
            line=3,
        )
    ]
    with pytest.raises(ProcessValidationError, match="not executable"):
        bundle.specs("school_side")
    with pytest.raises(NotFound):
        bundle.specs("no_such_process")


# --- timers: normalise_timer_expression ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("timeDuration", "PT2H"),
        ("timeDuration", "P7D"),
        ("timeDuration", "P1Y2M"),
        ("timeDuration", "P2W"),
        ("timeDuration", "P1DT12H"),
        ("timeDuration", "PT1.5H"),
        ("timeDate", "2026-03-01T09:00:00Z"),
        ("timeDate", "2026-03-01T09:00:00+01:00"),
        ("timeDate", "2026-03-01"),
        ("timeDate", "2026-12-31"),  # which Python would otherwise read as 1983
        ("timeCycle", "R3/P1D"),
        ("timeCycle", "R/PT1H"),
        ("timeCycle", "R3/2026-03-01T09:00:00Z/P1D"),
    ],
)
def test_bare_iso_8601_is_quoted(kind: str, text: str) -> None:
    assert normalise_timer_expression(kind, text) == f'"{text}"'
    assert normalise_timer_expression(kind, f"\n   {text}\n  ") == f'"{text}"'


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("timeDuration", '"PT2H"'),
        ("timeDuration", "'P7D'"),
        ("timeCycle", '"R/P1D"'),
        ("timeDate", '"2026-03-01T09:00:00Z"'),
        ("timeDate", "add_school_days(today(), 15)"),
        ("timeDuration", "reminder_interval"),
        ("timeDuration", 'f"P{days}D"'),
        ("timeCycle", "reminder_cycle or 'R3/P1D'"),
    ],
)
def test_real_expressions_are_left_alone(kind: str, text: str) -> None:
    assert normalise_timer_expression(kind, text) == text


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        ("timeCycle", "0 0 9 * * ?", "'0 0 9 * * ?' is a cron expression"),
        ("timeCycle", "0 9 * * 1-5", "'0 9 * * 1-5' is a cron expression"),
        ("timeDuration", '"0 9 * * 1-5"', "'0 9 * * 1-5' is a cron expression"),
        ("timeCycle", "@daily", "is a cron expression"),
        ("timeDuration", "", "no time is given: give a duration such as P7D"),
        ("timeDuration", "   \n ", "no time is given"),
        ("timeDuration", '""', "no time is given"),
        ("timeDuration", "in three days", "'in three days' is neither ISO 8601 nor a valid expression"),
        ("timeDuration", "${reminderDelay}", "is a Camunda (JUEL) expression, which EduCase cannot run"),
        ("timeDuration", "P7X", "'P7X' is not a valid ISO 8601 duration"),
        ("timeDuration", "P1.5DT2H", "only the last part may have a fraction"),
        ("timeDuration", "PT2X", "'PT2X' is not a valid ISO 8601 duration"),
        ("timeDate", "2026-13-45", "'2026-13-45' is not a valid ISO 8601 date"),
        ("timeDate", "P7D", "'P7D' is a duration, but this timer needs a date"),
        ("timeDuration", "2026-03-01", "'2026-03-01' is a date, but this timer needs a duration"),
        ("timeCycle", "P1D", "'P1D' is a duration, but this timer needs a repeating interval"),
        ("timeCycle", "R0/P1D", "repeats zero times"),
        ("timeCycle", "R3/P1D/P2D", "cannot be used as a repeating interval"),
        ("timeDuration", "7", "7 is not text"),
        ("timeDuration", '"soon"', '"soon" is not ISO 8601'),
        ("timeDate", '"P7D"', "'P7D' is a duration, but this timer needs a date"),
        ("timeDelay", "P7D", "unknown timer kind 'timeDelay'"),
    ],
)
def test_timers_that_cannot_run_are_refused(kind: str, text: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        normalise_timer_expression(kind, text)
    assert reason in str(caught.value)


def test_timer_notes_point_out_missing_time_zones_and_endless_cycles() -> None:
    assert "has no time zone" in check_timer_expression("timeDate", "2026-03-01T09:00").notes[0]
    assert "has no time zone" in check_timer_expression("timeCycle", "R3/2026-03-01T09:00/P1D").notes[0]
    assert check_timer_expression("timeDate", "2026-03-01T09:00Z").notes == ()
    assert check_timer_expression("timeCycle", "R/P1D").unbounded_cycle
    assert check_timer_expression("timeCycle", '"R/P1D"').unbounded_cycle
    assert not check_timer_expression("timeCycle", "R3/P1D").unbounded_cycle


# --- timers in files -----------------------------------------------------------------------------


def test_bare_iso_timers_from_camunda_modeler_are_quoted_in_the_parsed_file() -> None:
    bundle = load_bpmn(fixture("camunda_modeler_referral.bpmn", "spiff_arena_style.bpmn"))
    camunda = bundle.files["camunda_modeler_referral.bpmn"].decode()
    assert '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P7D"</bpmn:timeDuration>' in camunda
    assert (
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">"2026-03-01T09:00:00Z"</bpmn:timeDate>' in camunda
    )
    assert '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">"R3/P1D"</bpmn:timeCycle>' in camunda
    assert '<bpmndi:BPMNDiagram id="BPMNDiagram_1">' in camunda  # the diagram survives
    spiff = bundle.files["spiff_arena_style.bpmn"].decode()
    assert '>"P14D"</bpmn:timeDuration>' in spiff  # already quoted: untouched


def test_cron_timers_are_refused_with_the_event_to_fix() -> None:
    problems = problems_of(fixture("cron_timer.bpmn"))
    assert [(p.file, p.element_id, p.line) for p in problems] == [
        ("cron_timer.bpmn", "Event_WeekdayMorning", 11),
        ("cron_timer.bpmn", "Event_DailyNine", 31),
    ]
    assert problems[0].reason.startswith(
        "the timer on intermediate catch event 'Weekday morning' cannot run: '0 9 * * 1-5' is a cron expression"
    )
    assert "'0 0 9 * * ?' is a cron expression" in problems[1].reason


def test_empty_timers_are_refused() -> None:
    problems = problems_of(fixture("empty_timer.bpmn"))
    assert [(p.element_id, p.line) for p in problems] == [("Event_Wait", 10), ("Event_Overdue", 29)]
    assert problems[0].reason == (
        "the timer on intermediate catch event 'Wait' has no time set: give a date (timeDate), "
        "a duration (timeDuration) or a repeating interval (timeCycle)"
    )
    assert "boundary event 'Follow-up overdue' cannot run: no time is given" in problems[1].reason


def test_unparseable_timer_text_is_refused() -> None:
    body = (
        '    <bpmn:intermediateCatchEvent id="Event_Wait" name="Wait a bit">\n'
        '      <bpmn:timerEventDefinition id="T1"><bpmn:timeDuration>in three days</bpmn:timeDuration>'
        "</bpmn:timerEventDefinition>\n"
        "    </bpmn:intermediateCatchEvent>"
    )
    problem = only_problem([("wait.bpmn", inline(body))])
    assert (problem.element_id, problem.line) == ("Event_Wait", 6)
    assert "'in three days' is neither ISO 8601 nor a valid expression" in problem.reason


def test_endless_cycle_on_a_start_event_loads_with_a_note() -> None:
    source = (
        inline('    <bpmn:userTask id="Activity_Check" name="Check" />')
        .replace(b'<bpmn:startEvent id="StartEvent_1" />', _timer_start_event("R/P1D"))
        .replace(
            b"</bpmn:process>",
            b'<bpmn:sequenceFlow id="f1" sourceRef="StartEvent_1" '
            b'targetRef="Activity_Check" /></bpmn:process>',
        )
    )
    bundle = load_bpmn([("daily.bpmn", source)])
    assert len(bundle.warnings) == 1
    warning = bundle.warnings[0]
    assert (warning.file, warning.element_id) == ("daily.bpmn", "StartEvent_1")
    assert 'repeats without end ("R/P1D")' in warning.reason


def test_naive_timer_date_loads_with_a_note() -> None:
    body = (
        '    <bpmn:intermediateCatchEvent id="Event_Term" name="Term starts">\n'
        '      <bpmn:timerEventDefinition id="T1"><bpmn:timeDate>2026-04-20T09:00</bpmn:timeDate>'
        "</bpmn:timerEventDefinition>\n"
        "    </bpmn:intermediateCatchEvent>"
    )
    bundle = load_bpmn([("term.bpmn", inline(body))])
    assert [(w.element_id, w.line) for w in bundle.warnings] == [("Event_Term", 6)]
    assert "has no time zone" in bundle.warnings[0].reason


def _timer_start_event(cycle: str) -> bytes:
    return (
        '<bpmn:startEvent id="StartEvent_1" name="Every morning"><bpmn:outgoing>f1</bpmn:outgoing>'
        f'<bpmn:timerEventDefinition id="T0"><bpmn:timeCycle>{cycle}</bpmn:timeCycle>'
        "</bpmn:timerEventDefinition></bpmn:startEvent>"
    ).encode()


# --- service tasks -------------------------------------------------------------------------------


def test_service_tasks_need_an_installed_connector() -> None:
    problems = problems_of(fixture("service_task_no_operator.bpmn"))
    assert [(p.file, p.element_id, p.line) for p in problems] == [
        ("service_task_no_operator.bpmn", "Activity_SendLetter", 7),
        ("service_task_no_operator.bpmn", "Activity_NotifySchool", 11),
    ]
    assert problems[0].reason.startswith(
        "service task 'Send letter' has no implementation: no operator given"
    )
    assert problems[1].reason.startswith(
        "service task 'Notify school' has no implementation: no connector 'http/PostToSchool' is installed"
    )


def test_an_installed_connector_satisfies_the_service_task() -> None:
    problem = only_problem(
        fixture("service_task_no_operator.bpmn"), service_operators=frozenset({"http/PostToSchool"})
    )
    assert problem.element_id == "Activity_SendLetter"


def test_camunda_java_and_external_implementations_are_refused() -> None:
    problems = problems_of(fixture("camunda_java_service.bpmn"))
    assert [p.element_id for p in problems] == [
        "Activity_IssueNotice",
        "Activity_RecordNotice",
        "Activity_EmailParent",
        "Activity_PostNotice",
    ]
    assert all("EduCase cannot run Java or external (Camunda) implementations" in p.reason for p in problems)
    assert 'camunda:class="uk.gov.la.education.IssueNoticeDelegate"' in problems[0].reason
    assert 'an external task worker (topic "post-notice")' in problems[3].reason


# --- call activities -----------------------------------------------------------------------------


def test_call_activities_resolve_across_files_and_the_child_task_becomes_ready() -> None:
    bundle = load_bpmn(fixture("call_parent.bpmn", "call_child.bpmn"))

    parent = bundle.processes[0]
    assert parent.called_processes == ("call_child",)
    assert bundle.source_files_for("call_parent") == ["call_parent.bpmn", "call_child.bpmn"]
    assert bundle.source_files_for("call_child") == ["call_child.bpmn"]
    spec, subprocess_specs = bundle.specs("call_parent")
    assert (spec.name, list(subprocess_specs)) == ("call_parent", ["call_child"])
    workflow = started(bundle, "call_parent")
    assert ready_task_ids(workflow) == ["Activity_UploadRegister"]


def test_a_call_to_a_process_no_file_defines_is_refused() -> None:
    problem = only_problem(fixture("missing_call_target.bpmn"))
    assert problem == Problem(
        "missing_call_target.bpmn",
        "call activity 'Arrange school visit' calls process 'school_visit', which none of the given files define",
        element_id="Activity_Visit",
        line=7,
    )
    assert only_problem(fixture("call_parent.bpmn")).element_id == "Activity_GatherEvidence"


def test_a_call_to_a_non_executable_process_is_refused() -> None:
    child = inline("", process_id="school_visit", executable="false")
    parent = fixture("missing_call_target.bpmn")
    problems = problems_of([*parent, ("visit.bpmn", child)])
    assert [(p.file, p.element_id) for p in problems] == [
        ("visit.bpmn", "school_visit"),  # no executable process in that file
        ("missing_call_target.bpmn", "Activity_Visit"),
    ]
    assert "calls process 'school_visit', which is not executable" in problems[1].reason


def test_process_ids_must_be_unique_across_files() -> None:
    problems = problems_of(
        [*fixture("call_child.bpmn"), ("copy.bpmn", (FIXTURES / "call_child.bpmn").read_bytes())]
    )
    assert [(p.file, p.element_id) for p in problems] == [("copy.bpmn", "call_child")]
    assert "also defined in call_child.bpmn" in problems[0].reason


# --- scripts -------------------------------------------------------------------------------------


def test_script_checker_sees_every_script_and_condition() -> None:
    seen: list[tuple[str, str]] = []

    def recording_checker(source: str, mode: str) -> list[str]:
        seen.append((source.splitlines()[0], mode))
        return []

    load_bpmn(fixture("spiff_arena_style.bpmn"), script_checker=recording_checker)
    assert sorted(seen) == sorted(
        [
            ("persistent_absence_threshold = 90.0", "exec"),
            ('reviewer_hint = "Use the figures from the school\'s register"', "exec"),
            (
                "attendance_rate = round(sessions_attended / sessions_possible * 100, 1) if sessions_possible "
                "else 100.0",
                "exec",
            ),
            ("attendance_rate < persistent_absence_threshold", "eval"),
        ]
    )


def test_scripts_that_do_not_compile_are_refused() -> None:
    problems = problems_of(fixture("script_syntax_error.bpmn"), script_checker=compile_checker)
    assert [(p.element_id, p.line) for p in problems] == [
        ("Activity_Score", 10),
        ("Flow_Concern", 40),
        ("Activity_Review", 20),
    ]
    assert (
        problems[0].reason
        == "the script of script task 'Score attendance' cannot run: line 1: '(' was never closed"
    )
    assert problems[1].reason.startswith("the condition on sequence flow 'Yes' cannot run: line 1:")
    assert problems[2].reason.startswith("the pre-script of user task 'Review score' cannot run: line 1:")


def test_scripts_are_not_judged_without_a_checker() -> None:
    bundle = load_bpmn(fixture("script_syntax_error.bpmn"))
    assert bundle.executable_ids() == ["attendance_score"]


@pytest.mark.parametrize(
    ("body", "element_id", "reason"),
    [
        (
            '    <bpmn:scriptTask id="Activity_Js" name="Tally" scriptFormat="javascript">'
            "<bpmn:script>var x = 1;</bpmn:script></bpmn:scriptTask>",
            "Activity_Js",
            "script task 'Tally' is written in javascript; EduCase runs Python scripts only",
        ),
        (
            '    <bpmn:scriptTask id="Activity_Empty" name="Nothing" />',
            "Activity_Empty",
            "script task 'Nothing' has no script",
        ),
    ],
)
def test_scripts_that_are_not_python_are_refused(body: str, element_id: str, reason: str) -> None:
    problem = only_problem([("scripts.bpmn", inline(body))])
    assert problem.element_id == element_id
    assert reason in problem.reason


def test_camunda_juel_conditions_are_refused() -> None:
    body = (
        '    <bpmn:exclusiveGateway id="Gateway_1" default="Flow_No" />\n'
        '    <bpmn:sequenceFlow id="Flow_0" sourceRef="StartEvent_1" targetRef="Gateway_1" />\n'
        '    <bpmn:sequenceFlow id="Flow_Yes" name="Over 10" sourceRef="Gateway_1" targetRef="End_1">\n'
        '      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${absences &gt; 10}'
        "</bpmn:conditionExpression>\n"
        "    </bpmn:sequenceFlow>\n"
        '    <bpmn:sequenceFlow id="Flow_No" sourceRef="Gateway_1" targetRef="End_1" />\n'
        '    <bpmn:endEvent id="End_1" />'
    )
    problem = only_problem([("juel.bpmn", inline(body))])
    assert (problem.element_id, problem.line) == ("Flow_Yes", 8)
    assert "the condition on sequence flow 'Over 10' (${absences > 10}) is not Python" in problem.reason


# --- SpiffWorkflow's own objections ---------------------------------------------------------------


def test_spiffworkflow_validation_errors_become_problems() -> None:
    body = (
        '    <bpmn:exclusiveGateway id="Gateway_1" name="Which way?" default="Flow_A" />\n'
        '    <bpmn:sequenceFlow id="Flow_0" sourceRef="StartEvent_1" targetRef="Gateway_1" />\n'
        '    <bpmn:sequenceFlow id="Flow_A" sourceRef="Gateway_1" targetRef="End_1" />\n'
        '    <bpmn:sequenceFlow id="Flow_B" name="Otherwise" sourceRef="Gateway_1" targetRef="End_1" />\n'
        '    <bpmn:endEvent id="End_1" />'
    )
    problem = only_problem([("gateway.bpmn", inline(body))])
    assert (problem.file, problem.element_id, problem.line) == ("gateway.bpmn", "Flow_B", 8)
    assert problem.reason.startswith("sequence flow 'Otherwise': this path out of a gateway has no condition")


def test_a_process_without_a_start_event_is_refused() -> None:
    source = inline('    <bpmn:userTask id="Activity_1" />').replace(
        b'<bpmn:startEvent id="StartEvent_1" />', b""
    )
    problem = only_problem([("nostart.bpmn", source)])
    assert (problem.element_id, problem.line) == ("inline", 3)
    assert "there is no start event" in problem.reason


def test_spiffworkflow_errors_without_an_element_still_name_the_file() -> None:
    store = '  <bpmn:dataStore id="DataStore_Pupils" name="pupil_register" />\n'
    problem = only_problem([("store.bpmn", inline("", before=store))])
    assert (problem.file, problem.element_id) == ("store.bpmn", None)
    assert "Data Store with name pupil_register has no implementation" in problem.reason


def test_two_files_with_the_same_name_are_refused() -> None:
    problem = only_problem([*fixture("call_child.bpmn"), *fixture("call_child.bpmn")])
    assert problem == Problem("call_child.bpmn", "two files were given with this name: rename one")


def test_every_problem_in_every_file_is_reported_at_once() -> None:
    problems = problems_of(
        fixture("xxe.bpmn", "malformed.bpmn", "cron_timer.bpmn", "missing_call_target.bpmn")
    )
    assert [p.file for p in problems] == [
        "xxe.bpmn",
        "malformed.bpmn",
        "cron_timer.bpmn",
        "cron_timer.bpmn",
        "missing_call_target.bpmn",
    ]


# --- what the inbox learns about tasks -----------------------------------------------------------


def test_camunda_task_metadata() -> None:
    bundle = load_bpmn(fixture("camunda_modeler_referral.bpmn"))
    process = bundle.processes[0]
    assert (process.process_id, process.name, process.file) == (
        "attendance_referral",
        "Attendance referral",  # from the pool: Camunda Modeler leaves the process unnamed
        "camunda_modeler_referral.bpmn",
    )
    triage = process.tasks["Activity_Triage"]
    assert triage.name == "Triage referral"
    assert triage.kind == "user"
    assert triage.lane == "Education welfare service"
    assert triage.teams == ("ews-triage", "ews-duty-officers")  # candidateGroups win over the lane
    assert triage.due_expression == '"P3D"'
    assert triage.boundary_timer_ids == ("Event_TriageOverdue",)
    assert triage.documentation is not None and triage.documentation.startswith("Check the referral")
    assert triage.form_ref is None
    contact = process.tasks["Activity_Contact"]
    assert (contact.lane, contact.teams, contact.boundary_timer_ids) == (
        "School attendance officer",
        ("School attendance officer",),
        ("Event_DailyReminder",),
    )
    chase = process.tasks["Activity_ChaseSchool"]
    assert (chase.kind, chase.teams) == ("manual", ("School attendance officer",))
    assert process.tasks["Activity_ReviewOverdue"].teams == ("Team manager",)


def test_spiff_arena_task_metadata() -> None:
    bundle = load_bpmn(fixture("spiff_arena_style.bpmn"))
    process = bundle.processes[0]
    assert (process.name, set(process.tasks)) == (
        "Absence review",
        {"Activity_RecordFigures", "Activity_PlanSupport", "Activity_TellManager"},
    )
    record = process.tasks["Activity_RecordFigures"]
    assert record.form_ref == "attendance-figures-schema.json"
    assert record.ui_form_ref == "attendance-figures-uischema.json"
    assert record.due_expression == "add_school_days(today(), 5)"
    assert (record.lane, record.teams) == (None, ())
    plan = process.tasks["Activity_PlanSupport"]
    assert (plan.form_ref, plan.ui_form_ref, plan.due_expression) == (
        "support-plan-schema.json",
        None,
        '"P10D"',
    )
    assert plan.boundary_timer_ids == ("Event_PlanOverdue",)


def test_lanes_without_names_fall_back_to_their_id_and_nested_tasks_inherit_the_lane() -> None:
    lanes = (
        '    <bpmn:laneSet id="LaneSet_1">\n'
        '      <bpmn:lane id="Lane_Officers"><bpmn:flowNodeRef>Sub_1</bpmn:flowNodeRef></bpmn:lane>\n'
        "    </bpmn:laneSet>\n"
    )
    body = (
        f"{lanes}"
        '    <bpmn:subProcess id="Sub_1"><bpmn:startEvent id="SubStart" />'
        '<bpmn:manualTask id="Activity_Visit" name="Visit home" camunda:candidateGroups=" , " />'
        '<bpmn:endEvent id="SubEnd" /></bpmn:subProcess>'
    )
    bundle = load_bpmn([("lanes.bpmn", inline(body))])
    visit = bundle.processes[0].tasks["Activity_Visit"]
    assert (visit.kind, visit.lane, visit.teams) == ("manual", "Lane_Officers", ("Lane_Officers",))


def test_message_start_events_are_listed_by_message_name() -> None:
    message = '  <bpmn:message id="Message_1" name="referral_received" />\n'
    source = inline("", before=message).replace(
        b'<bpmn:startEvent id="StartEvent_1" />',
        b'<bpmn:startEvent id="StartEvent_1"><bpmn:messageEventDefinition id="M1" messageRef="Message_1" />'
        b"</bpmn:startEvent>",
    )
    bundle = load_bpmn([("message.bpmn", source)])
    assert bundle.processes[0].start_messages == ("referral_received",)


def test_an_unusable_camunda_due_date_is_refused() -> None:
    body = (
        '    <bpmn:userTask id="Activity_1" name="Ring parent" camunda:dueDate="${dateTime().plusDays(2)}" />'
    )
    problem = only_problem([("due.bpmn", inline(body))])
    assert (problem.element_id, problem.line) == ("Activity_1", 5)
    assert problem.reason.startswith("the due date of user task 'Ring parent' cannot be worked out")
    assert "Camunda (JUEL) expression" in problem.reason


# --- what loads, runs ----------------------------------------------------------------------------


def test_the_camunda_referral_runs_to_its_first_user_task() -> None:
    workflow = started(load_bpmn(fixture("camunda_modeler_referral.bpmn")), "attendance_referral")
    assert ready_task_ids(workflow) == ["Activity_Triage"]


def test_the_spiff_arena_review_runs_through_its_script_and_gateway() -> None:
    workflow = started(load_bpmn(fixture("spiff_arena_style.bpmn")), "absence_review")
    assert ready_task_ids(workflow) == ["Activity_RecordFigures"]

    record = workflow.get_tasks(state=TaskState.READY)[0]
    record.set_data(sessions_attended=150, sessions_possible=190)
    record.run()
    workflow.do_engine_steps()

    assert ready_task_ids(workflow) == ["Activity_PlanSupport"]


# --- reading from disk ---------------------------------------------------------------------------


def test_load_bpmn_paths_reads_every_bpmn_file_in_a_folder(tmp_path: Path) -> None:
    for name in ("call_parent.bpmn", "call_child.bpmn"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    (tmp_path / "notes.txt").write_text("not a process")

    bundle = load_bpmn_paths([tmp_path])

    assert sorted(bundle.files) == ["call_child.bpmn", "call_parent.bpmn"]
    assert sorted(bundle.executable_ids()) == ["call_child", "call_parent"]


def test_load_bpmn_paths_reports_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ProcessValidationError) as caught:
        load_bpmn_paths([tmp_path / "gone.bpmn", tmp_path])
    assert [p.reason for p in caught.value.problems] == [
        "the file cannot be read: No such file or directory",
        "this folder holds no .bpmn files",
    ]
