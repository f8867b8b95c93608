"""Blobs in a private S3 bucket: presigned POST forms for uploads, presigned GET links to view.

The POST policy fixes the exact key, the exact Content-Type and the size range, so a form cannot
be reused for another key (another ticket) or another type; S3 enforces it. Links and forms are
signed with Signature V4 by the Lambda role and expire within minutes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.blobs.port import Blob, UploadForm
from chalicelib.errors import StoreUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

_DELETE_BATCH = 1000
_MISSING = ("NoSuchKey", "404", "NotFound")


class S3BlobStore:
    """Objects in ``bucket``; ``clock_now`` gives the time the expiries are counted from."""

    def __init__(
        self,
        bucket: str,
        client_factory: Callable[[], S3Client],
        clock_now: Callable[[], datetime],
    ) -> None:
        self.bucket = bucket
        self._factory = client_factory
        self._now = clock_now
        self._client: S3Client | None = None

    @property
    def client(self) -> S3Client:
        if self._client is None:
            self._client = self._factory()
        return self._client

    def _seconds_until(self, expires_at: datetime) -> int:
        return max(1, math.floor((expires_at - self._now()).total_seconds()))

    def upload_form(
        self, key: str, content_type: str, max_bytes: int, expires_at: datetime
    ) -> UploadForm:
        answer = self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, max_bytes],
            ],
            ExpiresIn=self._seconds_until(expires_at),
        )
        return UploadForm(answer["url"], dict(answer["fields"]), expires_at)

    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise StoreUnavailableError(f"cannot read an attachment: {e}") from e
        return int(answer["ContentLength"])

    def get(self, key: str) -> Blob | None:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise StoreUnavailableError(f"cannot read an attachment: {e}") from e
        return Blob(answer["Body"].read(), answer.get("ContentType", ""))

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), _DELETE_BATCH):
            chunk = keys[start : start + _DELETE_BATCH]
            answer = self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
            )
            if answer.get("Errors"):
                raise StoreUnavailableError(f"could not delete attachments: {answer['Errors'][0]}")

    def list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return sorted(keys)

    def view_url(self, key: str, expires_at: datetime) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=self._seconds_until(expires_at),
        )
        return url


def make_blob_client(region: str) -> S3Client:
    """An S3 client for attachments: Signature V4 and the regional virtual-hosted endpoint, so
    forms and links all name ``https://<bucket>.s3.<region>.amazonaws.com`` (the origin the
    site's CSP and the bucket's CORS rule allow)."""
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "virtual"},
        retries={"mode": "standard", "total_max_attempts": 3},
    )
    return boto3.session.Session().client(
        "s3", region_name=region, endpoint_url=f"https://s3.{region}.amazonaws.com", config=config
    )
