"""What a reservation row must hold: the stay rules it is checked against, and its history rows."""

from __future__ import annotations

from datetime import date, datetime

from respijt.codes import WEEKDAYS_NL
from respijt.database import DbSession
from respijt.errors import (
    InvalidInput,
)
from respijt.models import Reservation, ReservationEvent, Unit
from respijt.reservations.past_months import note_changed_nights


def validate_stay(unit: Unit, arrival: date, departure: date, today: date) -> None:
    problems: list[dict[str, str]] = []
    if departure <= arrival:
        problems.append(
            {"name": "departure", "code": "range", "reason": "Vertrek moet na aankomst liggen."}
        )
    if arrival < today:
        problems.append(
            {"name": "arrival", "code": "past", "reason": "Aankomst ligt in het verleden."}
        )
    if problems:
        raise InvalidInput("De gevraagde periode is ongeldig.", problems)
    nights = (departure - arrival).days
    if not unit.min_nights <= nights <= unit.max_nights:
        raise InvalidInput(
            f"Deze eenheid neemt verblijven van {unit.min_nights} tot {unit.max_nights} nachten; "
            f"gevraagd: {nights}.",
            [{"name": "departure", "code": "stay_length", "reason": "Verblijfsduur past niet."}],
        )
    if str(arrival.isoweekday()) not in unit.arrival_weekdays:
        days = ", ".join(WEEKDAYS_NL[int(d) - 1] for d in unit.arrival_weekdays)
        raise InvalidInput(
            f"Aankomst is hier mogelijk op: {days}.",
            [
                {
                    "name": "arrival",
                    "code": "weekday",
                    "reason": "Geen aankomstdag van deze eenheid.",
                }
            ],
        )


def _append_event(
    session: DbSession,
    reservation: Reservation,
    from_status: str | None,
    to_status: str,
    actor: str,
    now: datetime,
    reason: str | None = None,
    detail: str | None = None,
) -> None:
    """The change's history row; a change on nights of a month already over is counted too."""
    note_changed_nights(session, reservation.arrival, reservation.departure, now)
    session.add(
        ReservationEvent(
            reservation_id=reservation.id,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            reason=reason,
            detail=detail,
            at=now,
        )
    )
