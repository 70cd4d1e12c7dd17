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
