"""Notifications: the message templates (English and Chinese), the submitter helper, the SES
notifier on moto, and how settings and deps choose the notifier."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.config import Settings, SettingsError
from chalicelib.crypto.local import LocalEnvelopeCipher
from chalicelib.domain.departments import Department
from chalicelib.domain.feedback import Contact
from chalicelib.domain.sla_state import SlaAlert
from chalicelib.domain.tickets import Deadlines, Ticket
from chalicelib.notify.messages import (
    NOTIFIED_STATUSES,
    notify_submitter,
    sla_alert_message,
    submitter_status_message,
)
from chalicelib.notify.outbox import OutboxNotifier
from chalicelib.notify.port import Notification
from chalicelib.notify.ses import NotificationError, SesNotifier, tag_value
from chalicelib.services.submission import encode_contact

T = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DEPT = Department(
    "parks",
    {"en": "Parks", "zh": "园林部"},
    "parks@example.org",
    "parks-lead@example.org",
)
SENDER = "portal@example.org"
REGION = "us-east-1"


def make_ticket(**changes: Any) -> Ticket:
    t = Ticket(
        number="FB-3K7Q-M9X2",
        type="complaint",
        category="environment",
        subject="Broken bench",
        description="The bench by the pond is broken.",
        location=None,
        channel="web",
        priority="P2",
        department="parks",
        status="acknowledged",
        submitted_at=T,
        updated_at=T,
        deadlines=Deadlines(T + timedelta(hours=2), T + timedelta(days=6)),
        key_hash="sha256:00",
        language="en",
        consent_to_publish=False,
        version=3,
    )
    return t.replace(**changes)


# --- department messages -------------------------------------------------------------------------


def test_due_soon_goes_to_the_department_and_breach_to_the_supervisor() -> None:
    ticket = make_ticket()
    soon = sla_alert_message(
        ticket, SlaAlert(ticket.number, "first_response", "due_soon", T + timedelta(hours=2)), DEPT
    )
    assert soon.to == "parks@example.org"
    assert soon.subject == "[Clearloop] FB-3K7Q-M9X2: first response due soon (P2)"
    assert "Deadline: 2026-11-23 11:00 UTC." in soon.body
    assert "Parks" in soon.body
    assert soon.kind == "sla_due_soon"
    assert soon.dedupe_key == "FB-3K7Q-M9X2:first_response:due_soon:2026-11-23T11:00:00+00:00"

    breach = sla_alert_message(
        ticket, SlaAlert(ticket.number, "resolution", "breached", T + timedelta(days=6)), DEPT
    )
    assert breach.to == "parks-lead@example.org"
    assert breach.subject == "[Clearloop] FB-3K7Q-M9X2: resolution breached (P2)"
    assert breach.kind == "sla_breached"
    assert breach.dedupe_key == "FB-3K7Q-M9X2:resolution:breached:2026-11-29T09:00:00+00:00"


def test_department_messages_in_chinese() -> None:
    ticket = make_ticket()
    alert = SlaAlert(ticket.number, "resolution", "breached", T + timedelta(days=6))
    message = sla_alert_message(ticket, alert, DEPT, "zh")
    assert message.language == "zh"
    assert message.subject == "[Clearloop] FB-3K7Q-M9X2：办结已超时（P2）"
    assert "园林部" in message.body
    assert "截止时间：2026年11月29日 09:00 (UTC)。" in message.body
    # The dedupe key does not depend on the language.
    assert message.dedupe_key == sla_alert_message(ticket, alert, DEPT, "en").dedupe_key


# --- submitter messages --------------------------------------------------------------------------


def test_submitter_message_in_english() -> None:
    ticket = make_ticket(status="resolved", version=7)
    message = submitter_status_message(
        ticket, "ann@example.org", "resolved", "We replaced the bench.", track_url=None
    )
    assert message.to == "ann@example.org"
    assert message.language == "en"
    assert message.subject == "Your feedback FB-3K7Q-M9X2: resolved"
    assert message.body.startswith('Your feedback FB-3K7Q-M9X2 ("Broken bench") is now resolved.')
    assert "Our message:\nWe replaced the bench." in message.body
    assert "rate the result" in message.body
    assert message.kind == "submitter_status"
    assert message.dedupe_key == "FB-3K7Q-M9X2:status:resolved:v7"
    assert message.tags == {"status": "resolved"}


def test_submitter_message_in_chinese_with_a_link() -> None:
    ticket = make_ticket(status="awaiting_info", language="zh", subject="长椅坏了")
    message = submitter_status_message(
        ticket,
        "li@example.org",
        "awaiting_info",
        "请问是哪一张长椅？",
        track_url="https://feedback.example.org/track/#number=FB-3K7Q-M9X2",
    )
    assert message.language == "zh"
    assert message.subject == "您的反馈 FB-3K7Q-M9X2：等待您补充信息"
    assert "您的反馈 FB-3K7Q-M9X2（“长椅坏了”）的状态已更新为：等待您补充信息。" in message.body
    assert "我们的答复：\n请问是哪一张长椅？" in message.body
    assert "处理时限暂停计算" in message.body
    assert "https://feedback.example.org/track/#number=FB-3K7Q-M9X2" in message.body


def test_every_announced_status_has_both_languages() -> None:
    for status in NOTIFIED_STATUSES:
        for language in ("en", "zh"):
            ticket = make_ticket(status=status, language=language, merged_into="FB-0000-0001")
            message = submitter_status_message(ticket, "a@example.org", status, None)
            assert message.subject
            assert message.body
            assert "\n" not in message.subject
            if status == "merged":
                assert "FB-0000-0001" in message.body


def test_an_unknown_language_falls_back_to_english_and_received_is_not_announced() -> None:
    message = submitter_status_message(make_ticket(language="fr"), "a@b.org", "closed", None)
    assert message.language == "en"
    with pytest.raises(ValueError, match="received"):
        submitter_status_message(make_ticket(), "a@b.org", "received", None)


def test_a_subject_with_a_line_break_stays_on_one_header_line() -> None:
    message = submitter_status_message(
        make_ticket(subject="Broken\r\nBcc: x@evil.example"), "a@b.org", "closed", None
    )
    assert "\r" not in message.body.split("\n\n")[0]
    assert "\n" not in message.subject


# --- notify_submitter ----------------------------------------------------------------------------


@pytest.fixture
def cipher(tmp_path: Path) -> LocalEnvelopeCipher:
    return LocalEnvelopeCipher(tmp_path / "contact.key")


def sealed(cipher: LocalEnvelopeCipher, number: str, **contact: Any) -> str:
    fields = {"name": None, "email": None, "phone": None, "consent_to_contact": True, **contact}
    return cipher.encrypt(encode_contact(Contact(**fields)), number)


def test_notify_submitter_sends_when_there_is_an_email_and_consent(
    cipher: LocalEnvelopeCipher, tmp_path: Path
) -> None:
    outbox = OutboxNotifier(tmp_path / "outbox.jsonl")
    ticket = make_ticket(
        status="rejected",
        language="zh",
        consent_to_contact=True,
        contact_ciphertext=sealed(cipher, "FB-3K7Q-M9X2", email="li@example.org"),
    )
    sent = notify_submitter(outbox, cipher, ticket, public_text="不属于本单位受理范围。")
    assert sent is not None
    assert outbox.read() == [sent]
    assert (sent.to, sent.language, sent.kind) == ("li@example.org", "zh", "submitter_status")
    assert "不属于本单位受理范围。" in sent.body


@pytest.mark.parametrize(
    ("changes", "contact"),
    [
        ({"consent_to_contact": False}, {"email": "ann@example.org"}),  # no consent
        ({}, {"phone": "+44 20 7946 0000"}),  # no e-mail address
        ({"status": "received"}, {"email": "ann@example.org"}),  # not a change to announce
        ({"contact_ciphertext": None}, None),  # no contact at all
    ],
)
def test_notify_submitter_sends_nothing_without_an_address_consent_or_news(
    cipher: LocalEnvelopeCipher,
    tmp_path: Path,
    changes: dict[str, Any],
    contact: dict[str, str] | None,
) -> None:
    outbox = OutboxNotifier(tmp_path / "outbox.jsonl")
    token = None if contact is None else sealed(cipher, "FB-3K7Q-M9X2", **contact)
    ticket = make_ticket(consent_to_contact=True, contact_ciphertext=token).replace(**changes)
    assert notify_submitter(outbox, cipher, ticket) is None
    assert outbox.read() == []


class BrokenNotifier:
    def send(self, notification: Notification) -> None:
        raise NotificationError("mail service down")


def test_notify_submitter_never_raises(
    cipher: LocalEnvelopeCipher, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = make_ticket(
        consent_to_contact=True,
        contact_ciphertext=sealed(cipher, "FB-3K7Q-M9X2", email="ann@example.org"),
    )
    with caplog.at_level(logging.ERROR, logger="clearloop.notify"):
        assert notify_submitter(BrokenNotifier(), cipher, good) is None
        # Sealed for another ticket: decryption fails, nothing is sent, nothing is raised.
        other = good.replace(number="FB-0000-0001")
        outbox = OutboxNotifier(tmp_path / "outbox.jsonl")
        assert notify_submitter(outbox, cipher, other) is None
        assert outbox.read() == []
    assert "ann@example.org" not in caplog.text  # logs never carry the address
    assert caplog.text.count("submitter notification failed") == 2


# --- SES -----------------------------------------------------------------------------------------


@pytest.fixture
def ses() -> Iterator[Any]:
    """An SES client on moto with ``SENDER`` verified, and the SES backend holding sent mail."""
    from moto import mock_aws
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses import ses_backends

    from chalicelib.notify.ses import make_ses_client

    with mock_aws():
        client = make_ses_client(REGION)
        client.verify_email_identity(EmailAddress=SENDER)
        yield client, ses_backends[DEFAULT_ACCOUNT_ID][REGION]


def test_ses_notifier_sends_utf8_text_with_the_dedupe_key_as_a_tag(ses: Any) -> None:
    client, backend = ses
    requests: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.ses.SendEmail", lambda params, **_: requests.append(params)
    )
    built: list[int] = []

    def factory() -> Any:
        built.append(1)
        return client

    notifier = SesNotifier(SENDER, factory)
    assert built == []  # lazy: no client until the first message
    alert = SlaAlert("FB-3K7Q-M9X2", "resolution", "breached", T + timedelta(days=6))
    message = sla_alert_message(make_ticket(), alert, DEPT, "zh")
    notifier.send(message)
    notifier.send(submitter_status_message(make_ticket(), "ann@example.org", "closed", None))
    assert built == [1]

    first = backend.sent_messages[0]
    assert first.source == SENDER
    assert first.destinations == {"ToAddresses": ["parks-lead@example.org"]}
    assert first.subject == "[Clearloop] FB-3K7Q-M9X2：办结已超时（P2）"
    assert first.body == message.body
    assert backend.sent_messages[1].destinations == {"ToAddresses": ["ann@example.org"]}

    tags = {t["Name"]: t["Value"] for t in requests[0]["Tags"]}
    assert tags == {
        "dedupe": "FB-3K7Q-M9X2_resolution_breached_2026-11-29T09_00_00_00_00",
        "kind": "sla_breached",
        "target": "resolution",
        "department": "parks",
    }
    assert requests[0]["Message"]["Subject"]["Charset"] == "UTF-8"
    assert requests[0]["Message"]["Body"]["Text"]["Charset"] == "UTF-8"


def test_ses_refusal_is_a_notification_error(ses: Any) -> None:
    client, backend = ses
    notifier = SesNotifier("not-verified@example.org", lambda: client)
    message = submitter_status_message(make_ticket(), "ann@example.org", "closed", None)
    with pytest.raises(NotificationError, match="MessageRejected"):
        notifier.send(message)
    assert backend.sent_messages == []


def test_a_missing_sender_fails_each_send_without_building_a_client() -> None:
    def factory() -> Any:
        raise AssertionError("no client may be built")

    notifier = SesNotifier(None, factory)
    message = submitter_status_message(make_ticket(), "ann@example.org", "closed", None)
    with pytest.raises(NotificationError, match="CLEARLOOP_SES_SENDER"):
        notifier.send(message)


def test_tag_values_are_sanitized_and_long_ones_stay_distinct() -> None:
    assert tag_value("FB-1:first_response:due_soon:2026-01-01T00:00:00+00:00") == (
        "FB-1_first_response_due_soon_2026-01-01T00_00_00_00_00"
    )
    assert tag_value("") == "_"
    long_a, long_b = tag_value("x" * 300 + "a"), tag_value("x" * 300 + "b")
    assert len(long_a) == 256
    assert long_a != long_b


# --- settings and deps ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "notifier", "sender"),
    [
        ({}, "outbox", None),
        ({"CLEARLOOP_STAGE": "prod"}, "ses", None),
        ({"CLEARLOOP_STAGE": "dev", "CLEARLOOP_NOTIFIER": "outbox"}, "outbox", None),
        (
            {"CLEARLOOP_NOTIFIER": "ses", "CLEARLOOP_SES_SENDER": "Portal <portal@example.org>"},
            "ses",
            "Portal <portal@example.org>",
        ),
    ],
)
def test_settings_choose_the_notifier_by_stage(
    env: dict[str, str], notifier: str, sender: str | None
) -> None:
    s = Settings.from_env(env)
    assert (s.notifier, s.ses_sender) == (notifier, sender)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CLEARLOOP_NOTIFIER": "sns"}, "CLEARLOOP_NOTIFIER"),
        ({"CLEARLOOP_SES_SENDER": "portal"}, "CLEARLOOP_SES_SENDER"),
        ({"CLEARLOOP_SES_SENDER": "a@example.org\nBcc: b@example.org"}, "CLEARLOOP_SES_SENDER"),
    ],
)
def test_bad_notifier_settings_are_rejected(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_deps_build_the_notifier_the_settings_name(tmp_path: Path) -> None:
    deps.reset()
    try:
        env = {"CLEARLOOP_DATA_DIR": str(tmp_path)}
        deps.override(settings=Settings.from_env(env))
        outbox = deps.notifier()
        assert isinstance(outbox, OutboxNotifier)
        assert outbox.path == tmp_path / "outbox.jsonl"

        deps.reset()
        env |= {"CLEARLOOP_STAGE": "prod", "CLEARLOOP_SES_SENDER": SENDER}
        deps.override(settings=Settings.from_env(env))
        ses_notifier = deps.notifier()
        assert isinstance(ses_notifier, SesNotifier)
        assert ses_notifier.sender == SENDER
    finally:
        deps.reset()
