"""Outbound messages for the people who keep an eye on them: coordinator and admin.

`GET /api/v1/messages?status=failed` lists what could not be sent, so a coordinator can phone
instead. A coordinator sees only the messages about their own regions (`OutboxMessage.region_id`:
the care request's region, the stay's location's, or the rota's); messages queued before regions
were recorded have none and only an admin lists them. Recipients are masked for everyone; only an
admin sees message bodies (they name a location and dates of someone's stay). A body never holds
the family's signed link: it is stored as "[link]" and made only when the message is sent.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import fields

from respijt import edge
from respijt.api import dutch, input_fields, paging
from respijt.api.paging import PageQuery
from respijt.api.schemas import StrictSchema
from respijt.api.security import client_source, requires
from respijt.extensions import db
from respijt.messages import outbox
from respijt.models import OutboxMessage
from respijt.models.outbox import OUTBOX_STATUSES
from respijt.people.caller import visible_regions
from respijt.privacy import access_log as privacy
from respijt.serving.callers import current_caller

blp = Blueprint("messages", __name__, description="Verstuurde en mislukte berichten (sms)")

ISO = "%Y-%m-%dT%H:%M:%SZ"


class MessagesQuery(PageQuery):
    status = fields.String(
        validate=dutch.OneOf(OUTBOX_STATUSES),
        metadata={"description": "alleen berichten met deze status, bv. `failed`"},
    )
    limit = input_fields.Integer(
        validate=dutch.Range(min=1, max=1000),
        metadata={
            "deprecated": True,
            "description": "Verouderd: gebruik pageSize. Hoogstens zoveel berichten in totaal.",
        },
    )


class MessageSchema(StrictSchema):
    """One outbound message as listed (the documented shape)."""

    id = input_fields.Id()
    template = fields.String()
    recipient = fields.String(metadata={"description": "gemaskeerd, bv. +316******78"})
    status = fields.String(validate=dutch.OneOf(OUTBOX_STATUSES))
    urgent = fields.Boolean()
    attempts = input_fields.Integer()
    next_attempt_at = fields.String(metadata={"description": "UTC, ISO 8601 met Z"})
    error_code = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True, metadata={"description": "waarom (Nederlands)"})
    provider_message_id = fields.String(allow_none=True)
    created_at = fields.String()
    sent_at = fields.String(allow_none=True)
    body = fields.String(
        metadata={
            "description": "alleen voor een beheerder; de link van de familie staat er als "
            "[link] (hij wordt pas bij het versturen gemaakt)"
        }
    )


def _iso(value: Any) -> str | None:
    return value.strftime(ISO) if value is not None else None


def message_dict(message: OutboxMessage, *, with_body: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": message.id,
        "template": message.template,
        "recipient": outbox.mask_number(message.recipient),
        "status": message.status,
        "urgent": message.urgent,
        "attempts": message.attempts,
        "next_attempt_at": _iso(message.next_attempt_at),
        "error_code": message.error_code,
        "last_error": message.last_error,
        "provider_message_id": message.provider_message_id,
        "created_at": _iso(message.created_at),
        "sent_at": _iso(message.sent_at),
    }
    if with_body:
        body["body"] = message.body
    return body


@blp.route("/messages", methods=["GET"])
@blp.arguments(MessagesQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200, paging.page_schema(MessageSchema))
@blp.doc(security=[{"bearer": []}])
@requires("coordinator", "admin")
def list_messages(
    status: str | None = None, limit: int | None = None, **args: Any
) -> ResponseReturnValue:
    """Berichten uit de outbox, nieuwste eerst (`status=failed`: wat niet kon worden verstuurd),
    per pagina. Nummers gemaskeerd; de tekst alleen voor een beheerder."""
    caller = current_caller()
    with_body = caller.role == "admin"

    def work() -> dict[str, Any]:
        upto = args["page"] * args["page_size"] + 1
        if limit is not None:
            upto = min(upto, limit)
        messages, has_next = paging.slice_page(
            outbox.list_messages(
                db.session, status=status, limit=upto, regions=visible_regions(caller)
            ),
            args,
        )
        found = paging.page_body(
            args, [message_dict(m, with_body=with_body) for m in messages], has_next
        )
        # Recipients (masked) and, for an admin, texts: personal data, so the access is logged.
        privacy.log_access(
            db.session,
            action="message.list",
            caller=caller,
            client_reference="sms-outbox",
            outcome="success",
            purpose="berichtenbeheer",
            source=client_source(),
        )
        return found

    return jsonify(edge.transaction(work))
