"""7-night holds per second on random units, at several concurrencies, measured two ways.

    python -m bench.holds --database-url URL [--clients 1,4,16] [--seconds 3]

(1) domain: what the API calls for a hold without a care request, called directly: one app
    context per client thread, the one door `respijt.reservations.holds.hold_bed` in the
    session, one commit per hold through `run_in_transaction` — next to a raw-SQL floor running
    the very statements of `respijt.reservations.fast_hold` (the guarded UPDATE of the nights,
    the reservation INSERT and its history row) on a plain sqlite3 / psycopg connection, same
    concurrency, same database. Goal: domain >= 0.5x the floor.
(2) HTTP: `POST /api/v1/reservations` with a meldpunt token on gunicorn — next to
    `POST /api/v1/_bench/noop` with the same body and headers on the same server. Goal >= 0.5x.

Every run is followed by the overbooking check: `check.find_inventory_mismatches` must be
empty and no night may have reserved > capacity. Holds take one bed for 7 nights at random
places in a 400-night inventory of thousands of units. The domain way and its floor take tens
of thousands of them (at 5 s per measurement ~10% of the bed-nights, and one stay in ten is
then refused), so when both ways run, the HTTP way runs on a copy of the database made
before the first hold, and drops the copy afterwards.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import resource
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Any

from sqlalchemy import func, select

from bench.common import (
    Server,
    copy_database,
    cpu_used,
    database_name,
    dialect_of,
    drop_database,
    gunicorn,
    postgres_cpu_snapshot,
    raw_connect,
    request,
    sqlalchemy_url,
    sqlite_path,
)
from respijt import clock, create_app
from respijt.database import run_in_transaction
from respijt.errors import DomainError
from respijt.extensions import db
from respijt.models import NightInventory, Provider, Unit
from respijt.people.caller import Caller
from respijt.people.tokens import create_token
from respijt.reservations import fast_hold, holds
from respijt.reservations.check import find_inventory_mismatches

STAY_NIGHTS = 7


@dataclass(frozen=True)
class Candidate:
    unit_id: int
    weekdays: str


@dataclass
class RunResult:
    mode: str
    clients: int
    seconds: float
    holds: int
    refused: int
    errors: int
    # CPU seconds used during an HTTP measurement: the gunicorn workers, the PostgreSQL server
    # processes on this machine (None for SQLite, which runs inside the workers), this process.
    server_cpu: float = 0.0
    database_cpu: float | None = None
    client_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.holds / self.seconds if self.seconds else 0.0

    @property
    def requests(self) -> int:
        """Requests answered: holds, refusals and errors."""
        return self.holds + self.refused + self.errors

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def cpu_ms_per_request(self) -> dict[str, float | None]:
        requests = max(1, self.requests)
        return {
            "server": self.server_cpu / requests * 1000,
            "database": None if self.database_cpu is None else self.database_cpu / requests * 1000,
            "client": self.client_cpu / requests * 1000,
        }


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Picker:
    """Random (unit, arrival) pairs that the unit's stay rules allow; seeded per client."""

    def __init__(self, candidates: list[Candidate], first: date, last: date, seed: int) -> None:
        self.candidates = candidates
        self.first = first
        self.span = (last - first).days
        self.rng = random.Random(seed)

    def next(self) -> tuple[int, date, date]:
        while True:
            candidate = self.rng.choice(self.candidates)
            arrival = self.first + timedelta(days=self.rng.randrange(self.span))
            if str(arrival.isoweekday()) in candidate.weekdays:
                return candidate.unit_id, arrival, arrival + timedelta(days=STAY_NIGHTS)


def _drive(
    clients: int, seconds: float, make_worker: Callable[[int], Callable[[], str]]
) -> tuple[float, int, int, int]:
    """Run `clients` threads, each calling its worker until the deadline; count the outcomes."""
    counts = {"ok": 0, "full": 0, "error": 0}
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    stop = threading.Event()
    errors: list[str] = []

    def loop(index: int) -> None:
        work = make_worker(index)
        local = {"ok": 0, "full": 0, "error": 0}
        start.wait()
        while not stop.is_set():
            try:
                local[work()] += 1
            except Exception as exc:  # counted and reported, the run goes on
                local["error"] += 1
                if len(errors) < 3:
                    errors.append(repr(exc)[:300])
        with lock:
            for key, value in local.items():
                counts[key] += value

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - t0
    for message in errors:
        print(f"    fout: {message}", file=sys.stderr)
    return elapsed, counts["ok"], counts["full"], counts["error"]


class Bench:
    def __init__(
        self,
        database_url: str,
        *,
        seconds: float,
        http_workers: int,
        app_config: dict[str, Any] | None = None,
    ) -> None:
        self.url = sqlalchemy_url(database_url)
        self.dialect = dialect_of(self.url)
        self.seconds = seconds
        self.http_workers = http_workers
        self.app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": self.url,
                # The app's own connection check (respijt.database.ping_when_idle).
                "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20},
                "RESPIJT_RATELIMIT": False,
                **(app_config or {}),
            }
        )
        today = clock.today()
        with self.app.app_context():
            rows = db.session.execute(
                select(Unit.id, Unit.arrival_weekdays)
                .where(
                    Unit.retired_at.is_(None),
                    Unit.min_nights <= STAY_NIGHTS,
                    Unit.max_nights >= STAY_NIGHTS,
                    Unit.default_capacity > 0,
                )
                .order_by(Unit.id)
            ).all()
            self.candidates = [Candidate(unit_id, weekdays) for unit_id, weekdays in rows]
            last_night = db.session.scalar(select(func.max(NightInventory.night)))
            provider_id = db.session.scalar(select(func.min(Provider.id)))
            token, self.secret = create_token(
                db.session, role="meldpunt", name="bench", now=clock.now(), provider_id=provider_id
            )
            self.caller = Caller(key=f"token:{token.id}", role="meldpunt", provider_id=provider_id)
            db.session.commit()
        if not self.candidates or last_night is None:
            raise SystemExit("Geen eenheden of nachten: genereer eerst een dataset.")
        self.first = today + timedelta(days=1)
        self.last = last_night - timedelta(days=STAY_NIGHTS)
        # A fresh sequence per process: an earlier run on this database took its own places.
        self.seed = random.SystemRandom().randrange(2**32)

    def picker(self) -> Picker:
        self.seed += 1
        return Picker(self.candidates, self.first, self.last, self.seed)

    # --- (1) the domain function and its raw-SQL floor ----------------------------------------

    def domain(self, clients: int) -> RunResult:
        config = self.app.config

        def make_worker(index: int) -> Callable[[], str]:
            picker = self.picker()
            context = self.app.app_context()
            context.push()  # this thread's own app context, so its own session

            def work() -> str:
                unit_id, arrival, departure = picker.next()
                hold = {
                    "unit_id": unit_id,
                    "arrival": arrival,
                    "departure": departure,
                    "caller": self.caller,
                    "hold_minutes": config["RESPIJT_HOLD_MINUTES"],
                }
                # As the API: one door, one transaction in the session.
                try:
                    run_in_transaction(
                        db.session,
                        lambda: holds.hold_bed(
                            db.session,
                            now=clock.now(),
                            today=clock.today(),
                            provider_confirm_hours=config["RESPIJT_PROVIDER_CONFIRM_HOURS"],
                            **hold,
                        ),
                        config["RESPIJT_TX_RETRIES"],
                    )
                except DomainError:
                    return "full"
                return "ok"

            return work

        elapsed, ok, full, errors = _drive(clients, self.seconds, make_worker)
        with self.app.app_context():
            db.session.remove()
        return RunResult("domain", clients, elapsed, ok, full, errors)

    def raw_floor(self, clients: int) -> RunResult:
        """The statements `fast_hold` runs for a hold (the guarded UPDATE of the nights, the
        reservation INSERT, its history row; on PostgreSQL one statement), on a plain driver
        connection with as little Python as possible around them."""
        pg = self.dialect == "postgresql"
        statements = fast_hold.statements_for(self.dialect)
        constant = {
            "status": "held",
            "expected_arrival_time": None,
            "caller": "bench-raw",
            "caller_role": "meldpunt",
            "caller_provider_id": None,
            "idempotency_key": None,
            "request_fingerprint": None,
            "request_id": None,
            "nights": STAY_NIGHTS,
        }

        connections: list[Any] = []

        def make_worker(index: int) -> Callable[[], str]:
            picker = self.picker()
            conn = raw_connect(self.url)
            connections.append(conn)

            def work() -> str:
                unit_id, arrival, departure = picker.next()
                now = clock.now().astimezone(UTC).replace(tzinfo=None)
                expires = now + timedelta(minutes=15)
                params: dict[str, Any] = {
                    **constant,
                    "unit_id": unit_id,
                    "weekday": str(arrival.isoweekday()),
                    "short_code": _floor_short_code(),
                }
                if pg:
                    params.update(arrival=arrival, departure=departure, now=now, expires_at=expires)
                else:
                    params.update(
                        arrival=arrival.isoformat(),
                        departure=departure.isoformat(),
                        now=now.strftime("%Y-%m-%d %H:%M:%S.%f"),
                        expires_at=expires.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    )
                params["created_at"] = params["updated_at"] = params["now"]
                for attempt in range(9):
                    try:
                        cursor = conn.cursor()
                        if pg:
                            # One statement that takes every night or none, in autocommit:
                            # the floor under the domain's transaction.
                            cursor.execute(statements.hold, params, prepare=True)
                            return "ok" if cursor.fetchone()[0] is not None else "full"
                        cursor.execute("BEGIN IMMEDIATE")
                        taken = cursor.execute(statements.take, params).fetchall()
                        reservation_id = None
                        if len(taken) == STAY_NIGHTS:
                            cursor.execute(statements.insert_reservation, params)
                            params["reservation_id"] = cursor.fetchone()[0]
                            cursor.execute(statements.insert_event, params)
                            reservation_id = params["reservation_id"]
                        if reservation_id is None:
                            cursor.execute("ROLLBACK")
                            return "full"
                        cursor.execute("COMMIT")
                        return "ok"
                    except Exception as exc:
                        conn.rollback()
                        if attempt < 8 and holds.is_short_code_collision(exc):
                            # As the domain: a code drawn twice is drawn anew, the hold redone.
                            params["short_code"] = _floor_short_code()
                            continue
                        if attempt == 8 or not _retryable(exc):
                            raise
                        time.sleep(0.002 * 2**attempt)
                raise AssertionError("unreachable")

            return work

        try:
            elapsed, ok, full, errors = _drive(clients, self.seconds, make_worker)
        finally:
            for conn in connections:
                conn.close()
        return RunResult("raw_sql", clients, elapsed, ok, full, errors)

    # --- (2) over HTTP on gunicorn, next to the no-work POST ----------------------------------

    def http(self, clients: int, server: Server, path: str, mode: str) -> RunResult:
        """`clients` threads POSTing to `path`, each request on a new connection; with the CPU
        time the server, the database and this client used meanwhile (`RunResult`)."""
        port = server.port
        headers = {"Authorization": f"Bearer {self.secret}", "Content-Type": "application/json"}

        def make_worker(index: int) -> Callable[[], str]:
            picker = self.picker()

            def work() -> str:
                unit_id, arrival, departure = picker.next()
                body = json.dumps(
                    {
                        "unit_id": unit_id,
                        "arrival": arrival.isoformat(),
                        "departure": departure.isoformat(),
                    }
                ).encode()
                status, data = request(port, "POST", path, body=body, headers=headers)
                if status in (200, 201):
                    return "ok"
                if status == 409:
                    return "full"
                raise RuntimeError(f"{status}: {data[:200]!r}")

            return work

        database_before = postgres_cpu_snapshot() if self.dialect == "postgresql" else None
        server_before = server.cpu_snapshot()
        client_before = _own_cpu_seconds()
        elapsed, ok, full, errors = _drive(clients, self.seconds, make_worker)
        client_cpu = _own_cpu_seconds() - client_before
        server_cpu = cpu_used(server_before, server.cpu_snapshot())
        database_after = postgres_cpu_snapshot() if database_before is not None else None
        return RunResult(
            mode,
            clients,
            elapsed,
            ok,
            full,
            errors,
            server_cpu=server_cpu,
            database_cpu=None
            if database_before is None or database_after is None
            else cpu_used(database_before, database_after),
            client_cpu=client_cpu,
        )

    def close(self) -> None:
        """Close the app's pooled connections (the client threads' sessions are done)."""
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()

    # --- the overbooking check ----------------------------------------------------------------

    def verify(self) -> tuple[int, int]:
        """(inventory mismatches, nights with reserved > capacity): both must be 0."""
        with self.app.app_context():
            mismatches = find_inventory_mismatches(db.session)
            over = db.session.scalar(
                select(func.count())
                .select_from(NightInventory)
                .where(NightInventory.reserved > NightInventory.capacity)
            )
            db.session.rollback()
            db.session.remove()
        return len(mismatches), int(over or 0)


def _floor_short_code() -> str:
    """The floor's reservations get codes of 8 hex digits: never one of the app's (6 letters),
    and among themselves drawn twice about once in a few runs of tens of thousands of holds."""
    return secrets.token_hex(4).upper()


def _retryable(exc: BaseException) -> bool:
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate in ("40001", "40P01"):
        return True
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def run(
    database_url: str,
    *,
    clients: list[int],
    seconds: float = 3.0,
    warmup: float = 1.5,
    rounds: int = 3,
    http_workers: int = 2,
    log_path: str | None = None,
    progress: Callable[[str], None] = print,
    ways: tuple[str, ...] = ("domain", "http"),
) -> dict[str, Any]:
    # The domain way and its floor take tens of thousands of holds (~10% of the bed-nights
    # at `make bench`'s 5 s per measurement), and a refused hold is no hold: the HTTP way,
    # whose no-op floor is refused nothing, gets the dataset as it was, in a copy.
    http_url = None
    if "domain" in ways and "http" in ways:
        http_url = copy_database(database_url, *_copy_place(database_url))
    try:
        return _run(
            database_url,
            http_url or database_url,
            clients=clients,
            seconds=seconds,
            warmup=warmup,
            rounds=rounds,
            http_workers=http_workers,
            log_path=log_path,
            progress=progress,
            ways=ways,
        )
    finally:
        if http_url is not None:
            drop_database(http_url)


def _copy_place(database_url: str) -> tuple[str, str]:
    """(name, directory) of the HTTP way's copy: beside the dataset, named after it and this
    process, so two runs on one dataset do not meet."""
    if dialect_of(database_url) == "sqlite":
        path = sqlite_path(database_url)
        stem = os.path.splitext(os.path.basename(path))[0]
        return f"{stem}_http_{os.getpid()}", os.path.dirname(os.path.abspath(path))
    return f"{database_name(database_url)}_http_{os.getpid()}", ""


def _run(
    domain_url: str,
    http_url: str,
    *,
    clients: list[int],
    seconds: float,
    warmup: float,
    rounds: int,
    http_workers: int,
    log_path: str | None,
    progress: Callable[[str], None],
    ways: tuple[str, ...],
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    overbooked = 0

    def record(bench: Bench, result: RunResult) -> RunResult:
        nonlocal overbooked
        mismatches, over = bench.verify()
        overbooked += mismatches + over
        progress(
            f"  {result.mode:<8} {result.clients:>2} clients: {result.rate:8.1f}/s "
            f"({result.holds} gelukt, {result.refused} vol, {result.errors} fout; "
            f"controle: {mismatches} verschillen, {over} overboekt)"
        )
        return result

    def pair(
        bench: Bench,
        kind: str,
        measure: Callable[[int], RunResult],
        floor: Callable[[int], RunResult],
        n: int,
    ) -> None:
        """Measurement and floor in alternating slices, so background load hits both alike."""
        slices: dict[str, list[RunResult]] = {"rate": [], "floor": []}
        for _ in range(rounds):
            slices["rate"].append(measure(n))
            slices["floor"].append(floor(n))
        got = {key: _combine(results) for key, results in slices.items()}
        record(bench, got["rate"])
        record(bench, got["floor"])
        rate, floor_rate = got["rate"].rate, got["floor"].rate
        rows.append(
            {
                "kind": kind,
                "clients": n,
                "rate": rate,
                "floor": floor_rate,
                "ratio": rate / floor_rate if floor_rate else 0.0,
                "errors": got["rate"].errors + got["floor"].errors,
                "cpu_ms": {
                    "rate": got["rate"].cpu_ms_per_request(),
                    "floor": got["floor"].cpu_ms_per_request(),
                },
                # Requests answered per second, refusals included (`rate` counts holds only).
                "requests_per_second": {
                    "rate": got["rate"].requests_per_second,
                    "floor": got["floor"].requests_per_second,
                },
            }
        )

    load_before = os.getloadavg()[0]
    # Warm-up, not reported: the first statements of every connection and thread pay for
    # compiling and caching.
    peak_rss = None
    dialect = dialect_of(domain_url)
    if "domain" in ways:
        bench = Bench(domain_url, seconds=warmup, http_workers=http_workers)
        try:
            bench.domain(max(clients))
            bench.raw_floor(max(clients))
            bench.seconds = seconds / rounds
            for n in clients:
                pair(bench, "domain", bench.domain, bench.raw_floor, n)
        finally:
            bench.close()
    if "http" in ways:
        bench = Bench(http_url, seconds=warmup, http_workers=http_workers)
        try:
            with gunicorn(bench.url, workers=http_workers, log_path=log_path) as server:
                # Every worker process compiles its statements and schemas on its first
                # requests.
                bench.http(max(clients), server, "/api/v1/reservations", "http")
                bench.http(max(clients), server, "/api/v1/_bench/noop", "noop")
                bench.seconds = seconds / rounds
                for n in clients:
                    pair(
                        bench,
                        "http",
                        functools.partial(
                            bench.http, server=server, path="/api/v1/reservations", mode="http"
                        ),
                        functools.partial(
                            bench.http, server=server, path="/api/v1/_bench/noop", mode="noop"
                        ),
                        n,
                    )
                peak_rss = server.peak_rss_mb()
        finally:
            bench.close()
    return {
        "backend": dialect,
        "seconds": seconds,
        "http_workers": http_workers,
        "rows": rows,
        "overbooked": overbooked,
        "serial": serial_budget(rows),
        "peak_rss_mb": peak_rss,
        "load": (load_before, os.getloadavg()[0]),
    }


def serial_budget(rows: list[dict[str, Any]]) -> dict[str, float] | None:
    """What 0.5x over HTTP leaves a hold at 1 client, from the same run's no-op and floor.

    One client waits for each answer, so a hold over HTTP takes at least what a no-op request
    takes plus what the floor's SQL takes, one after the other: with N no-op requests/s and F
    floor requests/s it reaches about F / (F + N) of the no-op's rate at most (`ceiling`), and
    0.5x leaves it about 1/N - 1/F seconds (`budget_ms`) for everything else it does: reading
    the token, parsing the body, the access log, the answer. About: N and F come from
    different phases, F counts the floor's refusals (cheaper than a hold), and the floor's own
    loop (drawing a unit, building its parameters) counts in F too. None unless both
    ways were measured at 1 client. With more clients the work of both overlaps and no such
    bound follows."""
    one = {row["kind"]: row for row in rows if row["clients"] == 1}
    if "domain" not in one or "http" not in one:
        return None
    noop = one["http"]["requests_per_second"]["floor"]
    floor = one["domain"]["requests_per_second"]["floor"]
    if not noop or not floor:
        return None
    return {
        "noop": noop,
        "floor": floor,
        "ceiling": floor / (floor + noop),
        "budget_ms": 1000 * (1 / noop - 1 / floor),
    }


def _combine(results: list[RunResult]) -> RunResult:
    first = results[0]
    return RunResult(
        first.mode,
        first.clients,
        sum(r.seconds for r in results),
        sum(r.holds for r in results),
        sum(r.refused for r in results),
        sum(r.errors for r in results),
        server_cpu=sum(r.server_cpu for r in results),
        database_cpu=None
        if any(r.database_cpu is None for r in results)
        else sum(r.database_cpu or 0.0 for r in results),
        client_cpu=sum(r.client_cpu for r in results),
    )


def describe(result: dict[str, Any]) -> str:
    lines = [
        f"{result['backend']}: holds/s (doel >= 0.5x de vloer); overboekingen: "
        f"{result['overbooked']}"
    ]
    for row in result["rows"]:
        floor = "raw SQL" if row["kind"] == "domain" else "no-op POST"
        lines.append(
            f"  {row['kind']:<6} {row['clients']:>2} clients: {row['rate']:8.1f}/s vs {floor} "
            f"{row['floor']:8.1f}/s = {row['ratio']:.2f}x "
            f"{'gehaald' if row['ratio'] >= 0.5 else 'NIET gehaald'}"
        )
        if row["kind"] == "http":
            lines.append(f"      CPU ms per verzoek: {describe_cpu(row['cpu_ms'])}")
    serial = result.get("serial")
    if serial is not None:
        lines.append(
            f"  http    1 client: hoogstens {serial['ceiling']:.2f}x (no-op "
            f"{serial['noop']:.0f}/s en vloer {serial['floor']:.0f} verzoeken/s na elkaar); "
            f"voor 0.5x blijft {serial['budget_ms']:.3f} ms over voor de rest van een hold"
        )
    return "\n".join(lines)


def describe_cpu(cpu_ms: dict[str, dict[str, float | None]]) -> str:
    """Where an HTTP hold's and a no-op's CPU went, per request (`describe`'s line)."""

    def one(cpu: dict[str, float | None]) -> str:
        database = cpu["database"]
        parts = [f"server {cpu['server']:.2f}"]
        if database is not None:
            parts.append(f"PostgreSQL {database:.2f}")
        parts.append(f"client {cpu['client']:.2f}")
        return " + ".join(parts)

    return f"hold {one(cpu_ms['rate'])}; no-op {one(cpu_ms['floor'])}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.holds")
    parser.add_argument("--database-url", required=True)
    parser.add_argument(
        "--clients", default=None, help="bv. 1,4,16 (standaard: PG 1,4,16; SQLite 1,4)"
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="meetduur per meting")
    parser.add_argument(
        "--http-workers",
        type=int,
        default=2,
        help="gunicorn sync workers (standaard 2: één per kern)",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--ways", default="domain,http", help="domain, http of beide")
    args = parser.parse_args(argv)
    default = "1,4" if dialect_of(args.database_url) == "sqlite" else "1,4,16"
    clients = [int(c) for c in (args.clients or default).split(",")]
    result = run(
        args.database_url,
        clients=clients,
        seconds=args.seconds,
        http_workers=args.http_workers,
        log_path=os.environ.get("RESPIJT_BENCH_LOG"),
        progress=lambda msg: print(msg, flush=True),
        ways=tuple(args.ways.split(",")),
    )
    print(json.dumps(result, indent=2) if args.json else describe(result))
    return 0 if result["overbooked"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
