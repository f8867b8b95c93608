"""Blobs in a folder (the ``local`` stage): the same upload-form contract as S3, enforced here.

Objects live under ``<root>/objects/<key>`` and their Content-Type under ``<root>/types/<key>``
(``root`` is inside the git-ignored data folder). An upload form carries a policy (key,
Content-Type, maximum size, expiry) signed with the server secret; the local-only upload route
(``routes/attachments.py``) checks it as S3 checks a presigned POST policy, so the browser code
is the same for both. View links are signed the same way and expire.

Form and link URLs are paths on the API (``/v1/local-blobs/...``); clients resolve them against
the API's address, as they do every API path.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from urllib.parse import quote

from chalicelib.blobs.port import Blob, UploadForm
from chalicelib.crypto.port import Keyring
from chalicelib.errors import ForbiddenError, PayloadTooLargeError, ValidationError

UPLOAD_PATH = "/v1/local-blobs/upload"
VIEW_PATH = "/v1/local-blobs/view"
# Room for the form's text fields and the multipart framing around the file.
FORM_OVERHEAD = 16 * 1024


def _safe_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValidationError("The object key is not valid.", {"key": "is not valid"})
    return key


def _epoch(t: datetime) -> int:
    return int(t.timestamp())


class LocalBlobStore:
    """Objects under ``root``; forms and links signed with ``keyring``."""

    def __init__(self, root: Path, keyring: Keyring) -> None:
        self.root = Path(root)
        self._keyring = keyring

    def _object(self, key: str) -> Path:
        return self.root / "objects" / _safe_key(key)

    def _type(self, key: str) -> Path:
        return self.root / "types" / _safe_key(key)

    def _sign(self, purpose: str, data: str) -> str:
        return self._keyring.mac(purpose, data.encode("utf-8")).hex()

    # -- the port ---------------------------------------------------------------------------

    def upload_form(
        self, key: str, content_type: str, max_bytes: int, expires_at: datetime
    ) -> UploadForm:
        policy = {
            "key": _safe_key(key),
            "content_type": content_type,
            "max_bytes": max_bytes,
            "expires": _epoch(expires_at),
        }
        encoded = base64.b64encode(json.dumps(policy, sort_keys=True).encode()).decode()
        fields = {
            "key": key,
            "Content-Type": content_type,
            "policy": encoded,
            "signature": self._sign("blob-upload", encoded),
        }
        return UploadForm(UPLOAD_PATH, fields, expires_at)

    def size(self, key: str) -> int | None:
        try:
            return self._object(key).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            return None

    def get(self, key: str) -> Blob | None:
        try:
            data = self._object(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        try:
            content_type = self._type(key).read_text("utf-8")
        except FileNotFoundError:
            content_type = "application/octet-stream"
        return Blob(data, content_type)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._write(self._type(key), content_type.encode("utf-8"))
        self._write(self._object(key), data)

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            for path in (self._object(key), self._type(key)):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                self._prune(path.parent)

    def list(self, prefix: str) -> list[str]:
        base = self.root / "objects"
        if not base.is_dir():
            return []
        found = (p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())
        return sorted(k for k in found if k.startswith(prefix) and "/.tmp-" not in f"/{k}")

    def view_url(self, key: str, expires_at: datetime) -> str:
        expires = _epoch(expires_at)
        signature = self._sign("blob-view", f"{_safe_key(key)}\n{expires}")
        return f"{VIEW_PATH}?key={quote(key, safe='')}&expires={expires}&signature={signature}"

    # -- the local-only routes ---------------------------------------------------------------

    def accept_upload(self, fields: Mapping[str, str], file: bytes, now: datetime) -> str:
        """Store an upload after checking its form as S3 would; returns the key.

        ForbiddenError when the policy is not ours, expired, or does not match the fields;
        PayloadTooLargeError / ValidationError for a file outside the size range.
        """
        encoded = fields.get("policy", "")
        expected = self._sign("blob-upload", encoded)
        if not encoded or not hmac.compare_digest(expected, fields.get("signature", "")):
            raise ForbiddenError("The upload form's signature is not valid.")
        try:
            policy = json.loads(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            raise ForbiddenError("The upload form's policy is not valid.") from None
        if now.timestamp() > policy["expires"]:
            raise ForbiddenError("The upload form has expired; ask for a new one.")
        if fields.get("key") != policy["key"]:
            raise ForbiddenError("The upload form does not allow this key.")
        if fields.get("Content-Type") != policy["content_type"]:
            raise ForbiddenError("The upload form does not allow this Content-Type.")
        if len(file) > policy["max_bytes"]:
            raise PayloadTooLargeError(
                f"The file is larger than {policy['max_bytes']} bytes.", {"file": "too large"}
            )
        if not file:
            raise ValidationError("The file is empty.", {"file": "is empty"})
        self.put(policy["key"], file, policy["content_type"])
        return str(policy["key"])

    def open_link(self, key: str, expires: str, signature: str, now: datetime) -> Blob:
        """The object behind a view link, after checking its signature and expiry."""
        if not expires.isdigit() or len(expires) > 12:
            raise ForbiddenError("The link is not valid.")
        expected = self._sign("blob-view", f"{_safe_key(key)}\n{expires}")
        if not hmac.compare_digest(expected, signature):
            raise ForbiddenError("The link is not valid.")
        if now.timestamp() > int(expires):
            raise ForbiddenError("The link has expired; reload the page for a new one.")
        blob = self.get(key)
        if blob is None:
            raise ForbiddenError("The link is not valid.")
        return blob

    # -- files -------------------------------------------------------------------------------

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def _prune(self, folder: Path) -> None:
        """Remove folders a deletion emptied, up to the root."""
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent


def parse_form(body: bytes, content_type: str | None) -> tuple[dict[str, str], bytes]:
    """The text fields and the ``file`` part of a multipart/form-data body (as S3 reads it)."""
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        raise ValidationError(
            "Send the upload as multipart/form-data.", {"Content-Type": "must be multipart"}
        )
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ValidationError("The upload form is not valid multipart/form-data.")
    fields: dict[str, str] = {}
    file: bytes | None = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if name == "file":
            file = data
            break  # as on S3, fields after the file are ignored
        fields[name] = data.decode("utf-8", errors="replace")
    if file is None:
        raise ValidationError("The upload form has no file.", {"file": "is required"})
    return fields, file
