"""Clearloop API: routes and schedules only. Each route parses input, calls one use case, and maps
the result (or a domain error, via ``chalicelib.http``) to a response."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Chalice, CORSConfig, Response

from chalicelib import deps
from chalicelib.config import Settings
from chalicelib.http import (
    add_security_headers,
    handles_errors,
    json_response,
    parse_json_body,
    reshape_chalice_error,
)

app = Chalice(app_name="clearloop")
app.log.setLevel("INFO")

# Settings are plain values from the environment: cheap to read at import, no client is built.
_cors = CORSConfig(
    allow_origin=Settings.from_env().site_origin,
    allow_headers=["Content-Type", "Idempotency-Key", "X-Ticket-Key", "Authorization", "If-Match"],
    expose_headers=["Retry-After", "ETag"],
    max_age=600,
)


@app.middleware("http")
def _edge(event: Any, get_response: Callable[[Any], Response]) -> Response:
    return add_security_headers(reshape_chalice_error(get_response(event)))


def _header(name: str) -> str | None:
    request = app.current_request
    assert request is not None  # noqa: S101 - always set inside a route
    value: str | None = request.headers.get(name)
    return value


def _language() -> str:
    accept = (_header("Accept-Language") or "").lower()
    return "zh" if accept.startswith("zh") else "en"


@app.route("/v1/health", methods=["GET"], cors=_cors)
@handles_errors
def health() -> Response:
    deps.store().ping()
    return json_response({"status": "ok"})


@app.route("/v1/categories", methods=["GET"], cors=_cors)
@handles_errors
def categories() -> Response:
    return json_response(
        {"categories": deps.taxonomy().as_public(_language())},
        headers={"Cache-Control": "public, max-age=300"},
    )


@app.route("/v1/feedback", methods=["POST"], cors=_cors)
@handles_errors
def submit_feedback() -> Response:
    request = app.current_request
    assert request is not None  # noqa: S101 - always set inside a route
    payload = parse_json_body(request.raw_body)
    result = deps.submission_service().submit(payload, _header("Idempotency-Key"))
    headers = {"Location": f"/v1/tickets/{result.body['number']}"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(result.body, 201, headers)


@app.route("/v1/tickets/{number}", methods=["GET"], cors=_cors)
@handles_errors
def ticket_status(number: str) -> Response:
    return json_response(deps.lookup_service().status(number, _header("X-Ticket-Key")))
