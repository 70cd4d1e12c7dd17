"""The public reads (availability, locations, regions) and the providers' and locations' writes.

The unit and capacity routes (`api/units.py`) join this blueprint. Views parse, authorize, act in
one `respijt.edge.transaction` and serialize.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, current_app, jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy import select

from respijt import clock, edge
from respijt.api import paging, schemas, sorting
from respijt.api.security import requires
from respijt.beds import availability, nearby, registry
from respijt.errors import Forbidden, InvalidInput
from respijt.extensions import db
from respijt.models import (
    Location,
    Municipality,
    Provider,
)
from respijt.people.caller import (
    Caller,
    provider_in_visible_regions,
    region_ids_for_codes,
    visible_regions,
)
from respijt.serving.callers import current_caller, read_only

blp = Blueprint(
    "registry", __name__, description="Aanbieders, locaties, eenheden en beschikbaarheid"
)

MANAGERS = ("provider", "coordinator", "admin")


def ensure_manages(caller: Caller, provider_id: int) -> None:
    """Public objects (providers, locations, units) of another provider answer 403 on write;
    so do those of a provider that works in none of a coordinator's regions."""
    if caller.role == "provider" and caller.provider_id != provider_id:
        raise Forbidden("U kunt alleen de gegevens van uw eigen aanbieder wijzigen.")
    regions = visible_regions(caller)
    if regions is not None and not db.session.scalar(
        select(Provider.id).where(
            Provider.id == provider_id, provider_in_visible_regions(regions, Provider.id)
        )
    ):
        raise Forbidden("Deze aanbieder werkt niet in uw regio's.")


def ensure_own_regions(caller: Caller, memberships: list[registry.RegionMembership] | None) -> None:
    """A coordinator places a provider only in their own regions (403 otherwise)."""
    regions = visible_regions(caller)
    if regions is None or memberships is None:
        return
    codes = [m.region_code for m in memberships]
    if not set(region_ids_for_codes(db.session, codes)) <= regions:
        raise Forbidden("U legt alleen regio's vast waarvoor u coördinator bent.")


def ensure_own_municipality(caller: Caller, municipality_code: str | None) -> None:
    """A coordinator places a location only in a municipality of their own regions (403
    otherwise); an unknown code is left to the registry's Dutch 422."""
    regions = visible_regions(caller)
    if regions is None or municipality_code is None:
        return
    region_id = db.session.scalar(
        select(Municipality.region_id).where(Municipality.code == municipality_code)
    )
    if region_id is not None and region_id not in regions:
        raise Forbidden("Deze gemeente ligt niet in uw regio's.")


def json_response(body: Any) -> Response:
    """A JSON response encoded with orjson (faster than the stdlib): the large public reads and the
    busiest write (a hold)."""
    return Response(orjson.dumps(body), mimetype="application/json")


def begin_read() -> None:
    """On PostgreSQL run a public read without BEGIN/COMMIT round trips.

    At READ COMMITTED every statement takes its own snapshot inside a transaction too, so
    autocommit changes nothing a reader can see. SQLite keeps its deferred read transaction,
    which is what gives its statements one snapshot.
    """
    session = db.session()  # the Session itself: scoped_session lacks in_transaction()
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _filters(args: dict[str, Any], location_id: int | None = None) -> availability.SearchFilters:
    return availability.SearchFilters(
        municipality=args.get("municipality"),
        region=args.get("region"),
        target_group=args.get("target_group"),
        wheelchair=bool(args.get("wheelchair")),
        location_id=location_id,
    )


# --- public reads ---------------------------------------------------------------------------


# The query schemas of the public reads are instances: webargs would build (and deep-copy the
# fields of) a new one on every request from a class.
AVAILABILITY_QUERY = schemas.AvailabilityQuery()
LOCATIONS_QUERY = schemas.LocationsQuery()


@blp.route("/availability", methods=["GET"])
@blp.arguments(AVAILABILITY_QUERY, location="query", unknown="raise", as_kwargs=True)
@blp.response(200, schemas.AvailabilitySchema)
@read_only
def get_availability(night_from: Any, night_to: Any, **args: Any) -> ResponseReturnValue:
    """Vrije bedden per locatie, eenheid en nacht (halfopen periode: from t/m to-1)."""
    filters, now = _filters(args), clock.now()
    stale_after = current_app.config["RESPIJT_STALE_AFTER_HOURS"]
    care_level, funding = args.get("care_level"), args.get("funding")

    def work() -> Any:
        begin_read()
        if args.get("near"):
            home = nearby.find_home(db.session, args["near"])
            if home is None:
                raise InvalidInput(
                    "Deze gemeente kennen we niet.",
                    [
                        {
                            "name": "near",
                            "code": "unknown",
                            "reason": "Onbekende CBS-code van een gemeente.",
                        }
                    ],
                )
            return nearby.search_near(
                db.session,
                filters,
                home,
                float(current_app.config["RESPIJT_NEAR_MAX_KM"]),
                night_from,
                night_to,
                now,
                stale_after,
                care_level=care_level,
                funding=funding,
                encoded=True,
            )
        result = availability.search(
            db.session, filters, night_from, night_to, now, stale_after, encoded=True
        )
        result["locations"] = nearby.narrow(result["locations"], care_level, funding)
        return result

    # Through the edge although nothing is written: it ends the read with COMMIT rather than the
    # ROLLBACK of session teardown, and psycopg forgets its prepared statements on a ROLLBACK,
    # so the hot public read would be planned again on each request.
    return json_response(edge.transaction(work))


@blp.route("/locations", methods=["GET"])
@blp.arguments(LOCATIONS_QUERY, location="query", unknown="raise", as_kwargs=True)
@blp.response(200, paging.page_schema(schemas.LocationSchema))
@read_only
def list_locations(**args: Any) -> ResponseReturnValue:
    """Locaties met hun eenheden (geen persoonsgegevens), per pagina, met links; op `sort`
    (naam) of anders in de vaste volgorde."""
    locations, _ = availability.location_rows(
        db.session, _filters(args), clock.now(), current_app.config["RESPIJT_STALE_AFTER_HOURS"]
    )
    ordered = sorting.sort_rows(locations, args.get("sort", ()), {"name": _name_key})
    shown, has_next = paging.slice_page(ordered, args)
    return jsonify(paging.page_body(args, shown, has_next))


def _name_key(location: dict[str, Any]) -> str:
    return str(location["name"]).casefold()


def _one_location(location_id: int) -> dict[str, Any]:
    now, stale_after = clock.now(), current_app.config["RESPIJT_STALE_AFTER_HOURS"]
    locations, _ = availability.location_rows(
        db.session, availability.SearchFilters(location_id=location_id), now, stale_after
    )
    if locations:
        return locations[0]
    location = registry.get_or_404(db.session, Location, location_id, "Locatie")
    return availability.location_without_units(location, now, stale_after)


@blp.route("/locations/<int:location_id>", methods=["GET"])
@blp.response(200, schemas.LocationSchema)
@read_only
def get_location(location_id: int) -> ResponseReturnValue:
    """Eén locatie met haar eenheden."""
    return jsonify(_one_location(location_id))


@blp.route("/regions", methods=["GET"])
@blp.response(200, schemas.RegionSchema(many=True))
@read_only
def list_regions() -> ResponseReturnValue:
    """Regio's met gemeenten, meldpuntnummer en de aanbieders in de pool."""
    return jsonify(registry.regions_with_pools(db.session))


# --- providers ------------------------------------------------------------------------------


def _provider_dict(provider: Provider) -> dict[str, Any]:
    return {
        "id": provider.id,
        "name": provider.name,
        "agb_code": provider.agb_code,
        "kvk_number": provider.kvk_number,
        "duty_phone": provider.duty_phone,
        "regions": [
            {"code": m.region.code, "in_pool": m.in_pool, "pool_weight": m.pool_weight}
            for m in provider.regions
        ],
    }


def _memberships(data: dict[str, Any]) -> list[registry.RegionMembership] | None:
    if "regions" not in data:
        return None
    return [
        registry.RegionMembership(m["code"], m["in_pool"], m["pool_weight"])
        for m in data["regions"]
    ]


@blp.route("/providers", methods=["POST"])
@blp.arguments(schemas.ProviderInput)
@blp.response(201, schemas.ProviderSchema)
@blp.doc(security=[{"bearer": []}])
@requires("coordinator", "admin")
def create_provider(data: dict[str, Any]) -> ResponseReturnValue:
    """Nieuwe aanbieder (coördinator of beheerder; een coördinator in de eigen regio's)."""
    caller = current_caller()

    def work() -> dict[str, Any]:
        memberships = _memberships(data) or []
        if visible_regions(caller) is not None and not memberships:
            raise Forbidden("Geef ten minste één van uw regio's op voor de nieuwe aanbieder.")
        ensure_own_regions(caller, memberships)
        provider = registry.create_provider(
            db.session,
            name=data["name"],
            now=clock.now(),
            agb_code=data.get("agb_code"),
            kvk_number=data.get("kvk_number"),
            duty_phone=data.get("duty_phone"),
            staff_mobiles=data.get("staff_mobiles", ()),
            regions=_memberships(data) or (),
        )
        return _provider_dict(provider)

    return jsonify(edge.transaction(work)), 201


@blp.route("/providers/<int:provider_id>", methods=["GET"])
@blp.response(200, schemas.ProviderSchema)
@read_only
def get_provider(provider_id: int) -> ResponseReturnValue:
    """Eén aanbieder (openbare gegevens)."""
    provider = registry.get_or_404(db.session, Provider, provider_id, "Aanbieder")
    return jsonify(_provider_dict(provider))


@blp.route("/providers/<int:provider_id>", methods=["PATCH"])
@blp.arguments(schemas.ProviderPatch)
@blp.response(200, schemas.ProviderSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*MANAGERS)
def update_provider(data: dict[str, Any], provider_id: int) -> ResponseReturnValue:
    """Aanbieder wijzigen (de eigen aanbieder, of coördinator/beheerder)."""
    caller = current_caller()

    def work() -> dict[str, Any]:
        provider = registry.get_or_404(db.session, Provider, provider_id, "Aanbieder")
        ensure_manages(caller, provider.id)
        changes = {k: v for k, v in data.items() if k != "regions"}
        if caller.role == "provider" and "regions" in data:
            raise Forbidden("Regio's en pooldeelname worden door de coördinator vastgelegd.")
        memberships = _memberships(data)
        ensure_own_regions(caller, memberships)
        regions = visible_regions(caller)
        if memberships is not None and regions is not None:
            # A coordinator sets the memberships in their own regions; the others stay.
            memberships += [
                registry.RegionMembership(m.region.code, m.in_pool, m.pool_weight)
                for m in provider.regions
                if m.region_id not in regions
            ]
        registry.update_provider(db.session, provider, regions=memberships, **changes)
        return _provider_dict(provider)

    return jsonify(edge.transaction(work))


# --- locations ------------------------------------------------------------------------------


@blp.route("/locations", methods=["POST"])
@blp.arguments(schemas.LocationInput)
@blp.response(201, schemas.LocationSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*MANAGERS)
def create_location(data: dict[str, Any]) -> ResponseReturnValue:
    """Nieuwe locatie van een aanbieder."""
    caller = current_caller()

    def work() -> int:
        provider = registry.get_or_404(db.session, Provider, data.pop("provider_id"), "Aanbieder")
        ensure_manages(caller, provider.id)
        ensure_own_municipality(caller, data.get("municipality"))
        location = registry.create_location(db.session, provider=provider, now=clock.now(), **data)
        return location.id

    location_id = edge.transaction(work)
    return jsonify(_one_location(location_id)), 201


@blp.route("/locations/<int:location_id>", methods=["PATCH"])
@blp.arguments(schemas.LocationPatch)
@blp.response(200, schemas.LocationSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*MANAGERS)
def update_location(data: dict[str, Any], location_id: int) -> ResponseReturnValue:
    """Locatie wijzigen."""
    caller = current_caller()

    def work() -> None:
        location = registry.get_or_404(db.session, Location, location_id, "Locatie")
        ensure_manages(caller, location.provider_id)
        ensure_own_municipality(caller, data.get("municipality"))
        registry.update_location(db.session, location, **data)

    edge.transaction(work)
    return jsonify(_one_location(location_id))


@blp.route("/locations/<int:location_id>/confirm", methods=["POST"])
@blp.response(200, schemas.LocationSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*MANAGERS)
def confirm_location(location_id: int) -> ResponseReturnValue:
    """'Niets gewijzigd': de cijfers van deze locatie zijn actueel."""
    caller = current_caller()

    def work() -> None:
        location = registry.get_or_404(db.session, Location, location_id, "Locatie")
        ensure_manages(caller, location.provider_id)
        registry.confirm_location(db.session, location, clock.now())

    edge.transaction(work)
    return jsonify(_one_location(location_id))
