"""Holds over the night inventory: `hold_bed` is the door; `place_hold` makes the ORM object
an offer or a confirmation needs, `place_simple_hold` answers with a read-only `HoldView`.

- Nights are taken and given back through the night guard (`nights.py`): `reserved` never
  passes capacity, and a shortfall raises (the edge rolls back).
- Writes that need nights first expire the overdue holds on them (`expiry.py`, invariant 3).
- The status changes after a hold are in `steps.py`; stay rules and history rows in
  `records.py`; `check.py` compares every night's `reserved` with the active reservations.

Functions flush, never commit. Time comes in as arguments (`now`, `today`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, select

from respijt import database
from respijt.database import DbSession
from respijt.errors import (
    IdempotencyConflict,
    NotFound,
)
from respijt.models import Reservation, Unit
from respijt.people.caller import Caller
from respijt.privacy import access_log
from respijt.reservations import fast_hold
from respijt.reservations.changes import announce
from respijt.reservations.expiry import (
    _expire_overdue_found,
    _overdue_on_nights,
    hold_expiry,
)
from respijt.reservations.nights import _give_back, _refuse_full, take_nights
from respijt.reservations.records import _append_event, validate_stay
from respijt.reservations.steps import confirm_by_requester
from respijt.reservations.workflow import (
    HELD,
)

SHORT_CODE_ALPHABET = "ACDEFHJKMNPQRTUVWXY3479"  # no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G

# --- holds ----------------------------------------------------------------------------------


def fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


_SHORT_CODE_LENGTH = 6


def _new_short_code() -> str:
    """Six characters drawn uniformly from the alphabet, from one random number (cheaper
    than six calls of secrets.choice)."""
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
    # What the plain SQL wrote is read back as any row is: no ORM internals to attach it.
    reservation = (
        session.get_one(Reservation, written.reservation_id)
        if isinstance(written, fast_hold.HeldRows)
        else written
    )
    announce(session, reservation, previous=None, now=now)
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
    audit: dict[str, Any] | None = None,
) -> tuple[HoldView, bool]:
    """`place_hold` for a hold that serves no care request and is not confirmed at once (the
    meldpunt holding a bed during a call; the busiest write of the service): the same
    statements, guards and errors, answered as a HoldView. Returns (hold, replayed).

    With `audit` (`privacy.access_values`) a new hold's access-log row is written too, under
    its own reference; a replay writes none (the caller logs it under the client's)."""
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
    written = _write_or_explain(session, caller, values, today, audit)
    if isinstance(written, fast_hold.HeldRows):
        view = _view(caller, values, written)
        if audit is not None and not written.logged:
            _log_new(session, audit, view.id, unit_id)
    else:
        view = HoldView.of(written)
        if audit is not None:
            _log_new(session, audit, view.id, unit_id)
    announce(session, view, previous=None, now=now)
    return view, False


def _log_new(session: DbSession, audit: dict[str, Any], reservation_id: int, unit_id: int) -> None:
    """The access-log row of a new hold without a care request, in the unit's region."""
    access_log.write_access(
        session,
        audit,
        client_reference=fast_hold.own_reference(reservation_id),
        region_of_unit=unit_id,
    )


def hold_bed(
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
    confirm: bool = False,
    idempotency_key: str | None = None,
    body_fingerprint: str | None = None,
    expected_arrival_time: str | None = None,
    audit: dict[str, Any] | None = None,
) -> tuple[Reservation | HoldView, bool]:
    """The one door for a hold that serves no care request (an offer for a request is
    `care_requests.offers.offer_bed`). Returns (reservation, replayed).

    A hold confirmed at once goes through `place_hold`, which makes the ORM object the
    confirmation needs; every other hold is `place_simple_hold`, answered as a HoldView. A
    replay of an Idempotency-Key answers with the first reservation, whichever way made it.
    With `audit` (`privacy.access_values`) a new hold's access-log row is written in the same
    transaction, under the reference "reservation:<id>"; a replay's is left to the caller.
    """
    hold: dict[str, Any] = {
        "unit_id": unit_id,
        "arrival": arrival,
        "departure": departure,
        "caller": caller,
        "now": now,
        "today": today,
        "hold_minutes": hold_minutes,
        "idempotency_key": idempotency_key,
        "body_fingerprint": body_fingerprint,
        "expected_arrival_time": expected_arrival_time,
    }
    if confirm:
        reservation, replayed = place_hold(
            session, provider_confirm_hours=provider_confirm_hours, confirm=True, **hold
        )
        if audit is not None and not replayed:
            _log_new(session, audit, reservation.id, unit_id)
        return reservation, replayed
    return place_simple_hold(session, audit=audit, **hold)


def _plain_sql_applies(arrival: date, departure: date, today: date) -> bool:
    """Whether the stay can go to the plain SQL at all (else only the explaining path)."""
    return arrival < departure and arrival >= today


def _write_or_explain(
    session: DbSession,
    caller: Caller,
    values: dict[str, Any],
    today: date,
    audit: dict[str, Any] | None = None,
) -> fast_hold.HeldRows | Reservation:
    """The hold in plain SQL when it can be (what it wrote), else through the explaining path
    (the reservation it made, or the precise refusal). With `audit` the plain SQL may write
    the access-log row as well (`HeldRows.logged`)."""
    if _plain_sql_applies(values["arrival"], values["departure"], today):
        rows = _write_hold(session, values, audit)
        if rows is not None:
            return rows
    return _place_hold_explained(session, caller, values, today)


def _write_hold(
    session: DbSession, values: dict[str, Any], audit: dict[str, Any] | None = None
) -> fast_hold.HeldRows | None:
    """The common case in plain SQL (`fast_hold`): the nights, the reservation and its history
    row. When it did not hold the stay, the nights SQLite took go back (PostgreSQL takes every
    night or none); then NoBedFree naming the full nights if the unit allows the stay and
    nothing overdue is in the way, else None (unit unknown or retired, stay not allowed, an
    overdue hold on the nights): the explaining path finds out which, and acts or refuses."""
    unit_id, arrival, departure = values["unit_id"], values["arrival"], values["departure"]
    rows = fast_hold.hold(
        session,
        unit_id=unit_id,
        arrival=arrival,
        departure=departure,
        now=values["created_at"],
        values=values,
        audit=audit,
    )
    if rows.reservation_id is not None and rows.event_id is not None:
        return rows
    _give_back(session, unit_id, rows.taken)
    if rows.free is not None:
        _refuse_full(arrival, departure, rows.free)
    return None


def _view(caller: Caller, values: dict[str, Any], rows: fast_hold.HeldRows) -> HoldView:
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
