"""A care request in words for the meldpunt's page: what the client needs, why an option
fits, and the history of the offers made (when, which unit, who declined and why).

Only reads; the page renders what comes back and knows no code lists itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from respijt.codes import (
    CARE_LEVELS,
    LANGUAGES,
    REQUEST_FUNDING,
    REQUEST_REASONS,
    TARGET_GROUPS,
    URGENCIES,
)
from respijt.database import DbSession
from respijt.models import CareRequest, Location, Reservation, Unit
from respijt.reservations.workflow import CHECKED_IN, CONFIRMED, DECLINED, RESERVATION_LABELS

# Short words for why an option fits: the needs every option shown meets (hard filters).
_TARGET_GROUP_WORDS = {
    "ouderen": "ouderen",
    "dementie": "dementie",
    "lichamelijk": "lichamelijke beperking",
    "verstandelijk": "verstandelijke beperking",
    "nah": "niet-aangeboren hersenletsel",
    "ggz": "ggz",
    "jongvolwassenen": "jongvolwassenen",
}
_CARE_LEVEL_WORDS = {
    "basic": None,
    "extra_care": "extra zorg",
    "supervision_24h": "24 uur toezicht",
}


def _days(days: int) -> str:
    return "1 dag" if days == 1 else f"{days} dagen"


def needs_in_words(care_request: CareRequest) -> list[tuple[str, str]]:
    """What the client needs, as (label, value) pairs in Dutch, in the order asked on the phone."""
    language = care_request.language or "nl"
    flexibility = care_request.flexibility_days
    return [
        ("Doelgroep", TARGET_GROUPS.get(care_request.target_group, care_request.target_group)),
        ("Zorgzwaarte", CARE_LEVELS.get(care_request.care_level, care_request.care_level)),
        ("Rolstoel", "Ja, rolstoeltoegankelijk nodig" if care_request.wheelchair else "Nee"),
        ("Taal", LANGUAGES.get(language, language)),
        ("Reden", REQUEST_REASONS.get(care_request.reason, care_request.reason)),
        ("Financiering", REQUEST_FUNDING.get(care_request.funding, care_request.funding)),
        (
            "Flexibel",
            f"{_days(flexibility)} eerder of later kan ook" if flexibility else "Nee, vaste data",
        ),
        ("Urgentie", URGENCIES.get(care_request.urgency, care_request.urgency)),
    ]


def fit_words(care_request: CareRequest) -> str:
    """Why every option shown fits the client: "dementie, rolstoel, 24 uur toezicht"."""
    words = [_TARGET_GROUP_WORDS.get(care_request.target_group, care_request.target_group)]
    if care_request.wheelchair:
        words.append("rolstoel")
    level = _CARE_LEVEL_WORDS.get(care_request.care_level)
    if level:
        words.append(level)
    return ", ".join(words)


@dataclass
class HistoryLine:
    at: datetime
    unit_name: str
    location_name: str
    provider_name: str
    status: str
    by: str | None
    reason: str | None


def offer_history(session: DbSession, care_request: CareRequest) -> list[HistoryLine]:
    """Every step of every offer made for this request, oldest first."""
    reservations = session.scalars(
        select(Reservation)
        .where(Reservation.request_id == care_request.id)
        .options(
            selectinload(Reservation.events),
            selectinload(Reservation.unit)
            .selectinload(Unit.location)
            .selectinload(Location.provider),
        )
    ).all()
    lines = []
    for reservation in reservations:
        location = reservation.unit.location
        for event in reservation.events:
            lines.append(
                HistoryLine(
                    at=event.at,
                    unit_name=reservation.unit.name,
                    location_name=location.name,
                    provider_name=location.provider.name,
                    status=RESERVATION_LABELS.get(event.to_status, event.to_status),
                    by=location.provider.name if event.to_status == DECLINED else None,
                    reason=event.reason,
                )
            )
    lines.sort(key=lambda line: line.at)
    return lines


def placements(session: DbSession, care_request: CareRequest) -> list[Reservation]:
    """The confirmed stays of a request (one, or several for a series): where and when the
    client goes."""
    return list(
        session.scalars(
            select(Reservation)
            .where(
                Reservation.request_id == care_request.id,
                Reservation.status.in_((CONFIRMED, CHECKED_IN)),
            )
            .order_by(Reservation.arrival, Reservation.id)
        )
    )
