"""Reactions and complaints from the public form "Klachten en reacties".

Only what the form asks: a rating, the words given, which page, and the region when the visitor
came from a gemeente's link. No name or phone number is asked. In the database, not a local
file, so backups hold them and the retention job removes them after
RESPIJT_COMPLAINT_RETENTION_DAYS.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from respijt.models.base import Base, UTCDateTime

RATINGS = ("goed", "matig", "slecht")


class Complaint(Base):
    __tablename__ = "complaint"
    __table_args__ = (
        CheckConstraint(
            "rating IS NULL OR rating IN ('goed', 'matig', 'slecht')", name="known_rating"
        ),
        Index("ix_complaint_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    region_id: Mapped[int | None] = mapped_column(
        ForeignKey("region.id", ondelete="SET NULL"), index=True
    )
    rating: Mapped[str | None] = mapped_column(String(10))
    page: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text)
