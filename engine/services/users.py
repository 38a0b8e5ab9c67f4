"""People who use EduCase: accounts, teams, passwords, signing in (with lock-out) and API tokens.

Passwords are hashed with argon2id (argon2-cffi's RFC 9106 parameters); a hash made with older
parameters is replaced at the next successful sign-in. After ``EDUCASE_LOGIN_LOCKOUT_FAILURES``
wrong passwords in a row an account is locked for ``EDUCASE_LOGIN_LOCKOUT_MINUTES``. Names without an
account are locked just the same (their failures are counted in the audit trail), and hash a dummy
password, so neither the answer, the lock-out nor the time taken says whether a username exists.

API tokens are random secrets shown once; only their SHA-256 is stored.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..access import SYSTEM, Principal
from ..errors import Conflict, EduCaseError, InvalidInput, NotFound
from ..models.access import ApiToken, Role, Team, UserAccount
from . import audit

if TYPE_CHECKING:
    from ..context import Context

USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{1,99}")
TEAM_SLUG = re.compile(r"[a-z][a-z0-9_-]{0,99}")
LAESTAB = re.compile(r"\d{7}")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1000
TOKEN_PREFIX = "educase_"
TOKEN_TOUCH_SECONDS = 60  # last_used_at is refreshed at most this often (one write, not one per call)

#: The lanes of the shipped process library: a team's slug is its lane's name.
LANES = {
    "attendance": "Attendance (education welfare)",
    "cme": "Children missing education",
    "inclusion": "Inclusion",
    "ep": "Educational psychology",
    "send": "SEND",
    "managers": "Managers",
    "school": "Schools",
    "panel": "Panel",
}

HASHER = PasswordHasher()


class NotAuthenticated(EduCaseError):
    """Who is asking is not known (no session, a bad token): the web layer answers 401."""

    code = "not_authenticated"


class SignInFailed(NotAuthenticated):
    code = "sign_in_failed"

    def __init__(self) -> None:
        super().__init__("Enter a correct username and password. Both are case-sensitive.")


class AccountLocked(SignInFailed):
    code = "account_locked"

    def __init__(self, until: datetime, timezone: str) -> None:
        local = until.astimezone(ZoneInfo(timezone))
        when = (
            f"{local:%H:%M}"
            if local.date() == clock.now().astimezone(local.tzinfo).date()
            else (f"{local:%H:%M} on {local.day} {local:%B}")
        )
        EduCaseError.__init__(
            self,
            f"Your account is locked until {when}; try again then or ask an administrator",
            locked_until=until.isoformat(),
        )


class AccountDisabled(SignInFailed):
    code = "account_disabled"

    def __init__(self) -> None:
        EduCaseError.__init__(self, "Your account has been closed. Ask an administrator if you need it back.")


@dataclass(frozen=True)
class UserSummary:
    username: str
    display_name: str
    role: str
    teams: list[str]
    establishment: str | None
    job_title: str | None
    flags_visible: list[str]
    active: bool
    locked_until: datetime | None
    last_login_at: datetime | None


@dataclass(frozen=True)
class NewToken:
    """A token just made. ``secret`` is shown once and cannot be recovered."""

    id: int
    name: str
    username: str
    secret: str


@dataclass(frozen=True)
class TokenSummary:
    id: int
    name: str
    username: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


# --- accounts ------------------------------------------------------------------------------------------


def create_user(
    ctx: Context,
    username: str,
    display_name: str,
    role: str,
    password: str,
    teams: Iterable[str] = (),
    establishment: str | None = None,
    job_title: str | None = None,
    flags_visible: Iterable[str] = (),
    *,
    email: str | None = None,
    actor: Principal = SYSTEM,
) -> UserSummary:
    """Open an account. School users need their establishment's LAESTAB and are in the ``school`` team."""
    username = _check_username(username)
    teams = _check_account(username, display_name, role, establishment, list(teams))
    check_password(username, password)
    with ctx.db.transaction() as session:
        if session.scalar(select(UserAccount.id).where(UserAccount.username == username)) is not None:
            raise Conflict(f"There is already an account called '{username}'.", field="username")
        user = UserAccount(
            username=username,
            display_name=display_name.strip(),
            email=email,
            role=role,
            password_hash=HASHER.hash(password),
            job_title=job_title,
            establishment=establishment,
            flags_visible=sorted(set(flags_visible)),
            active=True,
            failed_logins=0,
            created_at=clock.now(),
        )
        user.teams = [_team(session, slug) for slug in teams]
        session.add(user)
        audit.record(session, actor, "create", "user", username, {"role": role, "teams": teams})
        return _summary(user)


def check_password(username: str, password: str) -> None:
    """The password policy: long enough, and not the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.", field="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password must be at most {MAX_PASSWORD_LENGTH} characters long.", field="password"
        )
    lowered, name = password.casefold(), username.casefold()
    if lowered == name or (len(name) >= 4 and name in lowered):
        raise InvalidInput("The password must not contain the username.", field="password")


def list_users(ctx: Context) -> list[UserSummary]:
    with ctx.db.transaction() as session:
        return [_summary(u) for u in session.scalars(select(UserAccount).order_by(UserAccount.username))]


def set_password(ctx: Context, username: str, password: str, *, actor: Principal = SYSTEM) -> None:
    """Replace the password (which also ends the person's other sessions) and lift any lock."""
    check_password(username, password)
    with ctx.db.transaction() as session:
        user = _account(session, username)
        user.password_hash = HASHER.hash(password)
        user.failed_logins, user.locked_until = 0, None
        audit.record(session, actor, "set_password", "user", user.username)


def unlock(ctx: Context, username: str, *, actor: Principal = SYSTEM) -> None:
    with ctx.db.transaction() as session:
        user = _account(session, username)
        user.failed_logins, user.locked_until = 0, None
        audit.record(session, actor, "unlock", "user", user.username)


def ensure_team(ctx: Context, slug: str, name: str | None = None) -> None:
    """Create the team (named after its BPMN lane) unless it exists."""
    with ctx.db.transaction() as session:
        _team(session, _check_team(slug), name)


def principal_for(ctx: Context, username: str, *, stamp: str | None = None) -> Principal:
    """The person behind an active account. With ``stamp`` (see :func:`session_stamp`), only while
    the password is the one they signed in with."""
    with ctx.db.transaction() as session:
        user = session.scalar(select(UserAccount).where(UserAccount.username == username.strip().lower()))
        if user is None or not user.active or (stamp is not None and stamp != _stamp(user)):
            raise NotFound("There is no such account.")
        return _principal(user)


def session_stamp(ctx: Context, username: str) -> str:
    """A value that changes when the password does: kept in the web session to end old sessions."""
    with ctx.db.transaction() as session:
        return _stamp(_account(session, username))


# --- signing in ----------------------------------------------------------------------------------------


def authenticate(
    ctx: Context, username: str, password: str, now: datetime | None = None, *, source_ip: str | None = None
) -> Principal:
    """The person whose password this is; raises :class:`SignInFailed` (or :class:`AccountLocked`)."""
    now = now or clock.now()
    name = username.strip().lower()[:100]
    with ctx.db.transaction() as session:
        user = session.scalar(select(UserAccount).where(UserAccount.username == name).with_for_update())
        correct = _verify(user.password_hash if user else _dummy_hash(HASHER), password)
        if user is None or (not user.active and not correct):
            refusal: SignInFailed = _refuse_unknown(ctx, session, name, now, source_ip)
        elif user.locked_until is not None and user.locked_until > now:
            audit.record(session, name, "sign_in_locked", "user", name, source_ip=source_ip)
            refusal = AccountLocked(user.locked_until, ctx.settings.timezone)
        elif not correct:
            refusal = _count_failure(ctx, session, user, now, source_ip)
        elif not user.active:
            refusal = AccountDisabled()
        else:
            return _signed_in(session, user, password, now, source_ip)
    raise refusal


def _signed_in(
    session: Session, user: UserAccount, password: str, now: datetime, ip: str | None
) -> Principal:
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    audit.record(session, user.username, "sign_in", "user", user.username, source_ip=ip)
    return _principal(user)


def _count_failure(
    ctx: Context, session: Session, user: UserAccount, now: datetime, ip: str | None
) -> SignInFailed:
    audit.record(session, user.username, "sign_in_failed", "user", user.username, source_ip=ip)
    user.failed_logins += 1
    if user.failed_logins < ctx.settings.login_lockout_failures:
        return SignInFailed()
    user.failed_logins, user.locked_until = 0, now + _lock_period(ctx)
    audit.record(session, None, "account_locked", "user", user.username, source_ip=ip)
    return AccountLocked(user.locked_until, ctx.settings.timezone)


def _refuse_unknown(ctx: Context, session: Session, name: str, now: datetime, ip: str | None) -> SignInFailed:
    """Lock a name with no account exactly as an account would be, from the audit trail."""
    last_lock = audit.events(session, "user", name, actions=("account_locked",), limit=1)
    if last_lock and last_lock[0].at + _lock_period(ctx) > now:
        audit.record(session, name, "sign_in_locked", "user", name, source_ip=ip)
        return AccountLocked(last_lock[0].at + _lock_period(ctx), ctx.settings.timezone)
    audit.record(session, name, "sign_in_failed", "user", name, source_ip=ip)
    limit = ctx.settings.login_lockout_failures
    after = last_lock[0].at if last_lock else None
    if (
        len(audit.events(session, "user", name, actions=("sign_in_failed",), after=after, limit=limit))
        < limit
    ):
        return SignInFailed()
    audit.record(session, None, "account_locked", "user", name, source_ip=ip)
    return AccountLocked(now + _lock_period(ctx), ctx.settings.timezone)


def _lock_period(ctx: Context) -> timedelta:
    return timedelta(minutes=ctx.settings.login_lockout_minutes)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify against when there is no account: it takes as long as a real one."""
    return hasher.hash(secrets.token_urlsafe(16))


# --- API tokens ----------------------------------------------------------------------------------------


def create_token(ctx: Context, username: str, name: str, *, actor: Principal = SYSTEM) -> NewToken:
    """A new personal API token for ``username``'s integration called ``name``."""
    if not name.strip():
        raise InvalidInput("Give the token a name that says what uses it.", field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with ctx.db.transaction() as session:
        user = _account(session, username)
        token = ApiToken(
            user_id=user.id, name=name.strip()[:200], token_hash=_digest(secret), created_at=clock.now()
        )
        session.add(token)
        session.flush()
        audit.record(
            session, actor, "create", "api_token", token.id, {"user": user.username, "name": token.name}
        )
        return NewToken(token.id, token.name, user.username, secret)


def revoke_token(ctx: Context, token_id: int, *, actor: Principal = SYSTEM) -> None:
    """Stop a token working. Non-administrators may revoke only their own."""
    with ctx.db.transaction() as session:
        row = session.execute(
            select(ApiToken, UserAccount.username).join(UserAccount).where(ApiToken.id == token_id)
        ).first()
        if row is None or not (actor.is_admin or row.username == actor.username):
            raise NotFound(f"There is no API token {token_id}.")
        if row.ApiToken.revoked_at is None:
            row.ApiToken.revoked_at = clock.now()
            audit.record(session, actor, "revoke", "api_token", token_id, {"user": row.username})


def list_tokens(ctx: Context, username: str | None = None) -> list[TokenSummary]:
    """Tokens (never their secrets), of one person or of everyone."""
    query = select(ApiToken, UserAccount.username).join(UserAccount).order_by(ApiToken.id)
    if username is not None:
        query = query.where(UserAccount.username == username.strip().lower())
    with ctx.db.transaction() as session:
        return [
            TokenSummary(t.id, t.name, user, t.created_at, t.last_used_at, t.revoked_at)
            for t, user in session.execute(query)
        ]


def principal_for_token(ctx: Context, secret: str, now: datetime | None = None) -> Principal:
    """The person a presented API token belongs to; :class:`NotAuthenticated` if it is not valid."""
    now = now or clock.now()
    refused = NotAuthenticated("The API token is not valid: it may have been revoked. Ask for a new one.")
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise refused
    with ctx.db.transaction() as session:
        row = session.execute(
            select(ApiToken, UserAccount).join(UserAccount).where(ApiToken.token_hash == _digest(secret))
        ).first()
        if row is None or row.ApiToken.revoked_at is not None or not row.UserAccount.active:
            raise refused
        token, user = row
        if token.last_used_at is None or now - token.last_used_at >= timedelta(seconds=TOKEN_TOUCH_SECONDS):
            token.last_used_at = now
        return _principal(user)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- demo ----------------------------------------------------------------------------------------------

DEMO_SCHOOL = "8814001"  # the synthetic LA's first secondary school (engine.attendance.demo_data)
_DEMO_ACCOUNTS = [  # username, name, role, teams, job title, flags beyond those shared with all staff
    ("admin", "Alex Admin", Role.ADMINISTRATOR, [], "System administrator", []),
    (
        "manager",
        "Morgan Manager",
        Role.MANAGER,
        ["managers", "panel"],
        "Head of inclusion services",
        ["CLA", "CIN", "CP", "YOUNG_CARER"],
    ),
    (
        "ewo",
        "Erin Welfare",
        Role.CASEWORKER,
        ["attendance"],
        "Education welfare officer",
        ["CLA", "CIN", "YOUNG_CARER"],
    ),
    ("cme", "Casey Missing", Role.CASEWORKER, ["cme"], "Children missing education officer", ["CLA"]),
    ("inclusion", "Indra Inclusion", Role.CASEWORKER, ["inclusion", "panel"], "Inclusion officer", ["CLA"]),
    ("ep", "Evan Psychologist", Role.CASEWORKER, ["ep"], "Educational psychologist", []),
    ("send", "Sam Send", Role.CASEWORKER, ["send", "panel"], "SEND caseworker", ["CLA"]),
    ("school", "Sasha School", Role.SCHOOL, ["school"], "Attendance lead", []),
]


def demo_account_rows() -> list[tuple[Any, ...]]:
    """(username, name, role, teams, job title, flags) of each demo account."""
    return list(_DEMO_ACCOUNTS)


def create_demo_accounts(ctx: Context, password: str) -> list[str]:
    """One account per role for the demo (all with ``password``); existing accounts are left alone."""
    for slug, name in LANES.items():
        ensure_team(ctx, slug, name)
    existing = {u.username for u in list_users(ctx)}
    created = []
    for username, name, role, teams, job, flags in _DEMO_ACCOUNTS:
        if username not in existing:
            school = DEMO_SCHOOL if role == Role.SCHOOL else None
            create_user(ctx, username, name, role, password, teams, school, job, flags)
            created.append(username)
    return created


# --- helpers -------------------------------------------------------------------------------------------


def _check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise InvalidInput(
            "A username is 2 to 100 characters: letters, digits, '.', '_', '-' or '@', starting with a"
            " letter or digit.",
            field="username",
        )
    return name


def _check_account(
    username: str, display_name: str, role: str, establishment: str | None, teams: list[str]
) -> list[str]:
    if role not in Role.ALL:
        raise InvalidInput(f"The role must be one of {', '.join(Role.ALL)}, not '{role}'.", field="role")
    if not display_name.strip():
        raise InvalidInput("Give the person's name.", field="display_name")
    if role == Role.SCHOOL and (establishment is None or not LAESTAB.fullmatch(establishment)):
        raise InvalidInput(
            "A school user needs their establishment's LAESTAB: 7 digits, such as 8012000.",
            field="establishment",
        )
    if role != Role.SCHOOL and establishment is not None:
        raise InvalidInput("Only school users belong to an establishment.", field="establishment")
    if role == Role.SCHOOL and "school" not in teams:
        teams = [*teams, "school"]
    return sorted({_check_team(t) for t in teams})


def _check_team(slug: str) -> str:
    if not TEAM_SLUG.fullmatch(slug):
        raise InvalidInput(
            f"'{slug}' is not a team: use its BPMN lane name, such as attendance.", field="teams"
        )
    return slug


def _team(session: Session, slug: str, name: str | None = None) -> Team:
    team = session.scalar(select(Team).where(Team.slug == slug))
    if team is None:
        team = Team(slug=slug, name=name or LANES.get(slug, slug.replace("_", " ").capitalize()))
        session.add(team)
        session.flush()
    return team


def _account(session: Session, username: str) -> UserAccount:
    name = username.strip().lower()
    user = session.scalar(select(UserAccount).where(UserAccount.username == name))
    if user is None:
        raise NotFound(f"There is no account called '{name}'.")
    return user


def _principal(user: UserAccount) -> Principal:
    return Principal(
        username=user.username,
        role=user.role,
        teams=frozenset(t.slug for t in user.teams),
        establishment=user.establishment,
        flags_visible=frozenset(user.flags_visible or ()),
        display_name=user.display_name,
    )


def _summary(user: UserAccount) -> UserSummary:
    return UserSummary(
        user.username,
        user.display_name,
        user.role,
        sorted(t.slug for t in user.teams),
        user.establishment,
        user.job_title,
        list(user.flags_visible or ()),
        user.active,
        user.locked_until,
        user.last_login_at,
    )


def _stamp(user: UserAccount) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]
