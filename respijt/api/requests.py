"""Care requests: create, read, matches, preference, offers, withdraw, series, close.

Who may see a request is decided in the query: a verwijzer their own, the meldpunt those of
the regions where they are on duty (and those they took), a coordinator all, and the requester
through the signed link of their SMS (`X-Request-Token` header). Anyone else gets 404.
Every read and change goes through `log_request_access()` (NEN 7513).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from respijt import clock, edge
from respijt.api import paging, sorting
from respijt.api import response_schemas as rs
from respijt.api.request_idempotency import (
    IDEMPOTENCY_KEY_MAX,
    body_fingerprint,
    idempotency_key,
    replay,
)
from respijt.api.request_schemas import (
    REQUEST_SORT_FIELDS,
    CloseInput,
    ListQuery,
    MatchesQuery,
    PreferenceInput,
    RequestInput,
    RequestSchema,
    iso_time,
    request_dict,
)
from respijt.api.schemas import ReasonInput, ReservationSchema
from respijt.api.security import allow_roles, credentials_required, refusals_logged
from respijt.beds.registry import normalise_phone
from respijt.care_requests import access, answers, choices, common, lifecycle, series
from respijt.care_requests import links as request_links
from respijt.care_requests import offers as request_offers
from respijt.care_requests.access_log import (
    create_logged_request,
    get_logged_request,
    log_request_access,
    refusal_logger,
)
from respijt.care_requests.common import PUBLIC, link_caller
from respijt.care_requests.option_facts import option_facts
from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES
from respijt.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from respijt.extensions import db
from respijt.models import CareRequest, RequestIdempotency
from respijt.people.caller import Caller
from respijt.reservations import workflow
from respijt.serving import public_limits
from respijt.serving.callers import current_caller
from respijt.serving.public_limits import limit_anonymous

blp = Blueprint("requests", __name__, description="Aanvragen, matching en de wachtlijst")

# From the workflow's "who may" data (respijt/reservations/workflow.py WHO_MAY).
CREATORS = workflow.account_roles_that_may(workflow.REQUEST_CREATE)
LISTERS = workflow.roles_that_may(workflow.REQUEST_LIST)
VIEWERS = workflow.account_roles_that_may(workflow.REQUEST_READ)
LINK_HEADER = "X-Request-Token"

_security: list[dict[str, list[str]]] = [{"bearer": []}, {"requestLink": []}]


# --- helpers --------------------------------------------------------------------------------


def _stale_after() -> int:
    return int(current_app.config["RESPIJT_STALE_AFTER_HOURS"])


def _optional_caller() -> Caller | None:
    """The bearer caller, or None for a public request without an Authorization header."""
    if not request.headers.get("Authorization"):
        return None
    return current_caller()


def request_caller(reference: str) -> Caller:
    """The requester via the signed link, or a bearer caller in one of the viewer roles."""
    token = request.headers.get(LINK_HEADER)
    if token:
        max_age = int(current_app.config["RESPIJT_REQUEST_LINK_DAYS"]) * 86400
        found = request_links.read_token(current_app.secret_key, token, max_age)  # type: ignore[arg-type]
        if found is None:
            raise Unauthorized("De link is ongeldig of verlopen. Vraag het meldpunt om een nieuwe.")
        linked, by_sms = found
        if linked != common.normalise_reference(reference):
            raise NotFound("Deze aanvraag bestaat niet.")
        # The token of the SMS link proves the phone: `_load` records the link as opened.
        g.request_link_by_sms = by_sms
        return link_caller(linked, by_sms=by_sms)
    caller = current_caller()
    if caller.role not in VIEWERS:
        raise NotFound("Deze aanvraag bestaat niet.")
    return caller


def _load(caller: Caller, reference: str, action: str) -> CareRequest:
    """The visible request, its access logged in this transaction (refusals: `_logged`)."""
    found = get_logged_request(db.session, caller, reference, action=action, now=clock.now())
    if g.get("request_link_by_sms"):
        choices.link_opened(found, now=clock.now())
    return found


def _logged(caller: Caller, reference: str, action: str, work: Any) -> Any:
    """Run `work`; a refusal is logged afterwards in its own transaction (`refusal_logger`)."""
    return edge.transaction_logging_refusal(
        work, refusal_logger(db.session, caller=caller, reference=reference, action=action)
    )


# --- views ----------------------------------------------------------------------------------


def _public_mobile(data: dict[str, Any]) -> str | None:
    try:
        return normalise_phone(data["contact"].get("mobile") or "", "contact.mobile", mobile=True)
    except InvalidInput:
        return None  # refused by the request's own validation; no SMS goes out


@blp.route("/requests", methods=["POST"])
@limit_anonymous(public_limits.REQUEST_FORM)
@allow_roles("public", *CREATORS)
@refusals_logged("care_request.create", "new")
@blp.arguments(RequestInput)
@blp.response(201, RequestSchema)
@blp.alt_response(
    422, description="Ongeldige invoer, of de Idempotency-Key hoort bij een andere aanvraag"
)
@blp.alt_response(429, description="Te veel aanvragen vanaf dit adres of voor dit mobiele nummer")
@blp.doc(
    security=[{}, {"bearer": []}],
    parameters=[
        {
            "in": "header",
            "name": "Idempotency-Key",
            "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX},
            "description": "Zelfde sleutel, zelfde antwoord: een herhaling maakt geen tweede "
            "aanvraag en stuurt geen tweede sms.",
        }
    ],
)
def create_request(data: dict[str, Any]) -> ResponseReturnValue:
    """Nieuwe aanvraag: publiek (met toestemming), door een verwijzer of door het meldpunt."""
    caller = _optional_caller() or PUBLIC
    workflow.ensure_may(caller.role, workflow.REQUEST_CREATE)
    default_channel = {"public": "web", "meldpunt": "phone"}.get(caller.role, "api")
    channel = default_channel if caller.role == "public" else data.get("channel", default_channel)
    key = idempotency_key(caller)
    fingerprint = body_fingerprint(data)
    replaying = key is not None and edge.transaction(
        lambda: replay(caller, key, fingerprint) is not None
    )
    if caller.role == "public" and not replaying:
        mobile = _public_mobile(data)
        if mobile is not None:
            public_limits.check_mobile(mobile)
        elif data["contact"].get("email"):  # no mobile: the family hears by e-mail
            public_limits.check_email(data["contact"]["email"])

    def work() -> tuple[dict[str, Any], bool]:
        now = clock.now()
        care_request = replay(caller, key, fingerprint) if key is not None else None
        replayed = care_request is not None
        if care_request is None:
            care_request = create_logged_request(
                db.session,
                data,
                caller=caller,
                channel=channel,
                now=now,
                today=clock.today(),
                stale_after_hours=_stale_after(),
            )
            if key is not None:
                db.session.add(
                    RequestIdempotency(
                        caller=caller.key,
                        idempotency_key=key,
                        request_fingerprint=fingerprint,
                        request_id=care_request.id,
                        created_at=now,
                    )
                )
                db.session.flush()
        else:
            log_request_access(
                db.session,
                action="read",
                caller=caller,
                reference=care_request.reference,
                outcome="granted",
            )
        token = None
        if caller.role == "public":
            token = request_links.make_link_token(
                current_app.secret_key,  # type: ignore[arg-type]
                care_request.reference,
            )
        return request_dict(care_request, link_token=token), replayed

    try:
        body, replayed = edge.transaction(work)
    except IntegrityError:
        # The same key raced itself and the other call won: answer with its request.
        db.session.rollback()
        if key is None:
            raise
        body, replayed = edge.transaction(work)
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/requests/{body['reference']}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@blp.route("/requests", methods=["GET"])
@allow_roles(*LISTERS)
@refusals_logged("care_request.search", "search")
@blp.arguments(ListQuery, location="query", unknown=ma.RAISE)
@blp.response(200, paging.page_schema(rs.RequestListItem))
@blp.doc(security=[{"bearer": []}])
def list_requests(args: dict[str, Any]) -> ResponseReturnValue:
    """Werklijst: aanvragen die deze gebruiker mag zien (open, of met `attention=true` spoed
    zonder passend aanbod), spoed met aandacht eerst, dan de oudste (of op `sort`). Per
    pagina, met links."""
    caller = current_caller()
    workflow.ensure_may(caller.role, workflow.REQUEST_LIST)

    def work() -> dict[str, Any]:
        query = access.restrict_to_visible(select(CareRequest), caller, clock.now())
        status = args.get("status")
        if status == "open":
            query = query.where(CareRequest.status.in_(OPEN_REQUEST_STATUSES))
        elif status:
            query = query.where(CareRequest.status == status)
        if args.get("attention"):
            query = query.where(CareRequest.attention_at.is_not(None))
        default = (CareRequest.attention_at.is_(None), CareRequest.created_at, CareRequest.id)
        columns = {k: getattr(CareRequest, v) for k, v in REQUEST_SORT_FIELDS.items()}
        order = sorting.order_by(args.get("sort", ()), columns, default)
        rows, has_next = paging.split(
            list(db.session.scalars(paging.window(query.order_by(*order), args))), args
        )
        log_request_access(
            db.session, action="search", caller=caller, reference=None, outcome="granted"
        )
        items = [
            {
                "reference": r.reference,
                "status": r.status,
                "urgency": r.urgency,
                "arrival": r.arrival.isoformat(),
                "departure": r.departure.isoformat(),
                "attention": r.attention_reason,
                "created_at": iso_time(r.created_at),
            }
            for r in rows
        ]
        return paging.page_body(args, items, has_next)

    return jsonify(edge.transaction(work))


@blp.route("/requests/<reference>", methods=["GET"])
@credentials_required("Authorization", LINK_HEADER)
@blp.response(200, RequestSchema)
@blp.doc(
    security=_security,
    parameters=[{"in": "header", "name": LINK_HEADER, "schema": {"type": "string"}}],
)
def get_request(reference: str) -> ResponseReturnValue:
    """Eén aanvraag met status, tijdstippen per stap, aanbod en geschiedenis."""
    caller = request_caller(reference)

    def work() -> dict[str, Any]:
        return request_dict(_load(caller, reference, "read"))

    return jsonify(_logged(caller, reference, "read", work))


@blp.route("/requests/<reference>/matches", methods=["GET"])
@credentials_required("Authorization", LINK_HEADER)
@blp.arguments(MatchesQuery, location="query", unknown=ma.RAISE)
@blp.response(200, rs.MatchSchema(many=True))
@blp.doc(
    security=_security,
    parameters=[{"in": "header", "name": LINK_HEADER, "schema": {"type": "string"}}],
)
def get_matches(args: dict[str, Any], reference: str) -> ResponseReturnValue:
    """Passende eenheden, beste eerst, met de redenen; wat getoond is wordt vastgelegd."""
    caller = request_caller(reference)

    def work() -> list[dict[str, Any]]:
        care_request = _load(caller, reference, "search")
        workflow.ensure_may(caller.role, workflow.REQUEST_MATCHES)
        matches = request_offers.matches_for(
            db.session,
            care_request,
            caller=caller,
            now=clock.now(),
            today=clock.today(),
            stale_after_hours=_stale_after(),
            limit=args["limit"],
        )
        facts = option_facts(db.session, care_request, matches)
        return [m.as_dict() | facts[m.unit_id].as_dict() for m in matches]

    return jsonify(_logged(caller, reference, "search", work))


def _change(reference: str, action: Any) -> ResponseReturnValue:
    caller = request_caller(reference)

    def work() -> Any:
        care_request = _load(caller, reference, "change")
        return action(caller, care_request)

    return jsonify(_logged(caller, reference, "change", work))


def offer_step(
    reference: str, reservation_id: int, step: Callable[..., object], **settings: Any
) -> ResponseReturnValue:
    """A step on one offer or stay of the request (accept, decline, cancel): `step(session,
    request, reservation_id, caller=…, now=…, **settings)`; answered with the request."""

    def action(caller: Caller, care_request: CareRequest) -> dict[str, Any]:
        step(db.session, care_request, reservation_id, caller=caller, now=clock.now(), **settings)
        return request_dict(care_request)

    return _change(reference, action)


@blp.route("/requests/<reference>/preference", methods=["POST"])
@credentials_required("Authorization", LINK_HEADER)
@blp.arguments(PreferenceInput)
@blp.response(200, rs.PreferenceSchema)
@blp.doc(security=_security)
def set_preference(data: dict[str, Any], reference: str) -> ResponseReturnValue:
    """De voorkeur van de aanvrager onder de getoonde mogelijkheden."""

    def action(caller: Caller, care_request: CareRequest) -> dict[str, Any]:
        workflow.ensure_may(caller.role, workflow.REQUEST_PREFER)
        option = choices.prefer_shown_option(
            db.session, care_request, unit_id=data["unit_id"], caller=caller, now=clock.now()
        )
        return {"unit_id": option.unit_id, "preferred_at": iso_time(option.preferred_at)}

    return _change(reference, action)


@blp.route("/requests/<reference>/offers/<int:reservation_id>/accept", methods=["POST"])
@credentials_required("Authorization", LINK_HEADER)
@blp.response(200, rs.RequestSchema)
@blp.doc(security=_security)
def accept_offer(reference: str, reservation_id: int) -> ResponseReturnValue:
    """Aanbod aannemen: de vastgehouden plek wordt bevestigd (of wacht op de aanbieder)."""
    return offer_step(
        reference,
        reservation_id,
        answers.accept_offer,
        provider_confirm_hours=current_app.config["RESPIJT_PROVIDER_CONFIRM_HOURS"],
    )


@blp.route("/requests/<reference>/offers/<int:reservation_id>/decline", methods=["POST"])
@credentials_required("Authorization", LINK_HEADER)
@blp.arguments(ReasonInput, required=False)
@blp.response(200, rs.RequestSchema)
@blp.doc(security=_security)
def decline_offer(data: dict[str, Any], reference: str, reservation_id: int) -> ResponseReturnValue:
    """Aanbod afslaan: de plek komt vrij en de aanvraag gaat terug naar het zoeken."""
    return offer_step(reference, reservation_id, answers.decline_offer, reason=data.get("reason"))


@blp.route("/requests/<reference>/withdraw", methods=["POST"])
@credentials_required("Authorization", LINK_HEADER)
@blp.arguments(ReasonInput, required=False)
@blp.response(200, rs.RequestSchema)
@blp.doc(security=_security)
def withdraw(data: dict[str, Any], reference: str) -> ResponseReturnValue:
    """Aanvraag intrekken; vastgehouden plekken komen vrij."""

    def action(caller: Caller, care_request: CareRequest) -> dict[str, Any]:
        workflow.ensure_may(caller.role, workflow.REQUEST_WITHDRAW)
        lifecycle.withdraw(
            db.session, care_request, caller=caller, now=clock.now(), reason=data.get("reason")
        )
        return request_dict(care_request)

    return _change(reference, action)


@blp.route("/requests/<reference>/close", methods=["POST"])
@credentials_required("Authorization", LINK_HEADER)
@blp.arguments(CloseInput)
@blp.response(200, rs.RequestSchema)
@blp.doc(security=[{"bearer": []}])
def close_request(data: dict[str, Any], reference: str) -> ResponseReturnValue:
    """Meldpunt sluit de aanvraag: geen passend aanbod (met reden)."""

    def action(caller: Caller, care_request: CareRequest) -> dict[str, Any]:
        workflow.ensure_may(caller.role, workflow.REQUEST_CLOSE)
        lifecycle.close_without_fit(
            db.session, care_request, caller=caller, now=clock.now(), reason=data["reason"]
        )
        return request_dict(care_request)

    return _change(reference, action)


@blp.route("/requests/<reference>/series/hold", methods=["POST"])
@credentials_required("Authorization", LINK_HEADER)
@blp.response(200, rs.SeriesHoldSchema)
@blp.doc(security=[{"bearer": []}])
def hold_series(reference: str) -> ResponseReturnValue:
    """Elk open verblijf van een reeks apart matchen en vasthouden, bij voorkeur op dezelfde
    locatie; het antwoord noemt de data die niet konden worden geplaatst."""
    config = current_app.config

    def action(caller: Caller, care_request: CareRequest) -> dict[str, Any]:
        workflow.ensure_may(caller.role, workflow.RESERVATION_HOLD)
        if caller.role == workflow.PUBLIC_ROLE:
            raise Forbidden("Een reeks plaatst het meldpunt of de verwijzer, per verblijf.")
        result = series.hold_series(
            db.session,
            care_request,
            caller=caller,
            now=clock.now(),
            today=clock.today(),
            stale_after_hours=_stale_after(),
            hold_minutes=config["RESPIJT_OFFER_HOURS"] * 60,
            provider_confirm_hours=config["RESPIJT_PROVIDER_CONFIRM_HOURS"],
        )
        return {
            "held": ReservationSchema(many=True, exclude=("events",)).dump(result.held),
            "unplaced": [
                {"arrival": s.arrival.isoformat(), "departure": s.departure.isoformat()}
                for s in result.unplaced
            ],
            "request": request_dict(care_request),
        }

    return _change(reference, action)


# Used by the routes that join this blueprint (api/request_stays.py).
change_request = _change
LINK_SECURITY = _security
