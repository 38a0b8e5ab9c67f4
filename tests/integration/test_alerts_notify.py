"""Notifications: every new alert reaches its team's inbox in the app, and the team's recipients get one
e-mail per evaluation through a real SMTP server (aiosmtpd on a free local port)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

from engine.services import alert_inbox
from engine.services.alerts import evaluate
from tests.integration.alerts_support import FRI, MON, days_to, pupil, write_marks
from tests.unit.alert_support import Register


class Mailbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox, port = Mailbox(), _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def _two_alerts(ctx) -> None:
    """A CME run (team cme) that is also over the penalty threshold (team attendance)."""
    who = pupil(ctx, "A881400112001")
    write_marks(ctx, who, Register(FRI).days(days_to(FRI)[-10:-4], "O"))


def test_new_alerts_reach_the_team_inbox(calendar_ctx):
    ctx = calendar_ctx
    _two_alerts(ctx)
    result = evaluate(ctx, MON)
    assert result["email"] == {"sent": 0, "configured": False}  # no SMTP: no e-mail, and no error
    (item,) = alert_inbox.team_inbox(ctx, "cme")
    assert (item["event"], item["rule_id"], item["state"]) == (
        "raised",
        "cme-consecutive-unauthorised",
        "open",
    )
    assert alert_inbox.mark_read(ctx, [item["id"]], "cme.officer") == 1
    assert (
        alert_inbox.team_inbox(ctx, "cme") == []
        and len(alert_inbox.team_inbox(ctx, "cme", unread_only=False)) == 1
    )
    evaluate(ctx, MON)  # the same alerts again: nothing new in any inbox
    assert alert_inbox.team_inbox(ctx, "cme") == []


def test_each_team_gets_one_email_through_a_real_smtp_server(calendar_ctx, smtp):
    mailbox, port = smtp
    ctx = calendar_ctx
    ctx.settings = replace(ctx.settings, smtp_host="127.0.0.1", smtp_port=port, smtp_from="alerts@la.example")
    alert_inbox.set_recipients(ctx, "cme", ["cme@la.example", "cme.lead@la.example"], [])
    alert_inbox.set_recipients(ctx, "attendance", ["ewo@la.example"], [])
    _two_alerts(ctx)
    result = evaluate(ctx, MON)
    assert result["email"] == {"sent": 2, "configured": True, "errors": {}}
    by_recipients = {tuple(sorted(to)): message for to, message in mailbox.messages}
    cme = by_recipients[("cme.lead@la.example", "cme@la.example")]
    assert cme["Subject"] == "EduCase: 1 new alert for the cme team" and cme["From"] == "alerts@la.example"
    body = cme.get_payload()
    assert "10 consecutive unauthorised sessions (O or N) - Castle Park School" in body
    assert "A881400112001" not in body and "Pupil 001" not in body  # pupils are not named in e-mail
    assert ("ewo@la.example",) in by_recipients
    shown = alert_inbox.show_alert(ctx, alert_inbox.team_inbox(ctx, "cme")[0]["alert_id"])
    assert shown["notifications"][0]["emailed_at"] is not None
    evaluate(ctx, MON)
    assert len(mailbox.messages) == 2  # nothing new, no new e-mail


def test_an_unreachable_smtp_server_is_recorded_not_fatal(calendar_ctx):
    ctx = calendar_ctx
    ctx.settings = replace(ctx.settings, smtp_host="127.0.0.1", smtp_port=_free_port())  # nobody listens
    alert_inbox.set_recipients(ctx, "cme", ["cme@la.example"], [])
    _two_alerts(ctx)
    result = evaluate(ctx, MON)
    assert result["raised"] == 2 and result["email"]["sent"] == 0
    assert "ConnectionRefusedError" in result["email"]["errors"]["cme"]
    shown = alert_inbox.show_alert(ctx, alert_inbox.team_inbox(ctx, "cme")[0]["alert_id"])
    assert shown["notifications"][0]["email_error"].startswith("ConnectionRefusedError")
