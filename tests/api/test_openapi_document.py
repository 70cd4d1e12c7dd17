"""The served OpenAPI document tells the truth, for every operation (also ones added later):
problem+json errors, the API-Version header, operationIds, Dutch summaries, a schema for every
2xx, valid formats, and 0 errors under the NLGov API Design Rules linter (Spectral)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from respijt.config import API_VERSION

ROOT = Path(__file__).resolve().parents[2]
SPECTRAL = ROOT / "tools" / "spectral" / "node_modules" / ".bin" / "spectral"
RULESET = ROOT / "tools" / "spectral" / "nlgov-linter.yaml"
IN_CI = os.environ.get("CI", "").lower() == "true"
METHODS = ("get", "put", "post", "delete", "patch")
PROBLEM = "application/problem+json"


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = spec["components"][kind][name]
    return node


def _walk(node: Any, path: str = "") -> list[tuple[str, Any]]:
    out = [(path, node)]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_walk(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(_walk(value, f"{path}/{i}"))
    return out


@pytest.fixture
def spec(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["API-Version"] == API_VERSION
    return response.get_json()  # type: ignore[no-any-return]


def test_the_document_names_servers_contact_and_version(spec):
    assert spec["servers"][0]["url"] == "/api/v1"
    assert {"name", "email", "url"} <= set(spec["info"]["contact"])
    assert spec["info"]["version"] == API_VERSION
    assert all(not path.startswith("/api/") for path in spec["paths"])


def test_every_operation_has_an_id_a_dutch_summary_and_documented_errors(spec):
    operations = _operations(spec)
    assert len(operations) > 60
    ids = [operation.get("operationId") for _, _, operation in operations]
    assert all(ids) and len(set(ids)) == len(ids)
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        summary = operation.get("summary", "")
        assert summary, where
        assert not summary.lower().startswith(("get ", "create ", "list ", "return ")), where
        responses = operation["responses"]
        assert "default" in responses and "400" in responses, where
        if "requestBody" in operation:
            assert "415" in responses, where
        if operation.get("security"):
            assert {"401", "403"} <= set(responses), where
        successes = [code for code in responses if code.startswith("2")]
        assert successes, f"{where}: no success response"
        for code, response in responses.items():
            response = _resolve(spec, response)
            assert "API-Version" in response.get("headers", {}), f"{where} {code}"
            if code.startswith("2") and code != "204":
                assert response.get("content"), f"{where} {code}: a 2xx without a schema"
                for media in response["content"].values():
                    assert media.get("schema"), f"{where} {code}"
            if code[0] in "45" or code == "default":
                assert list(response["content"]) == [PROBLEM], f"{where} {code}"
                schema = response["content"][PROBLEM]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, f"{where} {code}"


def test_the_problem_schema_is_rfc_9457_and_no_format_is_null(spec):
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    assert "invalidParams" in problem["properties"]
    assert "Error" not in spec["components"]["schemas"]
    for where, node in _walk(spec):
        if isinstance(node, dict) and "format" in node and isinstance(node["format"], str | None):
            assert node["format"] is not None, where
        if isinstance(node, dict) and "pattern" in node and not isinstance(node["pattern"], dict):
            assert node["pattern"] is not None, where


def test_every_answer_sends_the_api_version_header(client):
    for response in (
        client.get("/api/v1/regions"),
        client.get("/api/v1/nothing"),
        client.get("/api/v1/availability?from=gisteren"),
        client.get("/api/v1/messages"),
    ):
        assert response.headers["API-Version"] == API_VERSION
        if response.status_code >= 400:
            assert response.mimetype == PROBLEM


def test_the_nlgov_linter_finds_no_errors(spec, tmp_path):
    if not SPECTRAL.exists():
        message = "Spectral is not installed: run `bash scripts/ensure-spectral` (make test does)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(spec))
    result = subprocess.run(
        [str(SPECTRAL), "lint", "-r", str(RULESET), "-f", "json", "--quiet", str(document)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    errors = [f for f in findings if f["severity"] == 0]
    shown = [f"{f['code']} {'.'.join(map(str, f['path']))}: {f['message']}" for f in errors]
    assert not errors, f"{len(errors)} NLGov lint errors:\n" + "\n".join(shown[:40])
    # Spectral itself ran: a broken ruleset would end without findings too.
    assert result.returncode == 0, result.stderr
