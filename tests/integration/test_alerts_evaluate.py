"""Evaluating the rules on a real database: alerts carry their facts, a continuing run is one alert
across nights, a closed alert is not raised again for the same run, a new run is a new alert, and the
lifecycle refuses what it does not allow."""

from __future__ import annotations

from datetime import date

import pytest

from engine import clock
from engine.access import Principal
from engine.attendance.store import YearRow, save_years
from engine.calendar import SchoolCalendar
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models.access import Role
from engine.services import alert_inbox, alert_rules
from engine.services.alerts import evaluate
from tests.integration.alerts_support import (
    FRI,
    MON,
    THU,
    TUE,
    WED,
    alerts,
    count_alerts,
    days_to,
    pupil,
    write_marks,
)
from tests.unit.alert_support import Register

UPN = "A881400112001"


def _truant(ctx, upn: str = UPN, **kwargs):
    """A pupil absent (O) every session of the week of 9 March and from Mon 16 March on."""
    who = pupil(ctx, upn, **kwargs)
    register = Register(FRI).days(days_to(FRI)[-10:-5], "O").days([MON, TUE, WED, THU, FRI], None)
    write_marks(ctx, who, register.set(MON, "O"))
    return who, register


def test_an_alert_carries_the_rule_version_and_the_exact_marks(calendar_ctx):
    ctx = calendar_ctx
    who, _ = _truant(ctx)
    result = evaluate(ctx, MON)
    assert result["rules"]["cme-consecutive-unauthorised"]["raised"] == 1
    (alert,) = alerts(ctx, "cme-consecutive-unauthorised")
    assert (alert.rule_version, alert.enrolment_id, alert.team, alert.state) == (
        1,
        who.enrolment_id,
        "cme",
        "open",
    )
    assert alert.dedup_key == f"cme-consecutive-unauthorised|{who.enrolment_id}|run:2026-03-09:AM"
    assert alert.facts["run_length"] == 12 and alert.facts["marks"][0] == ["2026-03-09", "AM", "O"]
    assert (alert.first_seen, alert.last_seen, alert.ongoing) == (MON, MON, True)
    shown = alert_inbox.show_alert(ctx, alert.id)
    assert shown["upn"] == UPN and shown["history"][0]["action"] == "raised"


def test_a_continuing_run_is_one_alert_updated_each_night(calendar_ctx):
    ctx = calendar_ctx
    who, register = _truant(ctx)
    evaluate(ctx, MON)
    for night in (TUE, WED):
        write_marks(ctx, who, register.set(night, "N"))
        result = evaluate(ctx, night)
        assert result["rules"]["cme-consecutive-unauthorised"] == {
            "found": 1, "raised": 0, "updated": 1, "closed_not_reraised": 0, "ended": 0}  # fmt: skip
    (alert,) = alerts(ctx, "cme-consecutive-unauthorised")
    assert (alert.first_seen, alert.last_seen, alert.facts["run_length"]) == (MON, WED, 16)
    assert evaluate(ctx, WED)["raised"] == 0  # the same night again changes nothing


def test_a_closed_alert_is_not_raised_again_for_the_same_run_but_a_new_run_is_new(calendar_ctx):
    ctx = calendar_ctx
    who, register = _truant(ctx)
    evaluate(ctx, MON)
    (alert,) = alerts(ctx, "cme-consecutive-unauthorised")
    alert_inbox.change_state(ctx, alert.id, "closed", actor="cme.officer", reason="Family on extended visit")
    write_marks(ctx, who, register.set(TUE, "O"))
    result = evaluate(ctx, TUE)
    assert result["rules"]["cme-consecutive-unauthorised"]["closed_not_reraised"] == 1
    assert len(alerts(ctx, "cme-consecutive-unauthorised")) == 1
    # Back on Wednesday (present breaks the run), then away from Thursday to Wednesday 25 March.
    week_after = [date(2026, 3, d) for d in (23, 24, 25)]
    write_marks(ctx, who, register.set(WED, "/", "\\").days([THU, FRI, *week_after], "O"))
    result = evaluate(ctx, week_after[-1])
    assert result["rules"]["cme-consecutive-unauthorised"]["raised"] == 1
    closed, new = alerts(ctx, "cme-consecutive-unauthorised")
    assert (closed.state, new.state, new.episode) == ("closed", "open", "run:2026-03-19:AM")


def test_a_run_that_ended_then_restarted_raises_a_new_alert(calendar_ctx):
    ctx = calendar_ctx
    who = pupil(ctx, UPN)
    days = days_to(FRI)
    register = Register(FRI).days(days[-15:-10], "O")  # 10 sessions: 2-6 March
    write_marks(ctx, who, register)
    evaluate(ctx, days[-10])
    register.days(days[-5:], "O")  # present 9-13 March, then 10 sessions: 16-20 March
    write_marks(ctx, who, register)
    evaluate(ctx, FRI)
    first, second = alerts(ctx, "cme-consecutive-unauthorised")
    assert (first.episode, first.ongoing) == ("run:2026-03-02:AM", False)
    assert (second.episode, second.ongoing) == ("run:2026-03-16:AM", True)


def test_a_corrected_n_ends_the_unresolved_alert(calendar_ctx):
    ctx = calendar_ctx
    who = pupil(ctx, UPN)
    days = days_to(FRI)
    register = Register(FRI).set(days[-8], "N")
    write_marks(ctx, who, register)
    evaluate(ctx, FRI)
    (alert,) = alerts(ctx, "unresolved-n-code")
    assert alert.ongoing
    write_marks(ctx, who, register.set(days[-8], "I"))  # the reason arrived: illness
    assert evaluate(ctx, FRI)["rules"]["unresolved-n-code"]["ended"] == 1
    (alert,) = alerts(ctx, "unresolved-n-code")
    assert not alert.ongoing and alert.state == "open"


def test_lifecycle_open_acknowledged_actioned_closed_with_reasons(calendar_ctx):
    ctx = calendar_ctx
    _truant(ctx)
    evaluate(ctx, MON)
    (alert,) = alerts(ctx, "cme-consecutive-unauthorised")
    with pytest.raises(InvalidInput, match="with a reason"):
        alert_inbox.change_state(ctx, alert.id, "closed", actor="ann")
    with pytest.raises(Conflict, match="open: it can move to acknowledged, closed, not actioned"):
        alert_inbox.change_state(ctx, alert.id, "actioned", actor="ann", reason="home visit")
    alert_inbox.change_state(ctx, alert.id, "acknowledged", actor="ann")
    alert_inbox.change_state(ctx, alert.id, "actioned", actor="ann", reason="Home visit made on 17 March")
    shown = alert_inbox.change_state(
        ctx, alert.id, "closed", actor="bob", reason="Child found on roll elsewhere"
    )
    assert (shown["state"], shown["state_changed_by"]) == ("closed", "bob")
    assert [(h["action"], h["from"], h["to"], h["actor"]) for h in shown["history"]] == [
        ("raised", None, "open", None), ("acknowledged", "open", "acknowledged", "ann"),
        ("actioned", "acknowledged", "actioned", "ann"), ("closed", "actioned", "closed", "bob")]  # fmt: skip
    with pytest.raises(Conflict, match="it can move to nothing"):
        alert_inbox.change_state(ctx, alert.id, "acknowledged", actor="ann")


def test_teams_see_their_alerts_and_flag_scoped_alerts_respect_the_flags_visibility(calendar_ctx):
    ctx = calendar_ctx
    _truant(ctx, flags=[("CLA", ["virtual_school"])])
    rule = alert_rules.get_rule(ctx, "cme-consecutive-unauthorised")
    alert_rules.save_rule(
        ctx, {**rule, "id": "cla-absence", "name": "CLA pupils absent", "scope": {"flags": ["CLA"]}}
    )
    evaluate(ctx, MON)
    cme_officer = Principal("cara", Role.CASEWORKER, frozenset({"cme"}))
    virtual_school = Principal("vic", Role.CASEWORKER, frozenset({"cme", "virtual_school"}))
    attendance = Principal("ewo", Role.CASEWORKER, frozenset({"attendance"}))
    assert [a["rule_id"] for a in alert_inbox.list_alerts(ctx, principal=cme_officer)["alerts"]] == [
        "cme-consecutive-unauthorised"]  # fmt: skip
    seen = alert_inbox.list_alerts(ctx, principal=virtual_school)["alerts"]
    assert {a["rule_id"] for a in seen} == {"cla-absence", "cme-consecutive-unauthorised"}
    assert all(a["flags"] == ["CLA"] for a in seen)
    assert [a["rule_id"] for a in alert_inbox.list_alerts(ctx, principal=attendance)["alerts"]] == [
        "penalty-threshold"]  # fmt: skip
    cla = next(a for a in alerts(ctx) if a.rule_id == "cla-absence")
    with pytest.raises(NotFound):
        alert_inbox.show_alert(ctx, cla.id, cme_officer)
    assert (
        alert_inbox.team_inbox(ctx, "cme", principal=cme_officer)[0]["rule_id"]
        == "cme-consecutive-unauthorised"
    )


def test_rules_are_versioned_and_can_be_disabled(calendar_ctx):
    ctx = calendar_ctx
    _truant(ctx)
    rule = alert_rules.get_rule(ctx, "cme-consecutive-unauthorised")
    changed = alert_rules.save_rule(ctx, {**rule, "params": {**rule["params"], "length": 20}}, actor="admin")
    assert (changed["result"], changed["rule"]["version"]) == ("updated", 2)
    assert alert_rules.get_rule(ctx, "cme-consecutive-unauthorised", version=1)["params"]["length"] == 10
    alert_rules.set_enabled(ctx, "penalty-threshold", False)
    result = evaluate(ctx, MON)
    assert result["rules"]["cme-consecutive-unauthorised"]["found"] == 0  # 12 < 20
    assert "penalty-threshold" not in result["rules"] and count_alerts(ctx) == 0


def test_in_september_the_penalty_window_reaches_into_july(ctx, tmp_path):
    """Early in a school year the previous year's marks are read too (the store's other row)."""
    import json

    from engine.services.calendars import load_calendar

    terms = {
        "terms": [{"start": "2025-06-02", "end": "2025-07-22"}, {"start": "2025-09-03", "end": "2025-10-24"}]
    }
    path = tmp_path / "terms.json"
    path.write_text(json.dumps(terms))
    with ctx.db.transaction() as session:
        load_calendar(session, path)
    calendar = SchoolCalendar.from_dict(terms)
    who = pupil(ctx, UPN)
    july = Register(date(2025, 7, 22), calendar).days(
        [date(2025, 7, 18), date(2025, 7, 21), date(2025, 7, 22)], "O"
    )
    with ctx.db.transaction() as session:
        save_years(session, 2024, [YearRow(who.enrolment_id, who.establishment_id, bytes(july))], clock.now())
    september = Register(date(2025, 9, 10), calendar).days([date(2025, 9, 9), date(2025, 9, 10)], "G")
    write_marks(ctx, who, september)
    evaluate(ctx, date(2025, 9, 10))
    (alert,) = alerts(ctx, "penalty-threshold")
    assert alert.facts["count"] == 10 and alert.facts["marks"][0] == ["2025-07-18", "AM", "O"]


def test_an_evaluation_on_a_day_without_school_leaves_every_alert_as_it_was(calendar_ctx):
    """The nightly job runs at weekends too: a Saturday has no marks, and must end no alert."""
    ctx = calendar_ctx
    _truant(ctx)
    assert evaluate(ctx, MON)["rules"]["cme-consecutive-unauthorised"]["raised"] == 1
    saturday = date(2026, 3, 21)
    result = evaluate(ctx, saturday)
    assert result["raised"] == 0 and result["rules"] == {}
    assert result["skipped"] == (
        "Saturday 21 March 2026 is not a school day in the LA calendar: nothing was evaluated and every "
        "alert was left as it was."
    )
    (alert,) = alerts(ctx, "cme-consecutive-unauthorised")
    assert (alert.state, alert.ongoing, alert.last_seen) == ("open", True, MON)
