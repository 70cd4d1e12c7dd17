"""The family's own steps through the signed link: choose one of the options shown (respijt
holds it at once, `care_requests.choices`) and cancel a confirmed stay with a reason
(`care_requests.stays`). Refusals come back as a Dutch message on /mijn-aanvraag."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from respijt import clock
from respijt.care_requests import choices, stays
from respijt.extensions import db
from respijt.models import CareRequest
from respijt.people.caller import Caller
from respijt.serving.input_limits import parse_id
from respijt.web import blp
from respijt.web.requester import act_on_linked_request


@blp.route("/mijn-aanvraag/kiezen", methods=["POST"])
def choose_option() -> ResponseReturnValue:
    unit_id = parse_id(request.form.get("unit_id", ""))
    if unit_id is None:
        flash("Kies een van de getoonde plekken.", "error")
        return redirect(url_for("web.my_request"), code=303)
    config = current_app.config

    def step(care_request: CareRequest, caller: Caller) -> None:
        choices.choose_option(
            db.session,
            care_request,
            unit_id=unit_id,
            caller=caller,
            now=clock.now(),
            today=clock.today(),
            hold_minutes=config["RESPIJT_OFFER_HOURS"] * 60,
            provider_confirm_hours=config["RESPIJT_PROVIDER_CONFIRM_HOURS"],
        )

    return act_on_linked_request(
        step, "We houden deze plek voor u vast. Neem het aanbod hieronder aan."
    )


@blp.route("/mijn-aanvraag/verblijf/<int:reservation_id>/annuleren", methods=["POST"])
def cancel_stay(reservation_id: int) -> ResponseReturnValue:
    reason = (request.form.get("reason") or "").strip()[:300]

    def step(care_request: CareRequest, caller: Caller) -> None:
        stays.cancel_stay(
            db.session,
            care_request,
            reservation_id,
            caller=caller,
            now=clock.now(),
            reason=reason,
            cancel_hours=int(current_app.config["RESPIJT_FAMILY_CANCEL_HOURS"]),
        )

    return act_on_linked_request(
        step, "Het logeren is geannuleerd. De logeerlocatie krijgt bericht."
    )
