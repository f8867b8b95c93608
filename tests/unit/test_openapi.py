"""``api/openapi.json`` describes exactly the routes the app has, in the shapes the SPEC sets.

The fuzz level (``make fuzz``) checks the app's answers against this document; these tests
check the document against the app's route table and the SPEC's rules (error format, retry
headers, auth, concurrency headers), and that the site's reference page renders all of it.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from app import app
from chalicelib.http import SECURITY_HEADERS, STATUS_BY_ERROR

REPO = Path(__file__).resolve().parents[2]
DOCUMENT: dict[str, Any] = json.loads((REPO / "api" / "openapi.json").read_text("utf-8"))
METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
# Store-free operations: nothing they do can answer 503.
NO_STORE = {("GET", "/v1/categories")}
OPEN311 = "/open311/"


def documented() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in DOCUMENT["paths"].items()
        for method in item
        if method in METHODS
    }


def routed() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, methods in app.routes.items() for method in methods}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in DOCUMENT["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


OPS = operations()
IDS = [f"{m} {p}" for m, p, _ in OPS]


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = DOCUMENT
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def test_the_document_is_valid_openapi_3_1() -> None:
    assert DOCUMENT["openapi"].startswith("3.1")
    validate(DOCUMENT)


def test_every_route_of_the_app_is_documented() -> None:
    missing = routed() - documented()
    assert not missing, f"routes missing from api/openapi.json: {sorted(missing)}"


def test_every_documented_operation_is_a_route_of_the_app() -> None:
    extra = documented() - routed()
    assert not extra, f"api/openapi.json documents routes the app lacks: {sorted(extra)}"


@pytest.mark.parametrize(("method", "path", "op"), OPS, ids=IDS)
def test_every_error_response_has_the_error_format(method: str, path: str, op: Any) -> None:
    # Open311 answers errors in its standard's format, as JSON or XML (OPEN311_ERRORS below).
    error = "Open311Errors" if path.startswith(OPEN311) else "Error"
    for status, raw in op["responses"].items():
        response = resolve(raw)
        if int(status) < 400:
            continue
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{error}"}, (status, method, path)
        if path.startswith(OPEN311):
            assert list(response["content"]) == ["application/json", "text/xml"]


def test_the_open311_error_schema_is_the_standards() -> None:
    errors = DOCUMENT["components"]["schemas"]["Open311Errors"]
    assert errors["type"] == "array"
    assert errors["items"]["required"] == ["code", "description"]
    assert errors["items"]["properties"]["code"]["type"] == "integer"


def test_the_error_schema_is_the_specs() -> None:
    error = DOCUMENT["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    inner = error["properties"]["error"]
    assert inner["required"] == ["code", "message", "fields"]
    assert inner["properties"]["fields"]["additionalProperties"] == {"type": "string"}


@pytest.mark.parametrize(("method", "path", "op"), OPS, ids=IDS)
def test_retry_after_on_429_everywhere_and_on_503_where_the_store_is_used(
    method: str, path: str, op: Any
) -> None:
    statuses = ["429"] if (method, path) in NO_STORE else ["429", "503"]
    for status in statuses:
        response = resolve(op["responses"][status])
        assert response["headers"]["Retry-After"] == {"$ref": "#/components/headers/Retry-After"}
        assert resolve(response["headers"]["Retry-After"])["required"] is True


@pytest.mark.parametrize(("method", "path", "op"), OPS, ids=IDS)
def test_every_response_documents_the_security_headers(method: str, path: str, op: Any) -> None:
    for status, raw in op["responses"].items():
        headers = resolve(raw)["headers"]
        for name in SECURITY_HEADERS:
            if name == "Cache-Control":
                continue  # categories are cacheable; every other answer says no-store
            assert name in headers, (method, path, status, name)


@pytest.mark.parametrize(("method", "path", "op"), OPS, ids=IDS)
def test_staff_operations_need_a_bearer_token(method: str, path: str, op: Any) -> None:
    staff = path.startswith("/v1/staff/")
    assert bool(op.get("security")) == staff
    if staff:
        assert op["security"] == [{"bearerAuth": []}]
        assert {"401", "403"} <= set(op["responses"])
    scheme = DOCUMENT["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"


@pytest.mark.parametrize(("method", "path", "op"), OPS, ids=IDS)
def test_inputs_have_their_error_statuses(method: str, path: str, op: Any) -> None:
    responses = set(op["responses"])
    if "requestBody" in op:
        assert {"400", "413", "415"} <= responses, (method, path)
        content = op["requestBody"]["content"]
        form = path.startswith(OPEN311)  # GeoReport v2 submissions are form-encoded
        assert list(content) == [
            "application/x-www-form-urlencoded" if form else "application/json"
        ]
    if "{number}" in path:
        assert {"400", "404"} <= responses, (method, path)


def test_every_status_the_error_map_can_produce_has_a_shared_response() -> None:
    named = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        413: "PayloadTooLarge",
        415: "UnsupportedMediaType",
        422: "IdempotencyKeyReused",
        429: "RateLimited",
        503: "Unavailable",
    }
    for _, status in STATUS_BY_ERROR:
        assert named[status] in DOCUMENT["components"]["responses"]


def parameter_names(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {resolve(p)["name"]: resolve(p) for p in op.get("parameters", [])}


def test_idempotency_and_concurrency_headers() -> None:
    paths = DOCUMENT["paths"]
    for op in (paths["/v1/feedback"]["post"], paths["/v1/staff/tickets"]["post"]):
        key = parameter_names(op)["Idempotency-Key"]
        assert key["in"] == "header"
        assert not key["required"]
        assert "422" in op["responses"]
    assert (
        "Idempotent-Replayed"
        in resolve(paths["/v1/feedback"]["post"]["responses"]["201"])["headers"]
    )
    triage = paths["/v1/staff/tickets/{number}"]["patch"]
    assert parameter_names(triage)["If-Match"]["required"] is True
    for op in (
        paths["/v1/staff/tickets/{number}"]["get"],
        triage,
        paths["/v1/staff/tickets/{number}/transitions"]["post"],
        paths["/v1/staff/tickets/{number}/replies"]["post"],
    ):
        ok = next(resolve(r) for s, r in op["responses"].items() if s.startswith("2"))
        assert "ETag" in ok["headers"]
    ticket = paths["/v1/tickets/{number}"]["get"]
    assert parameter_names(ticket)["X-Ticket-Key"]["required"] is False
    for sub in ("messages", "rating"):
        op = paths[f"/v1/tickets/{{number}}/{sub}"]["post"]
        assert parameter_names(op)["X-Ticket-Key"]["required"] is True


def test_the_csv_export_is_csv_with_a_continuation_header() -> None:
    ok = resolve(DOCUMENT["paths"]["/v1/staff/export.csv"]["get"]["responses"]["200"])
    assert list(ok["content"]) == ["text/csv"]
    assert {"X-Next-Cursor", "Content-Disposition"} <= set(ok["headers"])


def test_publication_request_is_the_agreed_shape() -> None:
    op = DOCUMENT["paths"]["/v1/staff/tickets/{number}/publication"]["post"]
    body = resolve(op["requestBody"]["content"]["application/json"]["schema"])
    assert body["required"] == ["action"]
    assert body["properties"]["action"]["enum"] == ["preview", "approve", "withdraw"]
    assert set(body["properties"]) == {"action", "summary", "resolution", "photos"}
    assert body["additionalProperties"] is False


def test_the_submission_schema_matches_the_validator() -> None:
    from chalicelib.domain import feedback
    from chalicelib.domain.tickets import LANGUAGES, TYPES

    schema = DOCUMENT["components"]["schemas"]["Submission"]
    assert set(schema["properties"]) == feedback.TOP_LEVEL_FIELDS
    assert schema["additionalProperties"] is False
    assert schema["properties"]["subject"]["maxLength"] == feedback.SUBJECT_MAX
    assert schema["properties"]["description"]["maxLength"] == feedback.DESCRIPTION_MAX
    assert schema["properties"]["location"]["maxLength"] == feedback.LOCATION_MAX
    assert schema["properties"]["type"]["enum"] == list(TYPES)
    assert schema["properties"]["language"]["enum"] == list(LANGUAGES)
    contact = DOCUMENT["components"]["schemas"]["Contact"]
    assert set(contact["properties"]) == feedback.CONTACT_FIELDS


def test_the_reference_page_renders_every_operation_and_schema() -> None:
    spec = importlib.util.spec_from_file_location("openapi_hook", REPO / "site/hooks/openapi.py")
    assert spec is not None
    assert spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    markdown = hook.render(DOCUMENT)
    for method, path, op in OPS:
        assert f"### `{method} {path}`" in markdown
        assert op["summary"] in markdown
    for name in DOCUMENT["components"]["schemas"]:
        assert f"### {name} {{#" in markdown
    assert "style=" not in markdown
    assert "<script" not in markdown
    # Prose like "Bearer <token>" is escaped, not passed through as HTML.
    assert "<token>" not in markdown.replace("`Bearer <staff token>`", "")
