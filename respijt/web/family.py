"""What the family's page (/mijn-aanvraag) shows: the fitting options in the same words as the
meldpunt's page (`templates/_options.html`), the offers, and a placed stay with where to go,
when, what to bring and whom to call. Read in the page's transaction; the options shown are
recorded by `matches_for`, as on every page that shows them."""

from __future__ import annotations

from typing import Any

from flask import current_app

from respijt import clock
from respijt.care_requests import offers as request_offers
from respijt.care_requests import stays, summary
from respijt.care_requests.option_facts import option_facts
from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES
from respijt.extensions import db
from respijt.models import CareRequest
from respijt.people.caller import Caller
from respijt.web.public import phone_display


def family_page_context(found: CareRequest, caller: Caller) -> dict[str, Any]:
    config = current_app.config
    now = clock.now()
    offers = request_offers.offers_of(db.session, found)
    running = request_offers.active_offer(db.session, found.id)
    matches = []
    # Options to choose from while nothing is held or placed (one offer at a time); a series
    # is placed stay by stay by the meldpunt.
    if found.status in OPEN_REQUEST_STATUSES and running is None and not found.is_series:
        matches = request_offers.matches_for(
            db.session,
            found,
            caller=caller,
            now=now,
            today=clock.today(),
            stale_after_hours=int(config["RESPIJT_STALE_AFTER_HOURS"]),
            limit=request_offers.OPTIONS_SHOWN,
        )
    placed = stays.placed_stays(
        db.session, found, now=now, cancel_hours=int(config["RESPIJT_FAMILY_CANCEL_HOURS"])
    )
    return {
        "care_request": found,
        "offers": offers,
        "region": found.municipality.region,
        "matches": matches,
        "facts": option_facts(db.session, found, matches),
        "fit": summary.fit_words(found),
        "may_choose": caller.by_sms_link,
        "placed": placed,
        "provider_phones": {s.reservation.id: phone_display(s.phone) for s in placed},
        "what_to_bring": stays.WHAT_TO_BRING,
    }
