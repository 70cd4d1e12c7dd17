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
from respijt.models.outbox import OutboxMessage
from respijt.models.registry import Location, Provider, ProviderRegion, Unit, UnitTargetGroup
from respijt.models.reservation import ApiToken, Reservation, ReservationEvent
from respijt.models.scheduler import JobRun, SchedulerLease

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
    "JobRun",
    "Location",
    "Municipality",
    "NightInventory",
    "OutboxMessage",
    "Provider",
    "ProviderRegion",
    "Region",
    "Reservation",
    "ReservationEvent",
    "SchedulerLease",
    "Unit",
    "UnitTargetGroup",
]
