"""Shared pieces of the benchmarks: databases, the gunicorn server, raw connections, statistics."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

PG_ADMIN_DSN = os.environ.get(
    "RESPIJT_BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sqlalchemy_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def dialect_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def fresh_database(backend: str, name: str, workdir: str) -> str:
    """An empty database: a new SQLite file, or a PostgreSQL database (re)created via `postgres`."""
    if backend == "sqlite":
        os.makedirs(workdir, exist_ok=True)
        path = os.path.join(workdir, f"{name}.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        return f"sqlite:///{path}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return _pg_url(name)


def _pg_url(name: str) -> str:
    dsn = dict(part.split("=", 1) for part in PG_ADMIN_DSN.split())
    return (
        f"postgresql+psycopg://{dsn.get('user', 'postgres')}@{dsn.get('host', '127.0.0.1')}:"
        f"{dsn.get('port', '5432')}/{name}"
    )


def sqlite_path(url: str) -> str:
    """The file of a sqlite:/// URL."""
    return url.split("sqlite:///", 1)[1]


def database_name(url: str) -> str:
    """The database a PostgreSQL URL names (query string and all)."""
    return str(make_url(url).database)


def copy_database(url: str, name: str, workdir: str) -> str:
    """A copy of the database at `url`, as `name`, which must not exist yet: a file in
    `workdir` for SQLite (the backup API, so what is still in its WAL is copied too); on
    PostgreSQL a database copied from it as a template through `PG_ADMIN_DSN`, which must reach
    the same server (as for every benchmark database), after ending every other session on it
    (a template may have none)."""
    if dialect_of(url) == "sqlite":
        path = os.path.join(workdir, f"{name}.db")
        if os.path.exists(path):
            raise SystemExit(f"{path} bestaat al: is er nog een benchmark bezig?")
        target = fresh_database("sqlite", name, workdir)
        try:
            with (
                closing(sqlite3.connect(sqlite_path(url))) as source,
                closing(sqlite3.connect(sqlite_path(target))) as copy,
            ):
                source.backup(copy)
        except BaseException:
            drop_database(target)  # no half copy left behind
            raise
        return target
    template = database_name(url)
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            raise SystemExit(f"Database {name} bestaat al: is er nog een benchmark bezig?")
        ended = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (template,),
        ).fetchone()
        if ended and ended[0]:
            print(f"  {ended[0]} verbinding(en) met {template} beëindigd voor de kopie", flush=True)
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return _pg_url(name)


def drop_database(url: str) -> None:
    """Remove a benchmark database: the SQLite file with its WAL, or the PostgreSQL database."""
    if dialect_of(url) == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(sqlite_path(url) + suffix):
                os.remove(sqlite_path(url) + suffix)
        return
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')


def raw_connect(url: str) -> Any:
    """A plain DB-API connection to the same database (autocommit; we BEGIN ourselves)."""
    if dialect_of(url) == "sqlite":
        conn = sqlite3.connect(sqlite_path(url), isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(conninfo, autocommit=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of one live process (its own, not its children's), from /proc; None if
    it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def cpu_snapshot(pids: Iterable[int]) -> dict[int, float]:
    """CPU seconds used so far by each of these processes that is alive."""
    snapshot = {}
    for pid in pids:
        seconds = process_cpu_seconds(pid)
        if seconds is not None:
            snapshot[pid] = seconds
    return snapshot


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two snapshots by the processes alive at the second (one that
    started in between counts from zero; one that ended in between is not counted)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def postgres_cpu_snapshot() -> dict[int, float] | None:
    """`cpu_snapshot` of the PostgreSQL server processes on this machine (backends, WAL writer,
    checkpointer …), or None when none is visible (a server elsewhere)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as fh:
                if fh.read().strip() == "postgres":
                    pids.append(int(entry))
        except OSError:
            continue
    return cpu_snapshot(pids) if pids else None


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    def worker_pids(self) -> list[int]:
        path = f"/proc/{self.process.pid}/task/{self.process.pid}/children"
        try:
            with open(path) as fh:
                return [int(pid) for pid in fh.read().split()]
        except OSError:
            return []

    def cpu_snapshot(self) -> dict[int, float]:
        """CPU seconds (user + system) each worker has used so far."""
        return cpu_snapshot(self.worker_pids())

    def peak_rss_mb(self) -> float:
        """The largest VmHWM (peak resident set) over the workers, in MB."""
        peak = 0
        for pid in self.worker_pids():
            try:
                with open(f"/proc/{pid}/status") as fh:
                    for line in fh:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]))
            except OSError:
                continue
        return peak / 1024


@contextmanager
def gunicorn(
    database_url: str,
    *,
    workers: int = 2,
    threads: int = 1,
    extra_env: dict[str, str] | None = None,
    log_path: str | None = None,
) -> Iterator[Server]:
    """The production server (gunicorn) on a free loopback port against `database_url`."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "RESPIJT_RATELIMIT": "off",
            "RESPIJT_BENCH_ROUTES": "on",
            "RESPIJT_SECRET_KEY": "bench-secret-key",
        }
    )
    env.update(extra_env or {})
    cmd = [
        os.path.join(os.path.dirname(sys.executable), "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--backlog",
        "2048",
    ]
    if threads > 1:
        cmd += ["--worker-class", "gthread", "--threads", str(threads)]
    cmd.append("respijt:create_app()")
    log = open(log_path or os.devnull, "ab")
    process = subprocess.Popen(cmd, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=log)
    server = Server(process, port)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped at start-up (see {log_path})")
            try:
                status, _ = request(port, "GET", "/health")
                if status == 200 and len(server.worker_pids()) >= workers:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /health within 30 s")
            time.sleep(0.1)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes]:
    """One HTTP request; a new connection unless one is given (sync workers close it anyway)."""
    own = conn is None
    connection = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, data
    finally:
        if own:
            connection.close()


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def add_percentiles(result: dict[str, Any], timings: dict[str, list[float]]) -> None:
    """`<name>_p50` and `<name>_p95` of every timed series into `result`."""
    for name, values in timings.items():
        result[f"{name}_p50"] = percentile(values, 50)
        result[f"{name}_p95"] = percentile(values, 95)


def search_bench_main(
    prog: str,
    argv: list[str] | None,
    run: Any,
    describe: Any,
    *,
    requests: int,
    warmup: int,
) -> int:
    """The command line shared by the benchmarks of one search (availability, matching):
    region, target group and gunicorn workers, a number of timed requests after a warm-up."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=requests)
    parser.add_argument("--warmup", type=int, default=warmup)
    parser.add_argument("--region", default="R001")
    parser.add_argument("--target-group", default="dementie")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = run(
        args.database_url,
        requests=args.requests,
        warmup=args.warmup,
        region=args.region,
        target_group=args.target_group,
        workers=args.workers,
        log_path=os.environ.get("RESPIJT_BENCH_LOG"),
        progress=lambda msg: print(msg, flush=True),
    )
    print(json.dumps(result, indent=2) if args.json else describe(result))
    return 0
