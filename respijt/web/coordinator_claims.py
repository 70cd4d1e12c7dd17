"""The coordinator's claims, leegstand and tariff pages, for their own regions only.

- Declaratie (`/coordinator/declaratie`): a month's Wmo claim lines summed per provider and per
  gemeente, the export batches of the month, and the CSV files of the lines (gemeente or other
  payers, and per batch). Filters on provider and gemeente; one outside the regions is a 404.
- Leegstand (`/coordinator/leegstand`): the register of a month per unit, with its CSV.
- Tarieven (`/coordinator/tarieven`): the tariffs of the gemeenten of the coordinator's regions,
  and a form to add one (`claims.tariffs.add_tariff`: an open tariff that started earlier ends
  where the new one starts; any other overlap is refused). A gemeente elsewhere: 403.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from respijt import clock, edge
from respijt.claims import formats, ledger, leegstand, tariffs
from respijt.claims.months import Month
from respijt.errors import Forbidden, InvalidInput, NotFound
from respijt.extensions import db
from respijt.models import ClaimExport, Municipality, Provider
from respijt.people.caller import (
    Caller,
    ensure_visible_filters,
    in_visible_regions,
    provider_in_visible_regions,
    visible_regions,
)
from respijt.serving.callers import read_only
from respijt.serving.input_limits import parse_id
from respijt.web import blp
from respijt.web import claims_pages as pages
from respijt.web.admin_forms import TariffForm, price_cents
from respijt.web.security import current_principal, login_required


def _caller() -> Caller:
    principal = current_principal()
    assert principal is not None
    return principal.caller


def _choices(regions: frozenset[int] | None) -> dict[str, Any]:
    municipalities = db.session.execute(
        select(Municipality.id, Municipality.code, Municipality.name)
        .where(in_visible_regions(regions, Municipality.region_id))
        .order_by(Municipality.name)
    ).all()
    providers = db.session.execute(
        select(Provider.id, Provider.name)
        .where(provider_in_visible_regions(regions, Provider.id))
        .order_by(Provider.name)
    ).all()
    return {
        "municipalities": [(code, name) for _, code, name in municipalities],
        "providers": providers,
    }


def _filters(
    regions: frozenset[int] | None, errors: dict[str, str] | None
) -> tuple[int | None, str | None, dict[str, str]]:
    """(provider id, gemeente code, the address arguments) from `?aanbieder=&gemeente=`.
    A filter outside the regions: its message in `errors` (a page), or a 404 (a download)."""
    code = (request.args.get("gemeente") or "").strip().upper()[:10] or None
    provider_id = parse_id((request.args.get("aanbieder") or "").strip())
    for name in ("gemeente", "aanbieder"):
        try:
            if name == "gemeente":
                ensure_visible_filters(db.session, regions, municipality=code)
                if code and not db.session.scalar(
                    select(Municipality.id).where(Municipality.code == code)
                ):
                    raise NotFound(f"Gemeente '{code}' bestaat niet.")
            else:
                ensure_visible_filters(db.session, regions, provider_id=provider_id)
        except NotFound as exc:
            if errors is None:
                raise
            errors[name] = exc.detail
            if name == "gemeente":
                code = None
            else:
                provider_id = None
    args = {"gemeente": code or "", "aanbieder": str(provider_id) if provider_id else ""}
    return provider_id, code, args


def _municipality_id(code: str | None) -> int | None:
    if code is None:
        return None
    return db.session.scalar(select(Municipality.id).where(Municipality.code == code))


@blp.route("/coordinator/declaratie")
@login_required("coordinator")
@read_only
def coordinator_claims() -> ResponseReturnValue:
    regions = visible_regions(_caller())
    errors: dict[str, str] = {}
    month = pages.month_arg(errors)
    provider_id, code, args = _filters(regions, errors)
    claims = pages.month_claims(
        month, provider_id=provider_id, municipality_id=_municipality_id(code), regions=regions
    )
    exports = db.session.execute(
        select(ClaimExport, Provider.name)
        .join(Provider, Provider.id == ClaimExport.provider_id)
        .where(
            ClaimExport.month == str(month),
            provider_in_visible_regions(regions, ClaimExport.provider_id),
            *([ClaimExport.provider_id == provider_id] if provider_id else []),
        )
        .order_by(Provider.name, ClaimExport.seq)
    ).all()
    return render_template(
        "coordinator/claims.html",
        claims=claims,
        exports=exports,
        args={"maand": str(month), **args},
        errors=errors,
        **_choices(regions),
        **pages.page_context(month),
    ), (404 if errors.keys() - {"maand"} else 400 if errors else 200)


@blp.route("/coordinator/declaratie.csv")
@login_required("coordinator")
def coordinator_claims_csv() -> ResponseReturnValue:
    caller = _caller()
    regions = visible_regions(caller)
    month = pages.month_arg()
    chosen = pages.list_arg()

    def work() -> ResponseReturnValue:
        provider_id, code, _ = _filters(regions, None)
        claims = pages.month_claims(
            month, provider_id=provider_id, municipality_id=_municipality_id(code), regions=regions
        )
        return pages.claims_csv(caller, claims, chosen, f"declaratieregels-{month}")

    return edge.transaction(work)


@blp.route("/coordinator/declaratie/export/<int:export_id>.csv")
@login_required("coordinator")
def coordinator_export_csv(export_id: int) -> ResponseReturnValue:
    """One frozen export batch, exactly as it was exported (lines of the own regions)."""
    caller = _caller()
    regions = visible_regions(caller)
    chosen = pages.list_arg()

    def work() -> ResponseReturnValue:
        export = db.session.scalar(
            select(ClaimExport).where(
                ClaimExport.id == export_id,
                provider_in_visible_regions(regions, ClaimExport.provider_id),
            )
        )
        if export is None:
            raise NotFound("Deze export bestaat niet.")
        lines = ledger.export_lines(db.session, export, regions)
        gemeente, other = formats.split_by_payer(lines)
        claims = pages.MonthClaims(gemeente, other, formats.names_for(db.session, lines))
        filename = f"declaratie-export-{export.month}-nr-{export.seq}"
        return pages.claims_csv(caller, claims, chosen, filename, action="claims.export_read")

    return edge.transaction(work)


@blp.route("/coordinator/leegstand")
@login_required("coordinator")
@read_only
def coordinator_leegstand() -> ResponseReturnValue:
    regions = visible_regions(_caller())
    errors: dict[str, str] = {}
    month = pages.month_arg(errors)
    provider_id, code, args = _filters(regions, errors)
    rows = pages.register(month, provider_id=provider_id, municipality_code=code, regions=regions)
    return render_template(
        "coordinator/leegstand.html",
        rows=rows,
        total=leegstand.total_occupancy(rows),
        args={"maand": str(month), **args},
        errors=errors,
        **_choices(regions),
        **pages.page_context(month),
    ), (404 if errors.keys() - {"maand"} else 400 if errors else 200)


@blp.route("/coordinator/leegstand.csv")
@login_required("coordinator")
@read_only
def coordinator_leegstand_csv() -> ResponseReturnValue:
    regions = visible_regions(_caller())
    month = pages.month_arg()
    provider_id, code, _ = _filters(regions, None)
    rows = pages.register(month, provider_id=provider_id, municipality_code=code, regions=regions)
    return pages.register_csv(month, rows)


# The domain's field names → the form's.
TARIFF_FIELDS = {
    "municipality": "gemeente",
    "funding": "financiering",
    "product_code": "productcode",
    "price": "tarief",
    "valid_from": "geldig_vanaf",
    "valid_to": "geldig_tot",
}


def _tariff_page(form: TariffForm, regions: frozenset[int] | None, status: int = 200) -> Any:
    names = dict(_choices(regions)["municipalities"])
    form.gemeente.choices = {
        "": "Kies een gemeente",
        **{code: f"{name} ({code})" for code, name in names.items()},
    }
    rows = [(t, code) for t, code in tariffs.list_tariffs(db.session) if code in names]
    return render_template(
        "coordinator/tariffs.html",
        form=form,
        rows=rows,
        names=names,
        today=clock.today(),
    ), status


@blp.route("/coordinator/tarieven", methods=["GET", "POST"])
@login_required("coordinator")
def coordinator_tariffs() -> ResponseReturnValue:
    regions = visible_regions(_caller())
    form = TariffForm()
    if request.method == "GET" and not form.geldig_vanaf.data:
        form.geldig_vanaf.data = Month.of(clock.today()).next().first.isoformat()
    if not form.validate_on_submit():
        if not form.gemeente.data and request.method == "POST":
            form.gemeente.errors = ["Kies een gemeente."]
        return _tariff_page(form, regions, 400 if request.method == "POST" else 200)
    if not form.gemeente.data:
        form.gemeente.errors = ["Kies een gemeente."]
        return _tariff_page(form, regions, 400)
    code = str(form.gemeente.data)

    def work() -> Any:
        try:
            ensure_visible_filters(db.session, regions, municipality=code)
        except NotFound as exc:
            raise Forbidden(
                f"Gemeente '{code}' hoort niet bij uw regio's; u stelt daar geen tarieven vast."
            ) from exc
        return tariffs.add_tariff(
            db.session,
            municipality=code,
            funding=str(form.financiering.data),
            product_code=str(form.productcode.data),
            price_cents=price_cents(str(form.tarief.data)),
            valid_from=date.fromisoformat(form.geldig_vanaf.data),
            valid_to=date.fromisoformat(form.geldig_tot.data) if form.geldig_tot.data else None,
            now=clock.now(),
        )

    try:
        edge.transaction(work)
    except Forbidden as exc:
        form.gemeente.errors = [exc.detail]
        return _tariff_page(form, regions, 403)
    except InvalidInput as exc:
        for param in exc.params or [{"name": "municipality", "reason": exc.detail}]:
            getattr(form, TARIFF_FIELDS.get(param["name"], "gemeente")).errors = [param["reason"]]
        return _tariff_page(form, regions, 400)
    flash("Het tarief is opgeslagen.", "info")
    return redirect(url_for("web.coordinator_tariffs"))
