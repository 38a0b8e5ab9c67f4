"""The one authorisation layer: who may see or do what. Every route and API call asks it.

A :class:`Principal` is the person (or API token) acting. The rules:

* **administrators** see and do everything (and design processes, forms, rules, users);
* **managers** see every case and task, and may reassign, suspend, resume, cancel and retry;
* **caseworkers** see the tasks offered to their teams or assigned to them, the cases those tasks
  belong to, and pupils; they complete tasks they hold or that are offered to their teams;
* **school users** see only cases concerning their own establishment, and only the tasks of those
  cases in the ``school`` lane; anything else is, for them, as if it did not exist.

Shared flags (EHCP, CLA, CP...) are visible only to those whose ``flags_visible`` names them, or to
whom the sharing service opened them (the flag's ``visible_to``: empty for all staff, or teams/roles).
Services return the data; callers filter with these functions, and answer "not found" (never
"forbidden") for records one may not know exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, exists, false, select

from .errors import NotFound, PermissionDenied
from .models.access import InstanceEstablishment, Role
from .models.episodes import Episode
from .models.workflow import HumanTask, HumanTaskTeam

SCHOOL_LANE = "school"


@dataclass(frozen=True)
class Principal:
    username: str
    role: str
    teams: frozenset[str] = field(default_factory=frozenset)
    establishment: str | None = None
    flags_visible: frozenset[str] = field(default_factory=frozenset)
    display_name: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMINISTRATOR

    @property
    def is_manager(self) -> bool:
        return self.role in (Role.MANAGER, Role.ADMINISTRATOR)

    @property
    def is_school(self) -> bool:
        return self.role == Role.SCHOOL

    @property
    def sees_everything(self) -> bool:
        return self.is_manager


SYSTEM = Principal("system", Role.ADMINISTRATOR, display_name="EduCase")


# --- tasks ---------------------------------------------------------------------------------------------


def task_teams_for(principal: Principal) -> frozenset[str]:
    """The lanes whose tasks this person may see (school users: the school lane only)."""
    return frozenset({SCHOOL_LANE}) if principal.is_school else principal.teams


def restrict_tasks(principal: Principal, query: Select[Any]) -> Select[Any]:
    """Narrow a ``select(... human_task ...)`` to the tasks ``principal`` may see."""
    if principal.sees_everything:
        return query
    ht, htt = HumanTask.__table__, HumanTaskTeam.__table__
    offered = exists().where(htt.c.task_id == ht.c.id, htt.c.team.in_(sorted(task_teams_for(principal))))
    if principal.is_school:
        return query.where(offered, _instance_at_school(ht.c.instance_id, principal))
    return query.where(offered | (ht.c.assignee == principal.username))


def may_see_task(principal: Principal, task: Any, instance_establishments: Iterable[str] = ()) -> bool:
    """``task``: anything with ``teams`` and ``assignee`` (a TaskRecord or a task dict)."""
    teams = set(_get(task, "teams") or [])
    if principal.sees_everything:
        return True
    if principal.is_school:
        return SCHOOL_LANE in teams and principal.establishment in set(instance_establishments)
    return bool(teams & principal.teams) or _get(task, "assignee") == principal.username


def may_complete_task(principal: Principal, task: Any, instance_establishments: Iterable[str] = ()) -> bool:
    """Seeing a task is not enough when someone else holds it (managers may still act)."""
    if not may_see_task(principal, task, instance_establishments):
        return False
    assignee = _get(task, "assignee")
    return assignee in (None, principal.username) or principal.is_manager


# --- instances -----------------------------------------------------------------------------------------


def may_see_instance(principal: Principal, *, establishments: Iterable[str], task_teams: Iterable[str],
                     assignees: Iterable[str] = ()) -> bool:
    """A case is visible to managers; to caseworkers whose teams have (had) work in it or who hold
    a task of it; to school users when it concerns their establishment."""
    if principal.sees_everything:
        return True
    if principal.is_school:
        return principal.establishment is not None and principal.establishment in set(establishments)
    return bool(set(task_teams) & principal.teams) or principal.username in set(assignees)


def may_manage_instance(principal: Principal) -> bool:
    """Suspend, resume, cancel, retry, reassign: managers and administrators."""
    return principal.is_manager


def require(allowed: bool, what: str = "record") -> None:
    """Refuse without leaking existence: a record one may not see is reported as not found."""
    if not allowed:
        raise NotFound(f"There is no such {what}.")


def require_role(allowed: bool, action: str) -> None:
    """For actions on something the person can already see (e.g. suspend a visible case)."""
    if not allowed:
        raise PermissionDenied(f"You are not allowed to {action}.")


# --- flags ----------------------------------------------------------------------------------------------


def visible_flags(principal: Principal, flags: Iterable[Any]) -> list[Any]:
    """Only the shared flags this person may see (restricted flags stay restricted).

    ``flags``: ``PupilFlag`` rows or dicts with ``flag`` (or ``kind``) and optionally ``visible_to``.
    A flag is visible when this person's ``flags_visible`` names it, or when the service sharing it
    shares it with every member of staff (``visible_to`` empty) or with one of this person's teams or
    their role.
    """
    if principal.is_admin:
        return list(flags)
    return [f for f in flags if _may_see_flag(principal, f)]


def _may_see_flag(principal: Principal, flag: Any) -> bool:
    if (_get(flag, "flag") or _get(flag, "kind")) in principal.flags_visible:
        return True
    shared_with = _get(flag, "visible_to")
    if shared_with is None:
        return False
    return not shared_with or bool(set(shared_with) & (principal.teams | {principal.role}))


# --- areas and pupils -----------------------------------------------------------------------------------

#: Who may enter each area of the web app (a blueprint protects itself with its area's name).
AREAS: dict[str, Callable[[Principal], bool]] = {
    "admin": lambda p: p.is_admin,  # designers, rules, users
    "manage": lambda p: p.is_manager,  # monitoring, reassigning, dashboards
    "tasks": lambda p: not p.is_school,  # the LA's inbox and casework
    "portal": lambda p: p.is_school,  # a school's own pupils and submissions
    "api": lambda p: True,  # each API call then asks the functions above about its records
}


def may_enter(principal: Principal, area: str) -> bool:
    """May ``principal`` use this area at all? Unknown areas are closed."""
    rule = AREAS.get(area)
    return bool(rule and rule(principal))


def may_see_pupil(principal: Principal, establishments: Iterable[str]) -> bool:
    """LA staff see every pupil; a school user only pupils enrolled at their establishment
    (``establishments``: the LAESTABs of the pupil's enrolments)."""
    if not principal.is_school:
        return True
    return principal.establishment is not None and principal.establishment in set(establishments)


# --- episodes -------------------------------------------------------------------------------------------


def may_see_episode(principal: Principal, *, team: str, owner: str | None = None) -> bool:
    """Episodes are the LA's casework: managers see them all, caseworkers those of their teams and
    those they own; school users see none."""
    if principal.sees_everything:
        return True
    if principal.is_school:
        return False
    return team in principal.teams or (owner is not None and owner == principal.username)


def may_open_episode(principal: Principal, team: str) -> bool:
    """Managers open episodes for any team; caseworkers for their own teams only."""
    return principal.sees_everything or (not principal.is_school and team in principal.teams)


def restrict_episodes(principal: Principal, query: Select[Any]) -> Select[Any]:
    """Narrow a ``select(... episode ...)`` to the episodes ``principal`` may see."""
    if principal.sees_everything:
        return query
    if principal.is_school:
        return query.where(false())
    ep = Episode.__table__
    return query.where(ep.c.team.in_(sorted(principal.teams)) | (ep.c.owner == principal.username))


# --- helpers --------------------------------------------------------------------------------------------


def _instance_at_school(instance_id_column: Any, principal: Principal) -> Any:
    ie = InstanceEstablishment.__table__
    return exists().where(ie.c.instance_id == instance_id_column, ie.c.laestab == (principal.establishment or ""))


def establishments_of(session: Any, instance_id: int) -> list[str]:
    ie = InstanceEstablishment.__table__
    return list(session.scalars(select(ie.c.laestab).where(ie.c.instance_id == instance_id)))


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
