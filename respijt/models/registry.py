"""Providers (aanbieders), their locations and units, and which regions they serve."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from respijt.models.base import Base, UTCDateTime
from respijt.models.geo import Municipality, Region


class Provider(Base):
    __tablename__ = "provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    agb_code: Mapped[str | None] = mapped_column(String(8))
    kvk_number: Mapped[str | None] = mapped_column(String(8))
    duty_phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    # Registered staff mobiles (E.164) whose SMS replies may confirm or decline reservations.
    staff_mobiles: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    regions: Mapped[list[ProviderRegion]] = relationship(
        back_populates="provider", cascade="all, delete-orphan"
    )
    locations: Mapped[list[Location]] = relationship(
        back_populates="provider", order_by="Location.name"
    )


class ProviderRegion(Base):
    """A provider serving a region, and its place in that region's duty pool."""

    __tablename__ = "provider_region"
    __table_args__ = (CheckConstraint("pool_weight >= 0", name="pool_weight_not_negative"),)

    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), primary_key=True)
    in_pool: Mapped[bool] = mapped_column(Boolean, default=False)
    pool_weight: Mapped[int] = mapped_column(Integer, default=1)

    provider: Mapped[Provider] = relationship(back_populates="regions")
    region: Mapped[Region] = relationship()


class Location(Base):
    __tablename__ = "location"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(7))
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    contact_mobile: Mapped[str | None] = mapped_column(String(20))  # E.164
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    provider: Mapped[Provider] = relationship(back_populates="locations")
    municipality: Mapped[Municipality] = relationship()
    units: Mapped[list[Unit]] = relationship(back_populates="location", order_by="Unit.id")


class Unit(Base):
    """A pool of interchangeable beds of one kind at one location."""

    __tablename__ = "unit"
    __table_args__ = (
        CheckConstraint("min_nights >= 1", name="min_nights_positive"),
        CheckConstraint("max_nights >= min_nights", name="max_not_below_min"),
        CheckConstraint("default_capacity >= 0", name="default_capacity_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    care_level: Mapped[str] = mapped_column(String(20), default="basic")
    wheelchair: Mapped[bool] = mapped_column(Boolean, default=False)
    funding_routes: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_nights: Mapped[int] = mapped_column(Integer, default=1)
    max_nights: Mapped[int] = mapped_column(Integer, default=28)
    arrival_weekdays: Mapped[str] = mapped_column(String(7), default="1234567")
    requires_provider_confirmation: Mapped[bool] = mapped_column(Boolean, default=False)
    default_capacity: Mapped[int] = mapped_column(Integer, default=0)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    location: Mapped[Location] = relationship(back_populates="units")
    target_group_rows: Mapped[list[UnitTargetGroup]] = relationship(
        cascade="all, delete-orphan", order_by="UnitTargetGroup.target_group"
    )

    @property
    def target_groups(self) -> list[str]:
        return [row.target_group for row in self.target_group_rows]


class UnitTargetGroup(Base):
    __tablename__ = "unit_target_group"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    target_group: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)
