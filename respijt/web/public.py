"""Public pages: home, availability search, location, contact, privacy, accessibility,
complaints and feedback. No login, no personal data shown."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, NamedTuple

import phonenumbers
from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from respijt import clock, edge
from respijt.beds import nearby
from respijt.beds.availability import SearchFilters, search
from respijt.codes import CARE_LEVELS, FUNDING_ROUTES, LANGUAGES, TARGET_GROUPS
from respijt.extensions import db
from respijt.models import Location, Municipality, Region
from respijt.people import feedback
from respijt.serving import public_limits
from respijt.serving.callers import read_only
from respijt.web import blp
from respijt.web.forms import FeedbackForm, SearchForm, parse_date
from respijt.web.texts import texts_for

MAX_SEARCH_NIGHTS = 31
DEFAULT_SEARCH_NIGHTS = 7
MAX_LOCATIONS_SHOWN = 30
# Keep a results page well under 200 KB: fewer places when many nights are asked for.
MAX_NIGHT_CELLS = 1500
LOCATION_PAGE_NIGHTS = 14


def phone_display(number: str | None) -> str:
    """E.164 as Dutch people write it: '+31970…' → '0970 …'."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, "NL")
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


class MunicipalityEntry(NamedTuple):
    code: str
    name: str


class RegionEntry(NamedTuple):
    code: str
    name: str
    meldpunt_number: str | None
    municipalities: list[MunicipalityEntry]


def regions_with_municipalities() -> list[RegionEntry]:
    """Regions by name, each with its municipalities by name: what the forms' choices and the
    contact lists show, read as plain rows in one query (as ORM objects, the 25 regions and 342
    municipalities of the country took longer than the availability search itself)."""
    rows = db.session.execute(
        select(
            Region.code, Region.name, Region.meldpunt_number, Municipality.code, Municipality.name
        )
        .outerjoin(Municipality, Municipality.region_id == Region.id)
        .order_by(Region.name, Region.code, Municipality.name)
    ).all()
    regions: list[RegionEntry] = []
    for code, name, meldpunt_number, municipality_code, municipality_name in rows:
        if not regions or regions[-1].code != code:
            regions.append(RegionEntry(code, name, meldpunt_number, []))
        if municipality_code is not None:
            regions[-1].municipalities.append(
                MunicipalityEntry(municipality_code, municipality_name)
            )
    return regions


def municipality_choices(regions: list[RegionEntry], placeholder: str) -> dict[str, Any]:
    """Choices grouped per region: wtforms renders {region: {code: name}} as <optgroup>s."""
    grouped: dict[str, Any] = {"": placeholder}
    for region in regions:
        grouped[region.name] = {m.code: m.name for m in region.municipalities}
    return grouped


def too_many(exc: public_limits.TooManyRequests, template: str, **context: Any) -> Any:
    """A public form refused by its limit: the form again, as the visitor filled it in, with
    the Dutch message (flashed, or in the error summary by the caller) and Retry-After."""
    response = make_response(render_template(template, **context), 429)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _stale_after() -> int:
    return int(current_app.config["RESPIJT_STALE_AFTER_HOURS"])


@blp.route("/")
@read_only
def home() -> ResponseReturnValue:
    regions = regions_with_municipalities()
    code = (request.args.get("gemeente") or "").upper() or None
    chosen = None
    if code:
        chosen = db.session.scalar(select(Municipality).where(Municipality.code == code))
    texts = texts_for(
        current_app.config["RESPIJT_MUNICIPALITY_TEXTS"], chosen.code if chosen else None
    )
    return render_template(
        "web/home.html",
        regions=regions,
        chosen=chosen,
        texts=texts,
        target_groups=TARGET_GROUPS,
        phone=phone_display,
    )


def _search_range(form: SearchForm, today: date) -> tuple[date, date]:
    night_from = parse_date(form.van.data) or today
    night_to = parse_date(form.tot.data) or night_from + timedelta(days=DEFAULT_SEARCH_NIGHTS)
    if night_from < today:
        form.van.errors = [*form.van.errors, "De eerste nacht ligt in het verleden."]
    if night_to <= night_from:
        form.tot.errors = [*form.tot.errors, "De vertrekdag moet na de eerste nacht liggen."]
    elif (night_to - night_from).days > MAX_SEARCH_NIGHTS:
        form.tot.errors = [
            *form.tot.errors,
            f"Zoek hooguit {MAX_SEARCH_NIGHTS} nachten tegelijk.",
        ]
    return night_from, night_to


def _locations_shown(nights: int) -> int:
    return max(5, min(MAX_LOCATIONS_SHOWN, MAX_NIGHT_CELLS * 2 // (max(nights, 1) * 5)))


def _home(form: SearchForm) -> nearby.Home | None:
    """The client's gemeente chosen in the search, or None; an unknown code is an error."""
    if not form.gemeente.data:
        return None
    home = nearby.find_home(db.session, form.gemeente.data)
    if home is None:
        form.gemeente.errors = [*form.gemeente.errors, "Kies een gemeente uit de lijst."]
    return home


def _search(
    form: SearchForm, home: nearby.Home | None, night_from: date, night_to: date
) -> dict[str, Any]:
    filters = SearchFilters(
        region=form.regio.data or None,
        target_group=form.doelgroep.data or None,
        wheelchair=bool(form.rolstoel.data),
    )
    care_level, funding = form.zorg.data or None, form.financiering.data or None
    if home is not None:
        return nearby.search_near(
            db.session,
            filters,
            home,
            float(current_app.config["RESPIJT_NEAR_MAX_KM"]),
            night_from,
            night_to,
            clock.now(),
            _stale_after(),
            care_level=care_level,
            funding=funding,
        )
    result = search(db.session, filters, night_from, night_to, clock.now(), _stale_after())
    result["locations"] = nearby.narrow(result["locations"], care_level, funding)
    return result


def _request_args(form: SearchForm, night_from: date, night_to: date) -> dict[str, str]:
    """What "Vraag een logeerbed aan" carries to the form: the client's gemeente (never the
    location's), the filters and the dates; the link adds the chosen place."""
    args = {
        "gemeente": form.gemeente.data or "",
        "doelgroep": form.doelgroep.data or "",
        "zorg": form.zorg.data or "",
        "financiering": form.financiering.data or "",
        "rolstoel": "1" if form.rolstoel.data else "",
        "van": night_from.isoformat(),
        "tot": night_to.isoformat(),
    }
    return {key: value for key, value in args.items() if value}


@blp.route("/beschikbaarheid")
@read_only
def availability() -> ResponseReturnValue:
    regions = regions_with_municipalities()
    form = SearchForm(request.args)
    form.gemeente.choices = municipality_choices(regions, "Kies een gemeente…")
    form.regio.choices = {"": "Alle regio's", **{r.code: r.name for r in regions}}
    today = clock.today()
    form.validate()
    night_from, night_to = _search_range(form, today)
    if not form.van.data:
        form.van.data = night_from.isoformat()
    if not form.tot.data:
        form.tot.data = night_to.isoformat()
    home = _home(form)
    has_errors = any(field.errors for field in form)
    result: dict[str, Any] = {"locations": []}
    if not has_errors:
        result = _search(form, home, night_from, night_to)
    locations = result["locations"]
    # Places with a bed free on some night first; within, the search's order (nearest first
    # when the client's gemeente is given).
    locations.sort(
        key=lambda loc: not any(n["free"] > 0 for u in loc["units"] for n in u["nights"])
    )
    context = {
        "form": form,
        "has_errors": has_errors,
        "home": home,
        "locations": locations[: _locations_shown((night_to - night_from).days)],
        "total": len(locations),
        "night_from": night_from,
        "night_to": night_to,
        "nights": (night_to - night_from).days,
        "target_groups": TARGET_GROUPS,
        "care_levels": CARE_LEVELS,
        "request_args": _request_args(form, night_from, night_to),
        "distance_words": nearby.distance_words,
    }
    if request.headers.get("HX-Request") == "true":
        return render_template("web/_results.html", **context)
    return render_template("web/availability.html", **context)


@blp.route("/locaties/<int:location_id>")
@read_only
def location(location_id: int) -> ResponseReturnValue:
    place = db.session.get(Location, location_id)
    if place is None:
        return render_template("web/not_found.html"), 404
    today = clock.today()
    result = search(
        db.session,
        SearchFilters(location_id=place.id),
        today,
        today + timedelta(days=LOCATION_PAGE_NIGHTS),
        clock.now(),
        _stale_after(),
    )
    found = result["locations"][0] if result["locations"] else None
    region = place.municipality.region
    return render_template(
        "web/location.html",
        place=place,
        found=found,
        region=region,
        meldpunt=phone_display(region.meldpunt_number if region else None),
        target_groups=TARGET_GROUPS,
        care_levels=CARE_LEVELS,
        funding_routes=FUNDING_ROUTES,
        languages=LANGUAGES,
        weekdays=["ma", "di", "wo", "do", "vr", "za", "zo"],
    )


@blp.route("/contact")
@read_only
def contact() -> ResponseReturnValue:
    return render_template(
        "web/contact.html", regions=regions_with_municipalities(), phone=phone_display
    )


@blp.route("/privacy")
@read_only
def privacy() -> ResponseReturnValue:
    return render_template("web/privacy.html")


@blp.route("/toegankelijkheid")
@read_only
def accessibility() -> ResponseReturnValue:
    return render_template("web/accessibility.html")


@blp.route("/klachten", methods=["GET", "POST"])
def complaints() -> ResponseReturnValue:
    regions = regions_with_municipalities()
    code = (request.args.get("gemeente") or "").upper() or None
    form = FeedbackForm()
    context = {
        "form": form,
        "gemeente": code,
        "regions": regions,
        "texts": texts_for(current_app.config["RESPIJT_MUNICIPALITY_TEXTS"], code),
        "phone": phone_display,
    }
    if request.method == "POST":
        try:
            public_limits.check_address(public_limits.COMPLAINTS_FORM)
        except public_limits.TooManyRequests as exc:
            flash(exc.detail, "fout")
            return too_many(exc, "web/complaints.html", **context)
    if form.validate_on_submit():
        edge.transaction(
            lambda: feedback.store_feedback(
                db.session,
                now=clock.now(),
                page=form.page.data or "",
                message=form.message.data or "",
                rating=form.rating.data or None,
                municipality_code=code,
            )
        )
        flash("Dank u wel. We lezen alle reacties en gebruiken ze om de website te verbeteren.")
        return redirect(url_for("web.complaints", gemeente=code), code=303)
    status = 422 if form.errors else 200
    return render_template("web/complaints.html", **context), status
