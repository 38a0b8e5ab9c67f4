"""engine.services.users and engine.services.audit on the test database: account rules, password
hashing, tokens and the demo accounts (the services behind sign-in and the API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from engine.access import Principal
from engine.context import Context
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models.access import ApiToken, Role, Team, UserAccount
from engine.services import audit, users
from tests.web.support import PASSWORD, SCHOOL, make_user


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"role": "superuser"}, "role"),
        ({"role": Role.SCHOOL}, "establishment"),
        ({"role": Role.SCHOOL, "establishment": "801200"}, "establishment"),
        ({"role": Role.SCHOOL, "establishment": "80120001"}, "establishment"),
        ({"role": Role.SCHOOL, "establishment": "801A000"}, "establishment"),
        ({"establishment": SCHOOL}, "establishment"),
        ({"password": "short pass"}, "password"),
        ({"password": "my name is ewo-smith!"}, "password"),
        ({"password": "EWO-SMITH-EWO-SMITH"}, "password"),
        ({"username": "has space"}, "username"),
        ({"username": "<b>"}, "username"),
        ({"display_name": "  "}, "display_name"),
        ({"teams": ["Attendance Team"]}, "teams"),
    ],
)
def test_account_rules(ctx: Context, kwargs: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "username": "ewo-smith",
        "display_name": "Erin",
        "role": Role.CASEWORKER,
        "password": PASSWORD,
        **kwargs,
    }
    with pytest.raises(InvalidInput) as raised:
        users.create_user(ctx, **values)  # type: ignore[arg-type]
    assert raised.value.details["field"] == field


def test_usernames_are_unique_whatever_their_case(ctx: Context) -> None:
    make_user(ctx, "ewo")
    with pytest.raises(Conflict):
        make_user(ctx, "EWO")


def test_school_users_join_the_school_team_and_teams_are_created_from_lanes(ctx: Context) -> None:
    head = make_user(ctx, "head", Role.SCHOOL)
    assert head.teams == ["school"] and head.establishment == SCHOOL
    make_user(ctx, "ewo", teams=["attendance", "panel", "virtual_school"])
    with ctx.db.transaction() as session:
        teams = dict(session.execute(select(Team.slug, Team.name)).all())
    assert teams == {
        "school": "Schools",
        "attendance": "Attendance (education welfare)",
        "panel": "Panel",
        "virtual_school": "Virtual school",
    }
    principal = users.principal_for(ctx, "ewo")
    assert principal == Principal(
        "ewo", Role.CASEWORKER, frozenset({"attendance", "panel", "virtual_school"}), display_name="Ewo"
    )


def test_passwords_are_stored_as_argon2id_and_rehashed_when_the_parameters_change(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(ctx, "ewo")
    before = _hash(ctx, "ewo")
    assert before.startswith("$argon2id$") and PASSWORD not in before
    users.authenticate(ctx, "ewo", PASSWORD)
    assert _hash(ctx, "ewo") == before  # same parameters: left alone
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    users.authenticate(ctx, "ewo", PASSWORD)
    after = _hash(ctx, "ewo")
    assert after != before and "m=2048,t=2,p=1" in after
    assert users.authenticate(ctx, "ewo", PASSWORD).username == "ewo"


def test_sign_in_records_the_time(ctx: Context) -> None:
    make_user(ctx, "ewo")
    at = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    users.authenticate(ctx, "ewo", PASSWORD, at)
    assert users.list_users(ctx)[0].last_login_at == at


def test_principal_for_unknown_or_stale_sessions(ctx: Context) -> None:
    make_user(ctx, "ewo")
    stamp = users.session_stamp(ctx, "ewo")
    assert users.principal_for(ctx, "ewo", stamp=stamp).username == "ewo"
    with pytest.raises(NotFound):
        users.principal_for(ctx, "nobody")
    users.set_password(ctx, "ewo", "another long passphrase")
    with pytest.raises(NotFound):
        users.principal_for(ctx, "ewo", stamp=stamp)


def test_tokens_store_only_a_digest_and_touch_last_used_now_and_then(ctx: Context) -> None:
    make_user(ctx, "ewo")
    token = users.create_token(ctx, "ewo", "attendance feed")
    assert token.secret.startswith("educase_") and len(token.secret) > 40
    with ctx.db.transaction() as session:
        assert token.secret not in str(session.scalars(select(ApiToken.token_hash)).all())
    at = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert users.principal_for_token(ctx, token.secret, at).username == "ewo"
    users.principal_for_token(ctx, token.secret, at + timedelta(seconds=30))
    assert users.list_tokens(ctx, "ewo")[0].last_used_at == at
    users.principal_for_token(ctx, token.secret, at + timedelta(seconds=90))
    assert users.list_tokens(ctx, "ewo")[0].last_used_at == at + timedelta(seconds=90)
    with pytest.raises(InvalidInput):
        users.create_token(ctx, "ewo", "  ")


def test_only_the_owner_or_an_administrator_revokes_a_token(ctx: Context) -> None:
    make_user(ctx, "ewo")
    make_user(ctx, "ep", teams=["ep"])
    token = users.create_token(ctx, "ewo", "feed")
    with pytest.raises(NotFound):
        users.revoke_token(ctx, token.id, actor=users.principal_for(ctx, "ep"))
    users.revoke_token(ctx, token.id, actor=users.principal_for(ctx, "ewo"))
    users.revoke_token(ctx, token.id)  # again: nothing changes
    assert users.list_tokens(ctx)[0].revoked_at is not None
    with pytest.raises(users.NotAuthenticated):
        users.principal_for_token(ctx, token.secret)
    assert [e.action for e in audit.trail(ctx, "api_token", token.id)] == ["revoke", "create"]


def test_demo_accounts_one_per_role_in_the_lanes_teams(ctx: Context) -> None:
    created = users.create_demo_accounts(ctx, PASSWORD)
    assert created == ["admin", "manager", "ewo", "cme", "inclusion", "ep", "send", "school"]
    assert users.create_demo_accounts(ctx, PASSWORD) == []  # a second run changes nothing
    accounts = {u.username: u for u in users.list_users(ctx)}
    assert {u.role for u in accounts.values()} == set(Role.ALL)
    assert accounts["ewo"].teams == ["attendance"] and accounts["cme"].teams == ["cme"]
    assert accounts["school"].establishment == "8814001"  # the synthetic LA's first secondary school
    lanes = {t for u in accounts.values() for t in u.teams}
    assert lanes == {"attendance", "cme", "inclusion", "ep", "send", "managers", "school", "panel"}
    for username in accounts:
        assert users.authenticate(ctx, username, PASSWORD).username == username


def test_audit_record_inside_a_unit_of_work_rolls_back_with_it(ctx: Context) -> None:
    with pytest.raises(RuntimeError), ctx.db.transaction() as session:
        audit.record(session, "ewo", "update", "instance", 3)
        raise RuntimeError("the change failed")
    assert audit.trail(ctx, "instance", 3) == []
    audit.record(ctx, Principal("ewo", Role.CASEWORKER), "view", "instance", 3, {"tab": "notes"}, "10.0.0.1")
    (entry,) = audit.trail(ctx, "instance", 3)
    assert (entry.actor, entry.details, entry.source_ip) == ("ewo", {"tab": "notes"}, "10.0.0.1")
    assert audit.by_actor(ctx, "ewo") == [entry]


def _hash(ctx: Context, username: str) -> str:
    with ctx.db.transaction() as session:
        return session.scalar(select(UserAccount.password_hash).where(UserAccount.username == username)) or ""
