"""The blob store port: private objects (photo attachments) by key, direct-upload forms and
short-lived links.

Two adapters: ``s3.py`` (a private bucket; presigned POST forms and presigned GET links) and
``local.py`` (a folder under the git-ignored data folder; HMAC-signed forms and links served
by local-stage-only routes). They are the only code that touches attachment bytes at rest.

Example::

    form = blobs.upload_form("quarantine/FB-.../abc", "image/jpeg", 5_242_880, expires=now + 600s)
    # the browser POSTs multipart/form-data: form.fields + the file, to form.url
    blob = blobs.get("quarantine/FB-.../abc")     # Blob(data, content_type) or None
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Blob:
    """An object's bytes and the Content-Type it was stored with."""

    data: bytes
    content_type: str


@dataclass(frozen=True)
class UploadForm:
    """A browser upload: POST multipart/form-data to ``url`` with ``fields`` then ``file``."""

    url: str
    fields: dict[str, str]
    expires_at: datetime


class BlobStore(Protocol):
    """Private objects by key."""

    def upload_form(
        self, key: str, content_type: str, max_bytes: int, expires_at: datetime
    ) -> UploadForm:
        """A form that lets a browser upload exactly ``key`` with exactly ``content_type`` and
        1 to ``max_bytes`` bytes, until ``expires_at``."""
        ...

    def size(self, key: str) -> int | None:
        """The object's size in bytes (without reading it), or None when absent."""
        ...

    def get(self, key: str) -> Blob | None:
        """The object, or None when absent."""
        ...

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Create or replace an object."""
        ...

    def delete(self, keys: Sequence[str]) -> None:
        """Delete objects (missing ones are fine)."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Every key under ``prefix``."""
        ...

    def view_url(self, key: str, expires_at: datetime) -> str:
        """A link that shows the object until ``expires_at`` (no credentials needed)."""
        ...
