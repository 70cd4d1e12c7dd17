"""Tariffs and exported claim lines (declaratie).

Exported lines are frozen: once a month is exported for a provider its lines are never edited.
A stay that changes afterwards yields a credit line (the exported line negated) and new lines in
a later export batch.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from respijt.models.base import Base, UTCDateTime

FUNDING_ROUTES = ("wmo", "elv", "wlz")


class Tariff(Base):
    """Price per night for one municipality and funding route, valid on [valid_from, valid_to)."""

    __tablename__ = "tariff"
    __table_args__ = (
        CheckConstraint("funding IN ('wmo', 'elv', 'wlz')", name="funding_known"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
        UniqueConstraint(
            "municipality_id", "funding", "valid_from", name="uq_tariff_municipality_funding_from"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    funding: Mapped[str] = mapped_column(String(10))
    product_code: Mapped[str] = mapped_column(String(20))
    price_cents: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)  # exclusive; None = until further notice
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClaimExport(Base):
    """One export batch: a provider marked (part of) a month exported."""

    __tablename__ = "claim_export"
    __table_args__ = (
        UniqueConstraint("provider_id", "month", "seq", name="uq_claim_export_provider_month_seq"),
        CheckConstraint("seq >= 1", name="seq_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    seq: Mapped[int] = mapped_column(Integer)
    exported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    exported_by: Mapped[str] = mapped_column(String(40))


class ClaimLine(Base):
    """A frozen, exported claim or credit line. Appended, never updated or deleted."""

    __tablename__ = "claim_line"
    __table_args__ = (
        CheckConstraint("kind IN ('claim', 'credit')", name="kind_known"),
        CheckConstraint("funding IN ('wmo', 'elv', 'wlz', 'onbekend')", name="funding_known"),
        CheckConstraint("period_to > period_from", name="period_range"),
        CheckConstraint(
            "(kind = 'claim' AND nights > 0 AND credits_line_id IS NULL) OR "
            "(kind = 'credit' AND nights < 0 AND credits_line_id IS NOT NULL)",
            name="claim_or_credit",
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        UniqueConstraint("credits_line_id", name="uq_claim_line_credits_line_id"),
        Index("ix_claim_line_month_provider", "month", "provider_id"),
        Index("ix_claim_line_reservation_month", "reservation_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[str] = mapped_column(String(40), unique=True)  # the stable, public id
    export_id: Mapped[int] = mapped_column(ForeignKey("claim_export.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    # A credit line names the claim line it cancels; each claim is credited at most once.
    credits_line_id: Mapped[int | None] = mapped_column(ForeignKey("claim_line.id"))
    version: Mapped[int] = mapped_column(Integer)
    month: Mapped[str] = mapped_column(String(7))
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservation.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    client_reference: Mapped[str] = mapped_column(String(12))
    funding: Mapped[str] = mapped_column(String(10))
    product_code: Mapped[str | None] = mapped_column(String(20))
    price_cents: Mapped[int | None] = mapped_column(Integer)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)  # exclusive
    nights: Mapped[int] = mapped_column(Integer)  # negative on a credit line
    amount_cents: Mapped[int | None] = mapped_column(Integer)
    provisional: Mapped[bool] = mapped_column(Boolean)  # as it was when exported


class UnitMonthOccupancy(Base):
    """A unit's leegstand figures of one month that is over, counted once by the scheduler so a
    year's report does not read every night again (`claims.occupancy_months`)."""

    __tablename__ = "unit_month_occupancy"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    nights: Mapped[int] = mapped_column(Integer)  # nights with beds offered
    published: Mapped[int] = mapped_column(Integer)  # bed-nights offered
    used: Mapped[int] = mapped_column(Integer)  # bed-nights taken, capped per night


class CountedMonth(Base):
    """A month whose `UnitMonthOccupancy` rows are complete, and how many changes to its stays
    (`StayMonthChange.changes`) they include: after another change they are out of date."""

    __tablename__ = "counted_month"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    changes_seen: Mapped[int] = mapped_column(Integer)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime)
