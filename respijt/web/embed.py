"""The embeddable page "vrije logeerbedden in uw gemeente": a gemeente puts it in an <iframe> on
its own site (docs/open-data.md).

The page shows, per target group, the free beds in the region that serves the gemeente's
residents, from the open feed (`beds.open_data`): counts only, nothing about clients. It sets
no cookie, loads nothing from another origin and needs no JavaScript; it may be framed by any
site (CSP `frame-ancestors *`, no X-Frame-Options), which no other page may. Its colours come
from theme tokens in the query (`tekst`, `achtergrond`, `accent`, as #rrggbb), served as a
stylesheet of this site (`/ingebed/thema.css`); tokens that would make the text hard to read
(contrast below 4.5:1) are ignored.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from respijt import clock
from respijt.beds import nearby, open_data
from respijt.codes import TARGET_GROUPS
from respijt.extensions import db
from respijt.serving.callers import read_only
from respijt.web import blp
from respijt.web.public import regions_with_municipalities

EMBED_CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors *"
)
MAX_AGE_SECONDS = 300
WEEK = 7

# Query key → the design tokens it sets, and the default (the site's own look).
THEME_TOKENS: dict[str, tuple[tuple[str, ...], str]] = {
    "tekst": (("--utrecht-document-color", "--utrecht-heading-2-color"), "#1f1f1f"),
    "achtergrond": (("--utrecht-document-background-color",), "#ffffff"),
    "accent": (
        ("--utrecht-link-color", "--utrecht-link-hover-color", "--utrecht-link-visited-color"),
        "#1a3d5c",
    ),
}
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def embeddable(view: Any) -> Any:
    """Mark a view whose page other sites may frame (web/security.py leaves X-Frame-Options
    off; the view sets its own CSP)."""
    view._respijt_embeddable = True
    return view


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def theme(args: Any) -> dict[str, str]:
    """The colours asked in the query, or the defaults; unreadable combinations fall back."""
    colours = {}
    for key, (_, default) in THEME_TOKENS.items():
        match = _HEX.match(args.get(key, "") or "")
        colours[key] = f"#{match[1].lower()}" if match else default
    background = colours["achtergrond"]
    if (
        contrast(colours["tekst"], background) < 4.5
        or contrast(colours["accent"], background) < 4.5
    ):
        return {key: default for key, (_, default) in THEME_TOKENS.items()}
    return colours


def theme_query(args: Any) -> dict[str, str]:
    """The theme as query keys for the stylesheet's URL (only those that differ)."""
    colours = theme(args)
    return {
        key: colours[key].lstrip("#")
        for key, (_, default) in THEME_TOKENS.items()
        if colours[key] != default
    }


def _cacheable(response: Response) -> ResponseReturnValue:
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
    return response.make_conditional(request)


@blp.route("/ingebed/thema.css")
@read_only
@embeddable
def embed_theme() -> ResponseReturnValue:
    colours = theme(request.args)
    lines = [
        f"  {token}: {colours[key]};"
        for key, (tokens, _) in THEME_TOKENS.items()
        for token in tokens
    ]
    css = ":root {\n" + "\n".join(lines) + "\n}\n"
    return _cacheable(Response(css, mimetype="text/css"))


def _summary(rows: list[open_data.FeedRow]) -> list[dict[str, Any]]:
    """Per target group: beds free tonight, and on how many nights of the coming week and
    four weeks at least one bed is free."""
    groups: dict[str, list[open_data.FeedRow]] = {}
    for row in rows:
        groups.setdefault(row.target_group, []).append(row)
    summary = []
    for code, label in TARGET_GROUPS.items():
        group_rows = groups.get(code)
        if not group_rows:
            continue
        per_night: dict[Any, int] = {}
        for row in group_rows:
            per_night[row.night] = per_night.get(row.night, 0) + row.free_beds
        nights = sorted(per_night)
        summary.append(
            {
                "label": label,
                "tonight": per_night[nights[0]],
                "week": sum(1 for night in nights[:WEEK] if per_night[night] > 0),
                "weeks": sum(1 for night in nights if per_night[night] > 0),
            }
        )
    return summary


@blp.route("/ingebed/vrije-logeerbedden")
@read_only
@embeddable
def embed_free_beds() -> ResponseReturnValue:
    """Vrije logeerbedden voor de inwoners van één gemeente, om in te bedden."""
    code = (request.args.get("gemeente") or "").strip().upper()
    home = nearby.find_home(db.session, code) if re.fullmatch(r"GM\d{4}", code) else None
    # Without a gemeente: how to use the page, with a choice of gemeente (200); an unknown
    # one: the same, as 404.
    found = home is not None or not code
    summary: list[dict[str, Any]] = []
    if home is not None:
        rows = open_data.free_beds_feed(
            db.session,
            today=clock.today(),
            now=clock.now(),
            municipality=None if home.region_code else home.code,
            region=home.region_code,
        )
        summary = _summary(rows)
    response = Response(
        render_template(
            "web/embed.html",
            home=home,
            summary=summary,
            today=clock.today(),
            nights=open_data.FEED_NIGHTS,
            week=WEEK,
            theme=theme_query(request.args),
            regions=regions_with_municipalities() if home is None else [],
            unknown=bool(code) and home is None,
        ),
        status=200 if found else 404,
    )
    response.headers["Content-Security-Policy"] = EMBED_CSP
    return _cacheable(response) if found else response
