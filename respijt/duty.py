"""Who is the meldpunt now. One function the access rules ask, so the rota can plug in.

Until the duty rota exists, every pool member of a region counts as on duty there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from respijt.database import DbSession
from respijt.models import Provider, ProviderRegion


def on_duty_region_ids(provider_id: int, now: datetime) -> Any:
    """A SELECT of the region ids where `provider_id` may act as meldpunt at `now`."""
    return select(ProviderRegion.region_id).where(
        ProviderRegion.provider_id == provider_id, ProviderRegion.in_pool.is_(True)
    )


def on_duty_providers(session: DbSession, region_id: int, now: datetime) -> list[Provider]:
    """The providers acting as meldpunt in `region_id` at `now` (every pool member, for now)."""
    return list(
        session.scalars(
            select(Provider)
            .join(ProviderRegion, ProviderRegion.provider_id == Provider.id)
            .where(ProviderRegion.region_id == region_id, ProviderRegion.in_pool.is_(True))
            .order_by(Provider.id)
        )
    )
