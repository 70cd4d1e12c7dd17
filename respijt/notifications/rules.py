"""Notification rules: which message a domain change causes.

Domain modules call these hooks inside their transaction. They decide *what* to tell whom;
the outbox (scheduler issue) will carry it, so the message is written in the same transaction
as the change (DESIGN invariant 7). Until the outbox exists the hooks decide nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from respijt.database import DbSession


def reservation_changed(
    session: DbSession, reservation: Any, *, previous: str | None, now: datetime
) -> None:
    """A reservation entered `reservation.status` (from `previous`, None when created)."""


def reservation_dates_changed(session: DbSession, reservation: Any, *, now: datetime) -> None:
    """The stay of a reservation moved, grew or shrank."""


def request_changed(
    session: DbSession, care_request: Any, *, previous: str | None, now: datetime
) -> None:
    """A care request entered `care_request.status` (from `previous`, None when created)."""


def waitlist_offer_made(
    session: DbSession, care_request: Any, reservation: Any, *, now: datetime
) -> None:
    """The waitlist job held a bed for a waiting request: tell the requester (signed link)."""


def request_needs_attention(session: DbSession, care_request: Any, *, now: datetime) -> None:
    """An urgent request has no fit: alert the meldpunt on duty in its region at once."""
