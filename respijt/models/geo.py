"""Regions (zorgregio's) and municipalities (gemeenten)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from respijt.models.base import Base


class Region(Base):
    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    meldpunt_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    # The coordinator's phone (E.164): last line of the meldpunt and where rota gaps are reported.
    coordinator_phone: Mapped[str | None] = mapped_column(String(20))

    municipalities: Mapped[list[Municipality]] = relationship(
        back_populates="region", order_by="Municipality.name"
    )


class Municipality(Base):
    __tablename__ = "municipality"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)  # CBS code such as GM0503
    name: Mapped[str] = mapped_column(String(120))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]

    region: Mapped[Region | None] = relationship(back_populates="municipalities")
