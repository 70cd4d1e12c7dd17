"""The fast path of matching (best exact fits read first, nearby candidates first) must give
exactly the answer of ranking every unit in the country and cutting it at the limit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from respijt import clock
from respijt.care_requests import matching
from tests.care_request_helpers import freeze_start, occupy


def _all_then_cut(db, criteria, limit, **kw):
    every = matching.find_matches(
        db.session, criteria, now=clock.now(), today=clock.today(), stale_after_hours=72, **kw
    )
    return every[:limit]


def _limited(db, criteria, limit, **kw):
    return matching.find_matches(
        db.session,
        criteria,
        now=clock.now(),
        today=clock.today(),
        stale_after_hours=72,
        limit=limit,
        **kw,
    )


@pytest.fixture
def country(db, make):
    """Two regions, units at home, in the region and elsewhere; some full on the exact dates,
    ties between providers, one location that speaks Turkish far away."""
    today = freeze_start()
    home_region, other_region = make.region(), make.region()
    home = make.municipality(region=home_region, latitude=52.0, longitude=4.36)
    neighbour = make.municipality(region=home_region, latitude=52.1, longitude=4.5)
    near = make.municipality(region=other_region, latitude=52.05, longitude=4.4)
    far = make.municipality(region=other_region, latitude=53.2, longitude=6.5)
    arrival = today + timedelta(days=14)
    units = []
    for municipality in (home, neighbour, near, far):
        for i in range(3):
            location = make.location(
                municipality=municipality, languages=["nl", "tr"] if i == 2 else ["nl"]
            )
            units.append(make.unit(location=location, capacity=1))
    # The exact dates are full at a few units, some of them the best ranked.
    for unit in (units[0], units[3], units[7]):
        occupy(db.session, unit, arrival + timedelta(days=1), arrival + timedelta(days=2))
    criteria = matching.Criteria(
        reference="R-SHORT1",
        municipality_id=home.id,
        region_id=home.region_id,
        latitude=home.latitude,
        longitude=home.longitude,
        target_group="ouderen",
        care_level="basic",
        wheelchair=False,
        funding="wmo",
        language=None,
        arrival=arrival,
        departure=arrival + timedelta(days=3),
        flexibility_days=2,
    )
    return criteria, units


@pytest.mark.parametrize("batch", [2, 50])
def test_limited_answer_equals_the_full_ranking_cut_at_the_limit(db, country, monkeypatch, batch):
    criteria, units = country
    monkeypatch.setattr(matching, "_BATCH", batch)
    queries: list[bool] = []
    candidate_rows = matching._candidate_rows

    def spy(session, criteria, *, nearby=False):
        queries.append(nearby)
        return candidate_rows(session, criteria, nearby=nearby)

    monkeypatch.setattr(matching, "_candidate_rows", spy)
    variants = [
        criteria,
        replace(criteria, language="tr"),
        replace(criteria, previous_location_ids=frozenset({units[10].location_id})),
        replace(criteria, reference="R-OTHER2"),
    ]
    for variant in variants:
        for limit in (1, 3, 5, 8, 9, 12, 20):
            assert _limited(db, variant, limit) == _all_then_cut(db, variant, limit), (
                variant,
                limit,
            )
    excluded = frozenset({(units[1].id, criteria.arrival), (units[4].id, criteria.arrival)})
    for limit in (1, 4, 9, 12):
        assert _limited(db, criteria, limit, exclude=excluded) == _all_then_cut(
            db, criteria, limit, exclude=excluded
        )
    # Both ways were taken: answered from the region alone, and ranked over the country.
    queries.clear()
    _limited(db, criteria, 2)
    assert queries == [True]
    queries.clear()
    _limited(db, criteria, 9)
    assert queries == [True, False]
    # Sanity: the cut really drops options and the limited answers contain other-date ones.
    assert len(_all_then_cut(db, criteria, 50)) == 12
    assert not _limited(db, criteria, 12)[-1].exact
