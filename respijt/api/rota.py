"""The meldpunt's rota: shifts and their gaps, overrides, swaps, the history, handover notes and
the iCal link. The routes join the meldpunt blueprint (`api/meldpunt.py`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import fields
from sqlalchemy import select

from respijt import clock, edge
from respijt.api import dutch, input_fields, paging
from respijt.api import response_schemas as rs
from respijt.api.meldpunt import (
    COORDINATORS,
    POOL_STAFF,
    ROTA_READERS,
    CallsQuery,
    blp,
    ensure_region_access,
    iso_utc,
    local_start,
    own_provider,
    provider_ref,
    region_ref,
    visible_region,
)
from respijt.api.paging import PageQuery
from respijt.api.schemas import StrictSchema
from respijt.api.security import requires
from respijt.extensions import db
from respijt.meldpunt import changes, generation, ical, notices
from respijt.models import HandoverNote, Provider, RotaEvent, RotaShift, RotaSwap
from respijt.serving.callers import current_caller, read_only


def _shift(shift: RotaShift) -> dict[str, Any]:
    return {
        "id": shift.id,
        "provider": provider_ref(shift.provider),
        "starts_at": iso_utc(shift.starts_at),
        "ends_at": iso_utc(shift.ends_at),
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
        "created_at": iso_utc(swap.created_at),
        "decided_at": iso_utc(swap.decided_at),
    }


# --- schemas --------------------------------------------------------------------------------


class ShiftsQuery(CallsQuery):
    max_days = 400


class RegionQuery(StrictSchema):
    region = fields.String(required=True)


class HistoryQuery(RegionQuery, PageQuery):
    pass


class SwapsQuery(PageQuery):
    region = fields.String(required=True)
    status = fields.String(validate=dutch.OneOf(("open", "taken", "done", "withdrawn", "refused")))


class OverrideBody(StrictSchema):
    region = fields.String(required=True)
    provider_id = input_fields.Id(required=True, allow_none=True)
    starts_at = input_fields.AwareDateTime(required=True)
    ends_at = input_fields.AwareDateTime(required=True)
    reason = fields.String(load_default=None, validate=dutch.Length(max=300))


class SwapOfferBody(StrictSchema):
    note = fields.String(load_default=None, validate=dutch.Length(max=300))


class NoteBody(StrictSchema):
    region = fields.String(required=True)
    body = fields.String(required=True, validate=dutch.Length(min=1, max=2000))


# --- the rota -------------------------------------------------------------------------------


@blp.route("/rota/shifts", methods=["GET"])
@blp.arguments(ShiftsQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200, rs.ShiftsSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*ROTA_READERS)
@read_only
def list_shifts(region: str, day_from: date, day_to: date) -> ResponseReturnValue:
    """Diensten van een regio (lokale dagen from t/m to-1) en de gaten erin."""
    item = visible_region(region)
    ensure_region_access(current_caller(), item.id)
    start, end = local_start(day_from), local_start(day_to)
    shifts = generation.shifts_between(db.session, item.id, start, end)
    gaps = generation.find_gaps(db.session, item.id, start, end)
    return jsonify(
        {
            "region": region_ref(item),
            "from": day_from.isoformat(),
            "to": day_to.isoformat(),
            "shifts": [_shift(s) for s in shifts],
            "gaps": [{"starts_at": iso_utc(a), "ends_at": iso_utc(b)} for a, b in gaps],
        }
    )


@blp.route("/rota/overrides", methods=["POST"])
@blp.arguments(OverrideBody, as_kwargs=True)
@blp.response(201, rs.OverrideResultSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*COORDINATORS)
def create_override(
    region: str, provider_id: int | None, starts_at: datetime, ends_at: datetime, reason: str | None
) -> ResponseReturnValue:
    """Coördinator: zet een aanbieder (of niemand: `null`) op dienst voor een periode."""
    caller = current_caller()

    def work() -> dict[str, Any]:
        item = generation.region_by_code(db.session, region)
        ensure_region_access(caller, item.id)
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
        return {"shift": _shift(shift) if shift else None}

    return jsonify(edge.transaction(work)), 201


@blp.route("/rota/history", methods=["GET"])
@blp.arguments(HistoryQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200, paging.page_schema(rs.RotaEventSchema))
@blp.doc(security=[{"bearer": []}])
@requires(*COORDINATORS)
@read_only
def history(region: str, **args: Any) -> ResponseReturnValue:
    """Coördinator: de geschiedenis van het rooster (alleen toegevoegd, nooit gewijzigd), oudste
    eerst, per pagina."""
    item = visible_region(region)
    query = select(RotaEvent).where(RotaEvent.region_id == item.id).order_by(RotaEvent.id)
    events, has_next = paging.split(list(db.session.scalars(paging.window(query, args))), args)
    return jsonify(
        paging.page_body(
            args,
            [
                {
                    "id": e.id,
                    "kind": e.kind,
                    "at": iso_utc(e.at),
                    "actor": e.actor,
                    "shift_id": e.shift_id,
                    "swap_id": e.swap_id,
                    "detail": e.detail,
                }
                for e in events
            ],
            has_next,
        )
    )


@blp.route("/rota/swaps", methods=["GET"])
@blp.arguments(SwapsQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200, paging.page_schema(rs.SwapSchema))
@blp.doc(security=[{"bearer": []}])
@requires(*ROTA_READERS)
@read_only
def list_swaps(region: str, status: str | None = None, **args: Any) -> ResponseReturnValue:
    """Ruilverzoeken van een regio, oudste eerst, per pagina."""
    item = visible_region(region)
    ensure_region_access(current_caller(), item.id)
    query = select(RotaSwap).where(RotaSwap.region_id == item.id).order_by(RotaSwap.id)
    if status:
        query = query.where(RotaSwap.status == status)
    swaps, has_next = paging.split(list(db.session.scalars(paging.window(query, args))), args)
    return jsonify(paging.page_body(args, [_swap(s) for s in swaps], has_next))


@blp.route("/rota/shifts/<int:shift_id>/swaps", methods=["POST"])
@blp.arguments(SwapOfferBody, as_kwargs=True)
@blp.response(201, rs.SwapSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*POOL_STAFF)
def offer_swap(shift_id: int, note: str | None) -> ResponseReturnValue:
    """Aanbieder: bied een eigen dienst ter ruil aan."""
    provider_id = own_provider(current_caller())

    def work() -> dict[str, Any]:
        swap = changes.offer_swap(
            db.session, shift_id, provider_id=provider_id, now=clock.now(), note=note
        )
        return _swap(swap)

    return jsonify(edge.transaction(work)), 201


def _swap_action(swap_id: int, action: str) -> ResponseReturnValue:
    caller = current_caller()

    def work() -> dict[str, Any]:
        now = clock.now()
        if action == "take":
            swap = changes.take_swap(
                db.session,
                swap_id,
                provider_id=own_provider(caller),
                now=now,
                approval_required=bool(current_app.config["RESPIJT_ROTA_SWAP_APPROVAL"]),
            )
        elif action == "withdraw":
            swap = changes.withdraw_swap(
                db.session, swap_id, provider_id=own_provider(caller), now=now
            )
        else:
            # A coordinator decides only on swaps in their own regions (403 for another's).
            region_id = db.session.scalar(select(RotaSwap.region_id).where(RotaSwap.id == swap_id))
            if region_id is not None:
                ensure_region_access(caller, region_id)
            decide = changes.approve_swap if action == "approve" else changes.refuse_swap
            swap = decide(db.session, swap_id, actor=caller.key, now=now)
        return _swap(swap)

    return jsonify(edge.transaction(work))


@blp.route("/rota/swaps/<int:swap_id>/take", methods=["POST"])
@blp.response(200, rs.SwapSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*POOL_STAFF)
def take_swap(swap_id: int) -> ResponseReturnValue:
    """Aanbieder: neem een aangeboden dienst over (eventueel na goedkeuring)."""
    return _swap_action(swap_id, "take")


@blp.route("/rota/swaps/<int:swap_id>/withdraw", methods=["POST"])
@blp.response(200, rs.SwapSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*POOL_STAFF)
def withdraw_swap(swap_id: int) -> ResponseReturnValue:
    """Aanbieder: trek een eigen ruilverzoek in zolang niemand het nam."""
    return _swap_action(swap_id, "withdraw")


@blp.route("/rota/swaps/<int:swap_id>/approve", methods=["POST"])
@blp.response(200, rs.SwapSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*COORDINATORS)
def approve_swap(swap_id: int) -> ResponseReturnValue:
    """Coördinator: keur een overgenomen dienst goed."""
    return _swap_action(swap_id, "approve")


@blp.route("/rota/swaps/<int:swap_id>/refuse", methods=["POST"])
@blp.response(200, rs.SwapSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*COORDINATORS)
def refuse_swap(swap_id: int) -> ResponseReturnValue:
    """Coördinator: wijs een ruilverzoek af."""
    return _swap_action(swap_id, "refuse")


# --- handover notes and the iCal link -------------------------------------------------------


@blp.route("/rota/handover-notes", methods=["GET"])
@blp.arguments(RegionQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200, rs.HandoverNoteSchema(many=True))
@blp.doc(security=[{"bearer": []}])
@requires(*ROTA_READERS)
@read_only
def list_notes(region: str) -> ResponseReturnValue:
    """Overdrachtsnotities van de laatste twee weken, nieuwste eerst (voor wie dienst heeft)."""
    item = visible_region(region)
    ensure_region_access(current_caller(), item.id, on_duty=True)
    notes = notices.handover_notes(db.session, item.id, clock.now())
    return jsonify([_note(n) for n in notes])


def _note(note: HandoverNote) -> dict[str, Any]:
    provider = db.session.get(Provider, note.provider_id)
    return {
        "id": note.id,
        "provider": provider_ref(provider),
        "shift_id": note.shift_id,
        "body": note.body,
        "created_at": iso_utc(note.created_at),
    }


@blp.route("/rota/handover-notes", methods=["POST"])
@blp.arguments(NoteBody, as_kwargs=True)
@blp.response(201, rs.HandoverNoteSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*POOL_STAFF)
def add_note(region: str, body: str) -> ResponseReturnValue:
    """Aanbieder met dienst: laat een notitie over open zaken achter (geen medische gegevens)."""
    provider_id = own_provider(current_caller())
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

    return jsonify(edge.transaction(work)), 201


@blp.route("/rota/ical-token", methods=["POST"])
@blp.response(201, rs.IcalLinkSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*POOL_STAFF)
def create_ical_token() -> ResponseReturnValue:
    """Aanbieder: een (nieuwe) geheime agendalink met de eigen diensten; de oude vervalt."""
    provider_id = own_provider(current_caller())

    def work() -> str:
        return ical.create_feed_token(db.session, provider_id, clock.now())

    secret = edge.transaction(work)
    base = current_app.config["RESPIJT_PUBLIC_URL"]
    return jsonify({"url": f"{base}/rota/ical/{secret}.ics"}), 201
