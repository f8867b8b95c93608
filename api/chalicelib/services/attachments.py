"""Use cases of photo attachments (issue #12): upload forms, verification, links, the purge.

The submitter (key required) asks for an upload form, uploads the photo straight to the blob
store's private quarantine (the API never carries the bytes), then asks the API to complete it.
Completing reads the quarantined original, verifies and re-encodes it without metadata
(``services/images.py``), stores the clean copy and a thumbnail, deletes the original in every
outcome, and only then records the attachment on the ticket (with the ticket's version, so the
count limit holds under races). A rejected file leaves nothing behind.

Example::

    form = service.request_upload("FB-...", key, {"content_type": "image/jpeg", "size": 81234})
    # browser: POST form["url"] with form["fields"] + file
    record = service.complete("FB-...", key, form["attachment_id"], {"filename": "door.jpg"})
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.blobs.port import BlobStore
from chalicelib.domain import attachments as domain
from chalicelib.domain.attachments import Limits
from chalicelib.domain.sla import Policy
from chalicelib.domain.sla_state import FINISHED, Timers
from chalicelib.domain.tickets import Ticket
from chalicelib.errors import (
    ConflictError,
    NotFoundError,
    StaleVersionError,
    ValidationError,
)
from chalicelib.services.changes import Change
from chalicelib.services.images import (
    AttachmentTooLargeError,
    AttachmentTypeError,
    CleanImage,
    clean_image,
)
from chalicelib.services.lookup import LookupService
from chalicelib.services.ports import Clock, RandomSource
from chalicelib.services.views import public_time
from chalicelib.store.port import TicketStore, TicketView

log = logging.getLogger("clearloop.attachments")
SAVE_ATTEMPTS = 3


class AttachmentLimitError(ConflictError):
    code = "attachment_limit"


class AttachmentNotFoundError(NotFoundError):
    code = "attachment_not_found"


def _object(body: object, allowed: set[str]) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    unknown = set(body) - allowed
    if unknown:
        raise ValidationError(
            "Some fields are not known.", dict.fromkeys(sorted(unknown), "is not a known field")
        )
    return body


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


class AttachmentService:
    def __init__(
        self,
        store: TicketStore,
        blobs: Callable[[], BlobStore],
        lookup: LookupService,
        clock: Clock,
        random: RandomSource,
        policy: Policy,
        timers: Timers,
        limits: Limits,
        clean: Callable[[bytes, str, int], CleanImage] = clean_image,
    ) -> None:
        """``blobs`` is a getter: the blob store (an S3 client on AWS) is built only when a
        request needs it."""
        self._store = store
        self._blobs = blobs
        self._lookup = lookup
        self._clock = clock
        self._random = random
        self._policy = policy
        self._timers = timers
        self.limits = limits
        self._clean = clean

    # -- the submitter -----------------------------------------------------------------------

    def request_upload(self, number_text: str, key: str | None, body: object) -> dict[str, Any]:
        """An upload form for one photo: the exact key, type and size range, for 10 minutes."""
        data = _object(body, {"content_type", "size"})
        content_type = data.get("content_type")
        size = data.get("size")
        if not isinstance(content_type, str) or not content_type:
            raise ValidationError(
                "Say which type of photo you upload.", {"content_type": "is required"}
            )
        if isinstance(size, bool) or not isinstance(size, int):
            raise ValidationError(
                "Say how large the photo is, in bytes.", {"size": "must be a whole number"}
            )
        ticket = self._load(number_text, key).ticket
        self._check_open(ticket)
        self._check_room(ticket)
        content_type = content_type.strip().lower()
        if content_type not in self.limits.types:
            raise AttachmentTypeError(
                f"Photos must be {self._type_names()}.",
                {"content_type": f"must be one of {', '.join(self.limits.types)}"},
            )
        if size < 1:
            raise ValidationError("The photo is empty.", {"size": "must be at least 1"})
        if size > self.limits.max_bytes:
            raise AttachmentTooLargeError(
                f"A photo may be at most {_megabytes(self.limits.max_bytes)}.",
                {"size": f"must be at most {self.limits.max_bytes}"},
            )
        attachment_id = base64.b32encode(self._random.token_bytes(16)).decode().rstrip("=")
        attachment_id = attachment_id.lower()
        expires_at = self._clock.now() + timedelta(seconds=domain.UPLOAD_SECONDS)
        form = self._blobs().upload_form(
            domain.quarantine_key(ticket.number, attachment_id),
            content_type,
            self.limits.max_bytes,
            expires_at,
        )
        return {
            "attachment_id": attachment_id,
            "url": form.url,
            "fields": form.fields,
            "expires_at": public_time(form.expires_at),
            "max_bytes": self.limits.max_bytes,
        }

    def complete(
        self, number_text: str, key: str | None, attachment_id: str, body: object
    ) -> tuple[dict[str, Any], bool]:
        """Verify the uploaded photo and record it; (the attachment, whether it is new).

        Completing an attachment already recorded returns it again (a retried request).
        """
        data = _object(body, {"filename"})
        if not domain.ID_PATTERN.match(attachment_id):
            raise AttachmentNotFoundError("No such attachment upload.")
        ticket = self._load(number_text, key).ticket
        blobs = self._blobs()
        quarantined = domain.quarantine_key(ticket.number, attachment_id)
        done = domain.find(ticket, attachment_id)
        if done is not None:
            # A retry; anything uploaded again with the still-valid form goes too.
            blobs.delete([quarantined])
            return self._view(ticket.number, done, with_links=True), False
        try:
            size = blobs.size(quarantined)
            if size is None:
                raise AttachmentNotFoundError(
                    "Nothing was uploaded for this attachment: upload the photo with its form "
                    "first (forms expire after 10 minutes)."
                )
            self._check_open(ticket)
            self._check_room(ticket)
            if size > self.limits.max_bytes:
                raise AttachmentTooLargeError(
                    f"A photo may be at most {_megabytes(self.limits.max_bytes)}.",
                    {"file": "too large"},
                )
            blob = blobs.get(quarantined)
            if blob is None:
                raise AttachmentNotFoundError("The upload disappeared; upload the photo again.")
            declared = blob.content_type.split(";")[0].strip().lower()
            if declared not in self.limits.types:
                raise AttachmentTypeError(
                    f"Photos must be {self._type_names()}.", {"file": "type not accepted"}
                )
            clean = self._clean(blob.data, declared, self.limits.max_bytes)
        finally:
            # The original (with its metadata) never outlives this request, whatever happened.
            blobs.delete([quarantined])
        record = {
            "id": attachment_id,
            "content_type": clean.content_type,
            "size": len(clean.data),
            "width": clean.width,
            "height": clean.height,
            "thumb_type": clean.thumbnail_type,
            "added_at": self._clock.now().isoformat(),
            "filename": domain.clean_filename(data.get("filename")),
        }
        stored = domain.keys_of(ticket.number, record)
        blobs.put(stored[0], clean.data, clean.content_type)
        blobs.put(stored[1], clean.thumbnail, clean.thumbnail_type)
        try:
            saved = self._record(ticket, record)
        except BaseException:
            blobs.delete(stored)  # not recorded: leave nothing behind
            raise
        return self._view(saved.number, record, with_links=True), True

    def _record(self, ticket: Ticket, record: dict[str, Any]) -> Ticket:
        """Add the record with the ticket's version; on a lost race, re-read and re-check."""
        for attempt in range(SAVE_ATTEMPTS):
            self._check_open(ticket)
            self._check_room(ticket)
            change = Change(ticket, self._clock.now(), actor="submitter", actor_label="submitter")
            change.ticket = domain.with_attachment(ticket, record)
            change.event(
                "attachment_added",
                public=True,
                text="Photo added.",
                data={"attachment_id": record["id"]},
            )
            built = change.build(self._policy, self._timers)
            try:
                self._store.save_tickets([built])
            except StaleVersionError:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
                fresh = self._store.get_ticket(ticket.number)
                if fresh is None:
                    raise NotFoundError(f"No ticket {ticket.number} exists.") from None
                ticket = fresh.ticket
                continue
            return built.ticket
        raise AssertionError("unreachable")  # pragma: no cover

    # -- views -------------------------------------------------------------------------------

    def links(self, ticket: Ticket) -> list[dict[str, Any]]:
        """The ticket's attachments with short-lived links (for staff and for the submitter)."""
        records = domain.attachments_of(ticket)
        return [self._view(ticket.number, r, with_links=True) for r in records]

    def _view(self, number: str, record: dict[str, Any], *, with_links: bool) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": record["id"],
            "content_type": record["content_type"],
            "size": record["size"],
            "width": record["width"],
            "height": record["height"],
            "added_at": public_time(datetime.fromisoformat(record["added_at"])),
            "filename": record.get("filename"),
        }
        if with_links:
            expires_at = self._clock.now() + timedelta(seconds=domain.VIEW_SECONDS)
            image, thumb = domain.keys_of(number, record)
            blobs = self._blobs()
            view["url"] = blobs.view_url(image, expires_at)
            view["thumbnail_url"] = blobs.view_url(thumb, expires_at)
            view["links_expire_at"] = public_time(expires_at)
        return view

    # -- retention ---------------------------------------------------------------------------

    def purge_blobs(self, ticket: Ticket) -> int:
        """Delete every stored blob of the ticket (the retention purge); how many there were."""
        blobs = self._blobs()
        keys = blobs.list(domain.ticket_prefix(ticket.number))
        blobs.delete(keys)
        return len(keys)

    # -- checks ------------------------------------------------------------------------------

    def _load(self, number_text: str, key: str | None) -> TicketView:
        if key is None:
            raise ValidationError(
                "This needs the ticket's private key in the X-Ticket-Key header.",
                {"X-Ticket-Key": "is required"},
            )
        return self._lookup.load(number_text, key)

    def _check_open(self, ticket: Ticket) -> None:
        if ticket.status in FINISHED:
            raise ConflictError(f"This ticket is {ticket.status} and takes no more photos.")

    def _check_room(self, ticket: Ticket) -> None:
        if len(domain.attachments_of(ticket)) >= self.limits.max_count:
            raise AttachmentLimitError(
                f"A ticket can have at most {self.limits.max_count} photos.",
                {"file": f"at most {self.limits.max_count} photos"},
            )

    def _type_names(self) -> str:
        names = [domain.FORMATS[t].replace("WEBP", "WebP") for t in self.limits.types]
        return ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]
