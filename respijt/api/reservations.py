"""Reservations: hold, confirm, decline, cancel, check-in/out, no-show, date changes.

Who may see a reservation is decided in the query (no fetch-then-check): someone else's
client data answers 404 as if it did not exist (DESIGN §2). Every access writes exactly one
access-log row (respijt.privacy.access_log): in the same transaction when it succeeds, and after the
rollback as "denied" (not visible to this caller) or "failed" (refused by a domain rule).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from respijt import clock, edge
from respijt.api import paging, schemas
from respijt.api import response_schemas as rs
from respijt.api.registry import json_response
from respijt.api.security import allow_roles, client_source, refusals_logged, requires
from respijt.care_requests import access, offers
from respijt.care_requests.access_log import log_reservation_list, reservation_reference
from respijt.errors import InvalidInput
from respijt.extensions import db
from respijt.models import Reservation
from respijt.people.caller import Caller
from respijt.privacy import access_log
from respijt.reservations import holds, steps, workflow
from respijt.serving.callers import current_caller

blp = Blueprint("reservations", __name__, description="Reserveringen van logeerbedden")

# Who may take which step is the workflow's data (respijt/reservations/workflow.py WHO_MAY); here
# only the roles that may reach an endpoint at all, read from it.
# The public holds only through its own request's signed link (`/requests/<ref>/choice`).
HOLDERS = workflow.account_roles_that_may(workflow.RESERVATION_HOLD)
VIEWERS = workflow.account_roles_that_may(workflow.RESERVATION_READ)
PROVIDER_ANSWER = workflow.roles_that_may(workflow.RESERVATION_ANSWER)
ATTENDANCE = workflow.roles_that_may(workflow.RESERVATION_ATTENDANCE)


def visible_reservation(caller: Caller, reservation_id: int) -> Reservation:
    """The reservation if this caller may see it, else NotFound
    (`care_requests.access.get_reservation`)."""
    return access.get_reservation(db.session, caller, reservation_id, clock.now())


def _is_owning_provider(caller: Caller, reservation: Reservation) -> bool:
    return caller.role == "provider" and reservation.unit.location.provider_id == caller.provider_id


def _party(caller: Caller, reservation: Reservation, step: str) -> str:
    """The workflow party of `caller` for `step` ("cancel", "dates") on this reservation, once
    WHO_MAY lets their role take it (403 otherwise): the owning provider, else the requester."""
    workflow.ensure_may(caller.role, workflow.reservation_action(step, reservation.status))
    return "provider" if _is_owning_provider(caller, reservation) else "requester"


PURPOSE = "zorgbemiddeling"


def client_reference(reservation_id: int) -> str:
    """The access log's reference for a reservation's client (`requests_access`)."""
    return reservation_reference(db.session, reservation_id)


def _log(
    caller: Caller,
    reservation_id: int,
    action: str,
    outcome: str,
    unit_id: int | None,
    reference: str | None = None,
) -> None:
    """One access-log row; the region is that of the unit (looked up by the INSERT)."""
    access_log.log_access(
        db.session,
        action=action,
        caller=caller,
        client_reference=reference or client_reference(reservation_id),
        outcome=outcome,
        purpose=PURPOSE,
        source=client_source(),
        region_of_unit=unit_id,
    )


def _logged(caller: Caller, reservation_id: int, action: str, work: Any) -> Any:
    """Run `work` (which logs its success itself, in its transaction) and log a refusal."""
    return edge.transaction_logging_refusal(
        work, lambda outcome: _log(caller, reservation_id, action, outcome, None)
    )


def _dump(reservation: Reservation | holds.HoldView) -> dict[str, Any]:
    return schemas.reservation_body(reservation)


@blp.route("/reservations", methods=["POST"])
# An instance, not the class: webargs would build the schema anew for every request.
@blp.arguments(schemas.ReservationInput())
@blp.response(201, schemas.ReservationSchema)
@blp.alt_response(409, description="Niet elke nacht is vrij (problem+json met de volle nachten)")
@blp.doc(
    security=[{"bearer": []}],
    parameters=[
        {
            "in": "header",
            "name": "Idempotency-Key",
            "schema": {"type": "string", "maxLength": 100},
            "description": "Zelfde sleutel, zelfde antwoord: een herhaling maakt niets dubbel.",
        }
    ],
)
# Checked before the body is parsed (a refusal is logged); `_create_reservation` enforces.
@allow_roles(*HOLDERS)
@refusals_logged("reservation.create", "new")
def create_reservation(data: dict[str, Any]) -> ResponseReturnValue:
    """Houd een bed vast voor elke nacht van aankomst t/m vertrek-1 (of boek direct met confirm)."""
    return _create_reservation(data)


@requires(*HOLDERS)
def _create_reservation(data: dict[str, Any]) -> ResponseReturnValue:
    caller = current_caller()
    key = request.headers.get("Idempotency-Key") or None
    if key is not None and not 1 <= len(key) <= 100:
        raise InvalidInput(
            "Idempotency-Key is te lang.",
            [{"name": "Idempotency-Key", "code": "length", "reason": "Hoogstens 100 tekens."}],
        )
    # What a replay with the same key is compared with; without a key nothing is replayed.
    body_fingerprint = holds.fingerprint(data) if key is not None else None
    config = current_app.config

    def work() -> tuple[dict[str, Any], bool]:
        now = clock.now()
        hold: dict[str, Any] = {
            "unit_id": data["unit_id"],
            "arrival": data["arrival"],
            "departure": data["departure"],
            "caller": caller,
            "now": now,
            "today": clock.today(),
            "provider_confirm_hours": config["RESPIJT_PROVIDER_CONFIRM_HOURS"],
            "confirm": data["confirm"],
            "idempotency_key": key,
            "body_fingerprint": body_fingerprint,
            "expected_arrival_time": data.get("expected_arrival_time"),
        }
        # A replay answers with the first result before any request rule is checked again.
        if data.get("request") and not (
            key and holds.find_by_idempotency_key(db.session, caller, key)
        ):
            # Logged once, as reservation.create under the request's reference.
            care_request = access.get_request(db.session, caller, data["request"], now)
            # A hold for a request is an offer: the requester answers through their SMS link.
            offer, replayed = offers.offer_bed(
                db.session,
                care_request,
                hold_minutes=config["RESPIJT_OFFER_HOURS"] * 60,
                reason=data.get("choice_reason"),
                **hold,
            )
            # A new offer's client reference is known here (no lookup): its request's.
            reference = None if replayed else care_request.reference
            _log(caller, offer.id, "reservation.create", "success", offer.unit_id, reference)
            return _dump(offer), replayed
        # The door writes a new hold's access-log row itself (with the hold, on PostgreSQL).
        reservation, replayed = holds.hold_bed(
            db.session,
            hold_minutes=config["RESPIJT_HOLD_MINUTES"],
            audit=access_log.access_values(
                action="reservation.create",
                caller=caller,
                outcome="success",
                purpose=PURPOSE,
                source=client_source(),
                now=now,
            ),
            **hold,
        )
        if replayed:
            _log(caller, reservation.id, "reservation.create", "success", reservation.unit_id)
        return _dump(reservation), replayed

    try:
        body, replayed = edge.transaction(work)
    except IntegrityError as exc:
        # The same key raced itself: the other request won; answer with its reservation.
        # Or the new short code was taken already: the second attempt draws another.
        db.session.rollback()
        if key is None and not holds.is_short_code_collision(exc):
            raise
        body, replayed = edge.transaction(work)
    response = json_response(body)
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/reservations/{body['id']}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _list_item(row: access.ReservationRow, caller: Caller) -> dict[str, Any]:
    reservation = row.reservation
    item: dict[str, Any] = {
        "id": reservation.id,
        "short_code": reservation.short_code,
        "status": reservation.status,
        "status_label": workflow.RESERVATION_LABELS[reservation.status],
        "unit": {"id": reservation.unit_id, "name": row.unit_name},
        "location": {"id": row.location_id, "name": row.location_name},
        "arrival": reservation.arrival.isoformat(),
        "departure": reservation.departure.isoformat(),
    }
    if caller.role == "provider" and row.client_first_name is not None:
        item["client"] = {"first_name": row.client_first_name, "birth_year": row.client_birth_year}
    return item


@blp.route("/reservations", methods=["GET"])
@allow_roles(*VIEWERS)
@refusals_logged("reservation.search", "search")
@blp.arguments(schemas.ReservationListQuery, location="query", unknown=ma.RAISE)
@blp.response(200, paging.page_schema(rs.ReservationListItem))
@blp.doc(security=[{"bearer": []}])
def list_reservations(args: dict[str, Any]) -> ResponseReturnValue:
    """De reserveringen die u mag zien, op aankomst (of op `sort`): een aanbieder die van de
    eigen locaties, het meldpunt en een verwijzer die van hun aanvragen. Per pagina, met links
    naar de volgende en vorige pagina."""
    return _list_reservations(args)


@requires(*VIEWERS)
def _list_reservations(args: dict[str, Any]) -> ResponseReturnValue:
    caller = current_caller()
    wanted = access.ReservationFilter(
        status=args.get("status"),
        location_id=args.get("location"),
        arrival_from=args.get("arrival_from"),
        arrival_to=args.get("arrival_to"),
        page=args["page"],
        page_size=args["page_size"],
        sort=args.get("sort", ()),
    )

    def work() -> tuple[list[dict[str, Any]], bool]:
        rows, has_next = access.list_reservations(db.session, caller, wanted, clock.now())
        log_reservation_list(
            db.session,
            caller=caller,
            shown_clients=[r.reservation.id for r in rows if r.client_first_name is not None],
            source=client_source(),
        )
        return [_list_item(row, caller) for row in rows], has_next

    items, has_next = edge.transaction(work)
    return jsonify(paging.page_body(args, items, has_next))


@blp.route("/reservations/<int:reservation_id>", methods=["GET"])
@blp.response(200, schemas.ReservationSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*VIEWERS)
def get_reservation(reservation_id: int) -> ResponseReturnValue:
    """Eén reservering, met haar statusgeschiedenis."""
    caller = current_caller()

    def work() -> dict[str, Any]:
        reservation = visible_reservation(caller, reservation_id)
        _log(caller, reservation_id, "reservation.read", "success", reservation.unit_id)
        return _dump(reservation)

    return jsonify(_logged(caller, reservation_id, "reservation.read", work))


def _act(reservation_id: int, action: Any) -> ResponseReturnValue:
    caller = current_caller()
    name = "reservation." + (request.endpoint or "").rsplit(".", 1)[-1].removesuffix("_reservation")

    def work() -> dict[str, Any]:
        reservation = visible_reservation(caller, reservation_id)
        action(caller, reservation)
        _log(caller, reservation_id, name, "success", reservation.unit_id)
        return _dump(reservation)

    return jsonify(_logged(caller, reservation_id, name, work))


@blp.route("/reservations/<int:reservation_id>/confirm", methods=["POST"])
@blp.response(200, schemas.ReservationSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*VIEWERS)
def confirm_reservation(reservation_id: int) -> ResponseReturnValue:
    """Aanvrager: vastgehouden → bevestigd (of wacht op aanbieder). Aanbieder: bevestigt."""
    config = current_app.config

    def action(caller: Caller, reservation: Reservation) -> None:
        now = clock.now()
        if _is_owning_provider(caller, reservation):
            workflow.ensure_may(caller.role, workflow.RESERVATION_ANSWER)
            steps.confirm_by_provider(db.session, reservation, caller=caller, now=now)
        else:
            workflow.ensure_may(caller.role, workflow.RESERVATION_CONFIRM_HOLD)
            steps.confirm_by_requester(
                db.session,
                reservation,
                caller=caller,
                now=now,
                provider_confirm_hours=config["RESPIJT_PROVIDER_CONFIRM_HOURS"],
            )

    return _act(reservation_id, action)


@blp.route("/reservations/<int:reservation_id>/decline", methods=["POST"])
@blp.arguments(schemas.ReasonInput, required=False)
@blp.response(200, schemas.ReservationSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*PROVIDER_ANSWER)
@refusals_logged("reservation.decline", "new")
def decline_reservation(data: dict[str, Any], reservation_id: int) -> ResponseReturnValue:
    """Aanbieder wijst een reservering af die op bevestiging wacht; de nachten komen vrij."""

    def action(caller: Caller, reservation: Reservation) -> None:
        steps.decline_by_provider(
            db.session, reservation, caller=caller, now=clock.now(), reason=data.get("reason")
        )

    return _act(reservation_id, action)


@blp.route("/reservations/<int:reservation_id>/cancel", methods=["POST"])
@blp.arguments(schemas.ReasonInput, required=False)
@blp.response(200, schemas.ReservationSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*VIEWERS)
def cancel_reservation(data: dict[str, Any], reservation_id: int) -> ResponseReturnValue:
    """Annuleren door aanvrager of aanbieder (met reden bij een bevestigde reservering)."""

    def action(caller: Caller, reservation: Reservation) -> None:
        party = _party(caller, reservation, "cancel")
        steps.cancel(
            db.session,
            reservation,
            party=party,
            caller=caller,
            now=clock.now(),
            reason=data.get("reason"),
        )

    return _act(reservation_id, action)


def _provider_step(reservation_id: int, step: Any) -> ResponseReturnValue:
    def action(caller: Caller, reservation: Reservation) -> None:
        workflow.ensure_may(caller.role, workflow.RESERVATION_ATTENDANCE)
        step(db.session, reservation, caller=caller, now=clock.now(), today=clock.today())

    return _act(reservation_id, action)


@blp.route("/reservations/<int:reservation_id>/check-in", methods=["POST"])
@blp.response(200, schemas.ReservationSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*ATTENDANCE)
@refusals_logged("reservation.check_in", "new")
def check_in(reservation_id: int) -> ResponseReturnValue:
    """De logé is aangekomen."""
    return _provider_step(reservation_id, steps.check_in)


@blp.route("/reservations/<int:reservation_id>/check-out", methods=["POST"])
@blp.response(200, schemas.ReservationSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*ATTENDANCE)
@refusals_logged("reservation.check_out", "new")
def check_out(reservation_id: int) -> ResponseReturnValue:
    """De logé is vertrokken (eerder vertrek maakt de resterende nachten vrij)."""
    return _provider_step(reservation_id, steps.check_out)


@blp.route("/reservations/<int:reservation_id>/no-show", methods=["POST"])
@blp.response(200, schemas.ReservationSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*ATTENDANCE)
@refusals_logged("reservation.no_show", "new")
def no_show(reservation_id: int) -> ResponseReturnValue:
    """De logé is niet verschenen; de nachten komen vrij."""
    return _provider_step(reservation_id, steps.mark_no_show)


@blp.route("/reservations/<int:reservation_id>/dates", methods=["PUT"])
@blp.arguments(schemas.DatesInput)
@blp.response(200, schemas.ReservationSchema)
@blp.alt_response(409, description="Een nieuwe nacht is vol; er is niets veranderd")
@blp.doc(security=[{"bearer": []}])
@requires(*VIEWERS)
def change_dates(data: dict[str, Any], reservation_id: int) -> ResponseReturnValue:
    """Verblijf verplaatsen, verlengen of inkorten: alles of niets."""

    def action(caller: Caller, reservation: Reservation) -> None:
        _party(caller, reservation, "dates")
        steps.change_dates(
            db.session,
            reservation,
            arrival=data["arrival"],
            departure=data["departure"],
            caller=caller,
            now=clock.now(),
            today=clock.today(),
            reason=data.get("reason"),
        )

    return _act(reservation_id, action)
