"""Use case: preparing a resolved ticket for the public board (preview, approve, withdraw).

``POST /v1/staff/tickets/{number}/publication`` with
``{"action": "preview" | "approve" | "withdraw", "summary"?: str, "resolution"?: str,
"photos"?: [attachment id, ...]}``:

- **preview** (any staff member of the ticket's department): the texts as they would be
  published, the original beside the redacted version and what was found, and whether the
  ticket may be approved. Writes an internal audit event (the version does not change, so a
  preview never makes a colleague's edit stale).
- **approve** (a supervisor of the department): only for a resolved or closed ticket whose
  submitter consented. Stores the *redacted* texts and puts the ticket on the board index.
  ``photos`` names the ticket's (already cleaned) photos to show with the item; the publisher
  copies them to the site at publish time, never before the approval.
- **withdraw** (a supervisor): removes the texts and the board index entry; the item leaves the
  board at the next publish.

The summary defaults to the ticket's public summary and the resolution to its public resolution
text; both can be edited in the request. Besides the patterns of ``domain.redact``, every
occurrence of the submitter's own contact details (decrypted only for this comparison, never
returned) is masked. Approve and withdraw write public timeline events without staff names.

Example::

    service.act(supervisor, "FB-3K7Q-M9X2", {"action": "approve", "summary": "Broken lamp"})
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from chalicelib.crypto.port import ContactCipher, DecryptionError
from chalicelib.domain import attachments, publication
from chalicelib.domain.redact import Redaction, redact
from chalicelib.domain.sla import Policy
from chalicelib.domain.sla_state import Timers
from chalicelib.domain.staff import Permission, StaffMember
from chalicelib.domain.text import clean_text
from chalicelib.domain.tickets import Event, Ticket
from chalicelib.errors import ConflictError, NotFoundError, StaleVersionError, ValidationError
from chalicelib.i18n.events import system_text
from chalicelib.services.changes import Change
from chalicelib.services.lookup import parse_ticket_number
from chalicelib.services.ports import Clock, RandomSource
from chalicelib.store.port import TicketStore, TicketView

ACTIONS = ("preview", "approve", "withdraw")
SUMMARY_MAX = 1000
RESOLUTION_MAX = 5000
PHOTOS_MAX = 10
AUDIT_SEQ_FLOOR = 900_000  # audit entries sit above versioned events (as contact reads do)
AUDIT_SEQ_SPAN = 99_999


def _finding_view(r: Redaction) -> dict[str, Any]:
    return {
        "original": r.original,
        "redacted": r.text,
        "findings": [
            {"kind": f.kind, "start": f.start, "end": f.end, "text": f.text} for f in r.findings
        ],
    }


def _photo_ids(raw: object) -> list[str]:
    """The ``photos`` field: a list of attachment ids (checked against the ticket later)."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise ValidationError(
            "Photos must be a list of attachment ids.", {"photos": "must be a list of ids"}
        )
    if len(raw) > PHOTOS_MAX or len(set(raw)) != len(raw):
        raise ValidationError(
            f"Choose at most {PHOTOS_MAX} different photos.", {"photos": "too many or repeated"}
        )
    return list(raw)


def _chosen_photos(ticket: Ticket, ids: list[str]) -> list[dict[str, Any]]:
    """The records of the chosen photos; a ValidationError names any the ticket lacks."""
    chosen = []
    for photo_id in ids:
        record = attachments.find(ticket, photo_id)
        if record is None:
            raise ValidationError(
                "A chosen photo is not one of this ticket's.",
                {"photos": f"{photo_id[:40]} is not a photo of this ticket"},
            )
        chosen.append({"id": record["id"]})
    return chosen


class PublicationService:
    def __init__(
        self,
        store: TicketStore,
        cipher: ContactCipher,
        clock: Clock,
        policy: Policy,
        timers: Timers,
        number_prefix: str,
        random: RandomSource,
    ) -> None:
        self._store = store
        self._cipher = cipher
        self._random = random
        self._clock = clock
        self._policy = policy
        self._timers = timers
        self._prefix = number_prefix

    def act(
        self, staff: StaffMember, number_text: str, body: object, version: int | None = None
    ) -> dict[str, Any]:
        """Run one publication action; returns the preview (and the stored state)."""
        if not isinstance(body, dict):
            raise ValidationError("The body must be a JSON object.")
        unknown = set(body) - {"action", "summary", "resolution", "photos"}
        if unknown:
            raise ValidationError(
                "Unknown fields.", dict.fromkeys(sorted(unknown), "is not a known field")
            )
        action = body.get("action")
        if action not in ACTIONS:
            raise ValidationError(
                "Say what to do.", {"action": f"must be one of {', '.join(ACTIONS)}"}
            )
        texts = {}
        for field, maximum in (("summary", SUMMARY_MAX), ("resolution", RESOLUTION_MAX)):
            raw = body.get(field)
            if raw is None:
                continue
            if not isinstance(raw, str):
                raise ValidationError(f"The {field} must be text.", {field: "must be text"})
            value = clean_text(raw, multiline=True)
            if len(value) > maximum:
                raise ValidationError(
                    f"The {field} must be at most {maximum} characters.",
                    {field: f"must be at most {maximum} characters"},
                )
            texts[field] = value
        photo_ids = _photo_ids(body.get("photos"))
        number = parse_ticket_number(number_text, self._prefix)
        view = self._store.get_ticket(number)
        if view is None:
            raise NotFoundError(f"No ticket {number} exists.")
        ticket = view.ticket
        staff.require(Permission.WORK, ticket.department)
        if action != "preview":
            staff.require(Permission.SUPERVISE, ticket.department)
        if version is not None and version != ticket.version:
            raise StaleVersionError(
                f"Ticket {number} has changed (version {ticket.version}, you sent {version}); "
                "reload it and try again."
            )
        summary = texts.get("summary", ticket.public_summary or "")
        resolution = texts.get("resolution", ticket.resolution or "")
        literals = self._contact_literals(ticket)
        redacted_summary = redact(summary, literals)
        redacted_resolution = redact(resolution, literals)
        if action == "preview":
            self._audit(view, staff, redacted_summary, redacted_resolution)
        elif action == "approve":
            photos = _chosen_photos(ticket, photo_ids)
            ticket = self._approve(ticket, staff, redacted_summary, redacted_resolution, photos)
        else:
            ticket = self._withdraw(ticket, staff)
        return self._answer(action, ticket, redacted_summary, redacted_resolution)

    def _answer(
        self, action: str, ticket: Ticket, summary: Redaction, resolution: Redaction
    ) -> dict[str, Any]:
        problems = publication.blockers(ticket)
        if not summary.text.strip():
            problems.append("Write a public summary (none is set on the ticket).")
        if not resolution.text.strip():
            problems.append("Write what was done (the ticket has no public resolution).")
        return {
            "number": ticket.number,
            "action": action,
            "version": ticket.version,
            "eligible": not problems,
            "blockers": problems,
            "summary": _finding_view(summary),
            "resolution": _finding_view(resolution),
            "publication": publication.publication_state(ticket),
        }

    def _contact_literals(self, ticket: Ticket) -> list[str]:
        """The submitter's name, e-mail and phone, to mask wherever they appear."""
        if ticket.contact_ciphertext is None:
            return []
        try:
            contact = json.loads(self._cipher.decrypt(ticket.contact_ciphertext, ticket.number))
        except (DecryptionError, ValueError):
            return []  # the patterns still catch e-mail addresses and phone numbers
        return [str(v) for k, v in contact.items() if k in ("name", "email", "phone") and v]

    def _audit(
        self, view: TicketView, staff: StaffMember, summary: Redaction, resolution: Redaction
    ) -> None:
        # As contact reads do: a random high seq keeps audit entries apart from versioned events
        # (an event is identified by its time and seq), and the version does not change.
        seq = AUDIT_SEQ_FLOOR + secrets.randbelow(AUDIT_SEQ_SPAN)
        found = sorted({f.kind for f in (*summary.findings, *resolution.findings)})
        self._store.append_events(
            view.ticket.number,
            [
                Event(
                    number=view.ticket.number,
                    seq=seq,
                    at=self._clock.now(),
                    kind="publication_previewed",
                    public=False,
                    actor=f"staff:{staff.id}",
                    actor_label=staff.public_label,
                    text="Publication preview.",
                    data={"found": found},
                )
            ],
        )

    def _approve(
        self,
        ticket: Ticket,
        staff: StaffMember,
        summary: Redaction,
        resolution: Redaction,
        photos: list[dict[str, Any]] | None = None,
    ) -> Ticket:
        problems = publication.blockers(ticket)
        if problems:
            raise ConflictError(" ".join(problems))
        if not summary.text.strip() or not resolution.text.strip():
            raise ValidationError(
                "A board item needs a public summary and what was done.",
                {
                    **({"summary": "is required"} if not summary.text.strip() else {}),
                    **({"resolution": "is required"} if not resolution.text.strip() else {}),
                },
            )
        assert ticket.resolved_at is not None  # noqa: S101 - blockers() checked it
        now = self._clock.now()
        previous = publication.record_of(ticket) or {}
        board_id = previous.get("board_id") or publication.new_board_id(
            self._random.token_bytes(10)
        )
        found_summary = [f.kind for f in summary.findings]
        found_resolution = [f.kind for f in resolution.findings]
        record: dict[str, Any] = {
            "state": "approved",
            "summary": summary.text,
            "resolution": resolution.text,
            "found": {"summary": found_summary, "resolution": found_resolution},
            "round": ticket.resolution_round,
            "month": publication.month_of(ticket.resolved_at, self._policy.calendar.timezone),
            "board_id": board_id,
            "approved_at": now.isoformat(),
            "approved_by": staff.id,
            "withdrawn_at": None,
            "photos": photos or [],
        }
        change = Change(ticket, now, actor=f"staff:{staff.id}", actor_label=staff.public_label)
        change.ticket = ticket.replace(attributes={**ticket.attributes, "publication": record})
        said, saved = system_text(
            "event.published",
            {
                "found": sorted(set(found_summary + found_resolution)),
                "photos": len(photos or []),
            },
        )
        change.event("publication_approved", public=True, text=said, data=saved)
        return self._save(change)

    def _withdraw(self, ticket: Ticket, staff: StaffMember) -> Ticket:
        record = publication.record_of(ticket)
        if record is None or record.get("state") != "approved":
            raise ConflictError("This ticket is not approved for the board.")
        now = self._clock.now()
        withdrawn = {
            **record,
            "state": "withdrawn",
            "summary": None,
            "resolution": None,
            "withdrawn_at": now.isoformat(),
            "photos": [],
        }
        change = Change(ticket, now, actor=f"staff:{staff.id}", actor_label=staff.public_label)
        change.ticket = ticket.replace(attributes={**ticket.attributes, "publication": withdrawn})
        said, saved = system_text("event.withdrawn")
        change.event("publication_withdrawn", public=True, text=said, data=saved)
        return self._save(change)

    def _save(self, change: Change) -> Ticket:
        built = change.build(self._policy, self._timers)
        self._store.save_tickets([built])
        return built.ticket
