"""marshmallow schemas of the API: input validation and the documented response shapes."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields

from respijt.api import dutch, input_fields
from respijt.api.sorting import Sort
from respijt.care_requests.access import PAGE_SIZE_MAX, RESERVATION_SORT_COLUMNS
from respijt.codes import CARE_LEVELS, FUNDING_ROUTES, TARGET_GROUPS
from respijt.reservations.workflow import RESERVATION_LABELS


class StrictSchema(ma.Schema):
    """Every input schema: unknown fields refused; ids, numbers and dates bounded
    (respijt/api/input_fields.py), which is checked when the schema is made."""

    class Meta:
        unknown = ma.RAISE

    error_messages = dutch.SCHEMA_MESSAGES

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        input_fields.check_input_field(f"{type(self).__name__}.{field_name}", field_obj)


DEPRECATED_SUFFIX = "_deprecated"


def deprecated_alias(new_key: str, **kwargs: Any) -> fields.String:
    """The old snake_case query key of a parameter renamed to camelCase (NLGov
    /core/query-keys-camel-case), accepted for one more major version (docs/api-changelog.md).
    Name the field `<attribute>_deprecated`; `AliasedQuery` folds it into `<attribute>`."""
    return fields.String(
        metadata={
            "deprecated": True,
            "description": f"Verouderd: gebruik {new_key}. Vervalt in versie 2 van de API.",
        },
        **kwargs,
    )


PAGE_MAX = 10_000


class PageQuery(StrictSchema):
    """The query keys of a page; a list's query schema inherits them."""

    page = input_fields.Integer(
        minimum=1, maximum=PAGE_MAX, load_default=1, metadata={"description": "pagina, vanaf 1"}
    )
    page_size = input_fields.Integer(
        minimum=1,
        maximum=PAGE_SIZE_MAX,
        load_default=25,
        data_key="pageSize",
        metadata={"description": f"aantal per pagina (hoogstens {PAGE_SIZE_MAX})"},
    )


class AliasedQuery(StrictSchema):
    """A query schema with deprecated aliases: `x_deprecated` is read into `x` unless the new
    key is given too (then the new key wins)."""

    @ma.post_load
    def fold_aliases(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        for key in [k for k in data if k.endswith(DEPRECATED_SUFFIX)]:
            value = data.pop(key)
            data.setdefault(key.removesuffix(DEPRECATED_SUFFIX), value)
        return data


def _range_check(data: dict[str, Any], max_nights: int = 366) -> None:
    night_from, night_to = data.get("night_from"), data.get("night_to")
    if night_from is None or night_to is None:
        return
    if night_to <= night_from:
        raise ma.ValidationError("'to' moet na 'from' liggen (de periode is halfopen).", "to")
    if (night_to - night_from).days > max_nights:
        raise ma.ValidationError(f"Vraag hoogstens {max_nights} nachten tegelijk op.", "to")


class RangeQuery(StrictSchema):
    night_from = input_fields.Date(
        required=True, data_key="from", metadata={"description": "eerste nacht"}
    )
    night_to = input_fields.Date(
        required=True, data_key="to", metadata={"description": "dag na de laatste nacht"}
    )

    @ma.validates_schema
    def check_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        _range_check(data)


TARGET_GROUP_CHOICE = dutch.OneOf(list(TARGET_GROUPS))


class AvailabilityQuery(RangeQuery, AliasedQuery):
    near = fields.String(
        validate=dutch.Regexp(
            r"^[Gg][Mm]\d{4}$", error="Geef de CBS-code van een gemeente, bijv. GM0503."
        ),
        metadata={
            "description": "CBS-code van de gemeente waar de cliënt woont: de plekken in de "
            "eigen regio en tot RESPIJT_NEAR_MAX_KM km daarbuiten, dichtstbijzijnde eerst, "
            "elk met distance_km"
        },
    )
    municipality = fields.String(
        metadata={"description": "CBS-code van de gemeente van de locatie, bijv. GM0503"}
    )
    region = fields.String(metadata={"description": "regiocode, bijv. H5"})
    target_group = fields.String(data_key="targetGroup", validate=TARGET_GROUP_CHOICE)
    target_group_deprecated = deprecated_alias(
        "targetGroup", data_key="target_group", validate=TARGET_GROUP_CHOICE
    )
    care_level = fields.String(
        data_key="careLevel",
        validate=dutch.OneOf(list(CARE_LEVELS), error="Onbekend zorgniveau."),
        metadata={"description": "nodige zorg; een eenheid met meer zorg telt ook"},
    )
    funding = fields.String(
        validate=dutch.OneOf(list(FUNDING_ROUTES), error="Onbekende financiering."),
        metadata={"description": "financiering: wmo, elv of wlz"},
    )
    wheelchair = fields.Boolean(
        load_default=False, metadata={"description": "alleen rolstoeltoegankelijk als true"}
    )


class LocationsQuery(AliasedQuery, PageQuery):
    municipality = fields.String()
    region = fields.String()
    target_group = fields.String(data_key="targetGroup", validate=TARGET_GROUP_CHOICE)
    target_group_deprecated = deprecated_alias(
        "targetGroup", data_key="target_group", validate=TARGET_GROUP_CHOICE
    )
    wheelchair = fields.Boolean(load_default=False)
    sort = Sort(["name"])


class ReservationListQuery(PageQuery):
    """The filters and page of GET /reservations (arrivals in a closed period)."""

    status = fields.String(validate=dutch.OneOf(list(RESERVATION_LABELS)))
    location = input_fields.Id(metadata={"description": "alleen deze locatie"})
    arrival_from = input_fields.Date(
        data_key="arrivalFrom", metadata={"description": "aankomst op of na deze dag"}
    )
    arrival_to = input_fields.Date(
        data_key="arrivalTo", metadata={"description": "aankomst op of voor deze dag"}
    )
    sort = Sort(list(RESERVATION_SORT_COLUMNS))

    @ma.validates_schema
    def check_period(self, data: dict[str, Any], **kwargs: Any) -> None:
        first, last = data.get("arrival_from"), data.get("arrival_to")
        if first is not None and last is not None and last < first:
            raise ma.ValidationError("'arrivalTo' mag niet vóór 'arrivalFrom' liggen.", "arrivalTo")


class NamedRef(ma.Schema):
    id = fields.Integer()
    name = fields.String()


class CodeRef(ma.Schema):
    code = fields.String()
    name = fields.String()


class NightSchema(ma.Schema):
    date = fields.Date()
    free = fields.Integer()


class UnitSchema(ma.Schema):
    """A unit: in availability and locations without the management fields (location_id …
    retired), which GET/POST/PATCH /units give."""

    id = fields.Integer()
    location_id = fields.Integer()
    name = fields.String()
    target_groups = fields.List(fields.String())
    wheelchair = fields.Boolean()
    requires_provider_confirmation = fields.Boolean()
    care_level = fields.String()
    min_nights = fields.Integer()
    max_nights = fields.Integer()
    funding_routes = fields.List(fields.String())
    nights = fields.List(
        fields.Nested(NightSchema), metadata={"description": "alleen bij availability"}
    )
    arrival_weekdays = fields.String(
        allow_none=True, metadata={"description": "aankomstdagen, 1=maandag … 7=zondag"}
    )
    default_capacity = fields.Integer(allow_none=True)
    retired = fields.Boolean(metadata={"description": "buiten gebruik gesteld"})


class LocationSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    postcode = fields.String()
    provider = fields.Nested(NamedRef)
    municipality = fields.Nested(CodeRef)
    region = fields.Nested(CodeRef, allow_none=True)
    updated_at = fields.String(metadata={"description": "UTC, ISO 8601 met Z"})
    stale = fields.Boolean()
    units = fields.List(fields.Nested(UnitSchema))
    distance_km = fields.Float(
        allow_none=True,
        metadata={"description": "afstand tot het midden van de gemeente uit near (km)"},
    )


class AvailabilitySchema(ma.Schema):
    night_from = fields.Date(data_key="from")
    night_to = fields.Date(data_key="to")
    locations = fields.List(fields.Nested(LocationSchema))


class RegionSchema(ma.Schema):
    code = fields.String()
    name = fields.String()
    meldpunt_number = fields.String(allow_none=True)
    municipalities = fields.List(fields.Nested(CodeRef))
    pool = fields.List(fields.Nested(NamedRef))


class MembershipSchema(StrictSchema):
    code = fields.String(required=True)
    in_pool = fields.Boolean(load_default=False)
    pool_weight = input_fields.Integer(load_default=1, validate=dutch.Range(min=0, max=100))


class ProviderInput(StrictSchema):
    name = fields.String(required=True, validate=dutch.Length(min=1, max=200))
    agb_code = fields.String(validate=dutch.Regexp(r"^\d{8}$", error="AGB-code: 8 cijfers."))
    kvk_number = fields.String(validate=dutch.Regexp(r"^\d{8}$", error="KvK-nummer: 8 cijfers."))
    duty_phone = fields.String()
    staff_mobiles = fields.List(fields.String())
    regions = fields.List(fields.Nested(MembershipSchema))


class ProviderPatch(ProviderInput):
    name = fields.String(validate=dutch.Length(min=1, max=200))


class ProviderSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    agb_code = fields.String(allow_none=True)
    kvk_number = fields.String(allow_none=True)
    duty_phone = fields.String(allow_none=True)
    regions = fields.List(fields.Dict())


class LocationInput(StrictSchema):
    provider_id = input_fields.Id(required=True)
    name = fields.String(required=True, validate=dutch.Length(min=1, max=200))
    address = fields.String(required=True, validate=dutch.Length(min=1, max=200))
    postcode = fields.String(required=True)
    municipality = fields.String(required=True)
    latitude = fields.Float(validate=dutch.Range(min=50.5, max=53.7), allow_none=True)
    longitude = fields.Float(validate=dutch.Range(min=3.2, max=7.3), allow_none=True)
    contact_mobile = fields.String()
    languages = fields.List(fields.String(validate=dutch.Length(min=2, max=3)))


class LocationPatch(LocationInput):
    provider_id = input_fields.Id(dump_only=True)
    name = fields.String(validate=dutch.Length(min=1, max=200))
    address = fields.String(validate=dutch.Length(min=1, max=200))
    postcode = fields.String()
    municipality = fields.String()


class UnitInput(StrictSchema):
    location_id = input_fields.Id(required=True)
    name = fields.String(required=True, validate=dutch.Length(min=1, max=200))
    target_groups = fields.List(
        fields.String(validate=dutch.OneOf(list(TARGET_GROUPS))), required=True
    )
    care_level = fields.String(validate=dutch.OneOf(list(CARE_LEVELS)))
    wheelchair = fields.Boolean()
    funding_routes = fields.List(fields.String(validate=dutch.OneOf(list(FUNDING_ROUTES))))
    min_nights = input_fields.Integer(validate=dutch.Range(min=1, max=366))
    max_nights = input_fields.Integer(validate=dutch.Range(min=1, max=366))
    arrival_weekdays = fields.String(validate=dutch.Regexp(r"^[1-7]{1,7}$"))
    requires_provider_confirmation = fields.Boolean()
    default_capacity = input_fields.Integer(validate=dutch.Range(min=0, max=200))


class UnitPatch(UnitInput):
    location_id = input_fields.Id(dump_only=True)
    name = fields.String(validate=dutch.Length(min=1, max=200))
    target_groups = fields.List(fields.String(validate=dutch.OneOf(list(TARGET_GROUPS))))


class CapacityRangeSchema(StrictSchema):
    night_from = input_fields.Date(required=True, data_key="from")
    night_to = input_fields.Date(required=True, data_key="to")
    capacity = input_fields.Integer(required=True)


class CapacityInput(StrictSchema):
    ranges = fields.List(
        fields.Nested(CapacityRangeSchema), required=True, validate=dutch.Length(min=1, max=400)
    )


class ChangeSchema(ma.Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    night_from = fields.Date(data_key="from")
    night_to = fields.Date(data_key="to")
    new_capacity = fields.Integer(data_key="capacity")
    old_capacities = fields.List(fields.Dict(), data_key="previous")
    actor = fields.String()
    channel = fields.String()
    changed_at = fields.AwareDateTime(format="%Y-%m-%dT%H:%M:%SZ")


# HH:MM on the 24-hour clock.
ARRIVAL_TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"


class ReservationInput(StrictSchema):
    unit_id = input_fields.Id(required=True)
    arrival = input_fields.Date(required=True)
    departure = input_fields.Date(required=True)
    confirm = fields.Boolean(load_default=False)
    expected_arrival_time = fields.String(validate=dutch.Regexp(ARRIVAL_TIME_PATTERN))
    request = fields.String(metadata={"description": "referentie van de aanvraag"})
    choice_reason = fields.String(
        validate=dutch.Length(max=300),
        metadata={"description": "verplicht als het meldpunt afwijkt van de voorkeur"},
    )


class ReasonInput(StrictSchema):
    reason = fields.String(validate=dutch.Length(max=300))


class DatesInput(StrictSchema):
    arrival = input_fields.Date(required=True)
    departure = input_fields.Date(required=True)
    reason = fields.String(validate=dutch.Length(max=300))


class ReservationEventSchema(ma.Schema):
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    detail = fields.String(allow_none=True)
    actor = fields.String()
    reason = fields.String(allow_none=True)
    at = fields.AwareDateTime(format="%Y-%m-%dT%H:%M:%SZ")


class ReservationSchema(ma.Schema):
    id = fields.Integer()
    status = fields.String()
    unit_id = fields.Integer()
    arrival = fields.Date()
    departure = fields.Date()
    nights = fields.Integer()
    expires_at = fields.AwareDateTime(format="%Y-%m-%dT%H:%M:%SZ", allow_none=True)
    short_code = fields.String()
    request_id = fields.Integer(allow_none=True)
    expected_arrival_time = fields.String(allow_none=True)
    requires_provider_confirmation = fields.Boolean(attribute="unit.requires_provider_confirmation")
    created_at = fields.AwareDateTime(format="%Y-%m-%dT%H:%M:%SZ")
    events = fields.List(fields.Nested(ReservationEventSchema), data_key="history")


_API_TIME = "%Y-%m-%dT%H:%M:%SZ"


def reservation_body(reservation: Any) -> dict[str, Any]:
    """What `ReservationSchema().dump(reservation)` gives (for a Reservation or a
    reservations.holds.HoldView), built directly: marshmallow's per-field machinery was a large
    part of the Python time of `POST /api/v1/reservations`. The schema stays the documented
    shape; tests/api/test_api_reservations.py checks both agree."""
    expires_at = reservation.expires_at
    return {
        "id": reservation.id,
        "status": reservation.status,
        "unit_id": reservation.unit_id,
        "arrival": reservation.arrival.isoformat(),
        "departure": reservation.departure.isoformat(),
        "nights": reservation.nights,
        "expires_at": expires_at.strftime(_API_TIME) if expires_at is not None else None,
        "short_code": reservation.short_code,
        "request_id": reservation.request_id,
        "expected_arrival_time": reservation.expected_arrival_time,
        "requires_provider_confirmation": reservation.requires_provider_confirmation,
        "created_at": reservation.created_at.strftime(_API_TIME),
        "history": [
            {
                "from_status": event.from_status,
                "to_status": event.to_status,
                "detail": event.detail,
                "actor": event.actor,
                "reason": event.reason,
                "at": event.at.strftime(_API_TIME),
            }
            for event in reservation.history
        ],
    }
