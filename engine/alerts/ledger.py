"""From episodes to alerts: de-duplication, updates, notifications, the state history.

An episode *is* an existing alert of the same rule and enrolment (or pupil) when it has the same
episode key or, for the kinds whose episodes are periods of marks, when its period continues that
alert's (overlaps it, or starts by the next school day after an alert still ongoing: a run seen
again after the previous year's tail was dropped). Then:

- the alert is open, acknowledged or actioned: it is updated (last seen, facts, whether the condition
  still holds), not raised again;
- the alert is closed: nothing happens; a closed alert is not re-raised for the same continuing episode;
- no alert: a new one is raised, with a notification for the rule's team.

An alert still marked ongoing whose condition is no longer found (the run was broken, an N was
corrected) is marked as no longer ongoing. Writes are bulk (``COPY`` on PostgreSQL).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..attendance.bulk import next_id
from ..calendar import CalendarError, SchoolCalendar
from ..models.alerts import Alert, AlertState
from . import bulk
from .bulk import Binder
from .kinds import Episode
from .rules import Rule

_A = Alert.__table__
ALERT_COLUMNS = (
    "id", "dedup_key", "rule_id", "rule_version", "episode", "enrolment_id", "pupil_id", "establishment_id",
    "team", "state", "summary", "facts", "scope_flags", "condition_start", "condition_met", "condition_last",
    "ongoing", "first_seen", "last_seen", "process_status", "created_at", "updated_at",
)  # fmt: skip


@dataclass
class Outcome:
    """What an evaluation did with one rule's episodes."""

    found: int = 0
    raised: int = 0
    updated: int = 0
    closed_not_reraised: int = 0
    ended: int = 0
    new_alert_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if k != "new_alert_ids"}


@dataclass
class _Known:
    id: int
    episode: str
    state: str
    start: date
    last: date
    ongoing: bool
    last_seen: date


def subject_of(episode: Episode) -> int:
    """The enrolment an episode concerns, or minus the pupil when there is no enrolment."""
    return episode.enrolment_id if episode.enrolment_id is not None else -episode.pupil_id


def dedup_key(rule_id: str, episode: Episode) -> str:
    """``rule id | enrolment (or p<pupil>) | episode key``: unique among alerts."""
    who = str(episode.enrolment_id) if episode.enrolment_id is not None else f"p{episode.pupil_id}"
    return f"{rule_id}|{who}|{episode.key}"


class Ledger:
    """Applies one evaluation's episodes, rule by rule, then writes everything in bulk."""

    def __init__(self, session: Session, as_of: date, now: datetime, calendar: SchoolCalendar,
                 year_first_day: date | None) -> None:  # fmt: skip
        self.session, self.as_of, self.now = session, as_of, now
        self.calendar, self.year_first_day = calendar, year_first_day
        self.bind = Binder(session)
        self._now, self._as_of = self.bind.stamp(now), self.bind.day(as_of)
        self.inserts: list[tuple[Any, ...]] = []
        self.updates: list[tuple[Any, ...]] = []
        self.history: list[tuple[Any, ...]] = []
        self.notifications: list[tuple[Any, ...]] = []
        self.ended: list[int] = []
        self.next_id = next_id(session, _A)

    def apply(self, rule: Rule, episodes: list[Episode]) -> Outcome:
        """Match ``rule``'s episodes to its alerts and queue the writes."""
        outcome = Outcome(found=len(episodes))
        known = self._known(rule, episodes)
        matched = self._match(rule, episodes, known)
        seen: set[int] = set()
        for episode in sorted(episodes, key=lambda e: (subject_of(e), e.start)):
            alert = matched.get(id(episode))
            if alert is None:
                self._raise(rule, episode, outcome)
            elif alert.state == AlertState.CLOSED:
                outcome.closed_not_reraised += 1
            elif self.as_of >= alert.last_seen:
                self._update(rule, alert, episode, outcome)
            if alert is not None:
                seen.add(alert.id)
        for alerts in known.values():
            for alert in alerts:
                current = alert.ongoing and alert.state != AlertState.CLOSED and self.as_of >= alert.last_seen
                if current and alert.id not in seen:
                    self._end(alert, outcome)
        return outcome

    def _known(self, rule: Rule, episodes: list[Episode]) -> dict[int, list[_Known]]:
        earliest = min((e.start for e in episodes), default=self.as_of)
        rows = self.session.execute(
            select(_A.c.id, _A.c.enrolment_id, _A.c.pupil_id, _A.c.episode, _A.c.state, _A.c.condition_start,
                   _A.c.condition_last, _A.c.ongoing, _A.c.last_seen)
            .where(_A.c.rule_id == rule.id, or_(_A.c.ongoing.is_(True), _A.c.condition_last >= earliest))
            .order_by(_A.c.id)
        )  # fmt: skip
        known: dict[int, list[_Known]] = defaultdict(list)
        for row in rows:
            subject = row.enrolment_id if row.enrolment_id is not None else -row.pupil_id
            known[subject].append(_Known(row.id, row.episode, row.state, row.condition_start,
                                         row.condition_last, row.ongoing, row.last_seen))  # fmt: skip
        return known

    def _match(
        self, rule: Rule, episodes: list[Episode], known: dict[int, list[_Known]]
    ) -> dict[int, _Known]:
        """Episode (by ``id()``) -> its alert: first by key, then (continuous kinds) by period."""
        matched: dict[int, _Known] = {}
        used: set[int] = set()
        for episode in episodes:
            for alert in known.get(subject_of(episode), ()):
                if alert.episode == episode.key and alert.id not in used:
                    matched[id(episode)] = alert
                    used.add(alert.id)
                    break
        if not rule.spec.continuous:
            return matched
        for episode in sorted(episodes, key=lambda e: e.start):
            if id(episode) in matched:
                continue
            for alert in reversed(known.get(subject_of(episode), [])):
                if alert.id not in used and self._continues(alert, episode):
                    matched[id(episode)] = alert
                    used.add(alert.id)
                    break
        return matched

    def _continues(self, alert: _Known, episode: Episode) -> bool:
        if alert.start > episode.last:
            return False
        if episode.start <= alert.last:
            return True
        if not alert.ongoing:
            return False
        try:
            return episode.start <= self.calendar.next_school_day(alert.last)
        except CalendarError:  # the alert's year is no longer in the loaded terms
            return episode.start == self.year_first_day

    def _raise(self, rule: Rule, episode: Episode, outcome: Outcome) -> None:
        alert_id, bind = self.next_id, self.bind
        self.next_id += 1
        start = rule.start_process
        pending = "pending" if start is not None and start.enabled else None
        self.inserts.append((
            alert_id, dedup_key(rule.id, episode), rule.id, rule.version, episode.key, episode.enrolment_id,
            episode.pupil_id, episode.establishment_id, rule.team, AlertState.OPEN, episode.summary,
            bind.json(episode.facts), bind.json(episode.scope_flags), bind.day(episode.start),
            bind.day(episode.reached), bind.day(episode.last), episode.ongoing, self._as_of, self._as_of, pending,
            self._now, self._now,
        ))  # fmt: skip
        self.notifications.append((alert_id, rule.team, "raised", self._now))
        outcome.raised += 1
        outcome.new_alert_ids.append(alert_id)

    def _update(self, rule: Rule, alert: _Known, episode: Episode, outcome: Outcome) -> None:
        bind = self.bind
        self.updates.append((
            alert.id, self._as_of, bind.day(episode.last), episode.ongoing, bind.json(episode.facts),
            episode.summary, rule.version, self._now,
        ))  # fmt: skip
        if alert.ongoing and not episode.ongoing:
            self._event(alert.id, "condition_ended", {"last_day": episode.last.isoformat()})
        outcome.updated += 1

    def _event(self, alert_id: int, action: str, details: dict[str, Any]) -> None:
        self.history.append((alert_id, self._now, None, action, None, None, None, self.bind.json(details)))

    def _end(self, alert: _Known, outcome: Outcome) -> None:
        self.ended.append(alert.id)
        self._event(
            alert.id,
            "condition_ended",
            {"reason": "condition no longer found (marks corrected, or out of scope)"},
        )
        outcome.ended += 1

    def flush(self) -> None:
        """Write what was queued (an alert's raising is its own row; history holds what came after)."""
        bulk.insert(self.session, "alert", ALERT_COLUMNS, self.inserts)
        bulk.update_alerts(self.session, self.updates)
        for i in range(0, len(self.ended), 5000):
            self.session.execute(
                update(_A).where(_A.c.id.in_(self.ended[i : i + 5000]))
                .values(ongoing=False, last_seen=self.as_of, updated_at=self.now)
            )  # fmt: skip
        bulk.insert(self.session, "alert_history",
                    ("alert_id", "at", "actor", "action", "from_state", "to_state", "reason", "details"),
                    self.history)  # fmt: skip
        bulk.insert(self.session, "alert_notification", ("alert_id", "team", "event", "created_at"),
                    self.notifications)  # fmt: skip
