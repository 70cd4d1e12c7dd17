"""Declines and expiries reach someone: the meldpunt on duty hears when an offer ends.

When a provider declines an offer, or an offer or hold expires, on a request that is urgent or
"soon" by its own urgency, or whose arrival is within `RESPIJT_ALERT_SOON_DAYS` days (local
date), the request goes back to the top of the meldpunt's console with the reason ("Afgewezen
door <aanbieder>: …"), and one alert goes out by the rule of `meldpunt.alerts` (duty mobile,
backup, coordinator, e-mail, or a visible failure). The SMS holds the reference, the arrival
date and a link to the request page: never the client's name, needs or the provider's
free-text reason.

The flag (`attention_at`, `attention_reason`) clears when someone acts on the request: any
status change other than back to matching (`status.set_status`), such as a new hold.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from respijt import clock
from respijt.database import DbSession
from respijt.meldpunt import alerts as meldpunt_alerts
from respijt.models import CareRequest, ReservationEvent
from respijt.reservations.workflow import AWAITING_PROVIDER, DECLINED, EXPIRED

DEFAULT_SOON_DAYS = 3
# The requester's own urgency that makes every ended offer pressing ("Spoed", "Binnenkort").
PRESSING_URGENCIES = ("urgent", "soon")
DEFAULT_PUBLIC_URL = "http://localhost:5000"

# Set once by the app factory: (RESPIJT_ALERT_SOON_DAYS, RESPIJT_PUBLIC_URL), or None outside
# an app. The reservation steps reach this through `changes.announce`, without a config.
_settings_source: Callable[[], tuple[int, str] | None] | None = None


def configure(source: Callable[[], tuple[int, str] | None]) -> None:
    global _settings_source
    _settings_source = source


def _settings() -> tuple[int, str]:
    found = _settings_source() if _settings_source is not None else None
    return found if found is not None else (DEFAULT_SOON_DAYS, DEFAULT_PUBLIC_URL)


def is_pressing(care_request: CareRequest, now: datetime, soon_days: int | None = None) -> bool:
    """Urgent or "Binnenkort" (`soon`) by the request itself, or the arrival is at most
    `soon_days` days away (local date)."""
    days = _settings()[0] if soon_days is None else soon_days
    today = now.astimezone(clock.LOCAL_TZ).date()
    return care_request.urgency in PRESSING_URGENCIES or (care_request.arrival - today).days <= days


def request_page(reference: str) -> str:
    """The meldpunt's page of the request (sign-in needed): fine in an SMS."""
    return f"{_settings()[1].rstrip('/')}/meldpunt/aanvragen/{reference}"


def _decline_reason(session: DbSession, reservation: Any) -> str | None:
    return session.scalar(
        select(ReservationEvent.reason)
        .where(
            ReservationEvent.reservation_id == reservation.id,
            ReservationEvent.to_status == DECLINED,
        )
        .order_by(ReservationEvent.id.desc())
        .limit(1)
    )


def ended_in_words(session: DbSession, reservation: Any, previous: str | None) -> str:
    """ "Afgewezen door Zorg Delft: Geen personeel …", or why the offer expired."""
    provider = reservation.unit.location.provider.name
    if reservation.status == DECLINED:
        reason = " ".join((_decline_reason(session, reservation) or "").split())
        return f"Afgewezen door {provider}: {reason}" if reason else f"Afgewezen door {provider}"
    if previous == AWAITING_PROVIDER:
        return f"Aanbod verlopen: {provider} heeft niet op tijd bevestigd"
    return f"Aanbod bij {provider} verlopen: de aanvrager heeft niet op tijd gereageerd"


def offer_ended(
    session: DbSession,
    care_request: CareRequest,
    reservation: Any,
    *,
    previous: str | None,
    now: datetime,
) -> bool:
    """A declined or expired offer left `care_request` without a bed. Flag it for the
    meldpunt and alert the one on duty when it is pressing; True when it was."""
    if reservation.status not in (DECLINED, EXPIRED) or care_request.region_id is None:
        return False
    if not is_pressing(care_request, now):
        return False
    words = ended_in_words(session, reservation, previous)
    care_request.attention_at = now
    care_request.attention_reason = f"{words}. Zoek een andere plek."[:200]
    session.flush()
    meldpunt_alerts.send_alert(
        session,
        region_id=care_request.region_id,
        template="request_offer_ended",
        context={
            "reference": care_request.reference,
            "arrival": care_request.arrival.isoformat(),
            "declined": reservation.status == DECLINED,
            "page": request_page(care_request.reference),
        },
        key=f"request:{care_request.id}:ended:{reservation.id}",
        now=now,
    )
    return True
