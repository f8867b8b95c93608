"""A WSGI face for the Chalice app, through the same API Gateway emulation ``chalice local`` uses.

``chalice local`` is ``http.server`` around ``chalice.local.LocalGateway``: it matches the route,
answers CORS preflights, emulates API Gateway's 403 for unknown paths and calls the app (with its
middleware). This adapter hands the gateway what the HTTP handler would (method, the raw path
with its query string, the headers, the body) and returns its answer as WSGI, so schemathesis can
drive the real app in-process: no sockets, no server threads, one request at a time.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class ChaliceWsgi:
    """``ChaliceWsgi(app)`` is a WSGI application serving ``app`` as ``chalice local`` does."""

    def __init__(self, app: Chalice, stage: str = "local") -> None:
        self.gateway = LocalGateway(app, Config(chalice_stage=stage))

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        # The path as the client sent it (still percent-encoded), as http.server hands it over:
        # re-encoding PATH_INFO could turn an escaped ";" or "?" into a real one.
        path = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if not path:
            path = quote(environ.get("PATH_INFO", "/").encode("latin-1"), safe="/")
        if "?" not in path and environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = {
            name[5:].replace("_", "-").title(): value
            for name, value in environ.items()
            if name.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else None
        if body is not None:
            headers["Content-Length"] = str(len(body))
        try:
            answer = self.gateway.handle_request(method, path, headers, body)
        except LocalGatewayException as e:
            return self._send(start_response, e.CODE, dict(e.headers), e.body)
        merged: dict[str, Any] = dict(answer["headers"])
        merged.update(answer.get("multiValueHeaders") or {})
        payload = answer["body"]
        if answer.get("isBase64Encoded") and payload is not None:
            payload = base64.b64decode(payload)
        return self._send(start_response, answer["statusCode"], merged, payload)

    @staticmethod
    def _send(
        start_response: StartResponse, status: int, headers: dict[str, Any], body: Any
    ) -> Iterable[bytes]:
        data = b"" if body is None else body if isinstance(body, bytes) else body.encode()
        out: list[tuple[str, str]] = []
        for name, value in headers.items():
            for item in value if isinstance(value, list) else [value]:
                out.append((name, str(item)))
        if body is not None and not any(n.lower() == "content-type" for n, _ in out):
            out.append(("Content-Type", "application/json"))  # as chalice local does
        out.append(("Content-Length", str(len(data))))
        start_response(f"{status} {_REASONS.get(status, 'Status')}", out)
        return [data]


_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
