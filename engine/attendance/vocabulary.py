"""The allowed values of the people tables' "kind" columns, with what each means."""

from __future__ import annotations

PHASES: dict[str, str] = {
    "nursery": "nursery",
    "primary": "primary (including infant and junior)",
    "middle": "middle",
    "secondary": "secondary",
    "all_through": "all-through",
    "sixteen_plus": "16 plus",
    "not_applicable": "not applicable (special schools, PRUs, AP)",
}

ESTABLISHMENT_TYPES: dict[str, str] = {
    "community": "community school",
    "voluntary_aided": "voluntary aided school",
    "voluntary_controlled": "voluntary controlled school",
    "foundation": "foundation school",
    "academy": "academy",
    "free_school": "free school",
    "special": "special school",
    "non_maintained_special": "non-maintained special school",
    "independent": "independent school",
    "pru": "pupil referral unit",
    "ap_academy": "alternative provision academy or free school",
    "ap_other": "other alternative provision (registered or unregistered)",
}

#: Types that are alternative provision (domain.md section 5).
AP_TYPES = frozenset({"pru", "ap_academy", "ap_other"})

#: ``single``: on one roll; dual registration is a ``main`` and a ``subsidiary`` enrolment.
REGISTRATIONS: dict[str, str] = {
    "single": "single registration",
    "main": "dual registration: main school",
    "subsidiary": "dual registration: subsidiary (e.g. the PRU or AP)",
}

#: The grounds on which a pupil may be deleted from the admission register (2024 Regs, reg. 9).
DELETION_GROUNDS: dict[str, str] = {
    "registered_elsewhere": "registered as a pupil at another school",
    "home_education": "parent's written notice of education otherwise than at school",
    "moved_away": "moved away and no longer ordinarily resident within reach of the school",
    "not_returned_after_leave": "not returned within 10 school days after leave of absence",
    "continuous_absence": "continuously absent 20 school days (G/N/O), joint reasonable enquiries failed",
    "medically_unfit": "certified unlikely to be fit to attend before ceasing compulsory school age",
    "detained": "detained under a final order and not expected to return",
    "died": "died",
    "end_of_compulsory_age": "ceased to be of compulsory school age and not continuing",
    "permanently_excluded": "permanently excluded",
    "dual_registration_ended": "subsidiary registration ended (dual registration)",
}

FLAGS: dict[str, str] = {
    "EHCP": "education, health and care plan",
    "SEN_SUPPORT": "SEN support",
    "CLA": "child looked after",
    "CIN": "child in need",
    "CP": "child protection plan",
    "YOUNG_CARER": "young carer",
}

EXCLUSION_KINDS: dict[str, str] = {
    "suspension": "suspension (fixed period)",
    "lunchtime": "lunchtime suspension (each session counts as half a day)",
    "permanent": "permanent exclusion",
}

#: Who arranged an AP placement: the LA under s.19 (coded K) or the school (coded B).
AP_ARRANGED_BY: dict[str, str] = {"la": "the local authority (s.19)", "school": "the school"}


def check(value: str, allowed: dict[str, str], what: str) -> str:
    """``value`` if it is one of ``allowed``; otherwise ValueError listing the allowed values."""
    if value not in allowed:
        raise ValueError(f"{what} {value!r} is not one of: {', '.join(allowed)}")
    return value
