"""The ``local`` stage's notifier: a JSON-lines outbox file and a log line per message.

Nothing leaves the machine; operators (and tests) read ``<data dir>/outbox.jsonl``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from pathlib import Path

from chalicelib.notify.port import Notification

log = logging.getLogger("clearloop.notify")


class OutboxNotifier:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> None:
        line = json.dumps(dataclasses.asdict(notification), ensure_ascii=False, sort_keys=True)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line + "\n")
        # The log names the kind and ticket, never the address or text (logs are less guarded).
        log.info("notification queued: %s for %s", notification.kind, notification.number)

    def read(self) -> list[Notification]:
        """Every message written so far (for operators and tests)."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as f:
            return [Notification(**json.loads(line)) for line in f if line.strip()]
