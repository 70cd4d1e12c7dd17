"""Server-rendered report pages: the printable monthly report per municipality, and its PDF.

Thin: parse → authorize → gather (claims.report) → render. The viewer is a coordinator or
admin, signed in on the web or calling with an API token; `report_viewer()` decides.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from respijt import clock, edge, formatting
from respijt.claims.months import Month
from respijt.claims.report import monthly_report
from respijt.errors import Forbidden, NotFound, ServiceUnavailable
from respijt.extensions import db
from respijt.people.caller import Caller, ensure_visible_filters, visible_regions
from respijt.serving.callers import current_caller
from respijt.web import report_pdf
from respijt.web.security import current_principal

bp = Blueprint("report_pages", __name__)

VIEWER_ROLES = ("coordinator", "admin")


def report_viewer(municipality_code: str) -> Caller:
    """An API token (Authorization header) or a signed-in web session past its second factor;
    coordinators only for municipalities in their regions (404 for another region's)."""
    if "Authorization" in request.headers:
        caller = current_caller()
    else:
        principal = current_principal()
        if principal is None:
            abort(redirect(url_for("auth.login", next=request.path)))
        assert principal is not None
        if not principal.fully_authenticated:
            abort(redirect(url_for("auth.second_factor")))
        caller = principal.caller
    if caller.role not in VIEWER_ROLES:
        raise Forbidden("Alleen coördinatoren en beheerders zien de maandrapportage.")
    try:
        ensure_visible_filters(db.session, visible_regions(caller), municipality=municipality_code)
    except NotFound as exc:
        if "Authorization" in request.headers:
            raise  # the API caller gets problem+json
        page = render_template("reports/not_found.html", detail=exc.detail)
        abort(make_response(page, 404))
    return caller


def _number(value: float | None, digits: int = 1) -> str:
    return formatting.number(value, digits)


def _percent(value: float | None) -> str:
    return formatting.percent(value, 1)


def _monthly_html(municipality: str, month: str) -> str:
    report_viewer(municipality)
    parsed = Month.parse(month)
    stale_after_hours = current_app.config["RESPIJT_STALE_AFTER_HOURS"]
    data = edge.transaction(
        lambda: monthly_report(
            db.session,
            municipality,
            parsed,
            now=clock.now(),
            today=clock.today(),
            stale_after_hours=stale_after_hours,
        )
    )
    return render_template(
        "reports/monthly.html",
        r=data,
        pdf_url=url_for("report_pages.monthly_pdf", municipality=municipality, month=month),
        number=_number,
        percent=_percent,
        euro=formatting.money,
        local=formatting.datetime_long,
    )


@bp.route("/reports/monthly/<municipality>/<month>")
def monthly(municipality: str, month: str) -> ResponseReturnValue:
    return _monthly_html(municipality, month)


monthly._respijt_read_only = True  # type: ignore[attr-defined]


@bp.route("/reports/monthly/<municipality>/<month>.pdf")
def monthly_pdf(municipality: str, month: str) -> ResponseReturnValue:
    """The same page as a PDF (WeasyPrint; needs Debian's Pango, see README)."""
    html = _monthly_html(municipality, month)
    try:
        pdf = report_pdf.render(html, current_app.static_folder or "")
    except report_pdf.PdfUnavailable as exc:
        raise ServiceUnavailable(
            "De PDF kan op deze server niet worden gemaakt. Druk de maandrapportage af vanuit "
            "de browser (Afdrukken, Opslaan als PDF)."
        ) from exc
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="maandrapportage-{municipality}-{month}.pdf"'
    )
    return response


monthly_pdf._respijt_read_only = True  # type: ignore[attr-defined]
