"""Timeline texts the system writes, in the reader's language.

A use case that writes a timeline entry in the system's words (not a person's) stores the
catalogue key with it: ``system_text("event.information_received")`` gives the entry's English
``text`` and the ``data`` field ``message`` naming the key (and ``message_params`` its
parameters, when it has any). ``event_text(event, language)`` renders such an entry in the
reader's language; an entry without a key (a person's words, or one stored before the keys
existed) reads as it was stored.

Example::

    text, data = system_text("event.closed_automatically", data={"automatic": True})
    change.event("status_changed", public=True, text=text, data=data)
    event_text(event, "zh")  # "未申请重新办理，工单已自动结案。"
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.tickets import Event
from chalicelib.i18n.catalogue import MESSAGES
from chalicelib.i18n.message import DEFAULT_LANGUAGE, text

MESSAGE_FIELD = "message"
PARAMS_FIELD = "message_params"


def system_text(
    key: str, data: dict[str, Any] | None = None, **params: Any
) -> tuple[str, dict[str, Any]]:
    """The English text of ``key`` and the event data carrying the key (and ``params``)."""
    stored: dict[str, Any] = {**(data or {}), MESSAGE_FIELD: key}
    if params:
        stored[PARAMS_FIELD] = dict(params)
    return text(key, DEFAULT_LANGUAGE, **params), stored


def event_text(event: Event, language: str) -> str:
    """The entry's text in ``language`` when the system wrote it under a known key; otherwise
    the stored text."""
    key = event.data.get(MESSAGE_FIELD)
    if not isinstance(key, str) or key not in MESSAGES[DEFAULT_LANGUAGE]:
        return event.text
    params = event.data.get(PARAMS_FIELD)
    return text(key, language, **(params if isinstance(params, dict) else {}))
