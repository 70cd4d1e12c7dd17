"""A national-scale dataset for the benchmarks.

    python -m bench.generate --database-url URL --scale 1|10 [--nights 400] [--regions N]

Scale 1 is the Dutch national picture: 25 regions, 342 municipalities, 3,000 locations, 6,000 units
and 400 nights of inventory (2.4 million night rows), with a spread of target groups, wheelchair
access, capacities, stale locations and some reservations (confirmed, held, and holds already
past their expiry, so the availability search has overdue holds to add back).

Scale 10 multiplies regions, municipalities, providers, locations and units by ten and keeps the
density per region the same: a search for one region answers about the same number of units at
either scale, so the benchmark shows what the *total* size costs, not a bigger answer.

The schema is built through the real migrations (`flask db upgrade`) on an empty database; rows
go in with COPY (PostgreSQL) or executemany in one transaction (SQLite).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.engine import Connection

from respijt import clock, create_app
from respijt.codes import FUNDING_ROUTES
from respijt.extensions import db
from respijt.models import (
    Location,
    Municipality,
    Provider,
    ProviderRegion,
    Region,
    Reservation,
    ReservationEvent,
    Unit,
    UnitTargetGroup,
)

BASE = {"regions": 25, "municipalities": 342, "locations": 3000, "units": 6000, "providers": 500}

# How often each target group occurs on a unit (a unit has one to three).
TARGET_GROUP_WEIGHTS = {
    "ouderen": 0.50,
    "dementie": 0.35,
    "lichamelijk": 0.25,
    "verstandelijk": 0.12,
    "nah": 0.10,
    "ggz": 0.10,
    "jongvolwassenen": 0.05,
}
CAPACITY_CHOICES = [1, 1, 2, 2, 2, 3, 3, 4, 5, 6]
STAY_RULES = [(1, 28), (1, 28), (1, 14), (2, 21), (3, 28)]
CARE_LEVELS = ["basic", "basic", "extra_care", "supervision_24h"]
PLACE_WORDS = ["Linde", "Eik", "Beuk", "Es", "Wilg", "Hof", "Veld", "Haven", "Weide", "Duin"]

Progress = Callable[[str], None]


@dataclass
class Counts:
    regions: int = 0
    municipalities: int = 0
    providers: int = 0
    locations: int = 0
    units: int = 0
    nights: int = 0
    reservations: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def sizes(scale: int, regions: int | None = None) -> dict[str, int]:
    """Table sizes: `scale` times the national set, or just `regions` regions of it."""
    n = regions if regions is not None else BASE["regions"] * scale
    return {"regions": n}


def _dates(start: date, count: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]


def _target_groups(rng: random.Random) -> list[str]:
    groups = [g for g, weight in TARGET_GROUP_WEIGHTS.items() if rng.random() < weight]
    if not groups:
        groups = [rng.choice(list(TARGET_GROUP_WEIGHTS))]
    return sorted(groups[:3])


def _ensure_empty(conn: Connection) -> None:
    if inspect(conn).has_table("region"):
        count = conn.execute(select(db.func.count()).select_from(Region)).scalar_one()
        if count:
            raise SystemExit(
                "De database is niet leeg (er staan al regio's in); kies een lege database."
            )


def _night_rows(
    unit_ids: list[int],
    capacities: dict[int, int],
    closed: dict[int, tuple[int, int]],
    n_days: int,
    reserved: dict[tuple[int, int], int],
) -> Iterator[tuple[int, int, int, int]]:
    """(unit_id, day index, capacity, reserved): the default capacity, 0 in a closed week
    (but never below what is reserved)."""
    for unit_id in unit_ids:
        capacity = capacities[unit_id]
        closed_from, closed_to = closed.get(unit_id, (-1, -1))
        for i in range(n_days):
            res = reserved.get((unit_id, i), 0)
            cap = 0 if closed_from <= i < closed_to else capacity
            yield unit_id, i, max(cap, res), res


def generate(
    database_url: str,
    scale: int = 1,
    nights: int = 400,
    *,
    regions: int | None = None,
    seed: int = 20261122,
    progress: Progress = print,
) -> Counts:
    """Build the schema with the migrations and fill it. The database must be empty."""
    started = time.perf_counter()
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RESPIJT_RATELIMIT": False})
    want = sizes(scale, regions)
    now = clock.now().replace(microsecond=0)
    today = clock.today()
    days = _dates(today, nights)
    counts = Counts()
    with app.app_context():
        with db.engine.connect() as conn:
            _ensure_empty(conn)
        progress("Schema opbouwen met de migraties (flask db upgrade) …")
        upgrade()
        db.session.remove()
        engine = db.engine
        dialect = engine.dialect.name
        with engine.begin() as conn:
            _ensure_empty(conn)
            counts = _fill(conn, dialect, seed, want, now, days, progress)
        if dialect == "postgresql":
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                for table in ("region", "municipality", "provider", "location", "unit"):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
                    )
                for table in ("reservation", "reservation_event"):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                        )
                    )
        progress("Statistieken bijwerken (ANALYZE) …")
        if dialect == "postgresql":
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(text("ANALYZE"))
        if dialect == "sqlite":
            # Outside any transaction (the connection is in autocommit mode, respijt.database).
            raw = engine.raw_connection()
            try:
                raw.driver_connection.execute("ANALYZE")  # type: ignore[union-attr]
                raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
            finally:
                raw.close()
        engine.dispose()
    counts.seconds = time.perf_counter() - started
    progress(
        f"Klaar in {counts.seconds:.1f} s: {counts.regions} regio's, {counts.municipalities} "
        f"gemeenten, {counts.providers} aanbieders, {counts.locations} locaties, "
        f"{counts.units} eenheden, {counts.nights:,} nachten, {counts.reservations} reserveringen."
    )
    return counts


def _region_shape(k: int) -> dict[str, int]:
    """Counts for the k-th region of the national pattern (342 municipalities over 25)."""
    per = {key: BASE[key] // BASE["regions"] for key in ("locations", "units", "providers")}
    extra = BASE["municipalities"] - (BASE["municipalities"] // BASE["regions"]) * BASE["regions"]
    per["municipalities"] = BASE["municipalities"] // BASE["regions"] + (1 if k < extra else 0)
    return per


def _fill(
    conn: Connection,
    dialect: str,
    seed: int,
    want: dict[str, int],
    now: datetime,
    days: list[date],
    progress: Progress,
) -> Counts:
    """Region by region. Region r is drawn from its own random stream, seeded by its place
    in the 25-region national pattern, so at scale 10 region R001 holds exactly what it holds
    at scale 1 — the same search answer — amid ten times as much of everything else."""
    counts = Counts()
    n_regions = want["regions"]
    regions, munis, providers, provider_regions = [], [], [], []
    location_rows: list[dict[str, Any]] = []
    unit_rows: list[dict[str, Any]] = []
    group_rows: list[dict[str, Any]] = []
    reservation_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    capacities: dict[int, int] = {}
    closed: dict[int, tuple[int, int]] = {}
    reserved: dict[tuple[int, int], int] = {}
    for r in range(1, n_regions + 1):
        k = (r - 1) % BASE["regions"]
        rng = random.Random(seed * 1000 + k)
        # Draws that depend on the number of nights come from a stream of their own, so the
        # units and target groups do not change with --nights.
        night_rng = random.Random(seed * 1000 + k + 500)
        shape = _region_shape(k)
        regions.append(
            {
                "id": r,
                "code": f"R{r:03d}",
                "name": f"Zorgregio {r:03d}",
                "meldpunt_number": f"+3197{r:07d}",
            }
        )
        region_munis = list(range(len(munis) + 1, len(munis) + shape["municipalities"] + 1))
        for m in region_munis:
            munis.append(
                {
                    "id": m,
                    "code": f"GM{m:04d}",
                    "name": f"Gemeente {m:04d}",
                    "region_id": r,
                    "latitude": round(50.8 + rng.random() * 2.6, 5),
                    "longitude": round(3.4 + rng.random() * 3.6, 5),
                }
            )
        region_providers = list(range(len(providers) + 1, len(providers) + shape["providers"] + 1))
        for p in region_providers:
            providers.append(
                {
                    "id": p,
                    "name": f"Zorgaanbieder {p:05d}",
                    "agb_code": f"{73000000 + p}",
                    "kvk_number": f"{41000000 + p}",
                    "duty_phone": f"+3115{p:07d}",
                    "staff_mobiles": [f"+316{p:08d}"],
                    "created_at": now,
                }
            )
            provider_regions.append(
                {"provider_id": p, "region_id": r, "in_pool": rng.random() < 0.3, "pool_weight": 1}
            )
        first_location = len(location_rows) + 1
        region_locations = list(range(first_location, first_location + shape["locations"]))
        for loc in region_locations:
            stale = rng.random() < 0.1
            age = (
                timedelta(days=rng.randint(4, 20)) if stale else timedelta(hours=rng.randint(1, 60))
            )
            location_rows.append(
                {
                    "id": loc,
                    "provider_id": rng.choice(region_providers),
                    "name": f"{rng.choice(PLACE_WORDS)}hof {loc:05d}",
                    "address": f"Dorpsstraat {rng.randint(1, 250)}",
                    "postcode": f"{rng.randint(1000, 9999)}AB",
                    "municipality_id": rng.choice(region_munis),
                    "latitude": None,
                    "longitude": None,
                    "contact_mobile": f"+3162{loc:07d}",
                    "languages": ["nl"] + (["en"] if rng.random() < 0.4 else []),
                    "last_confirmed_at": now - age,
                    "created_at": now,
                }
            )
        # Every location has a unit; the rest are spread at random over the region.
        unit_locations = list(region_locations)
        unit_locations += [
            rng.choice(region_locations) for _ in range(shape["units"] - shape["locations"])
        ]
        unit_locations.sort()
        for loc in unit_locations:
            u = len(unit_rows) + 1
            min_n, max_n = rng.choice(STAY_RULES)
            weekdays = "1234567" if rng.random() < 0.8 else rng.choice(["12345", "15", "5"])
            capacity = rng.choice(CAPACITY_CHOICES)
            groups = _target_groups(rng)
            retired = rng.random() < 0.01
            unit_rows.append(
                {
                    "id": u,
                    "location_id": loc,
                    "name": f"Logeerafdeling {groups[0]} {u}",
                    "care_level": rng.choice(CARE_LEVELS),
                    "wheelchair": rng.random() < 0.6,
                    "funding_routes": sorted(
                        rng.sample(list(FUNDING_ROUTES), k=rng.choice([1, 1, 2, 3]))
                    ),
                    "min_nights": min_n,
                    "max_nights": max_n,
                    "arrival_weekdays": weekdays,
                    "requires_provider_confirmation": rng.random() < 0.4,
                    "default_capacity": capacity,
                    "retired_at": now if retired else None,
                    "created_at": now,
                }
            )
            group_rows += [{"unit_id": u, "target_group": g} for g in groups]
            if retired:
                continue
            capacities[u] = capacity
            # One unit in eight closes for a week or two (maintenance, staff holidays).
            if rng.random() < 0.125:
                start = night_rng.randrange(len(days))
                closed[u] = (start, start + night_rng.choice([7, 14]))
            # One unit in twelve has a stay: confirmed, held, waiting for the provider, or a
            # hold past its expiry that still counts in `reserved` until the sweep runs.
            if rng.random() >= 1 / 12:
                continue
            length = rng.randint(min_n, min(max_n, 14))
            if length >= len(days):
                continue
            start = night_rng.randrange(len(days) - length)
            status, expires = rng.choice(
                [
                    ("confirmed", None),
                    ("confirmed", None),
                    ("held", now + timedelta(minutes=10)),
                    ("held", now - timedelta(minutes=5)),
                    ("awaiting_provider", now + timedelta(hours=20)),
                ]
            )
            for i in range(start, start + length):
                reserved[(u, i)] = reserved.get((u, i), 0) + 1
            rid = len(reservation_rows) + 1
            reservation_rows.append(
                {
                    "id": rid,
                    "unit_id": u,
                    "arrival": days[start],
                    "departure": days[start] + timedelta(days=length),
                    "status": status,
                    "expires_at": expires,
                    "short_code": f"B{rid:07d}",
                    "expected_arrival_time": None,
                    "caller": "token:0",
                    "caller_role": "meldpunt",
                    "caller_provider_id": None,
                    "idempotency_key": None,
                    "request_fingerprint": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            event_rows.append(
                {
                    "id": rid,
                    "reservation_id": rid,
                    "from_status": None,
                    "to_status": status,
                    "detail": None,
                    "actor": "bench",
                    "reason": None,
                    "at": now,
                }
            )
        if r % max(1, n_regions // 10) == 0 or r == n_regions:
            progress(f"  … regio {r}/{n_regions} opgebouwd")

    conn.execute(insert(Region), regions)
    conn.execute(insert(Municipality), munis)
    conn.execute(insert(Provider), providers)
    conn.execute(insert(ProviderRegion), provider_regions)
    conn.execute(insert(Location), location_rows)
    conn.execute(insert(Unit), unit_rows)
    conn.execute(insert(UnitTargetGroup), group_rows)
    if reservation_rows:
        conn.execute(insert(Reservation), reservation_rows)
        conn.execute(insert(ReservationEvent), event_rows)
    counts.regions, counts.municipalities = len(regions), len(munis)
    counts.providers, counts.locations = len(providers), len(location_rows)
    counts.units, counts.reservations = len(unit_rows), len(reservation_rows)
    progress(
        f"{counts.regions} regio's, {counts.municipalities} gemeenten, {counts.providers} "
        f"aanbieders, {counts.locations} locaties, {counts.units} eenheden "
        f"({len(group_rows)} doelgroepkoppelingen), {counts.reservations} reserveringen"
    )

    unit_ids = sorted(capacities)
    total = len(unit_ids) * len(days)
    progress(f"Nachtvoorraad schrijven: {total:,} rijen …")
    raw = conn.connection.driver_connection
    rows = _night_rows(unit_ids, capacities, closed, len(days), reserved)
    step = max(1, total // 10)
    written = 0
    t0 = time.perf_counter()

    def report() -> None:
        rate = written / max(time.perf_counter() - t0, 1e-9)
        progress(f"  … {written:,}/{total:,} nachten ({written * 100 // total}%, {rate:,.0f}/s)")

    if dialect == "postgresql":
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            # Emptied in this transaction, the table takes COPY FREEZE: rows land frozen and
            # all-visible, so no VACUUM pass over millions of rows is needed afterwards.
            cursor.execute("TRUNCATE night_inventory")
            with cursor.copy(
                "COPY night_inventory (unit_id, night, capacity, reserved) FROM STDIN WITH (FREEZE)"
            ) as copy:
                for unit_id, i, cap, res in rows:
                    copy.write_row((unit_id, days[i], cap, res))
                    written += 1
                    if written % step == 0:
                        report()
    else:
        iso_days = [d.isoformat() for d in days]
        sql = "INSERT INTO night_inventory (unit_id, night, capacity, reserved) VALUES (?,?,?,?)"
        batch: list[tuple[int, str, int, int]] = []
        for unit_id, i, cap, res in rows:
            batch.append((unit_id, iso_days[i], cap, res))
            if len(batch) >= 50_000:
                raw.executemany(sql, batch)  # type: ignore[union-attr]
                before, written = written, written + len(batch)
                batch = []
                if before // step != written // step:
                    report()
        if batch:
            raw.executemany(sql, batch)  # type: ignore[union-attr]
            written += len(batch)
    counts.nights = written
    progress(f"  … {written:,} nachten geschreven")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description="Landelijke testdataset voor de benchmarks."
    )
    parser.add_argument(
        "--database-url", required=True, help="lege database (sqlite:///… of postgresql://…)"
    )
    parser.add_argument("--scale", type=int, choices=[1, 10], default=1)
    parser.add_argument("--nights", type=int, default=400)
    parser.add_argument(
        "--regions",
        type=int,
        help="kleiner: alleen zoveel regio's (elk ~14 gemeenten, 120 locaties, 240 eenheden)",
    )
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args(argv)
    url = args.database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    generate(
        url,
        args.scale,
        args.nights,
        regions=args.regions,
        seed=args.seed,
        progress=lambda msg: print(msg, flush=True),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
