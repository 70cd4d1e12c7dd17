"""Who is the meldpunt now. One function the access rules ask, so the rota can plug in.

Until the duty rota exists, every pool member of a region counts as on duty there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from respijt.models import ProviderRegion


def on_duty_region_ids(provider_id: int, now: datetime) -> Any:
    """A SELECT of the region ids where `provider_id` may act as meldpunt at `now`."""
    return select(ProviderRegion.region_id).where(
        ProviderRegion.provider_id == provider_id, ProviderRegion.in_pool.is_(True)
    )
