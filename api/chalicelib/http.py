"""HTTP edge helpers: body parsing, the error format, and the one map from errors to statuses.

Every error leaves the API as ``{"error": {"code", "message", "fields"}}`` with the right status;
an unexpected exception becomes a 500 with a generic message and is logged, never shown.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec

from chalice.app import CORSConfig, Request, Response

from chalicelib import errors
from chalicelib.i18n.catalogue import MESSAGES
from chalicelib.i18n.message import Message, render, text
from chalicelib.i18n.negotiate import best_language

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32

log = logging.getLogger("clearloop.api")

STATUS_BY_ERROR: tuple[tuple[type[errors.ClearloopError], int], ...] = (
    (errors.ValidationError, 400),
    (errors.UnauthorizedError, 401),
    (errors.ForbiddenError, 403),
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.PayloadTooLargeError, 413),
    (errors.UnsupportedMediaTypeError, 415),
    (errors.IdempotencyMismatchError, 422),
    (errors.RateLimitedError, 429),
    (errors.StoreUnavailableError, 503),
)

SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

# Chalice's own rejections (before our code runs) and their codes in our error format.
_CHALICE_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    415: "unsupported_media_type",
    500: "internal_error",
}


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response with UTF-8 text (Chinese stays readable, not \\u-escaped)."""
    all_headers: dict[str, str | list[str]] = {"Content-Type": "application/json; charset=utf-8"}
    all_headers.update(headers or {})
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(body=text, status_code=status, headers=all_headers)


# The language of the request being handled (set by the app's edge middleware).
_LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar("language", default="en")


def current_language() -> str:
    return _LANGUAGE.get()


def set_language(language: str) -> contextvars.Token[str]:
    return _LANGUAGE.set(language)


def reset_language(token: contextvars.Token[str]) -> None:
    _LANGUAGE.reset(token)


def localised(code: str, message: str, language: str) -> str:
    """The message in ``language``: a catalogue ``Message`` re-rendered, other English text
    replaced by the general message of its code (English stays as written)."""
    if language == "en" or isinstance(message, Message):
        return render(message, language)
    key = f"error.{code}" if f"error.{code}" in MESSAGES["en"] else "error.error"
    return text(key, language)


def error_body(code: str, message: str, fields: Mapping[str, str] | None = None) -> dict[str, Any]:
    language = current_language()
    return {
        "error": {
            "code": code,
            "message": localised(code, message, language),
            "fields": {name: render(value, language) for name, value in (fields or {}).items()},
        }
    }


def error_response(error: errors.ClearloopError) -> Response:
    """Map a domain error to its status and the SPEC's error format."""
    status = 500
    for cls, code in STATUS_BY_ERROR:
        if isinstance(error, cls):
            status = code
            break
    headers = {}
    if isinstance(error, errors.RateLimitedError | errors.StoreUnavailableError):
        headers["Retry-After"] = str(error.retry_after)
    if status == 500:
        log.error("unmapped domain error %s", type(error).__name__)
        return json_response(error_body("internal_error", Message("error.internal_error")), 500)
    return json_response(error_body(error.code, error.message, error.fields), status, headers)


P = ParamSpec("P")


def handles_errors(view: Callable[P, Response]) -> Callable[P, Response]:
    """Decorator for views: domain errors become their 4xx/5xx; anything else a logged 500."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return view(*args, **kwargs)
        except errors.ClearloopError as e:
            return error_response(e)
        except Exception:
            log.exception("unhandled error in %s", view.__name__)
            return json_response(error_body("internal_error", Message("error.internal_error")), 500)

    return wrapper


def cors_config() -> CORSConfig:
    """CORS for the site's origin only (settings are plain values: cheap to read at import)."""
    from chalicelib.config import Settings

    return CORSConfig(
        allow_origin=Settings.from_env().site_origin,
        allow_headers=[
            "Content-Type",
            "Idempotency-Key",
            "X-Ticket-Key",
            "Authorization",
            "If-Match",
        ],
        expose_headers=["Retry-After", "ETag", "Location", "X-Next-Cursor"],
        max_age=600,
    )


def header(request: Request | None, name: str) -> str | None:
    if request is None:
        return None
    value: str | None = request.headers.get(name)
    return value


def query(request: Request | None, name: str) -> str | None:
    if request is None or not request.query_params:
        return None
    value: str | None = request.query_params.get(name)
    return value


def json_body(request: Request | None) -> Any:
    return parse_json_body(None if request is None else request.raw_body)


def language(request: Request | None) -> str:
    """The response language ``Accept-Language`` asks for: ``en`` (default) or ``zh``."""
    return best_language(header(request, "Accept-Language"))


def add_language_headers(response: Response, language: str) -> Response:
    """``Content-Language`` of the answer and ``Vary: Accept-Language`` for caches."""
    response.headers.setdefault("Content-Language", "zh-Hans" if language == "zh" else "en")
    vary = response.headers.get("Vary")
    if isinstance(vary, str) and vary:
        if "accept-language" not in vary.lower():
            response.headers["Vary"] = f"{vary}, Accept-Language"
    else:
        response.headers["Vary"] = "Accept-Language"
    return response


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a "\ud800" escape
        return False
    return True


def _check_shape(value: Any) -> None:
    """Reject nesting past MAX_JSON_DEPTH and text that is not valid Unicode (lone surrogates),
    which could not be stored or echoed back in an error message."""
    depth, frontier = 0, [value]
    while frontier:
        depth += 1
        if depth > MAX_JSON_DEPTH:
            raise errors.ValidationError(Message("body.too_deep"))
        nxt: list[Any] = []
        for v in frontier:
            if isinstance(v, dict):
                if not all(_encodable(k) for k in v):
                    raise errors.ValidationError(Message("body.bad_unicode_name"))
                nxt.extend(v.values())
            elif isinstance(v, list):
                nxt.extend(v)
            elif isinstance(v, str) and not _encodable(v):
                raise errors.ValidationError(Message("body.bad_unicode"))
        frontier = nxt


def parse_json_body(raw: bytes | str | None) -> Any:
    """Decode a request body: 413 when too large, 400 when not UTF-8 JSON or too deeply nested."""
    raw = raw.encode("utf-8") if isinstance(raw, str) else (raw or b"")
    if len(raw) > MAX_BODY_BYTES:
        raise errors.PayloadTooLargeError(
            Message("body.too_large", limit=MAX_BODY_BYTES, size=len(raw))
        )
    if not raw.strip():
        raise errors.ValidationError(Message("body.empty"))
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise errors.ValidationError(Message("body.not_utf8")) from None
    except RecursionError:
        raise errors.ValidationError(Message("body.too_deep")) from None
    except json.JSONDecodeError as e:
        raise errors.ValidationError(
            Message("body.not_json", line=e.lineno, column=e.colno)
        ) from None
    _check_shape(value)
    return value


def reshape_chalice_error(response: Response) -> Response:
    """Turn Chalice's own error bodies (``{"Code", "Message"}``) into our error format."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = _CHALICE_CODES.get(response.status_code, "error")
        message = str(body.get("Message", ""))
        if response.status_code >= 500:
            message = Message("error.internal_error")
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() != "content-type" and isinstance(v, str)
        }
        return json_response(error_body(code, message), response.status_code, headers)
    return response


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def source_ip(request: Request | None) -> str | None:
    """The client's address as API Gateway saw it (``chalice local`` always says 127.0.0.1).

    Only for rate limiting, which hashes it at once: never store or log it."""
    if request is None:
        return None
    identity = (request.context or {}).get("identity") or {}
    value = identity.get("sourceIp")
    return value if isinstance(value, str) else None
