"""Creating a care request: Dutch validation, the reference, matching at once (no fit
puts it on the waitlist; urgent without a fit is flagged for the meldpunt on duty)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from respijt import database, formatting
from respijt.beds.registry import municipality_by_code, normalise_phone
from respijt.care_requests import notices, recurrence
from respijt.care_requests.access import meldpunt_may_link, restrict_to_visible
from respijt.care_requests.common import (
    new_reference,
    normalise_reference,
    problem,
)
from respijt.care_requests.matching import request_matches
from respijt.care_requests.status import append_event, set_status
from respijt.care_requests.workflow import REQUEST_NEW, REQUEST_WAITLISTED
from respijt.codes import CARE_LEVELS, TARGET_GROUPS
from respijt.database import DbSession
from respijt.errors import InvalidInput
from respijt.models import (
    CareRequest,
    CareRequestStay,
    Location,
    Municipality,
    Unit,
)
from respijt.people.caller import Caller

_DIGITS = re.compile(r"\d")


@dataclass(frozen=True)
class StayLimits:
    min_nights: int
    max_nights: int


def stay_limits(session: DbSession) -> StayLimits | None:
    """The shortest minimum and the longest maximum stay over all units in service."""
    row = session.execute(
        select(func.min(Unit.min_nights), func.max(Unit.max_nights)).where(
            Unit.retired_at.is_(None)
        )
    ).one()
    if row[0] is None:
        return None
    return StayLimits(int(row[0]), int(row[1]))


def series_dates(
    arrival: date, departure: date, every_days: int, until: date
) -> list[tuple[date, date]]:
    """The stays of an every-N-days series (the API's older `every_days`)."""
    return recurrence.stay_dates(
        arrival, departure, recurrence.SeriesRule("days", every_days), until
    )


def _linkable_previous(
    session: DbSession,
    reference: str,
    *,
    caller: Caller | None,
    now: datetime,
    birth_year: int,
    contact_mobile: str | None,
) -> CareRequest | None:
    """The earlier request `reference` names, if this caller may link it: one they may see
    (the public: one sent from the same mobile number) of a client with the same birth year.
    The meldpunt links by the reference and birth year the caller tells on the phone, in the
    regions it is on duty for (or a request it handled): the earlier stay is usually over, and
    a placed or closed request has left its view.
    Anything else is None, whether the reference exists or not, so the answer tells a
    stranger neither that nor the birth year behind it."""
    query = select(CareRequest).where(
        CareRequest.reference == normalise_reference(reference),
        CareRequest.birth_year == birth_year,
        CareRequest.anonymised_at.is_(None),
    )
    if caller is None or caller.role == "public":
        if not contact_mobile:
            return None
        query = query.where(CareRequest.contact_mobile == contact_mobile)
    elif caller.role == "meldpunt":
        query = query.where(meldpunt_may_link(caller, now))
    else:
        query = restrict_to_visible(query, caller, now)
    found: CareRequest | None = session.scalar(query)
    return found


def _series_problems(
    series: dict[str, Any], arrival: date, departure: date
) -> list[dict[str, str]]:
    """What is wrong with a series: one rule, an end after the arrival, no overlap."""
    given = [k for k in ("every_days", "every_weeks", "weekend_of_month") if series.get(k)]
    if len(given) != 1:
        return [
            problem(
                "series",
                "rule",
                "Kies één regel voor de reeks: elke maand een weekend, of elke paar weken.",
            )
        ]
    name = given[0]
    if name == "weekend_of_month" and series[name] not in recurrence.WEEKEND_WORDS:
        return [
            problem("series.weekend_of_month", "range", "Kies het 1e tot 4e of laatste weekend.")
        ]
    if name == "every_weeks" and not 1 <= series[name] <= 13:
        return [problem("series.every_weeks", "range", "Kies elke 1 tot 13 weken.")]
    rule = recurrence.rule_from_input(series)
    if series["until"] < arrival:
        return [problem("series.until", "range", "Het einde van de reeks ligt vóór de aankomst.")]
    if departure > arrival and (departure - arrival).days >= rule.every_days:
        return [
            problem(
                f"series.{name}",
                "overlap",
                "De verblijven van de reeks overlappen; kies een langere tussenpoos.",
            )
        ]
    return []


def validate_request(
    session: DbSession,
    data: dict[str, Any],
    today: date,
    *,
    caller: Caller | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Check a new request; returns normalised values or raises InvalidInput listing all.
    `caller` decides which earlier request `previous_request` may name (None: only one sent
    from the same contact mobile, as for the public)."""
    now = now or datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    problems: list[dict[str, str]] = []
    values: dict[str, Any] = {}
    if data.get("consent") is not True:
        problems.append(
            problem(
                "consent",
                "consent",
                "Zonder toestemming voor het verwerken van deze gegevens kunnen we de aanvraag "
                "niet in behandeling nemen.",
            )
        )
    arrival, departure = data["arrival"], data["departure"]
    if arrival < today:
        problems.append(problem("arrival", "past", "Aankomst ligt in het verleden."))
    if departure <= arrival:
        problems.append(problem("departure", "range", "Vertrek moet na aankomst liggen."))
    else:
        limits = stay_limits(session)
        nights = (departure - arrival).days
        if limits is not None and not limits.min_nights <= nights <= limits.max_nights:
            problems.append(
                problem(
                    "departure",
                    "stay_length",
                    "Geen logeerbed neemt een verblijf van "
                    f"{formatting.nights(nights)}; mogelijk is "
                    f"{limits.min_nights} tot {limits.max_nights} nachten.",
                )
            )
    try:
        values["municipality"] = municipality_by_code(session, data["municipality"])
    except InvalidInput:
        problems.append(
            problem(
                "municipality",
                "unknown_municipality",
                f"Onbekende gemeente '{data['municipality']}'; gebruik de CBS-code, bijv. GM0503.",
            )
        )
    if data["target_group"] not in TARGET_GROUPS:
        problems.append(
            problem(
                "target_group",
                "unknown_code",
                f"Onbekende doelgroep '{data['target_group']}'; kies uit: "
                f"{', '.join(TARGET_GROUPS)}.",
            )
        )
    if data.get("care_level", "basic") not in CARE_LEVELS:
        problems.append(
            problem("care_level", "unknown_code", f"Kies uit: {', '.join(CARE_LEVELS)}.")
        )
    client_name = data["client"]["first_name"].strip()
    if _DIGITS.search(client_name):
        problems.append(
            problem(
                "client.first_name",
                "name",
                "Alleen een voornaam of voorletters; geen nummers (nooit een BSN).",
            )
        )
    values["client_name"] = client_name
    contact = data["contact"]
    problems.extend(_contact_values(contact, values))
    series = data.get("series")
    if series is not None:
        problems.extend(_series_problems(series, arrival, departure))
    previous_ref = data.get("previous_request")
    if previous_ref:
        previous = _linkable_previous(
            session,
            previous_ref,
            caller=caller,
            now=now,
            birth_year=data["client"]["birth_year"],
            contact_mobile=values.get("contact_mobile"),
        )
        if previous is None:
            problems.append(
                problem(
                    "previous_request",
                    "unknown_request",
                    "Onbekende eerdere aanvraag voor deze cliënt.",
                )
            )
        values["previous_request"] = previous
    if problems:
        raise InvalidInput("De aanvraag is niet volledig of niet juist.", problems)
    return values


def _known_location(session: DbSession, location_id: int | None) -> int | None:
    """The place chosen in the search, kept as the request's preference when it exists (a
    preference never stops a request: an unknown or removed place is left out)."""
    if not location_id:
        return None
    return session.scalar(select(Location.id).where(Location.id == location_id))


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def _contact_values(contact: dict[str, Any], values: dict[str, Any]) -> list[dict[str, str]]:
    """The contact's mobile, or instead a landline and/or an e-mail address (a family without
    a mobile: docs/family.md). `contact_mobile` is "" without a mobile."""
    problems: list[dict[str, str]] = []
    mobile = (contact.get("mobile") or "").strip()
    phone = (contact.get("phone") or "").strip()
    email = (contact.get("email") or "").strip().lower()
    values["contact_mobile"] = ""
    if mobile:
        try:
            values["contact_mobile"] = normalise_phone(mobile, "contact.mobile", mobile=True)
        except InvalidInput as exc:
            problems.extend(exc.params)
    if phone:
        try:
            values["contact_phone"] = normalise_phone(phone, "contact.phone", mobile=False)
        except InvalidInput as exc:
            problems.extend(exc.params)
    if email:
        if _EMAIL.match(email) and len(email) <= 254:
            values["contact_email"] = email
        else:
            problems.append(
                problem(
                    "contact.email", "email", "Geen geldig e-mailadres, bijv. naam@voorbeeld.nl."
                )
            )
    if not (mobile or phone or email):
        problems.append(
            problem(
                "contact.mobile",
                "required",
                "Vul een mobiel nummer in, of anders een vast nummer of e-mailadres.",
            )
        )
    return problems


def create_request(
    session: DbSession,
    data: dict[str, Any],
    *,
    caller: Caller,
    channel: str,
    now: datetime,
    today: date,
    stale_after_hours: int,
) -> CareRequest:
    """Store a new request, then match it at once: no fit puts it on the waitlist, and an
    urgent request without a fit is flagged for the meldpunt on duty."""
    values = validate_request(session, data, today, caller=caller, now=now)
    municipality: Municipality = values["municipality"]
    # Who asks follows from the account; only the meldpunt records it from the phone call,
    # and on the public form someone may say they ask as a verwijzer.
    requester_type = {"public": "mantelzorger", "verwijzer": "verwijzer"}.get(
        caller.role, data.get("requester") or "meldpunt"
    )
    if caller.role == "public" and data.get("requester") == "verwijzer":
        requester_type = "verwijzer"
    series = data.get("series")
    rule = recurrence.rule_from_input(series) if series else None
    care_request = CareRequest(
        reference=_unique_reference(session),
        channel=channel,
        requester_type=requester_type,
        caller=caller.key,
        caller_role=caller.role,
        caller_provider_id=caller.provider_id,
        client_name=values["client_name"],
        birth_year=data["client"]["birth_year"],
        municipality_id=municipality.id,
        region_id=municipality.region_id,
        target_group=data["target_group"],
        care_level=data.get("care_level") or "basic",
        wheelchair=bool(data.get("wheelchair")),
        language=data.get("language"),
        arrival=data["arrival"],
        departure=data["departure"],
        flexibility_days=data.get("flexibility_days") or 0,
        urgency=data.get("urgency") or "planned",
        reason=data["reason"],
        funding=data.get("funding") or "onbekend",
        contact_name=data["contact"]["name"].strip(),
        contact_mobile=values["contact_mobile"],
        contact_phone=values.get("contact_phone"),
        contact_email=values.get("contact_email"),
        # Only a verwijzer may keep the family out of the messages (then they get them).
        contact_family=caller.role != "verwijzer"
        or data["contact"].get("family", True) is not False,
        consent_at=now,
        previous_request=values.get("previous_request"),
        preferred_location_id=_known_location(session, data.get("preferred_location_id")),
        series_every_days=rule.every_days if rule else None,
        series_rule=rule.code if rule else None,
        series_until=series["until"] if series else None,
        status=REQUEST_NEW,
        created_at=now,
        updated_at=now,
    )
    session.add(care_request)
    session.flush()
    if series and rule:
        for seq, (arrival, departure) in enumerate(
            recurrence.stay_dates(
                care_request.arrival, care_request.departure, rule, series["until"]
            )
        ):
            session.add(
                CareRequestStay(
                    request_id=care_request.id, seq=seq, arrival=arrival, departure=departure
                )
            )
    append_event(session, care_request, None, REQUEST_NEW, caller.key, now)
    notices.request_changed(session, care_request, previous=None, now=now)
    session.flush()
    matches = request_matches(
        session, care_request, now=now, today=today, stale_after_hours=stale_after_hours, limit=1
    )
    if not matches:
        set_status(
            session,
            care_request,
            REQUEST_WAITLISTED,
            party="system",
            actor="system",
            now=now,
            reason="Nu geen passend logeerbed; de aanvraag staat op de wachtlijst.",
        )
        if care_request.urgency == "urgent":
            flag_for_meldpunt(
                session,
                care_request,
                now=now,
                reason="Spoed: geen passend logeerbed gevonden. Het meldpunt beslist over de "
                "crisisroute.",
            )
    return care_request


@database.also_retry
def is_reference_collision(exc: BaseException) -> bool:
    """A reference is checked as free before use, so two requests that drew the same one at
    the same instant both pass and the second meets the unique constraint: redoing the
    transaction draws another."""
    return database.is_unique_violation(exc, "uq_care_request_reference", "care_request.reference")


def _unique_reference(session: DbSession) -> str:
    for _ in range(20):
        reference = new_reference()
        if session.scalar(select(CareRequest.id).where(CareRequest.reference == reference)) is None:
            return reference
    raise RuntimeError("could not draw a free request reference")


def flag_for_meldpunt(
    session: DbSession, care_request: CareRequest, *, now: datetime, reason: str
) -> None:
    """Put the request on the meldpunt's attention list and alert the meldpunt on duty."""
    care_request.attention_at = now
    care_request.attention_reason = reason
    session.flush()
    notices.request_needs_attention(session, care_request, now=now)
