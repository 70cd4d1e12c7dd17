"""Care requests (aanvragen): creation with Dutch validation, access, choices, withdrawal,
expiry and series. Plain functions over a session: they flush, never commit.

Status steps go through `request_status.set_status()`; reservations made for a request move it
along through `request_status.follow_reservation()` (called by booking.py).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import false, func, or_, select, update

from respijt import booking, duty
from respijt.auth import Caller
from respijt.codes import CARE_LEVELS, TARGET_GROUPS
from respijt.database import DbSession
from respijt.errors import InvalidInput, InvalidTransition, NoBedFree, NotFound
from respijt.matching import Criteria, Match, criteria_for, find_matches
from respijt.models import (
    CareRequest,
    CareRequestStay,
    Location,
    Municipality,
    RequestOption,
    Reservation,
    Unit,
)
from respijt.notifications import rules
from respijt.registry import municipality_by_code, normalise_phone
from respijt.request_status import append_event, set_status
from respijt.workflow import (
    AWAITING_PROVIDER,
    HELD,
    OPEN_REQUEST_STATUSES,
    REQUEST_EXPIRED,
    REQUEST_LABELS,
    REQUEST_NEW,
    REQUEST_NO_FIT,
    REQUEST_WAITLISTED,
    REQUEST_WITHDRAWN,
)

# No look-alikes: 0/O/Q, 1/I/L, 2/Z, 5/S, 6/G, 8/B.
REFERENCE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
REFERENCE_PREFIX = "R-"
MAX_SERIES_STAYS = 26
PUBLIC = Caller(key="public", role="public")
SYSTEM = Caller(key="system", role="system")

_DIGITS = re.compile(r"\d")


def new_reference() -> str:
    return REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def normalise_reference(raw: str) -> str:
    """Accept 'r-7k3p9a', 'R7K3P9A' or 'R-7K3P9A' as typed on a phone."""
    cleaned = raw.strip().upper().replace(" ", "")
    if not cleaned.startswith(REFERENCE_PREFIX) and cleaned.startswith("R"):
        cleaned = REFERENCE_PREFIX + cleaned[1:]
    return cleaned


def link_caller(reference: str) -> Caller:
    """The requester acting through the signed link of their SMS."""
    return Caller(key=f"link:{reference}", role="public")


# --- creation -------------------------------------------------------------------------------


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


def _problem(name: str, code: str, reason: str) -> dict[str, str]:
    return {"name": name, "code": code, "reason": reason}


def series_dates(
    arrival: date, departure: date, every_days: int, until: date
) -> list[tuple[date, date]]:
    nights = (departure - arrival).days
    out: list[tuple[date, date]] = []
    start = arrival
    while start <= until and len(out) < MAX_SERIES_STAYS:
        out.append((start, start + timedelta(days=nights)))
        start += timedelta(days=every_days)
    return out


def validate_request(session: DbSession, data: dict[str, Any], today: date) -> dict[str, Any]:
    """Check a new request; returns normalised values or raises InvalidInput listing all."""
    problems: list[dict[str, str]] = []
    values: dict[str, Any] = {}
    if data.get("consent") is not True:
        problems.append(
            _problem(
                "consent",
                "consent",
                "Zonder toestemming voor het verwerken van deze gegevens kunnen we de aanvraag "
                "niet in behandeling nemen.",
            )
        )
    arrival, departure = data["arrival"], data["departure"]
    if arrival < today:
        problems.append(_problem("arrival", "past", "Aankomst ligt in het verleden."))
    if departure <= arrival:
        problems.append(_problem("departure", "range", "Vertrek moet na aankomst liggen."))
    else:
        limits = stay_limits(session)
        nights = (departure - arrival).days
        if limits is not None and not limits.min_nights <= nights <= limits.max_nights:
            problems.append(
                _problem(
                    "departure",
                    "stay_length",
                    f"Geen logeerbed neemt een verblijf van {nights} nacht(en); mogelijk is "
                    f"{limits.min_nights} tot {limits.max_nights} nachten.",
                )
            )
    try:
        values["municipality"] = municipality_by_code(session, data["municipality"])
    except InvalidInput:
        problems.append(
            _problem(
                "municipality",
                "unknown_municipality",
                f"Onbekende gemeente '{data['municipality']}'; gebruik de CBS-code, bijv. GM0503.",
            )
        )
    if data["target_group"] not in TARGET_GROUPS:
        problems.append(
            _problem(
                "target_group",
                "unknown_code",
                f"Onbekende doelgroep '{data['target_group']}'; kies uit: "
                f"{', '.join(TARGET_GROUPS)}.",
            )
        )
    if data.get("care_level", "basic") not in CARE_LEVELS:
        problems.append(
            _problem("care_level", "unknown_code", f"Kies uit: {', '.join(CARE_LEVELS)}.")
        )
    client_name = data["client"]["first_name"].strip()
    if _DIGITS.search(client_name):
        problems.append(
            _problem(
                "client.first_name",
                "name",
                "Alleen een voornaam of voorletters; geen nummers (nooit een BSN).",
            )
        )
    values["client_name"] = client_name
    contact = data["contact"]
    try:
        values["contact_mobile"] = normalise_phone(contact["mobile"], "contact.mobile", mobile=True)
    except InvalidInput as exc:
        problems.extend(exc.params)
    series = data.get("series")
    if series is not None:
        if series["until"] < arrival:
            problems.append(
                _problem("series.until", "range", "Het einde van de reeks ligt vóór de aankomst.")
            )
        elif departure > arrival and (departure - arrival).days >= series["every_days"]:
            problems.append(
                _problem(
                    "series.every_days",
                    "overlap",
                    "De verblijven van de reeks overlappen; kies een langere tussenpoos.",
                )
            )
    previous_ref = data.get("previous_request")
    if previous_ref:
        previous = session.scalar(
            select(CareRequest).where(CareRequest.reference == normalise_reference(previous_ref))
        )
        if previous is None or previous.birth_year != data["client"]["birth_year"]:
            problems.append(
                _problem(
                    "previous_request",
                    "unknown_request",
                    "Onbekende eerdere aanvraag voor deze cliënt.",
                )
            )
        values["previous_request"] = previous
    if problems:
        raise InvalidInput("De aanvraag is niet volledig of niet juist.", problems)
    return values


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
    values = validate_request(session, data, today)
    municipality: Municipality = values["municipality"]
    # Who asks follows from the account; only the meldpunt records it from the phone call.
    requester_type = {"public": "mantelzorger", "verwijzer": "verwijzer"}.get(
        caller.role, data.get("requester") or "meldpunt"
    )
    series = data.get("series")
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
        consent_at=now,
        previous_request=values.get("previous_request"),
        series_every_days=series["every_days"] if series else None,
        series_until=series["until"] if series else None,
        status=REQUEST_NEW,
        created_at=now,
        updated_at=now,
    )
    session.add(care_request)
    session.flush()
    if series:
        for seq, (arrival, departure) in enumerate(
            series_dates(
                care_request.arrival, care_request.departure, series["every_days"], series["until"]
            )
        ):
            session.add(
                CareRequestStay(
                    request_id=care_request.id, seq=seq, arrival=arrival, departure=departure
                )
            )
    append_event(session, care_request, None, REQUEST_NEW, caller.key, now)
    rules.request_changed(session, care_request, previous=None, now=now)
    session.flush()
    matches = find_matches(
        session,
        criteria_for(session, care_request),
        now=now,
        today=today,
        stale_after_hours=stale_after_hours,
        limit=1,
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
    rules.request_needs_attention(session, care_request, now=now)


# --- access ---------------------------------------------------------------------------------


def restrict_to_visible(query: Any, caller: Caller, now: datetime) -> Any:
    """Narrow a SELECT of care requests to those this caller may see."""
    if caller.role == "verwijzer":
        return query.where(CareRequest.caller == caller.key)
    if caller.role == "meldpunt":
        assert caller.provider_id is not None
        # On duty in the request's region, or they took or booked it themselves.
        return query.where(
            or_(
                CareRequest.caller == caller.key,
                CareRequest.region_id.in_(duty.on_duty_region_ids(caller.provider_id, now)),
                CareRequest.id.in_(
                    select(Reservation.request_id).where(Reservation.caller == caller.key)
                ),
            )
        )
    if caller.role == "public":
        return query.where(CareRequest.reference == caller.key.removeprefix("link:"))
    if caller.role in ("coordinator", "admin"):
        return query
    return query.where(false())


def visible_request_query(caller: Caller, reference: str, now: datetime) -> Any:
    """The request by reference, restricted to what this caller may see (404 otherwise)."""
    query = select(CareRequest).where(CareRequest.reference == normalise_reference(reference))
    return restrict_to_visible(query, caller, now)


def get_request(session: DbSession, caller: Caller, reference: str, now: datetime) -> CareRequest:
    found = session.scalar(visible_request_query(caller, reference, now))
    if found is None:
        raise NotFound("Deze aanvraag bestaat niet.")
    return found


# --- matches and choices --------------------------------------------------------------------


def _ensure_open(care_request: CareRequest) -> None:
    if care_request.status not in OPEN_REQUEST_STATUSES:
        raise InvalidTransition(
            f"Deze aanvraag is '{REQUEST_LABELS[care_request.status]}'; er wordt niet meer "
            "voor gezocht."
        )


def matches_for(
    session: DbSession,
    care_request: CareRequest,
    *,
    caller: Caller,
    now: datetime,
    today: date,
    stale_after_hours: int,
    limit: int,
) -> list[Match]:
    """Rank the options and record which were shown to whom."""
    if care_request.status not in OPEN_REQUEST_STATUSES:
        return []
    matches = find_matches(
        session,
        criteria_for(session, care_request),
        now=now,
        today=today,
        stale_after_hours=stale_after_hours,
        limit=limit,
    )
    for rank, match in enumerate(matches, start=1):
        session.add(
            RequestOption(
                request_id=care_request.id,
                unit_id=match.unit_id,
                arrival=match.arrival,
                departure=match.departure,
                rank=rank,
                score=match.score,
                reasons=match.reasons,
                shown_at=now,
                shown_to=caller.key,
            )
        )
    session.flush()
    return matches


def _latest_option(session: DbSession, request_id: int, unit_id: int) -> RequestOption | None:
    return session.scalar(
        select(RequestOption)
        .where(RequestOption.request_id == request_id, RequestOption.unit_id == unit_id)
        .order_by(RequestOption.id.desc())
        .limit(1)
    )


def preferred_option(session: DbSession, request_id: int) -> RequestOption | None:
    return session.scalar(
        select(RequestOption)
        .where(RequestOption.request_id == request_id, RequestOption.preferred_at.is_not(None))
        .order_by(RequestOption.preferred_at.desc(), RequestOption.id.desc())
        .limit(1)
    )


def prefer_option(
    session: DbSession, care_request: CareRequest, *, unit_id: int, now: datetime
) -> RequestOption:
    """The requester's own pick among the options shown to them."""
    _ensure_open(care_request)
    option = _latest_option(session, care_request.id, unit_id)
    if option is None:
        raise InvalidInput(
            "Deze eenheid is niet als mogelijkheid getoond.",
            [_problem("unit_id", "not_shown", "Kies een van de getoonde mogelijkheden.")],
        )
    session.execute(
        update(RequestOption)
        .where(RequestOption.request_id == care_request.id)
        .values(preferred_at=None)
        .execution_options(synchronize_session=False)
    )
    option.preferred_at = now
    session.flush()
    return option


def record_choice(
    session: DbSession,
    care_request: CareRequest,
    *,
    unit_id: int,
    arrival: date,
    departure: date,
    caller: Caller,
    reason: str | None,
    now: datetime,
) -> RequestOption:
    """Record which option was taken; the meldpunt must explain overriding the requester."""
    preferred = preferred_option(session, care_request.id)
    if (
        caller.role == "meldpunt"
        and preferred is not None
        and preferred.unit_id != unit_id
        and not (reason and reason.strip())
    ):
        raise InvalidInput(
            "De aanvrager koos een andere mogelijkheid; geef een reden voor deze keuze.",
            [
                _problem(
                    "choice_reason", "required", "Reden verplicht bij afwijken van de voorkeur."
                )
            ],
        )
    option = _latest_option(session, care_request.id, unit_id)
    if option is None or (option.arrival, option.departure) != (arrival, departure):
        option = RequestOption(
            request_id=care_request.id,
            unit_id=unit_id,
            arrival=arrival,
            departure=departure,
            rank=0,
            score=0.0,
            reasons=[],
            shown_at=now,
            shown_to=caller.key,
        )
        session.add(option)
    option.chosen_at = now
    option.chosen_by = caller.key
    option.choice_reason = reason.strip() if reason else None
    session.flush()
    return option


def active_offer(session: DbSession, request_id: int) -> Reservation | None:
    return session.scalar(
        select(Reservation)
        .where(
            Reservation.request_id == request_id,
            Reservation.status.in_((HELD, AWAITING_PROVIDER, "confirmed", "checked_in")),
        )
        .limit(1)
    )


def prepare_reservation(
    session: DbSession,
    care_request: CareRequest,
    *,
    unit_id: int,
    arrival: date,
    departure: date,
    caller: Caller,
    reason: str | None,
    now: datetime,
) -> CareRequestStay | None:
    """Checks before a hold is placed for a request; returns the series stay it serves."""
    _ensure_open(care_request)
    stay = None
    if care_request.is_series:
        stay = session.scalar(
            select(CareRequestStay).where(
                CareRequestStay.request_id == care_request.id,
                CareRequestStay.arrival == arrival,
                CareRequestStay.reservation_id.is_(None),
            )
        )
        if stay is None:
            raise InvalidInput(
                "Deze datum is geen open verblijf van de reeks.",
                [_problem("arrival", "not_in_series", "Kies de aankomst van een open verblijf.")],
            )
    elif active_offer(session, care_request.id) is not None:
        raise InvalidTransition(
            "Voor deze aanvraag loopt al een reservering; annuleer die eerst of wijs het aanbod af."
        )
    record_choice(
        session,
        care_request,
        unit_id=unit_id,
        arrival=arrival,
        departure=departure,
        caller=caller,
        reason=reason,
        now=now,
    )
    return stay


def link_stay(session: DbSession, stay: CareRequestStay | None, reservation: Reservation) -> None:
    if stay is None:
        return
    stay.reservation_id = reservation.id
    stay.status = "placed" if reservation.status == "confirmed" else "offered"
    session.flush()


def request_reservation(
    session: DbSession, care_request: CareRequest, reservation_id: int
) -> Reservation:
    reservation = session.scalar(
        select(Reservation).where(
            Reservation.id == reservation_id, Reservation.request_id == care_request.id
        )
    )
    if reservation is None:
        raise NotFound("Dit aanbod hoort niet bij deze aanvraag.")
    return reservation


def offers_of(session: DbSession, care_request: CareRequest) -> list[Reservation]:
    return list(
        session.scalars(
            select(Reservation)
            .where(Reservation.request_id == care_request.id)
            .order_by(Reservation.arrival, Reservation.id)
        )
    )


# --- withdrawal, closing, expiry ------------------------------------------------------------


def withdraw(
    session: DbSession,
    care_request: CareRequest,
    *,
    caller: Caller,
    now: datetime,
    reason: str | None,
) -> CareRequest:
    """The requester withdraws: the request closes first, then its open holds are released."""
    set_status(
        session,
        care_request,
        REQUEST_WITHDRAWN,
        party="requester",
        actor=caller.key,
        now=now,
        reason=reason or "Ingetrokken door de aanvrager",
    )
    for reservation in offers_of(session, care_request):
        if reservation.status in (HELD, AWAITING_PROVIDER):
            if reservation.expires_at is not None and reservation.expires_at <= now:
                continue  # the sweep releases it
            booking.cancel(
                session,
                reservation,
                party="requester",
                caller=caller,
                now=now,
                reason="Aanvraag ingetrokken",
            )
    return care_request


def close_without_fit(
    session: DbSession, care_request: CareRequest, *, caller: Caller, now: datetime, reason: str
) -> CareRequest:
    return set_status(
        session,
        care_request,
        REQUEST_NO_FIT,
        party="meldpunt",
        actor=caller.key,
        now=now,
        reason=reason,
    )


def expire_past_requests(session: DbSession, *, now: datetime, today: date) -> int:
    """Requests that can no longer start (arrival + flexibility has passed) expire.

    Offered requests are left to the hold sweep: a hold never outlives its arrival day, and
    when it lapses the request comes back here as new or waitlisted.
    """
    candidates = session.scalars(
        select(CareRequest)
        .where(
            CareRequest.status.in_((REQUEST_NEW, REQUEST_WAITLISTED)),
            CareRequest.arrival < today,
        )
        .order_by(CareRequest.id)
    ).all()
    count = 0
    for care_request in candidates:
        if care_request.arrival + timedelta(days=care_request.flexibility_days) >= today:
            continue
        set_status(
            session,
            care_request,
            REQUEST_EXPIRED,
            party="system",
            actor="system",
            now=now,
            reason="De gewenste data zijn voorbij zonder plaatsing.",
        )
        count += 1
    return count


# --- series ---------------------------------------------------------------------------------


@dataclass
class SeriesResult:
    held: list[Reservation]
    unplaced: list[CareRequestStay]


def hold_series(
    session: DbSession,
    care_request: CareRequest,
    *,
    caller: Caller,
    now: datetime,
    today: date,
    stale_after_hours: int,
    hold_minutes: float,
    provider_confirm_hours: float,
) -> SeriesResult:
    """Match and hold each open stay on its own, preferring the location of the stays already
    held or placed; stays that fit nowhere are marked unplaced and reported."""
    if not care_request.is_series:
        raise InvalidInput("Deze aanvraag is geen reeks.")
    _ensure_open(care_request)
    held: list[Reservation] = []
    unplaced: list[CareRequestStay] = []
    preferred_locations: list[int] = [
        location_id
        for location_id in session.scalars(
            select(Location.id)
            .join(Unit, Unit.location_id == Location.id)
            .join(Reservation, Reservation.unit_id == Unit.id)
            .where(
                Reservation.request_id == care_request.id,
                Reservation.status.in_((HELD, AWAITING_PROVIDER, "confirmed")),
            )
        )
    ]
    for stay in care_request.stays:
        if stay.status not in ("open", "unplaced") or stay.arrival < today:
            continue
        criteria = criteria_for(
            session, care_request, arrival=stay.arrival, departure=stay.departure
        )
        # A series keeps its dates: each stay is matched on its own exact dates.
        criteria = _exact(criteria)
        matches = find_matches(
            session, criteria, now=now, today=today, stale_after_hours=stale_after_hours
        )
        matches.sort(key=lambda m: m.location["id"] not in preferred_locations)
        reservation = None
        for match in matches:
            try:
                reservation, _ = booking.place_hold(
                    session,
                    unit_id=match.unit_id,
                    arrival=stay.arrival,
                    departure=stay.departure,
                    caller=caller,
                    now=now,
                    today=today,
                    hold_minutes=hold_minutes,
                    provider_confirm_hours=provider_confirm_hours,
                    request_id=care_request.id,
                )
            except NoBedFree:
                continue
            break
        if reservation is None:
            stay.status = "unplaced"
            unplaced.append(stay)
            continue
        link_stay(session, stay, reservation)
        held.append(reservation)
        if match.location["id"] not in preferred_locations:
            preferred_locations.append(match.location["id"])
    session.flush()
    return SeriesResult(held, unplaced)


def _exact(criteria: Criteria) -> Criteria:
    return replace(criteria, flexibility_days=0)


def lead_time_hours(care_request: CareRequest) -> float | None:
    """Doorlooptijd: from the request to its placement, in hours."""
    if care_request.placed_at is None:
        return None
    return round((care_request.placed_at - care_request.created_at).total_seconds() / 3600, 2)


def back_to_waitlist(
    session: DbSession, care_request: CareRequest, *, caller: Caller, now: datetime
) -> CareRequest:
    return set_status(
        session, care_request, REQUEST_WAITLISTED, party="meldpunt", actor=caller.key, now=now
    )
