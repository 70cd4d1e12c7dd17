"""Care requests (aanvragen), their appended history, the options shown and the series stays.

Minimal client data only: a first name or initials, birth year, municipality and care needs as
categories. Never a BSN, a diagnosis or free text about health (`docs/security.md`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from respijt.models.base import Base, UTCDateTime
from respijt.models.geo import Municipality


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


REQUEST_STATUS_VALUES = ("new", "offered", "placed", "waitlisted", "withdrawn", "expired", "no_fit")
STAY_STATUS_VALUES = ("open", "offered", "placed", "unplaced")


class CareRequest(Base):
    __tablename__ = "care_request"
    __table_args__ = (
        CheckConstraint("departure > arrival", name="departure_after_arrival"),
        CheckConstraint("flexibility_days >= 0 AND flexibility_days <= 30", name="flexibility"),
        CheckConstraint("birth_year >= 1900 AND birth_year <= 2100", name="birth_year"),
        CheckConstraint(_in("status", REQUEST_STATUS_VALUES), name="status_known"),
        CheckConstraint(_in("channel", ("web", "phone", "api")), name="channel_known"),
        CheckConstraint(
            _in("requester_type", ("mantelzorger", "verwijzer", "meldpunt")), name="requester_known"
        ),
        CheckConstraint(_in("urgency", ("planned", "soon", "urgent")), name="urgency_known"),
        CheckConstraint(_in("funding", ("wmo", "elv", "wlz", "onbekend")), name="funding_known"),
        CheckConstraint(
            "series_every_days IS NULL OR series_every_days >= 7", name="series_interval"
        ),
        Index("ix_care_request_status_urgency", "status", "urgency", "created_at"),
        # The figures of a period count the requests made in it, from this index alone.
        Index(
            "ix_care_request_report",
            "created_at",
            "status",
            "municipality_id",
            "target_group",
            "funding",
            "placed_at",
            "arrival",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    channel: Mapped[str] = mapped_column(String(10))
    requester_type: Mapped[str] = mapped_column(String(20))
    # Who created it: "token:12", "user:4" or "public"; their role and provider.
    caller: Mapped[str] = mapped_column(String(40), index=True)
    caller_role: Mapped[str] = mapped_column(String(20))
    caller_provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"))
    # Client: minimal and categorical.
    client_name: Mapped[str] = mapped_column(String(40))
    birth_year: Mapped[int] = mapped_column(Integer)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    target_group: Mapped[str] = mapped_column(String(20))
    care_level: Mapped[str] = mapped_column(String(20))
    wheelchair: Mapped[bool] = mapped_column(Boolean)
    language: Mapped[str | None] = mapped_column(String(3))
    # The stay asked for (half-open) and how many days either way would also do.
    arrival: Mapped[date] = mapped_column(Date)
    departure: Mapped[date] = mapped_column(Date)
    flexibility_days: Mapped[int] = mapped_column(Integer, default=0)
    urgency: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(40))
    funding: Mapped[str] = mapped_column(String(10))
    contact_name: Mapped[str] = mapped_column(String(80))
    contact_mobile: Mapped[str] = mapped_column(String(20))  # E.164
    # A family without a mobile (contact_mobile is then ""): a landline and/or an e-mail
    # address; messages go by e-mail, or the meldpunt calls back (FamilyNotice).
    contact_phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    contact_email: Mapped[str | None] = mapped_column(String(254))
    # False when the verwijzer says the family is not to be contacted: the verwijzer gets
    # the messages instead.
    contact_family: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # When the signed SMS link was first opened: possession of the phone, which a family's
    # choice (a hold) needs (care_requests/choices.py).
    link_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    previous_request_id: Mapped[int | None] = mapped_column(ForeignKey("care_request.id"))
    # The place chosen in the search ("Vraag een logeerbed aan" from a result): matching
    # prefers its units; nothing is held by it.
    preferred_location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    series_every_days: Mapped[int | None] = mapped_column(Integer)
    series_until: Mapped[date | None] = mapped_column(Date)
    # The series' rule: "month:1" … "month:4", "month:-1" (a weekend a month), "weeks:N";
    # None with `series_every_days` set: every N days (care_requests/recurrence.py).
    series_rule: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    # An urgent request without a fit waits for the meldpunt on duty; never silently.
    attention_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attention_reason: Mapped[str | None] = mapped_column(String(200))
    # One timestamp per step, so the lead time (doorlooptijd) is exact.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by the retention purge once names and the mobile number are cleared
    # (respijt.privacy.access_log).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    municipality: Mapped[Municipality] = relationship()
    previous_request: Mapped[CareRequest | None] = relationship(remote_side=[id])
    events: Mapped[list[CareRequestEvent]] = relationship(
        back_populates="care_request", order_by="CareRequestEvent.id"
    )
    stays: Mapped[list[CareRequestStay]] = relationship(
        back_populates="care_request", order_by="CareRequestStay.seq"
    )

    @property
    def nights(self) -> int:
        return (self.departure - self.arrival).days

    @property
    def is_series(self) -> bool:
        return self.series_every_days is not None

    @property
    def series_words(self) -> str | None:
        """The series' rule in plain Dutch ("Elke maand het eerste weekend"), or None."""
        if self.series_every_days is None:
            return None
        kind, _, n = (self.series_rule or "").partition(":")
        if kind == "month":
            which = {"1": "eerste", "2": "tweede", "3": "derde", "4": "vierde", "-1": "laatste"}
            return f"Elke maand het {which.get(n, n)} weekend"
        if kind == "weeks":
            return "Elke week" if n == "1" else f"Elke {n} weken"
        return f"Elke {self.series_every_days} dagen"


class CareRequestEvent(Base):
    """One status change (or note) of a care request: appended, never edited."""

    __tablename__ = "care_request_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("care_request.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    care_request: Mapped[CareRequest] = relationship(back_populates="events")


class CareRequestStay(Base):
    """One stay of a series request, with its own status and hold."""

    __tablename__ = "care_request_stay"
    __table_args__ = (
        UniqueConstraint("request_id", "seq", name="uq_care_request_stay_request_seq"),
        CheckConstraint("departure > arrival", name="departure_after_arrival"),
        CheckConstraint(_in("status", STAY_STATUS_VALUES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("care_request.id"))
    seq: Mapped[int] = mapped_column(Integer)
    arrival: Mapped[date] = mapped_column(Date)
    departure: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservation.id"))

    care_request: Mapped[CareRequest] = relationship(back_populates="stays")


class RequestOption(Base):
    """A unit shown to (or chosen for) a request: which options were offered, which was taken."""

    __tablename__ = "request_option"
    __table_args__ = (
        CheckConstraint("departure > arrival", name="departure_after_arrival"),
        Index("ix_request_option_request_unit", "request_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("care_request.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    arrival: Mapped[date] = mapped_column(Date)
    departure: Mapped[date] = mapped_column(Date)
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime)
    shown_to: Mapped[str] = mapped_column(String(40))
    # The requester's own pick (through the signed link or the verwijzer's account).
    preferred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    chosen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    chosen_by: Mapped[str | None] = mapped_column(String(40))
    # Required when the meldpunt chooses other than the requester's preference.
    choice_reason: Mapped[str | None] = mapped_column(String(300))


class RequestIdempotency(Base):
    """The `Idempotency-Key` of a `POST /api/v1/requests`: a retry with the same key from the
    same caller answers with this request and creates nothing. For the public, the key is
    stored with a digest of the client address in front (`caller` is "public" for all)."""

    __tablename__ = "request_idempotency"
    __table_args__ = (
        UniqueConstraint("caller", "idempotency_key", name="uq_request_idempotency_caller_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    caller: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(140))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[int] = mapped_column(ForeignKey("care_request.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FamilyNotice(Base):
    """A message for a family without a mobile: an e-mail to send, or a call-back task for the
    meldpunt (visible on its console). The same text the SMS would have had: no client data."""

    __tablename__ = "family_notice"
    __table_args__ = (
        CheckConstraint(_in("kind", ("email", "callback")), name="kind_known"),
        CheckConstraint(_in("status", ("pending", "sent", "done", "failed")), name="status_known"),
        Index("ix_family_notice_status", "status", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("care_request.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    kind: Mapped[str] = mapped_column(String(10))
    template: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(40))

    care_request: Mapped[CareRequest] = relationship()
