"""Staff accounts, their tokens, and the one authorisation rule every staff route goes through.

Roles nest: an agent works tickets of their departments; a supervisor can also reassign,
approve publication and see escalations for their departments; an admin can do everything in
every department and manages accounts, categories and canned responses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

from chalicelib.errors import ForbiddenError, ValidationError

ROLES = ("agent", "supervisor", "admin")
ALL_DEPARTMENTS = "*"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class Permission(IntEnum):
    """What a route needs; each role has every permission up to its rank."""

    WORK = 1  # read queues and tickets, reply, note, transition, triage, intake, contact
    SUPERVISE = 2  # reassign departments, approve publication
    ADMINISTER = 3  # manage staff, canned responses


ROLE_RANK = {
    "agent": Permission.WORK,
    "supervisor": Permission.SUPERVISE,
    "admin": Permission.ADMINISTER,
}


def check_slug(value: str, field: str) -> str:
    """Identifiers (staff ids, departments) are lower-case slugs: they appear inside keys."""
    if not isinstance(value, str) or not _SLUG.match(value):
        raise ValidationError(
            f"{field} must be a lower-case slug (a-z, 0-9, dashes; at most 63 characters).",
            {field: "must be a lower-case slug"},
        )
    return value


@dataclass(frozen=True)
class StaffMember:
    id: str
    name: str
    role: str
    departments: tuple[str, ...]
    created_at: datetime
    active: bool = True

    @property
    def public_label(self) -> str:
        """What the public sees for this person's actions: a role and department, never a name."""
        dept = self.departments[0] if self.departments and self.role != "admin" else "organisation"
        return f"{self.role} ({dept})"

    def covers(self, department: str) -> bool:
        return self.role == "admin" or department in self.departments

    def require(self, permission: Permission, department: str | None = None) -> None:
        """Raise ForbiddenError unless this member has ``permission`` (in ``department``)."""
        if not self.active:
            raise ForbiddenError("This staff account is disabled.")
        if ROLE_RANK[self.role] < permission:
            raise ForbiddenError(f"This needs the {_role_for(permission)} role.")
        if department is not None and not self.covers(department):
            raise ForbiddenError(f"This ticket belongs to the {department} department.")


def _role_for(permission: Permission) -> str:
    return next(r for r in ROLES if ROLE_RANK[r] >= permission)


@dataclass(frozen=True)
class TokenRecord:
    """A staff bearer token: only its hash is stored."""

    token_hash: str
    staff_id: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True)
class CannedResponse:
    """A reply template; ``category`` None means every category.

    ``title`` and ``text`` are the English (default) version; ``translations`` holds the other
    languages' versions as ``{language: {"title", "text"}}`` (e.g. ``{"zh": {...}}``).
    Placeholders: ``{number}``, ``{category}``, ``{department}``.
    """

    id: str
    title: str
    text: str
    category: str | None
    created_at: datetime
    translations: dict[str, dict[str, str]] = field(default_factory=dict)

    def title_in(self, language: str) -> str:
        return self.translations.get(language, {}).get("title") or self.title

    def text_in(self, language: str) -> str:
        """The template in ``language``, or the English one when it has no translation."""
        return self.translations.get(language, {}).get("text") or self.text


PLACEHOLDERS = ("number", "category", "department")


def render_canned(text: str, *, number: str, category: str, department: str) -> str:
    """Fill the placeholders; unknown ``{...}`` text is left as typed."""
    values = {"number": number, "category": category, "department": department}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)
