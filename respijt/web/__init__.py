"""Server-rendered pages. For now the account pages; audiences' pages join here."""

from __future__ import annotations

from flask import Flask, redirect, url_for
from werkzeug.wrappers import Response


def register_web(app: Flask) -> None:
    """Blueprints, then security (CSRF, login, rate limits, headers), which wraps them all."""
    from respijt.web import auth
    from respijt.web.security import init_security

    app.register_blueprint(auth.bp)

    @app.route("/favicon.ico")
    def favicon() -> Response:
        return redirect(url_for("static", filename="favicon.svg"), code=301)

    favicon._respijt_read_only = True  # type: ignore[attr-defined]
    init_security(app)
