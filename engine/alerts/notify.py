"""E-mail for new alerts: one message per team per evaluation, to the team's recipients.

The message names the rules, establishments and alert numbers, never the pupil: e-mail leaves the
LA's systems, so the pupil's identity, marks and shared flags stay in EduCase, where access control
applies. No e-mail is sent when ``EDUCASE_SMTP_HOST`` is not set.
"""

from __future__ import annotations

import smtplib
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage

from ..config import Settings


@dataclass(frozen=True)
class NewAlert:
    """What an e-mail says about one new alert."""

    alert_id: int
    rule_name: str
    establishment: str


def configured(settings: Settings) -> bool:
    """Whether e-mail can be sent at all."""
    return bool(settings.smtp_host)


def message_for(settings: Settings, team: str, recipients: list[str], alerts: list[NewAlert]) -> EmailMessage:
    """The digest for one team."""
    message = EmailMessage()
    count = len(alerts)
    message["Subject"] = f"EduCase: {count} new alert{'s' if count != 1 else ''} for the {team} team"
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(recipients)
    by_rule = Counter(a.rule_name for a in alerts)
    lines = [f"{count} new alert{'s' if count != 1 else ''} for the {team} team:", ""]
    lines += [f"  {n} x {name}" for name, n in sorted(by_rule.items())]
    lines += ["", "Alerts:"]
    lines += [f"  #{a.alert_id} {a.rule_name} - {a.establishment}" for a in alerts[:200]]
    if count > 200:
        lines.append(f"  ... and {count - 200} more")
    lines += ["", "Open EduCase to see the pupils and the marks behind each alert.",
              "(Pupils are not named in e-mail.)"]  # fmt: skip
    message.set_content("\n".join(lines))
    return message


def send(settings: Settings, messages: list[EmailMessage], timeout_seconds: float = 30.0) -> None:
    """Send messages over one SMTP connection; raises ``OSError``/``smtplib.SMTPException`` on failure."""
    if not messages:
        return
    with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=timeout_seconds) as smtp:
        for message in messages:
            smtp.send_message(message)
