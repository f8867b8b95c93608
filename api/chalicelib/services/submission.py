"""Use case: a member of the public (or staff on their behalf) submits feedback.

Idempotency: with an ``Idempotency-Key`` the private key is derived from the server secret, the
idempotency key and the ticket number (HMAC), so a retried request gets the very same response
while the key itself is never stored anywhere. The stored record holds only the response without
the key, the request digest and the ticket number, and expires. The record is written in the
ticket's own transaction, whose condition fails when an unexpired record holds the key
(``IdempotencyExistsError``); only then is the record read, to replay the first response (or
refuse a different body). A first-time submission is therefore one write and no read.

The client's rate-limit charge rides in the same write (``RateCharge``): the store refuses the
whole transaction when the counter is full, so a limited submission stores nothing, a first
submission is still one request, and a refused retry of a stored submission is replayed
uncharged (the held idempotency key wins over the full counter).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.crypto.port import ContactCipher, Keyring
from chalicelib.domain import numbers, rollups
from chalicelib.domain.categories import Taxonomy
from chalicelib.domain.feedback import Contact, Submission, parse_submission
from chalicelib.domain.rate_limits import RateCharge
from chalicelib.domain.sla import Policy, compute_deadlines
from chalicelib.domain.sla_state import Timers, next_due
from chalicelib.domain.tickets import Event, Ticket
from chalicelib.domain.triage import Rules, triage
from chalicelib.errors import (
    ConflictError,
    IdempotencyExistsError,
    IdempotencyMismatchError,
    NumberTakenError,
    RateChargeRefusedError,
    ValidationError,
)
from chalicelib.i18n.events import system_text
from chalicelib.services.ports import Clock, RandomSource
from chalicelib.services.rate_limits import refusal
from chalicelib.services.views import public_deadlines, public_time
from chalicelib.store.port import IdempotencyRecord, TicketStore

IDEMPOTENCY_KEY_MAX = 255
_NUMBER_ATTEMPTS = 5


@dataclass(frozen=True)
class SubmissionResult:
    """The 201 body, and whether it replays an earlier request."""

    body: dict[str, Any]
    replayed: bool


def _digest(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_idempotency_key(value: str | None) -> str | None:
    """Validate an ``Idempotency-Key`` header: 1 to 255 visible ASCII characters."""
    if value is None:
        return None
    if not (1 <= len(value) <= IDEMPOTENCY_KEY_MAX) or not all("!" <= ch <= "~" for ch in value):
        raise ValidationError(
            "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
            {"Idempotency-Key": "must be 1 to 255 visible ASCII characters"},
        )
    return value


def encode_contact(contact: Contact | None, extra: Mapping[str, str] | None = None) -> bytes:
    """The plaintext of the contact envelope; ``extra`` adds channel-specific personal details
    (Open311's device and account ids, media URL), encrypted and purged with the rest."""
    fields: dict[str, str | None] = {
        "name": contact.name if contact else None,
        "email": contact.email if contact else None,
        "phone": contact.phone if contact else None,
    }
    fields.update(extra or {})
    return json.dumps(fields, ensure_ascii=False, sort_keys=True).encode("utf-8")


class SubmissionService:
    """Creates tickets from public submissions and from staff intake."""

    def __init__(
        self,
        store: TicketStore,
        cipher: ContactCipher,
        keyring: Keyring,
        clock: Clock,
        random: RandomSource,
        taxonomy: Taxonomy,
        rules: Rules,
        policy: Policy,
        number_prefix: str,
        idempotency_ttl: timedelta,
        timers: Timers,
    ) -> None:
        self._store = store
        self._cipher = cipher
        self._keyring = keyring
        self._clock = clock
        self._random = random
        self._taxonomy = taxonomy
        self._rules = rules
        self._policy = policy
        self._prefix = number_prefix
        self._idem_ttl = idempotency_ttl
        self._timers = timers

    def submit(
        self,
        payload: object,
        idempotency_key: str | None = None,
        *,
        channel: str = "web",
        actor: tuple[str, str] | None = None,
        contact_extra: Mapping[str, str] | None = None,
        attributes: Mapping[str, Any] | None = None,
        charge: RateCharge | None = None,
    ) -> SubmissionResult:
        """Validate and store a submission; replay the first response for a retried request.

        ``contact_extra`` is stored encrypted with the contact details; ``attributes`` are
        channel data kept on the ticket (``Ticket.attributes``), e.g. Open311's location.
        ``charge`` (the client's rate limit, ``RateLimitService.charge``) is written in the
        ticket's own transaction: a full counter refuses the submission with
        ``RateLimitedError`` and nothing is stored; a retry of a submission already stored is
        answered with its ticket, never refused and never charged."""
        submission = parse_submission(payload, self._taxonomy)
        idem_key = check_idempotency_key(idempotency_key)
        now = self._clock.now()
        extras = {"contact_extra": dict(contact_extra or {}), "attributes": dict(attributes or {})}
        canonical: dict[str, Any] = {"channel": channel, "submission": submission.canonical()}
        if contact_extra or attributes:
            canonical.update(extras)
        request_hash = _digest(canonical)
        key_hash = None
        if idem_key is not None:
            # Write first, read only on a retry: the transaction's condition on the idempotency
            # record is the check, so a first-time submission costs one write and nothing else.
            key_hash = hashlib.sha256(f"feedback\x00{idem_key}".encode()).hexdigest()
        for _ in range(_NUMBER_ATTEMPTS):
            number = numbers.format_number(
                self._random.token_bytes(numbers.RANDOM_BYTES_FOR_NUMBER), self._prefix
            )
            key = self._private_key(key_hash, number)
            ticket, events = self._build(submission, number, key, now, channel, actor, extras)
            body = {
                "number": number,
                "status": ticket.status,
                "submitted_at": public_time(ticket.submitted_at),
                "deadlines": public_deadlines(ticket),
            }
            record = None
            if key_hash is not None:
                record = IdempotencyRecord(
                    key_hash=key_hash,
                    request_hash=request_hash,
                    number=number,
                    response=body,
                    created_at=now,
                    expires_at=now + self._idem_ttl,
                )
            try:
                self._store.create_ticket(
                    ticket,
                    events,
                    record,
                    rollups=rollups.delta(None, ticket, self._policy.calendar.timezone),
                    charge=charge,
                )
            except RateChargeRefusedError:
                assert charge is not None  # noqa: S101 - only raised when a charge was sent
                raise refusal(charge, now) from None
            except NumberTakenError:
                continue  # astronomically rare with 45 random bits: draw again
            except IdempotencyExistsError as e:
                assert key_hash is not None  # noqa: S101 - only raised when a record was sent
                replay = self._replay(key_hash, request_hash, now, e.holder)
                if replay is None:
                    continue  # the record expired and was deleted in between: the key is free
                return replay
            return SubmissionResult({**body, "key": key}, replayed=False)
        raise ConflictError("Could not allocate a ticket number; please retry.")

    def _private_key(self, idem_key_hash: str | None, number: str) -> str:
        if idem_key_hash is None:
            return numbers.format_key(self._random.token_bytes(numbers.KEY_BYTES))
        mac = self._keyring.mac("ticket-key", f"{idem_key_hash}\x00{number}".encode())
        return numbers.format_key(mac)

    def _replay(
        self,
        key_hash: str,
        request_hash: str,
        now: datetime,
        holder: IdempotencyRecord | None = None,
    ) -> SubmissionResult | None:
        # The adapter usually hands over the record that refused the write; read it otherwise.
        record = holder if holder is not None else self._store.get_idempotency(key_hash, now)
        if record is None:
            return None
        if record.request_hash != request_hash:
            raise IdempotencyMismatchError(
                "This Idempotency-Key was already used with a different request body."
            )
        key = self._private_key(key_hash, record.number)
        return SubmissionResult({**record.response, "key": key}, replayed=True)

    def _build(
        self,
        s: Submission,
        number: str,
        key: str,
        now: datetime,
        channel: str,
        actor: tuple[str, str] | None,
        extras: Mapping[str, Any] | None = None,
    ) -> tuple[Ticket, list[Event]]:
        decision = triage(
            s.type, s.category, f"{s.subject}\n{s.description}", self._taxonomy, self._rules
        )
        deadlines = compute_deadlines(now, decision.priority, self._policy)
        contact_token = None
        contact_extra = (extras or {}).get("contact_extra") or {}
        if s.contact is not None or contact_extra:
            contact_token = self._cipher.encrypt(encode_contact(s.contact, contact_extra), number)
        ticket = Ticket(
            number=number,
            type=s.type,
            category=s.category,
            subject=s.subject,
            description=s.description,
            location=s.location,
            channel=channel,
            priority=decision.priority,
            department=decision.department,
            status="received",
            submitted_at=now,
            updated_at=now,
            deadlines=deadlines,
            key_hash=numbers.hash_key(key),
            language=s.language,
            consent_to_publish=s.consent_to_publish,
            contact_ciphertext=contact_token,
            consent_to_contact=bool(s.contact and s.contact.consent_to_contact),
            event_seq=2 if decision.priority_rule or decision.route_rule else 1,
            attributes=dict((extras or {}).get("attributes") or {}),
        )
        ticket = ticket.replace(due_at=next_due(ticket, self._policy, self._timers))
        who, label = actor or ("submitter", "submitter")
        received_text, received_data = system_text("event.submitted", {"channel": channel})
        events = [
            Event(
                number=number,
                seq=1,
                at=now,
                kind="submitted",
                public=True,
                actor=who,
                actor_label=label,
                text=received_text,
                data=received_data,
            )
        ]
        if decision.priority_rule or decision.route_rule:
            events.append(
                Event(
                    number=number,
                    seq=2,
                    at=now,
                    kind="triaged",
                    public=False,
                    actor="system",
                    actor_label="system",
                    text="Automatic triage.",
                    data={
                        "priority": decision.priority,
                        "priority_rule": decision.priority_rule,
                        "keywords": list(decision.keywords),
                        "department": decision.department,
                        "route_rule": decision.route_rule,
                    },
                )
            )
        return ticket, events
