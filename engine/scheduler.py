"""APScheduler wiring: wake instances when their timers fall due; poll as a safety net.

The ``timer`` table is the truth. Every ``TIMER_POLL_SECONDS`` the scheduler fires whatever is due
(so after downtime every overdue timer fires at once) and books a one-off wake-up for the next timer
due before the following poll, so timers fire on time rather than on the poll's beat. Several
schedulers may run against PostgreSQL: the timer service guarantees each timer fires once.
It calls services only.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from . import clock
from .services.timers import next_due_at, run_due_timers

if TYPE_CHECKING:
    from .context import Context

log = logging.getLogger("educase.scheduler")
WAKE_JOB = "educase-timer-wake"
POLL_JOB = "educase-timer-poll"


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
