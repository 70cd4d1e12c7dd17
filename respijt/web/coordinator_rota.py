"""The coordinator's rota pages: the duty rota of their regions with gaps, public holidays,
overrides and swaps marked; a form to put another provider (or nobody) on duty for a period;
and the swaps waiting for a decision, to approve or refuse.

Every change goes through `meldpunt.changes` (the same use case as the API), whose notices
send the SMS to both sides; an override that opens a gap alerts the coordinator line at once.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from respijt import clock, edge, formatting
from respijt.errors import DomainError, InvalidInput, NotFound
from respijt.extensions import db
from respijt.meldpunt import changes, generation, notices
from respijt.models import Provider, ProviderRegion, Region, RotaShift, RotaSwap
from respijt.people.caller import Caller
from respijt.serving.callers import read_only
from respijt.web import blp
from respijt.web.coordinator import _caller, _local_start, _regions
from respijt.web.forms import ActionForm, parse_date
from respijt.web.security import login_required

ROTA_DAYS = 14
KIND_WORDS = {"override": "gewijzigd door de coördinator", "swap": "geruild"}
SWAP_WORDS = {
    "open": "aangeboden, nog niemand neemt de dienst over",
    "taken": "overgenomen, wacht op uw goedkeuring",
}


def _holidays(first: date, last: date) -> dict[date, str]:
    setting = current_app.config.get("RESPIJT_ROTA_HOLIDAYS")
    return generation.holiday_names(setting, first, last)


def _shift_holidays(shift: RotaShift, names: dict[date, str]) -> list[str]:
    """The holidays whose day falls (at local noon) in the shift."""
    found: list[str] = []
    day = shift.starts_at.astimezone(clock.LOCAL_TZ).date()
    while True:
        noon = datetime.combine(day, time(12), clock.LOCAL_TZ)
        if noon >= shift.ends_at:
            return found
        if noon >= shift.starts_at and day in names:
            found.append(f"{names[day]} ({formatting.day_month(day)})")
        day += timedelta(days=1)


def _open_swaps(region_id: int) -> list[RotaSwap]:
    return list(
        db.session.scalars(
            select(RotaSwap)
            .where(RotaSwap.region_id == region_id, RotaSwap.status.in_(("open", "taken")))
            .order_by(RotaSwap.id)
        )
    )


@blp.route("/coordinator/rooster")
@login_required("coordinator")
@read_only
def coordinator_rota() -> ResponseReturnValue:
    caller = _caller()
    first = parse_date(request.args.get("van")) or clock.today()
    last = first + timedelta(days=ROTA_DAYS - 1)
    start, end = _local_start(first), _local_start(first + timedelta(days=ROTA_DAYS))
    names = _holidays(first, last)
    rows = []
    for region in _regions(caller):
        shifts = generation.shifts_between(db.session, region.id, start, end)
        rows.append(
            {
                "region": region,
                "shifts": [
                    {
                        "shift": s,
                        "holidays": _shift_holidays(s, names),
                        "kind": KIND_WORDS.get(s.kind),
                    }
                    for s in shifts
                ],
                "gaps": generation.find_gaps(db.session, region.id, start, end),
                "swaps": [
                    {"swap": swap, "shift": db.session.get(RotaShift, swap.shift_id)}
                    for swap in _open_swaps(region.id)
                ],
            }
        )
    return render_template(
        "coordinator/rota.html",
        rows=rows,
        first=first,
        last=last,
        holidays=names,
        providers={p.id: p.name for p in db.session.scalars(select(Provider))},
        swap_words=SWAP_WORDS,
        form=ActionForm(),
    )


# --- overrides ------------------------------------------------------------------------------


def _serving(region_id: int) -> list[tuple[int, str]]:
    return [
        (pid, name)
        for pid, name in db.session.execute(
            select(Provider.id, Provider.name)
            .join(ProviderRegion, ProviderRegion.provider_id == Provider.id)
            .where(ProviderRegion.region_id == region_id)
            .order_by(Provider.name)
        )
    ]


def _moment(day_text: str | None, time_text: str | None) -> datetime | None:
    day = parse_date(day_text)
    try:
        at = time.fromisoformat((time_text or "").strip()[:5])
    except ValueError:
        return None
    return None if day is None else datetime.combine(day, at, clock.LOCAL_TZ)


def _override_form(regions: list[Region]) -> tuple[dict[str, Any], dict[str, str]]:
    """The posted override, parsed; a Dutch message per field that is not right."""
    form = request.form
    values = {
        k: (form.get(k) or "").strip()[:300]
        for k in ("regio", "aanbieder", "van", "van_tijd", "tot", "tot_tijd", "reden")
    }
    errors: dict[str, str] = {}
    region = next((r for r in regions if r.code == values["regio"]), None)
    if region is None:
        errors["regio"] = "Kies een van uw regio's."
    provider_id = None
    if values["aanbieder"]:
        served = dict(_serving(region.id)) if region else {}
        if not values["aanbieder"].isdigit() or int(values["aanbieder"]) not in served:
            errors["aanbieder"] = "Kies een aanbieder die in deze regio werkt, of niemand."
        else:
            provider_id = int(values["aanbieder"])
    starts_at = _moment(values["van"], values["van_tijd"])
    ends_at = _moment(values["tot"], values["tot_tijd"])
    if starts_at is None:
        errors["van"] = "Vul een begindatum en -tijd in, bijvoorbeeld 24-12-2026 om 18:00."
    if ends_at is None:
        errors["tot"] = "Vul een einddatum en -tijd in, bijvoorbeeld 25-12-2026 om 09:00."
    parsed = {
        "region": region,
        "provider_id": provider_id,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "reason": values["reden"] or None,
    }
    return {"values": values, "parsed": parsed}, errors


_FIELD_OF = {"ends_at": "tot", "starts_at": "van", "provider_id": "aanbieder"}


def _render_override(
    regions: list[Region], values: dict[str, str], errors: dict[str, str], status: int
) -> ResponseReturnValue:
    region = next((r for r in regions if r.code == values.get("regio")), None) or (
        regions[0] if regions else None
    )
    return render_template(
        "coordinator/override.html",
        regions=regions,
        region=region,
        providers=_serving(region.id) if region else [],
        values=values,
        errors=errors,
        form=ActionForm(),
    ), status


@blp.route("/coordinator/rooster/wijziging", methods=["GET", "POST"])
@login_required("coordinator")
def coordinator_override() -> ResponseReturnValue:
    caller = _caller()
    regions = _regions(caller)
    if request.method == "GET":
        code = (request.args.get("regio") or "").strip()
        values = {"regio": code or (regions[0].code if regions else "")}
        return _render_override(regions, values, {}, 200)
    if not ActionForm().validate_on_submit():
        return _render_override(regions, dict(request.form), {"form": _EXPIRED}, 400)
    posted, errors = _override_form(regions)
    values, parsed = posted["values"], posted["parsed"]
    if errors:
        return _render_override(regions, values, errors, 422)
    try:
        told = edge.transaction(lambda: _apply(caller, parsed))
    except InvalidInput as exc:
        for param in exc.params:
            errors[_FIELD_OF.get(param.get("name", ""), "form")] = exc.detail
        errors.setdefault("form", "Het rooster is niet gewijzigd. " + exc.detail)
        return _render_override(regions, values, errors, 422)
    except DomainError as exc:
        return _render_override(regions, values, {"form": exc.detail}, 409)
    who = dict(_serving(parsed["region"].id)).get(parsed["provider_id"], "niemand")
    flash(f"Het rooster is gewijzigd: {who} heeft dienst. {told_in_words(told)}", "info")
    return redirect(
        url_for("web.coordinator_rota", van=parsed["starts_at"].date().isoformat()), code=303
    )


_EXPIRED = "Het formulier was verlopen. Probeer het opnieuw."


def told_in_words(told: notices.Told) -> str:
    """Who got an SMS about the change, and whom to call because they have no mobile: from
    what was actually queued, never a promise."""
    sent = list(dict.fromkeys(told.sent))
    unreachable = list(dict.fromkeys(told.unreachable))
    words = []
    if sent:
        words.append(f"{_names(sent)} {'krijgt' if len(sent) == 1 else 'krijgen'} een sms.")
    if unreachable:
        has = "heeft" if len(unreachable) == 1 else "hebben"
        words.append(
            f"{_names(unreachable)} {has} geen mobiel nummer en "
            f"{'krijgt' if len(unreachable) == 1 else 'krijgen'} geen sms: bel zelf."
        )
    return " ".join(words) or "Er is geen sms verstuurd."


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " en " + names[-1]


def _apply(caller: Caller, parsed: dict[str, Any]) -> notices.Told:
    region = parsed["region"]
    now = clock.now()
    told = notices.Told()
    changes.apply_override(
        db.session,
        region.id,
        provider_id=parsed["provider_id"],
        starts_at=parsed["starts_at"],
        ends_at=parsed["ends_at"],
        actor=caller.key,
        now=now,
        reason=parsed["reason"],
        told=told,
    )
    return told


# --- swaps ----------------------------------------------------------------------------------


def _decide(swap_id: int, approve: bool) -> ResponseReturnValue:
    caller = _caller()
    if not ActionForm().validate_on_submit():
        flash(_EXPIRED, "fout")
        return redirect(url_for("web.coordinator_rota"), code=303)
    visible = {r.id for r in _regions(caller)}

    def work() -> notices.Told:
        region_id = db.session.scalar(select(RotaSwap.region_id).where(RotaSwap.id == swap_id))
        if region_id not in visible:
            raise NotFound("Dit ruilverzoek bestaat niet of hoort niet bij uw regio's.")
        decide = changes.approve_swap if approve else changes.refuse_swap
        told = notices.Told()
        decide(db.session, swap_id, actor=caller.key, now=clock.now(), told=told)
        return told

    try:
        told = edge.transaction(work)
    except NotFound as exc:
        flash(exc.detail, "fout")
        return redirect(url_for("web.coordinator_rota"), code=303)
    except DomainError as exc:
        flash(exc.detail, "fout")
    else:
        done = "De ruil is goedgekeurd." if approve else "De ruil is afgewezen."
        flash(f"{done} {told_in_words(told)}", "info")
    return redirect(url_for("web.coordinator_rota"), code=303)


@blp.route("/coordinator/rooster/ruil/<int:swap_id>/goedkeuren", methods=["POST"])
@login_required("coordinator")
def coordinator_approve_swap(swap_id: int) -> ResponseReturnValue:
    return _decide(swap_id, approve=True)


@blp.route("/coordinator/rooster/ruil/<int:swap_id>/afwijzen", methods=["POST"])
@login_required("coordinator")
def coordinator_refuse_swap(swap_id: int) -> ResponseReturnValue:
    return _decide(swap_id, approve=False)
