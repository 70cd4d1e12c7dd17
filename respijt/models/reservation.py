"""Reservations (one bed for every night of a stay) and their appended status history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from respijt.models.base import Base, UTCDateTime
from respijt.models.geo import Region
from respijt.models.registry import Unit


class Reservation(Base):
    __tablename__ = "reservation"
    __table_args__ = (
        CheckConstraint("departure > arrival", name="departure_after_arrival"),
        UniqueConstraint("caller", "idempotency_key", name="uq_reservation_caller_idempotency"),
        Index("ix_reservation_status_expires", "status", "expires_at"),
        Index("ix_reservation_unit_arrival", "unit_id", "arrival"),
        # Reports of a month find the stays that overlap it from this index alone.
        Index("ix_reservation_overlap", "departure", "arrival"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    arrival: Mapped[date] = mapped_column(Date)
    departure: Mapped[date] = mapped_column(Date)  # exclusive: the last night is departure - 1
    status: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    short_code: Mapped[str] = mapped_column(String(8), unique=True)
    expected_arrival_time: Mapped[str | None] = mapped_column(String(5))  # HH:MM local
    # Who asked: "token:12" or "user:4", the role they acted in and the provider they act for.
    caller: Mapped[str] = mapped_column(String(40))
    caller_role: Mapped[str] = mapped_column(String(20))
    caller_provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    # The care request this hold or stay serves (None for a reservation made without one).
    request_id: Mapped[int | None] = mapped_column(ForeignKey("care_request.id"), index=True)
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set by the retention purge once personal fields are cleared (respijt.privacy.access_log).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship()
    events: Mapped[list[ReservationEvent]] = relationship(
        back_populates="reservation", order_by="ReservationEvent.id"
    )

    @property
    def nights(self) -> int:
        return (self.departure - self.arrival).days

    @property
    def requires_provider_confirmation(self) -> bool:
        """The unit's rule, as answered with the reservation (same name as on HoldView)."""
        return bool(self.unit.requires_provider_confirmation)

    @property
    def history(self) -> list[ReservationEvent]:
        return self.events


class ReservationEvent(Base):
    """One status change: appended, never edited."""

    __tablename__ = "reservation_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservation.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    # Date changes keep the status but are history too: old and new stay in `detail`.
    detail: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    reservation: Mapped[Reservation] = relationship(back_populates="events")


class StayMonthChange(Base):
    """How often stays changed their nights in a month that was already over (a late no-show,
    a confirmed stay moved away from past nights): the monthly figures counted before such a
    change are out of date (`claims.occupancy_months`)."""

    __tablename__ = "stay_month_change"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day
    changes: Mapped[int] = mapped_column(Integer)


class ApiToken(Base):
    """A machine client's credential: one role, and for provider/meldpunt one provider; a
    coordinator token not bound to a person is bound to one or more regions (`region_rows`)."""

    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint(
            "role NOT IN ('provider', 'meldpunt') OR provider_id IS NOT NULL",
            name="provider_bound_roles_have_provider",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"))
    # Optional: the person this token acts for (their roles, provider and regions bind it).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex of the secret
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    region_rows: Mapped[list[ApiTokenRegion]] = relationship(cascade="all, delete-orphan")

    @property
    def region_ids(self) -> list[int]:
        return sorted(row.region_id for row in self.region_rows)


class ApiTokenRegion(Base):
    """The regions a coordinator token works for (like `UserRegion` for a person)."""

    __tablename__ = "api_token_region"

    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id"), primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), primary_key=True)

    region: Mapped[Region] = relationship()
