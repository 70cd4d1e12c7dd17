"""marshmallow schemas of the care-request API: input validation and documented shapes."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from respijt.api import input_fields
from respijt.api.schemas import StrictSchema
from respijt.care_requests.workflow import REQUEST_LABELS
from respijt.codes import (
    LANGUAGES,
    REQUEST_CHANNELS,
    REQUEST_FUNDING,
    REQUEST_REASONS,
    REQUESTER_TYPES,
    URGENCIES,
)


class ClientInput(StrictSchema):
    first_name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "voornaam of voorletters; nooit een BSN"},
    )
    birth_year = input_fields.Integer(required=True, validate=validate.Range(min=1900, max=2100))


class ContactInput(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    mobile = fields.String(required=True, metadata={"description": "mobiel nummer, bijv. 06 …"})


class SeriesInput(StrictSchema):
    every_days = input_fields.Integer(required=True, validate=validate.Range(min=7, max=91))
    until = input_fields.Date(required=True, metadata={"description": "laatste mogelijke aankomst"})


class RequestInput(StrictSchema):
    requester = fields.String(validate=validate.OneOf(list(REQUESTER_TYPES)))
    channel = fields.String(validate=validate.OneOf(list(REQUEST_CHANNELS)))
    client = fields.Nested(ClientInput, required=True)
    municipality = fields.String(required=True, metadata={"description": "CBS-code"})
    target_group = fields.String(required=True)
    care_level = fields.String(load_default="basic")
    wheelchair = fields.Boolean(load_default=False)
    language = fields.String(validate=validate.OneOf(list(LANGUAGES)))
    arrival = input_fields.Date(required=True)
    departure = input_fields.Date(required=True)
    flexibility_days = input_fields.Integer(load_default=0, validate=validate.Range(min=0, max=30))
    urgency = fields.String(load_default="planned", validate=validate.OneOf(list(URGENCIES)))
    reason = fields.String(required=True, validate=validate.OneOf(list(REQUEST_REASONS)))
    funding = fields.String(load_default="onbekend", validate=validate.OneOf(list(REQUEST_FUNDING)))
    contact = fields.Nested(ContactInput, required=True)
    consent = fields.Boolean(load_default=False)
    previous_request = fields.String(
        metadata={"description": "referentie van een eerdere aanvraag (continuïteit)"}
    )
    series = fields.Nested(SeriesInput)


class MatchesQuery(StrictSchema):
    limit = input_fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


class ListQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf(["open", *REQUEST_LABELS]))
    attention = fields.Boolean(load_default=False)


class PreferenceInput(StrictSchema):
    unit_id = input_fields.Id(required=True)


class CloseInput(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=300))


class RequestSchema(ma.Schema):
    """Documented shape; the view builds it as a dict."""

    reference = fields.String()
    status = fields.String()
    status_label = fields.String()
    link_token = fields.String(metadata={"description": "alleen bij een publieke aanvraag"})
