"""The local stage's metrics adapter: one JSON line per count in ``<data dir>/metrics.jsonl``.

``clearloop run`` has no CloudWatch; the file keeps the same figures (name, value, stage, time)
so a breach count can be read with ``tail .local/metrics.jsonl``. Lines are appended with one
``write`` each under a lock, so threads and the scheduler's processes do not interleave them.

Example::

    metrics = FileMetrics(Path(".local/metrics.jsonl"), "local")
    metrics.count(SLA_BREACHES, 1, at=now)
    FileMetrics.read(Path(".local/metrics.jsonl"))  # [{"name": "SlaBreaches", "value": 1, ...}]
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from chalicelib.observe.port import NAMESPACE, MetricsError


class FileMetrics:
    """Counts appended to a JSON Lines file (created 0600 with its folder)."""

    def __init__(self, path: Path, stage: str) -> None:
        self.path = Path(path)
        self.stage = stage
        self._lock = threading.Lock()

    def count(self, name: str, value: int, at: datetime) -> None:
        line = json.dumps(
            {
                "namespace": NAMESPACE,
                "name": name,
                "value": value,
                "stage": self.stage,
                "at": at.isoformat(),
            },
            sort_keys=True,
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, (line + "\n").encode())
                finally:
                    os.close(fd)
        except OSError as e:
            raise MetricsError(f"cannot write {self.path}: {e}") from e

    @staticmethod
    def read(path: Path) -> list[dict[str, Any]]:
        """Every count recorded in ``path`` (none when the file does not exist)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]
