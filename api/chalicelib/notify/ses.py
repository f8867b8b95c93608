"""The AWS stages' notifier: Amazon SES ``SendEmail`` (the classic v1 API), plain UTF-8 text.

The client is built by ``client_factory`` on the first message, so importing or constructing
the notifier costs no boto3 import and touches no network (ARCHITECTURE rule 3). Each message
carries SES message tags: ``dedupe`` (the notification's ``dedupe_key``), ``kind`` and the
notification's own tags, so SES event publishing can tell messages apart. Tag values may only
hold ASCII letters, digits, ``_`` and ``-``: other characters become ``_``.

Example::

    notifier = SesNotifier("portal@example.org", lambda: make_ses_client("eu-west-1"))
    notifier.send(notification)     # raises NotificationError if SES refused it
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.lazy import Lazy
from chalicelib.notify.port import Notification

if TYPE_CHECKING:
    from mypy_boto3_ses.client import SESClient
    from mypy_boto3_ses.type_defs import MessageTagTypeDef

log = logging.getLogger("clearloop.notify")

_TAG_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_-]")
_TAG_MAX: Final = 256  # SES limit on a tag name or value


class NotificationError(Exception):
    """The message could not be handed to the mail service; the message says why."""


def make_ses_client(region: str) -> SESClient:
    """An SES client with short timeouts and three tries in all (botocore's standard retries)."""
    import boto3  # ~170 ms to import: paid only when the first message is sent
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 3},
        connect_timeout=2,
        read_timeout=5,
    )
    return boto3.session.Session().client("ses", region_name=region, config=config)


def tag_value(text: str) -> str:
    """``text`` as an SES tag value: unsafe characters become ``_``; an over-long value keeps
    its start and ends with a digest of the whole, so distinct keys stay distinct."""
    safe = _TAG_UNSAFE.sub("_", text) or "_"
    if len(safe) <= _TAG_MAX:
        return safe
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return f"{safe[: _TAG_MAX - 17]}-{digest}"


class SesNotifier:
    """Sends each notification as one SES e-mail from ``sender``."""

    def __init__(self, sender: str | None, client_factory: Callable[[], SESClient]) -> None:
        self.sender = sender
        self._client = Lazy(client_factory)

    @property
    def client(self) -> SESClient:
        """The SES client, built by the factory on first use."""
        return self._client.get()

    def send(self, notification: Notification) -> None:
        """Send one plain-text UTF-8 e-mail; raise NotificationError when SES does not take it."""
        if not self.sender:
            # Checked here, not at start-up: recording breaches must not depend on mail settings.
            raise NotificationError("CLEARLOOP_SES_SENDER is not set: no message can be sent")
        tags: list[MessageTagTypeDef] = [
            {"Name": "dedupe", "Value": tag_value(notification.dedupe_key)},
            {"Name": "kind", "Value": tag_value(notification.kind)},
        ]
        tags += [
            {"Name": tag_value(name), "Value": tag_value(value)}
            for name, value in sorted(notification.tags.items())
            if name not in {"dedupe", "kind"}
        ]
        try:
            response = self.client.send_email(
                Source=self.sender,
                Destination={"ToAddresses": [notification.to]},
                Message={
                    # Header lines cannot hold line breaks; the templates never make them.
                    "Subject": {"Data": " ".join(notification.subject.split()), "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": notification.body, "Charset": "UTF-8"}},
                },
                Tags=tags,
            )
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "ClientError")
            raise NotificationError(f"SES refused {notification.dedupe_key}: {code}") from e
        except BotoCoreError as e:
            raise NotificationError(f"SES unreachable for {notification.dedupe_key}: {e}") from e
        # The log names the kind and ticket, never the address or text (logs are less guarded).
        log.info(
            "notification sent: %s for %s (SES %s)",
            notification.kind,
            notification.number,
            response["MessageId"],
        )
