"""Photos in a real browser (issue #12): chosen in the feedback form (previews, checks,
progress), uploaded after the ticket is created, listed on the receipt, and seen by staff as
thumbnails linking to the cleaned photo, with no metadata left in what the browser receives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import Watch, open_feedback_form, wait_past_fill_time
from tests.e2e.test_staff_console import (
    PAGE_BUDGET_BYTES,
    TOKEN_KEY,
    add_staff,
    clearloop,
    own_asset_bytes,
)
from tests.support import images
from tests.support.stack import Stack, http_request

pytestmark = pytest.mark.e2e


def photo(name: str, data: bytes, mime: str = "image/jpeg") -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": data}


def test_a_photo_chosen_in_the_form_reaches_staff_without_its_metadata(
    page: Page, stack: Stack, watch: Watch
) -> None:
    ready_at = open_feedback_form(page, stack.site_url)
    page.get_by_role("radio", name="Fault or hazard").check()
    page.get_by_label("Category").select_option(label="Waiting times")
    page.get_by_label("Subject").fill("Broken paving by the library door")
    page.get_by_label("Description").fill("A slab is cracked and lifted; someone will trip.")

    picker = page.get_by_label("Photos (optional)", exact=True)
    expect(picker).to_be_visible()
    assert picker.get_attribute("accept") == "image/jpeg,image/png,image/webp"
    # Most feedback has no photo: the picker's code comes only when someone reaches for it.
    page.wait_for_load_state("networkidle")
    before = own_asset_bytes(watch)
    assert not [p for p in before if "photos" in p], before
    assert sum(before.values()) <= PAGE_BUDGET_BYTES, before
    # Checked before any upload: a script named .jpg (wrong type) is refused by the picker.
    picker.set_input_files([photo("shell.php", images.PHP, "application/x-php")])
    expect(page.locator("#fb-photos-error")).to_have_text(
        "shell.php is not a JPEG, PNG or WebP photo."
    )
    picker.set_input_files([photo("door.jpg", images.jpeg_with_gps((120, 90)))])
    expect(page.locator("#fb-photos-error")).to_be_hidden()
    page.wait_for_load_state("networkidle")
    after = own_asset_bytes(watch)
    assert "/assets/js/photos.js" in after
    assert sum(after.values()) <= PAGE_BUDGET_BYTES, after  # within the budget even then
    preview = page.get_by_role("img", name="Preview of door.jpg")
    expect(preview).to_be_visible()
    assert (preview.get_attribute("src") or "").startswith("blob:")
    expect(page.get_by_role("button", name="Remove door.jpg")).to_be_visible()

    wait_past_fill_time(ready_at)
    with page.expect_request(lambda r: r.url.endswith("/complete")) as completed:
        page.get_by_role("button", name="Send feedback").click()
    assert json.loads(completed.value.post_data or "{}") == {"filename": "door.jpg"}
    heading = page.get_by_role("heading", name="Thank you. Your feedback has been received")
    expect(heading).to_be_focused()
    expect(page.locator("#fb-receipt-photos")).to_have_text("door.jpg: attached.")
    number = page.locator("#fb-receipt-number").inner_text()
    uploads = [r for r in watch.requests if r.url.endswith("/v1/local-blobs/upload")]
    assert len(uploads) == 1
    assert "multipart/form-data" in uploads[0].headers["content-type"]

    # The tracking page (with the key) shows the photo and takes one more.
    page.get_by_role("link", name="Track this ticket").click()
    mine = page.get_by_role("img", name="Your photo 1: door.jpg")
    expect(mine).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#tr-result img')].every(i => i.naturalWidth > 0)"
    )
    page.get_by_label("Add a photo (optional)").set_input_files(
        [photo("sign.png", images.png((80, 60)), "image/png")]
    )
    expect(page.get_by_role("img", name="Your photo 2: sign.png")).to_be_visible()
    expect(page.locator("#tr-result .cl-timeline li[data-kind=attachment_added]")).to_have_count(2)

    # Staff open the ticket: the thumbnails load (CSP allows them) and link to the full photos.
    token = add_staff(stack, "sue", "Sue Supervisor", "supervisor", "customer-service")
    page.add_init_script(f"sessionStorage.setItem('{TOKEN_KEY}', {json.dumps(token)})")
    page.goto(f"{stack.site_url}/staff/ticket/#{number}")
    expect(page.locator("#st-photos img")).to_have_count(2)
    thumb = page.locator("#st-photos img").first
    expect(thumb).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('#st-photos img').naturalWidth > 0", timeout=10_000
    )
    assert thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [120, 90]
    full = page.locator("#st-photos a").first.get_attribute("href") or ""
    assert full.startswith(stack.api_url + "/v1/local-blobs/view?")
    served = page.request.get(full)
    assert served.ok
    assert served.headers["content-type"] == "image/jpeg"
    assert images.has_metadata(served.body()) == []


def attach_by_api(stack: Stack, number: str, key: str, data: bytes) -> dict[str, Any]:
    """Form, upload, completion, as the site does them (the form's file part last)."""
    import uuid

    headers = {"X-Ticket-Key": key}
    path = f"/v1/tickets/{number}/attachments"
    body = {"content_type": "image/jpeg", "size": len(data)}
    form = http_request("POST", stack.api_url + path, body=body, headers=headers).json()
    boundary = uuid.uuid4().hex
    parts = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in form["fields"].items()
    )
    parts += (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    sent = http_request(
        "POST",
        stack.api_url + form["url"],
        body=parts,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert sent.status == 204, sent.text
    done = http_request(
        "POST", f"{stack.api_url}{path}/{form['attachment_id']}/complete", headers=headers
    )
    assert done.status == 201, done.text
    result: dict[str, Any] = done.json()
    return result


def test_an_approved_photo_appears_on_the_board_item(
    page: Page, stack: Stack, watch: Watch, site_dir: Path
):
    created = http_request(
        "POST",
        stack.api_url + "/v1/feedback",
        body={
            "type": "report",
            "category": "service-waiting",
            "subject": "Broken bench",
            "description": "The bench by the bus stop is broken.",
            "consent_to_publish": True,
        },
    ).json()
    number = created["number"]
    attach_by_api(stack, number, created["key"], images.jpeg_with_gps((90, 60)))
    token = add_staff(stack, "pat", "Pat Supervisor", "supervisor", "customer-service")
    path = f"/v1/staff/tickets/{number}"
    auth = {"Authorization": f"Bearer {token}"}
    version = http_request("GET", stack.api_url + path, headers=auth).json()["version"]
    for status, text in (("acknowledged", ""), ("in_progress", ""), ("resolved", "Replaced.")):
        body = {"status": status, **({"text": text} if text else {})}
        answer = http_request(
            "POST",
            stack.api_url + path + "/transitions",
            body=body,
            headers={**auth, "If-Match": str(version)},
        )
        assert answer.status == 200, answer.text
        version = answer.json()["version"]

    page.add_init_script(f"sessionStorage.setItem('{TOKEN_KEY}', {json.dumps(token)})")
    page.goto(f"{stack.site_url}/staff/publication/#{number}")
    expect(page.locator("#sp-title")).to_contain_text(number)
    page.locator("#sp-summary").fill("A broken bench at a bus stop.")
    choice = page.get_by_role("checkbox", name="Photo 1")
    expect(choice).not_to_be_checked()
    choice.check()
    page.get_by_role("button", name="Approve for the board").click()
    expect(page.locator("#sp-result-status")).to_contain_text("Approved")
    board_id = http_request("GET", stack.api_url + path, headers=auth).json()["publication"][
        "board_id"
    ]

    clearloop(stack, "publish", "--site-dir", str(site_dir))
    page.goto(f"{stack.site_url}/board/items/{board_id}/")
    shown = page.get_by_role("img", name="Photo 1 of the issue")
    expect(shown).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('img[alt=\"Photo 1 of the issue\"]').naturalWidth > 0"
    )
    served = page.request.get(f"{stack.site_url}/board/items/{board_id}/photo-1.jpg")
    assert served.ok
    assert images.has_metadata(served.body()) == []
