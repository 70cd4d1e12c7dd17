"""CLI: `respijt voice fallback` — the TwiML for a meldpunt number's fallback URL.

Twilio asks the fallback URL when the primary webhook (/twilio/voice/incoming) fails or times
out, that is when respijt itself cannot answer. The file is static, hosted apart from respijt
(nginx, a TwiML Bin), so it cannot know who is on duty: it rings the region's coordinator line
and the pool providers' duty phones in turn (docs/meldpunt.md). Regenerate it whenever those
numbers change.
"""

from __future__ import annotations

import os
import sys
import tempfile

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from respijt import formatting
from respijt.extensions import db
from respijt.meldpunt import phone as voice
from respijt.messages import twilio as twilio_gateway
from respijt.models import Region

GREETING = (
    "Welkom bij het meldpunt logeerzorg{region}. Door een storing verbinden wij u door met een "
    "medewerker. Een moment alstublieft."
)
CLOSING = (
    "Op dit moment kan niemand uw oproep aannemen. Probeer het over een half uur opnieuw. "
    "Tot ziens."
)


def fallback_twiml(region: Region, numbers: list[str], ring_seconds: int) -> str:
    return twilio_gateway.twiml_fallback(
        GREETING.format(region=f" {region.name}" if region.name else ""),
        numbers,
        timeout=ring_seconds,
        closing=CLOSING,
    )


@click.group("voice")
def voice_group() -> None:
    """Meldpunt phone: what Twilio plays when respijt cannot be reached."""


@voice_group.command("fallback")
@click.option("--region", "region_code", help="Regiocode (verplicht bij meer dan één regio).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Schrijf de TwiML naar dit bestand in plaats van naar het scherm.",
)
@click.option(
    "--ring-seconds",
    type=click.IntRange(5, 600),
    default=None,
    help="Hoe lang elk nummer overgaat (standaard RESPIJT_MELDPUNT_RING_SECONDS).",
)
@with_appcontext
def voice_fallback(region_code: str | None, output: str | None, ring_seconds: int | None) -> None:
    """Print the fallback TwiML of a region's meldpunt number: ring the coordinator line and
    the pool providers' duty phones in turn."""
    regions = list(db.session.scalars(select(Region).order_by(Region.code)))
    if region_code is not None:
        regions = [r for r in regions if r.code.upper() == region_code.upper()]
        if not regions:
            db.session.rollback()
            raise click.UsageError(f"Regio {region_code} bestaat niet.")
    elif len(regions) != 1:
        codes = ", ".join(r.code for r in regions) or "geen"
        db.session.rollback()
        raise click.UsageError(f"Kies een regio met --region (regio's: {codes}).")
    region = regions[0]
    numbers = [number for _, number in voice.fallback_numbers(db.session, region.id)]
    db.session.rollback()
    if not numbers:
        click.echo(
            f"Regio {region.code} heeft geen coördinatornummer en geen aanbieders met een "
            "dienstnummer in de pool: er is niemand om te bellen.",
            err=True,
        )
        sys.exit(1)
    seconds = ring_seconds or int(current_app.config["RESPIJT_MELDPUNT_RING_SECONDS"])
    twiml = fallback_twiml(region, numbers, seconds)
    if output is None:
        click.echo(twiml)
        return
    _write_atomically(output, twiml + "\n")
    click.echo(
        f"Terugvaltekst voor {region.code} ({region.meldpunt_number or 'geen meldpuntnummer'}) "
        f"geschreven naar {output}: {formatting.counted(len(numbers), 'nummer', 'nummers')}, "
        f"elk {seconds} s.",
        err=True,
    )


def _write_atomically(path: str, text: str) -> None:
    """The web server never serves half a file: write beside it, then rename over it."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".respijt-fallback-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)  # served as a public file: it holds only business numbers
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
