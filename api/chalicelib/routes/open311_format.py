"""Open311 wire formats: the same data as JSON or as XML with the standard's element names.

XML is built with ``xml.etree`` (every text escaped), preceded by the UTF-8 declaration the
standard requires. Characters XML 1.0 cannot carry (control characters, lone surrogates,
U+FFFE/U+FFFF) are dropped from every text, in both formats, so both say the same thing.

Example::

    body, content_type = render("xml", "services", "service", [{"service_code": "x", ...}])
    # <?xml version="1.0" encoding="UTF-8"?><services><service><service_code>x</service_code>...
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
# The element of each item of a nested list (the standard's names).
LIST_ITEMS = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", text)


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return clean(str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _fill(ET.SubElement(element, str(key)), child)
    elif isinstance(value, list | tuple):
        item = LIST_ITEMS.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, item), child)
    else:
        element.text = _text(value)


def to_xml(root: str, item: str | None, data: Any) -> str:
    """The document: ``<root>`` holding ``data`` (a list becomes ``<item>`` elements)."""
    element = ET.Element(root)
    if isinstance(data, list | tuple) and item is not None:
        for entry in data:
            _fill(ET.SubElement(element, item), entry)
    else:
        _fill(element, data)
    body = ET.tostring(element, encoding="unicode", short_empty_elements=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def to_json(data: Any) -> str:
    return json.dumps(_plain(data), ensure_ascii=False, separators=(",", ":"))


def render(fmt: str, root: str, item: str | None, data: Any) -> tuple[str, str]:
    """``(body, content type)`` of ``data`` in ``fmt`` (json or xml)."""
    if fmt == "xml":
        return to_xml(root, item, data), CONTENT_TYPES["xml"]
    return to_json(data), CONTENT_TYPES["json"]


def errors_document(fmt: str, errors: list[tuple[int, str]]) -> tuple[str, str]:
    """The standard's error list: ``[{"code": 400, "description": "..."}]`` or
    ``<errors><error><code>400</code><description>...</description></error></errors>``."""
    data = [{"code": code, "description": description} for code, description in errors]
    return render(fmt, "errors", "error", data)
