"""What the meldpunt's and the verwijzer's request pages share: holding a fitting place from
the list of options (`care_requests.offers.offer_bed`), with the hold times of the settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app
from wtforms import StringField

from respijt import clock
from respijt.care_requests import offers as request_offers
from respijt.extensions import db
from respijt.models import CareRequest, Reservation
from respijt.people.caller import Caller
from respijt.reservations import workflow
from respijt.web.forms import ActionForm, required


class HoldForm(ActionForm):
    """The hidden fields of an option's "Vasthouden" button."""

    unit_id = StringField(validators=[required()])
    arrival = StringField(validators=[required()])
    departure = StringField(validators=[required()])


def hold_settings() -> dict[str, Any]:
    """How long a place is held, and how long a provider has to confirm (the settings)."""
    config = current_app.config
    return {
        "hold_minutes": config["RESPIJT_OFFER_HOURS"] * 60,
        "provider_confirm_hours": config["RESPIJT_PROVIDER_CONFIRM_HOURS"],
    }


def hold_place(
    found: CareRequest,
    caller: Caller,
    *,
    unit_id: int,
    arrival: date,
    departure: date,
    now: datetime,
) -> Reservation:
    """Hold the chosen unit for the request, if the caller's role may hold a place."""
    workflow.ensure_may(caller.role, workflow.RESERVATION_HOLD)
    reservation, _ = request_offers.offer_bed(
        db.session,
        found,
        unit_id=unit_id,
        arrival=arrival,
        departure=departure,
        caller=caller,
        now=now,
        today=clock.today(),
        **hold_settings(),
    )
    return reservation
