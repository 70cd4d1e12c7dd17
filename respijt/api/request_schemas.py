"""marshmallow schemas of the care-request API: input validation and documented shapes, and
the response body of one request (`request_dict`), built as a dict in `RequestSchema`'s shape."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from respijt.api import dutch, input_fields
from respijt.api.paging import PageQuery
from respijt.api.response_schemas import RequestSchema as RequestSchema
from respijt.api.schemas import ReservationSchema, StrictSchema
from respijt.api.sorting import Sort
from respijt.care_requests import lifecycle
from respijt.care_requests import offers as request_offers
from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES, REQUEST_LABELS
from respijt.codes import (
    LANGUAGES,
    REQUEST_CHANNELS,
    REQUEST_FUNDING,
    REQUEST_REASONS,
    REQUESTER_TYPES,
    URGENCIES,
)
from respijt.extensions import db
from respijt.models import CareRequest

ISO = "%Y-%m-%dT%H:%M:%SZ"


class ClientInput(StrictSchema):
    first_name = fields.String(
        required=True,
        validate=dutch.Length(min=1, max=40),
        metadata={"description": "voornaam of voorletters; nooit een BSN"},
    )
    birth_year = input_fields.Integer(required=True, validate=dutch.Range(min=1900, max=2100))


class ContactInput(StrictSchema):
    name = fields.String(required=True, validate=dutch.Length(min=1, max=80))
    mobile = fields.String(
        validate=dutch.Length(max=40),
        metadata={"description": "mobiel nummer, bijv. 06 …; zonder mobiel: phone en/of email"},
    )
    phone = fields.String(
        validate=dutch.Length(max=40),
        metadata={"description": "vast nummer, als er geen mobiel is: het meldpunt belt terug"},
    )
    email = fields.String(
        validate=dutch.Length(max=254),
        metadata={"description": "e-mailadres, als er geen mobiel is: berichten per e-mail"},
    )
    family = fields.Boolean(
        load_default=True,
        metadata={
            "description": "false (alleen een verwijzer): de familie niet benaderen; de "
            "contactpersoon is dan de verwijzer zelf, die de berichten krijgt (zonder link)"
        },
    )


class SeriesInput(StrictSchema):
    """One rule: `weekend_of_month` (1–4, -1 the last), `every_weeks`, or `every_days`."""

    weekend_of_month = input_fields.Integer(
        validate=dutch.OneOf([1, 2, 3, 4, -1]),
        metadata={"description": "één weekend per maand: het 1e–4e, of -1 het laatste"},
    )
    every_weeks = input_fields.Integer(validate=dutch.Range(min=1, max=13))
    every_days = input_fields.Integer(
        validate=dutch.Range(min=7, max=91),
        metadata={"description": "elke N dagen (ouder veld; 28 is niet 'een weekend per maand')"},
    )
    until = input_fields.Date(required=True, metadata={"description": "laatste mogelijke aankomst"})


class RequestInput(StrictSchema):
    requester = fields.String(validate=dutch.OneOf(list(REQUESTER_TYPES)))
    channel = fields.String(validate=dutch.OneOf(list(REQUEST_CHANNELS)))
    client = fields.Nested(ClientInput, required=True)
    municipality = fields.String(required=True, metadata={"description": "CBS-code"})
    target_group = fields.String(required=True)
    care_level = fields.String(load_default="basic")
    wheelchair = fields.Boolean(load_default=False)
    language = fields.String(validate=dutch.OneOf(list(LANGUAGES)))
    arrival = input_fields.Date(required=True)
    departure = input_fields.Date(required=True)
    flexibility_days = input_fields.Integer(load_default=0, validate=dutch.Range(min=0, max=30))
    urgency = fields.String(load_default="planned", validate=dutch.OneOf(list(URGENCIES)))
    reason = fields.String(required=True, validate=dutch.OneOf(list(REQUEST_REASONS)))
    funding = fields.String(load_default="onbekend", validate=dutch.OneOf(list(REQUEST_FUNDING)))
    contact = fields.Nested(ContactInput, required=True)
    consent = fields.Boolean(load_default=False)
    previous_request = fields.String(
        metadata={"description": "referentie van een eerdere aanvraag (continuïteit)"}
    )
    series = fields.Nested(SeriesInput)


class MatchesQuery(StrictSchema):
    limit = input_fields.Integer(
        load_default=request_offers.OPTIONS_SHOWN, validate=dutch.Range(min=1, max=50)
    )


# The fields a requests list may be sorted on (API names) and the model's attributes.
REQUEST_SORT_FIELDS = {
    "arrival": "arrival",
    "departure": "departure",
    "createdAt": "created_at",
    "status": "status",
    "urgency": "urgency",
}


class ListQuery(PageQuery):
    status = fields.String(validate=dutch.OneOf(["open", *REQUEST_LABELS]))
    attention = fields.Boolean(load_default=False)
    sort = Sort(list(REQUEST_SORT_FIELDS))


class PreferenceInput(StrictSchema):
    unit_id = input_fields.Id(required=True)


class ChoiceInput(StrictSchema):
    """The requester's (or verwijzer's) choice among the options shown: the unit, and the
    dates of the option when a unit was shown with more than one."""

    unit_id = input_fields.Id(required=True)
    arrival = input_fields.Date()
    departure = input_fields.Date()


class CloseInput(StrictSchema):
    reason = fields.String(required=True, validate=dutch.Length(min=1, max=300))


def iso_time(value: Any) -> str | None:
    return value.strftime(ISO) if value is not None else None


def request_dict(care_request: CareRequest, *, link_token: str | None = None) -> dict[str, Any]:
    municipality = care_request.municipality
    offers = request_offers.offers_of(db.session, care_request)
    body: dict[str, Any] = {
        "reference": care_request.reference,
        "status": care_request.status,
        "status_label": REQUEST_LABELS[care_request.status],
        "open": care_request.status in OPEN_REQUEST_STATUSES,
        "channel": care_request.channel,
        "requester": care_request.requester_type,
        "client": {"first_name": care_request.client_name, "birth_year": care_request.birth_year},
        "municipality": {"code": municipality.code, "name": municipality.name},
        "target_group": care_request.target_group,
        "care_level": care_request.care_level,
        "wheelchair": care_request.wheelchair,
        "language": care_request.language,
        "arrival": care_request.arrival.isoformat(),
        "departure": care_request.departure.isoformat(),
        "nights": care_request.nights,
        "flexibility_days": care_request.flexibility_days,
        "urgency": care_request.urgency,
        "reason": care_request.reason,
        "funding": care_request.funding,
        "contact": {
            "name": care_request.contact_name,
            "mobile": care_request.contact_mobile or None,
            "phone": care_request.contact_phone,
            "email": care_request.contact_email,
            "family": care_request.contact_family,
        },
        "previous_request": care_request.previous_request.reference
        if care_request.previous_request
        else None,
        "attention": {
            "since": iso_time(care_request.attention_at),
            "reason": care_request.attention_reason,
        }
        if care_request.attention_at
        else None,
        "created_at": iso_time(care_request.created_at),
        "first_offered_at": iso_time(care_request.first_offered_at),
        "waitlisted_at": iso_time(care_request.waitlisted_at),
        "placed_at": iso_time(care_request.placed_at),
        "closed_at": iso_time(care_request.closed_at),
        "lead_time_hours": lifecycle.lead_time_hours(care_request),
        "offers": ReservationSchema(many=True, exclude=("events",)).dump(offers),
        "history": [
            {
                "from_status": e.from_status,
                "to_status": e.to_status,
                "actor": e.actor,
                "reason": e.reason,
                "at": iso_time(e.at),
            }
            for e in care_request.events
        ],
    }
    if care_request.is_series:
        kind, _, n = (care_request.series_rule or "").partition(":")
        body["series"] = {
            "every_days": care_request.series_every_days,
            "weekend_of_month": int(n) if kind == "month" else None,
            "every_weeks": int(n) if kind == "weeks" else None,
            "rule": care_request.series_words,
            "until": care_request.series_until.isoformat() if care_request.series_until else None,
            "stays": [
                {
                    "arrival": s.arrival.isoformat(),
                    "departure": s.departure.isoformat(),
                    "status": s.status,
                    "reservation_id": s.reservation_id,
                }
                for s in care_request.stays
            ],
        }
    if link_token is not None:
        body["link_token"] = link_token
    return body
