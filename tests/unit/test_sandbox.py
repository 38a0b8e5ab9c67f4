"""The script sandbox: what scripts can do, what they cannot, and how failures reach SpiffWorkflow."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine import clock
from engine.errors import ConfigurationError, SandboxViolation, ScriptError, ScriptTimeout
from engine.workflow.sandbox import SandboxEnvironment, SandboxScriptEngine, check_script, compiled


@pytest.fixture
def env() -> SandboxEnvironment:
    return SandboxEnvironment(helpers={"double": lambda n: n * 2}, time_limit_seconds=0.3)


def run(env: SandboxEnvironment, script: str, **data: Any) -> dict[str, Any]:
    env.execute(script, data)
    return data


# --- ordinary scripts ---------------------------------------------------------------------------


def test_arithmetic_loops_comprehensions_and_formatting(env: SandboxEnvironment) -> None:
    data = run(
        env,
        "total = 0\n"
        "for n in marks:\n"
        "    total += n\n"
        "evens = [n for n in marks if n % 2 == 0]\n"
        "by_name = {p['name']: p['age'] for p in pupils}\n"
        "first, second = marks[0], marks[1]\n"
        "label = f'{len(marks)} marks, mean {total / len(marks):.1f}'\n"
        "percent = '%d%%' % 50\n"
        "count = 0\n"
        "while count < 3:\n"
        "    count = count + 1\n",
        marks=[1, 2, 3, 4],
        pupils=[{"name": "Ada", "age": 9}],
    )
    assert data["total"] == 10
    assert data["evens"] == [2, 4]
    assert data["by_name"] == {"Ada": 9}
    assert (data["first"], data["second"]) == (1, 2)
    assert data["label"] == "4 marks, mean 2.5"
    assert data["percent"] == "50%"
    assert data["count"] == 3


def test_helpers_dates_and_the_engine_clock(env: SandboxEnvironment) -> None:
    # 23:30 UTC on 31 March is already 1 April in England (BST).
    with clock.frozen_at(datetime(2025, 3, 31, 23, 30, tzinfo=UTC)):
        data = run(
            env,
            "due = today() + timedelta(days=10)\n"
            "started = now()\n"
            "dob = parse_date(dob_text)\n"
            "age_days = (date(2025, 1, 1) - dob).days\n"
            "weeks = ceil(age_days / 7)\n"
            "twice = double(21)\n"
            "biggest = max(sorted([3, 1, 2]))\n",
            dob_text="2024-12-25",
        )
    assert data["due"] == "2025-04-11"
    assert data["started"] == "2025-03-31T23:30:00+00:00"
    assert data["dob"] == "2024-12-25"
    assert (data["age_days"], data["weeks"], data["twice"], data["biggest"]) == (7, 1, 42, 3)


def test_evaluate_returns_the_value_with_task_data_as_variables(env: SandboxEnvironment) -> None:
    data = {"absences": 12, "reasons": ["illness"]}
    assert env.evaluate(" absences >= 10 and 'illness' in reasons\n", data) is True
    assert env.evaluate("double(absences)", data) == 24
    assert data == {"absences": 12, "reasons": ["illness"]}


def test_data_flows_in_and_out_like_task_data_environment(env: SandboxEnvironment) -> None:
    data = run(
        env,
        "def helper(x):\n    return x + 1\n"
        "changed = helper(changed)\nnew = 'yes'\ndel dropped\nalias = double\n",
        changed=1, kept="same", dropped=True, _internal={"x": 1},
    )
    assert data == {"changed": 2, "kept": "same", "new": "yes", "_internal": {"x": 1}}


def test_a_failing_script_leaves_the_task_data_untouched(env: SandboxEnvironment) -> None:
    data = {"items": [1], "n": 1}
    with pytest.raises(ZeroDivisionError):
        env.execute("items.append(2)\nn = 5\nx = 1 / 0\n", data)
    assert data == {"items": [1], "n": 1}


def test_task_data_named_like_a_helper_hides_it_and_is_kept(env: SandboxEnvironment) -> None:
    data = {"date": "2026-03-02", "double": 2}
    env.execute("copied = date\nx = double * 3", data)
    assert data == {"date": "2026-03-02", "double": 2, "copied": "2026-03-02", "x": 6}
    assert env.evaluate("double(4)", {}) == 8  # the helper is back where no data hides it


def test_external_context_is_readable_but_not_saved(env: SandboxEnvironment) -> None:
    data = {"n": 1}
    assert env.evaluate("n + offset", data, {"offset": 2}) == 3
    env.execute("m = n + offset", data, {"offset": 2})
    assert data == {"n": 1, "m": 3}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-09-03", date(2025, 9, 3)),
        ("2025-09-02T23:30:00Z", date(2025, 9, 3)),  # already the 3rd in England (BST)
        ("", None),
        (None, None),
    ],
)
def test_parse_date(env: SandboxEnvironment, text: str | None, expected: date | None) -> None:
    assert env.evaluate("parse_date(text)", {"text": text}) == expected


def test_helpers_need_plain_names() -> None:
    with pytest.raises(ConfigurationError):
        SandboxEnvironment(helpers={"_getattr_": len})


def test_print_is_accepted_and_discarded(env: SandboxEnvironment) -> None:
    assert run(env, "print('hello')\nx = 1") == {"x": 1}


# --- normalisation (trap 8) ---------------------------------------------------------------------


def test_results_are_normalised_to_what_storage_gives_back(env: SandboxEnvironment) -> None:
    data = run(
        env,
        "pair = (1, 2)\n"
        "codes = {'U', 'C'}\n"
        "nested = {'when': [date(2025, 9, 3), (datetime(2025, 9, 3, 8, 0, tzinfo=UTC),)], 2024: 5}\n",
    )
    assert data["pair"] == [1, 2]
    assert data["codes"] == ["C", "U"]
    assert data["nested"] == {"when": ["2025-09-03", ["2025-09-03T08:00:00+00:00"]], "2024": 5}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("1.5"), "use int or float"),
        ({"inner": [len]}, r"x\['inner'\]\[0\]"),
        (datetime(2025, 1, 1), "without a UTC offset"),
        (range(3), "range"),
    ],
)
def test_values_that_cannot_be_stored_are_refused_by_name(value: Any, message: str) -> None:
    env = SandboxEnvironment(helpers={"value": lambda: value})
    with pytest.raises(ScriptError, match=message):
        env.execute("x = value()", {})


# --- escapes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        "x = ().__class__.__base__.__subclasses__()",
        "x = __import__('os')",
        "import os",
        "from os import path",
        "x = open('/etc/passwd')",
        "x = getattr(1, '__class__')",
        "x = type(1).__mro__",
        "x = type(1)",
        "x = '{0.__class__}'.format(1)",
        "x = str.format('{0.__class__}', 1)",
        "x = eval('1')",
        "exec('x = 1')",
        "x = compile('1', 'f', 'eval')",
        "x = globals()",
        "x = vars()",
        "g = (i for i in [1])\nx = g.gi_frame",
        "x = 1\ny = x.f_globals",
        "d = date(2025, 1, 1)\nd.year = 3",
        "setattr(date(2025, 1, 1), 'year', 3)",
        "f = open\nf('/etc/passwd')",
        "class A:\n    pass",
        "x = date.today()",
        "x = datetime.now()",
        "x = 'x' * 10**9",
        "x = [0] * 10**9",
        "x = 10 ** 10 ** 8",
        "x = 1 << 10**9",
        "x = pow(10, 10**8)",
        "x = list(range(10**12))",
        "s = 'ab'\ns *= 10**9",
    ],
)
def test_known_escapes_are_refused(env: SandboxEnvironment, script: str) -> None:
    with pytest.raises(SandboxViolation) as caught:
        env.execute(script, {})
    assert "Traceback" not in caught.value.message


def test_infinite_loops_are_stopped(env: SandboxEnvironment) -> None:
    with pytest.raises(ScriptTimeout):
        env.execute("while True: pass", {})
    with pytest.raises(ScriptTimeout):
        env.evaluate("[a for a in range(10**7) for b in range(10**7)]", {})


def test_a_script_cannot_swallow_its_timeout(env: SandboxEnvironment) -> None:
    script = (
        "while True:\n"
        "    try:\n"
        "        while True:\n"
        "            x = 1\n"
        "    except:\n"
        "        pass\n"
        "    finally:\n"
        "        y = 1\n"
    )
    with pytest.raises(ScriptTimeout):
        env.execute(script, {})


def test_deep_recursion_stops_with_a_script_error(env: SandboxEnvironment) -> None:
    with pytest.raises(ScriptError, match="too deeply") as caught:
        env.execute("def f(n):\n    return f(n + 1)\nf(0)\n", {})
    assert caught.value.details["line"] in (1, 2)  # the def or the call, depending where Python stops


def test_the_limit_applies_in_worker_threads_and_the_tracer_is_restored(env: SandboxEnvironment) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            env.execute("while True:\n    pass", {})
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert [type(e) for e in errors] == [ScriptTimeout]
    assert run(env, "x = 1 + 1") == {"x": 2}


def test_an_existing_tracer_is_put_back(env: SandboxEnvironment) -> None:
    def outer_tracer(frame: Any, event: str, arg: Any) -> None:
        return None

    previous = sys.gettrace()
    sys.settrace(outer_tracer)
    try:
        with pytest.raises(ScriptTimeout):
            env.execute("while True:\n    pass", {})
        assert sys.gettrace() is outer_tracer
    finally:
        sys.settrace(previous)


# --- compiling ----------------------------------------------------------------------------------


def test_compiled_code_is_cached_by_source_text() -> None:
    assert compiled("x = 1 + 1").code is compiled("x = 1 + 1").code
    assert compiled("x = 1 + 1").code is not compiled("x = 1 + 2").code


def test_compile_errors_carry_their_line(env: SandboxEnvironment) -> None:
    with pytest.raises(ScriptError) as caught:
        env.execute("x = 1\ny = = 2\n", {})
    assert not isinstance(caught.value, SandboxViolation)
    assert caught.value.details["line"] == 2


def test_check_script_lists_problems_without_running() -> None:
    assert check_script("x = 1") == []
    assert check_script("a > 1", "eval") == []
    problems = check_script("import os\nx = open('f')\ny = x.__class__\n")
    assert [p.split(":")[0] for p in problems] == ["line 1", "line 2", "line 3"]
    assert check_script("x = = 1")[0].startswith("line 1: SyntaxError")
    assert check_script("while True: pass") == []  # compiles; the time limit deals with it


# --- through SpiffWorkflow ----------------------------------------------------------------------

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="triage" name="Triage" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="score" name="Score the referral">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="route" default="low"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>high</bpmn:outgoing><bpmn:outgoing>low</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="score" />
    <bpmn:sequenceFlow id="f2" sourceRef="score" targetRef="route" />
    <bpmn:sequenceFlow id="high" sourceRef="route" targetRef="urgent">
      <bpmn:conditionExpression>risk &gt;= 10</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="low" sourceRef="route" targetRef="routine" />
    <bpmn:scriptTask id="urgent"><bpmn:incoming>high</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>path = 'urgent'</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="routine"><bpmn:incoming>low</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>path = 'routine'</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end_urgent"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_routine"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="urgent" targetRef="end_urgent" />
    <bpmn:sequenceFlow id="f4" sourceRef="routine" targetRef="end_routine" />
  </bpmn:process>
</bpmn:definitions>
"""


def start_triage(script: str, **data: Any) -> BpmnWorkflow:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(BPMN.replace("{script}", script).encode(), "triage.bpmn")
    engine = SandboxScriptEngine(helpers={"weight": lambda n: n * 3}, time_limit_seconds=1)
    workflow = BpmnWorkflow(
        parser.get_spec("triage"), parser.get_subprocess_specs("triage"), script_engine=engine
    )
    workflow.get_tasks()[0].set_data(**data)
    workflow.do_engine_steps()
    return workflow


@pytest.mark.parametrize(("absences", "path"), [(4, "urgent"), (2, "routine")])
def test_a_script_task_and_gateway_run_in_the_sandbox(absences: int, path: str) -> None:
    workflow = start_triage("risk = weight(absences)\nseen = {absences}", absences=absences)
    assert workflow.is_completed()
    assert workflow.data["path"] == path
    assert workflow.data["seen"] == [absences]


def test_an_escape_surfaces_with_the_task_and_line() -> None:
    with pytest.raises(WorkflowTaskException) as caught:
        start_triage("risk = 1\nrisk = open('/etc/passwd')", absences=1)
    error = caught.value
    assert error.task.task_spec.bpmn_id == "score"
    assert error.line_number == 2
    assert isinstance(error.__cause__, SandboxViolation)
    assert error.exception is error.__cause__


def test_a_compile_error_surfaces_with_its_line() -> None:
    with pytest.raises(WorkflowTaskException) as caught:
        start_triage("risk = 1\nimport os", absences=1)
    assert caught.value.line_number == 2
    assert caught.value.error_line == "import os"
    assert isinstance(caught.value.__cause__, SandboxViolation)


def test_ordinary_errors_keep_spiffworkflow_behaviour() -> None:
    with pytest.raises(WorkflowTaskException) as caught:
        start_triage("risk = 1\nx = {'a': 1}[0]", absences=1)
    assert caught.value.line_number == 2
    assert isinstance(caught.value.__cause__, KeyError)


def test_a_failing_condition_names_the_expression() -> None:
    with pytest.raises(WorkflowTaskException, match="risk >= 10") as caught:
        start_triage("risk = 'high'", absences=1)
    assert isinstance(caught.value.__cause__, TypeError)
