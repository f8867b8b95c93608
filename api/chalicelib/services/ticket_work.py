"""Use cases of staff working tickets: view, triage, transitions, replies and notes, merge,
contact reads (audited), queues and CSV export.

Every change is one ``save_tickets`` call guarded by the version the caller read, so two staff
members acting at once never overwrite each other: the second gets a 409 and reloads.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.crypto.port import ContactCipher, DecryptionError, Keyring
from chalicelib.domain import lifecycle
from chalicelib.domain.categories import Taxonomy
from chalicelib.domain.lifecycle import TransitionRequest
from chalicelib.domain.publication import publication_state
from chalicelib.domain.rollups import REJECT_KINDS
from chalicelib.domain.sla import Policy
from chalicelib.domain.sla_state import (
    Timers,
    mark_met,
    pause,
    recompute_for_priority,
    resume,
    sla_of,
)
from chalicelib.domain.staff import CannedResponse, Permission, StaffMember, render_canned
from chalicelib.domain.text import clean_text
from chalicelib.domain.tickets import (
    LANGUAGES,
    OPEN_STATUSES,
    PRIORITIES,
    STATUSES,
    TYPES,
    Event,
    Ticket,
)
from chalicelib.errors import (
    ConflictError,
    NotFoundError,
    StaleVersionError,
    ValidationError,
)
from chalicelib.i18n.events import system_text
from chalicelib.notify.messages import notify_submitter
from chalicelib.notify.port import Notifier
from chalicelib.services.changes import Change
from chalicelib.services.cursor import decode_cursor, encode_cursor, query_fingerprint
from chalicelib.services.lookup import parse_ticket_number
from chalicelib.services.ports import Clock
from chalicelib.services.views import public_sla_view, public_time
from chalicelib.store.port import QueueQuery, TicketStore, TicketView

TEXT_MAX = 5000
SUMMARY_MAX = 1000
PAGE_MAX = 100
EXPORT_MAX_ROWS = 10_000
TRIAGE_FIELDS = frozenset(
    {"type", "category", "priority", "department", "assignee", "subject", "public_summary"}
)
CSV_COLUMNS = (
    "number",
    "submitted_at",
    "channel",
    "type",
    "category",
    "priority",
    "department",
    "status",
    "assignee",
    "subject",
    "first_response_due",
    "first_response_at",
    "first_response_sla",
    "resolution_due",
    "resolved_at",
    "resolution_sla",
    "rating",
    "reopen_count",
)


@dataclass(frozen=True)
class QueueRequest:
    statuses: tuple[str, ...] | None = None
    department: str | None = None
    assignee: str | None = None
    priority: str | None = None
    due_before: datetime | None = None
    sla: str | None = None  # breached | due_soon
    cursor: str | None = None
    limit: int = 25


def _time(t: datetime | None) -> str | None:
    return None if t is None else public_time(t)


def staff_summary(ticket: Ticket) -> dict[str, Any]:
    """A queue row: no contact details, no timeline."""
    return {
        "number": ticket.number,
        "status": ticket.status,
        "type": ticket.type,
        "category": ticket.category,
        "priority": ticket.priority,
        "department": ticket.department,
        "assignee": ticket.assignee,
        "subject": ticket.subject,
        "channel": ticket.channel,
        "submitted_at": public_time(ticket.submitted_at),
        "updated_at": public_time(ticket.updated_at),
        "due_at": _time(ticket.due_at),
        "escalated": ticket.escalated,
        "rating": ticket.rating,
        "reopen_count": ticket.reopen_count,
        "version": ticket.version,
        "sla": public_sla_view(ticket),
    }


def staff_view(view: TicketView) -> dict[str, Any]:
    """Everything staff may see except contact details (a separate, audited read)."""
    t = view.ticket
    return {
        **staff_summary(t),
        "description": t.description,
        "location": t.location,
        "language": t.language,
        "deadlines": {
            "first_response": public_time(t.deadlines.first_response),
            "resolution": public_time(t.deadlines.resolution),
        },
        "first_response_at": _time(t.first_response_at),
        "resolved_at": _time(t.resolved_at),
        "closed_at": _time(t.closed_at),
        "resolution": t.resolution,
        "reason": t.reason,
        "reject_kind": t.attributes.get("reject_kind"),
        "publication": publication_state(t),
        "merged_into": t.merged_into,
        "merged_duplicates": list(t.attributes.get("merged_duplicates", [])),
        "public_summary": t.public_summary,
        "consent_to_publish": t.consent_to_publish,
        "consent_to_contact": t.consent_to_contact,
        "has_contact": t.contact_ciphertext is not None,
        "allowed_transitions": list(lifecycle.allowed_targets(t.status)),
        "timeline": [
            {
                "at": public_time(e.at),
                "kind": e.kind,
                "public": e.public,
                "actor": e.actor,
                "actor_label": e.actor_label,
                "text": e.text,
                "data": e.data,
            }
            for e in view.events
        ],
    }


def _neutralise(cell: object) -> str:
    """Spreadsheet formula injection: a cell starting with = + - @ (or tab/CR) becomes text."""
    text = "" if cell is None else str(cell)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


class TicketWorkService:
    def __init__(
        self,
        store: TicketStore,
        cipher: ContactCipher,
        keyring: Keyring,
        clock: Clock,
        taxonomy: Taxonomy,
        policy: Policy,
        number_prefix: str,
        timers: Timers,
        departments: Callable[[], tuple[str, ...]],
        notifier: Notifier | None = None,
        site_origin: str | None = None,
        attachment_links: Callable[[Ticket], list[dict[str, Any]]] | None = None,
    ) -> None:
        self._store = store
        self._cipher = cipher
        self._keyring = keyring
        self._clock = clock
        self._taxonomy = taxonomy
        self._policy = policy
        self._prefix = number_prefix
        self._timers = timers
        self._departments = departments
        self._notifier = notifier
        self._site_origin = site_origin
        self._attachment_links = attachment_links

    # -- reading -----------------------------------------------------------------------------

    def load(self, staff: StaffMember, number_text: str) -> TicketView:
        """The ticket, if ``staff`` may work on its department."""
        number = parse_ticket_number(number_text, self._prefix)
        view = self._store.get_ticket(number)
        if view is None:
            raise NotFoundError(f"No ticket {number} exists.")
        staff.require(Permission.WORK, view.ticket.department)
        return view

    def get(self, staff: StaffMember, number_text: str) -> dict[str, Any]:
        return self._body(self.load(staff, number_text))

    def _body(self, view: TicketView) -> dict[str, Any]:
        """The staff view of a ticket, with its photos (links valid for a few minutes)."""
        body = staff_view(view)
        if self._attachment_links is not None:
            body["attachments"] = self._attachment_links(view.ticket)
        return body

    def contact(self, staff: StaffMember, number_text: str) -> dict[str, Any]:
        """Decrypt the contact details; every read writes an internal audit event first."""
        view = self.load(staff, number_text)
        t = view.ticket
        if t.contact_ciphertext is None:
            return {"number": t.number, "contact": None, "consent_to_contact": False}
        now = self._clock.now()
        # Audit entries do not bump the version (reading must not make others' edits stale); a
        # random high sequence number keeps their keys unique beside versioned events.
        audit = Event(
            number=t.number,
            seq=900_000 + secrets.randbelow(99_999),
            at=now,
            kind="contact_viewed",
            public=False,
            actor=f"staff:{staff.id}",
            actor_label=staff.public_label,
            text=f"Contact details read by {staff.id}.",
        )
        self._store.append_events(t.number, [audit])
        try:
            contact = json.loads(self._cipher.decrypt(t.contact_ciphertext, t.number))
        except DecryptionError:
            raise ConflictError("The contact details cannot be decrypted with this key.") from None
        return {"number": t.number, "contact": contact, "consent_to_contact": t.consent_to_contact}

    # -- changing ----------------------------------------------------------------------------

    def _expect(self, view: TicketView, version: int | None) -> None:
        if version is not None and version != view.ticket.version:
            raise StaleVersionError(
                f"Ticket {view.ticket.number} has changed (version {view.ticket.version}, "
                f"you sent {version}); reload it and try again."
            )

    def _save(self, change: Change, *others: Change) -> Ticket:
        changes = [c.build(self._policy, self._timers) for c in (change, *others)]
        self._store.save_tickets(changes)
        return changes[0].ticket

    def _change(self, staff: StaffMember, ticket: Ticket) -> Change:
        return Change(
            ticket, self._clock.now(), actor=f"staff:{staff.id}", actor_label=staff.public_label
        )

    def triage(
        self, staff: StaffMember, number_text: str, version: int | None, body: object
    ) -> dict[str, Any]:
        """PATCH: type, category, priority, department, assignee, subject, public summary."""
        if version is None:
            raise ValidationError(
                "Send the version you edited in an If-Match header.", {"If-Match": "required"}
            )
        if not isinstance(body, dict) or not body:
            raise ValidationError("The body must be a non-empty JSON object of fields to change.")
        unknown = set(body) - TRIAGE_FIELDS
        if unknown:
            raise ValidationError(
                "Some fields cannot be changed here.",
                dict.fromkeys(unknown, "is not a triage field"),
            )
        view = self.load(staff, number_text)
        self._expect(view, version)
        t = view.ticket
        change = self._change(staff, t)
        diff: dict[str, Any] = {}
        errors: dict[str, str] = {}
        new = t
        if "type" in body:
            if body["type"] not in TYPES:
                errors["type"] = f"must be one of {', '.join(TYPES)}"
            elif body["type"] != t.type:
                diff["type"] = [t.type, body["type"]]
                new = new.replace(type=body["type"])
        if "category" in body:
            code = body["category"]
            if not isinstance(code, str) or self._taxonomy.get(code) is None:
                errors["category"] = "is not a known category"
            elif code != t.category:
                diff["category"] = [t.category, code]
                new = new.replace(category=code)
        if "department" in body:
            dept = body["department"]
            if not isinstance(dept, str) or dept not in self._departments():
                errors["department"] = "is not a known department"
            elif dept != t.department:
                staff.require(Permission.SUPERVISE)  # reassigning is a supervisor's call
                diff["department"] = [t.department, dept]
                new = new.replace(department=dept)
        if "assignee" in body:
            who = body["assignee"]
            if who is not None and not isinstance(who, str):
                errors["assignee"] = "must be a staff id or null"
            elif who != t.assignee:
                if who not in (None, staff.id):
                    staff.require(Permission.SUPERVISE)  # agents take or drop work themselves
                    member = self._store.get_staff(who) if who else None
                    if member is None or not member.covers(new.department):
                        errors["assignee"] = "is not a staff member of this department"
                diff["assignee"] = [t.assignee, who]
                new = new.replace(assignee=who)
        for field, maximum in (("subject", 200), ("public_summary", SUMMARY_MAX)):
            if field in body:
                raw = body[field]
                if raw is None and field == "public_summary":
                    value = None
                elif not isinstance(raw, str) or not clean_text(raw, multiline=True):
                    errors[field] = "must be non-empty text"
                    continue
                else:
                    value = clean_text(raw, multiline=field == "public_summary")
                    if len(value) > maximum:
                        errors[field] = f"must be at most {maximum} characters"
                        continue
                if value != getattr(t, field):
                    diff[field] = [getattr(t, field), value]
                    new = new.replace(**{field: value})
        if "priority" in body:
            p = body["priority"]
            if p not in PRIORITIES:
                errors["priority"] = f"must be one of {', '.join(PRIORITIES)}"
            elif p != t.priority:
                diff["priority"] = [t.priority, p]
                new = recompute_for_priority(new, p, self._policy)
        if errors:
            raise ValidationError("Some fields are invalid.", errors)
        if not diff:
            return self._body(view)
        change.ticket = new
        change.event("triaged", public=False, text="Triage updated.", data={"changes": diff})
        if "priority" in diff:
            said, saved = system_text(
                "event.deadlines_changed",
                {
                    "first_response": public_time(new.deadlines.first_response),
                    "resolution": public_time(new.deadlines.resolution),
                },
            )
            change.event("deadlines_changed", public=True, text=said, data=saved)
        self._save(change)
        return self.get(staff, t.number)

    def reply(self, staff: StaffMember, number_text: str, body: object) -> dict[str, Any]:
        """A public reply (the first counts as the first response) or an internal note."""
        if not isinstance(body, dict):
            raise ValidationError("The body must be a JSON object.")
        unknown = set(body) - {"text", "public", "canned_id", "version"}
        if unknown:
            raise ValidationError("Unknown fields.", dict.fromkeys(unknown, "is not a known field"))
        public = body.get("public")
        if not isinstance(public, bool):
            raise ValidationError(
                "Say whether this is a public reply or an internal note.",
                {"public": "must be true or false"},
            )
        view = self.load(staff, number_text)
        self._expect(view, _opt_int(body.get("version"), "version"))
        t = view.ticket
        text = body.get("text")
        canned_id = body.get("canned_id")
        if (text is None or text == "") and canned_id is not None:
            text = self.render_canned(staff, t, canned_id)
        if not isinstance(text, str) or not clean_text(text, multiline=True):
            raise ValidationError("The reply needs text.", {"text": "is required"})
        text = clean_text(text, multiline=True)
        if len(text) > TEXT_MAX:
            raise ValidationError(f"At most {TEXT_MAX} characters.", {"text": "too long"})
        if t.status in ("closed", "rejected", "merged") and public:
            raise ConflictError(f"A {t.status} ticket takes internal notes only.")
        change = self._change(staff, t)
        change.event("reply" if public else "note", public=public, text=text)
        if public and t.first_response_at is None:
            change.ticket = mark_met(
                t.replace(first_response_at=change.now), "first_response", change.now
            )
        self._save(change)
        return self.get(staff, t.number)

    def transition(
        self, staff: StaffMember, number_text: str, body: object, version: int | None
    ) -> dict[str, Any]:
        """Move the ticket to another status, if the state machine allows it."""
        if not isinstance(body, dict):
            raise ValidationError("The body must be a JSON object.")
        unknown = set(body) - {"status", "text", "merge_into", "version", "reject_kind"}
        if unknown:
            raise ValidationError("Unknown fields.", dict.fromkeys(unknown, "is not a known field"))
        target = body.get("status")
        text = body.get("text")
        merge_into = body.get("merge_into")
        reject_kind = body.get("reject_kind")
        if reject_kind is not None and (target != "rejected" or reject_kind not in REJECT_KINDS):
            raise ValidationError(
                "reject_kind says why a ticket is rejected: spam or out_of_scope.",
                {"reject_kind": "must be spam or out_of_scope, and only when rejecting"},
            )
        if not isinstance(target, str):
            raise ValidationError(
                "Which status?", {"status": f"must be one of {', '.join(STATUSES)}"}
            )
        if text is not None and not isinstance(text, str):
            raise ValidationError("The text must be a string.", {"text": "must be a string"})
        if merge_into is not None and not isinstance(merge_into, str):
            raise ValidationError("merge_into must be a ticket number.", {"merge_into": "invalid"})
        text = clean_text(text, multiline=True) if text else None
        view = self.load(staff, number_text)
        if version is None:
            version = _opt_int(body.get("version"), "version")
        self._expect(view, version)
        t = view.ticket
        lifecycle.check_transition(t.status, TransitionRequest(target, text, merge_into))
        change = self._change(staff, t)
        now = change.now
        new = t.replace(status=target)
        others: list[Change] = []
        data: dict[str, Any] = {"from": t.status, "to": target}
        if t.status == "awaiting_info":
            new = resume(new, now, self._policy).replace(resume_status=None)
        if target == "acknowledged" and new.first_response_at is None:
            new = mark_met(new.replace(first_response_at=now), "first_response", now)
        elif target == "awaiting_info":
            new = pause(new.replace(resume_status=t.status), now)
        elif target == "resolved":
            new = mark_met(new, "resolution", now).replace(
                resolved_at=now, resolution=text, resolution_round=t.resolution_round + 1
            )
        elif target == "rejected":
            # Spam leaves the resolution rate's denominator; out of scope stays in it.
            kind = reject_kind or "out_of_scope"
            new = new.replace(
                reason=text, closed_at=now, attributes={**new.attributes, "reject_kind": kind}
            )
            data["reject_kind"] = kind
        elif target == "closed":
            new = new.replace(closed_at=now)
        elif target == "merged":
            assert merge_into is not None  # noqa: S101 - check_transition requires it
            survivor = self._merge_target(staff, t, merge_into)
            new = new.replace(merged_into=survivor.ticket.number, closed_at=now)
            data["merged_into"] = survivor.ticket.number
            other = self._change(staff, survivor.ticket)
            other.ticket = survivor.ticket.replace(
                attributes={
                    **survivor.ticket.attributes,
                    "merged_duplicates": [
                        *survivor.ticket.attributes.get("merged_duplicates", []),
                        t.number,
                    ],
                }
            )
            other.event(
                "duplicate_merged",
                public=False,
                text=f"Duplicate {t.number} merged into this ticket.",
                data={"duplicate": t.number},
            )
            others.append(other)
        change.ticket = new
        change.event("status_changed", public=True, text=text or "", data=data)
        saved = self._save(change, *others)
        if self._notifier is not None:
            track = (
                f"{self._site_origin}/track/#number={saved.number}" if self._site_origin else None
            )
            notify_submitter(self._notifier, self._cipher, saved, text, track_url=track)
        # The answer is the state just written (no second read): the ticket as saved and the
        # timeline loaded plus this change's events, in the store's order (time, then seq).
        timeline = sorted([*view.events, *change.events], key=lambda e: (e.at, e.seq))
        return self._body(TicketView(ticket=saved, events=timeline))

    def _merge_target(self, staff: StaffMember, source: Ticket, text: str) -> TicketView:
        number = parse_ticket_number(text, self._prefix)
        if number == source.number:
            raise ValidationError("A ticket cannot be merged into itself.", {"merge_into": "self"})
        if source.attributes.get("merged_duplicates"):
            raise ConflictError(
                f"{source.number} already has duplicates merged into it; merge the others "
                "into it instead (merges never chain)."
            )
        view = self._store.get_ticket(number)
        if view is None:
            raise ValidationError(f"No ticket {number} exists.", {"merge_into": "not found"})
        staff.require(Permission.WORK, view.ticket.department)
        if view.ticket.status == "merged":
            raise ConflictError(
                f"{number} is itself merged into {view.ticket.merged_into}; merge into that one."
            )
        return view

    # -- queues, export, canned responses ---------------------------------------------------

    def _scope(self, staff: StaffMember, department: str | None) -> tuple[str, ...]:
        if department is not None:
            staff.require(Permission.WORK, department)
            return (department,)
        if staff.role == "admin":
            return self._departments()
        return staff.departments

    def queue(self, staff: StaffMember, request: QueueRequest) -> dict[str, Any]:
        """A page of tickets in next-due order; ``cursor`` continues the same list."""
        staff.require(Permission.WORK)
        if not 1 <= request.limit <= PAGE_MAX:
            raise ValidationError(f"limit must be 1 to {PAGE_MAX}", {"limit": "out of range"})
        statuses = request.statuses or tuple(sorted(OPEN_STATUSES))
        for s in statuses:
            if s not in STATUSES:
                raise ValidationError("Unknown status.", {"status": f"{s!r} is not a status"})
        if request.priority is not None and request.priority not in PRIORITIES:
            raise ValidationError("Unknown priority.", {"priority": "must be P1, P2 or P3"})
        if request.sla not in (None, "breached", "due_soon"):
            raise ValidationError("Unknown SLA filter.", {"sla": "must be breached or due_soon"})
        assignee = staff.id if request.assignee == "me" else request.assignee
        query = QueueQuery(
            departments=self._scope(staff, request.department),
            statuses=statuses,
            priority=request.priority,
            assignee=assignee,
            due_before=request.due_before,
        )
        fingerprint = query_fingerprint([query, request.sla, staff.id])
        after = (
            decode_cursor(self._keyring, request.cursor, fingerprint) if request.cursor else None
        )
        rows: list[Ticket] = []
        last: str | None = after
        # The SLA filter is applied after the index read; a few pages keep one response bounded.
        for _ in range(10):
            page = self._store.list_queue(query, last, request.limit - len(rows))
            rows.extend(t for t in page.tickets if _sla_matches(t, request.sla))
            last = page.last_key
            if last is None or len(rows) >= request.limit:
                break
        next_cursor = encode_cursor(self._keyring, last, fingerprint) if last else None
        return {"tickets": [staff_summary(t) for t in rows], "next_cursor": next_cursor}

    def export_csv(self, staff: StaffMember, request: QueueRequest) -> tuple[str, str | None]:
        """CSV of the queue, page by page, department-scoped; no contact details or notes."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        cursor = request.cursor
        count = 0
        statuses = request.statuses or tuple(STATUSES)
        while True:
            page = self.queue(
                staff,
                QueueRequest(
                    statuses,
                    request.department,
                    request.assignee,
                    request.priority,
                    request.due_before,
                    request.sla,
                    cursor,
                    PAGE_MAX,
                ),
            )
            for row in page["tickets"]:
                writer.writerow([_neutralise(v) for v in _csv_row(row)])
                count += 1
            cursor = page["next_cursor"]
            if cursor is None or count >= EXPORT_MAX_ROWS:
                return out.getvalue(), cursor

    def list_canned(self, staff: StaffMember, category: str | None) -> list[dict[str, Any]]:
        staff.require(Permission.WORK)
        items = self._store.list_canned()
        if category is not None:
            cat = self._taxonomy.get(category)
            family = {category, cat.parent} if cat is not None and cat.parent else {category}
            items = [c for c in items if c.category is None or c.category in family]
        return [_canned_view(c) for c in items]

    def add_canned(self, staff: StaffMember, body: object) -> dict[str, Any]:
        staff.require(Permission.ADMINISTER)
        if not isinstance(body, dict):
            raise ValidationError("The body must be a JSON object.")
        unknown = set(body) - {"title", "text", "category", "translations"}
        errors = dict.fromkeys(unknown, "is not a known field")
        title, text, category = body.get("title"), body.get("text"), body.get("category")
        if not _canned_title_ok(title):
            errors["title"] = "must be 1 to 100 characters"
        if not _canned_text_ok(text):
            errors["text"] = f"must be 1 to {TEXT_MAX} characters"
        translations = _canned_translations(body.get("translations", {}), errors)
        if category is not None and (
            not isinstance(category, str) or self._taxonomy.get(category) is None
        ):
            errors["category"] = "is not a known category"
        if errors:
            raise ValidationError("Some fields are missing or invalid.", errors)
        if not isinstance(title, str) or not isinstance(text, str):
            raise ValidationError("Some fields are missing or invalid.", errors)
        canned = CannedResponse(
            id=secrets.token_hex(6),
            title=clean_text(title),
            text=clean_text(text, multiline=True),
            category=category,
            created_at=self._clock.now(),
            translations=translations,
        )
        self._store.put_canned(canned)
        return _canned_view(canned)

    def delete_canned(self, staff: StaffMember, canned_id: str) -> None:
        staff.require(Permission.ADMINISTER)
        if not self._store.delete_canned(canned_id):
            raise NotFoundError(f"No canned response {canned_id}.")

    def render_canned(self, staff: StaffMember, ticket: Ticket, canned_id: object) -> str:
        if not isinstance(canned_id, str):
            raise ValidationError("canned_id must be a string.", {"canned_id": "invalid"})
        match = next((c for c in self._store.list_canned() if c.id == canned_id), None)
        if match is None:
            raise ValidationError("No such canned response.", {"canned_id": "not found"})
        category = self._taxonomy.get(ticket.category)
        return render_canned(
            match.text_in(ticket.language),
            number=ticket.number,
            category=category.name(ticket.language) if category else ticket.category,
            department=ticket.department,
        )


def _sla_matches(ticket: Ticket, sla_filter: str | None) -> bool:
    if sla_filter is None:
        return True
    state = sla_of(ticket)
    states = {state["first_response"]["state"], state["resolution"]["state"]}
    if sla_filter == "breached":
        return "breached" in states and ticket.is_open
    return "due_soon" in states and ticket.is_open


def _csv_row(row: dict[str, Any]) -> list[object]:
    sla = row["sla"]
    return [
        row["number"],
        row["submitted_at"],
        row["channel"],
        row["type"],
        row["category"],
        row["priority"],
        row["department"],
        row["status"],
        row["assignee"],
        row["subject"],
        sla["first_response"]["deadline"],
        sla["first_response"]["met_at"],
        sla["first_response"]["state"],
        sla["resolution"]["deadline"],
        sla["resolution"]["met_at"],
        sla["resolution"]["state"],
        row["rating"],
        row["reopen_count"],
    ]


def _canned_view(c: CannedResponse) -> dict[str, Any]:
    return {
        "id": c.id,
        "title": c.title,
        "text": c.text,
        "category": c.category,
        "translations": c.translations,
    }


def _canned_title_ok(title: object) -> bool:
    return isinstance(title, str) and bool(clean_text(title)) and len(title) <= 100


def _canned_text_ok(text: object) -> bool:
    return (
        isinstance(text, str) and bool(clean_text(text, multiline=True)) and len(text) <= TEXT_MAX
    )


def _canned_translations(raw: object, errors: dict[str, str]) -> dict[str, dict[str, str]]:
    """``{"zh": {"title", "text"}}``: a canned response's other languages (English is the
    default version, in ``title`` and ``text``)."""
    if not isinstance(raw, dict):
        errors["translations"] = "must be an object of languages"
        return {}
    out: dict[str, dict[str, str]] = {}
    for lang, entry in raw.items():
        where = f"translations.{lang}"
        if lang not in LANGUAGES or lang == "en":
            errors[where] = "is not a language to translate into (zh)"
            continue
        if not isinstance(entry, dict) or set(entry) != {"title", "text"}:
            errors[where] = "must have exactly a title and a text"
            continue
        if not _canned_title_ok(entry["title"]):
            errors[f"{where}.title"] = "must be 1 to 100 characters"
        elif not _canned_text_ok(entry["text"]):
            errors[f"{where}.text"] = f"must be 1 to {TEXT_MAX} characters"
        else:
            out[lang] = {
                "title": clean_text(entry["title"]),
                "text": clean_text(entry["text"], multiline=True),
            }
    return out


def _opt_int(value: object, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field} must be a whole number.", {field: "must be a number"})
    return value


def parse_if_match(header: str | None) -> int | None:
    """``If-Match: 7`` or ``If-Match: "7"`` (an ETag) -> 7."""
    if header is None:
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise ValidationError(
            "If-Match must carry the ticket's version number.", {"If-Match": "invalid"}
        )
    return int(text)
