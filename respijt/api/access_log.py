"""The NEN 7513 access log, read-only: "who looked at this client's data" (coordinator, admin).

There is no endpoint that changes or removes log rows; the database refuses it as well.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import fields

from respijt import edge
from respijt.api import paging
from respijt.api.paging import PageQuery
from respijt.api.schemas import AliasedQuery, deprecated_alias
from respijt.api.security import client_source, requires
from respijt.extensions import db
from respijt.people.caller import visible_regions
from respijt.privacy import access_log as privacy
from respijt.serving.callers import current_caller

blp = Blueprint("access_log", __name__, description="Inzage in het toegangslogboek (NEN 7513)")


class AccessLogQuery(AliasedQuery, PageQuery):
    client_reference = fields.String(
        data_key="clientReference",
        metadata={"description": "verplicht; bijv. reservation:77 of de aanvraagreferentie"},
    )
    client_reference_deprecated = deprecated_alias("clientReference", data_key="client_reference")

    @ma.validates_schema
    def require_reference(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("client_reference") and not data.get("client_reference_deprecated"):
            raise ma.ValidationError("Dit veld is verplicht.", "clientReference")


class AccessLogEntrySchema(ma.Schema):
    at = fields.AwareDateTime(format="iso")
    event = fields.String(metadata={"description": "read, search, create, change, export, print"})
    action = fields.String()
    client_reference = fields.String()
    actor = fields.String(metadata={"description": "user:<id> of token:<id>"})
    user_id = fields.Integer(allow_none=True)
    role = fields.String()
    provider_id = fields.Integer(allow_none=True)
    organisation = fields.String(allow_none=True)
    outcome = fields.String(metadata={"description": "success, denied, failed"})
    source = fields.String(allow_none=True)
    purpose = fields.String()


def _dump(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = AccessLogEntrySchema().dump(row)
    out["at"] = row.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


@blp.route("/access-log", methods=["GET"])
@blp.arguments(AccessLogQuery, location="query", unknown="raise", as_kwargs=True)
@blp.response(200, paging.page_schema(AccessLogEntrySchema))
@blp.doc(security=[{"bearer": []}])
@requires("coordinator", "admin")
def list_access(client_reference: str, **args: Any) -> ResponseReturnValue:
    """Wie heeft de gegevens van deze cliënt ingezien of gewijzigd (oudste eerst), per pagina."""
    caller = current_caller()
    reference = privacy.fit_reference(client_reference)

    def work() -> dict[str, Any]:
        rows, has_next = paging.slice_page(
            privacy.access_log_for(db.session, reference, visible_regions(caller)), args
        )
        # Reading who looked is itself an access to the client's log: recorded too, as on
        # the coordinator's page.
        privacy.log_access(
            db.session,
            action="access_log.read",
            event="read",
            caller=caller,
            client_reference=reference,
            outcome="success",
            purpose="toezicht",
            source=client_source(),
        )
        return paging.page_body(args, [_dump(row) for row in rows], has_next)

    return jsonify(edge.transaction(work))
