"""Who is the meldpunt now. One function the access rules ask, so the rota can plug in.

Until the duty rota exists, every pool member of a region counts as on duty there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from respijt.models import ProviderRegion


def on_duty_region_ids(provider_id: int, now: datetime, grace: timedelta = timedelta(0)) -> Any:
    """A SELECT of the region ids where `provider_id` may act as meldpunt at `now`: on duty at
    some moment in [now - grace, now] (RESPIJT_DUTY_GRACE_MINUTES after a shift ends)."""
    return select(ProviderRegion.region_id).where(
        ProviderRegion.provider_id == provider_id, ProviderRegion.in_pool.is_(True)
    )
