"""Every benchmark at a size for this machine, ending in Markdown tables (`make bench`).

    python -m bench.run_all [--backends sqlite,postgresql] [--requests 2000] [--seconds 5]
                            [--nights 400] [--no-10x] [--no-matching] [--keep]

Per backend: generate the national dataset (scale 1) in a fresh database, measure the
availability search, matching one care request (`--no-matching` skips it; ~20 s per backend),
then the holds; generate the 10x dataset in a second fresh database and measure the search
again for the 10x ratio. PostgreSQL databases are `respijt_bench_1` and
`respijt_bench_10` (recreated through the `postgres` database); SQLite files go to bench/data/.
About 10 minutes on 2 cores with the defaults; the flags shrink it.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from typing import Any

import psycopg

from bench import availability, generate, holds, matching
from bench.common import PG_ADMIN_DSN, PROJECT_ROOT, fmt_ms, fresh_database


def _drop_pg(name: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _say(message: str) -> None:
    print(message, flush=True)


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    workdir = os.path.join(PROJECT_ROOT, "bench", "data")
    log = os.path.join(workdir, f"gunicorn-{backend}.log")
    os.makedirs(workdir, exist_ok=True)
    out: dict[str, Any] = {"backend": backend}

    _say(f"\n## {backend}: dataset schaal 1 ({args.nights} nachten)")
    url1 = fresh_database(backend, "respijt_bench_1", workdir)
    out["generate_1"] = generate.generate(url1, 1, args.nights, progress=_say)
    _say(f"## {backend}: beschikbaarheid, schaal 1")
    out["availability_1"] = availability.run(
        url1, requests=args.requests, warmup=args.warmup, log_path=log, progress=_say
    )
    _say(availability.describe(out["availability_1"]))
    if not args.no_matching:
        _say(f"## {backend}: matching van één aanvraag, schaal 1")
        out["matching"] = matching.run(
            url1,
            requests=args.matching_requests,
            warmup=args.matching_warmup,
            log_path=log,
            progress=_say,
        )
        _say(matching.describe(out["matching"]))
    _say(f"## {backend}: holds per seconde")
    clients = args.clients_pg if backend == "postgresql" else args.clients_sqlite
    out["holds"] = holds.run(
        url1,
        clients=[int(c) for c in clients.split(",")],
        seconds=args.seconds,
        http_workers=args.http_workers,
        log_path=log,
        progress=_say,
    )
    _say(holds.describe(out["holds"]))
    if not args.keep and backend == "postgresql":
        _drop_pg("respijt_bench_1")

    if not args.no_10x:
        _say(f"\n## {backend}: dataset schaal 10 ({args.nights} nachten)")
        url10 = fresh_database(backend, "respijt_bench_10", workdir)
        out["generate_10"] = generate.generate(url10, 10, args.nights, progress=_say)
        _say(f"## {backend}: beschikbaarheid, schaal 10")
        out["availability_10"] = availability.run(
            url10, requests=args.requests, warmup=args.warmup, log_path=log, progress=_say
        )
        _say(availability.describe(out["availability_10"]))
        if not args.keep:
            if backend == "postgresql":
                _drop_pg("respijt_bench_10")
            else:
                for suffix in ("", "-wal", "-shm"):
                    path = os.path.join(workdir, "respijt_bench_10.db" + suffix)
                    if os.path.exists(path):
                        os.remove(path)
    return out


def markdown(results: list[dict[str, Any]], args: argparse.Namespace, seconds: float) -> str:
    lines = [
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"load average at the end {os.getloadavg()[0]:.1f}; total {seconds / 60:.1f} min.",
        "",
        "Availability: `GET /api/v1/availability`, 14 nights, `region` + `target_group`, "
        f"{args.requests} requests after {args.warmup} warm-up, gunicorn 2 sync workers; "
        "the page `GET /beschikbaarheid` with the same filters, interleaved on the same server.",
        "",
        "| backend | dataset | answer | endpoint p50 / p95 ms | (a) raw SQL p50 / p95 | "
        "(b) no-op p50 / p95 | p95 ≤ 1.5 × (a + b)? | page p50 / p95 ms | worker peak RSS "
        "| load avg |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        for key, label in (("availability_1", "scale 1"), ("availability_10", "scale 10")):
            if key not in res:
                continue
            a = res[key]
            gen = res["generate_" + key[-2:].strip("_")]
            lines.append(
                f"| {res['backend']} | {label}: {gen.units:,} units, {gen.nights:,} nights "
                f"(generated in {gen.seconds:.0f} s) | {a['locations']} locations, "
                f"{a['units']} units | {fmt_ms(a['endpoint_p50'])} / {fmt_ms(a['endpoint_p95'])} | "
                f"{fmt_ms(a['raw_sql_p50'])} / {fmt_ms(a['raw_sql_p95'])} | "
                f"{fmt_ms(a['noop_p50'])} / {fmt_ms(a['noop_p95'])} | "
                f"{'yes' if a['goal_met'] else 'no'} ({fmt_ms(a['endpoint_p95'])} vs "
                f"{fmt_ms(a['budget_p95'])}) | {fmt_ms(a['page_p50'])} / "
                f"{fmt_ms(a['page_p95'])} ({a['page_bytes'] // 1024} KB) | "
                f"{a['peak_rss_mb']:.0f} MB | "
                f"{a['load'][0]:.1f}–{a['load'][1]:.1f} |"
            )
    lines += [
        "",
        "| backend | 10× / 1× endpoint p50 | 10× / 1× endpoint p95 | < 2×? |",
        "|---|---|---|---|",
    ]
    for res in results:
        if "availability_10" in res:
            one, ten = res["availability_1"], res["availability_10"]
            r50 = ten["endpoint_p50"] / one["endpoint_p50"]
            r95 = ten["endpoint_p95"] / one["endpoint_p95"]
            lines.append(
                f"| {res['backend']} | {r50:.2f} | {r95:.2f} | {'yes' if r95 < 2 else 'no'} |"
            )
    if any("matching" in res for res in results):
        lines += [
            "",
            "Matching: `GET /api/v1/requests/{reference}/matches` (meldpunt token, on duty; each "
            "call records the options shown and an access-log row) interleaved with "
            f"`GET /api/v1/availability` for the same window and filters, scale 1, "
            f"{args.matching_requests} requests after {args.matching_warmup} warm-up.",
            "",
            "| backend | options | matches p50 / p95 ms | availability p50 / p95 ms | "
            "p95 ≤ 2 × availability p95? | load avg |",
            "|---|---|---|---|---|---|",
        ]
        for res in results:
            if "matching" not in res:
                continue
            m = res["matching"]
            lines.append(
                f"| {m['backend']} | {m['options']} | {fmt_ms(m['matches_p50'])} / "
                f"{fmt_ms(m['matches_p95'])} | {fmt_ms(m['availability_p50'])} / "
                f"{fmt_ms(m['availability_p95'])} | {'yes' if m['goal_met'] else 'no'} "
                f"({fmt_ms(m['matches_p95'])} vs {fmt_ms(m['budget_p95'])}) | "
                f"{m['load'][0]:.1f}–{m['load'][1]:.1f} |"
            )
    lines += [
        "",
        f"Holds: 7-night holds on random units, {args.seconds:g} s per measurement in 3 slices "
        f"alternating with the floor; HTTP on gunicorn with {args.http_workers} sync workers.",
        "",
        "| backend | way | clients | holds/s | floor/s | ratio | ≥ 0.5×? | overbooked | load avg |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        h = res["holds"]
        for row in h["rows"]:
            way = "domain vs raw SQL" if row["kind"] == "domain" else "HTTP vs no-op POST"
            lines.append(
                f"| {h['backend']} | {way} | {row['clients']} | {row['rate']:.0f} | "
                f"{row['floor']:.0f} | {row['ratio']:.2f} | "
                f"{'yes' if row['ratio'] >= 0.5 else 'no'} | {h['overbooked']} | "
                f"{h['load'][0]:.1f}–{h['load'][1]:.1f} |"
            )
    lines += cpu_table([res["holds"] for res in results])
    lines += serial_table([res["holds"] for res in results])
    return "\n".join(lines)


def cpu_table(holds_results: list[dict[str, Any]]) -> list[str]:
    """The Markdown lines of where an HTTP hold's and a no-op's CPU went (`bench.holds.run`)."""
    lines = [
        "",
        "CPU per HTTP request in the same measurements (ms; the gunicorn workers, the PostgreSQL "
        "server processes, this load generator; on SQLite the database works inside the "
        "workers), and the cores that kept busy (requests/s × CPU per request, of 2). Where "
        "both keep the cores about as busy, the ratio of holds to no-ops is about the inverse "
        "ratio of their CPU per request: 0.5× needs a hold's total ≤ 2 × the no-op's.",
        "",
        "| backend | clients | hold: server + PostgreSQL + client | total | cores busy | "
        "no-op: server + client | total | cores busy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for h in holds_results:
        for row in h["rows"]:
            if row["kind"] != "http":
                continue
            hold, noop = row["cpu_ms"]["rate"], row["cpu_ms"]["floor"]
            per_second = row["requests_per_second"]
            database = hold["database"]
            hold_total = hold["server"] + (database or 0.0) + hold["client"]
            noop_total = noop["server"] + noop["client"]
            lines.append(
                f"| {h['backend']} | {row['clients']} | {hold['server']:.2f} + "
                f"{'–' if database is None else f'{database:.2f}'} + {hold['client']:.2f} | "
                f"{hold_total:.2f} | {per_second['rate'] * hold_total / 1000:.2f} | "
                f"{noop['server']:.2f} + {noop['client']:.2f} | {noop_total:.2f} | "
                f"{per_second['floor'] * noop_total / 1000:.2f} |"
            )
    return lines


def serial_table(holds_results: list[dict[str, Any]]) -> list[str]:
    """The Markdown lines of what 0.5× over HTTP leaves a hold at 1 client
    (`bench.holds.serial_budget`); none when no backend measured both ways at 1 client."""
    rows = [(h["backend"], h["serial"]) for h in holds_results if h.get("serial")]
    if not rows:
        return []
    lines = [
        "",
        "At 1 client a hold over HTTP takes at least a no-op request plus the floor's SQL, one "
        "after the other: it reaches about floor / (floor + no-op) of the no-op's rate at most, "
        "and 0.5× leaves it about 1/no-op − 1/floor for all its other work (the token, the "
        "body, the access log, the answer).",
        "",
        "| backend | no-op POST/s | raw SQL floor requests/s (refusals included) | at most | "
        "left for the rest of a hold |",
        "|---|---|---|---|---|",
    ]
    for backend, serial in rows:
        lines.append(
            f"| {backend} | {serial['noop']:.0f} | {serial['floor']:.0f} | "
            f"{serial['ceiling']:.2f}× | {serial['budget_ms']:.3f} ms |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_all")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--nights", type=int, default=400)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0, help="per holds measurement")
    parser.add_argument(
        "--http-workers",
        type=int,
        default=2,
        help="gunicorn sync workers (standaard 2: één per kern)",
    )
    parser.add_argument("--clients-pg", default="1,4,16")
    parser.add_argument("--clients-sqlite", default="1,4")
    parser.add_argument("--no-10x", action="store_true", help="skip the 10x dataset")
    parser.add_argument("--no-matching", action="store_true", help="skip the matching bench")
    parser.add_argument("--matching-requests", type=int, default=300)
    parser.add_argument("--matching-warmup", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = [run_backend(b.strip(), args) for b in args.backends.split(",") if b.strip()]
    table = markdown(results, args, time.perf_counter() - started)
    _say("\n" + table)
    overbooked = sum(r["holds"]["overbooked"] for r in results)
    return 0 if overbooked == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
