"""All models, imported here so Alembic and the app see one metadata."""

from respijt.models.base import Base
from respijt.models.care_request import (
    CareRequest,
    CareRequestEvent,
    CareRequestStay,
    RequestOption,
)
from respijt.models.geo import Municipality, Region
from respijt.models.inventory import AvailabilityChange, NightInventory
from respijt.models.registry import Location, Provider, ProviderRegion, Unit, UnitTargetGroup
from respijt.models.reservation import ApiToken, Reservation, ReservationEvent

__all__ = [
    "ApiToken",
    "AvailabilityChange",
    "Base",
    "CareRequest",
    "CareRequestEvent",
    "CareRequestStay",
    "Location",
    "Municipality",
    "NightInventory",
    "Provider",
    "ProviderRegion",
    "Region",
    "RequestOption",
    "Reservation",
    "ReservationEvent",
    "Unit",
    "UnitTargetGroup",
]
