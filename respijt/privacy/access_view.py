"""The access log as a person reads it: who (a name and organisation, not `user:2`), what (in
Dutch words, "bekeek aanvraag R-…", not `care_request.read`), the role and outcome as words
that start a cell ("Coördinator", "Toegestaan"), filtered by person and by request. No Flask;
the rows come from `access_log` and stay as they are.

An actor key names a person (`user:<id>`), a koppeling's API token (`token:<id>`, said as
"Koppeling '<name>'"), the requester through
their signed link (`link:<reference>`), a provider's staff mobile (`sms:<number>`: named by its
provider, never by the number), a job (`system:<name>`) or anyone on the website (`public`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from respijt.database import DbSession
from respijt.messages.texts import format_datetime_nl
from respijt.models import AccessLog, ApiToken, MeldpuntCall, Provider, Region, User, Voicemail
from respijt.people.accounts import ROLE_LABELS
from respijt.people.caller import in_visible_regions

# Each starts a table cell: capitalised, the account roles with the names the other pages use.
ROLE_WORDS = {
    **{role: label.capitalize() for role, label in ROLE_LABELS.items()},
    "public": "Aanvrager of websitebezoeker",
    "system": "Automatisch",
}
OUTCOME_WORDS = {"success": "Toegestaan", "denied": "Geweigerd", "failed": "Mislukt"}
UNKNOWN_ROLE = "Onbekende rol"  # never the raw key
UNKNOWN_OUTCOME = "Onbekend"

# The thing acted on, as the sentence names it.
OBJECTS = {
    "care_request": "aanvraag",
    "reservation": "reservering van aanvraag",
    "access_log": "inzage van",
    "complaint": "klachten en reacties",
    "claims": "declaratieregels van",
    "message": "sms-berichten van",
    "voicemail": "voicemail van",
    "call": "gesprek van",
    "contact": "contactgegevens van",
}
# The verb of an action; anything else is said by its event.
VERBS = {
    "read": "bekeek",
    "list": "zag in een lijst",
    "search": "zocht",
    "create": "maakte",
    "change": "wijzigde",
    "confirm": "bevestigde",
    "decline": "wees af:",
    "cancel": "annuleerde",
    "cancel_stay": "annuleerde",
    "cancel_hold": "annuleerde",
    "change_stay": "wijzigde de data van",
    "change_hold": "wijzigde de data van",
    "confirm_hold": "bevestigde",
    "hold": "hield een bed vast voor",
    "check_in": "meldde de aankomst van",
    "check_out": "meldde het vertrek van",
    "no_show": "meldde 'niet verschenen' bij",
    "attendance": "bekeek de aanwezigheid bij",
    "export": "exporteerde",
    "export_read": "bekeek de export van",
    "done": "handelde af:",
    "link": "koppelde",
    "mobile": "bekeek",
    "play": "beluisterde",
}
EVENT_VERBS = {
    "read": "bekeek",
    "search": "zocht",
    "create": "maakte",
    "change": "wijzigde",
    "export": "exporteerde",
    "print": "drukte af:",
}
# Client references that name no single request.
NO_REFERENCE = ("search", "klachten")
# The phone desk's references (`web/meldpunt_console.py`, `api/meldpunt.py`): one voicemail or
# call ("voicemail:12", shown by its time), or a region's list of them ("voicemails:UT").
ONE_BY_TIME = {
    "voicemail": (Voicemail.id, Voicemail.created_at),
    "call": (MeldpuntCall.id, MeldpuntCall.started_at),
}
LISTS = {"voicemails": "de terugbellijst van", "calls": "de gesprekken van"}


@dataclass(frozen=True)
class Entry:
    at: datetime
    who: str  # a name, with the organisation
    role: str  # in Dutch, capitalised
    what: str  # the action in words, with the reference
    outcome: str  # in Dutch, capitalised
    reference: str
    actor: str  # the key, for the filter


def _search_words(obj: str) -> str:
    return {"care_request": "aanvragen", "reservation": "reserveringen"}.get(obj, "gegevens")


def action_words(action: str, event: str, reference: str, shown: str | None = None) -> str:
    """`care_request.read`, R-7K3P9Q → 'bekeek aanvraag R-7K3P9Q'. `shown`: the reference in
    words (`reference_words`), when it is not said as it is."""
    obj, _, verb = action.rpartition(".")
    if not obj:  # an action of one word ("search", "read"): a care request's
        obj, verb = "care_request", action
    if reference in NO_REFERENCE or verb == "search":
        if obj == "complaint":
            return "bekeek de klachten en reacties"
        return f"zocht {_search_words(obj)}"
    head = reference.partition(":")[0]
    if head in LISTS:
        return f"bekeek {LISTS[head]} {shown or reference}"
    noun = OBJECTS.get(obj, "gegevens van")
    said = VERBS.get(verb) or EVENT_VERBS.get(event, "deed iets met")
    return f"{said} {noun} {shown or reference}"


def reference_words(session: DbSession, references: Iterable[str]) -> dict[str, str]:
    """The phone desk's references in words: a voicemail or call by the time it came in ("5 dec
    14:32", not "voicemail:12"), a list by its region ("regio Utrecht"). Other references are
    said as they are (not in the answer)."""
    references = set(references)
    words: dict[str, str] = {}
    for head, (key, moment) in ONE_BY_TIME.items():
        ids = {int(tail) for h, _, tail in map(_split, references) if h == head and tail.isdigit()}
        if ids:
            for item_id, at in session.execute(select(key, moment).where(key.in_(ids))):
                words[f"{head}:{item_id}"] = format_datetime_nl(at)
    codes = {tail for head, _, tail in map(_split, references) if head in LISTS}
    if codes:
        names = dict(
            session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all()
        )
        for reference in references:
            head, _, tail = reference.partition(":")
            if head in LISTS:
                words[reference] = f"regio {names.get(tail, tail)}"
    return words


def _split(reference: str) -> tuple[str, str, str]:
    return reference.partition(":")


def _ids(actors: Iterable[str], prefix: str) -> set[int]:
    out = set()
    for actor in actors:
        head, _, tail = actor.partition(":")
        if head == prefix and tail.isdigit():
            out.add(int(tail))
    return out


def actor_names(session: DbSession, actors: Iterable[str]) -> dict[str, str]:
    """Each actor key in words: a person's name and organisation, a koppeling (an API token)
    by its name and provider, the requester via the link, an SMS answer by its provider."""
    actors = set(actors)
    users = {
        uid: (name, organisation, provider)
        for uid, name, organisation, provider in session.execute(
            select(User.id, User.name, User.organisation, Provider.name)
            .outerjoin(Provider, Provider.id == User.provider_id)
            .where(User.id.in_(_ids(actors, "user")))
        )
    }
    tokens = {
        tid: (name, provider)
        for tid, name, provider in session.execute(
            select(ApiToken.id, ApiToken.name, Provider.name)
            .outerjoin(Provider, Provider.id == ApiToken.provider_id)
            .where(ApiToken.id.in_(_ids(actors, "token")))
        )
    }
    names: dict[str, str] = {}
    for actor in actors:
        head, _, tail = actor.partition(":")
        if head == "user" and tail.isdigit() and int(tail) in users:
            name, organisation, provider = users[int(tail)]
            where = organisation or provider
            names[actor] = f"{name} ({where})" if where else name
        elif head == "token" and tail.isdigit() and int(tail) in tokens:
            name, provider = tokens[int(tail)]
            names[actor] = f"Koppeling '{name}'" + (f" ({provider})" if provider else "")
        elif head == "link":
            names[actor] = "De aanvrager, via de link in de sms"
        elif head == "public":
            names[actor] = "Iemand op de website"
        elif head == "sms":
            names[actor] = "Sms-antwoord van een medewerker"
        elif head == "system":
            names[actor] = "Automatisch (wachtlijst)" if tail == "waitlist" else "Automatisch"
        else:
            names[actor] = "Onbekend account"
    return names


def entries(session: DbSession, rows: list[AccessLog]) -> list[Entry]:
    names = actor_names(session, (row.actor for row in rows))
    shown = reference_words(session, (row.client_reference for row in rows))
    providers = dict(
        session.execute(
            select(Provider.id, Provider.name).where(
                Provider.id.in_({row.provider_id for row in rows if row.provider_id})
            )
        ).all()
    )
    out = []
    for row in rows:
        who = names[row.actor]
        if row.actor.startswith("sms:") and row.provider_id in providers:
            who = f"Sms-antwoord van een medewerker ({providers[row.provider_id]})"
        out.append(
            Entry(
                at=row.at,
                who=who,
                role=ROLE_WORDS.get(row.role, UNKNOWN_ROLE),
                what=action_words(
                    row.action, row.event, row.client_reference, shown.get(row.client_reference)
                ),
                outcome=OUTCOME_WORDS.get(row.outcome, UNKNOWN_OUTCOME),
                reference=row.client_reference,
                actor=row.actor,
            )
        )
    return out


def people_in_log(
    session: DbSession, region_ids: frozenset[int] | None, limit: int = 300
) -> list[tuple[str, str]]:
    """(actor key, name) of the people and keys in the log of these regions, by name: the
    choices of the filter by person."""
    actors = session.scalars(
        select(AccessLog.actor)
        .where(in_visible_regions(region_ids, AccessLog.region_id))
        .group_by(AccessLog.actor)
        .order_by(func.max(AccessLog.at).desc())
        .limit(limit)
    ).all()
    keep = [a for a in actors if a.startswith(("user:", "token:"))]
    names = actor_names(session, keep)
    return sorted(((a, names[a]) for a in keep), key=lambda item: item[1].lower())


def search(
    session: DbSession,
    region_ids: frozenset[int] | None,
    *,
    reference: str | None,
    actor: str | None,
    limit: int = 500,
) -> list[AccessLog]:
    """Rows of these regions for a request and/or a person: oldest first for one request (its
    history), newest first for a person alone; at most `limit`."""
    query = select(AccessLog).where(in_visible_regions(region_ids, AccessLog.region_id))
    if reference:
        query = query.where(AccessLog.client_reference == reference)
    if actor:
        query = query.where(AccessLog.actor == actor)
    if reference:
        query = query.order_by(AccessLog.at, AccessLog.id)
    else:
        query = query.order_by(AccessLog.at.desc(), AccessLog.id.desc())
    return list(session.scalars(query.limit(limit)))
