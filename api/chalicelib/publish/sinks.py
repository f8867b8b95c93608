"""Where published files go: the site bucket on AWS, the built site folder locally.

A sink stores files by key (a path relative to the site root, ``board/items/FB-.../index.html``)
with the Content-Type and Cache-Control they must be served with, lists what it holds under a
prefix (so the publisher can delete pages that should no longer exist), and reads a file back
(the built site's ``index.html``, to link the same stylesheets).

Example::

    sink = DirectorySink(Path("build/site"))
    sink.write("transparency/index.html", body, "text/html; charset=utf-8", "no-cache")
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from chalicelib.errors import StoreUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

_DELETE_BATCH = 1000


class Sink(Protocol):
    """A place the publisher writes the public files to."""

    def describe(self) -> str:
        """Where the files go, for messages."""
        ...

    def read(self, key: str) -> bytes | None:
        """The file at ``key``, or None."""
        ...

    def write(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        """Create or replace ``key``; a reader sees the old or the new file, never a part."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Every key under ``prefix``."""
        ...

    def delete(self, keys: Sequence[str]) -> None:
        """Delete ``keys`` (missing ones are fine)."""
        ...


def _safe_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"unsafe key {key!r}")
    return key


class DirectorySink:
    """Files under a folder (the built site for ``clearloop run``); writes are atomic renames.

    The folder's web server decides the headers; Content-Type and Cache-Control are not stored.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def describe(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def write(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".publish-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(body)
            os.chmod(tmp, 0o644)  # a static file server (or a colleague) must be able to read it
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def list(self, prefix: str) -> list[str]:
        base = self.root / prefix.rstrip("/") if prefix else self.root
        if not base.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".publish-")
        )

    def delete(self, keys: Sequence[str]) -> None:
        folders = set()
        for key in keys:
            path = self._path(key)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            folders.add(path.parent)
        # Remove folders the deletions emptied (a withdrawn item's page folder), deepest first.
        for deepest in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            folder = deepest
            while folder != self.root and self.root in folder.parents:
                try:
                    folder.rmdir()
                except OSError:
                    break
                folder = folder.parent


class S3Sink:
    """Objects in the site bucket (behind CloudFront), with the headers they are served with."""

    def __init__(self, bucket: str, prefix: str, client_factory: Callable[[], S3Client]) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._factory = client_factory
        self._client: S3Client | None = None

    @property
    def client(self) -> S3Client:
        if self._client is None:
            self._client = self._factory()
        return self._client

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _key(self, key: str) -> str:
        key = _safe_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def read(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "AccessDenied"):
                return None
            raise StoreUnavailableError(f"cannot read s3://{self.bucket}/{key}: {e}") from e
        return answer["Body"].read()

    def write(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(key),
            Body=body,
            ContentType=content_type,
            CacheControl=cache_control,
        )

    def list(self, prefix: str) -> list[str]:
        root = f"{self.prefix}/" if self.prefix else ""
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=root + prefix
        ):
            keys.extend(obj["Key"][len(root) :] for obj in page.get("Contents", []))
        return sorted(keys)

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), _DELETE_BATCH):
            chunk = keys[start : start + _DELETE_BATCH]
            answer = self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": self._key(k)} for k in chunk], "Quiet": True},
            )
            errors = answer.get("Errors", [])
            if errors:
                raise StoreUnavailableError(
                    f"could not delete {len(errors)} old pages: {errors[0]}"
                )


def make_s3_client(region: str) -> S3Client:
    """An S3 client with standard retries (imported lazily: boto3 costs ~170 ms)."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "total_max_attempts": 3})
    return boto3.session.Session().client("s3", region_name=region, config=config)


@dataclass
class MemorySink:
    """Files in memory, with every operation in order (tests check what was written when)."""

    files: dict[str, tuple[bytes, str, str]] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)

    def describe(self) -> str:
        return "memory"

    def read(self, key: str) -> bytes | None:
        found = self.files.get(key)
        return None if found is None else found[0]

    def write(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        self.files[_safe_key(key)] = (body, content_type, cache_control)
        self.log.append(("write", key))

    def list(self, prefix: str) -> list[str]:
        return sorted(k for k in self.files if k.startswith(prefix))

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.files.pop(key, None)
            self.log.append(("delete", key))
