"""Holds and a reservation's status changes over the night inventory.

- Nights are taken and given back through the night guard (`nights.py`): `reserved` never
  passes capacity, and a shortfall raises (the edge rolls back).
- Every status change is one conditional UPDATE on (id, expected status[, not expired]).
- Writes that need nights first expire the overdue holds on them (`expiry.py`, invariant 3).
- `check.py` compares every night's `reserved` with the active reservations.

Functions flush, never commit. Time comes in as arguments (`now`, `today`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import exists, inspect, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from respijt import clock, database
from respijt.care_requests.status import follow_reservation
from respijt.codes import WEEKDAYS_NL
from respijt.database import DbSession
from respijt.errors import (
    HoldExpired,
    IdempotencyConflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from respijt.models import Reservation, ReservationEvent, Unit
from respijt.people.caller import Caller
from respijt.reservations import fast_hold as booking_sql
from respijt.reservations import notices as rules
from respijt.reservations.expiry import (
    _expire_overdue_found,
    _overdue_on_nights,
    expire_overdue_on_nights,
)
from respijt.reservations.nights import _give_back, _refuse_full, release_nights, take_nights
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
    check_transition,
)

T = TypeVar("T")

SHORT_CODE_ALPHABET = "ACDEFHJKMNPQRTUVWXY3479"  # no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G

# --- holds ----------------------------------------------------------------------------------


def fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def hold_expiry(now: datetime, minutes: float, arrival: date) -> datetime:
    """now + lifetime, but never later than the start of the arrival day (local time).

    For an arrival today the start has passed; the cap is then the end of the arrival day.
    """
    cap = clock.local_midnight_utc(arrival)
    if cap <= now:
        cap = clock.local_midnight_utc(arrival + timedelta(days=1))
    return min(now + timedelta(minutes=minutes), cap)


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


_SHORT_CODE_LENGTH = 6


def _new_short_code() -> str:
    """Six characters drawn uniformly from the alphabet, from one random number (six calls
    of secrets.choice were a tenth of a hold's Python)."""
    number = secrets.randbelow(len(SHORT_CODE_ALPHABET) ** _SHORT_CODE_LENGTH)
    characters = []
    for _ in range(_SHORT_CODE_LENGTH):
        number, index = divmod(number, len(SHORT_CODE_ALPHABET))
        characters.append(SHORT_CODE_ALPHABET[index])
    return "".join(characters)


@database.also_retry
def is_short_code_collision(exc: BaseException) -> bool:
    """A new reservation drew a short code already in use (23^6 codes, so with tens of
    thousands of reservations it does happen): redoing the transaction draws a new one."""
    return database.is_unique_violation(exc, "uq_reservation_short_code", "reservation.short_code")


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


def find_by_idempotency_key(session: DbSession, caller: Caller, key: str) -> Reservation | None:
    return session.scalar(
        select(Reservation).where(
            Reservation.caller == caller.key, Reservation.idempotency_key == key
        )
    )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    from_status: str | None
    to_status: str
    detail: str | None
    actor: str
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class HoldView:
    """A reservation as a read-only value, with the attribute names of `Reservation` that the
    API answers with. `place_simple_hold` returns one instead of an ORM object: attaching the
    new reservation, its history row and its unit to the session (and expiring them at
    commit) cost as much Python as the hold's own SQL."""

    id: int
    unit_id: int
    arrival: date
    departure: date
    status: str
    expires_at: datetime | None
    short_code: str
    expected_arrival_time: str | None
    request_id: int | None
    caller: str
    created_at: datetime
    requires_provider_confirmation: bool
    history: tuple[HistoryEntry, ...]

    @property
    def nights(self) -> int:
        return (self.departure - self.arrival).days

    @classmethod
    def of(cls, reservation: Reservation) -> HoldView:
        return cls(
            id=reservation.id,
            unit_id=reservation.unit_id,
            arrival=reservation.arrival,
            departure=reservation.departure,
            status=reservation.status,
            expires_at=reservation.expires_at,
            short_code=reservation.short_code,
            expected_arrival_time=reservation.expected_arrival_time,
            request_id=reservation.request_id,
            caller=reservation.caller,
            created_at=reservation.created_at,
            requires_provider_confirmation=reservation.requires_provider_confirmation,
            history=tuple(
                HistoryEntry(e.from_status, e.to_status, e.detail, e.actor, e.reason, e.at)
                for e in reservation.events
            ),
        )


def _replayed(
    session: DbSession, caller: Caller, key: str | None, body_fingerprint: str | None
) -> Reservation | None:
    """The reservation an earlier request with this Idempotency-Key made, if any."""
    if not key:
        return None
    existing = find_by_idempotency_key(session, caller, key)
    if (
        existing is not None
        and body_fingerprint
        and existing.request_fingerprint != body_fingerprint
    ):
        raise IdempotencyConflict("Deze Idempotency-Key is al gebruikt voor een ander verzoek.")
    return existing


def _hold_values(
    *,
    unit_id: int,
    arrival: date,
    departure: date,
    caller: Caller,
    now: datetime,
    hold_minutes: float,
    idempotency_key: str | None,
    body_fingerprint: str | None,
    expected_arrival_time: str | None,
    request_id: int | None,
) -> dict[str, Any]:
    """The new reservation's columns."""
    return {
        "unit_id": unit_id,
        "arrival": arrival,
        "departure": departure,
        "status": HELD,
        "expires_at": hold_expiry(now, hold_minutes, arrival),
        "short_code": _new_short_code(),
        "expected_arrival_time": expected_arrival_time,
        "caller": caller.key,
        "caller_role": caller.role,
        "caller_provider_id": caller.provider_id,
        "idempotency_key": idempotency_key,
        "request_fingerprint": body_fingerprint,
        "request_id": request_id,
        "created_at": now,
        "updated_at": now,
    }


def place_hold(
    session: DbSession,
    *,
    unit_id: int,
    arrival: date,
    departure: date,
    caller: Caller,
    now: datetime,
    today: date,
    hold_minutes: float,
    provider_confirm_hours: float,
    idempotency_key: str | None = None,
    body_fingerprint: str | None = None,
    confirm: bool = False,
    expected_arrival_time: str | None = None,
    request_id: int | None = None,
) -> tuple[Reservation, bool]:
    """Hold one bed for every night of arrival..departure. Returns (reservation, replayed).

    With `confirm`, the requester's confirmation follows at once in the same transaction.
    A hold that needs neither (no care request, no confirmation) is `place_simple_hold`.
    """
    existing = _replayed(session, caller, idempotency_key, body_fingerprint)
    if existing is not None:
        return existing, True
    values = _hold_values(
        unit_id=unit_id,
        arrival=arrival,
        departure=departure,
        caller=caller,
        now=now,
        hold_minutes=hold_minutes,
        idempotency_key=idempotency_key,
        body_fingerprint=body_fingerprint,
        expected_arrival_time=expected_arrival_time,
        request_id=request_id,
    )
    written = _write_or_explain(session, caller, values, today)
    reservation = (
        _attach(session, caller, values, written)
        if isinstance(written, booking_sql.HeldRows)
        else written
    )
    rules.reservation_changed(session, reservation, previous=None, now=now)
    follow_reservation(session, reservation, previous=None, now=now)
    if confirm:
        confirm_by_requester(
            session,
            reservation,
            caller=caller,
            now=now,
            provider_confirm_hours=provider_confirm_hours,
        )
    return reservation, False


def place_simple_hold(
    session: DbSession,
    *,
    unit_id: int,
    arrival: date,
    departure: date,
    caller: Caller,
    now: datetime,
    today: date,
    hold_minutes: float,
    idempotency_key: str | None = None,
    body_fingerprint: str | None = None,
    expected_arrival_time: str | None = None,
) -> tuple[HoldView, bool]:
    """`place_hold` for a hold that serves no care request and is not confirmed at once (the
    meldpunt holding a bed during a call; the busiest write of the service): the same
    statements, guards and errors, answered as a HoldView. Returns (hold, replayed)."""
    existing = _replayed(session, caller, idempotency_key, body_fingerprint)
    if existing is not None:
        return HoldView.of(existing), True
    values = _hold_values(
        unit_id=unit_id,
        arrival=arrival,
        departure=departure,
        caller=caller,
        now=now,
        hold_minutes=hold_minutes,
        idempotency_key=idempotency_key,
        body_fingerprint=body_fingerprint,
        expected_arrival_time=expected_arrival_time,
        request_id=None,
    )
    written = _write_or_explain(session, caller, values, today)
    view = (
        _view(caller, values, written)
        if isinstance(written, booking_sql.HeldRows)
        else HoldView.of(written)
    )
    # No care request, so nothing for request_status.follow_reservation to move along.
    rules.reservation_changed(session, view, previous=None, now=now)
    return view, False


def place_plain_hold(
    tx: database.DriverTransaction,
    *,
    unit_id: int,
    arrival: date,
    departure: date,
    caller: Caller,
    now: datetime,
    today: date,
    hold_minutes: float,
    idempotency_key: str | None = None,
    body_fingerprint: str | None = None,
    expected_arrival_time: str | None = None,
    audit: dict[str, Any] | None = None,
) -> HoldView | None:
    """`place_simple_hold` on a DriverTransaction, for the common case only: the nights were
    free, nothing overdue was in the way, the key is new. Then the same statements, in the
    same order, and the same answer; with `audit` (`privacy.access_values`) its access-log
    row too, under "reservation:<id>". When only beds are missing (the unit allows the stay,
    nothing overdue) it rolls `tx` back and refuses as `place_simple_hold` would (NoBedFree
    naming the full nights). Otherwise it rolls back and returns None: `place_simple_hold` in
    a session then replays, explains or refuses, as it does for everything else.

    On PostgreSQL the hold is one statement that takes every night or none, so `tx` may be
    `one_statement` (autocommit). No message follows: a plain hold (held, no care request) is
    never announced (notifications.rules), which is why no session is needed here."""
    if not _plain_sql_applies(arrival, departure, today):
        return None
    if idempotency_key is not None and booking_sql.key_used(tx, caller.key, idempotency_key):
        tx.rollback()
        return None
    values = _hold_values(
        unit_id=unit_id,
        arrival=arrival,
        departure=departure,
        caller=caller,
        now=now,
        hold_minutes=hold_minutes,
        idempotency_key=idempotency_key,
        body_fingerprint=body_fingerprint,
        expected_arrival_time=expected_arrival_time,
        request_id=None,
    )
    rows = _write_hold(tx, values, audit)
    return None if rows is None else _view(caller, values, rows)


def _plain_sql_applies(arrival: date, departure: date, today: date) -> bool:
    """Whether the stay can go to the plain SQL at all (else only the explaining path)."""
    return arrival < departure and arrival >= today


def _write_or_explain(
    session: DbSession, caller: Caller, values: dict[str, Any], today: date
) -> booking_sql.HeldRows | Reservation:
    """The hold in plain SQL when it can be (what it wrote), else through the explaining path
    (the reservation it made, or the precise refusal)."""
    if _plain_sql_applies(values["arrival"], values["departure"], today):
        rows = _write_hold(session, values)
        if rows is not None:
            return rows
    return _place_hold_explained(session, caller, values, today)


def _write_hold(
    target: DbSession | database.DriverTransaction,
    values: dict[str, Any],
    audit: dict[str, Any] | None = None,
) -> booking_sql.HeldRows | None:
    """The common case in plain SQL (booking_sql): the nights, the reservation and its history
    row (and with `audit` its access-log row). When it did not hold the stay, what SQLite took
    goes back (a DriverTransaction is rolled back; PostgreSQL takes every night or none); then
    NoBedFree naming the full nights if the unit allows the stay and nothing overdue is in the
    way, else None (unit unknown or retired, stay not allowed, an overdue hold on the nights):
    the explaining path finds out which, and acts or refuses."""
    unit_id, arrival, departure = values["unit_id"], values["arrival"], values["departure"]
    rows = booking_sql.hold(
        target,
        unit_id=unit_id,
        arrival=arrival,
        departure=departure,
        now=values["created_at"],
        values=values,
        audit=audit,
    )
    if rows.reservation_id is not None and rows.event_id is not None:
        return rows
    if isinstance(target, database.DriverTransaction):
        target.rollback()
    else:
        _give_back(target, unit_id, rows.taken)
    if rows.free is not None:
        _refuse_full(arrival, departure, rows.free)
    return None


def _first_event(
    caller: Caller, values: dict[str, Any], rows: booking_sql.HeldRows
) -> dict[str, Any]:
    return {
        "id": rows.event_id,
        "reservation_id": rows.reservation_id,
        "from_status": None,
        "to_status": HELD,
        "detail": None,
        "actor": caller.key,
        "reason": None,
        "at": values["created_at"],
    }


def _view(caller: Caller, values: dict[str, Any], rows: booking_sql.HeldRows) -> HoldView:
    assert rows.reservation_id is not None
    return HoldView(
        id=rows.reservation_id,
        unit_id=values["unit_id"],
        arrival=values["arrival"],
        departure=values["departure"],
        status=HELD,
        expires_at=values["expires_at"],
        short_code=values["short_code"],
        expected_arrival_time=values["expected_arrival_time"],
        request_id=values["request_id"],
        caller=values["caller"],
        created_at=values["created_at"],
        requires_provider_confirmation=rows.requires_provider_confirmation,
        history=(HistoryEntry(None, HELD, None, caller.key, None, values["created_at"]),),
    )


def _attach(
    session: DbSession, caller: Caller, values: dict[str, Any], rows: booking_sql.HeldRows
) -> Reservation:
    """ORM objects for what the plain SQL wrote, in the session without another round trip."""
    reservation = _detached(
        session, Reservation, {**values, "id": rows.reservation_id, "anonymised_at": None}
    )
    event = _detached(session, ReservationEvent, _first_event(caller, values, rows))
    set_committed_value(reservation, "events", [event])
    # The unit as far as the statement read it (what the API answers); any other attribute
    # loads on first use, as for any expired object.
    unit_id = values["unit_id"]
    unit = session.identity_map.get(identity_key(Unit, unit_id))
    if unit is None:
        unit = _detached(
            session,
            Unit,
            {"id": unit_id, "requires_provider_confirmation": rows.requires_provider_confirmation},
        )
    set_committed_value(reservation, "unit", unit)
    session.add(reservation)  # its history row and unit follow (save-update cascade)
    return reservation


def _detached(session: DbSession, model: type[T], row: dict[str, Any]) -> T:
    """An object for a row this transaction wrote (or read), ready to join the session as if
    loaded: built without __init__ like the ORM's own loading, so no attribute events fire;
    columns not in `row` load on first use.

    A rolled-back earlier attempt may have left an expired object under the same primary key
    (SQLite reuses row ids): it is dropped from the session first.
    """
    instance: T = inspect(model).class_manager.new_instance()
    instance.__dict__.update(row)
    make_transient_to_detached(instance)
    stale = session.identity_map.get(inspect(instance).key)
    if stale is not None:
        session.expunge(stale)
    return instance


def _place_hold_explained(
    session: DbSession, caller: Caller, values: dict[str, Any], today: date
) -> Reservation:
    """The hold through the ORM, step by step: refuses with the precise reason, and expires
    overdue holds on the nights before taking them."""
    unit_id, arrival, departure = values["unit_id"], values["arrival"], values["departure"]
    now = values["created_at"]
    # The unit and "are there overdue holds on these nights?" in one round trip.
    found = session.execute(
        select(Unit, exists(_overdue_on_nights(Unit.id, arrival, departure, now))).where(
            Unit.id == unit_id
        )
    ).first()
    unit, has_overdue = found if found is not None else (None, False)
    if unit is None or unit.retired_at is not None:
        raise NotFound(f"Eenheid {unit_id} bestaat niet of is buiten gebruik.")
    validate_stay(unit, arrival, departure, today)
    if has_overdue:
        _expire_overdue_found(session, unit_id, arrival, departure, now)
    take_nights(session, unit_id, arrival, departure)
    # `unit` keeps the unit loaded for the caller (the identity map holds it weakly).
    reservation = Reservation(unit=unit, **values)
    session.add(reservation)
    session.flush()
    _append_event(session, reservation, None, HELD, caller.key, now)
    return reservation


# --- status changes -------------------------------------------------------------------------


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
    rules.reservation_changed(session, reservation, previous=HELD, now=now)
    follow_reservation(session, reservation, previous=HELD, now=now)
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
    rules.reservation_changed(session, reservation, previous=AWAITING_PROVIDER, now=now)
    follow_reservation(session, reservation, previous=AWAITING_PROVIDER, now=now)
    return reservation


def _end(
    session: DbSession,
    reservation: Reservation,
    *,
    target: str,
    party: str,
    caller: Caller,
    now: datetime,
    reason: str | None,
    from_statuses: Sequence[str],
    values: dict[str, Any] | None = None,
) -> Reservation:
    """Move an active reservation to an inactive status and release its nights, once."""
    previous = reservation.status
    # The nights held before this step (check-out may shorten the stay in the same UPDATE).
    held_from, held_to = reservation.arrival, reservation.departure
    if previous not in from_statuses:
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
    rules.reservation_changed(session, reservation, previous=previous, now=now)
    follow_reservation(session, reservation, previous=previous, now=now)
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
        from_statuses=(AWAITING_PROVIDER,),
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
        session,
        reservation,
        target=CANCELLED,
        party=party,
        caller=caller,
        now=now,
        reason=reason,
        from_statuses=(HELD, AWAITING_PROVIDER, CONFIRMED),
    )


def check_in(
    session: DbSession, reservation: Reservation, *, caller: Caller, now: datetime, today: date
) -> Reservation:
    if reservation.status == CONFIRMED and not reservation.arrival <= today < reservation.departure:
        raise InvalidInput(
            "Inchecken kan vanaf de aankomstdag "
            f"({reservation.arrival.isoformat()}) tot het vertrek."
        )
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
    rules.reservation_changed(session, reservation, previous=CONFIRMED, now=now)
    follow_reservation(session, reservation, previous=CONFIRMED, now=now)
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
        reason=None,
        from_statuses=(CHECKED_IN,),
        values=values,
    )


def mark_no_show(
    session: DbSession, reservation: Reservation, *, caller: Caller, now: datetime, today: date
) -> Reservation:
    if reservation.status == CONFIRMED and today < reservation.arrival:
        raise InvalidInput("Niet verschenen kan pas vanaf de aankomstdag worden gemeld.")
    return _end(
        session,
        reservation,
        target=NO_SHOW,
        party="provider",
        caller=caller,
        now=now,
        reason=None,
        from_statuses=(CONFIRMED,),
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
    rules.reservation_dates_changed(session, reservation, now=now)
    return reservation


def get_reservation(session: DbSession, reservation_id: int) -> Reservation:
    reservation = session.get(Reservation, reservation_id)
    if reservation is None:
        raise NotFound("Deze reservering bestaat niet.")
    return reservation
