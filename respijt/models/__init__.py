"""All models, imported here so Alembic and the app see one metadata."""

from respijt.models.account import (
    AccessLog,
    LoginThrottle,
    RecoveryCode,
    User,
    UserRegion,
    UserRole,
    WebSession,
)
from respijt.models.base import Base
from respijt.models.care_request import (
    CareRequest,
    CareRequestEvent,
    CareRequestStay,
    FamilyNotice,
    RequestIdempotency,
    RequestOption,
)
from respijt.models.claims import (
    ClaimExport,
    ClaimLine,
    CountedMonth,
    Tariff,
    UnitMonthOccupancy,
)
from respijt.models.complaint import Complaint
from respijt.models.geo import Municipality, Region
from respijt.models.inventory import AvailabilityChange, NightInventory
from respijt.models.outbox import OutboxMessage
from respijt.models.registry import Location, Provider, ProviderRegion, Unit, UnitTargetGroup
from respijt.models.reservation import (
    ApiToken,
    ApiTokenRegion,
    Reservation,
    ReservationEvent,
    StayMonthChange,
)
from respijt.models.rota import (
    CallLeg,
    HandoverNote,
    MeldpuntCall,
    RotaEvent,
    RotaFeedToken,
    RotaShift,
    RotaSwap,
    Voicemail,
)
from respijt.models.satisfaction import SatisfactionSurvey
from respijt.models.scheduler import JobRun, SchedulerLease
from respijt.models.sms import InboundMessage, MessageStatusEvent, SmsOptOut, TwilioWebhookReceipt

__all__ = [
    "FamilyNotice",
    "AccessLog",
    "LoginThrottle",
    "RequestIdempotency",
    "RecoveryCode",
    "User",
    "UserRegion",
    "UserRole",
    "WebSession",
    "CallLeg",
    "HandoverNote",
    "MeldpuntCall",
    "RotaEvent",
    "RotaFeedToken",
    "RotaShift",
    "RotaSwap",
    "Voicemail",
    "ApiToken",
    "ApiTokenRegion",
    "AvailabilityChange",
    "Base",
    "Complaint",
    "JobRun",
    "SatisfactionSurvey",
    "CareRequest",
    "ClaimExport",
    "ClaimLine",
    "CareRequestEvent",
    "CareRequestStay",
    "Location",
    "Municipality",
    "NightInventory",
    "OutboxMessage",
    "Provider",
    "ProviderRegion",
    "Region",
    "RequestOption",
    "Reservation",
    "ReservationEvent",
    "StayMonthChange",
    "SchedulerLease",
    "InboundMessage",
    "MessageStatusEvent",
    "SmsOptOut",
    "Tariff",
    "UnitMonthOccupancy",
    "CountedMonth",
    "TwilioWebhookReceipt",
    "Unit",
    "UnitTargetGroup",
]
