"""`educase user ...` and `educase token ...`: accounts and personal API tokens, from the command line."""

from __future__ import annotations

import getpass
from typing import Any

import click

from ..access import Principal
from ..models.access import Role
from ..services import users
from .common import emit, get_context, handle_errors, json_option, table

USER_COLUMNS = ["username", "display_name", "role", "teams", "establishment", "active", "locked_until"]
TOKEN_COLUMNS = ["id", "username", "name", "created_at", "last_used_at", "revoked_at"]


def _actor() -> Principal:
    """Changes made here are audited as the operating-system user who ran the command."""
    return Principal(f"cli:{getpass.getuser()}", Role.ADMINISTRATOR, display_name="command line")


def _password_option(func: Any) -> Any:
    return click.option(
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help=f"At least {users.MIN_PASSWORD_LENGTH} characters (prompted for when not given).",
    )(func)


@click.group()
def user() -> None:
    """People's accounts: create, list, set passwords, unlock."""


@user.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(Role.ALL))
@click.option("--name", "display_name", required=True, help="The person's name as others see it.")
@click.option("--team", "teams", multiple=True, help="A team (BPMN lane), e.g. attendance. Repeatable.")
@click.option("--establishment", default=None, help="LAESTAB (7 digits): required for school users.")
@click.option("--job-title", default=None)
@click.option("--email", default=None)
@click.option("--flag", "flags", multiple=True, help="A restricted shared flag they may see (CLA, CP...).")
@_password_option
@json_option
@handle_errors
def user_create(
    username: str,
    role: str,
    display_name: str,
    teams: tuple[str, ...],
    establishment: str | None,
    job_title: str | None,
    email: str | None,
    flags: tuple[str, ...],
    password: str,
    as_json: bool,
) -> None:
    """Open an account for USERNAME."""
    created = users.create_user(
        get_context(),
        username,
        display_name,
        role,
        password,
        teams,
        establishment,
        job_title,
        flags,
        email=email,
        actor=_actor(),
    )
    emit(created.__dict__, as_json, f"created {created.role} '{created.username}'")


@user.command("list")
@json_option
@handle_errors
def user_list(as_json: bool) -> None:
    """Every account."""
    rows = [u.__dict__ for u in users.list_users(get_context())]
    emit(rows, as_json, lambda r: table(r, USER_COLUMNS))


@user.command("set-password")
@click.argument("username")
@_password_option
@handle_errors
def user_set_password(username: str, password: str) -> None:
    """Give USERNAME a new password (ends their sessions, lifts a lock-out)."""
    users.set_password(get_context(), username, password, actor=_actor())
    click.echo(f"password changed for '{username}'")


@user.command("unlock")
@click.argument("username")
@handle_errors
def user_unlock(username: str) -> None:
    """Lift a lock-out after too many wrong passwords."""
    users.unlock(get_context(), username, actor=_actor())
    click.echo(f"'{username}' may sign in again")


@click.group()
def token() -> None:
    """Personal API tokens for integrations."""


@token.command("create")
@click.argument("username")
@click.argument("name")
@json_option
@handle_errors
def token_create(username: str, name: str, as_json: bool) -> None:
    """A new token for USERNAME's integration NAME. The secret is printed once: store it now."""
    new = users.create_token(get_context(), username, name, actor=_actor())
    emit(
        new.__dict__,
        as_json,
        f"token {new.id} '{new.name}' for {new.username}:\n{new.secret}\n"
        "Store it now: it cannot be shown again. Send it as 'Authorization: Bearer <token>'.",
    )


@token.command("list")
@click.argument("username", required=False)
@json_option
@handle_errors
def token_list(username: str | None, as_json: bool) -> None:
    """Tokens (never their secrets), of USERNAME or of everyone."""
    rows = [t.__dict__ for t in users.list_tokens(get_context(), username)]
    emit(rows, as_json, lambda r: table(r, TOKEN_COLUMNS))


@token.command("revoke")
@click.argument("token_id", type=int)
@handle_errors
def token_revoke(token_id: int) -> None:
    """Stop token TOKEN_ID working."""
    users.revoke_token(get_context(), token_id, actor=_actor())
    click.echo(f"token {token_id} revoked")
