"""`educase user ...` and `educase token ...` on the test database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from engine.context import Context
from engine.services import audit, users
from tests.web.support import PASSWORD
from webapp.cli import main


@pytest.fixture
def run(ctx: Context, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run `educase ...` on the test's engine context (the CLI would build one from the environment)."""
    monkeypatch.setattr("engine.context.create_context", lambda *args, **kwargs: ctx)

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)

    return invoke


def test_create_list_and_sign_in(run, ctx: Context) -> None:  # type: ignore[no-untyped-def]
    created = run(
        "user",
        "create",
        "head",
        "--role",
        "school",
        "--establishment",
        "8012000",
        "--name",
        "Hana Head",
        "--password",
        PASSWORD,
    )
    assert created.exit_code == 0, created.output
    assert created.output.strip() == "created school 'head'"
    listed = json.loads(run("user", "list", "--json").output)
    assert [(u["username"], u["teams"], u["establishment"]) for u in listed] == [
        ("head", ["school"], "8012000")
    ]
    assert users.authenticate(ctx, "head", PASSWORD).establishment == "8012000"
    assert audit.trail(ctx, "user", "head")[-1].actor.startswith("cli:")


def test_the_password_is_prompted_for_when_not_given(run, ctx: Context) -> None:  # type: ignore[no-untyped-def]
    result = run(
        "user",
        "create",
        "ewo",
        "--role",
        "caseworker",
        "--team",
        "attendance",
        "--name",
        "Erin",
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert users.authenticate(ctx, "ewo", PASSWORD).teams == frozenset({"attendance"})


def test_bad_input_is_one_line_on_stderr(run) -> None:  # type: ignore[no-untyped-def]
    result = run("user", "create", "head", "--role", "school", "--name", "Hana", "--password", PASSWORD)
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: A school user needs their establishment's LAESTAB")


def test_set_password_and_unlock(run, ctx: Context) -> None:  # type: ignore[no-untyped-def]
    run("user", "create", "ewo", "--role", "caseworker", "--name", "Erin", "--password", PASSWORD)
    for _ in range(5):
        with pytest.raises(users.SignInFailed):
            users.authenticate(ctx, "ewo", "wrong password here")
    with pytest.raises(users.AccountLocked):
        users.authenticate(ctx, "ewo", PASSWORD)
    assert run("user", "unlock", "ewo").exit_code == 0
    assert users.authenticate(ctx, "ewo", PASSWORD).username == "ewo"
    assert run("user", "set-password", "ewo", "--password", "a different passphrase").exit_code == 0
    assert users.authenticate(ctx, "ewo", "a different passphrase").username == "ewo"
    assert run("user", "unlock", "nobody").output.strip() == "error: There is no account called 'nobody'."


def test_tokens(run, ctx: Context) -> None:  # type: ignore[no-untyped-def]
    run("user", "create", "feed", "--role", "caseworker", "--name", "Feed", "--password", PASSWORD)
    created = json.loads(run("token", "create", "feed", "MIS nightly", "--json").output)
    assert users.principal_for_token(ctx, created["secret"]).username == "feed"
    listed = run("token", "list", "feed").output
    assert "MIS nightly" in listed and created["secret"] not in listed
    assert run("token", "revoke", str(created["id"])).output.strip() == f"token {created['id']} revoked"
    with pytest.raises(users.NotAuthenticated):
        users.principal_for_token(ctx, created["secret"])
