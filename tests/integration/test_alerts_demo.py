"""The demo LA's planted cases each raise their rule, and every default rule fires on demo data."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.models.alerts import Alert
from engine.models.people import Pupil
from engine.services.alerts import evaluate
from engine.services.demo import generate_demo_data

AS_OF = date(2026, 7, 22)
CASE_RULES = {
    "10_consecutive_O_N": {"cme-consecutive-unauthorised"},
    "10_GNOU_in_10_school_weeks": {"penalty-threshold"},
    "20_school_days_G_N_O": {
        "deletion-ground-20-days",
        "continuous-unauthorised-10-days",
        "cme-consecutive-unauthorised",
    },
    "N_unresolved_over_5_school_days": {"unresolved-n-code"},
    "illness_15_days_consecutive": {"sickness-15-days"},
    "illness_15_days_cumulative": {"sickness-15-days"},
    "part_time_timetable_12.5h_review_overdue": {"part-time-under-25-hours"},
    "part_time_timetable_20h": {"part-time-under-25-hours"},
    "ap_placement_not_started": {"ap-no-attendance"},
    "suspension_day_6": {"exclusion-day-6"},
    "back_to_back_suspensions_day_6": {"exclusion-day-6"},
    "permanent_exclusion_day_6": {"exclusion-day-6"},
}
NOT_RAISED = {"ap_placement_started": "ap-no-attendance", "lunchtime_suspensions": "exclusion-day-6"}


def test_planted_cases_raise_their_rules_and_every_default_rule_fires(ctx):
    demo = generate_demo_data(ctx, 1000, 5, AS_OF)
    result = evaluate(ctx, AS_OF)
    assert all(counts["raised"] >= 1 for counts in result["rules"].values()), result["rules"]
    assert len(result["rules"]) == 11
    with ctx.db.transaction() as session:
        raised = {(upn, rule) for upn, rule in session.execute(
            select(Pupil.upn, Alert.rule_id).join(Pupil, Pupil.id == Alert.pupil_id))}  # fmt: skip
    for case in demo["cases"]:
        rules = {rule for upn, rule in raised if upn == case["upn"]}
        assert CASE_RULES.get(case["case"], set()) <= rules, case
        if case["case"] in NOT_RAISED:
            assert NOT_RAISED[case["case"]] not in rules, case
