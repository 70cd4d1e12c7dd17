"""`respijt token …` and `respijt user …`: API tokens and accounts from the command line."""

from __future__ import annotations

import sys
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from respijt import clock
from respijt.cli.commands import fail
from respijt.errors import DomainError
from respijt.extensions import db
from respijt.models import User
from respijt.people import accounts
from respijt.people.caller import ROLES
from respijt.people.tokens import create_token, list_tokens, revoke_token


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
            fail(f"Gebruiker '{user_ref}' bestaat niet.", 2)
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
        fail(exc.detail, 2)
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
        fail(f"Token {token_id} bestaat niet of is al ingetrokken.", 2)
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
        fail(exc.detail, 2)
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
        fail(f"Gebruiker '{ref}' bestaat niet.", 2)
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


@user_group.command("reset-2fa")
@click.argument("user_ref")
@with_appcontext
def user_reset_second_factor(user_ref: str) -> None:
    """Wipe a lost second factor: the person enrols a new app (QR code) at the next sign-in."""
    user = _user_or_fail(user_ref)
    if user is None:
        return
    accounts.reset_second_factor(db.session, user, clock.now())
    db.session.commit()
    click.echo(
        f"Tweestapsverificatie van {user.email} gewist; sessies beëindigd. Bij de volgende "
        "aanmelding stelt de gebruiker een nieuwe app in."
    )
