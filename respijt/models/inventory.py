"""Per-night inventory and the append-only log of capacity changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from respijt.models.base import Base, UTCDateTime


class NightInventory(Base):
    """Beds offered (`capacity`) and taken (`reserved`) for the night that starts on `night`."""

    __tablename__ = "night_inventory"
    __table_args__ = (
        CheckConstraint("reserved >= 0 AND reserved <= capacity", name="reserved_within_capacity"),
        # Reports read a period's nights of many units at once (`claims.night_counts`).
        Index("ix_night_inventory_night", "night", "unit_id", "capacity"),
    )

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    night: Mapped[date] = mapped_column(Date, primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0)


class AvailabilityChange(Base):
    """One capacity publication for one range of nights; never updated or deleted."""

    __tablename__ = "availability_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    night_from: Mapped[date] = mapped_column(Date)
    night_to: Mapped[date] = mapped_column(Date)  # exclusive
    new_capacity: Mapped[int] = mapped_column(Integer)
    # Previous values as runs: [{"from": "...", "to": "...", "capacity": n}, ...]
    old_capacities: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
