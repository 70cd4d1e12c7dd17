"""All models, imported here so Alembic and the app see one metadata."""

from respijt.models.account import (
    AccessLog,
    AccessLogPurgePermit,
    RecoveryCode,
    User,
    UserRegion,
    UserRole,
    WebSession,
)
from respijt.models.base import Base
from respijt.models.geo import Municipality, Region
from respijt.models.inventory import AvailabilityChange, NightInventory
from respijt.models.registry import Location, Provider, ProviderRegion, Unit, UnitTargetGroup
from respijt.models.reservation import ApiToken, Reservation, ReservationEvent

__all__ = [
    "AccessLog",
    "AccessLogPurgePermit",
    "RecoveryCode",
    "User",
    "UserRegion",
    "UserRole",
    "WebSession",
    "ApiToken",
    "AvailabilityChange",
    "Base",
    "Location",
    "Municipality",
    "NightInventory",
    "Provider",
    "ProviderRegion",
    "Region",
    "Reservation",
    "ReservationEvent",
    "Unit",
    "UnitTargetGroup",
]
