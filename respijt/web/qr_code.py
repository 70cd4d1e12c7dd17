"""The QR code of a second factor's provisioning URI, as inline SVG made on the server.

Inline markup, so the page needs no image from another origin and no script (the CSP allows
neither). The URI holds the secret key: it is never logged and never leaves this page.
"""

from __future__ import annotations

import segno
from markupsafe import Markup

# What a screen reader says for the code; the page shows the key as text next to it.
QR_TITLE = "QR-code om uw account toe te voegen aan de authenticator-app"


def qr_svg(uri: str) -> Markup:
    """`uri` as an SVG QR code (error correction M, 4 pixels a module, white background, so it
    scans on a dark screen too), marked as one image with a Dutch title."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, light="#fff", title=QR_TITLE, svgclass="qr"
    )
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))
