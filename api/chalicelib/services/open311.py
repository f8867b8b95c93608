"""Use cases of the Open311 GeoReport v2 bridge: discovery, services, submitting and reading
service requests, and the API keys of client apps.

A submission goes through the ordinary submission use case (``SubmissionService``), so triage,
SLA deadlines, rollups, idempotency and the encryption of contact details all apply; the ticket
arrives on the ``open311`` channel. What a read returns is ``domain.open311.public_request``.

API keys reuse the staff token records (hashed, shown once, revocable) under one principal,
``app:open311``; each key's label is its app's name. A key is never a staff token: it has its own
prefix, and no staff member ``app:open311`` can exist (staff ids are slugs without a colon).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib.domain import numbers, open311, publication, rate_limits
from chalicelib.domain.categories import Taxonomy
from chalicelib.domain.departments import DepartmentConfigError, Directory
from chalicelib.domain.sla_state import public_sla
from chalicelib.domain.staff import TokenRecord, check_slug
from chalicelib.domain.tickets import Ticket
from chalicelib.errors import ForbiddenError, NotFoundError, ValidationError
from chalicelib.services.lookup import KEY_MAX, InvalidKeyError, parse_ticket_number
from chalicelib.services.ports import Clock, RandomSource
from chalicelib.services.rate_limits import RateLimitService
from chalicelib.services.submission import SubmissionService, check_idempotency_key
from chalicelib.store.port import TicketStore, TicketView

APP_PRINCIPAL = "app:open311"
KEY_PREFIX = "o311_"
KEY_ID_LENGTH = 12
KEY_DAYS_DEFAULT = 365
KEY_DAYS_MAX = 3660
API_KEY_MAX = 100
CHANGESET = "2026-11-25T00:00:00Z"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# How many tickets one store read returns while filling a page.
_BATCH = 200


def hash_api_key(key: str) -> str:
    return hashlib.sha256(b"open311\x00" + key.strip().encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    key: str  # shown once
    record: TokenRecord

    @property
    def key_id(self) -> str:
        return self.record.token_hash[:KEY_ID_LENGTH]


class Open311KeyService:
    """API keys of Open311 client apps: issue (shown once), list, revoke, authenticate."""

    def __init__(self, store: TicketStore, clock: Clock, random: RandomSource) -> None:
        self._store = store
        self._clock = clock
        self._random = random

    def issue(self, name: str, *, days: int = KEY_DAYS_DEFAULT) -> IssuedKey:
        """A new key for the app ``name`` (a slug), valid for ``days``."""
        check_slug(name, "name")
        if not 1 <= days <= KEY_DAYS_MAX:
            raise ValidationError(
                f"days must be between 1 and {KEY_DAYS_MAX}", {"days": "out of range"}
            )
        key = KEY_PREFIX + numbers.format_key(self._random.token_bytes(numbers.KEY_BYTES))
        now = self._clock.now()
        record = TokenRecord(
            token_hash=hash_api_key(key),
            staff_id=APP_PRINCIPAL,
            label=name,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        self._store.put_token(record)
        return IssuedKey(key, record)

    def list(self) -> list[TokenRecord]:
        return self._store.list_tokens(APP_PRINCIPAL)

    def revoke(self, key_id: str) -> TokenRecord:
        """Revoke the key whose id (the first hex digits of its hash) is ``key_id``."""
        key_id = key_id.strip().lower()
        matches = [t for t in self.list() if t.token_hash.startswith(key_id)]
        if len(key_id) < 6 or len(matches) != 1:
            raise NotFoundError(f"no single Open311 key has the id {key_id!r}")
        record = matches[0]
        if record.revoked_at is None:
            record = TokenRecord(
                token_hash=record.token_hash,
                staff_id=record.staff_id,
                label=record.label,
                created_at=record.created_at,
                expires_at=record.expires_at,
                revoked_at=self._clock.now(),
                last_used_at=record.last_used_at,
            )
            self._store.put_token(record)
        return record

    def authenticate(self, api_key: str | None) -> TokenRecord:
        """The key's record, or ForbiddenError (the standard answers 403 to a bad api_key)."""
        if not api_key or not api_key.strip():
            raise ForbiddenError("An api_key is required to submit service requests.")
        key = api_key.strip()
        if not key.startswith(KEY_PREFIX) or len(key) > API_KEY_MAX:
            raise ForbiddenError("Invalid api_key received.")
        record = self._store.get_token(hash_api_key(key))
        if record is None or record.staff_id != APP_PRINCIPAL:
            raise ForbiddenError("Invalid api_key received.")
        if record.revoked_at is not None:
            raise ForbiddenError("This api_key has been revoked.")
        if self._clock.now() >= record.expires_at:
            raise ForbiddenError("This api_key has expired; ask the operator for a new one.")
        return record


class Open311Service:
    def __init__(
        self,
        store: TicketStore,
        submission: SubmissionService,
        keys: Open311KeyService,
        clock: Clock,
        taxonomy: Taxonomy,
        directory: Directory,
        number_prefix: str,
        limits: RateLimitService | None = None,
    ) -> None:
        self._store = store
        self._submission = submission
        self._keys = keys
        self._clock = clock
        self._limits = limits
        self._taxonomy = taxonomy
        self._directory = directory
        self._prefix = number_prefix

    # -- discovery and services --------------------------------------------------------------

    def discovery(self, endpoint_url: str) -> dict[str, Any]:
        return {
            "changeset": CHANGESET,
            "contact": "Ask the operator of this portal for help with this API.",
            "key_service": "API keys are issued by the operator of this portal "
            "(clearloop open311-key issue --name <app>).",
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": endpoint_url,
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": ["application/json", "text/xml"],
                }
            ],
        }

    def services(self, language: str) -> list[dict[str, Any]]:
        return [open311.service_entry(s, language) for s in open311.services(self._taxonomy)]

    def definition(self, code: str, language: str) -> dict[str, Any]:
        service = open311.service_by_code(self._taxonomy, code)
        if service is None:
            raise NotFoundError(f"No service has the service_code {code[:50]!r}.")
        return open311.service_definition(service, language)

    # -- submitting ---------------------------------------------------------------------------

    def submit(
        self,
        form: Mapping[str, Sequence[str]],
        api_key: str | None,
        language: str,
        idempotency_key: str | None = None,
    ) -> list[dict[str, Any]]:
        """``POST requests``: the new ticket's number as ``service_request_id``.

        The submitter's private key is returned (as the extension field ``key``) only when the
        app asks for it with ``return_key=true``, on the submitter's behalf; otherwise it is
        drawn and discarded, and only its hash is stored.

        Each API key has its own ``open311_submit`` limit, charged in the ticket's own write
        (``RateLimitService.charge``): 429 once the key's window is spent; a replay is never
        refused or charged."""
        app = self._keys.authenticate(api_key)
        app_id = app.token_hash[:KEY_ID_LENGTH]
        request = open311.parse_request(form, self._taxonomy, language)
        charge = None
        if self._limits is not None:
            charge = self._limits.charge(None, rate_limits.OPEN311_SUBMIT, client=f"app-{app_id}")
        scoped = None
        if check_idempotency_key(idempotency_key) is not None:
            # Apps choose their keys independently: one app's key never replays another's.
            digest = hashlib.sha256(str(idempotency_key).encode()).hexdigest()
            scoped = f"open311:{app_id}:{digest}"
        result = self._submission.submit(
            request.payload,
            scoped,
            channel="open311",
            contact_extra=request.contact_extra,
            attributes={
                "open311": {
                    **request.location,
                    "attributes": request.attributes,
                    "app": app.label,
                    "api_key_id": app_id,
                }
            },
            charge=charge,
        )
        body = result.body
        deadlines = body["deadlines"]
        entry: dict[str, Any] = {
            "service_request_id": body["number"],
            "service_notice": open311.service_notice(
                open311.parse_datetime(deadlines["first_response"], "first_response"),
                open311.parse_datetime(deadlines["resolution"], "resolution"),
            ),
            "account_id": None,
        }
        if request.return_key:
            entry["key"] = body["key"]
        return [entry]

    # -- reading ------------------------------------------------------------------------------

    def request(self, id_text: str, language: str, key: str | None) -> list[dict[str, Any]]:
        """``GET requests/{id}``: one request; with the ticket's private key (header
        ``X-Ticket-Key``) ``status_notes`` is the latest public reply."""
        try:
            number = parse_ticket_number(id_text, self._prefix)
        except ValidationError:
            raise NotFoundError(f"No service request {id_text[:40]!r} exists.") from None
        if key is not None and (not key.strip() or len(key) > KEY_MAX):
            raise ValidationError(
                "The X-Ticket-Key header is malformed.",
                {"X-Ticket-Key": f"must be 1 to {KEY_MAX} characters"},
            )
        view = self._store.get_ticket(number)
        if view is None:
            raise NotFoundError(f"No service request {number} exists.")
        reply = None
        if key is not None:
            if not numbers.key_matches(key, view.ticket.key_hash):
                # Counted with the client's wrong keys like the web lookup's (routes/open311.py).
                raise InvalidKeyError("The key does not match this service request.")
            reply = _latest_reply(view)
        return [self._public(view.ticket, language, reply)]

    def requests(self, params: Mapping[str, str | None], language: str) -> list[dict[str, Any]]:
        """``GET requests``: by ids, or by window, service codes and status, newest first."""
        ids = open311.parse_list(
            params.get("service_request_id"), "service_request_id", open311.MAX_REQUEST_IDS
        )
        if ids:
            return self._by_ids(ids, language)
        window = open311.window(params.get("start_date"), params.get("end_date"), self._clock.now())
        codes = open311.parse_list(params.get("service_code"), "service_code", 100)
        statuses = open311.parse_statuses(params.get("status"))
        page = open311.parse_positive(params.get("page"), "page", 1, 10_000)
        size = open311.parse_positive(
            params.get("page_size"), "page_size", open311.MAX_RESULTS, open311.MAX_RESULTS
        )
        skip = (page - 1) * size
        found: list[Ticket] = []
        after: str | None = None
        while len(found) < skip + size:
            batch = self._store.list_submitted(window.start, window.end, after, _BATCH)
            found.extend(t for t in batch.tickets if open311.matches(t, codes, statuses))
            after = batch.last_key
            if after is None:
                break
        return [self._public(t, language) for t in found[skip : skip + size]]

    def _by_ids(self, ids: list[str], language: str) -> list[dict[str, Any]]:
        out = []
        for text in ids:
            try:
                number = parse_ticket_number(text, self._prefix)
            except ValidationError:
                raise ValidationError(
                    f"{text[:40]!r} is not a valid service_request_id.",
                    {"service_request_id": "is not a valid service request id"},
                ) from None
            view = self._store.get_ticket(number)
            if view is not None:
                out.append(self._public(view.ticket, language))
        return out

    def _public(self, ticket: Ticket, language: str, reply: str | None = None) -> dict[str, Any]:
        category = self._taxonomy.get(ticket.category)
        try:
            agency = self._directory.get(ticket.department).name(language)
        except DepartmentConfigError:
            agency = ticket.department
        sla = public_sla(ticket)
        summary = None
        if publication.board_position(ticket) is not None:
            record = publication.record_of(ticket) or {}
            summary = record.get("summary") or None
        return open311.public_request(
            ticket,
            service_name=category.name(language) if category else ticket.category,
            agency=agency,
            expected=sla["resolution"]["deadline"],
            first_response=sla["first_response"]["deadline"],
            published_summary=summary,
            latest_reply=reply,
        )


def _latest_reply(view: TicketView) -> str | None:
    """The text of the latest public entry staff wrote (a reply or a status change's text)."""
    for event in reversed(view.events):
        if event.public and event.actor.startswith("staff:") and event.text.strip():
            return event.text
    return None
