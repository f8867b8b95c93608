"""Photo attachments through the API (issue #12): on SQLite with the local folder store, and on
DynamoDB (moto) with the S3 store (moto's S3, presigned POST forms and GET links).

Acceptance: a JPEG carrying GPS EXIF and a camera serial comes back, stored and served, with no
metadata at all (read back from the bytes); a PHP file named .jpg, a PNG declared as JPEG, a
6 MB image, a decompression bomb, a truncated file, a fourth image and an upload to another
ticket's form are each refused with a clear 4xx and leave no object behind.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib import deps
from chalicelib.domain.attachments import image_key, quarantine_key, thumb_key
from tests.functional.conftest import Api
from tests.functional.staff_helpers import MovableClock, bearer, make_staff, submit
from tests.support import images

BUCKET = "clearloop-test-attachments"
MB = 1024 * 1024


@dataclass
class Photos:
    """The API of one test, its blob store kind (``local`` or ``s3``) and helpers."""

    api: Api
    kind: str
    clock: MovableClock

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        h = {"Content-Type": "application/json", **headers}
        text = None if body is None else json.dumps(body)
        return getattr(self.api.client.http, method.lower())(path, headers=h, body=text)

    def form(self, ticket: dict[str, Any], content_type: str, size: int) -> Any:
        return self.call(
            "POST",
            f"/v1/tickets/{ticket['number']}/attachments",
            {"content_type": content_type, "size": size},
            **{"X-Ticket-Key": ticket["key"]},
        )

    def upload(
        self, form: dict[str, Any], data: bytes, fields: dict[str, str] | None = None
    ) -> int:
        """POST the file with the form's fields, as the browser does; the status code."""
        fields = dict(form["fields"] if fields is None else fields)
        if form["url"].startswith("/"):
            boundary = uuid.uuid4().hex
            body = b"".join(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                for k, v in fields.items()
            )
            body += (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                'filename="photo.jpg"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            body += data + f"\r\n--{boundary}--\r\n".encode()
            r = self.api.client.http.post(
                form["url"],
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                body=body,
            )
            return int(r.status_code)
        import requests

        r = requests.post(form["url"], data=fields, files={"file": ("photo.jpg", data)}, timeout=10)
        return r.status_code

    def complete(self, ticket: dict[str, Any], attachment_id: str, **body: Any) -> Any:
        return self.call(
            "POST",
            f"/v1/tickets/{ticket['number']}/attachments/{attachment_id}/complete",
            body or None,
            **{"X-Ticket-Key": ticket["key"]},
        )

    def attach(self, ticket: dict[str, Any], data: bytes, content_type: str) -> Any:
        """Form, upload, complete: the completion's response."""
        r = self.form(ticket, content_type, len(data))
        assert r.status_code == 201, r.body
        form = json.loads(r.body)
        assert self.upload(form, data) in (200, 201, 204)
        return self.complete(ticket, form["attachment_id"], filename="photo.jpg")

    def fetch(self, url: str) -> bytes:
        """What a browser gets from a view link."""
        if url.startswith("/"):
            r = self.api.client.http.get(url, headers={"Accept": "image/*,*/*"})
            assert r.status_code == 200, r.body
            return bytes(r.body)
        import requests

        r = requests.get(url, timeout=10)
        assert r.status_code == 200
        return r.content

    def objects(self) -> list[str]:
        return deps.blobs().list("")


@pytest.fixture
def photos(api: Api) -> Iterator[Photos]:
    clock = MovableClock()
    if api.kind == "sqlite":
        deps.override(clock=clock)
        yield Photos(api, "local", clock)
        return
    from chalicelib.blobs.s3 import make_blob_client

    make_blob_client("us-east-1").create_bucket(Bucket=BUCKET)
    settings = dataclasses.replace(api.settings, attachment_bucket=BUCKET)
    deps.override(settings=settings, clock=clock)
    yield Photos(api, "s3", clock)


def error_code(r: Any) -> str:
    return str(json.loads(r.body)["error"]["code"])


# -- acceptance: metadata is gone -------------------------------------------------------------


def test_gps_exif_and_serial_are_gone_from_stored_and_served_copies(photos: Photos) -> None:
    original = images.jpeg_with_gps((64, 48), orientation=6)
    assert images.has_metadata(original)  # the test photo does carry GPS and the serial
    ticket = submit(photos.api)
    r = photos.attach(ticket, original, "image/jpeg")
    assert r.status_code == 201, r.body
    record = json.loads(r.body)
    assert record["content_type"] == "image/jpeg"
    assert (record["width"], record["height"]) == (48, 64)  # EXIF orientation applied, then gone
    assert record["filename"] == "photo.jpg"
    number, aid = ticket["number"], record["id"]

    # Stored: the clean copy and its thumbnail; the original is gone from quarantine.
    assert photos.objects() == sorted(
        [image_key(number, aid, "image/jpeg"), thumb_key(number, aid, "image/jpeg")]
    )
    for key in photos.objects():
        blob = deps.blobs().get(key)
        assert blob is not None
        assert images.has_metadata(blob.data) == [], key

    # Served: to staff and to the submitter, through short-lived links.
    token = make_staff("al", "agent", ["customer-service"])
    staff = json.loads(photos.api.get(f"/v1/staff/tickets/{number}", **bearer(token)).body)
    [seen] = staff["attachments"]
    assert seen["id"] == aid
    for url in (seen["url"], seen["thumbnail_url"]):
        served = photos.fetch(url)
        assert served[:3] == b"\xff\xd8\xff"
        assert images.has_metadata(served) == []
    mine = json.loads(
        photos.api.get(f"/v1/tickets/{number}", **{"X-Ticket-Key": ticket["key"]}).body
    )
    assert [a["id"] for a in mine["attachments"]] == [aid]
    assert images.has_metadata(photos.fetch(mine["attachments"][0]["url"])) == []
    assert mine["timeline"][-1]["kind"] == "attachment_added"
    # Without the key: the status only, no photos.
    assert "attachments" not in json.loads(photos.api.get(f"/v1/tickets/{number}").body)


def test_png_and_webp_are_accepted_and_cleaned(photos: Photos) -> None:
    ticket = submit(photos.api)
    for data, content_type in ((images.png(), "image/png"), (images.webp(), "image/webp")):
        r = photos.attach(ticket, data, content_type)
        assert r.status_code == 201, r.body
        record = json.loads(r.body)
        served = photos.fetch(record["url"])
        assert images.has_metadata(served) == []
        assert record["content_type"] == content_type


def test_links_expire_within_five_minutes(photos: Photos) -> None:
    ticket = submit(photos.api)
    record = json.loads(photos.attach(ticket, images.png(), "image/png").body)
    expires_at = datetime.fromisoformat(record["links_expire_at"])
    assert expires_at - photos.clock.now() <= timedelta(minutes=5)
    if photos.kind == "s3":  # S3 enforces the signed expiry itself
        for url in (record["url"], record["thumbnail_url"]):
            assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["300"]
        return
    photos.clock.advance(minutes=6)
    r = photos.api.client.http.get(record["url"], headers={"Accept": "image/*"})
    assert r.status_code == 403
    tampered = record["url"].replace("expires=", "expires=9")
    photos.clock.advance(minutes=-6)
    assert photos.api.client.http.get(tampered, headers={"Accept": "image/*"}).status_code == 403


# -- acceptance: what is refused leaves nothing behind ------------------------------------------


BAD_FILES = {
    "php renamed .jpg": (lambda: images.PHP, "image/jpeg", 415, "attachment_type_mismatch"),
    "png declared as jpeg": (images.png, "image/jpeg", 415, "attachment_type_mismatch"),
    "decompression bomb": (images.png_bomb, "image/png", 413, "attachment_too_many_pixels"),
    "truncated jpeg": (images.truncated_jpeg, "image/jpeg", 400, "attachment_undecodable"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_are_refused_and_leave_nothing(photos: Photos, case: str) -> None:
    make, content_type, status, code = BAD_FILES[case]
    data = make()
    ticket = submit(photos.api)
    r = photos.attach(ticket, data, content_type)
    assert r.status_code == status, r.body
    assert error_code(r) == code
    assert json.loads(r.body)["error"]["message"]
    assert photos.objects() == []
    view = json.loads(
        photos.api.get(f"/v1/tickets/{ticket['number']}", **{"X-Ticket-Key": ticket["key"]}).body
    )
    assert view["attachments"] == []


def test_six_megabytes_is_refused_before_and_after_upload(photos: Photos) -> None:
    big = images.big_jpeg(6 * MB)
    ticket = submit(photos.api)
    # Declared honestly: no form at all.
    r = photos.form(ticket, "image/jpeg", len(big))
    assert r.status_code == 413
    assert error_code(r) == "attachment_too_large"
    # Declared small, then the big file sent anyway: refused by the upload (local; S3 enforces
    # the policy's content-length-range) or by the completion (moto does not enforce policies).
    form = json.loads(photos.form(ticket, "image/jpeg", 1000).body)
    status = photos.upload(form, big)
    if status < 300:
        r = photos.complete(ticket, form["attachment_id"])
        assert r.status_code == 413
        assert error_code(r) == "attachment_too_large"
    else:
        assert status == 413
    assert photos.objects() == []


def test_a_fourth_photo_is_refused(photos: Photos) -> None:
    ticket = submit(photos.api)
    forms = [json.loads(photos.form(ticket, "image/png", 2000).body) for _ in range(4)]
    for form in forms:
        assert photos.upload(form, images.png()) < 300
    for form in forms[:3]:
        assert photos.complete(ticket, form["attachment_id"]).status_code == 201
    # A fourth completion, its form obtained earlier: refused, and its upload deleted.
    r = photos.complete(ticket, forms[3]["attachment_id"])
    assert r.status_code == 409
    assert error_code(r) == "attachment_limit"
    assert all(forms[3]["attachment_id"] not in k for k in photos.objects())
    assert len(photos.objects()) == 6  # three photos, three thumbnails
    # No fifth form either.
    r = photos.form(ticket, "image/png", 2000)
    assert r.status_code == 409
    assert error_code(r) == "attachment_limit"


def test_another_tickets_form_cannot_be_used(photos: Photos) -> None:
    mine, theirs = submit(photos.api), submit(photos.api)
    form = json.loads(photos.form(theirs, "image/jpeg", 5000).body)
    # Retargeting their form at my ticket's quarantine: the signed policy fixes the key.
    fields = dict(form["fields"], key=quarantine_key(mine["number"], form["attachment_id"]))
    if photos.kind == "local":
        assert photos.upload(form, images.jpeg_with_gps(), fields) == 403
    else:
        policy = json.loads(base64.b64decode(form["fields"]["policy"]))
        assert {"key": quarantine_key(theirs["number"], form["attachment_id"])} in policy[
            "conditions"
        ]
    assert photos.objects() == []
    # Their form used as is, then completed on my ticket: nothing was uploaded for mine.
    assert photos.upload(form, images.jpeg_with_gps()) < 300
    r = photos.complete(mine, form["attachment_id"])
    assert r.status_code == 404
    assert error_code(r) == "attachment_not_found"
    view = json.loads(
        photos.api.get(f"/v1/tickets/{mine['number']}", **{"X-Ticket-Key": mine["key"]}).body
    )
    assert view["attachments"] == []


def test_the_upload_policy_fixes_key_type_size_and_expiry(photos: Photos) -> None:
    ticket = submit(photos.api)
    r = photos.form(ticket, "image/jpeg", 12345)
    assert r.status_code == 201
    form = json.loads(r.body)
    key = quarantine_key(ticket["number"], form["attachment_id"])
    assert form["fields"]["key"] == key
    assert form["fields"]["Content-Type"] == "image/jpeg"
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    expires_at = datetime.fromisoformat(form["expires_at"])
    assert timedelta(0) < expires_at - photos.clock.now() <= timedelta(minutes=10)
    if photos.kind == "s3":
        assert urlsplit(form["url"]).netloc == f"{BUCKET}.s3.us-east-1.amazonaws.com"
        conditions = policy["conditions"]
        assert {"key": key} in conditions
        assert {"bucket": BUCKET} in conditions
        assert {"Content-Type": "image/jpeg"} in conditions
        assert ["content-length-range", 1, 5 * MB] in conditions
        # S3 counts the expiry in real time; the policy says when.
        expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
        assert expiration - datetime.now(expiration.tzinfo) <= timedelta(minutes=10)
    else:
        assert form["url"] == "/v1/local-blobs/upload"
        assert policy["key"] == key
        assert policy["content_type"] == "image/jpeg"
        assert policy["max_bytes"] == 5 * MB
        assert policy["expires"] - photos.clock.now().timestamp() <= 600
        # The local form checks its expiry and its signature as S3 would.
        photos.clock.advance(minutes=11)
        assert photos.upload(form, images.jpeg_with_gps()) == 403
        photos.clock.advance(minutes=-11)
        forged = dict(form["fields"], signature="0" * 64)
        assert photos.upload(form, images.jpeg_with_gps(), forged) == 403
        wrong_type = dict(form["fields"], **{"Content-Type": "image/png"})
        assert photos.upload(form, images.png(), wrong_type) == 403
        assert photos.objects() == []


# -- the rest of the contract -------------------------------------------------------------------


def test_the_key_is_required_and_checked(photos: Photos) -> None:
    ticket = submit(photos.api)
    path = f"/v1/tickets/{ticket['number']}/attachments"
    body = {"content_type": "image/jpeg", "size": 100}
    r = photos.call("POST", path, body)
    assert r.status_code == 400
    r = photos.call("POST", path, body, **{"X-Ticket-Key": "wrong-key"})
    assert r.status_code == 403
    form = json.loads(photos.form(ticket, "image/jpeg", 100).body)
    r = photos.call("POST", f"{path}/{form['attachment_id']}/complete", None)
    assert r.status_code == 400


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"content_type": "image/gif", "size": 10}, 415, "content_type"),
        ({"content_type": "image/jpeg", "size": 0}, 400, "size"),
        ({"content_type": "image/jpeg", "size": "10"}, 400, "size"),
        ({"content_type": "image/jpeg"}, 400, "size"),
        ({"size": 10}, 400, "content_type"),
        ({"content_type": "image/jpeg", "size": 10, "extra": 1}, 400, "extra"),
    ],
)
def test_bad_form_requests(photos: Photos, body: Any, status: int, field: str) -> None:
    ticket = submit(photos.api)
    r = photos.call(
        "POST",
        f"/v1/tickets/{ticket['number']}/attachments",
        body,
        **{"X-Ticket-Key": ticket["key"]},
    )
    assert r.status_code == status, r.body
    assert field in json.loads(r.body)["error"]["fields"]


def test_completion_is_idempotent_and_needs_an_upload(photos: Photos) -> None:
    ticket = submit(photos.api)
    form = json.loads(photos.form(ticket, "image/png", 2000).body)
    r = photos.complete(ticket, form["attachment_id"])
    assert r.status_code == 404  # nothing uploaded yet
    assert photos.upload(form, images.png()) < 300
    first = photos.complete(ticket, form["attachment_id"])
    again = photos.complete(ticket, form["attachment_id"])
    assert (first.status_code, again.status_code) == (201, 200)
    assert json.loads(again.body)["id"] == json.loads(first.body)["id"]
    # The form still works for a few minutes: a second upload is deleted by the retry.
    assert photos.upload(form, images.png()) < 300
    assert photos.complete(ticket, form["attachment_id"]).status_code == 200
    assert not [k for k in photos.objects() if k.startswith("quarantine/")]
    assert photos.complete(ticket, "not-an-id").status_code == 404


def test_local_blob_routes_do_not_exist_on_aws_stages(photos: Photos) -> None:
    deps.override(settings=dataclasses.replace(photos.api.settings, stage="prod"))
    r = photos.api.client.http.get("/v1/local-blobs/view?key=a&expires=1&signature=x")
    assert r.status_code == 404


def test_retention_purges_photos_with_the_contact_details(photos: Photos) -> None:
    ticket = submit(photos.api, contact={"email": "ann@example.org", "consent_to_contact": True})
    assert photos.attach(ticket, images.jpeg_with_gps(), "image/jpeg").status_code == 201
    token = make_staff("sue", "supervisor", ["customer-service"])
    number = ticket["number"]
    r = photos.call(
        "POST",
        f"/v1/staff/tickets/{number}/transitions",
        {"status": "rejected", "text": "Not for us.", "reject_kind": "out_of_scope"},
        **bearer(token),
    )
    assert r.status_code == 200, r.body
    assert photos.objects()
    photos.clock.advance(days=364)
    assert deps.sweep_service().run(frozenset({"retention"})).purged == 0
    assert len(photos.objects()) == 2
    photos.clock.advance(days=2)
    assert deps.sweep_service().run(frozenset({"retention"})).purged == 1
    assert photos.objects() == []
    token = deps.staff_access_service().issue_token("sue", days=30).token
    r = photos.api.get(f"/v1/staff/tickets/{number}", **bearer(token))
    assert r.status_code == 200, r.body
    staff = json.loads(r.body)
    assert staff["attachments"] == []
    assert staff["has_contact"] is False
    kinds = [e["kind"] for e in staff["timeline"]]
    assert "attachments_purged" in kinds
    assert "contact_purged" in kinds


# -- publication --------------------------------------------------------------------------------


def test_a_supervisor_publishes_an_approved_photo_only_after_approval(photos: Photos) -> None:
    from chalicelib.publish.sinks import MemorySink
    from tests.functional.publication_helpers import publication, resolve

    sink = MemorySink()
    deps.override(site_sink=sink)
    sue = bearer(make_staff("sue", "supervisor", ["customer-service"]))
    created = resolve(photos.api, sue)
    number = created["number"]
    first = json.loads(photos.attach(created, images.jpeg_with_gps(), "image/jpeg").body)
    json.loads(photos.attach(created, images.png(), "image/png").body)  # never approved

    deps.publish_service().run()
    assert not [k for k in sink.files if k.startswith("board/items/")]  # not approved yet

    r = publication(photos.api, sue, number, {"action": "approve", "photos": ["x" * 26]})
    assert r.status_code == 400
    assert "photos" in json.loads(r.body)["error"]["fields"]
    r = publication(photos.api, sue, number, {"action": "approve", "photos": [first["id"]]})
    assert r.status_code == 200, r.body
    state = json.loads(r.body)["publication"]
    assert state["photos"] == [first["id"]]
    board_id = state["board_id"]

    deps.publish_service().run()
    item = f"board/items/{board_id}/"
    published = sorted(k for k in sink.files if k.startswith(item))
    assert published == [f"{item}index.html", f"{item}photo-1.jpg"]  # the approved one only
    body, content_type, _ = sink.files[f"{item}photo-1.jpg"]
    assert content_type == "image/jpeg"
    assert images.has_metadata(body) == []
    assert first["id"] not in sink.files[f"{item}index.html"][0].decode()
    photo_src = f'src="../../../board/items/{board_id}/photo-1.jpg"'
    assert photo_src in sink.files[f"{item}index.html"][0].decode()
    # The Chinese item page shows the same file, one level deeper.
    chinese = sink.files[f"zh/{item}index.html"][0].decode()
    assert f'src="../../../../board/items/{board_id}/photo-1.jpg"' in chinese
    assert "照片" in chinese

    r = publication(photos.api, sue, number, {"action": "withdraw"})
    assert r.status_code == 200, r.body
    deps.publish_service().run()
    assert not [k for k in sink.files if k.startswith(item)]


def test_a_failing_photo_purge_keeps_the_records_and_still_erases_the_contact(
    photos: Photos,
) -> None:
    from chalicelib.services.sweep import SweepService

    ticket = submit(photos.api, contact={"email": "ann@example.org", "consent_to_contact": True})
    assert photos.attach(ticket, images.png(), "image/png").status_code == 201
    token = make_staff("sue", "supervisor", ["customer-service"])
    r = photos.call(
        "POST",
        f"/v1/staff/tickets/{ticket['number']}/transitions",
        {"status": "rejected", "text": "Not for us.", "reject_kind": "out_of_scope"},
        **bearer(token),
    )
    assert r.status_code == 200, r.body

    def unreachable(_: Any) -> int:
        raise OSError("bucket unreachable")

    photos.clock.advance(days=366)
    sweep = SweepService(
        deps.store(),
        photos.clock,
        deps.policy(),
        deps.timers(),
        deps.notifier(),
        deps.directory(),
        purge_attachments=unreachable,
    )
    assert sweep.run(frozenset({"retention"})).purged == 1
    stored = deps.store().get_ticket(ticket["number"])
    assert stored is not None
    assert stored.ticket.contact_ciphertext is None
    assert len(stored.ticket.attributes["attachments"]) == 1  # still recorded, still due
    assert stored.ticket.due_at is not None
    assert deps.sweep_service().run(frozenset({"retention"})).purged == 1
    assert photos.objects() == []
