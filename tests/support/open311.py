"""Reading Open311 answers back in tests: XML parsed (our own output) and its JSON shape."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

# Elements whose children are list items (the standard's names), and the documents' roots.
LISTS = frozenset(
    {"attributes", "values", "endpoints", "formats", "service_requests", "services", "errors"}
)


def parse_xml(body: str | bytes) -> ET.Element:
    """Parse an answer of the app under test (well-formedness is what is checked)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return ET.fromstring(data)  # noqa: S314 - our own answer, not untrusted input


def from_xml(element: ET.Element) -> Any:
    """The JSON shape of an element: lists by the standard's element names, texts as strings."""
    children = list(element)
    if element.tag in LISTS:
        return [from_xml(c) for c in children]
    if not children:
        return element.text
    return {c.tag: from_xml(c) for c in children}


def stringify(value: Any) -> Any:
    """A JSON value as XML carries it: every scalar a string, null as None."""
    if isinstance(value, dict):
        return {k: stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stringify(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)
