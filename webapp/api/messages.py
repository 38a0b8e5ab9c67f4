"""/api/v1/messages: events from other systems (a payment received, an attendance import) for cases.

Who may send: administrators, and API tokens whose account is in the ``integrations`` team (a service
account per system: ``educase user create payments-feed ... --team integrations`` and a token for it).
Such an account sees no casework unless given other teams; a person in that team signed in through the
browser cannot send messages: only the token can.
"""

from __future__ import annotations

from flask import Response

from engine import access
from engine.access import Principal
from engine.services import messages

from ..security import audit_event, current_principal, engine_context
from . import bp
from .http import by_token, load_body, respond
from .registry import operation
from .schemas import MessageResultSchema, MessageSchema

INTEGRATION_TEAM = "integrations"


def may_send_messages(principal: Principal, with_token: bool) -> bool:
    """Administrators; and integrations' tokens (never school accounts)."""
    return principal.is_admin or (
        with_token and not principal.is_school and INTEGRATION_TEAM in principal.teams
    )


@operation(
    bp,
    "POST",
    "/v1/messages",
    summary="Send a message to the cases waiting for it",
    tag="messages",
    body=MessageSchema,
    response=MessageResultSchema,
    errors=(400, 401, 403, 422),
    description="Administrators, and API tokens of accounts in the `integrations` team. A message "
    "is delivered to every waiting case whose correlation values match, or else starts the processes "
    "it starts; one that reaches nobody is kept as undelivered and answered 400 "
    "`message_not_delivered` (with `message_id`).",
)
def send_message() -> Response:
    principal = current_principal()
    access.require_role(may_send_messages(principal, by_token()), "send messages to cases")
    args = load_body(MessageSchema)
    result = messages.send_message(
        engine_context(),
        args["name"],
        correlation=args["correlation"],
        payload=args["payload"],
        actor=principal.username,
    )
    audit_event(
        "send_message",
        "message",
        result.message_id,
        {"name": result.name, "delivered_to": result.delivered_to, "started": result.started},
    )
    return respond(MessageResultSchema().dump(result.as_dict()))
