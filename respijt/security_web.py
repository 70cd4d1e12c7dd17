"""CSRF protection for the web pages (Flask-WTF), kept in one place so the accounts branch
can reconcile it: every form post carries a token; the token API and the signed Twilio
webhooks never read the session cookie, so they are exempt."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Blueprint as ApiBlueprint
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def init_csrf(app: Flask) -> CSRFProtect:
    """Protect every unsafe request except the API blueprints and the Twilio webhooks.

    Call after the blueprints are registered. Idempotent: an app that already has a
    CSRFProtect keeps it and only gains the exemptions.
    """
    existing: Any = app.extensions.get("csrf")
    protect: CSRFProtect = existing if isinstance(existing, CSRFProtect) else csrf
    if existing is None:
        protect.init_app(app)
    from respijt.voice_webhooks import blp as voice_blp
    from respijt.webhooks import blp as webhooks_blp

    # Every flask-smorest blueprint is the bearer-token API (DESIGN §2: never the cookie).
    exempt = [webhooks_blp, voice_blp] + [
        blueprint for blueprint in app.blueprints.values() if isinstance(blueprint, ApiBlueprint)
    ]
    for blueprint in exempt:
        protect.exempt(blueprint)
    return protect
