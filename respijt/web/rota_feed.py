"""The iCal feed of a provider's meldpunt shifts at a secret URL: GET /rota/ical/<token>.ics.

The token is the credential (calendar apps cannot send headers); only its SHA-256 digest is
stored. Create or renew it with POST /api/v1/rota/ical-token.
"""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, Flask, Response, current_app

from respijt import clock
from respijt.extensions import db
from respijt.meldpunt import ical as rota_ical

blp = Blueprint("rota_feed", __name__, url_prefix="/rota")


@blp.get("/ical/<token>.ics")
def ical(token: str) -> Response:
    provider = rota_ical.provider_for_feed(db.session, token)
    if provider is None:
        return Response("Onbekende of vervangen agendalink.", status=404, mimetype="text/plain")
    host = urlparse(current_app.config["RESPIJT_PUBLIC_URL"]).hostname or "respijt"
    body = rota_ical.ical_feed(db.session, provider, clock.now(), host)
    db.session.rollback()
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


ical._respijt_read_only = True  # type: ignore[attr-defined]


def register_rota_feed(app: Flask) -> None:
    app.register_blueprint(blp)
