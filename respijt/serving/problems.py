"""Every API error as application/problem+json (RFC 9457) with a Dutch title and detail."""

from __future__ import annotations

from typing import Any

from flask import Response, json

from respijt.errors import DomainError, InvalidInput

PROBLEM_TYPE = "application/problem+json"

STATUS_TITLES = {
    400: "Ongeldig verzoek",
    401: "Niet aangemeld",
    403: "Geen toegang",
    404: "Niet gevonden",
    405: "Methode niet toegestaan",
    409: "Conflict",
    413: "Verzoek te groot",
    415: "Verkeerd inhoudstype",
    422: "Ongeldige invoer",
    428: "Voorwaarde ontbreekt",
    429: "Te veel verzoeken",
    500: "Interne fout",
    503: "Tijdelijk niet beschikbaar",
}

STATUS_DETAILS = {
    400: "Het verzoek kon niet worden gelezen.",
    401: "Voor dit verzoek is een geldig token nodig (Authorization: Bearer …).",
    403: "U heeft geen toegang tot deze handeling.",
    404: "Deze bron bestaat niet. Let op: adressen eindigen niet op een '/'.",
    405: "Deze methode is hier niet toegestaan.",
    413: "Het verzoek is te groot.",
    415: "Stuur de gegevens als application/json.",
    429: "U heeft te veel verzoeken gedaan. Probeer het later opnieuw.",
    500: "Er ging iets mis aan onze kant. Probeer het later opnieuw.",
    503: "De dienst is tijdelijk druk. Probeer het zo opnieuw.",
}

# The Dutch messages of respijt/api/dutch.py that carry their own code in invalidParams; every
# other reason comes from a schema's own Dutch `error=` and has the code "invalid".
REQUIRED = "Dit veld is verplicht."
UNKNOWN = "Onbekend veld of onbekende parameter."
NULL = "Dit veld mag niet leeg (null) zijn."
CHOICE_PREFIX = "Kies uit:"
_CODES = {REQUIRED: "required", UNKNOWN: "unknown", NULL: "null"}


def problem(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    code: str | None = None,
    invalid_params: list[dict[str, str]] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank" if code is None else f"urn:respijt:problem:{code}",
        "title": title or STATUS_TITLES.get(status, "Fout"),
        "status": status,
        "detail": detail or STATUS_DETAILS.get(status, "Er ging iets mis."),
    }
    if invalid_params:
        body["invalidParams"] = invalid_params
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)


def _flatten(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """webargs nests messages by location and field; flatten to (name, message)."""
    out: list[tuple[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(key, int):
                name = f"{prefix}[{key}]"
            out.extend(_flatten(value, name))
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            out.extend((prefix, m) for m in messages)
        else:
            for i, m in enumerate(messages):
                out.extend(_flatten(m, f"{prefix}[{i}]"))
    else:
        out.append((prefix, str(messages)))
    return out


LOCATIONS = ("json", "query", "headers", "form", "path", "files", "cookies")


def invalid_params_from_messages(messages: Any) -> list[dict[str, str]]:
    params = []
    if isinstance(messages, dict) and set(messages) <= set(LOCATIONS):
        merged: list[tuple[str, str]] = []
        for location_messages in messages.values():
            merged.extend(_flatten(location_messages))
    else:
        merged = _flatten(messages)
    for name, message in merged:
        code = "choice" if message.startswith(CHOICE_PREFIX) else _CODES.get(message, "invalid")
        params.append({"name": name or "body", "code": code, "reason": message})
    return params


def domain_problem(exc: DomainError) -> Response:
    params = exc.params if isinstance(exc, InvalidInput) else None
    return problem(
        exc.status, exc.detail, title=exc.title, code=exc.code, invalid_params=params, **exc.extra
    )
