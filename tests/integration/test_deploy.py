"""Deploying BPMN files on a real database: versions, reports, call activities across deployments, and
every kind of bad file refused with its file and element, writing nothing."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

import form_library
from engine import clock
from engine.errors import ProcessValidationError
from engine.forms import FormLibrary
from engine.models.forms import FormVersion
from engine.models.workflow import BpmnFile, ProcessVersion
from engine.services import instances, processes, tasks
from tests.conftest import FIXTURES, at, deploy

MONDAY = at("2026-03-02T09:00:00Z")
BPMN = FIXTURES / "bpmn"


# --- helpers ------------------------------------------------------------------------------------------


def stored_rows(ctx) -> dict[str, int]:
    """How many rows deployment has written, table by table."""
    with ctx.db.transaction() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (BpmnFile, ProcessVersion, FormVersion)
        }


def deployed(report: processes.LibraryReport) -> list[tuple[str, int, str]]:
    return [(d.process_id, d.version, d.status) for d in report.deployed]


def with_extra_forms(ctx, folder: Path, forms: dict[str, dict]):
    """The same context with a further form folder holding ``forms`` (name -> JSON Schema)."""
    folder.mkdir(exist_ok=True)
    for name, schema in forms.items():
        (folder / name).write_text(json.dumps(schema))
    library = FormLibrary([form_library.PATH, FIXTURES / "forms", folder])
    return dataclasses.replace(ctx, forms=library)


REGISTER_EXTRACT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Register extract",
    "type": "object",
    "required": ["sessions_missed"],
    "properties": {"sessions_missed": {"title": "Sessions missed", "type": "integer", "minimum": 0}},
}


# --- versions -----------------------------------------------------------------------------------------


def test_identical_redeploy_is_a_no_op(ctx):
    first = deploy(ctx, "review_case.bpmn")
    after_first = stored_rows(ctx)

    again = deploy(ctx, "review_case.bpmn")

    assert deployed(first) == [("review_case", 1, "new")]
    assert deployed(again) == [("review_case", 1, "unchanged")]
    assert after_first == {"bpmn_file": 1, "process_version": 1, "form_version": 1}
    assert stored_rows(ctx) == after_first


def test_changed_file_becomes_version_2_and_the_list_shows_it(ctx, tmp_path):
    deploy(ctx, "review_case.bpmn")
    changed = tmp_path / "review_case.bpmn"
    changed.write_text((BPMN / "review_case.bpmn").read_text().replace("Approve the outcome", "Sign off"))

    report = deploy(ctx, str(changed))

    assert deployed(report) == [("review_case", 2, "new")]
    assert stored_rows(ctx) == {"bpmn_file": 2, "process_version": 2, "form_version": 1}  # same form
    [listed] = processes.list_processes(ctx)
    assert (listed["process_id"], listed["latest_version"], listed["open_instances"]) == ("review_case", 2, 0)
    assert deployed(deploy(ctx, "review_case.bpmn")) == [("review_case", 1, "unchanged")]  # v1 is known


def test_validation_reports_without_writing(ctx):
    report = processes.validate_sources(ctx, processes.read_sources([BPMN / "review_case.bpmn"]))

    assert report.deployed == []
    assert [(p["process_id"], p["executable"], p["user_tasks"]) for p in report.processes] == [
        ("review_case", True, 2)
    ]
    assert stored_rows(ctx) == {"bpmn_file": 0, "process_version": 0, "form_version": 0}


def test_non_executable_process_is_reported_but_not_deployed(ctx):
    report = deploy(ctx, "partly_executable.bpmn")

    assert [(p["process_id"], p["executable"]) for p in report.processes] == [
        ("children_missing_education", True),
        ("school_notes_cme", False),
    ]
    assert deployed(report) == [("children_missing_education", 1, "new")]
    assert report.warnings == [
        f"{BPMN / 'partly_executable.bpmn'}:21 [school_notes_cme]: process 'school_notes_cme' is not "
        "executable: it was read but cannot be started"
    ]
    assert [p["process_id"] for p in processes.list_processes(ctx)] == ["children_missing_education"]


# --- files from other modellers -------------------------------------------------------------------------


def test_camunda_modeler_file_deploys_with_candidate_groups_as_teams(ctx):
    report = deploy(ctx, "camunda_modeler_referral.bpmn")

    assert deployed(report) == [("attendance_referral", 1, "new")]
    with ctx.db.transaction() as session:
        version = session.scalar(
            select(ProcessVersion).where(ProcessVersion.process_id == "attendance_referral")
        )
        triage = version.task_meta["attendance_referral"]["Activity_Triage"]
    assert triage["teams"] == ["ews-triage", "ews-duty-officers"]


def test_camunda_modeler_process_starts_with_triage_offered_to_both_groups(ctx):
    deploy(ctx, "camunda_modeler_referral.bpmn")

    with clock.frozen_at(MONDAY):
        view = instances.start_instance(ctx, "attendance_referral", business_key="B801200005001")

    assert view.state == "user_input_required"
    [triage] = view.tasks
    assert (triage["task_id"], triage["teams"]) == ("Activity_Triage", ["ews-triage", "ews-duty-officers"])
    assert triage["due_at"] == at("2026-03-05T09:00:00Z")  # camunda:dueDate="P3D": three days on
    assert [(t["task_id"], t["due_at"]) for t in view.timers] == [
        ("Event_TriageOverdue", at("2026-03-09T09:00:00Z"))  # the bare ISO P7D, normalised on import
    ]


# --- call activities across deployments -----------------------------------------------------------------


def test_call_activity_resolves_against_a_separately_deployed_process(ctx, tmp_path):
    ctx = with_extra_forms(ctx, tmp_path / "forms", {"register-extract-schema.json": REGISTER_EXTRACT})
    assert deployed(deploy(ctx, "call_child.bpmn")) == [("call_child", 1, "new")]

    parent = deploy(ctx, "call_parent.bpmn")  # alone: call_child comes from the database

    assert deployed(parent) == [("call_parent", 1, "new")]
    assert [p["called_processes"] for p in parent.processes] == [["call_child"]]
    assert deployed(deploy(ctx, "call_parent.bpmn")) == [("call_parent", 1, "unchanged")]

    with clock.frozen_at(MONDAY):
        view = instances.start_instance(ctx, "call_parent")
    [upload] = view.tasks
    assert (upload["task_id"], upload["name"], upload["form"]) == (
        "Activity_UploadRegister",
        "Upload register extract",
        "register-extract-schema.json",
    )
    with clock.frozen_at(MONDAY):
        done = tasks.complete_task(ctx, upload["id"], {"sessions_missed": 4}, actor="school1")
    assert (done["process_id"], done["instance_state"]) == ("call_child", "user_input_required")
    shown = instances.show_instance(ctx, view.id)
    assert {t["task_id"]: t["state"] for t in shown.tasks} == {
        "Activity_UploadRegister": "completed",
        "Activity_Decide": "ready",
    }


def test_deploying_a_caller_alone_fails_while_its_callee_is_not_deployed(ctx):
    with pytest.raises(ProcessValidationError) as raised:
        deploy(ctx, "call_parent.bpmn")

    [problem] = raised.value.problems
    assert (Path(problem.file).name, problem.element_id) == ("call_parent.bpmn", "Activity_GatherEvidence")
    assert "calls process 'call_child'" in problem.reason
    assert stored_rows(ctx) == {"bpmn_file": 0, "process_version": 0, "form_version": 0}


# --- bad files ------------------------------------------------------------------------------------------

BAD_FILES = [
    # (fixture, the first problem's element id, its line, words its reason must contain)
    ("malformed.bpmn", None, 9, "not well-formed XML"),
    ("xxe.bpmn", None, 2, "DOCTYPE declarations are not allowed"),
    ("billion_laughs.bpmn", None, 2, "DOCTYPE declarations are not allowed"),
    ("not_executable.bpmn", "pupil_transfer_notes", 3, "no executable process"),
    ("missing_call_target.bpmn", "Activity_Visit", 7, "calls process 'school_visit'"),
    ("cron_timer.bpmn", "Event_WeekdayMorning", 11, "is a cron expression"),
    ("empty_timer.bpmn", "Event_Wait", 10, "has no time set"),
    ("service_task_no_operator.bpmn", "Activity_SendLetter", 7, "no operator given"),
    ("script_syntax_error.bpmn", "Activity_Score", 10, "SyntaxError"),
    ("camunda_java_service.bpmn", "Activity_IssueNotice", 7, "cannot run Java"),
    ("missing_form.bpmn", "ehe_record_visit", None, "No form file 'home-visit-record.schema.json'"),
]


@pytest.mark.parametrize(
    ("fixture", "element_id", "line", "reason"), BAD_FILES, ids=[b[0] for b in BAD_FILES]
)
def test_bad_file_is_refused_with_file_and_element_and_nothing_is_written(
    ctx, fixture, element_id, line, reason
):
    with pytest.raises(ProcessValidationError) as raised:
        deploy(ctx, fixture)

    problem = raised.value.problems[0]
    assert (problem.file, problem.element_id, problem.line) == (str(BPMN / fixture), element_id, line)
    assert reason in problem.reason
    assert str(BPMN / fixture) in raised.value.message
    assert stored_rows(ctx) == {"bpmn_file": 0, "process_version": 0, "form_version": 0}


def test_every_problem_in_a_file_is_reported_at_once(ctx):
    with pytest.raises(ProcessValidationError) as raised:
        deploy(ctx, "script_syntax_error.bpmn")

    assert [p.element_id for p in raised.value.problems] == [
        "Activity_Score",
        "Flow_Concern",
        "Activity_Review",
    ]


def test_one_bad_file_among_good_ones_deploys_nothing(ctx):
    with pytest.raises(ProcessValidationError) as raised:
        deploy(ctx, "review_case.bpmn", "message_start.bpmn", "cron_timer.bpmn")

    assert {Path(p.file).name for p in raised.value.problems} == {"cron_timer.bpmn"}
    assert stored_rows(ctx) == {"bpmn_file": 0, "process_version": 0, "form_version": 0}
    assert processes.list_processes(ctx) == []
