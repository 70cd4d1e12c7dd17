"""The reports a coordinator and a provider open, timed on a database with years of history.

    python -m bench.reports --database-url URL [--repeat 15]

Each call goes through the whole application in-process (the Flask test client: routing,
token check, the query, the access-log rows, JSON/CSV/HTML/PDF rendering) with a real API
token, as a coordinator of one region, a national admin or one provider. No network: what is
measured is the server's work. Goals (issue #23): p95 ≤ 200 ms for a region-month page or call,
≤ 1 s for a national year, the PDF ≤ 2 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from bench import generate, history
from bench.common import (
    PROJECT_ROOT,
    drop_database,
    fmt_ms,
    fresh_database,
    percentile,
    sqlalchemy_url,
)
from respijt import clock, create_app
from respijt.extensions import db
from respijt.models import CareRequest, Location, Municipality, Provider, Region, Reservation, Unit
from respijt.people.tokens import create_token

Progress = Callable[[str], None]

# What each measured call is held to (seconds, p95).
REGION_MONTH = 0.200
NATIONAL_YEAR = 1.0
PDF = 2.0


def _month_before(today: date, back: int) -> str:
    first = today.replace(day=1)
    for _ in range(back):
        first = (first - timedelta(days=1)).replace(day=1)
    return first.strftime("%Y-%m")


def _subjects(region_code: str) -> dict[str, Any]:
    """One region, its busiest provider and a municipality, and a stay's request reference."""
    region_id = db.session.scalar(select(Region.id).where(Region.code == region_code))
    provider_id = db.session.scalar(
        select(Location.provider_id)
        .join(Municipality, Municipality.id == Location.municipality_id)
        .where(Municipality.region_id == region_id)
        .group_by(Location.provider_id)
        .order_by(func.count().desc(), Location.provider_id)
        .limit(1)
    )
    municipality = db.session.scalar(
        select(Municipality.code)
        .where(Municipality.region_id == region_id)
        .order_by(Municipality.id)
        .limit(1)
    )
    reference = db.session.scalar(
        select(CareRequest.reference)
        .join(Reservation, Reservation.request_id == CareRequest.id)
        .join(Unit, Unit.id == Reservation.unit_id)
        .join(Location, Location.id == Unit.location_id)
        .where(Location.provider_id == provider_id)
        .order_by(CareRequest.id.desc())
        .limit(1)
    )
    provider_name = db.session.scalar(select(Provider.name).where(Provider.id == provider_id))
    return {
        "region_id": region_id,
        "provider_id": provider_id,
        "provider_name": provider_name,
        "municipality": municipality,
        "reference": reference,
    }


def _calls(today: date, s: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    """(name, who, path, goal): who is coordinator, admin or provider."""
    month = _month_before(today, 1)
    m_first = date.fromisoformat(month + "-01")
    m_end = (m_first + timedelta(days=32)).replace(day=1)
    y_from = today - timedelta(days=365)
    year = f"from={y_from.isoformat()}&to={today.isoformat()}"
    muni = s["municipality"]
    return [
        (
            "Kerncijfers regio, maand",
            "coordinator",
            f"/api/v1/reports/kpis?from={m_first}&to={m_end}",
            REGION_MONTH,
        ),
        ("Kerncijfers regio, jaar", "coordinator", f"/api/v1/reports/kpis?{year}", NATIONAL_YEAR),
        ("Kerncijfers landelijk, jaar", "admin", f"/api/v1/reports/kpis?{year}", NATIONAL_YEAR),
        (
            "Kerncijfers per maand, regio, jaar (CSV)",
            "coordinator",
            f"/api/v1/reports/kpis/months?{year}&format=csv",
            NATIONAL_YEAR,
        ),
        ("Declaratie aanbieder, maand", "provider", f"/api/v1/claims?month={month}", REGION_MONTH),
        (
            "Declaratie aanbieder, maand (CSV)",
            "provider",
            f"/api/v1/claims?month={month}&format=csv",
            REGION_MONTH,
        ),
        (
            "Declaratie gemeente, maand",
            "coordinator",
            f"/api/v1/claims?month={month}&municipality={muni}",
            REGION_MONTH,
        ),
        (
            "Leegstandregister regio, maand",
            "coordinator",
            f"/api/v1/reports/leegstand?month={month}",
            REGION_MONTH,
        ),
        (
            "Leegstandregister regio, maand (CSV)",
            "coordinator",
            f"/api/v1/reports/leegstand?month={month}&format=csv",
            REGION_MONTH,
        ),
        (
            "Maandrapportage gemeente (HTML)",
            "coordinator",
            f"/reports/monthly/{muni}/{month}",
            REGION_MONTH,
        ),
        (
            "Maandrapportage gemeente (PDF)",
            "coordinator",
            f"/reports/monthly/{muni}/{month}.pdf",
            PDF,
        ),
        (
            "Reserveringen aanbieder, eerste pagina",
            "provider",
            "/api/v1/reservations?page=1",
            REGION_MONTH,
        ),
        (
            "Reserveringen aanbieder, aankomsten vorige maand",
            "provider",
            f"/api/v1/reservations?arrivalFrom={m_first}&arrivalTo={m_end}",
            REGION_MONTH,
        ),
        (
            "Inzage per aanvraag",
            "coordinator",
            f"/api/v1/access-log?client_reference={s['reference']}",
            REGION_MONTH,
        ),
    ]


def _year_of_claims(today: date, municipality: str, suffix: str = "") -> list[str]:
    return [
        f"/api/v1/claims?month={_month_before(today, back)}&municipality={municipality}{suffix}"
        for back in range(12, 0, -1)
    ]


def run(
    database_url: str,
    *,
    repeat: int = 15,
    region: str = "R001",
    progress: Progress = print,
) -> dict[str, Any]:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url),
            "RESPIJT_RATELIMIT": False,
        }
    )
    out: dict[str, Any] = {"rows": []}
    with app.app_context():
        now = clock.now()
        s = _subjects(region)
        tokens = {}
        _, tokens["coordinator"] = create_token(
            db.session, role="coordinator", name="bench-coordinator", now=now, region_codes=[region]
        )
        _, tokens["admin"] = create_token(db.session, role="admin", name="bench-admin", now=now)
        _, tokens["provider"] = create_token(
            db.session,
            role="provider",
            name="bench-provider",
            now=now,
            provider_id=s["provider_id"],
        )
        db.session.commit()
        today = clock.today()
        out["subjects"] = {k: v for k, v in s.items() if k != "reference"}
    client = app.test_client()

    def timed(path: str, who: str) -> float:
        started = time.perf_counter()
        response = client.get(path, headers={"Authorization": f"Bearer {tokens[who]}"})
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(
                f"{path}: {response.status_code} {response.get_data(as_text=True)[:300]}"
            )
        return elapsed

    for name, who, path, goal in _calls(today, s):
        timed(path, who)  # warm the caches once, as any open page would be
        samples = [timed(path, who) for _ in range(repeat)]
        row = _row(name, samples, goal)
        out["rows"].append(row)
        progress(f"  {name}: p50 {fmt_ms(row['p50'])}, p95 {fmt_ms(row['p95'])}")
    for name, suffix in (
        ("Declaratie gemeente, jaar (12 maanden)", ""),
        ("Declaratie gemeente, jaar (12 maanden, CSV)", "&format=csv"),
    ):
        year_paths = _year_of_claims(today, s["municipality"], suffix)
        samples = []
        for _ in range(max(3, repeat // 3)):
            samples.append(sum(timed(path, "coordinator") for path in year_paths))
        row = _row(name, samples, NATIONAL_YEAR)
        out["rows"].append(row)
        progress(f"  {row['name']}: p50 {fmt_ms(row['p50'])}, p95 {fmt_ms(row['p95'])}")
    with app.app_context():
        db.engine.dispose()
    return out


def _row(name: str, samples: list[float], goal: float) -> dict[str, Any]:
    p95 = percentile(samples, 95)
    return {
        "name": name,
        "p50": percentile(samples, 50),
        "p95": p95,
        "goal": goal,
        "met": p95 <= goal,
        "n": len(samples),
    }


def table(results: dict[str, dict[str, Any]]) -> str:
    """A Markdown table: one row per call, a p95 column per database and size."""
    columns = list(results)
    names = [row["name"] for row in next(iter(results.values()))["rows"]]
    lines = [
        "| Rapport | Doel (p95) | " + " | ".join(f"{c} p95" for c in columns) + " |",
        "|---|---:|" + "---:|" * len(columns),
    ]
    for i, name in enumerate(names):
        goal = next(iter(results.values()))["rows"][i]["goal"]
        cells = []
        for c in columns:
            row = results[c]["rows"][i]
            cells.append(f"{fmt_ms(row['p95'])}{'' if row['met'] else ' ✗'}")
        lines.append(f"| {name} | {fmt_ms(goal)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def build(backend: str, years: int, stays_per_year: int, progress: Progress) -> str:
    """A fresh database with the national registry and `years` of history."""
    workdir = os.path.join(PROJECT_ROOT, "bench", "data")
    url = fresh_database(backend, f"respijt_reports_{years}", workdir)
    generate.generate(url, 1, 60, progress=lambda _msg: None)
    history.add_history(url, years=years, stays_per_year=stays_per_year, progress=progress)
    return url


def ratios(results: dict[str, dict[str, Any]], backend: str, years: list[int]) -> list[str]:
    """Per report: p95 with the most history over p95 with the least (goal: below 2)."""
    low, high = f"{backend} {years[0]} jr", f"{backend} {years[-1]} jr"
    lines = []
    for one, many in zip(results[low]["rows"], results[high]["rows"], strict=True):
        ratio = many["p95"] / one["p95"]
        lines.append(
            f"| {backend} | {one['name']} | {ratio:.2f} | {'ja' if ratio < 2 else 'nee'} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reports",
        description="Rapportages op jaren geschiedenis: een bestaande database (--database-url) "
        "of nieuwe databases per backend en aantal jaren.",
    )
    parser.add_argument("--database-url")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--years", default="1,10", help="jaren geschiedenis, bijv. 1,10")
    parser.add_argument("--stays-per-year", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--region", default="R001")
    args = parser.parse_args(argv)
    say = lambda msg: print(msg, flush=True)  # noqa: E731
    results: dict[str, dict[str, Any]] = {}
    if args.database_url:
        results["gemeten"] = run(args.database_url, repeat=args.repeat, region=args.region)
    else:
        years = [int(y) for y in args.years.split(",")]
        for backend in args.backends.split(","):
            for n in years:
                say(f"## {backend}: {n} jaar geschiedenis")
                url = build(backend, n, args.stays_per_year, say)
                results[f"{backend} {n} jr"] = run(
                    url, repeat=args.repeat, region=args.region, progress=say
                )
                drop_database(url)
    print(f"\nMachine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}.\n")
    print(table(results))
    if not args.database_url and len(years) > 1:
        print(
            "\n| backend | rapport | p95 meeste / minste geschiedenis | < 2×? |\n|---|---|---:|---|"
        )
        for backend in args.backends.split(","):
            print("\n".join(ratios(results, backend, years)))
    return 0 if all(row["met"] for r in results.values() for row in r["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
