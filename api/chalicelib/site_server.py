"""The local site server: the built MkDocs site on 127.0.0.1 with the production security headers.

``security_headers`` is the single source of the site's headers: the local runner serves them
here, and the deployment (``infra/template.py``) gives CloudFront the same policy. The content
types are explicit so an answer never depends on the machine's ``/etc/mime.types`` (the deploy
script uploads with the same table).

Example::

    server = SiteServer(8001, Path("build/site"), "http://127.0.0.1:8000", open("site.log", "a"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
"""

from __future__ import annotations

import os
import threading
import traceback
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

HOST = "127.0.0.1"


def security_headers(api_origin: str, upload_origin: str | None = None) -> dict[str, str]:
    """The production security headers for the site, allowing calls to ``api_origin`` only
    (and to ``upload_origin``, the photo bucket, on AWS). Images may come from the API (photos
    behind signed links on the local stage), the photo bucket, and ``blob:`` (the form's
    previews of the chosen photos)."""
    uploads = f" {upload_origin}" if upload_origin else ""
    csp = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob: {api_origin}{uploads}",
            "font-src 'self'",
            f"connect-src 'self' {api_origin}{uploads}",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            f"form-action 'self' {api_origin}",
        ]
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
    }


# Explicit so the answer does not depend on the machine's /etc/mime.types.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".xml": "application/xml",
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".pdf": "application/pdf",
    ".gz": "application/gzip",
}


class SiteServer(ThreadingHTTPServer):
    """Serves a built static site with security headers; access log to a file, not the console."""

    daemon_threads = True

    def __init__(self, port: int, site_dir: Path, api_origin: str, access_log: TextIO) -> None:
        self.site_dir = site_dir
        self.headers = security_headers(api_origin)
        self.access_log = access_log
        self._log_lock = threading.Lock()
        handler = partial(SiteRequestHandler, directory=str(site_dir))
        super().__init__((HOST, port), handler)

    def log(self, line: str) -> None:
        with self._log_lock:
            self.access_log.write(line + "\n")
            self.access_log.flush()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Broken pipes from browsers are normal; keep tracebacks out of the console.
        self.log(f"error while serving {client_address}:\n{traceback.format_exc()}")


class SiteRequestHandler(SimpleHTTPRequestHandler):
    """Static files, ``index.html`` for directories, the site's own ``404.html``, no listings."""

    server_version = "clearloop-site"

    def version_string(self) -> str:
        return self.server_version  # no Python version in the Server header

    def _site(self) -> SiteServer:
        assert isinstance(self.server, SiteServer)  # noqa: S101 - only SiteServer uses it
        return self.server

    def end_headers(self) -> None:
        for name, value in self._site().headers.items():
            self.send_header(name, value)
        # Rebuilt often while developing: let the browser revalidate every time.
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        suffix = Path(path).suffix.lower()
        return CONTENT_TYPES.get(suffix) or super().guess_type(path)

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(404, "Not found")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = self._site().site_dir / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404, message)
        self.send_header("Content-Type", CONTENT_TYPES[".html"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        self._site().log(f"{self.log_date_time_string()} {self.address_string()} {format % args}")
