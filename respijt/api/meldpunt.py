"""The meldpunt: who is on duty and the phone console (call-back worklist, call log, weekly
figures). The rota's routes (`api/rota.py`) join this blueprint and share its helpers.

Views parse, authorize, act in one `respijt.edge.transaction` and serialize.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import marshmallow as ma
from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import fields
from sqlalchemy import select

from respijt import clock, edge
from respijt.api import input_fields, paging
from respijt.api import response_schemas as rs
from respijt.api.paging import PageQuery
from respijt.api.schemas import StrictSchema
from respijt.api.security import client_source, requires
from respijt.errors import Forbidden, InvalidInput, NotFound
from respijt.extensions import db
from respijt.meldpunt import duty, generation, phone, phone_access
from respijt.models import (
    CallLeg,
    MeldpuntCall,
    Provider,
    ProviderRegion,
    Region,
    RotaShift,
    Voicemail,
)
from respijt.people.caller import Caller, in_visible_regions, visible_regions
from respijt.serving.callers import current_caller, read_only

blp = Blueprint("rota", __name__, description="Meldpunt: dienstrooster en telefonie")

COORDINATORS = ("coordinator", "admin")
POOL_STAFF = ("provider", "meldpunt")
ROTA_READERS = ("provider", "meldpunt", "coordinator", "admin")
ISO = "%Y-%m-%dT%H:%M:%SZ"


def iso_utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime(ISO) if moment is not None else None


def provider_ref(provider: Provider | None) -> dict[str, Any] | None:
    return {"id": provider.id, "name": provider.name} if provider is not None else None


def region_ref(region: Region) -> dict[str, Any]:
    return {"code": region.code, "name": region.name, "meldpunt_number": region.meldpunt_number}


def own_provider(caller: Caller) -> int:
    if caller.provider_id is None:
        raise Forbidden("Dit token hoort niet bij een aanbieder.")
    return caller.provider_id


def visible_region(code: str) -> Region:
    """The region by code among those the caller may see (404 otherwise: reads)."""
    return generation.region_by_code(db.session, code, visible_regions(current_caller()))


def ensure_region_access(caller: Caller, region_id: int, *, on_duty: bool = False) -> None:
    """Admins may act in every region, coordinators in their own (403 for another: writes; reads
    find the region through `visible_region`); pool staff only in their pool's (on duty if
    asked)."""
    if caller.role in COORDINATORS:
        if not db.session.scalar(
            select(Region.id).where(
                Region.id == region_id, in_visible_regions(visible_regions(caller), Region.id)
            )
        ):
            raise Forbidden("Deze regio hoort niet bij uw regio's.")
        return
    provider_id = own_provider(caller)
    if on_duty:
        allowed = db.session.scalars(duty.on_duty_region_ids(provider_id, clock.now())).all()
        if region_id not in allowed:
            raise Forbidden("Alleen de aanbieder die dienst heeft mag dit zien.")
        return
    if db.session.get(ProviderRegion, (provider_id, region_id)) is None:
        raise Forbidden("Uw aanbieder werkt niet in deze regio.")


# --- schemas --------------------------------------------------------------------------------


class DutyQuery(StrictSchema):
    region = fields.String(metadata={"description": "regiocode, bijvoorbeeld H5"})


class VoicemailQuery(PageQuery):
    region = fields.String(required=True)
    open = fields.Boolean(load_default=False)


class CallsQuery(StrictSchema):
    """A region's days `from` up to `to`, at most `max_days` of them."""

    max_days = 366
    region = fields.String(required=True)
    day_from = input_fields.Date(required=True, data_key="from")
    day_to = input_fields.Date(required=True, data_key="to")

    @ma.validates_schema
    def check_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["day_to"] <= data["day_from"]:
            raise ma.ValidationError("'to' moet na 'from' liggen.", "to")
        if (data["day_to"] - data["day_from"]).days > self.max_days:
            raise ma.ValidationError(f"Vraag hoogstens {self.max_days} dagen tegelijk op.", "to")


class LinkBody(StrictSchema):
    request = fields.String(required=True, metadata={"description": "referentie, R-…"})


class StatsQuery(StrictSchema):
    region = fields.String(required=True)
    week = input_fields.Date(required=True, metadata={"description": "een dag in de week (ma-zo)"})


class RegionRefSchema(ma.Schema):
    code = fields.String()
    name = fields.String()
    meldpunt_number = fields.String(allow_none=True)


class ProviderRefSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


class DutyEntrySchema(ma.Schema):
    region = fields.Nested(RegionRefSchema)
    provider = fields.Nested(
        ProviderRefSchema, allow_none=True, metadata={"description": "null bij een gat"}
    )
    until = fields.String(
        allow_none=True,
        metadata={"description": "UTC, ISO 8601 met Z: einde van de dienst (of van het gat)"},
    )
    phone = fields.String(allow_none=True, metadata={"description": "het meldpuntnummer"})


def local_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=clock.LOCAL_TZ)


# --- who is on duty (public) ----------------------------------------------------------------


@blp.route("/duty/current", methods=["GET"])
@blp.arguments(DutyQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200, DutyEntrySchema(many=True))
@read_only
def duty_current(region: str | None = None) -> ResponseReturnValue:
    """Per regio: de aanbieder die nu het meldpunt is en tot wanneer (`null` bij een gat)."""
    now = clock.now()
    query = select(Region).order_by(Region.code)
    if region:
        query = query.where(Region.code == region)
    regions = list(db.session.scalars(query))
    if region and not regions:
        raise NotFound(f"Regio '{region}' bestaat niet.")
    result = []
    for item in regions:
        shift = duty.shift_at(db.session, item.id, now)
        if shift is None:
            following = db.session.scalars(
                select(RotaShift)
                .where(
                    RotaShift.region_id == item.id,
                    RotaShift.status == "active",
                    RotaShift.starts_at > now,
                )
                .order_by(RotaShift.starts_at)
            ).first()
            result.append(
                {
                    "region": region_ref(item),
                    "provider": None,
                    "until": iso_utc(following.starts_at) if following else None,
                    "phone": item.meldpunt_number,
                }
            )
            continue
        result.append(
            {
                "region": region_ref(item),
                "provider": provider_ref(shift.provider),
                "until": iso_utc(duty.duty_until(db.session, shift)),
                "phone": item.meldpunt_number,
            }
        )
    return jsonify(result)


# --- the phone console ----------------------------------------------------------------------


def _log_phone_access(caller: Caller, action: str, reference: str, region_id: int) -> None:
    """Callers' numbers are personal data: every read or change is in the access log."""
    phone_access.log_phone_access(
        db.session, caller, action, reference, region_id, source=client_source()
    )


def _voicemail(item: Voicemail) -> dict[str, Any]:
    return {
        "id": item.id,
        "call_id": item.call_id,
        "caller": item.caller_number,
        "recording_url": item.recording_url,
        "duration_seconds": item.duration_seconds,
        "created_at": iso_utc(item.created_at),
        "done": item.done_at is not None,
        "done_at": iso_utc(item.done_at),
    }


@blp.route("/meldpunt/voicemails", methods=["GET"])
@blp.arguments(VoicemailQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200, paging.page_schema(rs.VoicemailSchema))
@blp.doc(security=[{"bearer": []}])
@requires("meldpunt", *COORDINATORS)
def list_voicemails(region: str, open: bool = False, **args: Any) -> ResponseReturnValue:  # noqa: A002
    """Terugbellijst: voicemails van een regio (`open=true`: alleen nog niet afgehandeld), per
    pagina."""
    caller = current_caller()

    def work() -> dict[str, Any]:
        item = visible_region(region)
        ensure_region_access(caller, item.id, on_duty=True)
        shown, has_next = paging.slice_page(
            phone.voicemails(db.session, item.id, open_only=open), args
        )
        found = paging.page_body(args, [_voicemail(v) for v in shown], has_next)
        _log_phone_access(caller, "voicemail.list", f"voicemails:{item.code}", item.id)
        return found

    return jsonify(edge.transaction(work))


@blp.route("/meldpunt/voicemails/<int:voicemail_id>/done", methods=["POST"])
@blp.response(200, rs.VoicemailSchema)
@blp.doc(security=[{"bearer": []}])
@requires("meldpunt", *COORDINATORS)
def voicemail_done(voicemail_id: int) -> ResponseReturnValue:
    """Markeer een terugbelactie als afgehandeld."""
    caller = current_caller()

    def work() -> dict[str, Any]:
        item = db.session.get(Voicemail, voicemail_id)
        if item is None or item.region_id is None:
            raise NotFound(f"Voicemail {voicemail_id} bestaat niet.")
        try:
            ensure_region_access(caller, item.region_id, on_duty=True)
        except Forbidden as exc:
            raise NotFound(f"Voicemail {voicemail_id} bestaat niet.") from exc
        _log_phone_access(caller, "voicemail.done", f"voicemail:{voicemail_id}", item.region_id)
        return _voicemail(
            phone.mark_voicemail_done(db.session, voicemail_id, actor=caller.key, now=clock.now())
        )

    return jsonify(edge.transaction(work))


def _call(call: MeldpuntCall) -> dict[str, Any]:
    legs = db.session.scalars(
        select(CallLeg).where(CallLeg.call_id == call.id).order_by(CallLeg.seq)
    )
    return {
        "id": call.id,
        "from": call.from_number,
        "status": call.status,
        "started_at": iso_utc(call.started_at),
        "answered_at": iso_utc(call.answered_at),
        "accepted_by": call.accepted_by_id,
        "care_request_id": call.care_request_id,
        "legs": [
            {
                "seq": leg.seq,
                "role": leg.role,
                "number": leg.number,
                "provider_id": leg.provider_id,
                "started_at": iso_utc(leg.started_at),
                "accepted_at": iso_utc(leg.accepted_at),
                "ended_at": iso_utc(leg.ended_at),
                "outcome": leg.outcome,
            }
            for leg in legs
        ],
    }


@blp.route("/meldpunt/calls", methods=["GET"])
@blp.arguments(CallsQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200, rs.CallSchema(many=True))
@blp.doc(security=[{"bearer": []}])
@requires("meldpunt", *COORDINATORS)
def list_calls(region: str, day_from: date, day_to: date) -> ResponseReturnValue:
    """Gesprekken met elk gebeld nummer, tijd, uitkomst en wie aannam."""
    caller = current_caller()

    def work() -> list[dict[str, Any]]:
        item = visible_region(region)
        ensure_region_access(caller, item.id, on_duty=True)
        calls = db.session.scalars(
            select(MeldpuntCall)
            .where(
                MeldpuntCall.region_id == item.id,
                MeldpuntCall.started_at >= local_start(day_from),
                MeldpuntCall.started_at < local_start(day_to),
            )
            .order_by(MeldpuntCall.started_at)
        )
        found = [_call(c) for c in calls]
        _log_phone_access(caller, "call.list", f"calls:{item.code}", item.id)
        return found

    return jsonify(edge.transaction(work))


@blp.route("/meldpunt/calls/<int:call_id>/request", methods=["POST"])
@blp.arguments(LinkBody, as_kwargs=True)
@blp.response(200, rs.CallSchema)
@blp.doc(security=[{"bearer": []}])
@requires("meldpunt", *COORDINATORS)
def link_call(call_id: int, request: str) -> ResponseReturnValue:
    """Koppel een gesprek aan de aanvraag die tijdens het gesprek is opgenomen."""
    caller = current_caller()

    def work() -> dict[str, Any]:
        call = phone.get_call(db.session, call_id)
        if call.region_id is None:
            raise InvalidInput("Dit gesprek hoort bij geen regio.")
        ensure_region_access(caller, call.region_id, on_duty=True)
        _log_phone_access(caller, "call.link", f"call:{call_id}", call.region_id)
        return _call(phone.link_request(db.session, call_id, request))

    return jsonify(edge.transaction(work))


@blp.route("/meldpunt/stats", methods=["GET"])
@blp.arguments(StatsQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200, rs.WeeklyStatsSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*COORDINATORS)
@read_only
def weekly_stats(region: str, week: date) -> ResponseReturnValue:
    """Coördinator: per week gesprekken, binnen 30 s aangenomen, gemist, voicemails, teruggebeld."""
    item = visible_region(region)
    monday = week - timedelta(days=week.weekday())
    return jsonify({"region": region_ref(item), **phone.weekly_stats(db.session, item.id, monday)})
