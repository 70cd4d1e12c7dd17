"""All models, imported here so Alembic and the app see one metadata."""

from respijt.models.base import Base
from respijt.models.geo import Municipality, Region
from respijt.models.inventory import AvailabilityChange, NightInventory
from respijt.models.registry import Location, Provider, ProviderRegion, Unit, UnitTargetGroup
from respijt.models.reservation import ApiToken, Reservation, ReservationEvent
from respijt.models.sms import InboundMessage, MessageStatusEvent, SmsOptOut, TwilioWebhookReceipt

__all__ = [
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
    "InboundMessage",
    "MessageStatusEvent",
    "SmsOptOut",
    "TwilioWebhookReceipt",
    "Unit",
    "UnitTargetGroup",
]
