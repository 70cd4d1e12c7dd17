"""Who is the meldpunt now. One function the access rules ask, so the rota can plug in.

Until the duty rota exists, every pool member of a region counts as on duty there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from respijt.database import DbSession
from respijt.models import Provider, ProviderRegion

# RESPIJT_DUTY_GRACE_MINUTES, set by create_app(): a meldpunt keeps access this long after its
# shift ends (DESIGN §2). Domain code reads no Flask config, so it is kept here.
_grace = timedelta(minutes=60)


def configure(grace_minutes: int) -> None:
    global _grace
    _grace = timedelta(minutes=grace_minutes)


def on_duty_region_ids(provider_id: int, now: datetime, grace: timedelta | None = None) -> Any:
    """A SELECT of the region ids where `provider_id` may act as meldpunt at `now`: on duty at
    some moment in [now - grace, now] (default: the configured grace after a shift ends).

    Until the rota exists every pool member counts as on duty, so the grace changes nothing yet.
    """
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
