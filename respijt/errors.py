"""Domain exceptions. Each carries a Dutch message; the API turns them into problem+json."""

from __future__ import annotations

import os
import traceback
from datetime import date
from typing import Any

from respijt import formatting


class DomainError(Exception):
    """Base: `status` is the HTTP status the API answers with, `title` a short Dutch title."""

    status = 422
    title = "Verzoek kan niet worden uitgevoerd"
    code = "domain_error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status = 404
    title = "Niet gevonden"
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    title = "Geen toegang"
    code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    title = "Niet aangemeld"
    code = "unauthorized"


class InvalidInput(DomainError):
    """Bad input found by a domain rule; `params` become invalidParams entries."""

    status = 422
    title = "Ongeldige invoer"
    code = "invalid"

    def __init__(self, detail: str, params: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.params = params or []


def format_nights(nights: list[date]) -> str:
    """The nights in words for the detail ('za 5 dec, zo 6 dec'); `nights` keeps ISO 8601."""
    return ", ".join(formatting.date_short(n) for n in nights)


class CapacityBelowReserved(DomainError):
    status = 409
    title = "Capaciteit lager dan gereserveerd"
    code = "capacity_below_reserved"

    def __init__(self, nights: list[date]) -> None:
        super().__init__(
            "De capaciteit kan niet lager worden dan het aantal gereserveerde bedden. "
            f"Dit geldt voor {formatting.nights(len(nights))}: {format_nights(nights)}.",
            nights=[n.isoformat() for n in nights],
        )
        self.nights = nights


class NoBedFree(DomainError):
    status = 409
    title = "Geen bed vrij"
    code = "no_bed_free"

    def __init__(self, nights: list[date]) -> None:
        super().__init__(
            "Er is niet voor elke nacht een bed vrij. Vol: " + format_nights(nights) + ".",
            nights=[n.isoformat() for n in nights],
        )
        self.nights = nights


class InvalidTransition(DomainError):
    status = 409
    title = "Statuswijziging niet mogelijk"
    code = "invalid_transition"


class HoldExpired(DomainError):
    status = 409
    title = "Reservering verlopen"
    code = "hold_expired"


class IdempotencyConflict(DomainError):
    status = 422
    title = "Idempotency-Key al gebruikt"
    code = "idempotency_conflict"


class UnitHasFutureReservations(DomainError):
    status = 409
    title = "Eenheid heeft nog reserveringen"
    code = "unit_has_reservations"


class ServiceUnavailable(DomainError):
    status = 503
    title = "Tijdelijk niet beschikbaar"
    code = "unavailable"


def exception_summary(exc: BaseException) -> str:
    """What a log line may say about `exc`: its class, the driver error's class and SQLSTATE
    under it, and where it was raised (file:line of the innermost frames).

    Never the message, the statement's values or a frame's locals: a database error's text
    quotes the row it could not write (a client's name, birth year, mobile), and server logs
    are read by more people, and kept longer, than the database.
    """
    parts = [type(exc).__name__]
    orig = getattr(exc, "orig", None)
    if isinstance(orig, BaseException):
        parts.append(f"driver {type(orig).__module__}.{type(orig).__name__}")
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if isinstance(sqlstate, str) and sqlstate.isalnum():
            parts.append(f"SQLSTATE {sqlstate}")
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not orig:
        parts.append(f"from {type(cause).__name__}")
    frames = traceback.extract_tb(exc.__traceback__)[-_SUMMARY_FRAMES:]
    if frames:
        where = " < ".join(
            f"{_short_path(frame.filename)}:{frame.lineno} {frame.name}"
            for frame in reversed(frames)
        )
        parts.append(f"at {where}")
    return "; ".join(parts)


_SUMMARY_FRAMES = 6


def _short_path(filename: str) -> str:
    """The path from the package (respijt/…, sqlalchemy/…) on, not the machine's layout."""
    marker = f"{os.sep}site-packages{os.sep}"
    if marker in filename:
        return filename.rsplit(marker, 1)[1]
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if filename.startswith(here + os.sep):
        return filename[len(here) + 1 :]
    return os.path.basename(filename)
