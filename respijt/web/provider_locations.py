"""The provider's own locations and units: add, change, and retire a unit (never delete).

The same registry functions as the API (`beds.registry.create_location`, `update_location`,
`create_unit`, `update_unit`, `retire_unit`), inside one `edge.transaction`. Ownership is part of
the query: another provider's location or unit answers 404 as if it did not exist. A refusal of
the form or of the registry shows the form again as it was filled in, with the Dutch message
beside the field (422).
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from respijt import clock, edge, formatting
from respijt.beds import registry
from respijt.errors import DomainError, NotFound
from respijt.extensions import db
from respijt.models import Location, Provider, Unit
from respijt.people.caller import Caller
from respijt.web import blp
from respijt.web.forms import ActionForm
from respijt.web.provider_forms import LocationForm, UnitForm, place_domain_errors
from respijt.web.public import municipality_choices, regions_with_municipalities
from respijt.web.security import current_principal, login_required


def _caller() -> Caller:
    principal = current_principal()
    assert principal is not None
    return principal.caller


def _not_found() -> ResponseReturnValue:
    return render_template("web/not_found.html"), 404


def _own_location(caller: Caller, location_id: int) -> Location:
    location = db.session.scalar(
        select(Location).where(
            Location.id == location_id, Location.provider_id == caller.provider_id
        )
    )
    if location is None:
        raise NotFound("Deze locatie bestaat niet.")
    return location


def _location_form(location: Location | None = None) -> LocationForm:
    if location is None:
        form = LocationForm()
    else:
        form = LocationForm(
            data={
                "name": location.name,
                "address": location.address,
                "postcode": location.postcode,
                "municipality": location.municipality.code,
                "contact_mobile": location.contact_mobile or "",
                "latitude": _degrees(location.latitude),
                "longitude": _degrees(location.longitude),
                "languages": list(location.languages or []),
            }
        )
    form.municipality.choices = municipality_choices(
        regions_with_municipalities(), "Kies een gemeente…"
    )
    return form


def _degrees(value: float | None) -> str:
    # A form field's value: every digit, a decimal comma, no grouping (as typed).
    return formatting.csv_number(value)


def _location_page(
    form: LocationForm,
    location: Location | None,
    status: int = 200,
    problems: list[str] | None = None,
) -> ResponseReturnValue:
    return render_template(
        "web/provider_location.html",
        form=form,
        location=location,
        action_form=ActionForm(),
        in_service=[u for u in location.units if u.retired_at is None] if location else [],
        problems=problems or [],
    ), status


@blp.route("/aanbieder/locaties/nieuw", methods=["GET", "POST"])
@login_required("provider")
def provider_new_location() -> ResponseReturnValue:
    caller = _caller()
    form = _location_form()
    if not form.validate_on_submit():
        return _location_page(form, None, 422 if form.is_submitted() else 200)

    def work() -> int:
        provider = db.session.get(Provider, caller.provider_id)
        if provider is None:
            raise NotFound("Uw aanbieder bestaat niet.")
        return registry.create_location(
            db.session, provider=provider, now=clock.now(), **form.values()
        ).id

    try:
        location_id = edge.transaction(work)
    except DomainError as exc:
        db.session.rollback()
        return _location_page(form, None, 422, place_domain_errors(form, exc))
    flash("De locatie is toegevoegd. Voeg nu een eenheid met bedden toe.", "info")
    return redirect(url_for("web.provider_location", location_id=location_id), code=303)


@blp.route("/aanbieder/locaties/<int:location_id>", methods=["GET", "POST"])
@login_required("provider")
def provider_location(location_id: int) -> ResponseReturnValue:
    caller = _caller()
    try:
        location = _own_location(caller, location_id)
    except NotFound:
        return _not_found()
    form = _location_form(location)
    if not form.is_submitted():
        return _location_page(form, location)
    if not form.validate():
        return _location_page(form, location, 422)

    def work() -> None:
        registry.update_location(db.session, _own_location(caller, location_id), **form.values())

    try:
        edge.transaction(work)
    except DomainError as exc:
        db.session.rollback()
        location = _own_location(caller, location_id)
        return _location_page(form, location, 422, place_domain_errors(form, exc))
    flash("De gegevens van de locatie zijn opgeslagen.", "info")
    return redirect(url_for("web.provider_location", location_id=location_id), code=303)


# --- units ----------------------------------------------------------------------------------


def _unit_form(unit: Unit | None = None) -> UnitForm:
    if unit is None:
        return UnitForm()
    return UnitForm(
        data={
            "name": unit.name,
            "target_groups": list(unit.target_groups),
            "care_level": unit.care_level,
            "wheelchair": unit.wheelchair,
            "funding_routes": list(unit.funding_routes),
            "min_nights": str(unit.min_nights),
            "max_nights": str(unit.max_nights),
            "arrival_weekdays": list(unit.arrival_weekdays),
            "requires_provider_confirmation": unit.requires_provider_confirmation,
            "default_capacity": str(unit.default_capacity),
        }
    )


def _unit_page(
    form: UnitForm,
    location: Location,
    unit: Unit | None,
    status: int = 200,
    problems: list[str] | None = None,
) -> ResponseReturnValue:
    return render_template(
        "web/provider_unit_form.html",
        form=form,
        location=location,
        unit=unit,
        action_form=ActionForm(),
        problems=problems or [],
    ), status


@blp.route("/aanbieder/locaties/<int:location_id>/eenheden/nieuw", methods=["GET", "POST"])
@login_required("provider")
def provider_new_unit(location_id: int) -> ResponseReturnValue:
    caller = _caller()
    try:
        location = _own_location(caller, location_id)
    except NotFound:
        return _not_found()
    form = _unit_form()
    if not form.validate_on_submit():
        return _unit_page(form, location, None, 422 if form.is_submitted() else 200)
    config = current_app.config

    def work() -> int:
        return registry.create_unit(
            db.session,
            location=_own_location(caller, location_id),
            now=clock.now(),
            today=clock.today(),
            horizon_days=int(config["RESPIJT_HORIZON_DAYS"]),
            **form.values(),
        ).id

    try:
        unit_id = edge.transaction(work)
    except DomainError as exc:
        db.session.rollback()
        location = _own_location(caller, location_id)
        return _unit_page(form, location, None, 422, place_domain_errors(form, exc))
    flash("De eenheid is toegevoegd. Hieronder ziet en wijzigt u de bedden per nacht.", "info")
    return redirect(url_for("web.provider_unit", unit_id=unit_id), code=303)


@blp.route("/aanbieder/eenheden/<int:unit_id>/gegevens", methods=["GET", "POST"])
@login_required("provider")
def provider_edit_unit(unit_id: int) -> ResponseReturnValue:
    caller = _caller()
    try:
        unit = registry.provider_unit(db.session, caller.provider_id, unit_id)
    except NotFound:
        return _not_found()
    form = _unit_form(unit)
    if not form.is_submitted():
        return _unit_page(form, unit.location, unit)
    if not form.validate():
        return _unit_page(form, unit.location, unit, 422)

    def work() -> None:
        fresh = registry.provider_unit(db.session, caller.provider_id, unit_id)
        registry.update_unit(db.session, fresh, **form.values())

    try:
        edge.transaction(work)
    except DomainError as exc:
        db.session.rollback()
        unit = registry.provider_unit(db.session, caller.provider_id, unit_id)
        return _unit_page(form, unit.location, unit, 422, place_domain_errors(form, exc))
    flash("De gegevens van de eenheid zijn opgeslagen.", "info")
    return redirect(url_for("web.provider_edit_unit", unit_id=unit_id), code=303)


@blp.route("/aanbieder/eenheden/<int:unit_id>/buiten-gebruik", methods=["POST"])
@login_required("provider")
def provider_retire_unit(unit_id: int) -> ResponseReturnValue:
    """Take a unit out of service (it stays, with its history); refused while stays are booked."""
    caller = _caller()
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(url_for("web.provider_edit_unit", unit_id=unit_id))

    def work() -> str:
        unit = registry.provider_unit(db.session, caller.provider_id, unit_id)
        if unit.retired_at is None:
            registry.retire_unit(db.session, unit, clock.now(), clock.today())
        return unit.name

    try:
        name = edge.transaction(work)
    except NotFound:
        return _not_found()
    except DomainError as exc:
        flash(exc.detail, "fout")
    else:
        flash(f"{name} is buiten gebruik. Er kan niet meer op worden geboekt.", "info")
    return redirect(url_for("web.provider_edit_unit", unit_id=unit_id), code=303)


@blp.route("/aanbieder/locaties/<int:location_id>/buiten-gebruik", methods=["POST"])
@login_required("provider")
def provider_retire_location(location_id: int) -> ResponseReturnValue:
    """Take a whole location out of service: all its units (kept, with their history)."""
    caller = _caller()
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(url_for("web.provider_location", location_id=location_id))

    def work() -> str:
        location = _own_location(caller, location_id)
        registry.retire_location(db.session, location, clock.now(), clock.today())
        return location.name

    try:
        name = edge.transaction(work)
    except NotFound:
        return _not_found()
    except DomainError as exc:
        flash(f"{exc.detail} Er is niets buiten gebruik gezet.", "fout")
    else:
        flash(f"{name} is buiten gebruik. Er kan niet meer op worden geboekt.", "info")
    return redirect(url_for("web.provider_location", location_id=location_id), code=303)
