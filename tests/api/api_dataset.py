"""A small realistic dataset for tests that call many endpoints: a region with a meldpunt on
duty, providers, a unit with beds, a care request, a reservation, and a token per role.

Its ids start at 1 on an emptied database only by chance, so tests read them from `World`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from respijt.extensions import db
from respijt.models import Base
from tests.care_request_helpers import body, create, freeze_start, occupy
from tests.factories import Factory

ROLES = ("verwijzer", "provider", "meldpunt", "coordinator", "admin")

# Rows that change on a read (the NEN 7513 log, a token's last use) are not state a refused
# request may have changed.
NOT_STATE = {"access_log", "api_token", "job_run", "scheduler_lease"}


@dataclass
class World:
    region: Any
    municipality: Any
    pool_provider: Any
    provider: Any
    location: Any
    unit: Any
    care_request: Any
    reservation: Any
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)


def build_world(make: Factory) -> World:
    today = freeze_start()
    region = make.region()
    municipality = make.municipality(region=region)
    pool_provider = make.provider(regions=[region], pool=True)  # on duty: the meldpunt
    provider = make.provider(regions=[region])
    location = make.location(provider=provider, municipality=municipality)
    unit = make.unit(location=location, capacity=3)
    arrival = today + timedelta(days=14)
    care_request = create(make.session, body(municipality, arrival, arrival + timedelta(days=3)))
    reservation = occupy(make.session, unit, arrival, arrival + timedelta(days=2))
    tokens = {
        "verwijzer": make.token("verwijzer"),
        "provider": make.token("provider", provider),
        "meldpunt": make.token("meldpunt", pool_provider),
        "coordinator": make.token("coordinator", regions=[region]),
        "admin": make.token("admin"),
    }
    return World(
        region,
        municipality,
        pool_provider,
        provider,
        location,
        unit,
        care_request,
        reservation,
        tokens,
    )


def state() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table that holds state, to compare before and after a request."""
    db.session.rollback()
    snapshot = {}
    for table in Base.metadata.sorted_tables:
        if table.name in NOT_STATE:
            continue
        rows = db.session.execute(select(table)).all()
        snapshot[table.name] = sorted((tuple(map(repr, row)) for row in rows), key=repr)
    db.session.rollback()
    return snapshot
