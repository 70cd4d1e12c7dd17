"""The provider's reservations list: every stay at its own locations, filtered and paged.

A planner wants what is coming: by default the list holds the stays that are not over
(departure today or later, or still open after their dates: an arrival or departure not yet
reported), soonest arrival first; "Ook afgelopen verblijven" adds the earlier ones. The page
names how many stays the filter finds. (The API's list keeps its own default.)

Which reservations a provider sees is decided in the query (`care_requests.access`): its own
locations only. Every read writes a search row to the access log, and one row per client shown
(first name, birth year).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue

from respijt import clock, edge
from respijt.beds import registry
from respijt.care_requests import access
from respijt.care_requests.access_log import log_reservation_list
from respijt.codes import DATE_MAX, DATE_MIN
from respijt.extensions import db
from respijt.people.caller import Caller
from respijt.reservations import steps
from respijt.reservations.workflow import AWAITING_PROVIDER, CONFIRMED, RESERVATION_LABELS
from respijt.web import blp
from respijt.web.forms import ActionForm
from respijt.web.provider import client_needs
from respijt.web.security import current_principal, login_required

PAGE_SIZE = 25
PAGE_MAX = 10_000
WITH_PAST = "afgelopen"  # the check box's name in the address; its value is "ja"


def _caller() -> Caller:
    principal = current_principal()
    assert principal is not None
    return principal.caller


def _date(name: str, label: str, problems: list[str]) -> date | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        problems.append(f"{label}: vul een datum in als jjjj-mm-dd.")
        return None
    if not DATE_MIN <= day <= DATE_MAX:
        problems.append(f"{label}: kies een datum tussen 2000 en 2099.")
        return None
    return day


def _filter(location_ids: set[int], today: date) -> tuple[access.ReservationFilter, list[str]]:
    """The filter from the address; what is not understood is left out and named."""
    problems: list[str] = []
    status = request.args.get("status") or None
    if status is not None and status not in RESERVATION_LABELS:
        problems.append("Kies een status uit de lijst.")
        status = None
    location_id: int | None = None
    location = request.args.get("locatie") or ""
    if location:
        if location.isdigit() and int(location) in location_ids:
            location_id = int(location)
        else:
            problems.append("Kies een locatie uit de lijst.")
    arrival_from = _date("van", "Aankomst vanaf", problems)
    arrival_to = _date("tot", "Aankomst tot en met", problems)
    if arrival_from and arrival_to and arrival_to < arrival_from:
        problems.append("De einddatum ligt vóór de begindatum.")
        arrival_to = None
    page_text = request.args.get("pagina") or "1"
    page = int(page_text) if page_text.isdigit() and 1 <= int(page_text) <= PAGE_MAX else 1
    wanted = access.ReservationFilter(
        status=status,
        location_id=location_id,
        arrival_from=arrival_from,
        arrival_to=arrival_to,
        not_over_on=None if _with_past() else today,
        page=page,
        page_size=PAGE_SIZE,
    )
    return wanted, problems


def _with_past() -> bool:
    """'Ook afgelopen verblijven' ticked: stays that ended before today are listed too."""
    return request.args.get(WITH_PAST) == "ja"


def _page_url(page: int) -> str:
    query: dict[str, Any] = {
        key: value for key, value in request.args.items() if key != "pagina" and value
    }
    query["pagina"] = page
    return url_for("web.provider_reservations", **query)


def _needs_to_know(rows: list[access.ReservationRow], today: date) -> dict[int, list[str]]:
    """The client's needs by reservation id, only where the provider needs them to decide or
    to prepare: a stay waiting for its answer, or a confirmed stay still to come. Not on past,
    cancelled, declined or completed stays."""
    shown = [
        row.reservation
        for row in rows
        if row.client_first_name is not None
        and (
            row.reservation.status == AWAITING_PROVIDER
            or (row.reservation.status == CONFIRMED and row.reservation.arrival >= today)
        )
    ]
    by_request = client_needs(shown)
    return {r.id: by_request[r.request_id] for r in shown if r.request_id in by_request}


@blp.route("/aanbieder/reserveringen")
@login_required("provider")
def provider_reservations() -> ResponseReturnValue:
    caller = _caller()

    def work() -> dict[str, Any]:
        locations = registry.provider_locations(db.session, caller.provider_id)
        wanted, problems = _filter({location.id for location in locations}, clock.today())
        now = clock.now()
        rows, has_next = access.list_reservations(db.session, caller, wanted, now)
        total = access.count_reservations(db.session, caller, wanted, now)
        log_reservation_list(
            db.session,
            caller=caller,
            shown_clients=[r.reservation.id for r in rows if r.client_first_name is not None],
            source=request.remote_addr,
        )
        return {
            "locations": [(location.id, location.name) for location in locations],
            "rows": rows,
            "needs": _needs_to_know(rows, clock.today()),
            "wanted": wanted,
            "with_past": wanted.not_over_on is None,
            "total": total,
            "pages": max(1, -(-total // wanted.page_size)),
            "problems": problems,
            "previous_url": _page_url(wanted.page - 1) if wanted.page > 1 else None,
            "next_url": _page_url(wanted.page + 1) if has_next else None,
        }

    context = edge.transaction(work)
    return render_template(
        "web/provider_reservations.html",
        **context,
        labels=RESERVATION_LABELS,
        awaiting=AWAITING_PROVIDER,
        attendance=steps.attendance_steps,
        today=clock.today(),
        action_form=ActionForm(),
        back=request.full_path.rstrip("?"),
    )
