"""A reservation's status changes after the hold: confirm, decline, cancel, check in and out,
no-show and new dates.

Every change is one conditional UPDATE on (id, expected status[, not expired]), so two
callers racing for one step cannot both pass. Functions flush, never commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import update

from respijt import formatting
from respijt.database import DbSession
from respijt.errors import (
    HoldExpired,
    InvalidInput,
    InvalidTransition,
)
from respijt.models import Reservation
from respijt.people.caller import Caller
from respijt.reservations import notices
from respijt.reservations.changes import announce
from respijt.reservations.expiry import (
    expire_overdue_on_nights,
    hold_expiry,
)
from respijt.reservations.nights import release_nights, take_nights
from respijt.reservations.past_months import note_changed_nights
from respijt.reservations.records import _append_event, validate_stay
from respijt.reservations.workflow import (
    ACTIVE_RESERVATION_STATUSES,
    AWAITING_PROVIDER,
    CANCELLED,
    CHECKED_IN,
    COMPLETED,
    CONFIRMED,
    DECLINED,
    EXPIRED,
    EXPIRING_RESERVATION_STATUSES,
    HELD,
    NO_SHOW,
    RESERVATION_LABELS,
    RESERVATION_TRANSITIONS,
    check_transition,
)


def _conditional_status_update(
    session: DbSession,
    reservation: Reservation,
    *,
    expected: str,
    target: str,
    now: datetime,
    require_unexpired: bool,
    values: dict[str, Any] | None = None,
) -> bool:
    conditions = [Reservation.id == reservation.id, Reservation.status == expected]
    if require_unexpired:
        conditions.append(Reservation.expires_at > now)
    result = session.execute(
        update(Reservation)
        .where(*conditions)
        .values(status=target, updated_at=now, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    session.refresh(reservation)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _refuse(reservation: Reservation, target: str, now: datetime) -> None:
    """Explain why a conditional status update matched nothing."""
    if (
        reservation.status in EXPIRING_RESERVATION_STATUSES
        and reservation.expires_at is not None
        and reservation.expires_at <= now
    ) or reservation.status == EXPIRED:
        raise HoldExpired(
            "Deze reservering is verlopen; de bedden zijn vrijgegeven. Plaats zo nodig een nieuwe."
        )
    raise InvalidTransition(
        f"De reservering heeft status '{RESERVATION_LABELS.get(reservation.status)}' en kan niet "
        f"naar '{RESERVATION_LABELS.get(target, target)}'."
    )


def confirm_by_requester(
    session: DbSession,
    reservation: Reservation,
    *,
    caller: Caller,
    now: datetime,
    provider_confirm_hours: float,
) -> Reservation:
    """held → confirmed, or → awaiting_provider for units that need the provider's yes."""
    needs_provider = reservation.unit.requires_provider_confirmation
    target = AWAITING_PROVIDER if needs_provider else CONFIRMED
    if reservation.status != HELD:
        _refuse(reservation, target, now)
    check_transition(HELD, target, "requester")
    values: dict[str, Any] = {
        "expires_at": hold_expiry(now, provider_confirm_hours * 60, reservation.arrival)
        if needs_provider
        else None
    }
    if not _conditional_status_update(
        session,
        reservation,
        expected=HELD,
        target=target,
        now=now,
        require_unexpired=True,
        values=values,
    ):
        _refuse(reservation, target, now)
    _append_event(session, reservation, HELD, target, caller.key, now)
    announce(session, reservation, previous=HELD, now=now)
    return reservation


def confirm_by_provider(
    session: DbSession, reservation: Reservation, *, caller: Caller, now: datetime
) -> Reservation:
    check_transition(AWAITING_PROVIDER, CONFIRMED, "provider")
    if not _conditional_status_update(
        session,
        reservation,
        expected=AWAITING_PROVIDER,
        target=CONFIRMED,
        now=now,
        require_unexpired=True,
        values={"expires_at": None},
    ):
        _refuse(reservation, CONFIRMED, now)
    _append_event(session, reservation, AWAITING_PROVIDER, CONFIRMED, caller.key, now)
    announce(session, reservation, previous=AWAITING_PROVIDER, now=now)
    return reservation


def _end(
    session: DbSession,
    reservation: Reservation,
    *,
    target: str,
    party: str,
    caller: Caller,
    now: datetime,
    reason: str | None = None,
    values: dict[str, Any] | None = None,
) -> Reservation:
    """Move an active reservation to an inactive status and release its nights, once. The
    statuses it may come from are those the state table leads from to `target`."""
    previous = reservation.status
    # The nights held before this step (check-out may shorten the stay in the same UPDATE).
    held_from, held_to = reservation.arrival, reservation.departure
    if (previous, target) not in RESERVATION_TRANSITIONS:
        _refuse(reservation, target, now)
    check_transition(previous, target, party)
    if not _conditional_status_update(
        session,
        reservation,
        expected=previous,
        target=target,
        now=now,
        require_unexpired=previous in EXPIRING_RESERVATION_STATUSES,
        values=values,
    ):
        _refuse(reservation, target, now)
    release_nights(session, reservation.unit_id, held_from, held_to)
    _append_event(session, reservation, previous, target, caller.key, now, reason=reason)
    announce(session, reservation, previous=previous, now=now)
    return reservation


def decline_by_provider(
    session: DbSession,
    reservation: Reservation,
    *,
    caller: Caller,
    now: datetime,
    reason: str | None,
) -> Reservation:
    return _end(
        session,
        reservation,
        target=DECLINED,
        party="provider",
        caller=caller,
        now=now,
        reason=reason,
    )


def cancel(
    session: DbSession,
    reservation: Reservation,
    *,
    party: str,
    caller: Caller,
    now: datetime,
    reason: str | None,
) -> Reservation:
    if reservation.status == CONFIRMED and not (reason and reason.strip()):
        raise InvalidInput(
            "Geef een reden voor het annuleren van een bevestigde reservering.",
            [{"name": "reason", "code": "required", "reason": "Dit veld is verplicht."}],
        )
    return _end(
        session, reservation, target=CANCELLED, party=party, caller=caller, now=now, reason=reason
    )


def check_in(
    session: DbSession, reservation: Reservation, *, caller: Caller, now: datetime, today: date
) -> Reservation:
    if reservation.status == CONFIRMED and (problem := _check_in_day(reservation, today)):
        raise InvalidInput(problem)
    if reservation.status != CONFIRMED:
        _refuse(reservation, CHECKED_IN, now)
    check_transition(CONFIRMED, CHECKED_IN, "provider")
    if not _conditional_status_update(
        session,
        reservation,
        expected=CONFIRMED,
        target=CHECKED_IN,
        now=now,
        require_unexpired=False,
    ):
        _refuse(reservation, CHECKED_IN, now)
    _append_event(session, reservation, CONFIRMED, CHECKED_IN, caller.key, now)
    announce(session, reservation, previous=CONFIRMED, now=now)
    return reservation


def check_out(
    session: DbSession, reservation: Reservation, *, caller: Caller, now: datetime, today: date
) -> Reservation:
    """checked_in → completed. An early departure shortens the stay to the nights used."""
    values: dict[str, Any] = {}
    if reservation.status == CHECKED_IN and reservation.arrival < today < reservation.departure:
        values["departure"] = today
    return _end(
        session,
        reservation,
        target=COMPLETED,
        party="provider",
        caller=caller,
        now=now,
        values=values,
    )


def mark_no_show(
    session: DbSession, reservation: Reservation, *, caller: Caller, now: datetime, today: date
) -> Reservation:
    if reservation.status == CONFIRMED and (problem := _no_show_day(reservation, today)):
        raise InvalidInput(problem)
    return _end(session, reservation, target=NO_SHOW, party="provider", caller=caller, now=now)


# --- attendance: one set of conditions for the steps and the buttons ------------------------


def _check_in_day(reservation: Reservation, today: date) -> str | None:
    if reservation.arrival <= today < reservation.departure:
        return None
    return (
        "Aankomst melden kan vanaf de aankomstdag "
        f"({formatting.date_long(reservation.arrival)}) tot het vertrek."
    )


def _no_show_day(reservation: Reservation, today: date) -> str | None:
    if today < reservation.arrival:
        return "Niet verschenen kan pas vanaf de aankomstdag worden gemeld."
    return None


def _any_day(reservation: Reservation, today: date) -> str | None:
    return None  # check-out: any day of a checked-in stay (an early one shortens it)


# step → (the status it starts from, why not on this day); `check_in`, `check_out` and
# `mark_no_show` raise these reasons, `attendance_steps` offers what none refuses.
ATTENDANCE: dict[str, tuple[str, Callable[[Reservation, date], str | None]]] = {
    "check_in": (CONFIRMED, _check_in_day),
    "no_show": (CONFIRMED, _no_show_day),
    "check_out": (CHECKED_IN, _any_day),
}


def attendance_refusal(step: str, reservation: Reservation, today: date) -> str | None:
    """Why the attendance `step` ("check_in", "check_out", "no_show") cannot be taken on this
    stay today, in Dutch; None when it can."""
    start, day_rule = ATTENDANCE[step]
    if reservation.status != start:
        return "Dit past niet bij de status van de reservering."
    return day_rule(reservation, today)


def attendance_steps(reservation: Reservation, today: date) -> tuple[str, ...]:
    """The attendance steps this stay allows today, by the same conditions as `check_in`,
    `check_out` and `mark_no_show`: the buttons a provider is shown."""
    return tuple(
        step for step in ATTENDANCE if attendance_refusal(step, reservation, today) is None
    )


def change_dates(
    session: DbSession,
    reservation: Reservation,
    *,
    arrival: date,
    departure: date,
    caller: Caller,
    now: datetime,
    today: date,
    reason: str | None = None,
) -> Reservation:
    """Move, extend or shorten a stay: new nights are taken before old ones are released.

    All or nothing: if a new night is full, NoBedFree is raised and the edge rolls back, so the
    original nights stay reserved.
    """
    if reservation.status not in ACTIVE_RESERVATION_STATUSES:
        raise InvalidTransition("Alleen een lopende reservering kan van datum veranderen.")
    if (
        reservation.status in (HELD, AWAITING_PROVIDER)
        and reservation.expires_at is not None
        and reservation.expires_at <= now
    ):
        _refuse(reservation, reservation.status, now)
    if reservation.status == CHECKED_IN and arrival != reservation.arrival:
        raise InvalidInput("Na aankomst kan alleen het vertrek nog veranderen.")
    if reservation.status == CHECKED_IN:
        if departure <= max(today, arrival):
            raise InvalidInput("Het nieuwe vertrek moet na vandaag liggen.")
    else:
        validate_stay(reservation.unit, arrival, departure, today)
    old_arrival, old_departure = reservation.arrival, reservation.departure
    if (arrival, departure) == (old_arrival, old_departure):
        return reservation
    expire_overdue_on_nights(
        session, unit_id=reservation.unit_id, night_from=arrival, night_to=departure, now=now
    )
    # Nights only in the new range: before the overlap, and after it.
    overlap_from, overlap_to = max(arrival, old_arrival), min(departure, old_departure)
    if overlap_from >= overlap_to:
        take_nights(session, reservation.unit_id, arrival, departure)
        release_nights(session, reservation.unit_id, old_arrival, old_departure)
    else:
        take_nights(session, reservation.unit_id, arrival, overlap_from)
        take_nights(session, reservation.unit_id, overlap_to, departure)
        release_nights(session, reservation.unit_id, old_arrival, overlap_from)
        release_nights(session, reservation.unit_id, overlap_to, old_departure)
    values: dict[str, Any] = {"arrival": arrival, "departure": departure, "updated_at": now}
    if reservation.status in (HELD, AWAITING_PROVIDER) and reservation.expires_at is not None:
        values["expires_at"] = min(reservation.expires_at, hold_expiry(now, 10**9, arrival))
    result = session.execute(
        update(Reservation)
        .where(Reservation.id == reservation.id, Reservation.status == reservation.status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise InvalidTransition("De reservering is intussen gewijzigd; probeer het opnieuw.")
    session.refresh(reservation)
    # The nights it left (the new ones are noted with the history row).
    note_changed_nights(session, old_arrival, old_departure, now)
    _append_event(
        session,
        reservation,
        reservation.status,
        reservation.status,
        caller.key,
        now,
        reason=reason,
        detail=f"datum: {old_arrival.isoformat()}–{old_departure.isoformat()} → "
        f"{arrival.isoformat()}–{departure.isoformat()}",
    )
    notices.reservation_dates_changed(session, reservation, now=now)
    return reservation
