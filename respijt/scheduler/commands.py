"""CLI: `respijt scheduler [status]`, `respijt backup PATH`, `respijt restore PATH`."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import sys
from types import FrameType

import click
from flask import current_app
from flask.cli import with_appcontext

from respijt import clock
from respijt.config import missing_secret_key
from respijt.extensions import db


def configure_logging() -> None:
    from respijt.serving.logs import configure_logging as configure

    configure(current_app.config["RESPIJT_LOG_FORMAT"])


@click.group("scheduler", invoke_without_command=True)
@click.pass_context
@with_appcontext
def scheduler_group(ctx: click.Context) -> None:
    """Run the one scheduler process (stand-by while another holds the lease)."""
    if ctx.invoked_subcommand is not None:
        return
    from respijt.scheduler.runner import SchedulerService

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # A separate process is production: links it signs must verify in the web workers.
    problem = missing_secret_key(app.config, "respijt scheduler")
    if problem is not None:
        click.echo(problem, err=True)
        sys.exit(2)
    configure_logging()
    service = SchedulerService(app)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        logging.getLogger("respijt.scheduler").info(
            "scheduler: signaal %s; lopende taak afmaken en stoppen", signum
        )
        service.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    seconds = service.lease.duration.total_seconds()
    click.echo(
        f"respijt scheduler {service.lease.owner}: lease {seconds:g} s, "
        f"hartslag elke {service.heartbeat_seconds:.1f} s"
    )
    service.run()
    click.echo("respijt scheduler gestopt.")


@scheduler_group.command("status")
@with_appcontext
def scheduler_status() -> None:
    """Print each job's last run and who holds the lease."""
    from respijt.scheduler.status import status_lines

    for line in status_lines(db.session, clock.now()):
        click.echo(line)
    db.session.rollback()


def _sqlite_path() -> str:
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        click.echo(
            "respijt backup/restore is alleen voor de SQLite-standaard. Gebruik voor "
            'PostgreSQL pg_dump (bijvoorbeeld: pg_dump -Fc -f respijt.dump "$DATABASE_URL") '
            "en pg_restore om terug te zetten.",
            err=True,
        )
        sys.exit(2)
    if not url.database or url.database == ":memory:":
        click.echo("Deze SQLite-database staat niet in een bestand.", err=True)
        sys.exit(2)
    return url.database


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup_command(path: str) -> None:
    """Write a consistent copy of the SQLite database to PATH, while the service runs."""
    source_path = _sqlite_path()
    if os.path.exists(path):
        click.echo(f"{path} bestaat al; kies een nieuwe bestandsnaam.", err=True)
        sys.exit(1)
    source = sqlite3.connect(source_path)
    # Readable by the owner only: a backup holds every client's data and the access log.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    target = sqlite3.connect(path)
    try:
        # The online backup API copies a consistent snapshot, also with WAL and other writers.
        source.backup(target)
        ok = target.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        target.close()
        source.close()
    if ok != "ok":
        click.echo(f"De kopie is niet in orde: {ok}", err=True)
        sys.exit(1)
    click.echo(f"Back-up geschreven naar {path} ({os.path.getsize(path) // 1024} KB).")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Niet om bevestiging vragen.")
@click.option(
    "--force",
    is_flag=True,
    help="Ook terugzetten als een ander proces de database open heeft (schrijfwerk gaat verloren).",
)
@with_appcontext
def restore_command(path: str, yes: bool, force: bool) -> None:
    """Replace the SQLite database with the backup at PATH. Refused while another process
    (serve, the scheduler) holds the scheduler lease or has the database open, unless --force."""
    target_path = _sqlite_path()
    if not force:
        _refuse_while_scheduler_runs()
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            ok = source.execute("PRAGMA integrity_check").fetchone()[0]
            version = source.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError as exc:
            click.echo(f"{path} is geen respijt-back-up: {exc}", err=True)
            sys.exit(1)
        if ok != "ok" or version is None:
            click.echo(f"{path} is geen bruikbare respijt-back-up ({ok}).", err=True)
            sys.exit(1)
        if not yes:
            click.confirm(
                f"Dit vervangt alle gegevens in {target_path} door {path}. Doorgaan?", abort=True
            )
        db.engine.dispose()
        target = sqlite3.connect(target_path, timeout=0, isolation_level=None)
        try:
            if not force:
                _lock_out_other_processes(target)
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
    click.echo(
        f"Teruggezet uit {path} (schemaversie {version[0]}). Draai 'respijt db upgrade' als "
        "deze back-up van een oudere versie is."
    )


IN_USE = (
    "De database is in gebruik door een ander proces (respijt serve, de scheduler of een "
    "back-up). Stop die eerst; met --force gaat het toch, maar wat zij intussen schrijven gaat "
    "verloren."
)


def _refuse_while_scheduler_runs() -> None:
    from respijt.scheduler.lease import read_lease

    try:
        state = read_lease(db.session)
    finally:
        db.session.rollback()
    if state is not None and state.active(clock.now()):
        click.echo(
            f"De scheduler draait (lease van {state.host}, pid {state.pid}). " + IN_USE, err=True
        )
        sys.exit(1)


def _lock_out_other_processes(target: sqlite3.Connection) -> None:
    """Take the database for this connection alone, or stop. In WAL mode every open connection
    keeps a shared lock, so an exclusive lock is refused while any other process has the file
    open, even an idle one; kept until the restore has closed the connection."""
    try:
        target.execute("PRAGMA locking_mode=EXCLUSIVE")
        target.execute("BEGIN EXCLUSIVE")
        target.execute("SELECT count(*) FROM sqlite_master").fetchone()
        target.execute("COMMIT")
    except sqlite3.OperationalError:
        click.echo(IN_USE, err=True)
        sys.exit(1)


COMMANDS = (scheduler_group, backup_command, restore_command)
