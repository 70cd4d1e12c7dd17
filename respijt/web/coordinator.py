"""The coordinator's pages: the duty rota with its gaps, the access log per request, the
complaints and reactions from the public form. The key figures are in `coordinator_kpis.py`.

A coordinator sees the rota and the access log of their own regions (`Caller.region_ids`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from respijt import edge
from respijt.care_requests import common
from respijt.extensions import db
from respijt.models import Region
from respijt.people import feedback
from respijt.people.caller import (
    Caller,
    in_visible_regions,
    visible_regions,
)
from respijt.privacy import access_log as privacy
from respijt.privacy import access_view
from respijt.web import blp
from respijt.web.security import current_principal, login_required

LOCAL = ZoneInfo("Europe/Amsterdam")


def _caller() -> Caller:
    principal = current_principal()
    assert principal is not None
    return principal.caller


def _regions(caller: Caller) -> list[Region]:
    query = (
        select(Region)
        .where(in_visible_regions(visible_regions(caller), Region.id))
        .order_by(Region.name)
    )
    return list(db.session.scalars(query))


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL).astimezone(UTC)


@blp.route("/coordinator/inzage")
@login_required("coordinator")
def coordinator_access_log() -> ResponseReturnValue:
    """Who looked at a request's data, or what one person looked at, in the coordinator's
    regions: names and actions in words. Reading the log is itself logged, per request shown."""
    caller = _caller()
    regions = visible_regions(caller)
    reference = (request.args.get("aanvraag") or "").strip()
    actor = (request.args.get("persoon") or "").strip()[:40] or None
    normalised = common.normalise_reference(reference)[:60] if reference else None
    people = access_view.people_in_log(db.session, regions)
    if actor is not None and actor not in {key for key, _ in people}:
        actor = None
    rows = None
    if normalised or actor:

        def work() -> Any:
            found = access_view.search(db.session, regions, reference=normalised, actor=actor)
            shown = sorted(
                {row.client_reference for row in found} | ({normalised} if normalised else set())
            )
            # Reading who looked is itself an access to each request's log: recorded too.
            for client_reference in shown or ["search"]:
                privacy.log_access(
                    db.session,
                    action="access_log.read" if shown else "access_log.search",
                    caller=caller,
                    client_reference=str(client_reference),
                    outcome="success",
                    purpose="toezicht",
                    source=None,
                    event="read" if shown else "search",
                )
            return access_view.entries(db.session, found)

        rows = edge.transaction(work)
    return render_template(
        "coordinator/access_log.html",
        reference=normalised or "",
        actor=actor or "",
        people=people,
        person={key: name for key, name in people}.get(actor or ""),
        rows=rows,
    )


@blp.route("/coordinator/reacties")
@login_required("coordinator")
def coordinator_complaints() -> ResponseReturnValue:
    """Complaints and reactions from the public form in the coordinator's regions (all of
    them, also those without a region, for a coordinator of every region). The words may
    name someone: each reading is an access-log row."""
    caller = _caller()

    def work() -> Any:
        found = feedback.list_complaints(db.session, visible_regions(caller))
        privacy.log_access(
            db.session,
            action="complaint.read",
            caller=caller,
            client_reference="klachten",
            outcome="success",
            purpose="klachtbehandeling",
            source=None,
            event="read",
        )
        return found

    rows = edge.transaction(work)
    regions = {r.id: r.name for r in db.session.scalars(select(Region))}
    retention = int(current_app.config["RESPIJT_COMPLAINT_RETENTION_DAYS"])
    return render_template(
        "coordinator/complaints.html", rows=rows, regions=regions, retention_days=retention
    )
