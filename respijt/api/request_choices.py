"""The requester's own steps (the signed link, or the verwijzer): choose one of the options shown,
held at once (`care_requests.choices`), and cancel a confirmed stay with a reason until
`RESPIJT_FAMILY_CANCEL_HOURS` before the arrival day (`care_requests.stays`). Joins the
requests blueprint (docs/family.md)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue

from respijt import clock
from respijt.api.request_schemas import ChoiceInput, RequestSchema, request_dict
from respijt.api.requests import LINK_HEADER, LINK_SECURITY, blp, change_request, offer_step
from respijt.api.schemas import ReasonInput
from respijt.api.security import credentials_required
from respijt.care_requests import choices, stays
from respijt.extensions import db
from respijt.models import CareRequest
from respijt.people.caller import Caller


@blp.route("/requests/<reference>/choice", methods=["POST"])
@credentials_required("Authorization", LINK_HEADER)
@blp.arguments(ChoiceInput)
@blp.response(200, RequestSchema)
@blp.alt_response(403, description="De link uit de sms is nog nooit geopend")
@blp.alt_response(409, description="Er loopt al een aanbod, of het bed is net bezet")
@blp.doc(
    security=LINK_SECURITY,
    parameters=[{"in": "header", "name": LINK_HEADER, "schema": {"type": "string"}}],
)
def choose(data: dict[str, Any], reference: str) -> ResponseReturnValue:
    """Kiezen uit de getoonde plekken: respijt houdt de gekozen plek meteen vast (een aanbod
    dat de aanvrager daarna aanneemt). Met de link: alleen nadat de sms-link is geopend."""
    config = current_app.config

    def action(caller: Caller, care_request: CareRequest) -> dict[str, Any]:
        choices.choose_option(
            db.session,
            care_request,
            unit_id=data["unit_id"],
            arrival=data.get("arrival"),
            departure=data.get("departure"),
            caller=caller,
            now=clock.now(),
            today=clock.today(),
            hold_minutes=config["RESPIJT_OFFER_HOURS"] * 60,
            provider_confirm_hours=config["RESPIJT_PROVIDER_CONFIRM_HOURS"],
        )
        return request_dict(care_request)

    return change_request(reference, action)


@blp.route("/requests/<reference>/stays/<int:reservation_id>/cancel", methods=["POST"])
@credentials_required("Authorization", LINK_HEADER)
@blp.arguments(ReasonInput)
@blp.response(200, RequestSchema)
@blp.alt_response(409, description="Te kort voor de aankomst: bel de logeerlocatie")
@blp.doc(
    security=LINK_SECURITY,
    parameters=[{"in": "header", "name": LINK_HEADER, "schema": {"type": "string"}}],
)
def cancel_stay(data: dict[str, Any], reference: str, reservation_id: int) -> ResponseReturnValue:
    """Bevestigd verblijf annuleren (met reden), tot het ingestelde moment voor de aankomst;
    de aanbieder krijgt bericht."""
    return offer_step(
        reference,
        reservation_id,
        stays.cancel_stay,
        reason=data.get("reason"),
        cancel_hours=int(current_app.config["RESPIJT_FAMILY_CANCEL_HOURS"]),
    )
