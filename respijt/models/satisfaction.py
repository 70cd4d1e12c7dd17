"""The one-question SMS after departure: one row per stay asked, with its answer.

The row holds no phone number: who was asked is the outbox message it links to. The
municipality (the client's gemeente), provider and departure date are copied in so the KPI
survives the retention pass, which cuts the links to the stay and the message.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from respijt.models.base import Base, UTCDateTime


class SatisfactionSurvey(Base):
    __tablename__ = "satisfaction_survey"
    __table_args__ = (
        CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="score_1_to_5"),
        Index("ix_satisfaction_survey_departure", "departure"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: a stay is asked once. NULL after the retention pass.
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservation.id"), unique=True)
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id"), unique=True
    )
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    departure: Mapped[date] = mapped_column(Date)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)  # queued (sent: the outbox row)
    score: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
