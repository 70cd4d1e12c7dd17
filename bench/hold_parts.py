"""Where a plain hold's CPU goes inside the app: in-process, one part taken away at a time.

    python -m bench.hold_parts --database-url URL [--requests 2000] [--rounds 4]

Four kinds of request, each through the app's WSGI callable in this process (not gunicorn,
whose own work per request is the same for all of them), interleaved round by round:

- `noop`: `POST /api/v1/_bench/noop`, the floor of bench/holds.py's HTTP way;
- `hold`: `POST /api/v1/reservations`, a 7-night plain hold with a meldpunt token, as there;
- `hold_known_caller`: the same, with the token's caller known beforehand
  (`respijt.serving.callers._resolve` replaced): no token read;
- `hold_no_sql`: also `respijt.reservations.holds.hold_bed` replaced by the answer of an
  earlier hold: no hold's SQL; what is left is the route, the body, the access log and the
  answer.

The differences are the parts of a hold: reading the token, the hold with its SQL, and the
rest. Replacing code is for this measurement only. CPU is this process's (user + system) per
request, the median over the rounds; the database server's CPU (PostgreSQL) is not in it.
The two kinds that hold for real are each refused for a few stays in a hundred (a cheaper
answer), not always equally many: the split is approximate.

It writes what it measures into the dataset at URL (~16,000 holds and a token at the
defaults): run it on a copy (`bench.common.copy_database`) or a dataset made for it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

from bench.holds import Bench
from respijt.extensions import db
from respijt.models import Reservation
from respijt.reservations import holds
from respijt.serving import callers

KINDS = ("noop", "hold", "hold_known_caller", "hold_no_sql")
LABELS = {
    "noop": "no-op POST",
    "hold": "hold",
    "hold_known_caller": "hold zonder token lezen",
    "hold_no_sql": "hold zonder token lezen en zonder SQL",
}


def run(
    database_url: str,
    *,
    requests: int = 2000,
    rounds: int = 4,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    bench = Bench(
        database_url, seconds=0, http_workers=1, app_config={"RESPIJT_BENCH_ROUTES": True}
    )
    app = bench.app
    picker = bench.picker()
    headers = [("Authorization", f"Bearer {bench.secret}"), ("Content-Type", "application/json")]
    statuses: dict[str, Counter[int]] = {kind: Counter() for kind in KINDS}
    # What each kind really did: the token reads and the reservations it wrote.
    token_reads: Counter[str] = Counter()
    written: Counter[str] = Counter()
    cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
    answers: list[Any] = []
    real_place = holds.hold_bed
    real_resolve = callers._resolve

    def keep_answer(*args: Any, **kwargs: Any) -> Any:
        answer = real_place(*args, **kwargs)
        if not answers:
            answers.append(answer)
        return answer

    def environ(path: str) -> dict[str, Any]:
        unit_id, arrival, departure = picker.next()
        body = {
            "unit_id": unit_id,
            "arrival": arrival.isoformat(),
            "departure": departure.isoformat(),
        }
        return EnvironBuilder(
            path=path, method="POST", data=json.dumps(body), headers=headers
        ).get_environ()

    def reservations() -> int:
        with app.app_context():
            count = db.session.scalar(select(func.count()).select_from(Reservation)) or 0
            db.session.remove()
        return count

    @contextmanager
    def replaced(kind: str) -> Iterator[None]:
        def counted_resolve(secret: str) -> Any:
            token_reads[kind] += 1
            return real_resolve(secret)

        with ExitStack() as stack:
            if kind in ("hold_known_caller", "hold_no_sql"):
                stack.enter_context(
                    mock.patch.object(callers, "_resolve", lambda _secret: bench.caller)
                )
            else:
                stack.enter_context(mock.patch.object(callers, "_resolve", counted_resolve))
            if kind == "hold_no_sql":
                stack.enter_context(
                    mock.patch.object(holds, "hold_bed", lambda *_a, **_k: answers[0])
                )
            elif kind != "noop":
                stack.enter_context(mock.patch.object(holds, "hold_bed", keep_answer))
            yield

    def measure(kind: str, count: int) -> float:
        path = "/api/v1/_bench/noop" if kind == "noop" else "/api/v1/reservations"
        environs = [environ(path) for _ in range(count)]
        status: list[str] = []

        def start_response(line: str, _headers: Any, _exc: Any = None) -> Any:
            status.append(line)
            return None

        before = reservations()
        with replaced(kind):
            started = time.process_time()
            for env in environs:
                body = app(env, start_response)  # type: ignore[arg-type]
                b"".join(body)
                body.close()  # type: ignore[attr-defined]
            used = time.process_time() - started
        statuses[kind].update(int(line.split()[0]) for line in status)
        written[kind] += reservations() - before
        return used / count * 1000

    try:
        # Warm-up, not reported; the first hold's answer is kept for `hold_no_sql`.
        for kind in KINDS:
            if kind == "hold_no_sql" and not answers:
                raise SystemExit("Geen enkele hold gelukt in de warming-up: is de dataset vol?")
            measure(kind, max(50, requests // 10))
        for kind in KINDS:
            statuses[kind].clear()
        token_reads.clear()
        written.clear()
        for number in range(rounds):
            for kind in KINDS:
                cpu[kind].append(measure(kind, requests))
            progress(
                f"  ronde {number + 1}/{rounds}: "
                + ", ".join(f"{kind} {cpu[kind][-1]:.3f}" for kind in KINDS)
            )
    finally:
        bench.close()
    median = {kind: statistics.median(values) for kind, values in cpu.items()}
    return {
        "backend": bench.dialect,
        "requests": requests,
        "rounds": rounds,
        "cpu_ms": median,
        "statuses": {kind: dict(counts) for kind, counts in statuses.items()},
        "token_reads": {kind: token_reads[kind] for kind in KINDS},
        "written": {kind: written[kind] for kind in KINDS},
        "parts": {
            "token": median["hold"] - median["hold_known_caller"],
            "hold_sql": median["hold_known_caller"] - median["hold_no_sql"],
            "rest": median["hold_no_sql"] - median["noop"],
        },
    }


def describe(result: dict[str, Any]) -> str:
    lines = [
        f"{result['backend']}: CPU ms per verzoek in dit proces (mediaan van {result['rounds']} "
        f"rondes van {result['requests']} verzoeken)"
    ]
    for kind in KINDS:
        answered = ", ".join(
            f"{n} × {code}" for code, n in sorted(result["statuses"][kind].items())
        )
        lines.append(
            f"  {LABELS[kind]:<38} {result['cpu_ms'][kind]:.3f}  ({answered}; "
            f"token {result['token_reads'][kind]}× gelezen, "
            f"{result['written'][kind]} reserveringen geschreven)"
        )
    parts = result["parts"]
    lines.append(
        f"  een hold boven de no-op: token lezen {parts['token']:.3f} + hold met SQL "
        f"{parts['hold_sql']:.3f} + route, body en antwoord {parts['rest']:.3f}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hold_parts")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=2000, help="verzoeken per soort per ronde")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.database_url, requests=args.requests, rounds=args.rounds)
    print(json.dumps(result, indent=2) if args.json else describe(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
