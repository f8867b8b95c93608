"""Use cases: staff accounts and bearer tokens, and authenticating a request.

Tokens are ``clt_`` + 32 Crockford symbols (160 random bits), shown once, stored as SHA-256
hashes with an expiry; a token's public id is the first 12 hex digits of its hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain import numbers
from chalicelib.domain.staff import ROLES, StaffMember, TokenRecord, check_slug
from chalicelib.errors import ConflictError, NotFoundError, UnauthorizedError, ValidationError
from chalicelib.services.ports import Clock, RandomSource
from chalicelib.store.port import TicketStore

TOKEN_PREFIX = "clt_"  # noqa: S105 - a public prefix that marks tokens, not a secret
TOKEN_ID_LENGTH = 12
# Recording every use would make each staff request a write; once a minute is enough to audit.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once
    record: TokenRecord

    @property
    def token_id(self) -> str:
        return self.record.token_hash[:TOKEN_ID_LENGTH]


class StaffAccessService:
    def __init__(self, store: TicketStore, clock: Clock, random: RandomSource) -> None:
        self._store = store
        self._clock = clock
        self._random = random

    def add_staff(
        self, staff_id: str, name: str, role: str, departments: list[str], *, replace: bool = False
    ) -> StaffMember:
        """Create (or with ``replace`` update) a staff member."""
        check_slug(staff_id, "id")
        if role not in ROLES:
            raise ValidationError(f"role must be one of {', '.join(ROLES)}", {"role": "unknown"})
        if not name.strip() or len(name) > 100:
            raise ValidationError("name must be 1 to 100 characters", {"name": "invalid"})
        for d in departments:
            check_slug(d, "department")
        if role != "admin" and not departments:
            raise ValidationError(
                "agents and supervisors need at least one department", {"departments": "empty"}
            )
        existing = self._store.get_staff(staff_id)
        if existing is not None and not replace:
            raise ConflictError(f"staff member {staff_id} exists (use replace to change them)")
        member = StaffMember(
            id=staff_id,
            name=name.strip(),
            role=role,
            departments=tuple(dict.fromkeys(departments)),
            created_at=existing.created_at if existing else self._clock.now(),
            active=True,
        )
        self._store.put_staff(member)
        return member

    def set_active(self, staff_id: str, active: bool) -> StaffMember:
        member = self._require_member(staff_id)
        updated = StaffMember(
            member.id, member.name, member.role, member.departments, member.created_at, active
        )
        self._store.put_staff(updated)
        return updated

    def list_staff(self) -> list[StaffMember]:
        return self._store.list_staff()

    def issue_token(self, staff_id: str, *, days: int = 90, label: str = "") -> IssuedToken:
        """A new token for ``staff_id``, valid for ``days``; the plaintext is returned once."""
        self._require_member(staff_id)
        if not 1 <= days <= 366:
            raise ValidationError("days must be between 1 and 366", {"days": "out of range"})
        token = TOKEN_PREFIX + numbers.format_key(self._random.token_bytes(numbers.KEY_BYTES))
        now = self._clock.now()
        record = TokenRecord(
            token_hash=hash_token(token),
            staff_id=staff_id,
            label=label.strip()[:100],
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        self._store.put_token(record)
        return IssuedToken(token, record)

    def list_tokens(self, staff_id: str) -> list[TokenRecord]:
        self._require_member(staff_id)
        return self._store.list_tokens(staff_id)

    def revoke_token(self, staff_id: str, token_id: str) -> TokenRecord:
        """Revoke the token of ``staff_id`` whose id (hash prefix) is ``token_id``."""
        token_id = token_id.strip().lower()
        matches = [
            t for t in self._store.list_tokens(staff_id) if t.token_hash.startswith(token_id)
        ]
        if len(token_id) < 6 or len(matches) != 1:
            raise NotFoundError(f"no single token of {staff_id} has the id {token_id!r}")
        token = matches[0]
        if token.revoked_at is None:
            token = _replace_token(token, revoked_at=self._clock.now())
            self._store.put_token(token)
        return token

    def authenticate(self, authorization: str | None) -> StaffMember:
        """The staff member behind an ``Authorization: Bearer`` header, or UnauthorizedError."""
        if not authorization:
            raise UnauthorizedError("Sign in: this needs an Authorization: Bearer token.")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
            raise UnauthorizedError("The Authorization header must be 'Bearer <token>'.")
        record = self._store.get_token(hash_token(token))
        now = self._clock.now()
        if record is None:
            raise UnauthorizedError("This token is not valid.")
        if record.revoked_at is not None:
            raise UnauthorizedError("This token has been revoked.")
        if now >= record.expires_at:
            raise UnauthorizedError("This token has expired; ask an admin for a new one.")
        member = self._store.get_staff(record.staff_id)
        if member is None or not member.active:
            raise UnauthorizedError("This staff account is disabled.")
        if record.last_used_at is None or now - record.last_used_at >= LAST_USED_RESOLUTION:
            self._store.put_token(_replace_token(record, last_used_at=now))
        return member

    def _require_member(self, staff_id: str) -> StaffMember:
        member = self._store.get_staff(staff_id)
        if member is None:
            raise NotFoundError(f"no staff member {staff_id}")
        return member


def _replace_token(
    t: TokenRecord, *, revoked_at: datetime | None = None, last_used_at: datetime | None = None
) -> TokenRecord:
    return TokenRecord(
        token_hash=t.token_hash,
        staff_id=t.staff_id,
        label=t.label,
        created_at=t.created_at,
        expires_at=t.expires_at,
        revoked_at=revoked_at or t.revoked_at,
        last_used_at=last_used_at or t.last_used_at,
    )
