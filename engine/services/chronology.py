"""A pupil's chronology: everything that happened to the pupil across services, newest first.

It merges the roll (joining, leaving and why), exclusions, part-time timetables and AP placements,
attendance corrections and Common Transfer File summaries, shared flags, alerts and what was done
about them, the events of the pupil's cases, and the episodes' notes and work items.

Access control is applied by what the caller passes in: only the enrolments, flags, alerts, cases
and episodes this person may see (see :mod:`engine.services.pupil_record`). Events of a case come
from :func:`engine.services.casefile.history`, which narrows them further for school users.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import Principal
from ..attendance.vocabulary import DELETION_GROUNDS, EXCLUSION_KINDS, FLAGS, REGISTRATIONS
from ..episodes.views import EpisodeView
from ..models.alerts import AlertHistory
from ..models.attendance import AttendanceImport, AttendanceSummary, MarkCorrection
from ..models.episodes import EpisodeNote, WorkItem
from ..models.people import APPlacement, Establishment, Exclusion, PartTimeTimetable
from . import casefile
from .case_links import CaseLink

#: What each kind of entry is called on the page.
KINDS = {
    "roll": "School roll",
    "exclusion": "Exclusion",
    "provision": "Provision",
    "attendance": "Attendance",
    "flag": "Shared flag",
    "alert": "Alert",
    "case": "Case",
    "episode": "Episode",
}
ALERT_ACTIONS = {
    "acknowledged": "Alert acknowledged",
    "actioned": "Alert marked as actioned",
    "closed": "Alert closed",
    "process_started": "Case started from the alert",
    "process_failed": "Case could not be started from the alert",
    "condition_ended": "Alert condition no longer met",
}
#: How many corrected marks one entry lists before saying "and N more".
CORRECTIONS_LISTED = 6


@dataclass(frozen=True)
class ChronologyEntry:
    """One thing that happened. ``ref`` names the record it is about, for a link: ("alert", id),
    ("case", id), ("task", id), ("episode", id) or ("establishment", LAESTAB)."""

    when: date | datetime
    kind: str
    title: str
    detail: str | None = None
    actor: str | None = None
    ref: tuple[str, str] | None = None

    @property
    def sort_key(self) -> datetime:
        if isinstance(self.when, datetime):
            return self.when
        return datetime.combine(self.when, time(0), tzinfo=UTC)

    @property
    def kind_name(self) -> str:
        return KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class EnrolmentFacts:
    """An enrolment the person may see, as the chronology needs it."""

    id: int
    laestab: str
    establishment: str
    registration: str
    start_date: date
    end_date: date | None
    deletion_ground: str | None
    year_group: str | None = None

    def on_roll(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


@dataclass(frozen=True)
class AlertFacts:
    id: int
    rule_name: str
    summary: str
    raised_at: datetime


@dataclass(frozen=True)
class FlagFacts:
    flag: str
    set_by_service: str
    start_date: date
    end_date: date | None


@dataclass(frozen=True)
class Subject:
    """What the person may see of one pupil: the chronology is built from these only."""

    pupil_id: int
    enrolments: list[EnrolmentFacts]
    flags: list[FlagFacts]
    alerts: list[AlertFacts]
    cases: list[CaseLink]
    episodes: list[EpisodeView]
    all_placements: bool  # LA staff: every AP placement; school users: those tied to their enrolments


def pupil_chronology(session: Session, principal: Principal, subject: Subject) -> list[ChronologyEntry]:
    """Every entry about the pupil that ``subject`` lets this person see, newest first."""
    ids = [e.id for e in subject.enrolments]
    names = {e.id: e.establishment for e in subject.enrolments}
    entries = [
        *_roll(subject.enrolments),
        *_exclusions(session, ids, names),
        *_timetables(session, ids, names),
        *_placements(session, subject),
        *_corrections(session, ids, names),
        *_transfer_summaries(session, ids, names),
        *_flags(subject.flags),
        *_alerts(session, subject.alerts),
        *_cases(session, principal, subject.cases),
        *_episodes(session, subject.episodes),
    ]
    return sorted(entries, key=lambda e: e.sort_key, reverse=True)


def _roll(enrolments: Iterable[EnrolmentFacts]) -> list[ChronologyEntry]:
    entries = []
    for e in enrolments:
        registration = REGISTRATIONS.get(e.registration, e.registration)
        entries.append(
            ChronologyEntry(
                e.start_date,
                "roll",
                f"Joined the roll of {e.establishment}",
                registration.capitalize(),
                ref=("establishment", e.laestab),
            )
        )
        if e.end_date is not None:
            ground = DELETION_GROUNDS.get(e.deletion_ground or "", e.deletion_ground)
            entries.append(
                ChronologyEntry(
                    e.end_date,
                    "roll",
                    f"Left the roll of {e.establishment}",
                    f"Ground: {ground}" if ground else None,
                    ref=("establishment", e.laestab),
                )
            )
    return entries


def _exclusions(session: Session, ids: list[int], names: dict[int, str]) -> list[ChronologyEntry]:
    rows = session.scalars(select(Exclusion).where(Exclusion.enrolment_id.in_(ids))) if ids else []
    entries = []
    for x in rows:
        if x.kind == "suspension":
            title = f"Suspended from {names[x.enrolment_id]} for {x.length_days:g} school days"
        elif x.kind == "lunchtime":
            title = f"Lunchtime suspension at {names[x.enrolment_id]} ({x.lunchtime_sessions} sessions)"
        else:
            title = f"{EXCLUSION_KINDS.get(x.kind, x.kind).capitalize()} from {names[x.enrolment_id]}"
        entries.append(ChronologyEntry(x.start_date, "exclusion", title, x.reason and f"Reason: {x.reason}"))
    return entries


def _timetables(session: Session, ids: list[int], names: dict[int, str]) -> list[ChronologyEntry]:
    rows = (
        session.scalars(select(PartTimeTimetable).where(PartTimeTimetable.enrolment_id.in_(ids)))
        if ids
        else []
    )
    return [
        ChronologyEntry(
            t.start_date,
            "provision",
            f"Part-time timetable at {names[t.enrolment_id]}: {t.hours_per_week:g} hours a week",
            f"Review by {t.review_date:%-d %B %Y}" + (f". {t.reason}" if t.reason else ""),
        )
        for t in rows
    ]


def _placements(session: Session, subject: Subject) -> list[ChronologyEntry]:
    query = (
        select(APPlacement, Establishment.name, Establishment.laestab)
        .join(Establishment, Establishment.id == APPlacement.provider_id)
        .where(APPlacement.pupil_id == subject.pupil_id)
    )
    own = {e.id for e in subject.enrolments}
    schools = {e.laestab for e in subject.enrolments}
    entries = []
    for p, provider, laestab in session.execute(query):
        if not subject.all_placements and p.home_enrolment_id not in own and laestab not in schools:
            continue
        ref = ("establishment", laestab)
        entries.append(
            ChronologyEntry(
                p.proposed_start,
                "provision",
                f"Alternative provision at {provider} proposed to start",
                f"{p.hours_per_week:g} hours a week" if p.hours_per_week else None,
                ref=ref,
            )
        )
        if p.actual_start:
            entries.append(
                ChronologyEntry(p.actual_start, "provision", f"Started attending {provider}", ref=ref)
            )
        if p.end_date:
            entries.append(
                ChronologyEntry(p.end_date, "provision", f"Placement at {provider} ended", ref=ref)
            )
    return entries


def _corrections(session: Session, ids: list[int], names: dict[int, str]) -> list[ChronologyEntry]:
    """Corrected marks, one entry per import (or other source) and enrolment."""
    if not ids:
        return []
    rows = session.execute(
        select(MarkCorrection, AttendanceImport.file_name, AttendanceImport.imported_by)
        .outerjoin(AttendanceImport, AttendanceImport.id == MarkCorrection.import_id)
        .where(MarkCorrection.enrolment_id.in_(ids))
        .order_by(MarkCorrection.session_date, MarkCorrection.session)
    ).all()
    groups: dict[tuple[object, int], list[tuple[MarkCorrection, str | None, str | None]]] = defaultdict(list)
    for c, file_name, imported_by in rows:
        groups[(c.import_id or c.source, c.enrolment_id)].append((c, file_name, imported_by))
    entries = []
    for (_, enrolment_id), items in groups.items():
        first, file_name, imported_by = items[0]
        listed = [
            f"{c.session_date:%-d %b %Y} {c.session}: {c.old_code} to {c.new_code}" for c, _, _ in items
        ]
        more = len(listed) - CORRECTIONS_LISTED
        detail = "; ".join(listed[:CORRECTIONS_LISTED]) + (f"; and {more} more" if more > 0 else "")
        source = (file_name or first.source).rsplit("/", 1)[-1]
        marks = "1 mark" if len(items) == 1 else f"{len(items)} marks"
        title = f"{marks} corrected at {names[enrolment_id]} ({source})"
        entries.append(
            ChronologyEntry(
                max(c.corrected_at for c, _, _ in items), "attendance", title, detail, actor=imported_by
            )
        )
    return entries


def _transfer_summaries(session: Session, ids: list[int], names: dict[int, str]) -> list[ChronologyEntry]:
    rows = (
        session.scalars(select(AttendanceSummary).where(AttendanceSummary.enrolment_id.in_(ids)))
        if ids
        else []
    )
    return [
        ChronologyEntry(
            s.received_at,
            "attendance",
            f"Attendance summary for {_year(s.school_year)} received ({names[s.enrolment_id]})",
            f"{s.sessions_attended} of {s.sessions_possible} possible sessions attended; "
            f"{s.sessions_authorised} authorised and {s.sessions_unauthorised} unauthorised absences",
        )
        for s in rows
    ]


def _year(school_year: int) -> str:
    return f"{school_year}/{(school_year + 1) % 100:02d}"


def _flags(flags: Iterable[FlagFacts]) -> list[ChronologyEntry]:
    entries = []
    for f in flags:
        label = f"{f.flag} ({FLAGS.get(f.flag, f.flag)})"
        entries.append(
            ChronologyEntry(f.start_date, "flag", f"Flag shared: {label}", f"By {f.set_by_service}")
        )
        if f.end_date:
            entries.append(
                ChronologyEntry(f.end_date, "flag", f"Flag ended: {label}", f"By {f.set_by_service}")
            )
    return entries


def _alerts(session: Session, alerts: list[AlertFacts]) -> list[ChronologyEntry]:
    by_id = {a.id: a for a in alerts}
    entries = [
        ChronologyEntry(
            a.raised_at, "alert", f"Alert raised: {a.rule_name}", a.summary, ref=("alert", str(a.id))
        )
        for a in alerts
    ]
    if not alerts:
        return entries
    history = session.scalars(select(AlertHistory).where(AlertHistory.alert_id.in_(list(by_id))))
    for h in history:
        action = ALERT_ACTIONS.get(h.action, h.action.replace("_", " ").capitalize())
        title = f"{action}: {by_id[h.alert_id].rule_name}"
        entries.append(ChronologyEntry(h.at, "alert", title, h.reason, h.actor, ("alert", str(h.alert_id))))
    return entries


def _cases(session: Session, principal: Principal, cases: list[CaseLink]) -> list[ChronologyEntry]:
    entries = []
    for case in cases:
        ref = ("case", str(case.instance_id))
        for event in casefile.history(session, principal, case.instance_id):
            title = f"{case.process_name}: {event.text}" + (f" ({event.task})" if event.task else "")
            entries.append(ChronologyEntry(event.at, "case", title, event.detail, event.actor, ref))
    return entries


def _episodes(session: Session, episodes: list[EpisodeView]) -> list[ChronologyEntry]:
    entries = []
    for e in episodes:
        ref = ("episode", str(e.id))
        entries.append(
            ChronologyEntry(
                e.opened_on, "episode", f"Episode opened: {e.title}", f"Team: {e.team}", e.owner, ref
            )
        )
        if e.closed_on:
            entries.append(
                ChronologyEntry(
                    e.closed_on, "episode", f"Episode closed: {e.title}", e.closing_reason, ref=ref
                )
            )
    ids = [e.id for e in episodes]
    if not ids:
        return entries
    titles = {e.id: e.title for e in episodes}
    for note in session.scalars(select(EpisodeNote).where(EpisodeNote.episode_id.in_(ids))):
        entries.append(
            ChronologyEntry(
                note.at,
                "episode",
                f"Note on {titles[note.episode_id]}",
                note.text,
                note.author,
                ("episode", str(note.episode_id)),
            )
        )
    items = select(
        WorkItem.episode_id, WorkItem.title, WorkItem.draft, WorkItem.created_at, WorkItem.created_by
    )
    for episode_id, title, draft, created_at, created_by in session.execute(
        items.where(WorkItem.episode_id.in_(ids))
    ):
        state = " (draft)" if draft else ""
        entries.append(
            ChronologyEntry(
                created_at,
                "episode",
                f"Work added to {titles[episode_id]}: {title}{state}",
                actor=created_by,
                ref=("episode", str(episode_id)),
            )
        )
    return entries
