"""Open311 GeoReport v2 in the domain's words: services from the categories, a service request
from a form, a ticket as a public service request, statuses, dates and the listing window.

Pure: no clock (``now`` is passed in), no I/O. The wire formats (JSON and XML) live in
``routes/open311_format.py``; the use cases in ``services/open311.py``.

Field names are the standard's (http://wiki.open311.org/GeoReport_v2). What a request publishes
is an allow-list (:func:`public_request`): never contact details (e-mail, phone, names, device
and account ids, ``media_url``), never internal notes or texts written for the submitter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain.categories import Category, CategoryField, Taxonomy
from chalicelib.domain.feedback import LOCATION_MAX, NAME_MAX, normalise_email, normalise_phone
from chalicelib.domain.text import clean_text
from chalicelib.domain.tickets import OPEN_STATUSES, Ticket
from chalicelib.errors import ValidationError

FORMATS = ("json", "xml")
DESCRIPTION_MAX = 4000
ADDRESS_MAX = 150  # leaves room for the coordinates in the ticket's location text
ADDRESS_ID_MAX = 100
ZIPCODE_MAX = 20
IDENTIFIER_MAX = 100  # device_id, account_id
MEDIA_URL_MAX = 2000
STRING_ATTRIBUTE_MAX = 200
TEXT_ATTRIBUTE_MAX = 500
SUBJECT_LENGTH = 80
MAX_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
MAX_REQUEST_IDS = 100
OPEN311_TYPE = "report"  # a fault or hazard: what civic apps report

# The Open311 status of each ticket status: open while someone still has to act.
OPEN = "open"
CLOSED = "closed"

# A fixed public note per status: no text anyone typed, so nothing private can leak.
STATUS_NOTES = {
    "received": "Received; waiting to be reviewed by the responsible department.",
    "acknowledged": "Acknowledged by the responsible department.",
    "awaiting_info": "Waiting for more information from the person who reported it.",
    "in_progress": "Being worked on.",
    "reopened": "Reopened after the reporter's feedback; being worked on again.",
    "resolved": "Resolved.",
    "closed": "Closed.",
    "rejected": "Closed without action: spam or outside our remit.",
    "merged": "Closed as a duplicate of another request.",
}

_FORM_FIELDS = frozenset(
    {
        "api_key",
        "jurisdiction_id",
        "service_code",
        "lat",
        "long",
        "address_string",
        "address_id",
        "zipcode",
        "email",
        "device_id",
        "account_id",
        "first_name",
        "last_name",
        "phone",
        "description",
        "media_url",
        "locale",
        "return_key",
    }
)
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,50})\](\[\])?$")
_COORDINATE = re.compile(r"^[+-]?(\d{1,3}(\.\d{0,15})?|\.\d{1,15})$")
_NUMBER = re.compile(r"^[+-]?\d{1,15}(\.\d{1,15})?$")
_W3C = re.compile(
    r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$", re.IGNORECASE
)
_URL = re.compile(r"^https?://[^\s<>\"]+$", re.IGNORECASE)
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no", ""})


# --- services ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    """An Open311 service: a category people can report under (a leaf of the taxonomy)."""

    category: Category
    group: Category | None

    @property
    def code(self) -> str:
        return self.category.code

    @property
    def fields(self) -> tuple[CategoryField, ...]:
        return self.category.fields


def services(taxonomy: Taxonomy) -> list[Service]:
    """Every leaf category (children, and top-level categories without any), in display order."""
    out: list[Service] = []
    for top in taxonomy.top:
        if top.children:
            out.extend(Service(child, top) for child in top.children)
        else:
            out.append(Service(top, None))
    return out


def service_by_code(taxonomy: Taxonomy, code: str) -> Service | None:
    return next((s for s in services(taxonomy) if s.code == code), None)


def service_entry(service: Service, language: str) -> dict[str, Any]:
    """One element of ``GET services``."""
    name = service.category.name(language)
    group = service.group.name(language) if service.group else name
    words = dict.fromkeys(w for w in re.split(r"[^a-z0-9]+", service.code.lower()) if w)
    return {
        "service_code": service.code,
        "service_name": name,
        "description": name if service.group is None else f"{group}: {name}",
        "metadata": bool(service.fields),
        "type": "realtime",
        "keywords": ", ".join(words),
        "group": group,
    }


def service_definition(service: Service, language: str) -> dict[str, Any]:
    """``GET services/{service_code}``: the service's attributes (possibly none)."""
    attributes = []
    for order, f in enumerate(service.fields, start=1):
        attributes.append(
            {
                "variable": True,
                "code": f.code,
                "datatype": f.datatype,
                "required": f.required,
                "datatype_description": _DATATYPE_DESCRIPTIONS[f.datatype],
                "order": order,
                "description": f.description(language),
                "values": [{"key": v.key, "name": v.name(language)} for v in f.values],
            }
        )
    return {"service_code": service.code, "attributes": attributes}


_DATATYPE_DESCRIPTIONS = {
    "string": f"Text of up to {STRING_ATTRIBUTE_MAX} characters.",
    "text": f"Text of up to {TEXT_ATTRIBUTE_MAX} characters.",
    "number": "A number, e.g. 12 or 3.5.",
    "datetime": "A date and time with its offset, e.g. 2026-11-25T08:15:30+01:00.",
    "singlevaluelist": "One of the keys listed in values.",
    "multivaluelist": "One or more of the keys listed in values (repeat the field).",
}


# --- a service request from a form -------------------------------------------------------------


@dataclass(frozen=True)
class NewRequest:
    """A validated Open311 POST, mapped onto the feedback model.

    ``payload`` is a ``POST /v1/feedback`` body (validated again by the submission use case);
    ``contact_extra`` is stored encrypted with the contact details and never published;
    ``location`` is the structured location, public in ``GET requests``.
    """

    payload: dict[str, Any]
    contact_extra: dict[str, str]
    location: dict[str, Any]
    attributes: dict[str, Any]
    return_key: bool


def single_values(form: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """The standard fields of a decoded form, each given at most once (else a 400)."""
    values: dict[str, str] = {}
    problems: dict[str, str] = {}
    for name, given in form.items():
        if name not in _FORM_FIELDS:
            continue
        if len(given) != 1:
            problems[name] = "must be given once"
            continue
        values[name] = given[0]
    if problems:
        raise ValidationError("Some fields are given more than once.", problems)
    return values


def flag(value: str | None, name: str) -> bool:
    """An extension flag: true/false (1/0, yes/no); absent is false."""
    if value is None:
        return False
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError(f"{name} must be true or false.", {name: "must be true or false"})


def _optional(
    values: Mapping[str, str], name: str, maximum: int, problems: dict[str, str]
) -> str | None:
    raw = values.get(name)
    if raw is None:
        return None
    text = clean_text(raw)
    if not text:
        return None
    if len(text) > maximum:
        problems[name] = f"must be at most {maximum} characters (got {len(text)})"
        return None
    return text


def _coordinate(text: str, limit: int) -> float | None:
    text = text.strip()
    if not _COORDINATE.match(text):
        return None
    value = float(text)
    if not math.isfinite(value) or abs(value) > limit:
        return None
    return value


def format_coordinate(value: float) -> str:
    """Up to 7 decimals (about 1 cm), no trailing zeros."""
    text = f"{value:.7f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _attribute_values(
    form: Mapping[str, Sequence[str]], service: Service, problems: dict[str, str]
) -> dict[str, Any]:
    """``attribute[code]=value`` (and ``attribute[code][]=v`` for multi-value lists)."""
    given: dict[str, list[str]] = {}
    for name, values in form.items():
        match = _ATTRIBUTE.match(name)
        if name.startswith("attribute") and match is None:
            problems[name] = "is not a well-formed attribute field (attribute[code]=value)"
            continue
        if match is None:
            continue
        given.setdefault(match.group(1), []).extend(values)
    by_code = {f.code: f for f in service.fields}
    out: dict[str, Any] = {}
    for code in sorted(set(given) - set(by_code)):
        problems[f"attribute[{code}]"] = f"is not an attribute of service {service.code}"
    for f in service.fields:
        key = f"attribute[{f.code}]"
        raw = [clean_text(v) for v in given.get(f.code, [])]
        raw = [v for v in raw if v]
        if not raw:
            if f.required:
                problems[key] = "is required"
            continue
        if f.datatype != "multivaluelist" and len(raw) > 1:
            problems[key] = "must be given once"
            continue
        allowed = {v.key for v in f.values}
        value = raw[0]
        if f.datatype == "multivaluelist":
            bad = [v for v in raw if v not in allowed]
            if bad:
                problems[key] = f"must be among {', '.join(sorted(allowed))}"
            else:
                out[f.code] = list(dict.fromkeys(raw))
        elif f.datatype == "singlevaluelist":
            if value not in allowed:
                problems[key] = f"must be one of {', '.join(sorted(allowed))}"
            else:
                out[f.code] = value
        elif f.datatype == "number":
            if not _NUMBER.match(value):
                problems[key] = "must be a number"
            else:
                out[f.code] = value
        elif f.datatype == "datetime":
            try:
                out[f.code] = parse_datetime(value, key).isoformat()
            except ValidationError:
                problems[key] = "must be a date and time with its offset"
        else:
            limit = STRING_ATTRIBUTE_MAX if f.datatype == "string" else TEXT_ATTRIBUTE_MAX
            if len(value) > limit:
                problems[key] = f"must be at most {limit} characters (got {len(value)})"
            else:
                out[f.code] = value
    return out


def _subject(description: str | None, service_name: str) -> str:
    """The staff queue's subject line: the description's first line, shortened."""
    first = (description or "").strip().split("\n", 1)[0].strip()
    if not first:
        return service_name
    if len(first) <= SUBJECT_LENGTH:
        return first
    cut = first[: SUBJECT_LENGTH - 1].rsplit(" ", 1)[0] or first[: SUBJECT_LENGTH - 1]
    return cut.rstrip() + "…"


def parse_request(
    form: Mapping[str, Sequence[str]], taxonomy: Taxonomy, language: str
) -> NewRequest:
    """Validate an Open311 ``POST requests`` form; raise ValidationError naming every bad field
    by its Open311 name. ``api_key`` is checked by the use case, not here."""
    values = single_values(form)
    problems: dict[str, str] = {}
    code = (values.get("service_code") or "").strip()
    service = service_by_code(taxonomy, code) if code else None
    if not code:
        problems["service_code"] = "is required"
    elif service is None:
        problems["service_code"] = f"{code[:50]!r} is not a known service code (see services)"

    lat = lon = None
    lat_text, lon_text = values.get("lat"), values.get("long")
    if (lat_text is None) != (lon_text is None):
        problems["lat" if lat_text is None else "long"] = "lat and long go together"
    elif lat_text is not None and lon_text is not None:
        lat, lon = _coordinate(lat_text, 90), _coordinate(lon_text, 180)
        if lat is None:
            problems["lat"] = "must be a latitude between -90 and 90 (WGS84 decimal degrees)"
        if lon is None:
            problems["long"] = "must be a longitude between -180 and 180 (WGS84 decimal degrees)"
    address = _optional(values, "address_string", ADDRESS_MAX, problems)
    address_id = _optional(values, "address_id", ADDRESS_ID_MAX, problems)
    zipcode = _optional(values, "zipcode", ZIPCODE_MAX, problems)
    has_point = lat_text is not None and lon_text is not None
    if not (has_point or address or address_id) and not {"lat", "long"} & set(problems):
        problems["lat"] = "a location is required: lat and long, address_string or address_id"

    description = clean_text(values.get("description") or "", multiline=True) or None
    if description is not None and len(description) > DESCRIPTION_MAX:
        problems["description"] = (
            f"must be at most {DESCRIPTION_MAX} characters (got {len(description)})"
        )

    email = _optional(values, "email", 254, problems)
    if email is not None:
        email = normalise_email(email)
        if email is None:
            problems["email"] = "is not a valid e-mail address"
    phone = _optional(values, "phone", 40, problems)
    if phone is not None:
        phone = normalise_phone(phone)
        if phone is None:
            problems["phone"] = "must be a phone number of 6 to 20 digits"
    first = _optional(values, "first_name", NAME_MAX, problems)
    last = _optional(values, "last_name", NAME_MAX, problems)
    name = " ".join(p for p in (first, last) if p) or None
    if name is not None and len(name) > NAME_MAX:
        problems["last_name"] = f"first_name and last_name together: at most {NAME_MAX} characters"
    extra: dict[str, str] = {}
    for key in ("device_id", "account_id"):
        text = _optional(values, key, IDENTIFIER_MAX, problems)
        if text is not None:
            extra[key] = text
    media_url = _optional(values, "media_url", MEDIA_URL_MAX, problems)
    if media_url is not None:
        if not _URL.match(media_url):
            problems["media_url"] = "must be an http or https URL"
        else:
            extra["media_url"] = media_url
    try:
        return_key = flag(values.get("return_key"), "return_key")
    except ValidationError as e:
        problems.update(e.fields)
    _optional(values, "jurisdiction_id", 100, problems)

    attributes = _attribute_values(form, service, problems) if service is not None else {}
    if problems or service is None:
        raise ValidationError("Some fields are missing or invalid.", problems)

    service_name = service.category.name(language)
    text = description or f"{service_name} (reported through Open311 without a description)."
    if attributes:
        lines = []
        for f in service.fields:
            if f.code in attributes:
                value = attributes[f.code]
                shown = ", ".join(value) if isinstance(value, list) else str(value)
                lines.append(f"{f.description('en')}: {shown}")
        text = text + "\n\n" + "\n".join(lines)
    point = None
    if lat is not None and lon is not None:
        point = f"{format_coordinate(lat)}, {format_coordinate(lon)}"
    location_text = f"Address id {address_id}"
    if address and point:
        location_text = f"{address} ({point})"
    elif address or point:
        location_text = address or point or location_text
    location: dict[str, Any] = {
        "lat": lat,
        "long": lon,
        "address": address,
        "address_id": address_id,
        "zipcode": zipcode,
    }
    contact: dict[str, Any] = {}
    if name:
        contact["name"] = name
    if email:
        contact["email"] = email
    if phone:
        contact["phone"] = phone
    if contact:
        # An app sends an e-mail address or phone number so that the reporter hears back.
        contact["consent_to_contact"] = bool(email or phone)
    payload: dict[str, Any] = {
        "type": OPEN311_TYPE,
        "category": service.code,
        "subject": _subject(description, service_name),
        "description": text,
        "location": location_text[:LOCATION_MAX],
        "consent_to_publish": False,
        "language": language,
    }
    if contact:
        payload["contact"] = contact
    return NewRequest(payload, extra, location, attributes, return_key)


# --- dates and the listing window --------------------------------------------------------------


def parse_datetime(text: str, name: str) -> datetime:
    """A W3C date-time with its offset (``Z`` or ``+hh:mm``); a bare date is midnight UTC."""
    value = text.strip()
    if not _W3C.match(value):
        raise ValidationError(
            f"{name} must be a W3C date and time with its offset, e.g. 2026-11-25T08:15:30Z.",
            {name: "must be a date and time with its offset"},
        )
    try:
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"{name} is not a valid date.", {name: "is not a valid date"}
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


@dataclass(frozen=True)
class Window:
    """Requests whose ``requested_datetime`` is within [start, end], both included."""

    start: datetime
    end: datetime


def window(start_text: str | None, end_text: str | None, now: datetime) -> Window:
    """The search window: at most 90 days; the last 90 days when neither end is given."""
    start = parse_datetime(start_text, "start_date") if start_text else None
    end = parse_datetime(end_text, "end_date") if end_text else None
    if start is None and end is None:
        return Window(now - MAX_WINDOW, now)
    if start is None:
        assert end is not None  # noqa: S101 - for the type checker
        return Window(end - MAX_WINDOW, end)
    if end is None:
        return Window(start, start + MAX_WINDOW)
    if end < start:
        raise ValidationError(
            "end_date is before start_date.", {"end_date": "must not be before start_date"}
        )
    if end - start > MAX_WINDOW:
        raise ValidationError(
            "start_date and end_date may not span more than 90 days.",
            {"end_date": "may not be more than 90 days after start_date"},
        )
    return Window(start, end)


def parse_list(text: str | None, name: str, maximum: int) -> list[str]:
    """A comma-delimited parameter: its distinct, non-empty items in order."""
    if text is None:
        return []
    items = list(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    if len(items) > maximum:
        raise ValidationError(
            f"{name} takes at most {maximum} values.", {name: f"at most {maximum} values"}
        )
    return items


def parse_statuses(text: str | None) -> frozenset[str]:
    items = parse_list(text, "status", 2)
    bad = [s for s in items if s.lower() not in (OPEN, CLOSED)]
    if bad:
        raise ValidationError(
            "status must be open, closed or both (comma-delimited).",
            {"status": "must be open, closed or open,closed"},
        )
    return frozenset(s.lower() for s in items)


def parse_positive(text: str | None, name: str, default: int, maximum: int) -> int:
    if text is None or not text.strip():
        return default
    value = text.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise ValidationError(f"{name} must be a whole number.", {name: "must be a whole number"})
    number = int(value)
    if not 1 <= number <= maximum:
        raise ValidationError(
            f"{name} must be between 1 and {maximum}.", {name: f"must be 1 to {maximum}"}
        )
    return number


# --- a ticket as a public service request ------------------------------------------------------


def open311_status(status: str) -> str:
    return OPEN if status in OPEN_STATUSES else CLOSED


def w3c(t: datetime) -> str:
    """W3C date-time with offset, to the second, in UTC (``+00:00``)."""
    return t.astimezone(UTC).isoformat(timespec="seconds")


def service_notice(first_response: datetime, resolution: datetime) -> str:
    return (
        f"We aim to respond by {w3c(first_response)} and to resolve this by {w3c(resolution)} "
        "(our service-level targets)."
    )


def public_request(
    ticket: Ticket,
    *,
    service_name: str,
    agency: str,
    expected: datetime,
    first_response: datetime,
    published_summary: str | None,
    latest_reply: str | None = None,
) -> dict[str, Any]:
    """A ticket as one element of ``GET requests``: the standard's fields, allow-listed.

    ``description`` is the supervisor-approved, redacted summary when the ticket is on the
    resolved-issue board, and absent otherwise (the raw text may hold personal details).
    ``status_notes`` is a fixed note per status, or the latest public reply when the caller
    proved it holds the ticket's private key (``latest_reply``). The location is published only
    when it came structured through Open311 (the standard publishes it); free-text locations of
    other channels stay private.
    """
    where = ticket.attributes.get("open311") or {}
    is_open = ticket.status in OPEN_STATUSES
    note = STATUS_NOTES.get(ticket.status, "")
    if latest_reply:
        note = latest_reply
    lat, lon = where.get("lat"), where.get("long")
    return {
        "service_request_id": ticket.number,
        "status": open311_status(ticket.status),
        "status_notes": note,
        "service_name": service_name,
        "service_code": ticket.category,
        "description": published_summary,
        "agency_responsible": agency,
        "service_notice": service_notice(first_response, expected) if is_open else None,
        "requested_datetime": w3c(ticket.submitted_at),
        "updated_datetime": w3c(ticket.updated_at),
        "expected_datetime": w3c(expected) if is_open else None,
        "address": where.get("address"),
        "address_id": where.get("address_id"),
        "zipcode": where.get("zipcode"),
        "lat": float(lat) if isinstance(lat, int | float) else None,
        "long": float(lon) if isinstance(lon, int | float) else None,
        "media_url": None,
    }


def matches(ticket: Ticket, codes: Sequence[str], statuses: frozenset[str]) -> bool:
    """Whether ``ticket`` passes the ``service_code`` and ``status`` filters (empty: any)."""
    if codes and ticket.category not in codes:
        return False
    return not statuses or open311_status(ticket.status) in statuses
