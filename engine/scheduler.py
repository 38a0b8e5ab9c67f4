"""APScheduler wiring: wake instances when their timers fall due; poll as a safety net.

The ``timer`` table is the truth. Every ``TIMER_POLL_SECONDS`` the scheduler fires whatever is due
(so after downtime every overdue timer fires at once) and books a one-off wake-up for the next timer
due before the following poll, so timers fire on time rather than on the poll's beat. Several
schedulers may run against PostgreSQL: the timer service guarantees each timer fires once.
It also runs the alert rules nightly and after each attendance import. It calls services only.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from . import clock
from .services.timers import next_due_at, run_due_timers
from .workflow.deadlines import uk_today

if TYPE_CHECKING:
    from .context import Context

log = logging.getLogger("educase.scheduler")
WAKE_JOB = "educase-timer-wake"
POLL_JOB = "educase-timer-poll"
STATISTICS_JOB = "educase-database-statistics"


def fire_due(ctx: Context, scheduler: BaseScheduler | None = None) -> int:
    """One scheduler tick: fire due timers, then book the next precise wake-up."""
    try:
        run = run_due_timers(ctx)
    except Exception:  # keep the scheduler alive; the next poll retries
        log.exception("firing due timers failed")
        return 0
    if run.fired:
        log.info("fired %d timer(s) in instances %s", len(run.fired), sorted(run.instances))
    if scheduler is not None:
        _book_wake(ctx, scheduler)
    return len(run.fired)


def _book_wake(ctx: Context, scheduler: BaseScheduler) -> None:
    due = next_due_at(ctx)
    horizon = clock.now() + timedelta(seconds=ctx.settings.timer_poll_seconds)
    if due is not None and due <= horizon:
        scheduler.add_job(
            fire_due,
            "date",
            run_date=max(due, clock.now()),
            args=[ctx, scheduler],
            id=WAKE_JOB,
            replace_existing=True,
            misfire_grace_time=None,
        )


def configure(ctx: Context, scheduler: BaseScheduler) -> BaseScheduler:
    configure_alerts(ctx, scheduler)
    scheduler.add_job(
        refresh_statistics,
        CronTrigger(hour=3, minute=30, timezone=ctx.settings.timezone),
        args=[ctx],
        id=STATISTICS_JOB,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=6 * 3600,
    )
    scheduler.add_job(
        fire_due,
        "interval",
        seconds=ctx.settings.timer_poll_seconds,
        args=[ctx, scheduler],
        id=POLL_JOB,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        next_run_time=clock.now(),
    )
    return scheduler


def refresh_statistics(ctx: Context) -> bool:
    """Nightly, after the alerts: the embedded database's planner statistics (see Database)."""
    try:
        return ctx.db.refresh_statistics()
    except Exception:  # keep the scheduler alive; tomorrow night retries
        log.exception("refreshing the database statistics failed")
        return False


# --- alert rules: nightly, and after each attendance import -------------------------------------------

ALERTS_NIGHTLY_JOB = "educase-alerts-nightly"
ALERTS_IMPORT_JOB = "educase-alerts-after-import"


def evaluate_alerts(ctx: Context, trigger: str) -> dict[str, Any] | None:
    """Evaluate every enabled rule as of today (UK date); logs and swallows failures."""
    from .services.alerts import evaluate

    try:
        result = evaluate(ctx, uk_today(clock.now()), trigger=trigger, actor="scheduler")
    except Exception:  # keep the scheduler alive; the next run retries
        log.exception("alert evaluation (%s) failed", trigger)
        return None
    log.info("alerts (%s): %d raised, %d updated", trigger, result["raised"], result["updated"])
    return result


def evaluate_after_import(ctx: Context) -> dict[str, Any] | None:
    """Evaluate when an attendance import was applied since the last evaluation. Imports happen in
    other processes (the CLI, web workers), so the scheduler watches the import log."""
    from .services.alerts import imports_since_last_evaluation

    try:
        if not imports_since_last_evaluation(ctx):
            return None
    except Exception:
        log.exception("checking for new attendance imports failed")
        return None
    return evaluate_alerts(ctx, "import")


def configure_alerts(ctx: Context, scheduler: BaseScheduler) -> None:
    """The nightly evaluation (EDUCASE_ALERTS_NIGHTLY_AT, local time) and the watch for imports."""
    hour, minute = (int(part) for part in ctx.settings.alerts_nightly_at.split(":"))
    scheduler.add_job(
        evaluate_alerts,
        CronTrigger(hour=hour, minute=minute, timezone=ctx.settings.timezone),
        args=[ctx, "nightly"],
        id=ALERTS_NIGHTLY_JOB,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=6 * 3600,  # run late rather than not at all (a busy pool, a slow night)
    )
    scheduler.add_job(
        evaluate_after_import,
        "interval",
        seconds=ctx.settings.alerts_import_poll_seconds,
        args=[ctx],
        id=ALERTS_IMPORT_JOB,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )


def start_in_background(ctx: Context) -> BackgroundScheduler:
    """For the web process (demo): the scheduler runs in a thread beside the app."""
    scheduler = BackgroundScheduler(timezone="UTC")
    configure(ctx, scheduler).start()
    return scheduler


def run_forever(ctx: Context) -> None:
    """For `educase scheduler`: blocks until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    scheduler = BlockingScheduler(timezone="UTC")
    log.info("scheduler started; polling every %s s", ctx.settings.timer_poll_seconds)
    try:
        configure(ctx, scheduler).start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
