"""One suite for the blob store port (photo attachments), on the local folder and on S3 (moto)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.blobs.port import BlobStore
from chalicelib.crypto.local import LocalKeyring

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BUCKET = "clearloop-test-blobs"


@pytest.fixture(params=["local", "s3-moto"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "local":
        from chalicelib.blobs.local import LocalBlobStore

        yield LocalBlobStore(tmp_path / "blobs", LocalKeyring(tmp_path / "secret.key"))
        return
    from moto import mock_aws

    from chalicelib.blobs.s3 import S3BlobStore, make_blob_client

    with mock_aws():
        client = make_blob_client("us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield S3BlobStore(BUCKET, lambda: client, lambda: NOW)


def test_put_get_size_list_delete(blobs: BlobStore) -> None:
    assert blobs.get("attachments/FB-1/a.jpg") is None
    assert blobs.size("attachments/FB-1/a.jpg") is None
    blobs.put("attachments/FB-1/a.jpg", b"\xff\xd8\xffimage", "image/jpeg")
    blobs.put("attachments/FB-1/a.thumb.jpg", b"thumb", "image/jpeg")
    blobs.put("attachments/FB-2/b.png", b"png", "image/png")
    blob = blobs.get("attachments/FB-1/a.jpg")
    assert blob is not None
    assert (blob.data, blob.content_type) == (b"\xff\xd8\xffimage", "image/jpeg")
    assert blobs.size("attachments/FB-1/a.jpg") == 8
    assert blobs.list("attachments/FB-1/") == [
        "attachments/FB-1/a.jpg",
        "attachments/FB-1/a.thumb.jpg",
    ]
    blobs.delete(["attachments/FB-1/a.jpg", "attachments/FB-1/a.thumb.jpg", "missing/too"])
    assert blobs.list("attachments/FB-1/") == []
    assert blobs.list("") == ["attachments/FB-2/b.png"]
    blobs.put("attachments/FB-2/b.png", b"png2", "image/png")  # replace
    again = blobs.get("attachments/FB-2/b.png")
    assert again is not None
    assert again.data == b"png2"


def test_upload_forms_fix_key_type_size_and_expiry(blobs: BlobStore) -> None:
    expires = NOW + timedelta(minutes=10)
    form = blobs.upload_form("quarantine/FB-1/abc", "image/png", 1000, expires)
    assert form.expires_at == expires
    assert form.fields["key"] == "quarantine/FB-1/abc"
    assert form.fields["Content-Type"] == "image/png"
    policy = json.loads(base64.b64decode(form.fields["policy"]))
    if "conditions" in policy:  # S3's POST policy
        assert {"key": "quarantine/FB-1/abc"} in policy["conditions"]
        assert {"Content-Type": "image/png"} in policy["conditions"]
        assert ["content-length-range", 1, 1000] in policy["conditions"]
    else:  # the local stand-in's signed policy
        assert policy == {
            "key": "quarantine/FB-1/abc",
            "content_type": "image/png",
            "max_bytes": 1000,
            "expires": int(expires.timestamp()),
        }


def test_view_links_name_the_object(blobs: BlobStore) -> None:
    blobs.put("attachments/FB-1/a.png", b"png", "image/png")
    url = blobs.view_url("attachments/FB-1/a.png", NOW + timedelta(minutes=5))
    assert "attachments%2FFB-1%2Fa.png" in url or "attachments/FB-1/a.png" in url


def test_unsafe_keys_are_refused_by_the_folder_store(tmp_path: Path) -> None:
    from chalicelib.blobs.local import LocalBlobStore
    from chalicelib.errors import ValidationError

    store = LocalBlobStore(tmp_path / "blobs", LocalKeyring(tmp_path / "secret.key"))
    for key in ("../outside", "/abs", "a//b", "a/./b"):
        with pytest.raises(ValidationError):
            store.put(key, b"x", "image/png")
    assert not (tmp_path / "outside").exists()
