"""The `respijt` command (also `flask --app respijt …`). Commands are transaction edges."""

from __future__ import annotations

import signal
import sys
from datetime import timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from respijt import clock
from respijt.beds import importer, registry
from respijt.cli import demo
from respijt.config import MISSING_KEY, ConfigError, is_loopback
from respijt.database import run_in_transaction
from respijt.errors import DomainError
from respijt.extensions import db
from respijt.models import User
from respijt.people import accounts
from respijt.people.caller import ROLES
from respijt.people.tokens import create_token, list_tokens, revoke_token
from respijt.privacy import access_log as privacy
from respijt.reservations.check import find_inventory_mismatches
from respijt.reservations.expiry import expire_overdue_holds


def _create_app() -> Flask:
    from respijt import create_app

    try:
        return create_app()
    except ConfigError as exc:
        # One paragraph for the operator, no traceback.
        _fail(str(exc), 2)
        raise  # not reached


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """respijt: logeerbedden, meldpunt en reserveringen."""


def _fail(message: str, code: int = 1) -> None:
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
    if not app.config.get("RESPIJT_SECRET_KEY_CONFIGURED"):
        _fail(MISSING_KEY.format(why=why), 2)


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


@click.group("token")
def token_group() -> None:
    """API tokens."""


@token_group.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--provider", "provider_id", type=int, help="Aanbieder-id (provider, meldpunt).")
@click.option("--name", default="", help="Waarvoor dit token is.")
@click.option("--expires-days", type=int, help="Verloopt na zoveel dagen.")
@click.option("--user", "user_ref", help="Gebruiker (id of e-mail) voor wie het token werkt.")
@click.option(
    "--region",
    "region_codes",
    multiple=True,
    help="Regiocode (coördinator, verplicht zonder --user), herhaalbaar.",
)
@with_appcontext
def token_create(
    role: str,
    provider_id: int | None,
    name: str,
    expires_days: int | None,
    user_ref: str | None,
    region_codes: tuple[str, ...],
) -> None:
    """Create a token. The secret is printed once, alone on the last line. A coordinator token
    works only for its regions (--region, or the regions of its --user); an admin token is
    national."""
    now = clock.now()
    user_id = None
    if user_ref is not None:
        user = accounts.find_user(db.session, user_ref)
        if user is None:
            _fail(f"Gebruiker '{user_ref}' bestaat niet.", 2)
            return
        user_id = user.id
    try:
        token, secret = create_token(
            db.session,
            role=role,
            name=name or f"{role} token",
            now=now,
            provider_id=provider_id,
            expires_at=now + timedelta(days=expires_days) if expires_days else None,
            user_id=user_id,
            region_codes=list(region_codes),
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _fail(exc.detail, 2)
        return
    click.echo(
        f"Token {token.id} ({role}) aangemaakt. Bewaar het nu; het wordt niet opnieuw getoond:"
    )
    click.echo(secret)


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"  # type: ignore[attr-defined]


@token_group.command("list")
@with_appcontext
def token_list() -> None:
    """List tokens: id, role, provider, user, last use, expiry, status (never the secret)."""
    now = clock.now()
    for t in list_tokens(db.session):
        status = (
            "ingetrokken"
            if t.revoked_at
            else "verlopen"
            if t.expires_at and t.expires_at <= now
            else "actief"
        )
        click.echo(
            f"{t.id}\t{t.role}\taanbieder={t.provider_id or '-'}\tgebruiker={t.user_id or '-'}\t"
            f"regio's={','.join(r.region.code for r in t.region_rows) or '-'}\t"
            f"laatst gebruikt={_when(t.last_used_at)}\tverloopt={_when(t.expires_at)}\t"
            f"{status}\t{t.name}"
        )
    db.session.rollback()


@token_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def token_revoke(token_id: int) -> None:
    """Revoke a token at once."""
    if not revoke_token(db.session, token_id, clock.now()):
        db.session.rollback()
        _fail(f"Token {token_id} bestaat niet of is al ingetrokken.", 2)
        return
    db.session.commit()
    click.echo(f"Token {token_id} ingetrokken.")


@click.group("user")
def user_group() -> None:
    """Accounts of people."""


@user_group.command("create")
@click.option("--email", required=True)
@click.option("--name", default="")
@click.option("--role", "roles", type=click.Choice(ROLES), multiple=True, required=True)
@click.option("--provider", "provider_id", type=int, help="Aanbieder-id (aanbieder, meldpunt).")
@click.option("--organisation", help="Organisatie (verwijzer).")
@click.option("--region", "regions", multiple=True, help="Regiocode (coördinator), herhaalbaar.")
@click.option(
    "--password-stdin", is_flag=True, help="Lees het wachtwoord van stdin in plaats van uitnodigen."
)
@with_appcontext
def user_create(
    email: str,
    name: str,
    roles: tuple[str, ...],
    provider_id: int | None,
    organisation: str | None,
    regions: tuple[str, ...],
    password_stdin: bool,
) -> None:
    """Create an account and e-mail an invitation link (or set the password from stdin)."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        user = accounts.create_user(
            db.session,
            email=email,
            name=name,
            roles=list(roles),
            now=clock.now(),
            provider_id=provider_id,
            organisation=organisation,
            region_codes=list(regions),
            password=password,
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _fail(exc.detail, 2)
        return
    click.echo(f"Gebruiker {user.id} ({user.email}) aangemaakt met rol(len): {', '.join(roles)}.")
    if password is None:
        from respijt.web.auth import send_link_mail

        # Signed with the key every process of this installation uses (create_app).

        send_link_mail(user, accounts.INVITATION, current_app.config)
        click.echo(f"Uitnodiging verstuurd naar {user.email}.")


def _user_or_fail(ref: str) -> User | None:
    user = accounts.find_user(db.session, ref)
    if user is None:
        _fail(f"Gebruiker '{ref}' bestaat niet.", 2)
    return user


@user_group.command("disable")
@click.argument("user_ref")
@with_appcontext
def user_disable(user_ref: str) -> None:
    """Disable an account: no login; its sessions and tokens stop working at once."""
    user = _user_or_fail(user_ref)
    if user is None:
        return
    accounts.disable_user(db.session, user, clock.now())
    db.session.commit()
    click.echo(f"Gebruiker {user.email} uitgeschakeld; sessies en tokens werken niet meer.")


@user_group.command("enable")
@click.argument("user_ref")
@with_appcontext
def user_enable(user_ref: str) -> None:
    """Enable a disabled account again; the tokens revoked on disabling stay revoked."""
    user = _user_or_fail(user_ref)
    if user is None:
        return
    accounts.enable_user(db.session, user)
    db.session.commit()
    click.echo(
        f"Gebruiker {user.email} weer ingeschakeld; oude tokens blijven ingetrokken, "
        "maak zo nodig een nieuw token."
    )


@user_group.command("list")
@with_appcontext
def user_list() -> None:
    """List accounts: id, e-mail, roles, provider, organisation, 2FA, status."""
    for u in accounts.list_users(db.session):
        click.echo(
            f"{u.id}\t{u.email}\t{','.join(u.roles)}\taanbieder={u.provider_id or '-'}\t"
            f"organisatie={u.organisation or '-'}\t2fa={'aan' if u.totp_confirmed_at else 'uit'}\t"
            f"{'actief' if u.active else 'uitgeschakeld'}"
        )
    db.session.rollback()


@click.group("privacy")
def privacy_group() -> None:
    """Access log and retention."""


@privacy_group.command("purge")
@click.option("--dry-run", is_flag=True, help="Alleen tellen; niets verwijderen of wijzigen.")
@with_appcontext
def privacy_purge(dry_run: bool) -> None:
    """Remove old access-log rows and anonymise records past their retention period."""
    config = current_app.config
    report = privacy.purge(
        db.session,
        clock.now(),
        dry_run=dry_run,
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
        f"Logboek: {report.access_log_rows} regel(s) van voor "
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
    _fail(f"FOUT: {len(mismatches)} nacht(en) kloppen niet.")


@click.command("expire-holds")
@with_appcontext
def expire_holds_command() -> None:
    """Release every hold and provider wait past its expiry (the scheduler runs this)."""
    count = run_in_transaction(db.session, lambda: expire_overdue_holds(db.session, clock.now()))
    click.echo(f"{count} verlopen reservering(en) vrijgegeven.")


@click.command("extend-horizon")
@with_appcontext
def extend_horizon_command() -> None:
    """Create night inventory up to the horizon from each unit's default capacity."""
    count = run_in_transaction(
        db.session,
        lambda: registry.extend_horizon(
            db.session, today=clock.today(), horizon_days=current_app.config["RESPIJT_HORIZON_DAYS"]
        ),
    )
    click.echo(f"{count} nacht(en) toegevoegd.")


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
        _fail(f"{len(result.errors)} fout(en) in {result.rows} regel(s); niets opgeslagen.")
        return
    if dry_run:
        db.session.rollback()
        click.echo(
            f"Controle geslaagd: {result.rows} regel(s), {result.created} nieuw, "
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
    """Offer freed beds to waiting requests (urgent first, then oldest); the scheduler runs it."""
    from respijt.care_requests import waitlist

    config = current_app.config
    offers = run_in_transaction(
        db.session,
        lambda: waitlist.make_offers(
            db.session,
            clock.now(),
            offer_hours=config["RESPIJT_OFFER_HOURS"],
            stale_after_hours=config["RESPIJT_STALE_AFTER_HOURS"],
            provider_confirm_hours=config["RESPIJT_PROVIDER_CONFIRM_HOURS"],
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
    """Expire open requests whose desired dates have passed unplaced."""
    from respijt.care_requests import lifecycle

    count = run_in_transaction(
        db.session,
        lambda: lifecycle.expire_past_requests(db.session, now=clock.now(), today=clock.today()),
    )
    click.echo(f"Aanvragen verlopen: {count}.")


# The revision that creates the access log: a downgrade below it drops every row (NEN 7513 asks
# for years of them), so `respijt db downgrade` goes there only when told explicitly.
ACCESS_LOG_REVISION = "20261122_accounts"


def downgrade_drops_access_log(revision: str, directory: str | None = None) -> bool:
    """Whether `db downgrade REVISION` would undo ACCESS_LOG_REVISION on this database. A
    target it cannot place (a branch expression, an unknown id) counts as yes."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = current_app.extensions["migrate"].migrate.get_config(directory)
    script = ScriptDirectory.from_config(config)
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    if not any(ACCESS_LOG_REVISION in _lineage(script, head) for head in current):
        return False  # no access log yet
    try:
        target = _downgrade_target(script, current, revision)
    except Exception:
        return True
    return target is None or ACCESS_LOG_REVISION not in _lineage(script, target)


def _lineage(script: Any, revision: str) -> set[str]:
    """`revision` and every revision below it."""
    return {r.revision for r in script.iterate_revisions(revision, "base")}


def _downgrade_target(script: Any, current: tuple[str, ...], revision: str) -> str | None:
    if revision == "base":
        return None
    steps = revision.removeprefix("-")
    if revision.startswith("-") and steps.isdigit():
        if len(current) != 1:
            raise ValueError("relative downgrade from several heads")
        found: str | None = current[0]
        for _ in range(int(steps)):
            down = script.get_revision(found).down_revision if found else None
            if isinstance(down, tuple):
                raise ValueError("relative downgrade across a merge")
            found = down
        return found
    return str(script.get_revision(revision).revision)


def _guarded_db_group() -> click.Group:
    """Flask-Migrate's `db` group, with a downgrade that keeps the access log unless told."""
    from flask_migrate.cli import db as migrate_db
    from flask_migrate.cli import downgrade as migrate_downgrade

    @click.command("downgrade", help=migrate_downgrade.help)
    @click.option(
        "--drop-access-log",
        is_flag=True,
        help="Ook onder de versie die het toegangslogboek maakt: alle logregels gaan verloren.",
    )
    @click.pass_context
    @with_appcontext
    def downgrade(ctx: click.Context, drop_access_log: bool, **kwargs: Any) -> None:
        drops = not kwargs["sql"] and downgrade_drops_access_log(
            kwargs["revision"], kwargs["directory"]
        )
        if drops and not drop_access_log:
            _fail(
                "Deze downgrade verwijdert het toegangslogboek (NEN 7513) met alle regels. "
                "Maak eerst een back-up, en geef --drop-access-log als dat echt de bedoeling is.",
                2,
            )
            return
        ctx.invoke(migrate_downgrade, **kwargs)

    downgrade.params[:0] = migrate_downgrade.params
    return click.Group(
        "db",
        commands={**migrate_db.commands, "downgrade": downgrade},
        params=migrate_db.params,
        callback=migrate_db.callback,
        help=migrate_db.help,
    )


def register_cli(app: Flask) -> None:
    from respijt.cli.fake_twilio import fake_twilio_command
    from respijt.cli.voice_fallback import voice_group
    from respijt.scheduler.commands import COMMANDS as SCHEDULER_COMMANDS

    for command in (
        *SCHEDULER_COMMANDS,
        fake_twilio_command,
        demo_command,
        serve_command,
        token_group,
        user_group,
        privacy_group,
        check_command,
        expire_holds_command,
        extend_horizon_command,
        import_command,
        waitlist_group,
        voice_group,
    ):
        app.cli.add_command(command)
    app.cli.add_command(_guarded_db_group(), "db")  # replaces Flask-Migrate's own


if __name__ == "__main__":
    main()
