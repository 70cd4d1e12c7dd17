"""Who is the meldpunt now. The access rules ask `on_duty_region_ids`; notifications and the
phone routing ask `duty_provider` and `backup_provider`. All answers come from the rota
(`rota_shift`, see respijt/meldpunt/generation.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from respijt.database import DbSession
from respijt.models import Provider, ProviderRegion, RotaShift

DEFAULT_GRACE = timedelta(minutes=60)


# Set once by the app factory: reads RESPIJT_DUTY_GRACE_MINUTES of the running app, or None
# outside one. The access rules call `on_duty_region_ids` without a config at hand.
_grace_source: Callable[[], int | None] | None = None


def configure_grace(source: Callable[[], int | None]) -> None:
    """Tell the rota where the grace period comes from (minutes; None means the default)."""
    global _grace_source
    _grace_source = source


def _configured_grace() -> timedelta:
    minutes = _grace_source() if _grace_source is not None else None
    return DEFAULT_GRACE if minutes is None else timedelta(minutes=minutes)


def on_duty_region_ids(provider_id: int, now: datetime, grace: timedelta | None = None) -> Any:
    """A SELECT of the region ids where `provider_id` may act as meldpunt at `now`:
    its shift runs now, or ended less than the grace period (`RESPIJT_DUTY_GRACE_MINUTES`) ago."""
    window = _configured_grace() if grace is None else grace
    return select(RotaShift.region_id).where(
        RotaShift.provider_id == provider_id,
        RotaShift.status == "active",
        RotaShift.starts_at <= now,
        RotaShift.ends_at > now - window,
    )


def shift_at(session: DbSession, region_id: int, at: datetime) -> RotaShift | None:
    """The active shift of a region that covers `at`, or None in a gap."""
    return session.scalars(
        select(RotaShift)
        .where(
            RotaShift.region_id == region_id,
            RotaShift.status == "active",
            RotaShift.starts_at <= at,
            RotaShift.ends_at > at,
        )
        .order_by(RotaShift.starts_at.desc())
        .limit(1)
    ).first()


def duty_provider(session: DbSession, region_id: int, now: datetime) -> Provider | None:
    """The provider that is the region's meldpunt at `now` (None in a gap)."""
    shift = shift_at(session, region_id, now)
    return shift.provider if shift is not None else None


def duty_until(session: DbSession, shift: RotaShift) -> datetime:
    """When the duty of `shift`'s provider ends: consecutive shifts of the same provider join."""
    until = shift.ends_at
    for _ in range(400):  # a bound, not a limit anyone reaches: a year of daily shifts
        following = session.scalars(
            select(RotaShift).where(
                RotaShift.region_id == shift.region_id,
                RotaShift.status == "active",
                RotaShift.starts_at == until,
            )
        ).first()
        if following is None or following.provider_id != shift.provider_id:
            break
        until = following.ends_at
    return until


def backup_provider(session: DbSession, region_id: int, now: datetime) -> Provider | None:
    """The next provider in the rota after the one on duty; else the heaviest other pool member."""
    current = shift_at(session, region_id, now)
    current_id = current.provider_id if current is not None else None
    upcoming = session.scalars(
        select(RotaShift)
        .where(
            RotaShift.region_id == region_id,
            RotaShift.status == "active",
            RotaShift.starts_at > now,
            RotaShift.provider_id != (current_id or 0),
        )
        .order_by(RotaShift.starts_at)
        .limit(1)
    ).first()
    if upcoming is not None:
        return upcoming.provider
    return session.scalars(
        select(Provider)
        .join(ProviderRegion, ProviderRegion.provider_id == Provider.id)
        .where(
            ProviderRegion.region_id == region_id,
            ProviderRegion.in_pool.is_(True),
            Provider.id != (current_id or 0),
        )
        .order_by(ProviderRegion.pool_weight.desc(), Provider.id)
        .limit(1)
    ).first()


def pool_providers(session: DbSession, region_id: int) -> list[Provider]:
    """The region's duty pool, heaviest pool weight first, then by id (as backup_provider)."""
    return list(
        session.scalars(
            select(Provider)
            .join(ProviderRegion, ProviderRegion.provider_id == Provider.id)
            .where(ProviderRegion.region_id == region_id, ProviderRegion.in_pool.is_(True))
            .order_by(ProviderRegion.pool_weight.desc(), Provider.id)
        )
    )


def on_duty_providers(session: DbSession, region_id: int, now: datetime) -> list[Provider]:
    """The providers acting as meldpunt in `region_id` at `now`: the rota's, none in a gap."""
    provider = duty_provider(session, region_id, now)
    return [provider] if provider is not None else []
