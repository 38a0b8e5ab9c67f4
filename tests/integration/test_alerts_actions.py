"""What follows an alert: a process started exactly once per alert (with the pupil's UPN as business
key), retried when it could not start; simulation that writes nothing; the scheduler's jobs."""

from __future__ import annotations

from datetime import date

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from engine import clock
from engine.models.alerts import AlertEvaluation, AlertNotification
from engine.models.workflow import ProcessInstance
from engine.scheduler import (
    ALERTS_IMPORT_JOB,
    ALERTS_NIGHTLY_JOB,
    POLL_JOB,
    STATISTICS_JOB,
    configure,
    evaluate_after_import,
    refresh_statistics,
)
from engine.services import alert_inbox, alert_rules
from engine.services.alerts import evaluate, imports_since_last_evaluation, simulate
from engine.services.attendance import import_file
from tests.conftest import at, deploy
from tests.integration.alerts_support import FRI, MON, alerts, count_alerts, days_to, pupil, write_marks
from tests.unit.alert_support import Register

UPN = "A881400112001"


def _penalty_case(ctx):
    """12 O sessions in the week of 9 March and on Monday 16 March (penalty threshold and CME)."""
    who = pupil(ctx, UPN)
    write_marks(ctx, who, Register(FRI).days(days_to(FRI)[-10:-4], "O"))
    return who


def _enable_legal_route(ctx) -> None:
    rule = alert_rules.get_rule(ctx, "penalty-threshold")
    rule["action"]["start_process"]["enabled"] = True
    alert_rules.save_rule(ctx, rule, actor="admin")


def _instances(ctx) -> list[ProcessInstance]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)))


def test_a_rule_starts_its_process_once_per_alert(calendar_ctx):
    ctx = calendar_ctx
    deploy(ctx, str(ctx.process_library_path / "attendance_legal_route.bpmn"))
    _penalty_case(ctx)
    _enable_legal_route(ctx)
    result = evaluate(ctx, MON)
    assert result["processes"] == {"started": 1, "failed": 0}
    (alert,) = alerts(ctx, "penalty-threshold")
    (instance,) = _instances(ctx)
    assert (alert.instance_id, alert.process_status, instance.business_key) == (instance.id, "started", UPN)
    assert (alert.rule_version, alert.facts["count"]) == (2, 12)
    for night in (date(2026, 3, 17), date(2026, 3, 18)):
        assert evaluate(ctx, night)["processes"] == {"started": 0, "failed": 0}
    assert len(_instances(ctx)) == 1
    (cme,) = alerts(ctx, "cme-consecutive-unauthorised")  # its rule's process is not enabled
    assert cme.instance_id is None and cme.process_status is None


def test_the_start_data_carry_the_trigger_the_count_and_the_pupil(calendar_ctx):
    from engine.services.instances import show_instance

    ctx = calendar_ctx
    deploy(ctx, str(ctx.process_library_path / "attendance_legal_route.bpmn"))
    _penalty_case(ctx)
    _enable_legal_route(ctx)
    evaluate(ctx, MON)
    (alert,) = alerts(ctx, "penalty-threshold")
    events = show_instance(ctx, alert.instance_id).events
    started = next(e for e in events if e["kind"] == "started")["data"]["data"]
    assert (started["trigger"], started["sessions_counted"]) == ("penalty_threshold", 12)
    assert started["pupil"]["upn"] == UPN and started["school"]["laestab"] == "8814001"


def test_a_process_that_cannot_start_is_retried_until_it_can(calendar_ctx):
    ctx = calendar_ctx
    _penalty_case(ctx)
    _enable_legal_route(ctx)
    assert evaluate(ctx, MON)["processes"] == {"started": 0, "failed": 1}  # not deployed yet
    (alert,) = alerts(ctx, "penalty-threshold")
    assert alert.process_status == "pending" and "No process 'attendance_legal_route'" in alert.process_error
    deploy(ctx, str(ctx.process_library_path / "attendance_legal_route.bpmn"))
    assert evaluate(ctx, date(2026, 3, 17))["processes"] == {"started": 1, "failed": 0}
    (alert,) = alerts(ctx, "penalty-threshold")
    assert alert.process_status == "started" and alert.process_error is None
    history = alert_inbox.show_alert(ctx, alert.id)["history"]
    assert [h["action"] for h in history] == ["raised", "process_failed", "process_started"]


def test_simulation_counts_and_writes_nothing(calendar_ctx):
    ctx = calendar_ctx
    _penalty_case(ctx)
    pupil(ctx, "B881400112002")  # present throughout
    with ctx.db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(AlertEvaluation))
    rule = alert_rules.get_rule(ctx, "penalty-threshold")
    stricter = {**rule, "params": {**rule["params"], "count": 14}}
    looser = {**rule, "params": {**rule["params"], "count": 6}}
    result = simulate(ctx, looser, date(2026, 3, 1), FRI)
    assert (result["alerts"], result["written"], result["stored_version"]["alerts"]) == (1, False, 1)
    assert result["examples"][0]["upn"] == UPN and result["by_month_first_raised"] == {"2026-03": 1}
    assert simulate(ctx, stricter, date(2026, 3, 1), FRI)["alerts"] == 0
    assert count_alerts(ctx) == 0
    with ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AlertEvaluation)) == before
        assert session.scalar(select(func.count()).select_from(AlertNotification)) == 0


def _import_establishments(ctx, folder) -> None:
    establishments = folder / "establishments.csv"
    establishments.write_text(
        "laestab,urn,name,phase,type\n8814001,114001,Castle Park School,secondary,academy\n"
    )
    assert import_file(ctx, establishments).applied


def test_the_scheduler_evaluates_nightly_and_after_each_import(calendar_ctx, tmp_path):
    ctx = calendar_ctx
    scheduler = configure(ctx, BackgroundScheduler(timezone="UTC"))
    nightly = scheduler.get_job(ALERTS_NIGHTLY_JOB)
    assert scheduler.get_job(POLL_JOB) and scheduler.get_job(ALERTS_IMPORT_JOB)
    assert (
        str(nightly.trigger) == "cron[hour='2', minute='0']"
        and str(nightly.trigger.timezone) == "Europe/London"
    )
    statistics = scheduler.get_job(STATISTICS_JOB)
    assert str(statistics.trigger) == "cron[hour='3', minute='30']"
    assert refresh_statistics(ctx) is (ctx.db.engine.dialect.name == "sqlite")
    if ctx.db.engine.dialect.name == "sqlite":  # the planner's statistics are there, committed
        with ctx.db.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM sqlite_stat1").scalar() > 0
    assert not imports_since_last_evaluation(ctx) and evaluate_after_import(ctx) is None
    _import_establishments(ctx, tmp_path)
    assert imports_since_last_evaluation(ctx)
    with clock.frozen_at(at("2026-03-20T03:00:00Z")):  # the scheduler evaluates as of today (UK)
        result = evaluate_after_import(ctx)
    assert (result["trigger"], result["as_of"]) == ("import", "2026-03-20")
    assert not imports_since_last_evaluation(ctx) and evaluate_after_import(ctx) is None


def test_an_evaluation_that_cannot_run_is_logged_and_not_retried_for_the_same_import(calendar_ctx, tmp_path):
    ctx = calendar_ctx
    _import_establishments(ctx, tmp_path)
    with clock.frozen_at(at("2027-03-20T03:00:00Z")):  # no term dates cover March 2027
        assert evaluate_after_import(ctx) is None  # logged, not raised
    with ctx.db.transaction() as session:
        (logged,) = session.scalars(select(AlertEvaluation)).all()
    assert logged.summary["error"]["code"] == "calendar_error" and not imports_since_last_evaluation(ctx)
