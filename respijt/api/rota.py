"""The meldpunt: who is on duty, the rota (shifts, overrides, swaps, history, handover notes),
the iCal link, and the phone console (call-back worklist, call log, weekly figures).

Views are the transaction edge: parse → authorize → act → serialize → commit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import marshmallow as ma
from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy import select

from respijt import clock
from respijt.api import input_fields
from respijt.api.schemas import StrictSchema
from respijt.api.security import client_source, requires
from respijt.database import run_in_transaction
from respijt.errors import Forbidden, InvalidInput, NotFound
from respijt.extensions import db
from respijt.meldpunt import changes, duty, generation, ical, notices
from respijt.meldpunt import phone as voice
from respijt.models import (
    CallLeg,
    HandoverNote,
    MeldpuntCall,
    Provider,
    ProviderRegion,
    Region,
    RotaEvent,
    RotaShift,
    RotaSwap,
    Voicemail,
)
from respijt.people.caller import Caller, in_visible_regions, visible_regions
from respijt.privacy import access_log as privacy
from respijt.serving.callers import current_caller, read_only

blp = Blueprint("rota", __name__, description="Meldpunt: dienstrooster en telefonie")

COORDINATORS = ("coordinator", "admin")
POOL_STAFF = ("provider", "meldpunt")
ROTA_READERS = ("provider", "meldpunt", "coordinator", "admin")
ISO = "%Y-%m-%dT%H:%M:%SZ"


def _retries() -> int:
    return int(current_app.config["RESPIJT_TX_RETRIES"])


def _z(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime(ISO) if moment is not None else None


def _provider_ref(provider: Provider | None) -> dict[str, Any] | None:
    return {"id": provider.id, "name": provider.name} if provider is not None else None


def _region_ref(region: Region) -> dict[str, Any]:
    return {"code": region.code, "name": region.name, "meldpunt_number": region.meldpunt_number}


def _shift(shift: RotaShift) -> dict[str, Any]:
    return {
        "id": shift.id,
        "provider": _provider_ref(shift.provider),
        "starts_at": _z(shift.starts_at),
        "ends_at": _z(shift.ends_at),
        "kind": shift.kind,
        "holiday": shift.holiday,
    }


def _swap(swap: RotaSwap) -> dict[str, Any]:
    return {
        "id": swap.id,
        "shift_id": swap.shift_id,
        "status": swap.status,
        "offered_by": swap.offered_by_id,
        "taken_by": swap.taken_by_id,
        "note": swap.note,
        "created_at": _z(swap.created_at),
        "decided_at": _z(swap.decided_at),
    }


def _own_provider(caller: Caller) -> int:
    if caller.provider_id is None:
        raise Forbidden("Dit token hoort niet bij een aanbieder.")
    return caller.provider_id


def _visible_region(code: str) -> Region:
    """The region by code among those the caller may see (404 otherwise: reads)."""
    return generation.region_by_code(db.session, code, visible_regions(current_caller()))


def _ensure_region_access(caller: Caller, region_id: int, *, on_duty: bool = False) -> None:
    """Admins may act in every region, coordinators in their own (403 for another: writes; reads
    find the region through `_visible_region`); pool staff only in their pool's (on duty if
    asked)."""
    if caller.role in COORDINATORS:
        if not db.session.scalar(
            select(Region.id).where(
                Region.id == region_id, in_visible_regions(visible_regions(caller), Region.id)
            )
        ):
            raise Forbidden("Deze regio hoort niet bij uw regio's.")
        return
    provider_id = _own_provider(caller)
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


class ShiftsQuery(StrictSchema):
    region = fields.String(required=True)
    day_from = input_fields.Date(required=True, data_key="from")
    day_to = input_fields.Date(required=True, data_key="to")

    @ma.validates_schema
    def check_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["day_to"] <= data["day_from"]:
            raise ma.ValidationError("'to' moet na 'from' liggen.", "to")
        if (data["day_to"] - data["day_from"]).days > 400:
            raise ma.ValidationError("Vraag hoogstens 400 dagen tegelijk op.", "to")


class RegionQuery(StrictSchema):
    region = fields.String(required=True)


class SwapsQuery(StrictSchema):
    region = fields.String(required=True)
    status = fields.String(
        validate=validate.OneOf(("open", "taken", "done", "withdrawn", "refused"))
    )


class OverrideBody(StrictSchema):
    region = fields.String(required=True)
    provider_id = input_fields.Id(required=True, allow_none=True)
    starts_at = input_fields.AwareDateTime(required=True)
    ends_at = input_fields.AwareDateTime(required=True)
    reason = fields.String(load_default=None, validate=validate.Length(max=300))


class SwapOfferBody(StrictSchema):
    note = fields.String(load_default=None, validate=validate.Length(max=300))


class NoteBody(StrictSchema):
    region = fields.String(required=True)
    body = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class VoicemailQuery(StrictSchema):
    region = fields.String(required=True)
    open = fields.Boolean(load_default=False)


class CallsQuery(StrictSchema):
    region = fields.String(required=True)
    day_from = input_fields.Date(required=True, data_key="from")
    day_to = input_fields.Date(required=True, data_key="to")

    @ma.validates_schema
    def check_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["day_to"] <= data["day_from"]:
            raise ma.ValidationError("'to' moet na 'from' liggen.", "to")
        if (data["day_to"] - data["day_from"]).days > 366:
            raise ma.ValidationError("Vraag hoogstens 366 dagen tegelijk op.", "to")


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


def _local_start(day: date) -> datetime:
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
                    "region": _region_ref(item),
                    "provider": None,
                    "until": _z(following.starts_at) if following else None,
                    "phone": item.meldpunt_number,
                }
            )
            continue
        result.append(
            {
                "region": _region_ref(item),
                "provider": _provider_ref(shift.provider),
                "until": _z(duty.duty_until(db.session, shift)),
                "phone": item.meldpunt_number,
            }
        )
    return jsonify(result)


# --- the rota -------------------------------------------------------------------------------


@blp.route("/rota/shifts", methods=["GET"])
@blp.arguments(ShiftsQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200)
@blp.doc(security=[{"bearer": []}])
@requires(*ROTA_READERS)
@read_only
def list_shifts(region: str, day_from: date, day_to: date) -> ResponseReturnValue:
    """Diensten van een regio (lokale dagen from t/m to-1) en de gaten erin."""
    item = _visible_region(region)
    _ensure_region_access(current_caller(), item.id)
    start, end = _local_start(day_from), _local_start(day_to)
    shifts = generation.shifts_between(db.session, item.id, start, end)
    gaps = generation.find_gaps(db.session, item.id, start, end)
    return jsonify(
        {
            "region": _region_ref(item),
            "from": day_from.isoformat(),
            "to": day_to.isoformat(),
            "shifts": [_shift(s) for s in shifts],
            "gaps": [{"starts_at": _z(a), "ends_at": _z(b)} for a, b in gaps],
        }
    )


@blp.route("/rota/overrides", methods=["POST"])
@blp.arguments(OverrideBody, as_kwargs=True)
@blp.response(201)
@blp.doc(security=[{"bearer": []}])
@requires(*COORDINATORS)
def create_override(
    region: str, provider_id: int | None, starts_at: datetime, ends_at: datetime, reason: str | None
) -> ResponseReturnValue:
    """Coördinator: zet een aanbieder (of niemand: `null`) op dienst voor een periode."""
    caller = current_caller()

    def work() -> dict[str, Any]:
        item = generation.region_by_code(db.session, region)
        _ensure_region_access(caller, item.id)
        shift = changes.apply_override(
            db.session,
            item.id,
            provider_id=provider_id,
            starts_at=starts_at,
            ends_at=ends_at,
            actor=caller.key,
            now=clock.now(),
            reason=reason,
        )
        # An override to nobody opens a gap: tell the coordinator line now, not at 00:45.
        notices.alert_gaps(
            db.session,
            now=clock.now(),
            horizon_days=int(current_app.config["RESPIJT_ROTA_HORIZON_DAYS"]),
            region_id=item.id,
        )
        return {"shift": _shift(shift) if shift else None}

    return jsonify(run_in_transaction(db.session, work, _retries())), 201


@blp.route("/rota/history", methods=["GET"])
@blp.arguments(RegionQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200)
@blp.doc(security=[{"bearer": []}])
@requires(*COORDINATORS)
@read_only
def history(region: str) -> ResponseReturnValue:
    """Coördinator: de geschiedenis van het rooster (alleen toegevoegd, nooit gewijzigd)."""
    item = _visible_region(region)
    events = db.session.scalars(
        select(RotaEvent).where(RotaEvent.region_id == item.id).order_by(RotaEvent.id)
    )
    return jsonify(
        [
            {
                "id": e.id,
                "kind": e.kind,
                "at": _z(e.at),
                "actor": e.actor,
                "shift_id": e.shift_id,
                "swap_id": e.swap_id,
                "detail": e.detail,
            }
            for e in events
        ]
    )


@blp.route("/rota/swaps", methods=["GET"])
@blp.arguments(SwapsQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200)
@blp.doc(security=[{"bearer": []}])
@requires(*ROTA_READERS)
@read_only
def list_swaps(region: str, status: str | None = None) -> ResponseReturnValue:
    """Ruilverzoeken van een regio."""
    item = _visible_region(region)
    _ensure_region_access(current_caller(), item.id)
    query = select(RotaSwap).where(RotaSwap.region_id == item.id).order_by(RotaSwap.id)
    if status:
        query = query.where(RotaSwap.status == status)
    return jsonify([_swap(s) for s in db.session.scalars(query)])


@blp.route("/rota/shifts/<int:shift_id>/swaps", methods=["POST"])
@blp.arguments(SwapOfferBody, as_kwargs=True)
@blp.response(201)
@blp.doc(security=[{"bearer": []}])
@requires(*POOL_STAFF)
def offer_swap(shift_id: int, note: str | None) -> ResponseReturnValue:
    """Aanbieder: bied een eigen dienst ter ruil aan."""
    provider_id = _own_provider(current_caller())

    def work() -> dict[str, Any]:
        swap = changes.offer_swap(
            db.session, shift_id, provider_id=provider_id, now=clock.now(), note=note
        )
        return _swap(swap)

    return jsonify(run_in_transaction(db.session, work, _retries())), 201


def _swap_action(swap_id: int, action: str) -> ResponseReturnValue:
    caller = current_caller()

    def work() -> dict[str, Any]:
        now = clock.now()
        if action == "take":
            swap = changes.take_swap(
                db.session,
                swap_id,
                provider_id=_own_provider(caller),
                now=now,
                approval_required=bool(current_app.config["RESPIJT_ROTA_SWAP_APPROVAL"]),
            )
        elif action == "withdraw":
            swap = changes.withdraw_swap(
                db.session, swap_id, provider_id=_own_provider(caller), now=now
            )
        else:
            # A coordinator decides only on swaps in their own regions (403 for another's).
            region_id = db.session.scalar(select(RotaSwap.region_id).where(RotaSwap.id == swap_id))
            if region_id is not None:
                _ensure_region_access(caller, region_id)
            decide = changes.approve_swap if action == "approve" else changes.refuse_swap
            swap = decide(db.session, swap_id, actor=caller.key, now=now)
        return _swap(swap)

    return jsonify(run_in_transaction(db.session, work, _retries()))


@blp.route("/rota/swaps/<int:swap_id>/take", methods=["POST"])
@blp.response(200)
@blp.doc(security=[{"bearer": []}])
@requires(*POOL_STAFF)
def take_swap(swap_id: int) -> ResponseReturnValue:
    """Aanbieder: neem een aangeboden dienst over (eventueel na goedkeuring)."""
    return _swap_action(swap_id, "take")


@blp.route("/rota/swaps/<int:swap_id>/withdraw", methods=["POST"])
@blp.response(200)
@blp.doc(security=[{"bearer": []}])
@requires(*POOL_STAFF)
def withdraw_swap(swap_id: int) -> ResponseReturnValue:
    """Aanbieder: trek een eigen ruilverzoek in zolang niemand het nam."""
    return _swap_action(swap_id, "withdraw")


@blp.route("/rota/swaps/<int:swap_id>/approve", methods=["POST"])
@blp.response(200)
@blp.doc(security=[{"bearer": []}])
@requires(*COORDINATORS)
def approve_swap(swap_id: int) -> ResponseReturnValue:
    """Coördinator: keur een overgenomen dienst goed."""
    return _swap_action(swap_id, "approve")


@blp.route("/rota/swaps/<int:swap_id>/refuse", methods=["POST"])
@blp.response(200)
@blp.doc(security=[{"bearer": []}])
@requires(*COORDINATORS)
def refuse_swap(swap_id: int) -> ResponseReturnValue:
    """Coördinator: wijs een ruilverzoek af."""
    return _swap_action(swap_id, "refuse")


# --- handover notes and the iCal link -------------------------------------------------------


@blp.route("/rota/handover-notes", methods=["GET"])
@blp.arguments(RegionQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200)
@blp.doc(security=[{"bearer": []}])
@requires(*ROTA_READERS)
@read_only
def list_notes(region: str) -> ResponseReturnValue:
    """Overdrachtsnotities van de laatste twee weken, nieuwste eerst (voor wie dienst heeft)."""
    item = _visible_region(region)
    _ensure_region_access(current_caller(), item.id, on_duty=True)
    notes = notices.handover_notes(db.session, item.id, clock.now())
    return jsonify([_note(n) for n in notes])


def _note(note: HandoverNote) -> dict[str, Any]:
    provider = db.session.get(Provider, note.provider_id)
    return {
        "id": note.id,
        "provider": _provider_ref(provider),
        "shift_id": note.shift_id,
        "body": note.body,
        "created_at": _z(note.created_at),
    }


@blp.route("/rota/handover-notes", methods=["POST"])
@blp.arguments(NoteBody, as_kwargs=True)
@blp.response(201)
@blp.doc(security=[{"bearer": []}])
@requires(*POOL_STAFF)
def add_note(region: str, body: str) -> ResponseReturnValue:
    """Aanbieder met dienst: laat een notitie over open zaken achter (geen medische gegevens)."""
    provider_id = _own_provider(current_caller())
    grace = timedelta(minutes=int(current_app.config["RESPIJT_DUTY_GRACE_MINUTES"]))

    def work() -> dict[str, Any]:
        item = generation.region_by_code(db.session, region)
        note = notices.add_handover_note(
            db.session,
            region_id=item.id,
            provider_id=provider_id,
            body=body,
            now=clock.now(),
            grace=grace,
        )
        return _note(note)

    return jsonify(run_in_transaction(db.session, work, _retries())), 201


@blp.route("/rota/ical-token", methods=["POST"])
@blp.response(201)
@blp.doc(security=[{"bearer": []}])
@requires(*POOL_STAFF)
def create_ical_token() -> ResponseReturnValue:
    """Aanbieder: een (nieuwe) geheime agendalink met de eigen diensten; de oude vervalt."""
    provider_id = _own_provider(current_caller())

    def work() -> str:
        return ical.create_feed_token(db.session, provider_id, clock.now())

    secret = run_in_transaction(db.session, work, _retries())
    base = current_app.config["RESPIJT_PUBLIC_URL"]
    return jsonify({"url": f"{base}/rota/ical/{secret}.ics"}), 201


# --- the phone console ----------------------------------------------------------------------


PHONE_PURPOSE = "terugbellen meldpunt"


def _log_phone_access(caller: Caller, action: str, reference: str, region_id: int) -> None:
    """Callers' numbers are personal data: every read or change is in the access log."""
    privacy.log_access(
        db.session,
        action=action,
        caller=caller,
        client_reference=reference,
        outcome="success",
        purpose=PHONE_PURPOSE,
        source=client_source(),
        region_id=region_id,
    )


def _voicemail(item: Voicemail) -> dict[str, Any]:
    return {
        "id": item.id,
        "call_id": item.call_id,
        "caller": item.caller_number,
        "recording_url": item.recording_url,
        "duration_seconds": item.duration_seconds,
        "created_at": _z(item.created_at),
        "done": item.done_at is not None,
        "done_at": _z(item.done_at),
    }


@blp.route("/meldpunt/voicemails", methods=["GET"])
@blp.arguments(VoicemailQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200)
@blp.doc(security=[{"bearer": []}])
@requires("meldpunt", *COORDINATORS)
def list_voicemails(region: str, open: bool = False) -> ResponseReturnValue:  # noqa: A002
    """Terugbellijst: voicemails van een regio (`open=true`: alleen nog niet afgehandeld)."""
    caller = current_caller()

    def work() -> list[dict[str, Any]]:
        item = _visible_region(region)
        _ensure_region_access(caller, item.id, on_duty=True)
        found = [_voicemail(v) for v in voice.voicemails(db.session, item.id, open_only=open)]
        _log_phone_access(caller, "voicemail.list", f"voicemails:{item.code}", item.id)
        return found

    return jsonify(run_in_transaction(db.session, work, _retries()))


@blp.route("/meldpunt/voicemails/<int:voicemail_id>/done", methods=["POST"])
@blp.response(200)
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
            _ensure_region_access(caller, item.region_id, on_duty=True)
        except Forbidden as exc:
            raise NotFound(f"Voicemail {voicemail_id} bestaat niet.") from exc
        _log_phone_access(caller, "voicemail.done", f"voicemail:{voicemail_id}", item.region_id)
        return _voicemail(
            voice.mark_voicemail_done(db.session, voicemail_id, actor=caller.key, now=clock.now())
        )

    return jsonify(run_in_transaction(db.session, work, _retries()))


def _call(call: MeldpuntCall) -> dict[str, Any]:
    legs = db.session.scalars(
        select(CallLeg).where(CallLeg.call_id == call.id).order_by(CallLeg.seq)
    )
    return {
        "id": call.id,
        "from": call.from_number,
        "status": call.status,
        "started_at": _z(call.started_at),
        "answered_at": _z(call.answered_at),
        "accepted_by": call.accepted_by_id,
        "care_request_id": call.care_request_id,
        "legs": [
            {
                "seq": leg.seq,
                "role": leg.role,
                "number": leg.number,
                "provider_id": leg.provider_id,
                "started_at": _z(leg.started_at),
                "accepted_at": _z(leg.accepted_at),
                "ended_at": _z(leg.ended_at),
                "outcome": leg.outcome,
            }
            for leg in legs
        ],
    }


@blp.route("/meldpunt/calls", methods=["GET"])
@blp.arguments(CallsQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200)
@blp.doc(security=[{"bearer": []}])
@requires("meldpunt", *COORDINATORS)
def list_calls(region: str, day_from: date, day_to: date) -> ResponseReturnValue:
    """Gesprekken met elk gebeld nummer, tijd, uitkomst en wie aannam."""
    caller = current_caller()

    def work() -> list[dict[str, Any]]:
        item = _visible_region(region)
        _ensure_region_access(caller, item.id, on_duty=True)
        calls = db.session.scalars(
            select(MeldpuntCall)
            .where(
                MeldpuntCall.region_id == item.id,
                MeldpuntCall.started_at >= _local_start(day_from),
                MeldpuntCall.started_at < _local_start(day_to),
            )
            .order_by(MeldpuntCall.started_at)
        )
        found = [_call(c) for c in calls]
        _log_phone_access(caller, "call.list", f"calls:{item.code}", item.id)
        return found

    return jsonify(run_in_transaction(db.session, work, _retries()))


@blp.route("/meldpunt/calls/<int:call_id>/request", methods=["POST"])
@blp.arguments(LinkBody, as_kwargs=True)
@blp.response(200)
@blp.doc(security=[{"bearer": []}])
@requires("meldpunt", *COORDINATORS)
def link_call(call_id: int, request: str) -> ResponseReturnValue:
    """Koppel een gesprek aan de aanvraag die tijdens het gesprek is opgenomen."""
    caller = current_caller()

    def work() -> dict[str, Any]:
        call = voice.get_call(db.session, call_id)
        if call.region_id is None:
            raise InvalidInput("Dit gesprek hoort bij geen regio.")
        _ensure_region_access(caller, call.region_id, on_duty=True)
        _log_phone_access(caller, "call.link", f"call:{call_id}", call.region_id)
        return _call(voice.link_request(db.session, call_id, request))

    return jsonify(run_in_transaction(db.session, work, _retries()))


@blp.route("/meldpunt/stats", methods=["GET"])
@blp.arguments(StatsQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200)
@blp.doc(security=[{"bearer": []}])
@requires(*COORDINATORS)
@read_only
def weekly_stats(region: str, week: date) -> ResponseReturnValue:
    """Coördinator: per week gesprekken, binnen 30 s aangenomen, gemist, voicemails, teruggebeld."""
    item = _visible_region(region)
    monday = week - timedelta(days=week.weekday())
    return jsonify({"region": _region_ref(item), **voice.weekly_stats(db.session, item.id, monday)})
