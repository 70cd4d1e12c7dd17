"""Claims (declaratie): monthly claim lines, export batches and tariffs.

The lines are a specification the provider copies into its own declaration system: respijt holds
no BSN, so it sends no iWmo messages itself. Wmo lines (the gemeente pays) are `lines`; ELV and
Wlz lines are listed apart as `other_payers`, never as a gemeente claim.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import fields
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from respijt import clock, edge
from respijt.api import dutch, input_fields, paging
from respijt.api import response_schemas as rs
from respijt.api.paging import PageQuery
from respijt.api.schemas import StrictSchema
from respijt.api.security import client_source, requires
from respijt.care_requests.access_log import log_request_access, log_reservations_access
from respijt.claims import formats, ledger, months, tariffs
from respijt.errors import Forbidden, InvalidInput, NotFound
from respijt.extensions import db
from respijt.models import ClaimExport, Municipality, Provider
from respijt.people.caller import (
    Caller,
    ensure_visible_filters,
    provider_in_visible_regions,
    visible_regions,
)
from respijt.serving.callers import current_caller
from respijt.serving.downloads import csv_response

blp = Blueprint("claims", __name__, description="Declaratie: regels per maand en tarieven")

READERS = ("provider", "coordinator", "admin")
EXPORTERS = ("provider", "admin")
TARIFF_MANAGERS = ("coordinator", "admin")
# Claim lines name a client's stay (reservation, dates, location, gemeente): each line read or
# exported writes an access-log row for its reservation (NEN 7513).
CLAIMS_PURPOSE = "declaratie"


def _log_lines(caller: Caller, lines: list[ledger.LineView], action: str, event: str) -> None:
    log_reservations_access(
        db.session,
        caller=caller,
        reservation_ids=(line.reservation_id for line in lines),
        action=action,
        event=event,
        purpose=CLAIMS_PURPOSE,
        source=client_source(),
    )


class FormatQuery(StrictSchema):
    format = fields.String(load_default="json", validate=dutch.OneOf(["json", "csv"]))
    decimal = fields.String(
        load_default="point",
        validate=dutch.OneOf(["point", "comma"]),
        metadata={"description": "decimaalteken in de CSV: point (1.50) of comma (1,50)"},
    )


class OutputQuery(FormatQuery):
    list = fields.String(
        load_default="gemeente",
        validate=dutch.OneOf(["gemeente", "overig"]),
        metadata={"description": "CSV: gemeente (Wmo) of overig (ELV, Wlz, onbekend)"},
    )


class ClaimsQuery(OutputQuery):
    month = fields.String(required=True, metadata={"description": "JJJJ-MM"})
    provider = input_fields.Id(
        metadata={
            "description": "alleen deze aanbieder (coördinator: uit de eigen regio's, anders 404)"
        }
    )
    municipality = fields.String(
        metadata={
            "description": "CBS-code van de gemeente (coördinator: eigen regio's, anders 404)"
        }
    )


class ExportInput(StrictSchema):
    month = fields.String(required=True, metadata={"description": "JJJJ-MM"})
    provider_id = input_fields.Id(metadata={"description": "verplicht voor een beheerder"})


class TariffInput(StrictSchema):
    municipality = fields.String(required=True, metadata={"description": "CBS-code"})
    funding = fields.String(required=True, validate=dutch.OneOf(["wmo", "elv", "wlz"]))
    product_code = fields.String(required=True, validate=dutch.Length(min=1, max=20))
    price = fields.Decimal(
        required=True, places=2, as_string=True, metadata={"description": "per nacht, in euro"}
    )
    valid_from = input_fields.Date(required=True)
    valid_to = input_fields.Date(
        load_default=None, metadata={"description": "exclusief; leeg = open"}
    )


class TariffQuery(PageQuery):
    municipality = fields.String()


def scope_provider(caller: Caller, requested: int | None) -> int | None:
    """A provider sees only its own lines; coordinators and admins all, or one provider."""
    if caller.role == "provider":
        if requested is not None and requested != caller.provider_id:
            raise Forbidden("U ziet alleen de declaratieregels van uw eigen aanbieder.")
        return caller.provider_id
    return requested


def _filter_municipality(lines: list[ledger.LineView], code: str | None) -> list[ledger.LineView]:
    if not code:
        return lines
    place = db.session.scalar(select(Municipality.id).where(Municipality.code == code))
    if place is None:
        raise InvalidInput(
            f"Onbekende gemeente '{code}'.",
            [{"name": "municipality", "code": "unknown", "reason": "Onbekende CBS-code."}],
        )
    return [line for line in lines if line.municipality_id == place]


def render_lines(
    lines: list[ledger.LineView], args: dict[str, Any], *, filename: str
) -> ResponseReturnValue:
    """JSON, or the CSV of one list; `filename` is without the list's name and '.csv'."""
    names = formats.names_for(db.session, lines)
    gemeente, other = formats.split_by_payer(lines)
    if args["format"] == "csv":
        chosen = gemeente if args["list"] == "gemeente" else other
        label = "gemeente-wmo" if args["list"] == "gemeente" else "overige-betalers"
        text = formats.lines_csv(chosen, names, decimal_comma=args["decimal"] == "comma")
        return csv_response(text, f"{filename}-{label}.csv")
    return {
        "note": ledger.NOTE,
        "lines": [formats.line_dict(line, names) for line in gemeente],
        "other_payers": [formats.line_dict(line, names) for line in other],
    }


@blp.route("/claims", methods=["GET"])
@blp.arguments(ClaimsQuery, location="query", unknown=ma.RAISE)
@blp.response(200, rs.ClaimLinesSchema)
@blp.doc(**rs.with_csv())
@blp.doc(security=[{"bearer": []}])
@requires(*READERS)
def get_claims(args: dict[str, Any]) -> ResponseReturnValue:
    """Declaratieregels van één maand: één regel per reservering (per tarief) met de nachten in
    die maand. Voorlopig = nog niet (helemaal) geleverd. JSON of `?format=csv`. Een coördinator
    ziet alleen de regels van gemeenten in de eigen regio's."""
    caller = current_caller()
    month = months.Month.parse(args["month"])
    provider_id = scope_provider(caller, args.get("provider"))
    regions = visible_regions(caller)

    def work() -> ResponseReturnValue:
        ensure_visible_filters(
            db.session, regions, municipality=args.get("municipality"), provider_id=provider_id
        )
        lines = ledger.month_lines(
            db.session, month, today=clock.today(), provider_id=provider_id, regions=regions
        )
        lines = _filter_municipality(lines, args.get("municipality"))
        if lines:
            _log_lines(
                caller, lines, "claims.list", "export" if args["format"] == "csv" else "search"
            )
        else:
            log_request_access(
                db.session, action="search", caller=caller, reference=None, outcome="granted"
            )
        body = render_lines(lines, args, filename=f"declaratieregels-{month}")
        if isinstance(body, dict):
            return jsonify({"month": str(month), **body})
        return body

    return edge.transaction(work)


def _export_dict(export: ClaimExport) -> dict[str, Any]:
    provider = db.session.get(Provider, export.provider_id)
    assert provider is not None
    return {
        "id": export.id,
        "seq": export.seq,
        "month": export.month,
        "provider": {"id": provider.id, "name": provider.name},
        "exported_at": formats.iso_utc(export.exported_at),
    }


def _render_export(
    export: ClaimExport,
    args: dict[str, Any],
    *,
    caller: Caller,
    action: str,
    event: str,
    regions: frozenset[int] | None = None,
) -> ResponseReturnValue:
    """The export's lines as JSON or CSV; each line's reservation is logged as `action`."""
    lines = ledger.export_lines(db.session, export, regions)
    _log_lines(caller, lines, action, event)
    body = render_lines(
        lines,
        args,
        filename=f"declaratie-export-{export.month}-nr-{export.seq}",
    )
    if isinstance(body, dict):
        return {"export": _export_dict(export), "month": export.month, **body}
    return body


@blp.route("/claims/exports", methods=["POST"])
@blp.arguments(ExportInput)
@blp.arguments(OutputQuery, location="query", unknown=ma.RAISE)
@blp.response(201, rs.ClaimExportSchema)
@blp.alt_response(200, schema=rs.ClaimExportSchema, description="Al eerder geëxporteerd of niets")
@blp.doc(**rs.with_csv(201))
@blp.doc(**rs.with_csv(200))
@blp.doc(security=[{"bearer": []}])
@requires(*EXPORTERS)
def export_claims(data: dict[str, Any], args: dict[str, Any]) -> ResponseReturnValue:
    """Markeer een maand als geëxporteerd voor één aanbieder: de geleverde regels die nog open
    stonden worden bevroren in een nieuwe export (201). Niets nieuws: de laatste export (200)."""
    caller = current_caller()
    month = months.Month.parse(data["month"])
    if caller.role == "provider":
        provider_id = scope_provider(caller, data.get("provider_id"))
    else:
        provider_id = data.get("provider_id")
        if provider_id is None:
            raise InvalidInput(
                "Geef de aanbieder op.",
                [{"name": "provider_id", "code": "required", "reason": "Dit veld is verplicht."}],
            )
    assert provider_id is not None

    def work() -> tuple[ResponseReturnValue, int]:
        export, created = ledger.export_month(
            db.session,
            month,
            provider_id=provider_id,
            actor=caller.key,
            now=clock.now(),
            today=clock.today(),
        )
        if export is None:
            return {"export": None, "month": str(month), "lines": [], "other_payers": []}, 200
        # Created or handed out again: either way the lines leave the service.
        action = "claims.export" if created else "claims.export_read"
        body = _render_export(export, args, caller=caller, action=action, event="export")
        return body, 201 if created else 200

    try:
        body, status = edge.transaction(work)
    except IntegrityError:
        # Two exports of the same provider-month at once (PostgreSQL): one wins the batch
        # number; the other, run again, finds nothing pending and answers with that batch.
        db.session.rollback()
        body, status = edge.transaction(work)
    if isinstance(body, Response):
        body.status_code = status
        return body
    return jsonify(body), status


@blp.route("/claims/exports/<int:export_id>", methods=["GET"])
@blp.arguments(OutputQuery, location="query", unknown=ma.RAISE)
@blp.response(200, rs.ClaimExportSchema)
@blp.doc(**rs.with_csv())
@blp.doc(security=[{"bearer": []}])
@requires(*READERS)
def get_export(args: dict[str, Any], export_id: int) -> ResponseReturnValue:
    """Eén export, precies zoals hij bevroren is: opnieuw ophalen geeft dezelfde bytes."""
    caller = current_caller()

    regions = visible_regions(caller)

    def work() -> ResponseReturnValue:
        query = select(ClaimExport).where(
            ClaimExport.id == export_id,
            provider_in_visible_regions(regions, ClaimExport.provider_id),
        )
        if caller.role == "provider":
            query = query.where(ClaimExport.provider_id == caller.provider_id)
        export = db.session.scalar(query)
        if export is None:
            raise NotFound("Deze export bestaat niet.")
        event = "export" if args["format"] == "csv" else "read"
        body = _render_export(
            export, args, caller=caller, action="claims.export_read", event=event, regions=regions
        )
        return jsonify(body) if isinstance(body, dict) else body

    return edge.transaction(work)


def _tariff_dict(tariff: Any, municipality: str) -> dict[str, Any]:
    return {
        "id": tariff.id,
        "municipality": municipality,
        "funding": tariff.funding,
        "product_code": tariff.product_code,
        "price": formats.money(tariff.price_cents),
        "valid_from": tariff.valid_from.isoformat(),
        "valid_to": tariff.valid_to.isoformat() if tariff.valid_to else None,
    }


@blp.route("/tariffs", methods=["GET"])
@blp.arguments(TariffQuery, location="query", unknown=ma.RAISE)
@blp.response(200, paging.page_schema(rs.TariffSchema))
@blp.doc(security=[{"bearer": []}])
@requires(*READERS)
def get_tariffs(args: dict[str, Any]) -> ResponseReturnValue:
    """Tarieven per gemeente en financieringsroute, met geldigheid (halfopen), per pagina."""

    def work() -> dict[str, Any]:
        rows, has_next = paging.slice_page(
            tariffs.list_tariffs(db.session, args.get("municipality")), args
        )
        return paging.page_body(args, [_tariff_dict(t, code) for t, code in rows], has_next)

    return jsonify(edge.transaction(work))


@blp.route("/tariffs", methods=["POST"])
@blp.arguments(TariffInput)
@blp.response(201, rs.TariffSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*TARIFF_MANAGERS)
def create_tariff(data: dict[str, Any]) -> ResponseReturnValue:
    """Nieuw tarief. Een open tarief dat eerder begon, eindigt waar dit begint. Een coördinator
    stelt alleen tarieven vast van gemeenten in de eigen regio's (403 voor een andere)."""
    regions = visible_regions(current_caller())

    def work() -> dict[str, Any]:
        try:
            ensure_visible_filters(db.session, regions, municipality=data["municipality"])
        except NotFound as exc:
            raise Forbidden(
                f"Gemeente '{data['municipality']}' hoort niet bij uw regio's; u stelt daar geen "
                "tarieven vast."
            ) from exc
        tariff = tariffs.add_tariff(
            db.session,
            municipality=data["municipality"],
            funding=data["funding"],
            product_code=data["product_code"],
            price_cents=int(data["price"] * 100),
            valid_from=data["valid_from"],
            valid_to=data["valid_to"],
            now=clock.now(),
        )
        return _tariff_dict(tariff, data["municipality"])

    return jsonify(edge.transaction(work)), 201
