"""Open311 GeoReport v2 routes (``/open311/v2/...``), in JSON or XML by the path's suffix.

Chalice cannot route on part of a path segment, so ``{resource}`` is e.g. ``services.xml`` and
the format is parsed here. Errors use the standard's format (a list of ``{code, description}``,
``<errors><error>...``) with the HTTP status as the code, in the format asked for (XML when the
format itself is unknown: XML is the standard's required format).

Rate limits (``services/rate_limits.py``): the GET routes count ``open311_read`` per client
address (a wrong ``X-Ticket-Key`` on ``requests/{id}`` counts as a key failure, as on the web
lookup); ``POST requests`` charges ``open311_submit`` per API key, in the ticket's own write
(``services/open311.py``). A refusal is a 429 in the standard's error format with Retry-After.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from chalice.app import Blueprint, Request, Response

from chalicelib import deps, errors
from chalicelib.domain.open311 import FORMATS
from chalicelib.http import (
    MAX_BODY_BYTES,
    STATUS_BY_ERROR,
    cors_config,
    header,
    language,
    query,
    source_ip,
)
from chalicelib.routes.open311_format import errors_document, render

bp = Blueprint(__name__)
CORS = cors_config()
PREFIX = "/open311/v2"
MAX_FORM_FIELDS = 200
_HOST = re.compile(r"^[A-Za-z0-9.\-]{1,253}(:\d{1,5})?$")
_QUERY_PARAMS = (
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
    "page",
    "page_size",
)

log = logging.getLogger("clearloop.open311")


@dataclass(frozen=True)
class Document:
    """What a view answers: the root element, the element of each item, the data."""

    root: str
    item: str | None
    data: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def split(resource: str) -> tuple[str, str | None]:
    """``services.xml`` -> ``("services", "xml")``; an unknown or missing format is None."""
    name, dot, fmt = resource.rpartition(".")
    if not dot:
        return resource, None
    fmt = fmt.lower()
    return name, fmt if fmt in FORMATS else None


def _error_list(error: errors.ClearloopError, status: int) -> list[tuple[int, str]]:
    if error.fields:
        return [(status, f"{name}: {reason}") for name, reason in sorted(error.fields.items())]
    return [(status, error.message)]


def error_response(fmt: str | None, status: int, items: list[tuple[int, str]]) -> Response:
    body, content_type = errors_document(fmt or "xml", items)
    return Response(body=body, status_code=status, headers={"Content-Type": content_type})


def answer(fmt: str | None, produce: Callable[[], Document]) -> Response:
    """Run ``produce`` and render its document, or the standard's error list."""
    if fmt is None:
        return error_response(
            None, 400, [(400, "Unsupported format: end the path with .json or .xml.")]
        )
    try:
        document = produce()
    except errors.ClearloopError as e:
        status = next((code for cls, code in STATUS_BY_ERROR if isinstance(e, cls)), 500)
        if status == 500:
            log.error("unmapped domain error %s", type(e).__name__)
            return error_response(fmt, 500, [(500, "An internal error occurred.")])
        response = error_response(fmt, status, _error_list(e, status))
        if isinstance(e, errors.RateLimitedError | errors.StoreUnavailableError):
            response.headers["Retry-After"] = str(e.retry_after)
        return response
    except Exception:
        log.exception("unhandled error in an Open311 route")
        return error_response(fmt, 500, [(500, "An internal error occurred.")])
    body, content_type = render(fmt, document.root, document.item, document.data)
    return Response(
        body=body,
        status_code=document.status,
        headers={"Content-Type": content_type, **document.headers},
    )


def _not_found(name: str) -> Document:
    raise errors.NotFoundError(f"{PREFIX}/{name[:50]} is not an Open311 resource.")


def endpoint_url(request: Request | None) -> str:
    """The endpoint's absolute URL as the client reached it (behind API Gateway, its stage)."""
    if request is None:
        return PREFIX
    host = header(request, "Host") or ""
    path = str(request.context.get("path") or "")
    suffix = request.path.replace("{resource}", "")
    base = path[: path.rfind(suffix)] if suffix and suffix in path else ""
    if not _HOST.match(host) or not re.fullmatch(r"(/[A-Za-z0-9_\-]+)*", base):
        return PREFIX
    proto = (header(request, "X-Forwarded-Proto") or "").lower()
    if proto not in ("http", "https"):
        local = host.split(":")[0] in ("127.0.0.1", "localhost")
        proto = "http" if local else "https"
    return f"{proto}://{host}{base}{PREFIX}"


def parse_form(request: Request | None) -> dict[str, list[str]]:
    """An ``application/x-www-form-urlencoded`` body: 413 when too large, 400 when malformed."""
    raw = b"" if request is None else request.raw_body
    raw = raw.encode("utf-8") if isinstance(raw, str) else (raw or b"")
    if len(raw) > MAX_BODY_BYTES:
        raise errors.PayloadTooLargeError(
            f"The request body must be at most {MAX_BODY_BYTES} bytes (got {len(raw)})."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.ValidationError("The request body is not valid UTF-8.") from None
    if not text.strip():
        return {}
    try:
        return parse_qs(
            text,
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except ValueError:  # also UnicodeDecodeError from a bad %-escape
        raise errors.ValidationError(
            "The request body is not a well-formed form (name=value pairs joined by &, "
            f"UTF-8, at most {MAX_FORM_FIELDS} fields)."
        ) from None


def _params(request: Request | None) -> dict[str, str | None]:
    return {name: query(request, name) for name in _QUERY_PARAMS}


@bp.route(PREFIX + "/{resource}", methods=["GET"], cors=CORS)
def read(resource: str) -> Response:
    """``discovery``, ``services`` and ``requests`` in JSON or XML."""
    request = bp.current_request
    name, fmt = split(resource)
    lang = language(request)

    def produce() -> Document:
        deps.rate_limit_service().enforce(source_ip(request), "open311_read")
        service = deps.open311_service()
        if name == "discovery":
            return Document("discovery", None, service.discovery(endpoint_url(request)))
        if name == "services":
            return Document("services", "service", service.services(lang))
        if name == "requests":
            return Document("service_requests", "request", service.requests(_params(request), lang))
        return _not_found(resource)

    return answer(fmt, produce)


@bp.route(
    PREFIX + "/{resource}",
    methods=["POST"],
    cors=CORS,
    content_types=["application/x-www-form-urlencoded"],
)
def create(resource: str) -> Response:
    """``POST requests``: a new service request (form-encoded, with an ``api_key``)."""
    request = bp.current_request
    name, fmt = split(resource)

    def produce() -> Document:
        if name != "requests":
            return _not_found(resource)
        form = parse_form(request)
        keys = form.get("api_key") or []
        api_key = keys[0] if len(keys) == 1 else query(request, "api_key")
        created = deps.open311_service().submit(
            form, api_key, language(request), header(request, "Idempotency-Key")
        )
        location = f"{PREFIX}/requests/{created[0]['service_request_id']}.{fmt}"
        return Document("service_requests", "request", created, 201, {"Location": location})

    return answer(fmt, produce)


@bp.route(PREFIX + "/services/{file}", methods=["GET"], cors=CORS)
def service_definition(file: str) -> Response:
    """``GET services/{service_code}``: the service's attributes."""
    request = bp.current_request
    code, fmt = split(file)
    lang = language(request)

    def produce() -> Document:
        deps.rate_limit_service().enforce(source_ip(request), "open311_read")
        return Document("service_definition", None, deps.open311_service().definition(code, lang))

    return answer(fmt, produce)


@bp.route(PREFIX + "/requests/{file}", methods=["GET"], cors=CORS)
def one_request(file: str) -> Response:
    """``GET requests/{service_request_id}``: one service request."""
    request = bp.current_request
    number, fmt = split(file)
    key = header(request, "X-Ticket-Key")
    lang = language(request)

    def produce() -> Document:
        limits = deps.rate_limit_service()
        with limits.keyed(source_ip(request), "open311_read", with_key=key is not None):
            found = deps.open311_service().request(number, lang, key)
        return Document("service_requests", "request", found)

    return answer(fmt, produce)


# Chalice's own answers (405, 415, before any view runs) in the standard's error format.
_CHALICE_CODES = frozenset({400, 403, 404, 405, 413, 415})


def reshape_chalice_error(request: Request | None, response: Response) -> Response:
    """On Open311 paths, turn Chalice's ``{"Code", "Message"}`` errors into the standard's."""
    path = "" if request is None else str(request.path or "")
    body = response.body
    if (
        not path.startswith(PREFIX + "/")
        or response.status_code not in _CHALICE_CODES
        or not isinstance(body, dict)
        or "Code" not in body
    ):
        return response
    fmt = None
    if request is not None and request.uri_params:
        fmt = split(next(iter(request.uri_params.values()), ""))[1]
    message = str(body.get("Message", ""))[:200] or "The request cannot be served."
    reshaped = error_response(fmt, response.status_code, [(response.status_code, message)])
    for name, value in response.headers.items():
        if name.lower() != "content-type" and isinstance(value, str):
            reshaped.headers[name] = value
    return reshaped
