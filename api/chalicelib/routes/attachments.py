"""Photo attachment routes: upload forms and completion (submitter, key required), and the two
local-stage-only routes that stand in for S3 (the upload form's target and signed view links).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.errors import NotFoundError, PayloadTooLargeError
from chalicelib.http import cors_config, handles_errors, header, json_body, json_response, query

if TYPE_CHECKING:
    from chalicelib.blobs.local import LocalBlobStore

bp = Blueprint(__name__)
CORS = cors_config()


@bp.route("/v1/tickets/{number}/attachments", methods=["POST"], cors=CORS)
@handles_errors
def request_upload(number: str) -> Response:
    request = bp.current_request
    body = json_body(request)
    key = header(request, "X-Ticket-Key")
    return json_response(deps.attachment_service().request_upload(number, key, body), 201)


@bp.route(
    "/v1/tickets/{number}/attachments/{attachment_id}/complete",
    methods=["POST"],
    cors=CORS,
)
@handles_errors
def complete_upload(number: str, attachment_id: str) -> Response:
    request = bp.current_request
    raw = None if request is None else request.raw_body
    body = json_body(request) if raw and raw.strip() else None
    key = header(request, "X-Ticket-Key")
    view, new = deps.attachment_service().complete(number, key, attachment_id, body)
    return json_response(view, 201 if new else 200)


def _local_blobs() -> LocalBlobStore:
    """The folder store, on the local stage only: on AWS these paths do not exist (404)."""
    from chalicelib.blobs.local import LocalBlobStore

    store = deps.blobs()
    if deps.settings().stage != "local" or not isinstance(store, LocalBlobStore):
        raise NotFoundError("This path exists on the local stage only.")
    return store


@bp.route(
    "/v1/local-blobs/upload",
    methods=["POST"],
    cors=CORS,
    content_types=["multipart/form-data"],
)
@handles_errors
def local_upload() -> Response:
    """The local stand-in for an S3 POST upload: the signed form decides what may be stored."""
    from chalicelib.blobs.local import FORM_OVERHEAD, parse_form

    store = _local_blobs()
    request = bp.current_request
    raw = b"" if request is None else request.raw_body
    raw = raw.encode("utf-8") if isinstance(raw, str) else raw
    limit = deps.settings().attachment_max_bytes + FORM_OVERHEAD
    if len(raw) > limit:
        raise PayloadTooLargeError(f"The upload is larger than {limit} bytes.")
    fields, file = parse_form(raw, header(request, "Content-Type"))
    store.accept_upload(fields, file, deps.clock().now())
    return Response(body="", status_code=204)


@bp.route("/v1/local-blobs/view", methods=["GET"], cors=CORS)
@handles_errors
def local_view() -> Response:
    """The local stand-in for a presigned S3 GET link."""
    store = _local_blobs()
    request = bp.current_request
    blob = store.open_link(
        query(request, "key") or "",
        query(request, "expires") or "",
        query(request, "signature") or "",
        deps.clock().now(),
    )
    return Response(
        body=blob.data,
        status_code=200,
        headers={
            "Content-Type": blob.content_type,
            "Cache-Control": "private, max-age=300",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )
