"""Web benchmark: the real app over real HTTP, on a database of LA scale.

    python bench/web.py                          # 10,000 cases, 100,000 task rows, 20,000 pupils (SQLite)
    python bench/web.py --full                   # 100,000 cases, 1,000,000 task rows, 250,000 pupils
    python bench/web.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_web
    python bench/web.py --seconds 60 --clients 20 --keep /tmp/bench-web   # keep the SQLite file

Builds the database (bench/web_data.py: a synthetic LA, its alerts, cases cloned from real ones),
starts the app in its own process (werkzeug's threaded server, scheduler off) on a free port, and
measures with real HTTP requests, every client signed in through the sign-in form with its CSRF token:

* the inbox (my tasks, the team tab, unassigned, with filters; a caseworker and a manager), a pupil's
  record (random pupils), the dashboard and two of its lists: p50 and p95;
* ``--clients`` caseworkers (threads, each its own session and its own tasks) completing tasks through
  the task page's form for ``--seconds``: each opens its inbox, opens a task, and sends the form (filled
  in from a saved draft), as a person does;
* then, in the database: task_completed events == accepted submissions, each task completed once, by
  the person who sent it, and none of the accepted submissions missing.

Prints every figure; asserts nothing. A PostgreSQL URL's public schema is dropped and made again: give
it a database of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import web_data  # beside this file: the script's directory is on sys.path
from sqlalchemy import func, select, text
from web_client import Browser, form_fields

from engine import clock
from engine.config import load_settings
from engine.context import Context, create_context
from engine.db import Database
from engine.migrate import upgrade
from engine.models.workflow import HumanTask, ProcessInstance, WorkflowEvent
from engine.services import calendars, processes
from engine.services.demo import generate_demo_data

HERE = Path(__file__).resolve().parent

TERM_DATES = HERE.parent / "engine" / "data" / "term-dates-example-2025-27.json"
TARGETS_MS = {"inbox": 150, "pupil record": 200, "dashboard": 500}


@dataclass
class Timings:
    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, ms: float) -> None:
        self.samples.setdefault(name, []).append(ms)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def say(text_: str) -> None:
    print(text_, flush=True)


# --- the database -----------------------------------------------------------------------------------------


def make_context(url: str) -> Context:
    db = Database(url)
    if db.is_postgres:
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(db)
    return create_context(load_settings(database_url=url, scheduler_enabled=False), database=db)


def build(ctx: Context, args: argparse.Namespace) -> web_data.Built:
    built, started = web_data.Built(), time.perf_counter()

    def phase(name: str, since: float) -> float:
        built.seconds[name] = round(time.perf_counter() - since, 1)
        say(f"  {name}: {built.seconds[name]} s")
        return time.perf_counter()

    with ctx.db.transaction() as session:
        calendars.load_calendar(session, TERM_DATES)
    ctx.calendars.invalidate()
    processes.deploy_sources(ctx, processes.read_sources([ctx.process_library_path]), actor="bench")
    mark = phase("schema, term dates, process library", started)
    made = generate_demo_data(ctx, args.pupils, seed=args.seed, as_of=clock.now().date())
    built.counts["pupils"] = made["pupils"]
    built.pupils = web_data.pupils_on_roll(ctx)
    mark = phase(f"synthetic LA ({made['pupils']:,} pupils, {made['establishments']} establishments)", mark)
    built.counts["alerts"] = web_data.raise_alerts(ctx, args.seed)["alerts"]
    mark = phase(f"alert rules evaluated ({built.counts['alerts']:,} alerts)", mark)
    templates = web_data.make_templates(ctx)
    completable = sum(t.answers is not None for t in templates)
    mark = phase(f"{len(templates)} template cases run through the engine ({completable} completable)", mark)
    built.workers = web_data.make_people(ctx, templates, args.clients)
    mark = phase(f"{len(built.workers) + 1} accounts", mark)
    with ctx.db.transaction() as session:
        existing_cases = session.scalar(select(func.count()).select_from(ProcessInstance)) or 0
        existing_tasks = session.scalar(select(func.count()).select_from(HumanTask)) or 0
    clones = max(0, args.instances - existing_cases)
    cloner = web_data.Cloner(templates, built.workers, built.pupils, 0.0, args.seed)
    per_case = (args.tasks - existing_tasks) / clones if clones else 0
    cloner.history_per_case = max(0.0, per_case - cloner.template_tasks_per_case())
    web_data.populate(ctx, cloner, clones, say)
    built.queues = cloner.queues
    mark = phase(f"{clones:,} cases cloned", mark)
    analyse(ctx)
    phase("VACUUM ANALYZE" if ctx.db.is_postgres else "ANALYZE", mark)
    with ctx.db.transaction() as session:
        built.counts["cases"] = session.scalar(select(func.count()).select_from(ProcessInstance)) or 0
        built.counts["task rows"] = session.scalar(select(func.count()).select_from(HumanTask)) or 0
        built.counts["open tasks"] = (
            session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.state == "ready")) or 0
        )
    built.seconds["total build"] = round(time.perf_counter() - started, 1)
    return built


def analyse(ctx: Context) -> None:
    """Planner statistics and, on PostgreSQL, the visibility map index-only scans rely on: what a
    maintained database has (autovacuum; on SQLite an operator's ANALYZE or ``PRAGMA optimize``)."""
    if not ctx.db.refresh_statistics():  # SQLite: ANALYZE, committed (AUTOCOMMIT still began a transaction)
        with ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


# --- the server -------------------------------------------------------------------------------------------


def serve(url: str) -> None:
    """The app on a free port (run in a process of its own): prints ``PORT <n>``, then serves."""
    import logging

    from werkzeug.serving import make_server

    from webapp import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    ctx = create_context(load_settings(database_url=url, scheduler_enabled=False))
    app = create_app(
        {"EDUCASE_CONTEXT": ctx, "SECRET_KEY": secrets.token_hex(32), "SESSION_COOKIE_SECURE": False}
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


def start_server(url: str, log: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", url], stdout=subprocess.PIPE, stderr=log.open("w"), text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("PORT "):
        process.kill()
        raise RuntimeError(f"the app did not start: {log.read_text()[-2000:]}")
    return process, f"http://127.0.0.1:{int(line.split()[1])}"


# --- latencies --------------------------------------------------------------------------------------------


def measure(browser: Browser, timings: Timings, name: str, paths: list[str], runs: int) -> None:
    browser.get(paths[0])  # warm: caches, first connection
    for n in range(runs):
        reply = browser.get(paths[n % len(paths)])
        if reply.status != 200:
            raise RuntimeError(f"GET {paths[n % len(paths)]} answered {reply.status}")
        timings.add(name, reply.ms)


def latencies(base: str, built: web_data.Built, args: argparse.Namespace) -> Timings:
    rng, timings = random.Random(args.seed), Timings()
    worker = next(u for u, team in sorted(built.workers.items()) if team == "attendance")
    school = built.pupils[0][1]
    caseworker, manager = Browser(base), Browser(base)
    caseworker.sign_in(worker, web_data.PASSWORD)
    manager.sign_in(web_data.MANAGER, web_data.PASSWORD)
    inbox = {
        "my tasks": "/tasks",
        "team tab": "/tasks?tab=team",
        "unassigned": "/tasks?tab=unassigned",
        "team, one process": "/tasks?tab=team&process=absence_referral",
        "team, overdue": "/tasks?tab=team&due=overdue",
        "team, due this week, latest first": "/tasks?tab=team&due=week&sort=-due",
        "team, one school": f"/tasks?tab=team&establishment={school}",
        "team, page 4": "/tasks?tab=team&page=4",
    }
    for name, path in inbox.items():
        measure(caseworker, timings, f"inbox: {name}", [path], args.runs)
    for name, path in {"manager, all teams": "/tasks?tab=team&team=all",
                       "manager, all unassigned overdue": "/tasks?tab=unassigned&team=all&due=overdue"}.items():  # fmt: skip
        measure(manager, timings, f"inbox: {name}", [path], args.runs)
    upns = [upn for upn, _ in rng.sample(built.pupils, min(len(built.pupils), args.runs * 4))]
    if caseworker.get(f"/pupils/{upns[0]}").status == 200:
        measure(caseworker, timings, "pupil record", [f"/pupils/{u}" for u in upns], args.runs * 4)
    else:
        say("  pupil record: not measured (GET /pupils/<upn> is not served by this version of the app)")
    measure(manager, timings, "dashboard", ["/manage"], args.runs)
    measure(manager, timings, "dashboard list: overdue tasks of a team", ["/manage/tasks?team=attendance&overdue=1"],
            args.runs)  # fmt: skip
    measure(manager, timings, "dashboard list: open alerts of a rule", ["/manage/alerts?rule=persistent-absence"],
            args.runs)  # fmt: skip
    export = manager.get("/manage/tasks/export.csv?team=attendance&overdue=1")
    timings.add(
        f"export: overdue tasks of a team as CSV ({export.text.count(chr(10)) - 1:,} rows)", export.ms
    )
    for browser in (caseworker, manager):
        browser.close()
    return timings


# --- concurrent completion --------------------------------------------------------------------------------


@dataclass
class ClientResult:
    username: str
    accepted: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    post_ms: list[float] = field(default_factory=list)
    page_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ran_out: bool = False


def complete_tasks(base: str, username: str, queue: list[str], deadline: float, result: ClientResult) -> None:
    browser = Browser(base)
    try:
        browser.sign_in(username, web_data.PASSWORD)
        for task_id in queue:
            if time.monotonic() >= deadline:
                return
            _complete_one(browser, task_id, result)
        result.ran_out = True
    except Exception as error:  # a broken connection, a timeout: counted, never hidden
        result.errors.append(f"{type(error).__name__}: {error}")
    finally:
        browser.close()


def _complete_one(browser: Browser, task_id: str, result: ClientResult) -> None:
    inbox = browser.get("/tasks")
    page = browser.get(f"/tasks/{task_id}")
    result.page_ms += [inbox.ms, page.ms]
    if page.status != 200:
        result.statuses[f"task page {page.status}"] += 1
        return
    fields = [*form_fields(page.text), ("_action", "continue")]
    reply = browser.post(f"/tasks/{task_id}", fields)
    result.post_ms.append(reply.ms)
    if reply.status == 303 and not reply.location.endswith(f"/tasks/{task_id}"):
        result.accepted.append(task_id)
        result.statuses["accepted (303)"] += 1
    else:
        result.statuses[f"refused ({reply.status})"] += 1
        if reply.status >= 500:
            result.errors.append(f"POST /tasks/{task_id}: {reply.status}")


def concurrency(
    base: str, built: web_data.Built, args: argparse.Namespace
) -> tuple[list[ClientResult], float, float]:
    clients = sorted(built.queues, key=lambda u: -len(built.queues[u]))[: args.clients]
    results = [ClientResult(u) for u in clients]
    started_at = clock.now()
    deadline = time.monotonic() + args.seconds
    threads = [
        threading.Thread(
            target=complete_tasks, args=(base, r.username, built.queues[r.username], deadline, r)
        )
        for r in results
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - began, started_at.timestamp()


def verify(ctx: Context, results: list[ClientResult], since: float) -> dict[str, Any]:
    """What the database recorded of the run, against what the clients were told."""
    from datetime import UTC, datetime

    accepted = {task_id: r.username for r in results for task_id in r.accepted}
    names = [r.username for r in results]
    ev = WorkflowEvent.__table__
    with ctx.db.transaction() as session:
        events = session.execute(
            select(ev.c.task_guid, ev.c.actor).where(
                ev.c.kind == "task_completed",
                ev.c.actor.in_(names),
                ev.c.at >= datetime.fromtimestamp(since, UTC),
            )
        ).all()
        ht = HumanTask.__table__
        rows = dict(session.execute(select(ht.c.id, ht.c.completed_by).where(ht.c.id.in_(list(accepted)),
                                                                               ht.c.state == "completed")).all())  # fmt: skip
    recorded = Counter(guid for guid, _ in events)
    return {
        "accepted submissions": len(accepted),
        "task_completed events": len(events),
        "events == accepted": len(events) == len(accepted),
        "tasks completed twice": sum(1 for n in recorded.values() if n > 1),
        "accepted but not recorded (lost)": len(set(accepted) - set(recorded)),
        "recorded but not accepted": len(set(recorded) - set(accepted)),
        "recorded by someone else": sum(
            1 for guid, actor in events if accepted.get(guid) not in (None, actor)
        ),
        "task rows completed by the sender": sum(1 for t, who in rows.items() if accepted[t] == who),
    }


# --- report -----------------------------------------------------------------------------------------------


def report(timings: Timings) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    inbox = [ms for name, values in timings.samples.items() if name.startswith("inbox:") for ms in values]
    if inbox:
        timings.samples["inbox (all of the above)"] = inbox
    for name, values in timings.samples.items():
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        target = next((t for k, t in TARGETS_MS.items() if name in (k, f"{k} (all of the above)")), None)
        verdict = f"   target p95 < {target} ms: {'met' if p95 < target else 'NOT MET'}" if target else ""
        say(f"  {name:<52} n={len(values):<4} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms{verdict}")
        figures[name] = {"n": len(values), "p50_ms": round(p50, 1), "p95_ms": round(p95, 1)}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--full", action="store_true", help="100,000 cases, 1,000,000 task rows, 250,000 pupils"
    )
    parser.add_argument("--instances", type=int, help="cases (default 10,000; --full 100,000)")
    parser.add_argument("--tasks", type=int, help="task rows (default 100,000; --full 1,000,000)")
    parser.add_argument("--pupils", type=int, help="pupils (default 20,000; --full 250,000)")
    parser.add_argument(
        "--postgres", metavar="URL", help="use this PostgreSQL database (its schema is replaced)"
    )
    parser.add_argument("--keep", metavar="DIR", help="build the SQLite file in DIR and keep it")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=40, help="requests per measured page (default 40)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    scale = (100_000, 1_000_000, 250_000) if args.full else (10_000, 100_000, 20_000)
    args.instances, args.tasks, args.pupils = (
        args.instances or scale[0], args.tasks or scale[1], args.pupils or scale[2])  # fmt: skip
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="educase-bench-web-"))
    workdir.mkdir(parents=True, exist_ok=True)
    url = args.postgres or f"sqlite:///{workdir / 'bench-web.sqlite'}"
    if not args.postgres:
        Path(workdir / "bench-web.sqlite").unlink(missing_ok=True)
    database = "PostgreSQL" if args.postgres else "SQLite"
    say(
        f"web benchmark on {database}: {args.instances:,} cases, {args.tasks:,} task rows, {args.pupils:,} pupils"
    )
    started = time.perf_counter()
    ctx = make_context(url)
    built = build(ctx, args)
    say(
        f"built in {built.seconds['total build']} s: "
        + ", ".join(f"{v:,} {k}" for k, v in built.counts.items())
    )
    if not args.postgres:
        say(f"  SQLite file: {os.path.getsize(workdir / 'bench-web.sqlite') / 2**20:,.0f} MiB")
    server, base = start_server(url, workdir / "server.log")
    try:
        say("latencies (one client at a time, real HTTP):")
        figures = report(latencies(base, built, args))
        teams = Counter(
            built.workers[u]
            for u in sorted(built.queues, key=lambda u: -len(built.queues[u]))[: args.clients]
        )
        say(f"{args.clients} clients completing tasks through the task form for {args.seconds:.0f} s "
            f"(caseworkers of {', '.join(f'{team} x{n}' for team, n in teams.most_common())}):")  # fmt: skip
        results, elapsed, since = concurrency(base, built, args)
    finally:
        server.terminate()
        server.wait(timeout=30)
    statuses = sum((r.statuses for r in results), Counter())
    posts = [ms for r in results for ms in r.post_ms]
    accepted = sum(len(r.accepted) for r in results)
    errors = [e for r in results for e in r.errors]
    say(f"  submissions: {sum(statuses.values()):,} ({dict(statuses)}); {accepted / elapsed:.1f} accepted/s")
    if posts:
        say(f"  form POST: p50 {statistics.median(posts):.0f} ms, p95 {percentile(posts, 0.95):.0f} ms; "
            f"pages (inbox, task): p95 {percentile([m for r in results for m in r.page_ms], 0.95):.0f} ms")  # fmt: skip
    say(f"  errors: {len(errors)}{' - ' + '; '.join(errors[:5]) if errors else ''}")
    say(f"  clients that used up their tasks before the end: {sum(r.ran_out for r in results)}")
    checks = verify(ctx, results, since)
    for name, value in checks.items():
        say(f"  {name}: {value}")
    server_errors = (workdir / "server.log").read_text().count("Traceback")
    say(f"  tracebacks in the server's log: {server_errors}")
    say(f"total {time.perf_counter() - started:.0f} s")
    ctx.db.dispose()
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps({"database": database, "counts": built.counts, "build_seconds": built.seconds,
                      "latencies": figures, "completion": {"accepted": accepted, "statuses": dict(statuses),
                      "errors": len(errors), "seconds": round(elapsed, 1), **checks}}, default=str))  # fmt: skip


if __name__ == "__main__":
    main()
