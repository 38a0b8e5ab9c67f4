"""Every default alert rule on hand-made mark sequences, with the edges: exactly 10 %, a run over a
closure day (not broken) and over a present mark (broken), half term inside a 10-school-week window,
the window reaching into the previous school year, dual registration counted per enrolment.

Calendar: the example LA terms for 2025/26 (half term 16-20 Feb 2026; INSET 3 Nov 2025, 5 Jan 2026).
"""

from __future__ import annotations

from datetime import date

import pytest

from engine.alerts.kinds.records import (
    EnrolmentInfo,
    ExclusionRecord,
    PlacementRecord,
    Records,
    TimetableRecord,
)
from engine.alerts.rules import RuleError, parse_rule
from engine.calendar import SchoolCalendar
from tests.unit.alert_support import (
    CALENDAR,
    DEFAULTS,
    PRIMARY,
    PRU,
    SECONDARY,
    Register,
    rule,
    run,
    school_days,
)

AS_OF = date(2026, 3, 20)  # a Friday
DAYS = school_days(AS_OF)  # DAYS[-1] is AS_OF


def test_eleven_default_rules_with_stable_ids():
    assert list(DEFAULTS) == [
        "cme-consecutive-unauthorised", "penalty-threshold", "continuous-unauthorised-10-days",
        "deletion-ground-20-days", "unresolved-n-code", "persistent-absence", "severe-absence",
        "sickness-15-days", "part-time-under-25-hours", "ap-no-attendance", "exclusion-day-6",
    ]  # fmt: skip
    assert all(r.start_process is None or not r.start_process.enabled for r in DEFAULTS.values())


# --- consecutive runs (CME, attendance return, deletion ground) ----------------------------------------


def test_cme_ten_consecutive_o_or_n_sessions_fires_nine_does_not():
    ten = Register(AS_OF).days(DAYS[-5:-1], "O").set(DAYS[-1], "N")  # 8 O then 2 N
    nine = Register(AS_OF).days(DAYS[-5:-1], "O").set(DAYS[-1], "/", "N")  # AM present: 1 N only
    found = run("cme-consecutive-unauthorised", {1: ten, 2: nine}, AS_OF)
    assert [e.enrolment_id for e in found] == [1]
    episode = found[0]
    assert (episode.facts["run_length"], episode.ongoing, episode.key) == (10, True, "run:2026-03-16:AM")
    assert episode.facts["marks"][0] == ("2026-03-16", "AM", "O")  # stored as JSON: ["2026-03-16", "AM", "O"]
    assert episode.facts["marks"][-1] == ("2026-03-20", "PM", "N")
    assert episode.reached == AS_OF


def test_a_run_over_a_closure_day_is_not_broken():
    # Mon 9 - Tue 10 and Thu 12 - Mon 16 March: 10 sessions of O around Wednesday 11 March.
    run_days = [date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 12), date(2026, 3, 13), date(2026, 3, 16)]
    as_of = date(2026, 3, 16)
    closed = date(2026, 3, 11)
    la_closure = CALENDAR.with_closures([closed])  # an LA closure: not a school day at all
    marks = Register(as_of, la_closure).days(run_days, "O")
    assert len(run("cme-consecutive-unauthorised", {1: marks}, as_of, calendar=la_closure)) == 1
    # The school's own closure, marked # (planned closure), or not marked at all:
    for code in ("#", None):
        marks = Register(as_of).days(run_days, "O").set(closed, code)
        own = lambda _e: la_closure  # noqa: E731
        assert len(run("cme-consecutive-unauthorised", {1: marks}, as_of, calendar_of=own)) == 1, code


def test_a_present_mark_breaks_a_run_and_so_does_any_other_code():
    run_days = DAYS[-6:-1]  # Mon 13 - Fri 19... five days before AS_OF
    for breaker in ("/", "I", "L", "D", "Y1"):
        marks = Register(AS_OF).days(run_days, "O").set(DAYS[-1], "O").set(DAYS[-3], breaker, "O")
        assert run("cme-consecutive-unauthorised", {1: marks}, AS_OF) == [], breaker


def test_a_run_that_ended_is_raised_for_the_catch_up_days_only():
    marks = Register(AS_OF).days(DAYS[-12:-7], "O")  # 10 sessions, then present from DAYS[-7]
    (episode,) = run("cme-consecutive-unauthorised", {1: marks}, DAYS[-4])  # ended 4 school days before
    assert (episode.ongoing, episode.last) == (False, DAYS[-8])
    assert run("cme-consecutive-unauthorised", {1: marks}, DAYS[-2]) == []  # 6 school days later


def test_continuous_unauthorised_counts_school_days_with_both_sessions_coded():
    marks = Register(AS_OF).days(DAYS[-10:], "G").set(DAYS[-10], "N", "O").set(DAYS[-4], "U")
    (episode,) = run("continuous-unauthorised-10-days", {1: marks}, AS_OF)
    assert (episode.facts["run_length"], episode.facts["unit"], len(episode.facts["marks"])) == (
        10,
        "school_days",
        20,
    )
    half_day = Register(AS_OF).days(DAYS[-10:], "O").set(DAYS[-5], "O", "/")  # PM present breaks it
    assert run("continuous-unauthorised-10-days", {1: half_day}, AS_OF) == []


def test_deletion_ground_twenty_school_days_of_g_n_o_over_half_term():
    as_of = date(2026, 3, 13)
    twenty = school_days(as_of)[-20:]  # Mon 9 Feb to Fri 13 March: the half term is not school days
    assert twenty[0] == date(2026, 2, 9) and date(2026, 2, 16) not in twenty
    marks = Register(as_of).days(twenty, "O").days(twenty[:3], "G").days(twenty[-2:], "N")
    (episode,) = run("deletion-ground-20-days", {1: marks}, as_of)
    assert (episode.start, episode.facts["run_length"], episode.ongoing) == (date(2026, 2, 9), 20, True)
    assert run("deletion-ground-20-days", {1: marks}, twenty[-2]) == []  # 19 days the day before
    with_u = Register(as_of).days(twenty, "O").set(twenty[5], "U")  # U is not a deletion-ground code
    assert run("deletion-ground-20-days", {1: with_u}, as_of) == []


# --- penalty threshold: 10 sessions in 10 school weeks ---------------------------------------------------


def test_penalty_threshold_ten_sessions_of_g_n_o_u_in_ten_school_weeks():
    nine = Register(AS_OF).days(DAYS[-4:], "G").set(DAYS[-5], "U", "/")
    ten = Register(AS_OF).days(DAYS[-4:], "G").set(DAYS[-5], "U", "N")
    authorised = Register(AS_OF).days(DAYS[-4:], "G").set(DAYS[-5], "U", "I")
    found = run("penalty-threshold", {1: nine, 2: ten, 3: authorised}, AS_OF)
    assert [(e.enrolment_id, e.facts["count"]) for e in found] == [(2, 10)]


def test_half_term_inside_the_window_is_not_a_school_week():
    # The 10 school weeks to Fri 20 March start in the week of Mon 5 January (an INSET day, so the
    # first school day is Tue 6): the half-term week of 16 February is not a school week. Counted as
    # one, the window would start on 12 January and see 2 sessions.
    first_week = [date(2026, 1, 6), date(2026, 1, 7), date(2026, 1, 8), date(2026, 1, 9)]
    inside = Register(AS_OF).days(first_week, "O").set(AS_OF, "G")  # 8 + 2 sessions
    (episode,) = run("penalty-threshold", {1: inside}, AS_OF)
    assert episode.facts["window"] == ["2026-01-06", "2026-03-20"] and episode.facts["count"] == 10
    outside = Register(AS_OF).days([date(2025, 12, 19), *first_week[1:]], "O").set(AS_OF, "G")
    assert run("penalty-threshold", {1: outside}, AS_OF) == []  # 19 December is outside: 8 sessions


def test_the_penalty_window_reaches_into_the_previous_school_year():
    calendar = SchoolCalendar.from_dict({"terms": [
        {"start": "2025-06-02", "end": "2025-07-22"}, {"start": "2025-09-03", "end": "2025-10-24"}]})  # fmt: skip
    as_of = date(2025, 9, 12)
    july = Register(date(2025, 7, 22), calendar).days([date(2025, 7, 21), date(2025, 7, 22)], "O")
    september = Register(as_of, calendar).days([date(2025, 9, 11), date(2025, 9, 12)], "O", "G")
    found = run("penalty-threshold", {1: september}, as_of, calendar=calendar, previous={1: july})
    assert found == []  # 8 sessions
    september.set(date(2025, 9, 10), "N")
    (episode,) = run("penalty-threshold", {1: september}, as_of, calendar=calendar, previous={1: july})
    assert episode.facts["count"] == 10 and episode.facts["marks"][0] == ("2025-07-21", "AM", "O")


def test_a_window_that_shares_a_day_with_the_previous_one_is_the_same_episode():
    # Two O sessions on each of five Tuesdays: 10 by Tue 3 February. Tue 6 January leaves the window
    # on Mon 23 March (8 left); two more on Tue 24 March make 10 again, in a window that shares days
    # with the stretch that held until Fri 20 March: the same episode, one alert.
    as_of = date(2026, 3, 27)
    tuesdays = [date(2026, 1, 6), date(2026, 1, 13), date(2026, 1, 20), date(2026, 1, 27), date(2026, 2, 3)]
    marks = Register(as_of).days(tuesdays, "O")
    holding = run("penalty-threshold", {1: marks}, date(2026, 3, 23), first=date(2026, 3, 23))
    assert holding and not holding[0].ongoing  # still raised on the 23rd (catch-up) but no longer holding
    marks.set(date(2026, 3, 24), "O")
    (episode,) = run("penalty-threshold", {1: marks}, as_of, first=date(2026, 2, 2))
    assert (episode.key, episode.ongoing, episode.facts["count"]) == ("window:2026-02-03", True, 10)


# --- unresolved N ---------------------------------------------------------------------------------------


def test_n_unresolved_more_than_five_school_days():
    six = Register(AS_OF).set(DAYS[-7], "N")  # 6 school days before AS_OF
    five = Register(AS_OF).set(DAYS[-6], "N", "/")
    corrected = Register(AS_OF).set(DAYS[-9], "I")  # was N, now resolved
    found = run("unresolved-n-code", {1: six, 2: five, 3: corrected}, AS_OF)
    assert [(e.enrolment_id, e.facts["school_days_unresolved"], len(e.facts["marks"])) for e in found] == [
        (1, 6, 2)
    ]


def test_unresolved_n_counts_the_establishments_own_school_days():
    marks = Register(AS_OF).set(DAYS[-7], "N").set(DAYS[-3], None, None)  # the school was closed that day
    own = CALENDAR.with_closures([DAYS[-3]])
    assert len(run("unresolved-n-code", {1: marks}, AS_OF)) == 1
    assert run("unresolved-n-code", {1: marks}, AS_OF, calendar_of=lambda _e: own) == []  # only 5 there


# --- persistent and severe absence ----------------------------------------------------------------------

OCTOBER = date(2025, 10, 3)  # 23 school days: 46 sessions from 3 September
OCT_DAYS = school_days(OCTOBER)


def _rate_register(absent: int, codes: tuple[str, ...] = ("I", "O")) -> Register:
    """40 possible sessions (the first 3 days are coded X, not possible), the last ``absent`` absent."""
    register = Register(OCTOBER).days(OCT_DAYS[:3], "X")
    sessions = [(day, session) for day in OCT_DAYS[3:] for session in (0, 1)]
    # The last sessions: the rate only reaches its final value on the evaluation date.
    for i, (day, session) in enumerate(sessions[len(sessions) - absent :]):
        register.session(day, session, codes[i % len(codes)])
    return register


def test_persistent_absence_exactly_ten_percent_fires_and_just_under_does_not():
    found = run("persistent-absence", {1: _rate_register(4), 2: _rate_register(3)}, OCTOBER)
    assert [(e.enrolment_id, e.facts["absent"], e.facts["possible"], e.facts["rate"]) for e in found] == [
        (1, 4, 40, 10.0)
    ]


def test_approved_activity_counts_as_attendance_and_d_is_not_possible():
    register = _rate_register(4).set(OCT_DAYS[3], "K").set(OCT_DAYS[4], "D")  # both were present
    (episode,) = run("persistent-absence", {1: register}, OCTOBER)
    assert (episode.facts["absent"], episode.facts["possible"]) == (4, 38)  # 10.5 %


def test_severe_absence_exactly_fifty_percent():
    found = run("severe-absence", {1: _rate_register(20), 2: _rate_register(19)}, OCTOBER)
    assert [(e.enrolment_id, e.facts["rate"]) for e in found] == [(1, 50.0)]


def test_rates_wait_for_twenty_possible_sessions():
    early = date(2025, 9, 5)  # 3 school days, 6 possible sessions
    register = Register(early).set(date(2025, 9, 3), "I")
    assert run("persistent-absence", {1: register}, early) == []
    assert (
        len(run(rule("persistent-absence", params={"min_possible_sessions": 0}), {1: register}, early)) == 1
    )


# --- sickness ------------------------------------------------------------------------------------------


def test_sickness_fifteen_school_days_consecutive_or_cumulative_half_days_count_half():
    consecutive = Register(AS_OF).days(DAYS[-15:], "I")
    cumulative = (
        Register(AS_OF).days(DAYS[10:17] + DAYS[40:47], "I").set(DAYS[60], "I", "/").set(DAYS[61], "/", "I")
    )
    short = Register(AS_OF).days(DAYS[10:17] + DAYS[40:47], "I").set(DAYS[60], "I", "/")  # 14.5 days
    found = run("sickness-15-days", {1: consecutive, 2: cumulative, 3: short}, AS_OF)
    assert [(e.enrolment_id, e.facts["school_days"]) for e in found] == [(1, 15.0), (2, 15.0)]
    assert found[1].reached == DAYS[61]


# --- records: part-time timetables, AP placements, exclusions -----------------------------------------


def _records(**kinds: list) -> Records:
    enrolments = {1: EnrolmentInfo(1, 1, SECONDARY, date(2021, 9, 3), None),
                  2: EnrolmentInfo(2, 1, PRU, date(2026, 3, 2), None)}  # fmt: skip
    return Records(enrolments, establishments={2: ("8811100", "Riverside PRU")}, **kinds)


def test_part_time_timetables_and_ap_placements_under_25_hours():
    records = _records(
        timetables=[TimetableRecord(1, 1, 20.0, date(2026, 2, 2), date(2026, 3, 2)),
                    TimetableRecord(2, 1, 25.0, date(2026, 2, 2), date(2026, 4, 20)),
                    TimetableRecord(3, 1, 10.0, date(2025, 10, 1), date(2025, 11, 1), end=date(2025, 12, 1))],
        placements=[PlacementRecord(1, 1, PRU, 1, date(2026, 3, 2), date(2026, 3, 2), hours_per_week=15.0)],
    )  # fmt: skip
    found = run("part-time-under-25-hours", {}, AS_OF, records=records)
    assert [e.key for e in found] == ["timetable:1", "placement:1"]
    assert found[0].facts["review_overdue"] is True and found[0].enrolment_id == 1


def test_ap_placement_past_its_proposed_start_with_no_attendance():
    def placements(start: date) -> list[PlacementRecord]:
        return [PlacementRecord(1, 1, PRU, 1, start)]

    provider = Register(AS_OF, fill=False)
    (episode,) = run("ap-no-attendance", {}, AS_OF, records=_records(placements=placements(DAYS[-3])))
    assert episode.facts["school_days_since_proposed_start"] == 2 and episode.establishment_id == SECONDARY
    assert (
        run("ap-no-attendance", {}, AS_OF, records=_records(placements=placements(DAYS[-2]))) == []
    )  # grace
    attended = _records(placements=placements(DAYS[-3]), marks={2: bytes(provider.set(DAYS[-2], "/", "\\"))})
    assert run("ap-no-attendance", {}, AS_OF, records=attended) == []


def _suspension(id_: int, start: date, days: float, kind: str = "suspension") -> ExclusionRecord:
    return ExclusionRecord(id_, 1, kind, start, None if kind == "permanent" else days)


def test_exclusion_day_six_without_provision():
    cases = {
        "ten-day suspension, day 6 today": [_suspension(1, DAYS[-6], 10)],
        "back to back 3 + 3": [_suspension(1, DAYS[-6], 3), _suspension(2, DAYS[-3], 3)],
        "permanent": [_suspension(1, DAYS[-6], 0, "permanent")],
    }
    for name, exclusions in cases.items():
        (episode,) = run("exclusion-day-6", {}, AS_OF, records=_records(exclusions=exclusions))
        assert episode.facts["day_reached_on"] == AS_OF.isoformat(), name
    assert (
        run("exclusion-day-6", {}, DAYS[-2], records=_records(exclusions=cases["permanent"]))[0:] == []
    )  # day 5
    gap = [_suspension(1, DAYS[-7], 3), _suspension(2, DAYS[-3], 3)]  # a school day between them
    assert run("exclusion-day-6", {}, AS_OF, records=_records(exclusions=gap)) == []


def test_exclusion_with_provision_by_day_six_does_not_fire():
    exclusions = [_suspension(1, DAYS[-6], 10)]
    placed = _records(exclusions=exclusions, placements=[PlacementRecord(1, 1, PRU, 1, DAYS[-2])])
    assert run("exclusion-day-6", {}, AS_OF, records=placed) == []
    at_school = _records(
        exclusions=exclusions, marks={1: bytes(Register(AS_OF).days(DAYS[-6:], "E").set(AS_OF, "K"))}
    )
    assert run("exclusion-day-6", {}, AS_OF, records=at_school) == []
    permanent = run(
        "exclusion-day-6", {}, AS_OF, records=_records(exclusions=[_suspension(1, DAYS[-6], 0, "permanent")])
    )
    assert permanent[0].facts["duty_to_provide"] == "local authority"


# --- dual registration and scope ---------------------------------------------------------------------


def test_dual_registration_is_counted_per_enrolment():
    """Pupil 7 is at the secondary Mon-Wed and the PRU Thu-Fri; absent (O) everywhere for two weeks.
    Each enrolment has D where the other school has the pupil, which breaks its runs."""
    main, subsidiary = Register(AS_OF), Register(AS_OF)
    for day in DAYS[-10:]:
        here, there = (main, subsidiary) if day.weekday() < 3 else (subsidiary, main)
        here.set(day, "O")
        there.set(day, "D")
    enrolments = [(1, 7, SECONDARY, None), (2, 7, PRU, None)]
    registers = {1: main, 2: subsidiary}
    assert run("cme-consecutive-unauthorised", registers, AS_OF, enrolments=enrolments) == []
    found = run("penalty-threshold", registers, AS_OF, enrolments=enrolments)
    assert [(e.enrolment_id, e.pupil_id, e.facts["count"]) for e in found] == [(1, 7, 12)]  # the PRU has 8


def test_scope_by_phase_and_by_flag():
    marks = {1: Register(AS_OF).days(DAYS[-5:], "O"), 2: Register(AS_OF).days(DAYS[-5:], "O")}
    enrolments = [(1, 1, SECONDARY, None), (2, 2, PRIMARY, None)]
    primary_only = rule("cme-consecutive-unauthorised", scope={"phases": ["primary"]})
    assert [e.enrolment_id for e in run(primary_only, marks, AS_OF, enrolments=enrolments)] == [2]
    flags = {1: [{"flag": "CLA", "visible_to": ["virtual_school"]}]}
    cla_only = rule("cme-consecutive-unauthorised", scope={"flags": ["CLA"]})
    (episode,) = run(cla_only, marks, AS_OF, enrolments=enrolments, flags=flags)
    assert episode.enrolment_id == 1 and episode.scope_flags == flags[1]


def test_a_pupil_who_left_is_no_longer_ongoing():
    marks = Register(DAYS[-4]).days(DAYS[-9:-3], "O")  # left after DAYS[-4]: no marks since
    (episode,) = run(
        "cme-consecutive-unauthorised", {1: marks}, AS_OF, enrolments=[(1, 1, SECONDARY, DAYS[-4])]
    )
    assert (episode.ongoing, episode.last) == (False, DAYS[-4])


# --- the rule format ------------------------------------------------------------------------------------


def test_rule_errors_name_each_field():
    data = DEFAULTS["penalty-threshold"].as_dict()
    data["params"] = {"codes": ["G", "H"], "count": 0, "weekz": 10}
    data["scope"] = {"phases": ["college"]}
    data["action"] = {"team": "Attendance Team"}
    with pytest.raises(RuleError) as raised:
        parse_rule(data)
    problems = raised.value.problems
    assert any(p.startswith("params.codes: code 'H' was withdrawn in 2024") for p in problems)
    assert "params.count: must be a whole number from 1 to 800, not 0" in problems
    assert any(p.startswith("params.weekz: not a parameter") for p in problems)
    assert any(p.startswith("params.weeks: required") for p in problems)
    assert any(p.startswith("scope.phases:") for p in problems)
    assert any(p.startswith("action.team:") for p in problems)
    with pytest.raises(RuleError, match="kind: 'magic' is not a kind"):
        parse_rule({**DEFAULTS["penalty-threshold"].as_dict(), "kind": "magic"})


def test_rule_round_trips_through_its_json_format():
    for original in DEFAULTS.values():
        assert parse_rule(original.as_dict(), version=1).as_dict() == {**original.as_dict(), "version": 1}
