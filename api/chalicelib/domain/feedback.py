"""Validation of a public submission: the one place that decides what a valid request is.

The site's form mirrors these limits (``site/docs/assets/js/feedback-form.js``); the Open311
bridge maps its fields onto the same ``Submission``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.categories import Taxonomy
from chalicelib.domain.text import clean_text, fold_width
from chalicelib.domain.tickets import LANGUAGES, TYPES
from chalicelib.errors import ValidationError
from chalicelib.i18n.message import Message

SUBJECT_MAX = 200
DESCRIPTION_MAX = 5000
LOCATION_MAX = 200
NAME_MAX = 100
EMAIL_MAX = 254
PHONE_MIN_DIGITS = 6
PHONE_MAX_DIGITS = 20

TOP_LEVEL_FIELDS = frozenset(
    {
        "type",
        "category",
        "subject",
        "description",
        "location",
        "contact",
        "consent_to_publish",
        "language",
    }
)
CONTACT_FIELDS = frozenset({"name", "email", "phone", "consent_to_contact"})

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+$")
_PHONE_ALLOWED = re.compile(r"^\+?[0-9 ()\-.]+$")
# Dash look-alikes typed in phone numbers (NFKC already folds the full-width hyphen "－").
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc", "-"))


@dataclass(frozen=True)
class Contact:
    name: str | None
    email: str | None
    phone: str | None
    consent_to_contact: bool

    def is_empty(self) -> bool:
        return not (self.name or self.email or self.phone)


@dataclass(frozen=True)
class Submission:
    """A validated, normalised submission."""

    type: str
    category: str
    subject: str
    description: str
    location: str | None
    contact: Contact | None
    consent_to_publish: bool
    language: str

    def canonical(self) -> dict[str, Any]:
        """A stable plain form, hashed to recognise a retried request."""
        contact = None
        if self.contact is not None:
            contact = {
                "name": self.contact.name,
                "email": self.contact.email,
                "phone": self.contact.phone,
                "consent_to_contact": self.contact.consent_to_contact,
            }
        return {
            "type": self.type,
            "category": self.category,
            "subject": self.subject,
            "description": self.description,
            "location": self.location,
            "contact": contact,
            "consent_to_publish": self.consent_to_publish,
            "language": self.language,
        }


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, message)


def _text(
    raw: Mapping[str, Any],
    name: str,
    errors: _Errors,
    *,
    required: bool,
    maximum: int,
    multiline: bool = False,
    path: str | None = None,
) -> str | None:
    key = path or name
    value = raw.get(name)
    if value is None:
        if required:
            errors.add(key, Message("field.required"))
        return None
    if not isinstance(value, str):
        errors.add(key, Message("field.string"))
        return None
    cleaned = clean_text(value, multiline=multiline)
    if not cleaned:
        if required:
            errors.add(key, Message("field.required"))
        return None
    if len(cleaned) > maximum:
        errors.add(key, Message("field.too_long", max=maximum, got=len(cleaned)))
        return None
    return cleaned


def _bool(raw: Mapping[str, Any], name: str, errors: _Errors, path: str | None = None) -> bool:
    value = raw.get(name, False)
    if not isinstance(value, bool):
        errors.add(path or name, Message("field.boolean"))
        return False
    return value


def normalise_email(value: str) -> str | None:
    """The address with a lower-cased domain, or None when it is not a plausible address."""
    value = fold_width(value).strip()
    if len(value) > EMAIL_MAX or not _EMAIL.match(value):
        return None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalise_phone(value: str) -> str | None:
    """Digits (and a leading +) when the text is a plausible phone number, else None.

    Full-width digits, brackets, plus signs and spaces (``（０１０）１２３４－５６７８``) and dash
    look-alikes are accepted as their ASCII forms."""
    value = fold_width(value).translate(_DASHES).strip()
    if not _PHONE_ALLOWED.match(value):
        return None
    digits = re.sub(r"\D", "", value)
    if not PHONE_MIN_DIGITS <= len(digits) <= PHONE_MAX_DIGITS:
        return None
    return ("+" if value.startswith("+") else "") + digits


def _contact(raw: object, errors: _Errors) -> Contact | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        errors.add("contact", Message("field.object"))
        return None
    for extra in sorted(set(raw) - CONTACT_FIELDS):
        errors.add(f"contact.{extra}", Message("field.unknown"))
    name = _text(raw, "name", errors, required=False, maximum=NAME_MAX, path="contact.name")
    email = _text(raw, "email", errors, required=False, maximum=EMAIL_MAX, path="contact.email")
    if email is not None:
        email = normalise_email(email)
        if email is None:
            errors.add("contact.email", Message("field.email"))
    phone = _text(raw, "phone", errors, required=False, maximum=40, path="contact.phone")
    if phone is not None:
        phone = normalise_phone(phone)
        if phone is None:
            errors.add(
                "contact.phone",
                Message("field.phone", min=PHONE_MIN_DIGITS, max=PHONE_MAX_DIGITS),
            )
    consent = _bool(raw, "consent_to_contact", errors, path="contact.consent_to_contact")
    contact = Contact(name, email, phone, consent)
    if contact.is_empty():
        return None
    return contact


def parse_submission(payload: object, taxonomy: Taxonomy) -> Submission:
    """Validate a decoded JSON body; raise ValidationError naming every bad field."""
    if not isinstance(payload, Mapping):
        raise ValidationError(Message("body.not_object"))
    errors = _Errors()
    for extra in sorted(set(payload) - TOP_LEVEL_FIELDS):
        errors.add(extra, Message("field.unknown"))

    ticket_type = payload.get("type")
    if ticket_type is None:
        errors.add("type", Message("field.required"))
    elif ticket_type not in TYPES:
        errors.add("type", Message("field.one_of", values=", ".join(TYPES)))
    category = payload.get("category")
    if category is None:
        errors.add("category", Message("field.required"))
    elif not isinstance(category, str) or taxonomy.get(category) is None:
        errors.add("category", Message("field.category"))
    subject = _text(payload, "subject", errors, required=True, maximum=SUBJECT_MAX)
    description = _text(
        payload, "description", errors, required=True, maximum=DESCRIPTION_MAX, multiline=True
    )
    location = _text(payload, "location", errors, required=False, maximum=LOCATION_MAX)
    contact = _contact(payload.get("contact"), errors)
    consent_to_publish = _bool(payload, "consent_to_publish", errors)
    language = payload.get("language", "en")
    if language not in LANGUAGES:
        errors.add("language", Message("field.one_of", values=", ".join(LANGUAGES)))

    if (
        errors.fields
        or not isinstance(ticket_type, str)
        or not isinstance(category, str)
        or subject is None
        or description is None
    ):
        raise ValidationError(Message("error.validation_error"), errors.fields)
    return Submission(
        type=ticket_type,
        category=category,
        subject=subject,
        description=description,
        location=location,
        contact=contact,
        consent_to_publish=consent_to_publish,
        language=str(language),
    )
