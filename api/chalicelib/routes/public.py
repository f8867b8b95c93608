"""Public routes: submit, look up, add information, rate; categories and health.

Submissions, lookups, messages and ratings are rate-limited per client address
(``services/rate_limits.py``); a wrong ticket key counts against the client's key failures.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.http import (
    cors_config,
    handles_errors,
    header,
    json_body,
    json_response,
    language,
    source_ip,
)

bp = Blueprint(__name__)
CORS = cors_config()


@bp.route("/v1/health", methods=["GET"], cors=CORS)
@handles_errors
def health() -> Response:
    deps.store().ping()
    return json_response({"status": "ok"})


@bp.route("/v1/categories", methods=["GET"], cors=CORS)
@handles_errors
def categories() -> Response:
    return json_response(
        {"categories": deps.taxonomy().as_public(language(bp.current_request))},
        headers={"Cache-Control": "public, max-age=300"},
    )


@bp.route("/v1/feedback", methods=["POST"], cors=CORS)
@handles_errors
def submit_feedback() -> Response:
    request = bp.current_request
    charge = deps.rate_limit_service().charge(source_ip(request), "submit")
    result = deps.submission_service().submit(
        json_body(request), header(request, "Idempotency-Key"), charge=charge
    )
    headers = {"Location": f"/v1/tickets/{result.body['number']}"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(result.body, 201, headers)


@bp.route("/v1/tickets/{number}", methods=["GET"], cors=CORS)
@handles_errors
def ticket_status(number: str) -> Response:
    request = bp.current_request
    key = header(request, "X-Ticket-Key")
    with deps.rate_limit_service().keyed(source_ip(request), "lookup", with_key=key is not None):
        body = deps.lookup_service().status(number, key, language(request))
    return json_response(body)


@bp.route("/v1/tickets/{number}/messages", methods=["POST"], cors=CORS)
@handles_errors
def add_message(number: str) -> Response:
    request = bp.current_request
    body = json_body(request)
    key = header(request, "X-Ticket-Key")
    with deps.rate_limit_service().keyed(source_ip(request), "message", with_key=key is not None):
        view = deps.submitter_service().add_message(number, key, body, language(request))
    return json_response(view, 201)


@bp.route("/v1/tickets/{number}/rating", methods=["POST"], cors=CORS)
@handles_errors
def rate(number: str) -> Response:
    request = bp.current_request
    body = json_body(request)
    key = header(request, "X-Ticket-Key")
    with deps.rate_limit_service().keyed(source_ip(request), "message", with_key=key is not None):
        view = deps.submitter_service().rate(number, key, body, language(request))
    return json_response(view, 201)
