"""Years of history on top of the national dataset, for the reporting benchmark.

    python -m bench.history --database-url URL [--years 1] [--stays-per-year 100000]

`bench.generate` builds the registry (25 regions, 500 providers, 6,000 units) and the nights
from today on. This adds, per year back from yesterday: the nights of every unit, about
100,000 stays (mostly completed, some cancelled or no-show) with their care requests and
status history, their SMS in the outbox, access-log rows, and a tariff per municipality and
funding route. `--years 10` is the "history piled up" case: the same density per month, ten
times the rows.

Each year is drawn from its own random stream, so year 1 holds the same stays whether one or
ten years are generated: a region-month report answers about the same at either size.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection

from bench.common import sqlalchemy_url
from respijt import clock, create_app
from respijt.claims import occupancy_months
from respijt.extensions import db
from respijt.models import (
    Location,
    Municipality,
    Tariff,
    Unit,
    UnitTargetGroup,
)

Progress = Callable[[str], None]

DAYS_PER_YEAR = 365
# Outcome of a stay in the past: most went ahead, some were cancelled, a few never arrived.
OUTCOMES = ["completed"] * 18 + ["cancelled", "no_show"]
REASONS = ["vakantie", "vakantie", "overbelasting", "ziekenhuisopname_mantelzorger", "werk"]
URGENCY = ["planned", "planned", "planned", "soon", "urgent"]
# The SMS of a stay: received, offer, confirmed, reminder, and the satisfaction question.
SMS_TEMPLATES = [
    "request_received",
    "request_offer",
    "reservation_confirmed",
    "reservation_reminder",
    "satisfaction_question",
]
# Who read a stay's client data, and how: the meldpunt at intake and offer, the provider at
# confirmation and arrival, the coordinator now and then.
ACCESS_ROWS = [
    ("create", "care_request.create", "meldpunt"),
    ("read", "care_request.read", "meldpunt"),
    ("change", "reservation.confirm", "provider"),
    ("read", "reservation.list", "provider"),
    ("change", "reservation.check_out", "provider"),
]
TARIFF_CENTS = {"wmo": 14_500, "elv": 16_200, "wlz": 15_800}


def _unit_pool(conn: Connection) -> list[dict[str, Any]]:
    """The units that can hold a stay, with what a request for them looks like."""
    rows = conn.execute(
        select(
            Unit.id,
            Unit.default_capacity,
            Unit.care_level,
            Unit.wheelchair,
            Unit.funding_routes,
            Location.provider_id,
            Municipality.region_id,
        )
        .join(Location, Location.id == Unit.location_id)
        .join(Municipality, Municipality.id == Location.municipality_id)
        .where(Unit.retired_at.is_(None))
        .order_by(Unit.id)
    ).all()
    groups: dict[int, str] = {}
    for unit_id, group in conn.execute(
        select(UnitTargetGroup.unit_id, UnitTargetGroup.target_group)
    ):
        groups.setdefault(unit_id, group)
    return [
        {
            "id": r.id,
            "capacity": r.default_capacity,
            "care_level": r.care_level,
            "wheelchair": r.wheelchair,
            "funding": list(r.funding_routes or ["wmo"]),
            "provider_id": r.provider_id,
            "region_id": r.region_id,
            "target_group": groups.get(r.id, "ouderen"),
        }
        for r in rows
    ]


def _municipalities_by_region(conn: Connection) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for muni_id, region_id in conn.execute(
        select(Municipality.id, Municipality.region_id)
        .where(Municipality.region_id.is_not(None))
        .order_by(Municipality.id)
    ):
        out.setdefault(region_id or 0, []).append(muni_id)
    return out


class _Ids:
    """Next ids per table, continuing after what the registry generator wrote."""

    def __init__(self, conn: Connection) -> None:
        self.next: dict[str, int] = {}
        for table in (
            "reservation",
            "reservation_event",
            "care_request",
            "care_request_event",
            "outbox_message",
            "access_log",
        ):
            top = conn.execute(text(f"SELECT max(id) FROM {table}")).scalar()
            self.next[table] = (top or 0) + 1

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


def _moment(day: date, hour: int) -> datetime:
    return datetime.combine(day, day_time(hour), tzinfo=UTC)


def _year(
    year_index: int,
    *,
    first_day: date,
    units: list[dict[str, Any]],
    munis: dict[int, list[int]],
    stays: int,
    seed: int,
    ids: _Ids,
    taken: dict[tuple[int, int], int],
) -> dict[str, list[dict[str, Any]]]:
    """The rows of one year of stays, `first_day` its first night."""
    rng = random.Random(seed * 100 + year_index)
    rows: dict[str, list[dict[str, Any]]] = {
        "care_request": [],
        "care_request_event": [],
        "reservation": [],
        "reservation_event": [],
        "outbox_message": [],
        "access_log": [],
    }
    placed = 0
    attempts = 0
    while placed < stays and attempts < stays * 3:
        attempts += 1
        unit = units[rng.randrange(len(units))]
        length = rng.choice([2, 3, 3, 4, 5, 7, 7, 10, 14])
        start = rng.randrange(DAYS_PER_YEAR - length)
        day0 = (first_day - date(1970, 1, 1)).days + start
        nights = [(unit["id"], day0 + i) for i in range(length)]
        if any(taken.get(n, 0) >= unit["capacity"] for n in nights):
            continue
        outcome = rng.choice(OUTCOMES)
        if outcome != "cancelled":
            for n in nights:
                taken[n] = taken.get(n, 0) + 1
        placed += 1
        arrival = first_day + timedelta(days=start)
        departure = arrival + timedelta(days=length)
        asked = _moment(arrival - timedelta(days=rng.randint(1, 30)), rng.randint(7, 21))
        confirmed = asked + timedelta(hours=rng.randint(1, 30))
        request_id = ids.take("care_request")
        reference = f"R-H{request_id:07d}"
        funding = rng.choice(unit["funding"])
        rows["care_request"].append(
            {
                "id": request_id,
                "reference": reference,
                "channel": rng.choice(["web", "phone", "api"]),
                "requester_type": rng.choice(["mantelzorger", "verwijzer", "meldpunt"]),
                "caller": "bench",
                "caller_role": "meldpunt",
                "client_name": "Cliënt",
                "birth_year": rng.randint(1930, 1965),
                "municipality_id": rng.choice(munis[unit["region_id"]]),
                "region_id": unit["region_id"],
                "target_group": unit["target_group"],
                "care_level": unit["care_level"],
                "wheelchair": unit["wheelchair"] and rng.random() < 0.5,
                "language": "nl",
                "arrival": arrival,
                "departure": departure,
                "flexibility_days": rng.choice([0, 0, 1, 3]),
                "urgency": rng.choice(URGENCY),
                "reason": rng.choice(REASONS),
                "funding": funding,
                "contact_name": "Mantelzorger",
                "contact_mobile": f"+3161{request_id % 10_000_000:07d}",
                "consent_at": asked,
                "status": "placed",
                "created_at": asked,
                "updated_at": confirmed,
                "first_offered_at": asked + timedelta(minutes=rng.randint(5, 600)),
                "placed_at": confirmed,
            }
        )
        for from_status, to_status, at in (
            (None, "new", asked),
            ("new", "placed", confirmed),
        ):
            rows["care_request_event"].append(
                {
                    "id": ids.take("care_request_event"),
                    "request_id": request_id,
                    "from_status": from_status,
                    "to_status": to_status,
                    "actor": "bench",
                    "at": at,
                }
            )
        reservation_id = ids.take("reservation")
        rows["reservation"].append(
            {
                "id": reservation_id,
                "unit_id": unit["id"],
                "arrival": arrival,
                "departure": departure,
                "status": outcome,
                "expires_at": None,
                "short_code": f"H{reservation_id:07d}",
                "caller": "bench",
                "caller_role": "meldpunt",
                "request_id": request_id,
                "created_at": asked,
                "updated_at": _moment(departure, 11),
            }
        )
        steps = [(None, "held", asked), ("held", "confirmed", confirmed)]
        if outcome == "completed":
            steps += [
                ("confirmed", "checked_in", _moment(arrival, 14)),
                ("checked_in", "completed", _moment(departure, 11)),
            ]
        else:
            steps.append(("confirmed", outcome, _moment(arrival, 18)))
        for from_status, to_status, at in steps:
            rows["reservation_event"].append(
                {
                    "id": ids.take("reservation_event"),
                    "reservation_id": reservation_id,
                    "from_status": from_status,
                    "to_status": to_status,
                    "actor": "bench",
                    "at": at,
                }
            )
        for i, template in enumerate(SMS_TEMPLATES):
            message_id = ids.take("outbox_message")
            sent = asked + timedelta(hours=i * 12)
            rows["outbox_message"].append(
                {
                    "id": message_id,
                    "dedupe_key": f"bench:{message_id}",
                    "channel": "sms",
                    "urgent": False,
                    "recipient": f"+3161{request_id % 10_000_000:07d}",
                    "template": template,
                    "context": {},
                    "body": "Bericht van respijt.",
                    "status": "delivered",
                    "attempts": 1,
                    "next_attempt_at": sent,
                    "created_at": sent,
                    "sent_at": sent,
                    "region_id": unit["region_id"],
                }
            )
        for i, (event, action, role) in enumerate(ACCESS_ROWS):
            rows["access_log"].append(
                {
                    "id": ids.take("access_log"),
                    "at": asked + timedelta(hours=i * 8),
                    "event": event,
                    "action": action,
                    "client_reference": reference,
                    "actor": f"user:{1 + request_id % 50}",
                    "role": role,
                    "provider_id": unit["provider_id"] if role == "provider" else None,
                    "region_id": unit["region_id"],
                    "outcome": "success",
                    "purpose": "zorgbemiddeling",
                }
            )
    return rows


def _copy(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """COPY into PostgreSQL: many times faster than INSERT for a million rows. Times go in as
    naive UTC, as the UTCDateTime columns store them."""
    columns = list(rows[0])

    def value(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.astimezone(UTC).replace(tzinfo=None)
        if isinstance(v, dict | list):
            return json.dumps(v)
        return v

    raw = conn.connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([value(row[c]) for c in columns])


def _insert_sqlite(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """executemany on the driver, in the formats SQLAlchemy stores on SQLite (ISO text)."""
    columns = list(rows[0])

    def value(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, dict | list):
            return json.dumps(v)
        return v

    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    raw = conn.connection.driver_connection
    raw.executemany(sql, [[value(row[c]) for c in columns] for row in rows])  # type: ignore[union-attr]


def _nights(
    conn: Connection,
    dialect: str,
    units: list[dict[str, Any]],
    first_day: date,
    days: int,
) -> int:
    """The past nights of every unit at its default capacity. A stay that ended no longer
    counts in `reserved` (only active reservations do), so past nights hold 0 there; `taken`
    only kept the stays within each night's capacity."""
    raw = conn.connection.driver_connection
    written = 0
    if dialect == "postgresql":
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(
                "COPY night_inventory (unit_id, night, capacity, reserved) FROM STDIN"
            ) as copy:
                for unit in units:
                    for i in range(days):
                        night = first_day + timedelta(days=i)
                        copy.write_row((unit["id"], night, unit["capacity"], 0))
                        written += 1
        return written
    sql = "INSERT INTO night_inventory (unit_id, night, capacity, reserved) VALUES (?,?,?,?)"
    iso = [(first_day + timedelta(days=i)).isoformat() for i in range(days)]
    for unit in units:
        batch = [(unit["id"], iso[i], unit["capacity"], 0) for i in range(days)]
        raw.executemany(sql, batch)  # type: ignore[union-attr]
        written += len(batch)
    return written


def _tariffs(conn: Connection, first_day: date, now: datetime) -> int:
    munis = conn.execute(select(Municipality.id)).scalars().all()
    rows = [
        {
            "municipality_id": m,
            "funding": funding,
            "product_code": f"LOG-{funding.upper()}",
            "price_cents": cents,
            "valid_from": first_day,
            "valid_to": None,
            "created_at": now,
        }
        for m in munis
        for funding, cents in TARIFF_CENTS.items()
    ]
    conn.execute(insert(Tariff), rows)
    return len(rows)


def add_history(
    database_url: str,
    *,
    years: int = 1,
    stays_per_year: int = 100_000,
    seed: int = 20261205,
    progress: Progress = print,
) -> dict[str, int]:
    """Add `years` of history ending yesterday to a database made by `bench.generate`."""
    started = time.perf_counter()
    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url)})
    counts: dict[str, int] = {}
    today = clock.today()
    now = clock.now()
    with app.app_context():
        engine = db.engine
        dialect = engine.dialect.name
        with engine.begin() as conn:
            units = _unit_pool(conn)
            munis = _municipalities_by_region(conn)
            ids = _Ids(conn)
            first_day = today - timedelta(days=DAYS_PER_YEAR * years)
            counts["tariffs"] = _tariffs(conn, first_day, now)
            taken: dict[tuple[int, int], int] = {}
            # In the order of their foreign keys.
            tables = (
                "care_request",
                "care_request_event",
                "reservation",
                "reservation_event",
                "outbox_message",
                "access_log",
            )
            # Oldest year first; the stream of each year does not depend on how many there are.
            for back in range(years, 0, -1):
                year_first = today - timedelta(days=DAYS_PER_YEAR * back)
                rows = _year(
                    back,
                    first_day=year_first,
                    units=units,
                    munis=munis,
                    stays=stays_per_year,
                    seed=seed,
                    ids=ids,
                    taken=taken,
                )
                for table in tables:
                    if rows[table] and dialect == "postgresql":
                        _copy(conn, table, rows[table])
                    elif rows[table]:
                        _insert_sqlite(conn, table, rows[table])
                    counts[table] = counts.get(table, 0) + len(rows[table])
                progress(f"  … jaar -{back}: {len(rows['reservation']):,} verblijven")
            counts["nights"] = _nights(conn, dialect, units, first_day, DAYS_PER_YEAR * years)
        _after_load(engine, dialect)
        engine.dispose()
    counts["seconds"] = round(time.perf_counter() - started)
    progress(
        f"Geschiedenis klaar in {counts['seconds']} s: {counts['reservation']:,} verblijven, "
        f"{counts['access_log']:,} inzagerijen, {counts['outbox_message']:,} berichten, "
        f"{counts['nights']:,} nachten."
    )
    counts["months"] = count_months(database_url, progress=progress)
    return counts


def count_months(database_url: str, *, progress: Progress = print) -> int:
    """Count every finished month's leegstand figures, as the scheduler's job
    `count_month_occupancy` does one run at a time on a server that has run for years."""
    started = time.perf_counter()
    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url)})
    months = 0
    with app.app_context():
        while occupancy_months.months_to_count(db.session, clock.today()):
            occupancy_months.count_next_month(db.session, clock.now())
            db.session.commit()
            months += 1
        db.engine.dispose()
    progress(f"Maandcijfers geteld: {months} maanden in {time.perf_counter() - started:.0f} s.")
    return months


def _after_load(engine: Any, dialect: str) -> None:
    """Sequences past the ids written here, and fresh planner statistics."""
    if dialect == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in (
                "care_request",
                "care_request_event",
                "reservation",
                "reservation_event",
                "outbox_message",
                "access_log",
                "tariff",
            ):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                    )
                )
            conn.execute(text("ANALYZE"))
        return
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("ANALYZE")
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.history", description="Jaren geschiedenis voor de rapportagebench."
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--stays-per-year", type=int, default=100_000)
    parser.add_argument(
        "--count-months-only",
        action="store_true",
        help="geen geschiedenis toevoegen, alleen de maandcijfers tellen (na een upgrade)",
    )
    args = parser.parse_args(argv)
    if args.count_months_only:
        count_months(args.database_url, progress=lambda msg: print(msg, flush=True))
        return 0
    add_history(
        args.database_url,
        years=args.years,
        stays_per_year=args.stays_per_year,
        progress=lambda msg: print(msg, flush=True),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
