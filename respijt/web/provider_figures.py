"""The provider's claims and leegstand: the lines of a month of its own locations summed per
gemeente, its export batches, the leegstand register of its own units, and their CSV files
(docs/exports.md). Exporting a month freezes the pending lines in a new batch, as
`POST /api/v1/claims/exports` does (`claims.ledger.export_month`).

A provider sees its own figures only: the queries take its provider id; another provider's
batch answers 404.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from respijt import clock, edge
from respijt.claims import formats, ledger, leegstand
from respijt.claims.months import Month
from respijt.errors import InvalidInput, NotFound
from respijt.extensions import db
from respijt.models import ClaimExport
from respijt.people.caller import Caller
from respijt.web import blp
from respijt.web import claims_pages as pages
from respijt.web.security import current_principal, login_required


def _caller() -> Caller:
    principal = current_principal()
    assert principal is not None
    return principal.caller


def _provider_id(caller: Caller) -> int:
    assert caller.provider_id is not None
    return caller.provider_id


@blp.route("/aanbieder/declaratie")
@login_required("provider")
def provider_figures() -> ResponseReturnValue:
    provider_id = _provider_id(_caller())
    errors: dict[str, str] = {}
    month = pages.month_arg(errors)
    claims = pages.month_claims(month, provider_id=provider_id)
    rows = pages.register(month, provider_id=provider_id)
    exports = db.session.scalars(
        select(ClaimExport)
        .where(ClaimExport.provider_id == provider_id, ClaimExport.month == str(month))
        .order_by(ClaimExport.seq)
    ).all()
    pending = sum(1 for line in claims.gemeente + claims.other if line.export_id is None)
    return render_template(
        "web/provider_figures.html",
        claims=claims,
        rows=rows,
        total=leegstand.total_occupancy(rows),
        exports=exports,
        pending=pending,
        may_export=month.first <= clock.today(),
        args={"maand": str(month)},
        errors=errors,
        **pages.page_context(month),
    ), (400 if errors else 200)


@blp.route("/aanbieder/declaratie.csv")
@login_required("provider")
def provider_claims_csv() -> ResponseReturnValue:
    caller = _caller()
    month = pages.month_arg()
    chosen = pages.list_arg()

    def work() -> ResponseReturnValue:
        claims = pages.month_claims(month, provider_id=_provider_id(caller))
        return pages.claims_csv(caller, claims, chosen, f"declaratieregels-{month}")

    return edge.transaction(work)


@blp.route("/aanbieder/leegstand.csv")
@login_required("provider")
def provider_leegstand_csv() -> ResponseReturnValue:
    month = pages.month_arg()
    return pages.register_csv(month, pages.register(month, provider_id=_provider_id(_caller())))


@blp.route("/aanbieder/declaratie/export/<int:export_id>.csv")
@login_required("provider")
def provider_export_csv(export_id: int) -> ResponseReturnValue:
    caller = _caller()
    chosen = pages.list_arg()

    def work() -> ResponseReturnValue:
        export = db.session.scalar(
            select(ClaimExport).where(
                ClaimExport.id == export_id, ClaimExport.provider_id == _provider_id(caller)
            )
        )
        if export is None:
            raise NotFound("Deze export bestaat niet.")
        lines = ledger.export_lines(db.session, export)
        gemeente, other = formats.split_by_payer(lines)
        claims = pages.MonthClaims(gemeente, other, formats.names_for(db.session, lines))
        filename = f"declaratie-export-{export.month}-nr-{export.seq}"
        return pages.claims_csv(caller, claims, chosen, filename, action="claims.export_read")

    return edge.transaction(work)


@blp.route("/aanbieder/declaratie/exporteren", methods=["POST"])
@login_required("provider")
def provider_export_month() -> ResponseReturnValue:
    caller = _caller()
    text = (request.form.get("maand") or "").strip()
    try:
        month = Month.parse(text, "maand")
    except InvalidInput:
        flash("Kies een maand als jjjj-mm, bijv. 2027-03.", "fout")
        return redirect(url_for("web.provider_figures"))

    def work() -> ClaimExport | None:
        export, _ = ledger.export_month(
            db.session,
            month,
            provider_id=_provider_id(caller),
            actor=caller.key,
            now=clock.now(),
            today=clock.today(),
        )
        return export

    try:
        try:
            export = edge.transaction(work)
        except IntegrityError:
            # Two exports at once (PostgreSQL): run again, it finds the other's batch.
            db.session.rollback()
            export = edge.transaction(work)
    except InvalidInput as exc:
        flash(exc.detail, "fout")
        return redirect(url_for("web.provider_figures", maand=str(month)))
    if export is None:
        flash("Er zijn in deze maand geen regels om te exporteren.", "info")
    else:
        flash(
            f"De regels van {month} staan in export nummer {export.seq}. Download het bestand "
            "hieronder en neem de regels over in uw declaratiesysteem.",
            "info",
        )
    return redirect(url_for("web.provider_figures", maand=str(month)))
