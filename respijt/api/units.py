"""Units and their capacity: create, change and retire a unit, publish its beds per night, and
the log of capacity changes. The routes join the registry blueprint (`api/registry.py`).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

from respijt import clock, edge
from respijt.api import paging, schemas
from respijt.api.registry import MANAGERS, blp, ensure_manages
from respijt.api.security import requires
from respijt.beds import capacity, registry
from respijt.extensions import db
from respijt.models import Location, Unit
from respijt.serving.callers import current_caller, read_only

# --- units ----------------------------------------------------------------------------------


def _unit_dict(unit_id: int) -> dict[str, Any]:
    unit = registry.get_or_404(db.session, Unit, unit_id, "Eenheid")
    return {
        "id": unit.id,
        "location_id": unit.location_id,
        "name": unit.name,
        "target_groups": unit.target_groups,
        "care_level": unit.care_level,
        "wheelchair": unit.wheelchair,
        "funding_routes": unit.funding_routes,
        "min_nights": unit.min_nights,
        "max_nights": unit.max_nights,
        "arrival_weekdays": unit.arrival_weekdays,
        "requires_provider_confirmation": unit.requires_provider_confirmation,
        "default_capacity": unit.default_capacity,
        "retired": unit.retired_at is not None,
    }


@blp.route("/units", methods=["POST"])
@blp.arguments(schemas.UnitInput)
@blp.response(201, schemas.UnitSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*MANAGERS)
def create_unit(data: dict[str, Any]) -> ResponseReturnValue:
    """Nieuwe eenheid (bedden van één soort) op een locatie; de voorraad wordt aangemaakt."""
    caller = current_caller()

    def work() -> int:
        location = registry.get_or_404(db.session, Location, data.pop("location_id"), "Locatie")
        ensure_manages(caller, location.provider_id)
        unit = registry.create_unit(
            db.session,
            location=location,
            now=clock.now(),
            today=clock.today(),
            horizon_days=current_app.config["RESPIJT_HORIZON_DAYS"],
            **data,
        )
        return unit.id

    unit_id = edge.transaction(work)
    return jsonify(_unit_dict(unit_id)), 201


@blp.route("/units/<int:unit_id>", methods=["GET"])
@blp.response(200, schemas.UnitSchema)
@read_only
def get_unit(unit_id: int) -> ResponseReturnValue:
    """Eén eenheid."""
    return jsonify(_unit_dict(unit_id))


@blp.route("/units/<int:unit_id>", methods=["PATCH"])
@blp.arguments(schemas.UnitPatch)
@blp.response(200, schemas.UnitSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*MANAGERS)
def update_unit(data: dict[str, Any], unit_id: int) -> ResponseReturnValue:
    """Eenheid wijzigen (doelgroepen, zorgniveau, standaardcapaciteit, …)."""
    caller = current_caller()

    def work() -> None:
        unit = registry.get_or_404(db.session, Unit, unit_id, "Eenheid")
        ensure_manages(caller, unit.location.provider_id)
        registry.update_unit(db.session, unit, **data)

    edge.transaction(work)
    return jsonify(_unit_dict(unit_id))


@blp.route("/units/<int:unit_id>/retire", methods=["POST"])
@blp.response(200, schemas.UnitSchema)
@blp.doc(security=[{"bearer": []}])
@requires(*MANAGERS)
def retire_unit(unit_id: int) -> ResponseReturnValue:
    """Eenheid buiten gebruik stellen; kan alleen zonder lopende of toekomstige reserveringen."""
    caller = current_caller()

    def work() -> None:
        unit = registry.get_or_404(db.session, Unit, unit_id, "Eenheid")
        ensure_manages(caller, unit.location.provider_id)
        registry.retire_unit(db.session, unit, clock.now(), clock.today())

    edge.transaction(work)
    return jsonify(_unit_dict(unit_id))


@blp.route("/units/<int:unit_id>/capacity", methods=["PUT"])
@blp.arguments(schemas.CapacityInput)
@blp.response(200, schemas.ChangeSchema(many=True))
@blp.doc(security=[{"bearer": []}])
@requires(*MANAGERS)
def put_capacity(data: dict[str, Any], unit_id: int) -> ResponseReturnValue:
    """Beschikbaar gestelde bedden per periode ({from, to, capacity}; halfopen)."""
    caller = current_caller()

    def work() -> list[dict[str, Any]]:
        unit = registry.get_or_404(db.session, Unit, unit_id, "Eenheid")
        ensure_manages(caller, unit.location.provider_id)
        changes = capacity.publish_capacity(
            db.session,
            unit,
            [capacity.CapacityRange(**r) for r in data["ranges"]],
            actor=caller.key,
            channel="api",
            now=clock.now(),
            today=clock.today(),
            horizon_days=current_app.config["RESPIJT_HORIZON_DAYS"],
            max_capacity=current_app.config["RESPIJT_MAX_CAPACITY"],
        )
        return schemas.ChangeSchema(many=True).dump(changes)  # type: ignore[no-any-return]

    return jsonify(edge.transaction(work))


@blp.route("/units/<int:unit_id>/changes", methods=["GET"])
@blp.arguments(paging.PageQuery, location="query", unknown=ma.RAISE)
@blp.response(200, paging.page_schema(schemas.ChangeSchema))
@blp.doc(security=[{"bearer": []}])
@requires(*MANAGERS)
def list_changes(args: dict[str, Any], unit_id: int) -> ResponseReturnValue:
    """Het logboek van capaciteitswijzigingen van een eenheid (nieuwste eerst), per pagina."""
    caller = current_caller()
    unit = registry.get_or_404(db.session, Unit, unit_id, "Eenheid")
    ensure_manages(caller, unit.location.provider_id)
    upto = args["page"] * args["page_size"] + 1
    changes, has_next = paging.slice_page(
        capacity.capacity_changes(db.session, unit_id, limit=upto), args
    )
    items = schemas.ChangeSchema(many=True).dump(changes)
    return jsonify(paging.page_body(args, items, has_next))
