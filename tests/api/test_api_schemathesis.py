"""schemathesis over /api/v1/openapi.json, in-process (WSGI), on SQLite and PostgreSQL: every
operation with generated valid and invalid input, as anonymous and with a token of each role,
must answer as the document says: no server error, a documented status code and content type,
a body that matches the documented schema, and the documented (required) headers such as
API-Version.

RESPIJT_TEST_SCHEMATHESIS_EXAMPLES sets the examples per operation (small by default, so the
suite stays quick); generation is derandomised, so a run is the same on every machine.
"""

from __future__ import annotations

import os
import re
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.api_dataset import ROLES, World, build_world

EXAMPLES = int(os.environ.get("RESPIJT_TEST_SCHEMATHESIS_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def _real_ids(world: World) -> dict[str, Any]:
    return {
        "unit_id": world.unit.id,
        "location_id": world.location.id,
        "provider_id": world.provider.id,
        "reservation_id": world.reservation.id,
        "reference": world.care_request.reference,
    }


def _describe(role: str, case: Any, response: Any, why: str = "") -> str:
    body = response.text if hasattr(response, "text") else str(response)
    return (
        f"--- {case.method} {case.path} as {role}: {getattr(response, 'status_code', '?')}\n"
        f"{case.as_curl_command()}\n"
        f"answer: {body[:400]}\n{why[:600]}"
    )


def test_every_operation_answers_as_documented(app, db, make):
    world = build_world(make)
    callers = {"anonymous": {}, **{role: world.tokens[role] for role in ROLES}}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    real = _real_ids(world)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 60

    for operation in operations:
        names = re.findall(r"{(\w+)}", operation.path)
        fixed = {name: real[name] for name in names if name in real}
        strategies = [
            operation.as_strategy(generation_mode=mode)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
        if fixed and len(fixed) == len(names):
            strategies.append(operation.as_strategy(path_parameters=fixed))

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def run(case: Any) -> None:
            for role, headers in callers.items():
                try:
                    response = case.call(headers=headers or None)
                except Exception as exc:  # an exception the app did not turn into an answer
                    failures.append(_describe(role, case, repr(exc)))
                    continue
                try:
                    case.validate_response(response, checks=CHECKS)
                except Exception as exc:  # schemathesis groups the failed checks
                    failures.append(_describe(role, case, response, str(exc)))

        run()

    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:30])
