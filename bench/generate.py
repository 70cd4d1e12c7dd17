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
    """Table sizes for a scale; `regions` shrinks the whole set proportionally (for tests)."""
    wanted = {key: value * scale for key, value in BASE.items()}
    if regions is not None:
        factor = regions / wanted["regions"]
        wanted = {key: max(1, round(value * factor)) for key, value in wanted.items()}
        wanted["regions"] = regions
    return wanted


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
    rng: random.Random,
    unit_ids: list[int],
    capacities: dict[int, int],
    days: list[date],
    reserved: dict[tuple[int, int], int],
) -> Iterator[tuple[int, int, int, int]]:
    """(unit_id, day index, capacity, reserved): default capacity with some closed weeks."""
    for unit_id in unit_ids:
        capacity = capacities[unit_id]
        # One unit in eight closes for a week or two (maintenance, holidays of staff).
        closed_from = closed_to = -1
        if rng.random() < 0.125:
            closed_from = rng.randrange(len(days))
            closed_to = closed_from + rng.choice([7, 14])
        for i in range(len(days)):
            cap = 0 if closed_from <= i < closed_to else capacity
            yield unit_id, i, cap, reserved.get((unit_id, i), 0)


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
    rng = random.Random(seed * 31 + scale)
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
            counts = _fill(conn, dialect, rng, want, now, days, progress)
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
                conn.execute(text("VACUUM ANALYZE"))
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


def _fill(
    conn: Connection,
    dialect: str,
    rng: random.Random,
    want: dict[str, int],
    now: datetime,
    days: list[date],
    progress: Progress,
) -> Counts:
    counts = Counts()
    n_regions, n_munis = want["regions"], want["municipalities"]
    n_locations, n_units, n_providers = want["locations"], want["units"], want["providers"]

    conn.execute(
        insert(Region),
        [
            {
                "id": r,
                "code": f"R{r:03d}",
                "name": f"Zorgregio {r:03d}",
                "meldpunt_number": f"+3197{r:07d}",
            }
            for r in range(1, n_regions + 1)
        ],
    )
    # Round robin keeps the number of municipalities (and so locations) per region equal at
    # every scale.
    muni_region = {m: (m - 1) % n_regions + 1 for m in range(1, n_munis + 1)}
    conn.execute(
        insert(Municipality),
        [
            {
                "id": m,
                "code": f"GM{m:04d}",
                "name": f"Gemeente {m:04d}",
                "region_id": muni_region[m],
                "latitude": round(50.8 + rng.random() * 2.6, 5),
                "longitude": round(3.4 + rng.random() * 3.6, 5),
            }
            for m in range(1, n_munis + 1)
        ],
    )
    counts.regions, counts.municipalities = n_regions, n_munis
    progress(f"{n_regions} regio's en {n_munis} gemeenten")

    provider_region = {p: (p - 1) % n_regions + 1 for p in range(1, n_providers + 1)}
    conn.execute(
        insert(Provider),
        [
            {
                "id": p,
                "name": f"Zorgaanbieder {p:05d}",
                "agb_code": f"{73000000 + p}",
                "kvk_number": f"{41000000 + p}",
                "duty_phone": f"+3115{p:07d}",
                "staff_mobiles": [f"+316{p:08d}"],
                "created_at": now,
            }
            for p in range(1, n_providers + 1)
        ],
    )
    conn.execute(
        insert(ProviderRegion),
        [
            {
                "provider_id": p,
                "region_id": provider_region[p],
                "in_pool": rng.random() < 0.3,
                "pool_weight": 1,
            }
            for p in range(1, n_providers + 1)
        ],
    )
    providers_by_region: dict[int, list[int]] = {}
    for p, r in provider_region.items():
        providers_by_region.setdefault(r, []).append(p)
    counts.providers = n_providers
    progress(f"{n_providers} aanbieders")

    location_rows = []
    for loc in range(1, n_locations + 1):
        m = (loc - 1) % n_munis + 1
        region_providers = providers_by_region.get(muni_region[m]) or list(provider_region)
        stale = rng.random() < 0.1
        age = timedelta(days=rng.randint(4, 20)) if stale else timedelta(hours=rng.randint(1, 60))
        location_rows.append(
            {
                "id": loc,
                "provider_id": rng.choice(region_providers),
                "name": f"{rng.choice(PLACE_WORDS)}hof {loc:05d}",
                "address": f"Dorpsstraat {rng.randint(1, 250)}",
                "postcode": f"{rng.randint(1000, 9999)}AB",
                "municipality_id": m,
                "latitude": None,
                "longitude": None,
                "contact_mobile": f"+3162{loc:07d}",
                "languages": ["nl"] + (["en"] if rng.random() < 0.4 else []),
                "last_confirmed_at": now - age,
                "created_at": now,
            }
        )
    conn.execute(insert(Location), location_rows)
    counts.locations = n_locations
    progress(f"{n_locations} locaties")

    # Every location has a unit; the rest are spread at random (one to four per location).
    unit_location = list(range(1, n_locations + 1))
    unit_location += [rng.randint(1, n_locations) for _ in range(n_units - n_locations)]
    unit_location = unit_location[:n_units]
    unit_location.sort()
    unit_rows, group_rows = [], []
    capacities: dict[int, int] = {}
    stay_rules: dict[int, tuple[int, int, str]] = {}
    for u, loc in enumerate(unit_location, start=1):
        min_n, max_n = rng.choice(STAY_RULES)
        weekdays = "1234567" if rng.random() < 0.8 else rng.choice(["12345", "15", "5"])
        capacity = rng.choice(CAPACITY_CHOICES)
        capacities[u] = capacity
        stay_rules[u] = (min_n, max_n, weekdays)
        groups = _target_groups(rng)
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
                "retired_at": now if rng.random() < 0.01 else None,
                "created_at": now,
            }
        )
        group_rows += [{"unit_id": u, "target_group": g} for g in groups]
    conn.execute(insert(Unit), unit_rows)
    conn.execute(insert(UnitTargetGroup), group_rows)
    counts.units = n_units
    progress(f"{n_units} eenheden ({len(group_rows)} doelgroepkoppelingen)")

    # Some reservations: one unit in twelve has a stay (confirmed, held, or an overdue hold
    # that still counts in `reserved` until the sweep runs).
    reserved: dict[tuple[int, int], int] = {}
    reservation_rows, event_rows = [], []
    for u in range(1, n_units + 1):
        if rng.random() >= 1 / 12 or unit_rows[u - 1]["retired_at"] is not None:
            continue
        min_n, max_n, _ = stay_rules[u]
        length = rng.randint(min_n, min(max_n, 14))
        if length >= len(days):
            continue
        start = rng.randrange(len(days) - length)
        status, expires = rng.choice(
            [
                ("confirmed", None),
                ("confirmed", None),
                ("held", now + timedelta(minutes=10)),
                ("held", now - timedelta(minutes=5)),
                ("awaiting_provider", now + timedelta(hours=20)),
            ]
        )
        if any(reserved.get((u, i), 0) >= capacities[u] for i in range(start, start + length)):
            continue
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
    # Closed weeks may fall on reserved nights: those units simply keep their capacity there.
    if reservation_rows:
        conn.execute(insert(Reservation), reservation_rows)
        conn.execute(insert(ReservationEvent), event_rows)
    counts.reservations = len(reservation_rows)
    progress(f"{counts.reservations} reserveringen")

    unit_ids = [u for u in range(1, n_units + 1) if unit_rows[u - 1]["retired_at"] is None]
    total = len(unit_ids) * len(days)
    progress(f"Nachtvoorraad schrijven: {total:,} rijen …")
    raw = conn.connection.driver_connection
    rows = _night_rows(rng, unit_ids, capacities, days, reserved)
    step = max(1, total // 10)
    written = 0
    t0 = time.perf_counter()

    def report() -> None:
        rate = written / max(time.perf_counter() - t0, 1e-9)
        progress(f"  … {written:,}/{total:,} nachten ({written * 100 // total}%, {rate:,.0f}/s)")

    if dialect == "postgresql":
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(
                "COPY night_inventory (unit_id, night, capacity, reserved) FROM STDIN"
            ) as copy:
                for unit_id, i, cap, res in rows:
                    copy.write_row((unit_id, days[i], max(cap, res), res))
                    written += 1
                    if written % step == 0:
                        report()
    else:
        iso_days = [d.isoformat() for d in days]
        sql = "INSERT INTO night_inventory (unit_id, night, capacity, reserved) VALUES (?,?,?,?)"
        batch: list[tuple[int, str, int, int]] = []
        for unit_id, i, cap, res in rows:
            batch.append((unit_id, iso_days[i], max(cap, res), res))
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
    parser.add_argument("--regions", type=int, help="kleiner: zoveel regio's, de rest naar rato")
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
