"""The documented shapes of answers that are built as dicts in the views (rota, meldpunt, claims,
reports, care requests). They are `Open`: the listed fields are there with these types, and a
later minor version may add fields (docs/api-changelog.md, version policy), so additional
properties are allowed. tests/api/test_api_schemathesis.py checks the answers against them.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields

from respijt.api.schemas import ReservationSchema

_TIME = {"description": "UTC, ISO 8601 met Z", "format": "date-time"}


class Open(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE


def _time(**kwargs: Any) -> fields.String:
    return fields.String(allow_none=True, metadata=_TIME, **kwargs)


def _text(**kwargs: Any) -> fields.String:
    return fields.String(allow_none=True, **kwargs)


def _number(**kwargs: Any) -> fields.Integer:
    return fields.Integer(allow_none=True, **kwargs)


class Ref(Open):
    id = fields.Integer()
    name = fields.String()


class CodeName(Open):
    code = fields.String()
    name = fields.String()


class OfferSchema(ReservationSchema):
    """A reservation offered for a request, without its history."""

    class Meta:
        exclude = ("events",)


# --- care requests -----------------------------------------------------------------------------


class RequestListItem(Open):
    reference = fields.String()
    status = fields.String()
    urgency = fields.String()
    arrival = fields.Date()
    departure = fields.Date()
    attention = _text(metadata={"description": "reden van aandacht (spoed zonder aanbod)"})
    created_at = _time()


class RequestSchema(Open):
    """One care request (`request_schemas.request_dict`)."""

    reference = fields.String()
    status = fields.String()
    status_label = fields.String()
    open = fields.Boolean()
    channel = _text()
    requester = _text()
    client = fields.Dict(metadata={"description": "first_name en birth_year; nooit een BSN"})
    municipality = fields.Nested(CodeName)
    target_group = fields.String()
    care_level = _text()
    wheelchair = fields.Boolean()
    language = _text()
    arrival = fields.Date()
    departure = fields.Date()
    nights = fields.Integer()
    flexibility_days = _number()
    urgency = _text()
    reason = _text()
    funding = _text()
    contact = fields.Dict(allow_none=True)
    previous_request = _text()
    attention = fields.Dict(allow_none=True)
    created_at = _time()
    first_offered_at = _time()
    waitlisted_at = _time()
    placed_at = _time()
    closed_at = _time()
    lead_time_hours = fields.Float(allow_none=True)
    offers = fields.List(fields.Nested(OfferSchema))
    history = fields.List(fields.Dict())
    series = fields.Dict(metadata={"description": "alleen bij een reeks verblijven"})
    link_token = fields.String(metadata={"description": "alleen bij een publieke aanvraag"})


class MatchSchema(Open):
    """A unit that fits, best first. Also `exact_dates` (boolean: the asked dates, not shifted
    within the flexibility), left out of the listing because the NLGov linter takes every name
    with "_date" in it for a date."""

    unit_id = fields.Integer()
    unit_name = fields.String()
    location = fields.Dict()
    arrival = fields.Date()
    departure = fields.Date()
    score = fields.Float()
    reasons = fields.List(fields.String())
    requires_provider_confirmation = fields.Boolean()
    declined_reason = _text()


class PreferenceSchema(Open):
    unit_id = fields.Integer()
    preferred_at = _time()


class SeriesHoldSchema(Open):
    held = fields.List(fields.Nested(OfferSchema))
    unplaced = fields.List(fields.Dict())
    request = fields.Nested(RequestSchema)


class ReservationListItem(Open):
    id = fields.Integer()
    short_code = fields.String()
    status = fields.String()
    status_label = fields.String()
    unit = fields.Nested(Ref)
    location = fields.Nested(Ref)
    arrival = fields.Date()
    departure = fields.Date()
    client = fields.Dict(metadata={"description": "alleen voor de aanbieder van het verblijf"})


class PageLinkSchema(ma.Schema):
    href = fields.String()


class PageLinksSchema(ma.Schema):
    self = fields.Nested(PageLinkSchema, required=True)
    first = fields.Nested(PageLinkSchema, required=True)
    prev = fields.Nested(PageLinkSchema)
    next = fields.Nested(PageLinkSchema)


class PageSchema(ma.Schema):
    """One page of a list (NLGov paging): `page`, `pageSize` and HAL `_links`."""

    _links = fields.Nested(PageLinksSchema, required=True, data_key="_links")
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True, data_key="pageSize")


# --- meldpunt and rota -------------------------------------------------------------------------


class RegionCodeSchema(Open):
    code = fields.String()
    name = fields.String()
    meldpunt_number = _text()


class VoicemailSchema(Open):
    id = fields.Integer()
    call_id = _number()
    caller = _text()
    recording_url = _text()
    duration_seconds = _number()
    created_at = _time()
    done = fields.Boolean()
    done_at = _time()


class CallLegSchema(Open):
    seq = fields.Integer()
    role = _text()
    number = _text()
    provider_id = _number()
    started_at = _time()
    accepted_at = _time()
    ended_at = _time()
    outcome = _text()


class CallSchema(Open):
    id = fields.Integer()
    caller_number = _text(data_key="from")
    status = _text()
    started_at = _time()
    answered_at = _time()
    accepted_by = _number()
    care_request_id = _number()
    legs = fields.List(fields.Nested(CallLegSchema))


class WeeklyStatsSchema(Open):
    region = fields.Nested(RegionCodeSchema)


class ShiftSchema(Open):
    id = fields.Integer()
    provider = fields.Nested(Ref, allow_none=True)
    starts_at = _time()
    ends_at = _time()
    kind = _text()
    holiday = _text()


class GapSchema(Open):
    starts_at = _time()
    ends_at = _time()


class ShiftsSchema(Open):
    region = fields.Nested(RegionCodeSchema)
    day_from = fields.Date(data_key="from")
    day_to = fields.Date(data_key="to")
    shifts = fields.List(fields.Nested(ShiftSchema))
    gaps = fields.List(fields.Nested(GapSchema))


class OverrideResultSchema(Open):
    shift = fields.Nested(ShiftSchema, allow_none=True)


class RotaEventSchema(Open):
    id = fields.Integer()
    kind = fields.String()
    at = _time()
    actor = _text()
    shift_id = _number()
    swap_id = _number()
    detail = _text()


class SwapSchema(Open):
    id = fields.Integer()
    shift_id = fields.Integer()
    status = fields.String()
    offered_by = _number()
    taken_by = _number()
    note = _text()
    created_at = _time()
    decided_at = _time()


class HandoverNoteSchema(Open):
    id = fields.Integer()
    provider = fields.Nested(Ref, allow_none=True)
    shift_id = _number()
    body = fields.String()
    created_at = _time()


class IcalLinkSchema(Open):
    url = fields.String(metadata={"description": "geheime agendalink (iCalendar)"})


# --- claims and reports ------------------------------------------------------------------------


class ClaimLinesSchema(Open):
    month = fields.String(metadata={"description": "JJJJ-MM"})
    note = _text()
    lines = fields.List(fields.Dict())
    other_payers = fields.List(fields.Dict())


class ExportRefSchema(Open):
    id = fields.Integer()
    seq = fields.Integer()
    month = fields.String()
    provider = fields.Nested(Ref)
    exported_at = _time()


class ClaimExportSchema(ClaimLinesSchema):
    export = fields.Nested(ExportRefSchema, allow_none=True)


class TariffSchema(Open):
    id = fields.Integer()
    municipality = fields.String()
    funding = fields.String()
    product_code = fields.String()
    price = fields.String(metadata={"description": "per nacht, in euro, bijv. 123.45"})
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True)


class LeegstandSchema(Open):
    month = fields.String()
    provisional = fields.Boolean()
    units = fields.List(fields.Dict())
    total = fields.Dict(allow_none=True)


class KpiMonthSchema(Open):
    suppressed = fields.List(fields.String())


class KpiFiguresSchema(Open):
    pass


CSV = {"text/csv": {"schema": {"type": "string"}}}


def with_csv(code: int = 200) -> dict[str, Any]:
    """`@blp.doc(**with_csv())`: the answer is CSV with `?format=csv`."""
    return {"responses": {code: {"content": CSV}}}
