"""System timeline texts: stored with a message key, read in the reader's language; entries
without a key (people's words, entries stored before the keys) read as stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain.tickets import Event
from chalicelib.i18n.catalogue import MESSAGES
from chalicelib.i18n.events import event_text, system_text
from chalicelib.services.views import public_event


def event(text: str, data: dict[str, Any] | None = None) -> Event:
    return Event(
        number="CL-1",
        seq=1,
        at=datetime(2026, 11, 25, tzinfo=UTC),
        kind="status_changed",
        public=True,
        actor="system",
        actor_label="system",
        text=text,
        data=data or {},
    )


def test_system_text_gives_the_english_text_and_data_carrying_the_key() -> None:
    text, data = system_text("event.closed_automatically", {"automatic": True})
    assert text == "Closed automatically: no reopening was asked for."
    assert data == {"automatic": True, "message": "event.closed_automatically"}


def test_parameters_are_stored_and_filled_in_each_language(monkeypatch: Any) -> None:
    monkeypatch.setitem(MESSAGES["en"], "event.test", "Moved to {place}.")
    monkeypatch.setitem(MESSAGES["zh"], "event.test", "已移至{place}。")
    text, data = system_text("event.test", place="B")
    assert text == "Moved to B."
    assert data["message_params"] == {"place": "B"}
    assert event_text(event(text, data), "zh") == "已移至B。"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Information received; work continues."), ("zh", "已收到补充信息，继续办理。")],
)
def test_a_keyed_entry_reads_in_the_readers_language(language: str, expected: str) -> None:
    text, data = system_text("event.information_received")
    assert event_text(event(text, data), language) == expected
    assert public_event(event(text, data), language)["text"] == expected


@pytest.mark.parametrize(
    "data",
    [
        {},  # stored before the keys existed
        {"message": "event.no_such_key"},  # a key the catalogue no longer has
        {"message": 42},  # not a key at all
    ],
)
def test_an_entry_without_a_known_key_reads_as_stored(data: dict[str, Any]) -> None:
    old = event("Information received; work continues.", data)
    assert event_text(old, "zh") == "Information received; work continues."


def test_every_system_event_key_has_both_languages() -> None:
    keys = [k for k in MESSAGES["en"] if k.startswith("event.")]
    assert len(keys) >= 7
    assert all(MESSAGES["zh"].get(k) for k in keys)
