"""The OpenAPI document, made truthful for every route at once.

flask-smorest writes the document from the code; this module shapes what it writes, so that a
route added later is covered without anyone remembering to:

- errors are RFC 9457 problem+json (`ProblemSchema`), never smorest's English `Error`;
- every response documents the `API-Version` header the API sends (`add_api_version` in
  respijt/api/__init__.py);
- every operation has an `operationId` (its function's name in camelCase) and documents 400
  (unreadable input), 415 (a body that is not JSON), 401/403 (with a token) and 404 (with a path
  parameter), besides the `default` problem;
- paths are relative to `servers[0]` (`/api/v1`, NLGov /core/uri-version);
- `AwareDateTime(format=…)` is documented as `date-time` instead of `"format": null`
  (apispec #938).
"""

from __future__ import annotations

import http
import re
from typing import Any

import marshmallow as ma
from apispec import BasePlugin
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import fields

from respijt.config import API_VERSION
from respijt.serving.problems import PROBLEM_TYPE, STATUS_TITLES

API_PREFIX = "/api/v1"
CONTACT = {
    "name": "respijt-beheer",
    "email": "beheer@respijt.example",
    "url": "https://respijt.example/contact",
}
VERSION_HEADER = "API-Version"

# The documented error responses that an operation gets when it can meet them.
_BAD_REQUEST = "BAD_REQUEST"
_UNSUPPORTED = "UNSUPPORTED_MEDIA_TYPE"
_UNAUTHORIZED = "UNAUTHORIZED"
_FORBIDDEN = "FORBIDDEN"
_NOT_FOUND = "NOT_FOUND"

SUCCESS_DESCRIPTIONS = {
    200: "Gelukt",
    201: "Aangemaakt",
    202: "Aangenomen; wordt verwerkt",
    204: "Gelukt, zonder inhoud",
    304: "Niet gewijzigd sinds de vorige keer",
}
ERROR_DESCRIPTIONS = {
    400: "Het verzoek kon niet worden gelezen (bijv. geen geldige JSON)",
    401: "Geen of een ongeldig token",
    403: "Dit token mag deze handeling niet doen",
    404: "Niet gevonden",
    415: "De body is geen application/json",
    422: "Ongeldige invoer: invalidParams noemt per veld de reden (zie docs/api.md)",
    429: "Te veel verzoeken; Retry-After zegt wanneer het weer kan",
}


class InvalidParamSchema(ma.Schema):
    name = fields.String(required=True, metadata={"description": "het veld of de parameter"})
    code = fields.String(required=True, metadata={"description": "vaste code, bijv. required"})
    reason = fields.String(required=True, metadata={"description": "de reden, in het Nederlands"})


class ProblemSchema(ma.Schema):
    """An error as RFC 9457 problem details; some problems carry extra members."""

    class Meta:
        unknown = ma.INCLUDE

    type = fields.String(
        required=True,
        metadata={
            "description": "about:blank of urn:respijt:problem:<code>",
            "format": "uri-reference",
        },
    )
    title = fields.String(required=True, metadata={"description": "korte titel (Nederlands)"})
    status = fields.Integer(required=True, metadata={"description": "de HTTP-statuscode"})
    detail = fields.String(required=True, metadata={"description": "uitleg (Nederlands)"})
    invalidParams = fields.List(  # noqa: N815 - the RFC 9457 member name
        fields.Nested(InvalidParamSchema),
        metadata={"description": "bij ongeldige invoer: per veld de reden"},
    )


def _camel(name: str) -> str:
    head, *rest = name.strip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _version_header() -> dict[str, Any]:
    return {VERSION_HEADER: VERSION_HEADER}


class TruthPlugin(BasePlugin):
    """apispec plugin run for every path flask-smorest registers (see the module docstring)."""

    def __init__(self) -> None:
        self.operation_ids: set[str] = set()

    def path_helper(
        self,
        path: str | None = None,
        operations: dict[Any, Any] | None = None,
        parameters: list[dict[Any, Any]] | None = None,
        **kwargs: Any,
    ) -> str | None:
        if path is not None and path.startswith(API_PREFIX + "/"):
            return path.removeprefix(API_PREFIX)
        return path

    def operation_helper(
        self, path: str | None = None, operations: dict[Any, Any] | None = None, **kwargs: Any
    ) -> None:
        rule = kwargs.get("rule")
        for method, operation in (operations or {}).items():
            if not isinstance(operation, dict) or method == "parameters":
                continue
            _hide_deprecated_aliases(operation)
            if "operationId" not in operation and rule is not None:
                operation["operationId"] = self._operation_id(rule.endpoint, method, operation)
            responses = {str(code): value for code, value in operation.get("responses", {}).items()}
            wanted = [("400", _BAD_REQUEST)]
            if "requestBody" in operation:
                wanted.append(("415", _UNSUPPORTED))
            if operation.get("security"):
                wanted += [("401", _UNAUTHORIZED), ("403", _FORBIDDEN)]
            if path is not None and "{" in path:
                wanted.append(("404", _NOT_FOUND))
            for code, name in wanted:
                responses.setdefault(code, name)
            for code, response in responses.items():
                if isinstance(response, dict):
                    _shape_response(code, response)
            operation["responses"] = responses

    def _operation_id(self, endpoint: str, method: str, operation: dict[str, Any]) -> str:
        blueprint, _, function = endpoint.rpartition(".")
        candidate = _camel(function)
        if candidate in self.operation_ids:
            candidate = _camel(f"{blueprint}_{function}")
        if candidate in self.operation_ids:
            candidate = _camel(f"{blueprint}_{function}_{method}")
        self.operation_ids.add(candidate)
        return candidate


_CAMEL = re.compile(r"^[a-z][a-z\d]*([A-Z][a-z\d]*)*$")


def _hide_deprecated_aliases(operation: dict[str, Any]) -> None:
    """A deprecated snake_case query key (schemas.deprecated_alias) still works for one version,
    but the document names only its camelCase successor, with a note (NLGov
    /core/query-keys-camel-case; docs/api-changelog.md lists the old keys)."""
    parameters = operation.get("parameters") or []
    kept = []
    for parameter in parameters:
        if (
            isinstance(parameter, dict)
            and parameter.get("in") == "query"
            and parameter.get("deprecated")
            and not _CAMEL.match(parameter.get("name", ""))
        ):
            old = parameter["name"]
            for other in parameters:
                if isinstance(other, dict) and other.get("name") == _camel(old):
                    note = f"(Tot versie 2 werkt ook het verouderde `{old}`.)"
                    other["description"] = f"{other.get('description', '')} {note}".strip()
            continue
        kept.append(parameter)
    if parameters:
        operation["parameters"] = kept


def _shape_response(code: str, response: dict[str, Any]) -> None:
    """A 2xx/3xx documents API-Version; an error is problem+json (and documents it too)."""
    response.setdefault("headers", {}).update(_version_header())
    if code.isdigit() and response.get("description") == http.HTTPStatus(int(code)).phrase:
        response["description"] = SUCCESS_DESCRIPTIONS.get(int(code), response["description"])
    if code[0] in "45" or code == "default":
        content = response.setdefault("content", {})
        json_content = content.pop("application/json", None)
        problem = content.setdefault(PROBLEM_TYPE, json_content or {})
        problem["schema"] = "Problem"
        if not response.get("description"):
            title = STATUS_TITLES.get(int(code)) if code.isdigit() else None
            response["description"] = title or "Fout"


def datetime_format(self: Any, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    """apispec #938: `AwareDateTime(format="%Y-…Z")` came out as `"format": null`."""
    ret = kwargs["ret"]
    if isinstance(field, fields.DateTime) and "format" in ret and ret["format"] is None:
        if ret.get("pattern") is None:
            ret.pop("pattern", None)
        return {"format": "date-time"}
    return {}


class RespijtApi(Api):
    """flask-smorest's Api with problem+json errors and the API-Version header documented."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "DEFAULT_ERROR"

    def _init_spec(self, *args: Any, extra_plugins: Any = None, **kwargs: Any) -> None:
        plugins = [*(extra_plugins or ()), TruthPlugin()]
        super()._init_spec(*args, extra_plugins=plugins, **kwargs)
        self.ma_plugin.converter.add_attribute_function(datetime_format)
        self.spec.components.schema("Problem", schema=ProblemSchema)
        self.spec.components.header(
            VERSION_HEADER,
            {
                "description": "De volledige versie van de API (semver), bij elk antwoord",
                "schema": {"type": "string", "example": API_VERSION},
                "required": True,
            },
        )

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {
                "description": ERROR_DESCRIPTIONS.get(status)
                or SUCCESS_DESCRIPTIONS.get(status)
                or STATUS_TITLES.get(status)
                or status.phrase,
                "headers": _version_header(),
            }
            if status >= 400:
                response["schema"] = "Problem"
                prepare_response(response, self.spec, PROBLEM_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {
            "description": "Elke andere fout, als problem+json",
            "schema": "Problem",
            "headers": _version_header(),
        }
        prepare_response(default, self.spec, PROBLEM_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)


def spec_options() -> dict[str, Any]:
    """The top-level keys of the document (API_SPEC_OPTIONS)."""
    return {
        "info": {
            "description": (
                "Logeerbedden: beschikbaarheid, meldpunt en reserveringen. Fouten zijn "
                "application/problem+json (RFC 9457). Elk antwoord heeft de header API-Version. "
                "Wijzigingen: docs/api-changelog.md."
            ),
            "contact": CONTACT,
            "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        },
        "servers": [{"url": API_PREFIX, "description": "deze server, versie 1 van de API"}],
    }
