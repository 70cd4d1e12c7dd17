"""The `respijt` command (also `flask --app respijt …`). Commands are transaction edges."""

from __future__ import annotations

import signal
import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from respijt import clock, formatting
from respijt.beds import importer
from respijt.care_requests.workflow import OPEN_REQUEST_STATUSES
from respijt.cli import demo
from respijt.cli.fake_twilio import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM,
    FAILURE_KINDS,
    FakeTwilio,
)
from respijt.config import ConfigError, is_loopback, missing_secret_key
from respijt.database import run_in_transaction
from respijt.extensions import db
from respijt.privacy import access_log
from respijt.reservations.check import find_inventory_mismatches
from respijt.reservations.expiry import expire_overdue_holds
from respijt.scheduler import jobs


def _create_app() -> Flask:
    from respijt import create_app

    try:
        return create_app()
    except ConfigError as exc:
        # One paragraph for the operator, no traceback.
        fail(str(exc), 2)
        raise  # not reached


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """respijt: logeerbedden, meldpunt en reserveringen."""


def fail(message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    sys.exit(code)


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demo regions (H5, Leidse regio, Noord-Veluwe) with providers and capacity."""
    if demo.demo_present(db.session):
        click.echo("Er staan al regio's in de database; demo niet opnieuw geladen.")
        return
    counts = demo.load_demo(
        db.session,
        now=clock.now(),
        today=clock.today(),
        horizon_days=current_app.config["RESPIJT_HORIZON_DAYS"],
        progress=lambda msg: click.echo(f"  … {msg}"),
    )
    counts["shifts"] = demo.load_demo_rota(
        db.session,
        now=clock.now(),
        horizon_days=current_app.config["RESPIJT_ROTA_HORIZON_DAYS"],
        pattern=current_app.config["RESPIJT_ROTA_PATTERN"],
        holidays=current_app.config["RESPIJT_ROTA_HOLIDAYS"],
    )
    db.session.commit()
    labels = {
        "regions": "regio's",
        "municipalities": "gemeenten",
        "providers": "aanbieders",
        "locations": "locaties",
        "units": "eenheden",
        "shifts": "meldpuntdiensten",
    }
    click.echo("Demo geladen: " + ", ".join(f"{counts[k]} {label}" for k, label in labels.items()))


def refuse_without_secret_key(app: Flask, why: str) -> None:
    """Production processes share RESPIJT_SECRET_KEY; without it they stop at start."""
    problem = missing_secret_key(app.config, why)
    if problem is not None:
        fail(problem, 2)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option(
    "--scheduler/--no-scheduler",
    default=True,
    show_default=True,
    help="Ook de scheduler draaien (stand-by als een ander proces de lease heeft).",
)
@with_appcontext
def serve_command(host: str, port: int, threads: int, scheduler: bool) -> None:
    """Run the service with a threaded production WSGI server (waitress)."""
    import waitress

    from respijt.scheduler.commands import configure_logging
    from respijt.scheduler.runner import start_in_background

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not is_loopback(host):
        # Reachable from elsewhere is production: no instance key file, one shared key.
        refuse_without_secret_key(app, f"respijt serve op {host}")
    configure_logging()
    # The embedded default also runs the jobs (hold expiry, messages) when it gets the lease.
    background = start_in_background(app) if scheduler else None
    click.echo(f"respijt luistert op http://{host}:{port} (API: /api/v1/openapi.json)")

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="respijt")
    except KeyboardInterrupt:
        pass
    finally:
        if background is not None:
            service, thread = background
            service.stop()
            thread.join(timeout=app.config["RESPIJT_SCHEDULER_LEASE_SECONDS"] + 60)


@click.group("privacy")
def privacy_group() -> None:
    """Access log and retention."""


@privacy_group.command("purge")
@click.option("--dry-run", is_flag=True, help="Alleen tellen; niets verwijderen of wijzigen.")
@with_appcontext
def privacy_purge(dry_run: bool) -> None:
    """Remove old access-log rows and anonymise records past their retention period."""
    config = current_app.config
    report = access_log.purge(
        db.session,
        clock.now(),
        dry_run=dry_run,
        open_request_statuses=OPEN_REQUEST_STATUSES,
        access_log_years=config["RESPIJT_ACCESS_LOG_YEARS"],
        retention_days=config["RESPIJT_RETENTION_DAYS"],
        complaint_retention_days=config["RESPIJT_COMPLAINT_RETENTION_DAYS"],
    )
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    verb = "zou" if dry_run else "heeft"
    click.echo(
        f"Logboek: {formatting.counted(report.access_log_rows, 'regel', 'regels')} van voor "
        f"{report.access_log_cutoff:%Y-%m-%d} {verb} verwijderd" + (" worden." if dry_run else ".")
    )
    for name, count in report.anonymised.items():
        click.echo(
            f"{name}: {count} geanonimiseerd"
            + (" (zou worden)" if dry_run else "")
            + f", einde voor {report.retention_cutoff:%Y-%m-%d}."
        )
    click.echo(
        f"Klachten en reacties: {report.complaint_rows} van voor "
        f"{report.complaint_cutoff:%Y-%m-%d} "
        + ("zouden worden verwijderd." if dry_run else "verwijderd.")
    )
    if dry_run:
        click.echo("Niets gewijzigd (--dry-run).")


@click.command("check")
@with_appcontext
def check_command() -> None:
    """Verify invariant 2 (reserved = active reservations) for every night; non-zero on errors."""
    mismatches = find_inventory_mismatches(db.session)
    db.session.rollback()
    if not mismatches:
        click.echo("OK: voor elke nacht klopt 'reserved' met de actieve reserveringen.")
        return
    for m in mismatches:
        have = "geen voorraadregel" if m.reserved is None else f"reserved={m.reserved}"
        click.echo(f"unit {m.unit_id} nacht {m.night.isoformat()}: {have}, verwacht {m.expected}")
    wrong = len(mismatches)
    fail(f"FOUT: {formatting.nights(wrong)} {'klopt' if wrong == 1 else 'kloppen'} niet.")


@click.command("expire-holds")
@with_appcontext
def expire_holds_command() -> None:
    """Release every hold and provider wait past its expiry (the scheduler runs this)."""
    count = run_in_transaction(db.session, lambda: expire_overdue_holds(db.session, clock.now()))
    released = formatting.counted(count, "verlopen reservering", "verlopen reserveringen")
    click.echo(f"{released} vrijgegeven.")


@click.command("extend-horizon")
@with_appcontext
def extend_horizon_command() -> None:
    """Create night inventory up to the horizon from each unit's default capacity."""
    config = current_app.config
    count = run_in_transaction(
        db.session, lambda: jobs.extend_horizon(db.session, clock.now(), config)
    )
    click.echo(f"{formatting.nights(count)} toegevoegd.")


@click.command("import")
@click.argument("kind", type=click.Choice(importer.KINDS))
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Alleen controleren; niets opslaan.")
@with_appcontext
def import_command(kind: str, path: str, dry_run: bool) -> None:
    """Import a CSV (regions, municipalities, providers, locations, units). All rows or none."""
    with open(path, encoding="utf-8-sig") as fh:
        text = fh.read()
    result = importer.import_csv(
        db.session,
        kind,
        text,
        now=clock.now(),
        today=clock.today(),
        horizon_days=current_app.config["RESPIJT_HORIZON_DAYS"],
        max_capacity=current_app.config["RESPIJT_MAX_CAPACITY"],
    )
    for error in result.errors:
        click.echo(str(error), err=True)
    if not result.ok:
        db.session.rollback()
        errors = formatting.counted(len(result.errors), "fout", "fouten")
        rows = formatting.counted(result.rows, "regel", "regels")
        fail(f"{errors} in {rows}; niets opgeslagen.")
        return
    if dry_run:
        db.session.rollback()
        click.echo(
            f"Controle geslaagd: {formatting.counted(result.rows, 'regel', 'regels')}, "
            f"{result.created} nieuw, "
            f"{result.updated} bijgewerkt. Niets opgeslagen (--dry-run)."
        )
        return
    db.session.commit()
    click.echo(f"Geïmporteerd: {result.created} nieuw, {result.updated} bijgewerkt.")


@click.group("waitlist")
def waitlist_group() -> None:
    """Wachtlijst van aanvragen."""


@waitlist_group.command("offer")
@with_appcontext
def waitlist_offer_command() -> None:
    """Offer freed beds to waiting requests (urgent first, then oldest) now.

    The scheduler runs the same pass every RESPIJT_SCHEDULER_WAITLIST_SECONDS (offer_waitlist).
    """
    from respijt.care_requests import waitlist

    config = current_app.config
    offers = run_in_transaction(
        db.session,
        lambda: (
            waitlist.run_waitlist(
                db.session,
                clock.now(),
                offer_hours=config["RESPIJT_OFFER_HOURS"],
                stale_after_hours=config["RESPIJT_STALE_AFTER_HOURS"],
                provider_confirm_hours=config["RESPIJT_PROVIDER_CONFIRM_HOURS"],
            ).offers
        ),
    )
    for offer in offers:
        click.echo(
            f"Aanbod voor {offer.reference}: eenheid {offer.unit_id}, "
            f"{offer.arrival.isoformat()} tot {offer.departure.isoformat()} "
            f"(reservering {offer.reservation_id})."
        )
    click.echo(f"Aanbiedingen gedaan: {len(offers)}.")


@waitlist_group.command("expire")
@with_appcontext
def waitlist_expire_command() -> None:
    """Expire open requests whose desired dates have passed unplaced.

    The scheduler does this too, in every run of offer_waitlist.
    """
    from respijt.care_requests import lifecycle

    count = run_in_transaction(
        db.session,
        lambda: lifecycle.expire_past_requests(db.session, now=clock.now(), today=clock.today()),
    )
    click.echo(f"Aanvragen verlopen: {count}.")


@click.command("fake-twilio")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--app-url", help="Waar de app luistert (standaard RESPIJT_PUBLIC_URL).")
@click.option(
    "--fail",
    "failures",
    multiple=True,
    metavar="SOORT=KANS",
    help=f"Fout injecteren, bv. --fail 500=0.1 --fail timeout=0.05 ({', '.join(FAILURE_KINDS)}).",
)
@click.option("--timeout-delay", default=15.0, show_default=True, type=float)
@click.option("--seed", type=int)
@click.option("--no-status", is_flag=True, help="Geen automatische 'sent'/'delivered'-callbacks.")
@with_appcontext
def fake_twilio_command(
    host: str,
    port: int,
    app_url: str | None,
    failures: tuple[str, ...],
    timeout_delay: float,
    seed: int | None,
    no_status: bool,
) -> None:
    """Run a fake Twilio on 127.0.0.1 for local demos (Ctrl-C stops)."""
    config = current_app.config
    probabilities: dict[str, float] = {}
    for item in failures:
        kind, _, chance = item.partition("=")
        try:
            probabilities[kind] = float(chance)
        except ValueError as exc:
            raise click.BadParameter(f"{item!r}: verwacht SOORT=KANS, bv. 500=0.1") from exc
    fake = FakeTwilio(
        host=host,
        port=port,
        account_sid=config["RESPIJT_TWILIO_ACCOUNT_SID"] or DEFAULT_ACCOUNT_SID,
        auth_token=config["RESPIJT_TWILIO_AUTH_TOKEN"] or DEFAULT_AUTH_TOKEN,
        number=config["RESPIJT_TWILIO_FROM"] or DEFAULT_FROM,
        app_url=app_url or config["RESPIJT_PUBLIC_URL"],
        timeout_delay=timeout_delay,
        auto_statuses=() if no_status else ("sent", "delivered"),
        seed=seed,
        on_message=lambda m: click.echo(f"sms {m.sid} aan {m.to}: {m.body}"),
    )
    try:
        fake.set_failures(probabilities)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    click.echo(f"Nep-Twilio luistert op http://{host}:{port}. Start de app met:")
    click.echo(f"  RESPIJT_SMS_BACKEND=twilio RESPIJT_TWILIO_BASE_URL=http://{host}:{port}")
    click.echo(f"  RESPIJT_TWILIO_ACCOUNT_SID={fake.account_sid}")
    click.echo(f"  RESPIJT_TWILIO_AUTH_TOKEN={fake.auth_token} RESPIJT_TWILIO_FROM={fake.number}")
    click.echo(
        f'Sms ontvangen namens een telefoon: curl -d \'{{"from": "+31612345678", '
        f'"body": "JA K7MP3Q"}}\' http://{host}:{port}/_fake/inbound'
    )
    fake.serve_forever()


if __name__ == "__main__":
    main()
