"""A small LA whose dashboard figures are known exactly, on Wednesday 4 March 2026 at 10:00 (UTC).

With the example 2025/26 term dates the 5th school day after 4 March is Wednesday 11 March: deadlines
up to the end of 11 March (00:00 on 12 March) are "at risk".

Cases (the shipped absence referral; triage is due 5 school days after receipt, with a boundary timer
at the same moment):

=============  =============  ===========================  ==============================  ==========
reference      received       now at                       deadline                        held by
=============  =============  ===========================  ==============================  ==========
A801200026001  Mon 23 Feb     triage                       end of 2 March: overdue         ewo
B801200026002  Mon 2 Mar      triage                       end of 9 March: at risk         ewo2
C801200026003  Wed 4 Mar      triage                       end of 11 March: at risk        nobody
D801200026004  Wed 4 Mar      casework plan (triaged)      none                            ewo
E801200026005  Mon 2 Mar      complete (not attendance)    -                               -
ERR-1          Wed 4 Mar      stopped with an error        -                               -
=============  =============  ===========================  ==============================  ==========

Alerts (``boss``, a manager, may not see CLA flags; ``admin`` sees everything):

* penalty-threshold at Castle Park: one open (raised 3 Mar), one acknowledged (raised 24 Feb), one
  closed (raised 16 Feb, closed 25 Feb);
* persistent-absence: one open at Riverside (raised 2 Mar), one open with no establishment (2 Mar);
* cme-consecutive-unauthorised (changed to pupils in care only: a rule scoped to the CLA flag) at
  Riverside, for a pupil in care whose flag is shared with the cme team only: open, raised 3 Mar:
  hidden from ``boss``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from engine import clock
from engine.context import Context
from engine.models.alerts import Alert
from engine.services import alert_rules, instances, tasks
from engine.services.alert_rules import ensure_default_rules
from tests.conftest import at, deploy
from tests.integration.alerts_support import CASTLE_PARK, RIVERSIDE, pupil, school
from tests.web.cases import TRIAGE, deploy_referrals, make_people, open_task, start_referral

NOW = at("2026-03-04T10:00:00Z")
NOT_ATTENDANCE = {
    "triaged_on": "2026-03-04",
    "triage_outcome": "not_attendance_matter",
    "signposted_to": "health",
    "not_attendance_reason": "The absences are for a diagnosed illness, already supported.",
}


def build(ctx: Context) -> dict[str, Any]:
    """The cases and alerts above; returns the ids the tests need."""
    deploy_referrals(ctx)
    deploy(ctx, "script_error.bpmn")
    make_people(ctx)
    ids = {
        "A": start_referral(ctx, "A801200026001", "Amy Able", when=at("2026-02-23T09:00:00Z")),
        "B": start_referral(ctx, "B801200026002", "Ben Bold", when=at("2026-03-02T09:00:00Z")),
        "C": start_referral(ctx, "C801200026003", "Cat Cole", when=at("2026-03-04T09:00:00Z")),
        "D": start_referral(ctx, "D801200026004", "Dan Dale", when=at("2026-03-04T09:30:00Z")),
        "E": start_referral(ctx, "E801200026005", "Eve Eden", when=at("2026-03-02T09:30:00Z")),
    }
    with clock.frozen_at(NOW):
        tasks.claim_task(ctx, open_task(ctx, ids["A"]), user="ewo")
        tasks.claim_task(ctx, open_task(ctx, ids["B"]), user="ewo2")
        tasks.complete_task(ctx, open_task(ctx, ids["D"]), {**TRIAGE, "allocated_officer": "E. Welfare"}, actor="ewo")
        tasks.claim_task(ctx, open_task(ctx, ids["D"], "casework_plan"), user="ewo")
        tasks.complete_task(ctx, open_task(ctx, ids["E"]), NOT_ATTENDANCE, actor="ewo")
        ids["ERR"] = instances.start_instance(
            ctx, "share_of_sessions", data={"missed": 3, "sessions_possible": 0}, business_key="ERR-1", actor="boss"
        ).id
    ids["alerts"] = add_alerts(ctx)
    return ids


def add_alerts(ctx: Context) -> dict[str, int]:
    with clock.frozen_at(NOW):
        school(ctx, CASTLE_PARK, name="Castle Park School")
        school(ctx, RIVERSIDE, name="Riverside Academy")
        with ctx.db.transaction() as session:
            ensure_default_rules(session)
        rule = alert_rules.get_rule(ctx, "cme-consecutive-unauthorised")
        alert_rules.save_rule(ctx, {**rule, "scope": {**rule["scope"], "flags": ["CLA"]}}, actor="admin")
        people = {
            "p1": pupil(ctx, "P801200026101"),
            "p2": pupil(ctx, "P801200026102"),
            "p3": pupil(ctx, "P801200026103"),
            "p4": pupil(ctx, "P801200026104", RIVERSIDE),
            "p5": pupil(ctx, "P801200026105", RIVERSIDE, flags=[("CLA", ["cme"])]),
            "p6": pupil(ctx, "P801200026106"),
        }
    cla = [{"flag": "CLA", "visible_to": ["cme"]}]
    rows = [
        alert_row("p1", people["p1"], "penalty-threshold", "attendance", "open", "2026-03-03T07:00:00Z"),
        alert_row("p2", people["p2"], "penalty-threshold", "attendance", "acknowledged", "2026-02-24T07:00:00Z"),
        alert_row("p3", people["p3"], "penalty-threshold", "attendance", "closed", "2026-02-16T07:00:00Z",
                  changed="2026-02-25T12:00:00Z"),
        alert_row("p4", people["p4"], "persistent-absence", "attendance", "open", "2026-03-02T07:00:00Z"),
        alert_row("p6", people["p6"], "persistent-absence", "attendance", "open", "2026-03-02T07:00:00Z",
                  establishment=False),
        alert_row("p5", people["p5"], "cme-consecutive-unauthorised", "cme", "open", "2026-03-03T07:00:00Z",
                  scope=cla),
    ]  # fmt: skip
    with ctx.db.transaction() as session:
        session.execute(insert(Alert), rows)
    return {name: i for i, name in enumerate(["p1", "p2", "p3", "p4", "p6", "p5"], start=1)}


def alert_row(
    name: str, who: Any, rule: str, team: str, state: str, raised: str, *, changed: str | None = None,
    establishment: bool = True, scope: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """An alert row as the rules' ledger writes it (only what the dashboard reads matters here)."""
    created = at(raised)
    day = created.date()
    return {
        "dedup_key": f"{rule}|{who.enrolment_id}|{name}", "rule_id": rule, "rule_version": 1, "episode": name,
        "enrolment_id": who.enrolment_id, "pupil_id": who.pupil_id,
        "establishment_id": who.establishment_id if establishment else None, "team": team, "state": state,
        "summary": f"{rule} for {who.upn}", "facts": {}, "scope_flags": scope or [],
        "condition_start": day, "condition_met": day, "condition_last": day, "ongoing": True,
        "first_seen": day, "last_seen": day, "created_at": created, "updated_at": created,
        "state_changed_at": at(changed) if changed else None,
    }  # fmt: skip

