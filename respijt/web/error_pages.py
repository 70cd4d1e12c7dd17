"""Errors on website paths as Dutch pages in the site's layout; the API keeps problem+json.

Every error handler answers problem+json (respijt.serving.problems). For a path a person opens in
a browser, `problem_as_page` (an after_request hook) swaps that body for a page saying in plain
Dutch what happened and how to go on, with the same status and headers (Allow, Retry-After).
Machine paths keep problem+json: the API, the Twilio webhooks, the iCal feed, /health and
/metrics. So does a client on a website path that asks for JSON rather than HTML, or that
calls with an API token.

A page never shows the problem's detail (it may name headers or fields) nor anything of the
exception: only a fixed text per status.
"""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import escape
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import RequestRedirect

from respijt.errors import exception_summary
from respijt.serving.problems import PROBLEM_TYPE

log = logging.getLogger(__name__)

MACHINE_PREFIXES = ("/api/", "/twilio/", "/rota/ical/")
MACHINE_PATHS = frozenset({"/health", "/metrics"})

# The CSRF refusal is a 400 problem of its own type, so its page can say what to do.
CSRF_REFUSED = "csrf_refused"

# status (or problem code) → (title, paragraphs). B1 Dutch, no technical words.
PAGES: dict[int | str, tuple[str, tuple[str, ...]]] = {
    400: (
        "Dat lukte niet",
        ("We konden uw verzoek niet goed lezen.", "Ga terug en probeer het opnieuw."),
    ),
    CSRF_REFUSED: (
        "Formulier verlopen",
        (
            "Het formulier is verlopen of niet via deze site verstuurd. Probeer het opnieuw.",
            "Ga terug, laad de pagina opnieuw en verstuur het formulier nog een keer.",
        ),
    ),
    401: ("Niet ingelogd", ("Log eerst in om deze pagina te zien.",)),
    403: ("Geen toegang", ("U mag deze pagina niet bekijken.",)),
    404: (
        "Deze pagina bestaat niet (meer)",
        ("Misschien is het adres veranderd of niet helemaal goed overgenomen.",),
    ),
    405: (
        "Dit kan hier niet",
        (
            "Deze pagina werkt zo niet.",
            "Gebruik de knoppen en links op de site om verder te gaan.",
        ),
    ),
    413: (
        "Te veel in één keer",
        ("U stuurde te veel tegelijk. Maak het korter en probeer het opnieuw.",),
    ),
    429: (
        "Te veel pogingen",
        ("U heeft het te vaak geprobeerd. Wacht even en probeer het dan opnieuw.",),
    ),
    500: (
        "Er ging iets mis",
        (
            "Er ging bij ons iets mis. Dat ligt niet aan u.",
            "Probeer het later nog eens.",
        ),
    ),
    503: (
        "Even niet beschikbaar",
        ("De website is even niet bereikbaar. Probeer het over een paar minuten opnieuw.",),
    ),
}

# Headers of the problem response that describe its body, not the answer.
_BODY_HEADERS = frozenset({"content-type", "content-length"})


def is_machine_path(path: str) -> bool:
    return path.startswith(MACHINE_PREFIXES) or path in MACHINE_PATHS


def wants_page() -> bool:
    """A website path, asked for by a client that does not prefer JSON over HTML and sends
    no API token (the report pages also answer token callers, who expect problem+json)."""
    if is_machine_path(request.path) or "Authorization" in request.headers:
        return False
    accept = request.accept_mimetypes
    if not accept:
        return True
    json_quality = max(accept.quality("application/json"), accept.quality(PROBLEM_TYPE))
    return accept.quality("text/html") >= json_quality


def page_for(status: int, code: str | None = None) -> tuple[str, tuple[str, ...]]:
    if code is not None and code in PAGES:
        return PAGES[code]
    if status in PAGES:
        return PAGES[status]
    return PAGES[500] if status >= 500 else PAGES[400]


def render_error_page(status: int, code: str | None = None) -> str:
    title, text = page_for(status, code)
    try:
        return render_template("web/error.html", title=title, text=text)
    except Exception as exc:
        # The layout asks who is logged in, which needs the database; when that is the
        # failure, a plain page still tells the visitor what to do.
        log.warning("error page rendered without the layout: %s", exception_summary(exc))
        paragraphs = "".join(f"<p>{escape(line)}</p>" for line in text)
        return (
            '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
            f"<title>{escape(title)} – respijt</title></head><body><main>"
            f'<h1>{escape(title)}</h1>{paragraphs}<p><a href="/">Naar de beginpagina</a></p>'
            "</main></body></html>"
        )


def _problem_code(response: Response) -> str | None:
    try:
        problem_type = json.loads(response.get_data(as_text=True)).get("type", "")
    except (ValueError, AttributeError):
        return None
    prefix = "urn:respijt:problem:"
    return problem_type[len(prefix) :] if problem_type.startswith(prefix) else None


def problem_as_page(response: Response) -> Response:
    """after_request: a problem+json answer on a website path becomes a Dutch page."""
    if response.mimetype != PROBLEM_TYPE or is_machine_path(request.path):
        return response
    if not wants_page():
        response.vary.add("Accept")  # the same address answers a browser with a page
        return response
    page = Response(
        render_error_page(response.status_code, _problem_code(response)),
        status=response.status_code,
        mimetype="text/html",
    )
    for name, value in response.headers.items():
        if name.lower() not in _BODY_HEADERS:
            page.headers.add(name, value)
    page.vary.add("Accept")
    return page


def redirect_trailing_slash() -> ResponseReturnValue | None:
    """before_request: `/beschikbaarheid/` → `/beschikbaarheid`, query string kept. Pages
    only; the API answers 404 (its addresses never end on a slash)."""
    path = request.path
    if not isinstance(request.routing_exception, NotFound) or is_machine_path(path):
        return None
    if path == "/" or not path.endswith("/"):
        return None
    stripped = "/" + path.strip("/")  # never "//host": that would leave the site
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        adapter.match(stripped, method=request.method)
    except (HTTPException, RequestRedirect):
        return None
    target = request.script_root + stripped
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    # 308 keeps the method and body of a form post; a GET may be cached as permanent.
    return redirect(target, code=301 if request.method in ("GET", "HEAD") else 308)


def init_error_pages(app: Flask) -> None:
    # First among the before_request hooks: a mistyped address needs no session or CSRF check.
    app.before_request_funcs.setdefault(None, []).insert(0, redirect_trailing_slash)
    app.after_request(problem_as_page)
