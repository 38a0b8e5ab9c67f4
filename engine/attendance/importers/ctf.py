"""The DfE Common Transfer File (CTF): pupil details, school history and attendance summaries.

Read with the hardened XML parser (no DTD, no entities, no network). A file whose root is not
``CTfile`` with a ``Header`` naming a "Common Transfer File" is refused whole. Each ``<Pupil>`` is one
row (its line is the element's line): the pupil, its enrolments at establishments of this LA (from
``<SchoolHistory>``) and its attendance summaries (``<Attendance><YearData>``) are applied together
or not at all. History entries and attendance at establishments outside the LA are skipped and
counted. A ``<YearData>`` without its own LEA/Estab belongs to the source school. The leaving reason is
not mapped to a deletion ground (CTF codes are not the 2024 grounds).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lxml import etree
from sqlalchemy import select

from ...models.attendance import AttendanceSummary
from ...workflow.xml_safety import parse_untrusted_xml
from ..layout import year_end, year_start
from . import checks
from .base import ImportRun
from .directory import Directory
from .people import EnrolmentRecord, PupilRecord, RollWriter
from .report import INVALID_VALUE, NOT_ON_ROLL, UNKNOWN_ESTABLISHMENT, FormatRefused, RowRejected

WHAT = "Common Transfer File (CTF XML)"
LOST_PUPIL = "XXXXXXX"


@dataclass(frozen=True)
class YearSummary:
    establishment_id: int
    school_year: int
    possible: int
    attended: int
    authorised: int
    unauthorised: int


def import_ctf(run: ImportRun, path: Path) -> None:
    """Apply each good ``<Pupil>``; list the others with their line."""
    root = _root(path)
    header = root.find("Header")
    source = _laestab(header.find("SourceSchool")) if header is not None else None
    destination = _laestab(header.find("DestSchool")) if header is not None else None
    if destination == LOST_PUPIL:
        run.report.notes.append("lost pupil file: the destination school is unknown (XXX/XXXX)")
    directory = run.directory()
    writer = RollWriter(run.session, run.now, run.report.changes)
    pupils = root.findall("CTFpupilData/Pupil")
    writer.preload(_text(p, "UPN").upper() for p in pupils if _text(p, "UPN"))
    for element in pupils:
        run.row_read()
        skipped: Counter[str] = Counter()
        try:
            pupil, enrolments, summaries = _read_pupil(element, source, directory, skipped)
            _check_summaries_have_enrolments(writer, pupil, enrolments, summaries)
        except RowRejected as rejected:
            run.report.reject(element.sourceline or 0, rejected.reason, rejected.detail)
            continue
        _apply(run, writer, pupil, enrolments, summaries)
        run.report.changes.update(skipped)
        run.report.accepted += 1


def _root(path: Path) -> etree._Element:
    tree, problems = parse_untrusted_xml(path.name, path.read_bytes())
    if tree is None:
        raise FormatRefused(f"{path.name} is not a {WHAT}: {problems[0]}", file=str(path))
    root = tree.getroot()
    name = (root.findtext("Header/DocumentName") or "").strip().lower()
    if root.tag != "CTfile" or name != "common transfer file":
        raise FormatRefused(
            f"{path.name} is not a {WHAT}: expected a <CTfile> root whose Header/DocumentName is "
            f"'Common Transfer File' (found <{root.tag}>)",
            file=str(path),
        )
    return root


def _text(element: etree._Element | None, path: str) -> str:
    if element is None:
        return ""
    return (element.findtext(path) or "").strip()


def _laestab(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    value = _text(element, "LEA") + _text(element, "Estab")
    return value or None


def _read_pupil(
    element: etree._Element, source: str | None, directory: Directory, skipped: Counter[str]
) -> tuple[PupilRecord, list[EnrolmentRecord], list[YearSummary]]:
    pupil = PupilRecord(
        upn=checks.upn(_text(element, "UPN")),
        forename=checks.required(_text(element, "Forename"), "Forename"),
        surname=checks.required(_text(element, "Surname"), "Surname"),
        date_of_birth=checks.iso_date(_text(element, "DOB"), "DOB"),
        uln=checks.uln(_text(element, "UniqueLearnerNumber")),
        middle_names=checks.optional(_text(element, "BasicDetails/MiddleNames")),
        preferred_forename=checks.optional(_text(element, "BasicDetails/PreferredForename")),
        sex=checks.optional((_text(element, "Sex") or _text(element, "Gender"))[:1].upper()),
        address=_address(element.find("Address")),
        postcode=checks.optional(_text(element, "Address/PostCode")),
        uprn=checks.optional(
            _text(element, "Address/BS7666Address/UniquePropertyReferenceNumber")
            or _text(element, "Address/UniquePropertyReferenceNumber")
        ),
    )
    year_group = checks.optional(_text(element, "BasicDetails/NCyearActual"))
    enrolments = _history(element, source, year_group, directory, skipped)
    summaries = _summaries(element, source, directory, skipped)
    if not enrolments and not summaries:
        raise RowRejected(
            UNKNOWN_ESTABLISHMENT,
            f"no school in the pupil's history or attendance is an establishment of this LA (source {source})",
        )
    return pupil, enrolments, summaries


def _address(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    bs = element.find("BS7666Address")
    if bs is not None:
        paon_street = " ".join(x for x in (_text(bs, "PAON"), _text(bs, "Street")) if x)
        parts = [_text(bs, "SAON"), paon_street, _text(bs, "Locality"), _text(bs, "Town")]
    else:
        parts = [_text(element, f"AddressLines/AddressLine{i}") for i in range(1, 6)]
    return "\n".join(p for p in parts if p) or None


def _history(
    element: etree._Element,
    source: str | None,
    year_group: str | None,
    directory: Directory,
    skipped: Counter[str],
) -> list[EnrolmentRecord]:
    records = []
    for school in element.findall("SchoolHistory/School"):
        laestab = _laestab(school) or ""
        if laestab not in directory.establishments:
            skipped["history_entries_outside_la"] += 1
            continue
        records.append(
            EnrolmentRecord(
                establishment_id=directory.establishments[laestab],
                start_date=checks.iso_date(_text(school, "EntryDate"), "SchoolHistory/School/EntryDate"),
                end_date=checks.optional_date(
                    _text(school, "LeavingDate"), "SchoolHistory/School/LeavingDate"
                ),
                year_group=year_group if laestab == source else None,
            )
        )
    return records


def _summaries(
    element: etree._Element, source: str | None, directory: Directory, skipped: Counter[str]
) -> list[YearSummary]:
    found = []
    for year in element.findall("Attendance/YearData"):
        laestab = _laestab(year) or source or ""
        if laestab not in directory.establishments:
            skipped["attendance_years_outside_la"] += 1
            continue
        numbers = [_count(year, name) for name in ("Year", "SessionsPossible", "SessionsAttended")]
        authorised, unauthorised = _count(year, "SessionsAuthorised"), _count(year, "SessionsUnauthorised")
        school_year, possible, attended = numbers
        if attended + authorised + unauthorised != possible:
            raise RowRejected(
                INVALID_VALUE,
                f"attendance for {school_year}: attended {attended} + authorised {authorised} + unauthorised "
                f"{unauthorised} is not the {possible} possible sessions",
            )
        found.append(
            YearSummary(
                directory.establishments[laestab], school_year, possible, attended, authorised, unauthorised
            )
        )
    return found


def _count(element: etree._Element, name: str) -> int:
    text = _text(element, name)
    if not text.isdigit():
        raise RowRejected(INVALID_VALUE, f"Attendance/YearData/{name} {text!r} is not a whole number")
    return int(text)


def _covers(start: date, end: date | None, school_year: int) -> bool:
    return start <= year_end(school_year) and (end is None or end >= year_start(school_year))


def _check_summaries_have_enrolments(
    writer: RollWriter, pupil: PupilRecord, enrolments: list[EnrolmentRecord], summaries: list[YearSummary]
) -> None:
    stored = writer.known_pupil(pupil.upn.value)
    for s in summaries:
        if any(
            e.establishment_id == s.establishment_id and _covers(e.start_date, e.end_date, s.school_year)
            for e in enrolments
        ):
            continue
        if stored is not None and writer.enrolment_during(
            stored.id, s.establishment_id, year_start(s.school_year), year_end(s.school_year)
        ):
            continue
        raise RowRejected(
            NOT_ON_ROLL,
            f"attendance for {s.school_year}/{(s.school_year + 1) % 100:02d} at an establishment where the "
            "pupil has no enrolment that year (add the school to <SchoolHistory>)",
        )


def _apply(
    run: ImportRun,
    writer: RollWriter,
    pupil: PupilRecord,
    enrolments: list[EnrolmentRecord],
    summaries: list[YearSummary],
) -> None:
    stored = writer.pupil(pupil)
    for record in enrolments:
        writer.enrolment(stored, record)
    for s in summaries:
        enrolment = writer.enrolment_during(
            stored.id, s.establishment_id, year_start(s.school_year), year_end(s.school_year)
        )
        assert enrolment is not None  # checked before anything was written
        _write_summary(run, enrolment.id, s)


def _write_summary(run: ImportRun, enrolment_id: int, s: YearSummary) -> None:
    values = {
        "sessions_possible": s.possible,
        "sessions_attended": s.attended,
        "sessions_authorised": s.authorised,
        "sessions_unauthorised": s.unauthorised,
    }
    found = run.session.scalar(
        select(AttendanceSummary).where(
            AttendanceSummary.enrolment_id == enrolment_id, AttendanceSummary.school_year == s.school_year
        )
    )
    if found is None:
        run.session.add(
            AttendanceSummary(
                enrolment_id=enrolment_id,
                school_year=s.school_year,
                source=run.source,
                received_at=run.now,
                **values,
            )
        )
        run.report.changes["attendance_summaries_created"] += 1
    elif any(getattr(found, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(found, k, v)
        found.source, found.received_at = run.source, run.now
        run.report.changes["attendance_summaries_updated"] += 1
