"""What an option costs and how earlier guests rated its provider, in words: shown beside the
reasons (why it fits, how far, how recent the figures are) wherever options are shown — the
meldpunt's page, the family's page, the verwijzer's page and the API.

Only reads. The cost is the tariff of the client's gemeente for the request's funding route on
the arrival day (what the gemeente or the insurer pays per night; "where known": none for an
unknown route or a gemeente without a tariff). The satisfaction score is the provider's mean of
the one-question SMS after departure, shown only from `MIN_ANSWERS` answers on.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from sqlalchemy import or_, select

from respijt import formatting
from respijt.care_requests.matching import Match
from respijt.codes import FUNDING_ROUTES
from respijt.database import DbSession
from respijt.models import CareRequest, SatisfactionSurvey, Tariff

# Fewer answers than this say too little (and could point at one guest).
MIN_ANSWERS = 5


@dataclass(frozen=True)
class OptionFacts:
    cost: str | None
    satisfaction: str | None
    price_cents_per_night: int | None
    satisfaction_mean: float | None
    satisfaction_answers: int

    def as_dict(self) -> dict[str, object]:
        return {
            "cost": self.cost,
            "price_cents_per_night": self.price_cents_per_night,
            "satisfaction": self.satisfaction,
            "satisfaction_mean": self.satisfaction_mean,
            "satisfaction_answers": self.satisfaction_answers,
        }


def _price_per_night(session: DbSession, care_request: CareRequest, match: Match) -> int | None:
    if care_request.funding not in FUNDING_ROUTES:
        return None
    return session.scalar(
        select(Tariff.price_cents)
        .where(
            Tariff.municipality_id == care_request.municipality_id,
            Tariff.funding == care_request.funding,
            Tariff.valid_from <= match.arrival,
            or_(Tariff.valid_to.is_(None), Tariff.valid_to > match.arrival),
        )
        .order_by(Tariff.valid_from.desc())
        .limit(1)
    )


def _scores(session: DbSession, provider_ids: set[int]) -> dict[int, list[int]]:
    scores: dict[int, list[int]] = {provider_id: [] for provider_id in provider_ids}
    if not provider_ids:
        return scores
    for provider_id, score in session.execute(
        select(SatisfactionSurvey.provider_id, SatisfactionSurvey.score).where(
            SatisfactionSurvey.provider_id.in_(provider_ids),
            SatisfactionSurvey.score.is_not(None),
        )
    ):
        if score is not None:
            scores[provider_id].append(score)
    return scores


def option_facts(
    session: DbSession, care_request: CareRequest, matches: list[Match]
) -> dict[int, OptionFacts]:
    """The cost and the satisfaction score per option shown, by unit id."""
    scores = _scores(session, {m.provider_id for m in matches})
    funding = FUNDING_ROUTES.get(care_request.funding, "")
    facts: dict[int, OptionFacts] = {}
    for match in matches:
        cents = _price_per_night(session, care_request, match)
        nights = (match.departure - match.arrival).days
        cost = (
            f"{formatting.money(cents)} per nacht, {formatting.money(cents * nights)} voor "
            f"{formatting.nights(nights)}; betaald via {funding}"
            if cents is not None
            else None
        )
        given = scores.get(match.provider_id, [])
        mean = round(statistics.mean(given), 1) if len(given) >= MIN_ANSWERS else None
        satisfaction = (
            f"gasten gaven gemiddeld {formatting.number(mean, 1)} van de 5 "
            f"({len(given)} antwoorden)"
            if mean is not None
            else None
        )
        facts[match.unit_id] = OptionFacts(
            cost=cost,
            satisfaction=satisfaction,
            price_cents_per_night=cents,
            satisfaction_mean=mean,
            satisfaction_answers=len(given),
        )
    return facts
