"""Tariffs per municipality and funding route, with validity dates that never overlap."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from respijt.database import DbSession
from respijt.errors import InvalidInput
from respijt.models import Municipality, Tariff
from respijt.models.claims import FUNDING_ROUTES


def _bad(name: str, code: str, reason: str) -> InvalidInput:
    return InvalidInput(reason, [{"name": name, "code": code, "reason": reason}])


def add_tariff(
    session: DbSession,
    *,
    municipality: str,
    funding: str,
    product_code: str,
    price_cents: int,
    valid_from: date,
    valid_to: date | None,
    now: datetime,
) -> Tariff:
    """Add a tariff. One that is open-ended and started earlier ends where the new one starts;
    any other overlap is refused, so a night always has at most one tariff."""
    place = session.scalar(select(Municipality).where(Municipality.code == municipality))
    if place is None:
        raise _bad("municipality", "unknown", f"Onbekende gemeente '{municipality}'.")
    if funding not in FUNDING_ROUTES:
        raise _bad("funding", "unknown", "Kies wmo, elv of wlz.")
    if not product_code.strip():
        raise _bad("product_code", "required", "Een productcode is verplicht.")
    if price_cents < 0:
        raise _bad("price", "negative", "Een tarief kan niet negatief zijn.")
    if valid_to is not None and valid_to <= valid_from:
        raise _bad("valid_to", "range", "'Geldig tot' moet na 'geldig vanaf' liggen.")
    others = session.scalars(
        select(Tariff)
        .where(Tariff.municipality_id == place.id, Tariff.funding == funding)
        .order_by(Tariff.valid_from)
    ).all()
    for other in others:
        ends_after_start = other.valid_to is None or other.valid_to > valid_from
        starts_before_end = valid_to is None or other.valid_from < valid_to
        if not (ends_after_start and starts_before_end):
            continue
        if other.valid_to is None and other.valid_from < valid_from:
            other.valid_to = valid_from  # the new tariff takes over from its start
            continue
        raise _bad(
            "valid_from",
            "overlap",
            f"Er geldt al een tarief ({other.product_code}) vanaf {other.valid_from.isoformat()}"
            " in deze periode.",
        )
    tariff = Tariff(
        municipality_id=place.id,
        funding=funding,
        product_code=product_code.strip(),
        price_cents=price_cents,
        valid_from=valid_from,
        valid_to=valid_to,
        created_at=now,
    )
    session.add(tariff)
    session.flush()
    return tariff


def list_tariffs(session: DbSession, municipality: str | None = None) -> list[tuple[Tariff, str]]:
    query = (
        select(Tariff, Municipality.code)
        .join(Municipality, Municipality.id == Tariff.municipality_id)
        .order_by(Municipality.code, Tariff.funding, Tariff.valid_from)
    )
    if municipality:
        query = query.where(Municipality.code == municipality)
    return [(t, code) for t, code in session.execute(query).all()]
