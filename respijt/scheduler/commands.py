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
from respijt.extensions import db


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


@click.group("scheduler", invoke_without_command=True)
@click.pass_context
@with_appcontext
def scheduler_group(ctx: click.Context) -> None:
    """Run the one scheduler process (stand-by while another holds the lease)."""
    if ctx.invoked_subcommand is not None:
        return
    from respijt.cli import refuse_without_secret_key
    from respijt.scheduler.runner import SchedulerService

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # A separate process is production: links it signs must verify in the web workers.
    refuse_without_secret_key(app, "respijt scheduler")
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
@with_appcontext
def restore_command(path: str, yes: bool) -> None:
    """Replace the SQLite database with the backup at PATH (stop serve and scheduler first)."""
    target_path = _sqlite_path()
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
        target = sqlite3.connect(target_path)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
    click.echo(
        f"Teruggezet uit {path} (schemaversie {version[0]}). Draai 'respijt db upgrade' als "
        "deze back-up van een oudere versie is."
    )


COMMANDS = (scheduler_group, backup_command, restore_command)
