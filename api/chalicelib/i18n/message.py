"""``Message``: English text that also carries its catalogue key and parameters.

A ``Message`` is a ``str`` (its English rendering), so code and logs that treat messages as text
keep working; the HTTP edge re-renders it in the request's language with ``render``.

>>> m = Message("field.too_long", max=200, got=250)
>>> m
'must be at most 200 characters (got 250)'
>>> render(m, "zh")
'最多 200 个字（当前 250 个）'
>>> render("plain text", "zh")
'plain text'
"""

from __future__ import annotations

from typing import Any

from chalicelib.i18n.catalogue import MESSAGES

DEFAULT_LANGUAGE = "en"


def _fill(template: str, params: dict[str, Any]) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def text(key: str, language: str, **params: Any) -> str:
    """The catalogue text of ``key`` in ``language`` (English when missing), filled in."""
    table = MESSAGES.get(language) or MESSAGES[DEFAULT_LANGUAGE]
    template = table.get(key) or MESSAGES[DEFAULT_LANGUAGE][key]
    return _fill(template, params)


class Message(str):
    """A catalogue message: ``str(m)`` is English; ``m.key`` and ``m.params`` re-render it."""

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, **params: Any) -> Message:
        obj = super().__new__(cls, text(key, DEFAULT_LANGUAGE, **params))
        obj.key = key
        obj.params = params
        return obj

    def __reduce__(self) -> tuple[Any, ...]:  # pickling and copying keep the key
        return (_rebuild, (self.key, self.params))


def _rebuild(key: str, params: dict[str, Any]) -> Message:
    return Message(key, **params)


def render(message: str, language: str) -> str:
    """``message`` in ``language`` when it is a catalogue ``Message``; other text as it is."""
    if isinstance(message, Message):
        return text(message.key, language, **message.params)
    return str(message)
