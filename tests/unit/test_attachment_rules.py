"""Pure attachment rules: keys, records, filenames, settings and the retention due time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.config import Settings, SettingsError
from chalicelib.domain import attachments as rules
from chalicelib.domain.sla_state import Timers, next_due
from tests.support.tickets import make_ticket, number

CLOSED = datetime(2026, 1, 1, tzinfo=UTC)
RECORD = {"id": "a" * 26, "content_type": "image/png", "thumb_type": "image/png"}


def test_keys_keep_quarantine_and_clean_copies_apart() -> None:
    n = number(1)
    assert rules.quarantine_key(n, "abc") == f"quarantine/{n}/abc"
    assert rules.keys_of(n, RECORD) == [
        f"attachments/{n}/{'a' * 26}.png",
        f"attachments/{n}/{'a' * 26}.thumb.png",
    ]
    assert all(k.startswith(rules.ticket_prefix(n)) for k in rules.keys_of(n, RECORD))


def test_records_are_added_and_purged() -> None:
    t = make_ticket(number(1))
    t2 = rules.with_attachment(rules.with_attachment(t, RECORD), {**RECORD, "id": "b" * 26})
    assert [r["id"] for r in rules.attachments_of(t2)] == ["a" * 26, "b" * 26]
    assert rules.find(t2, "b" * 26) is not None
    assert rules.find(t, "a" * 26) is None
    purged = rules.without_attachments(t2, CLOSED)
    assert rules.attachments_of(purged) == []
    assert purged.attributes["attachments_purged_at"] == CLOSED.isoformat()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("C:\\Users\\ann\\door.jpg", "door.jpg"),
        ("../../etc/passwd", "passwd"),
        ("a\x00b\u202e.png", "ab.png"),
        ("x" * 300, "x" * 120),
        ("   ", None),
        (42, None),
    ],
)
def test_filenames_are_cleaned(name: object, expected: str | None) -> None:
    assert rules.clean_filename(name) == expected


def test_settings_for_attachments() -> None:
    s = Settings.from_env({"CLEARLOOP_CONTACT_RETENTION_DAYS": "30"})
    assert s.attachment_retention_days == 30  # follows the contact retention by default
    assert s.attachment_max_bytes == 5 * 1024 * 1024
    assert s.attachment_max_count == 3
    s = Settings.from_env(
        {
            "CLEARLOOP_ATTACHMENT_MAX_MB": "2",
            "CLEARLOOP_ATTACHMENT_MAX_COUNT": "1",
            "CLEARLOOP_ATTACHMENT_TYPES": "image/png",
            "CLEARLOOP_ATTACHMENT_RETENTION_DAYS": "7",
            "CLEARLOOP_ATTACHMENT_BUCKET": "photos",
        }
    )
    assert (s.attachment_max_bytes, s.attachment_max_count) == (2 * 1024 * 1024, 1)
    assert s.attachment_types == ("image/png",)
    assert (s.attachment_retention_days, s.attachment_bucket) == (7, "photos")
    with pytest.raises(SettingsError):
        Settings.from_env({"CLEARLOOP_ATTACHMENT_TYPES": "image/gif"})
    with pytest.raises(SettingsError):
        Settings.from_env({"CLEARLOOP_ATTACHMENT_MAX_COUNT": "0"})


def test_a_finished_ticket_with_photos_is_due_for_their_purge() -> None:
    timers = Timers(
        autoclose_after=timedelta(days=14),
        contact_retention=timedelta(days=365),
        attachment_retention=timedelta(days=30),
    )
    t = make_ticket(number(1), status="closed", closed_at=CLOSED, contact_ciphertext=None)
    from chalicelib.config import _BUNDLED
    from chalicelib.domain.sla import load_policy_file

    policy = load_policy_file(_BUNDLED / "sla_policy.json")
    assert next_due(t, policy, timers) is None
    with_photo = rules.with_attachment(t, RECORD)
    assert next_due(with_photo, policy, timers) == CLOSED + timedelta(days=30)
    default = Timers(timedelta(days=14), timedelta(days=365))
    assert next_due(with_photo, policy, default) == CLOSED + timedelta(days=365)
