"""Server-rendered report pages: the printable monthly report per municipality.

Thin: parse → authorize → gather (claims.report) → render. Until the accounts branch brings
login sessions, the viewer is the API token's caller (coordinator or admin); `report_viewer()` is
the one place to switch to the logged-in user.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from respijt import clock
from respijt.api.security import current_caller
from respijt.auth import Caller
from respijt.claims.formats import money
from respijt.claims.months import Month
from respijt.claims.report import monthly_report
from respijt.errors import Forbidden
from respijt.extensions import db

bp = Blueprint("report_pages", __name__)

VIEWER_ROLES = ("coordinator", "admin")


def report_viewer() -> Caller:
    caller = current_caller()
    if caller.role not in VIEWER_ROLES:
        raise Forbidden("Alleen coördinatoren en beheerders zien de maandrapportage.")
    return caller


def _nl_number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}".replace(",", " ").replace(".", ",")


def _nl_percent(value: float | None) -> str:
    return "–" if value is None else _nl_number(value * 100, 1) + "%"


def _euro(cents: int | None) -> str:
    text = money(cents, decimal_comma=True)
    return "–" if text is None else f"€ {text}"


@bp.route("/reports/monthly/<municipality>/<month>")
def monthly(municipality: str, month: str) -> ResponseReturnValue:
    report_viewer()
    parsed = Month.parse(month)
    data = monthly_report(
        db.session,
        municipality,
        parsed,
        now=clock.now(),
        today=clock.today(),
        stale_after_hours=current_app.config["RESPIJT_STALE_AFTER_HOURS"],
    )
    db.session.commit()
    return render_template(
        "reports/monthly.html",
        r=data,
        number=_nl_number,
        percent=_nl_percent,
        euro=_euro,
        local=lambda moment: moment.astimezone(clock.LOCAL_TZ).strftime("%d-%m-%Y %H:%M"),
    )


monthly._respijt_read_only = True  # type: ignore[attr-defined]
