"""The metrics port: counts the application reports for alarms (SPEC section 4, issue #7).

A use case receives a ``Metrics`` and calls ``count(name, value, at)``; which adapter records it
is chosen in ``deps.metrics()``: CloudWatch on the AWS stages (``observe.cloudwatch``), a JSON
Lines file in the data folder on the local stage (``observe.local``). Metric names are constants
here, so the deployment's alarms (``infra/template.py``) and the code that publishes the metric
cannot disagree.

Example::

    metrics.count(SLA_BREACHES, report.breached, at=now)
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Protocol

NAMESPACE: Final = "Clearloop"  # the CloudWatch namespace (and the IAM condition on it)
STAGE_DIMENSION: Final = "Stage"  # every metric carries the stage, so dev and prod stay apart
# Deadlines newly breached by one SLA sweep run (0 when none): the SLA-breach alarm's metric.
SLA_BREACHES: Final = "SlaBreaches"


class MetricsError(Exception):
    """A metric could not be recorded; the message says where and why."""


class Metrics(Protocol):
    """Somewhere to record counts."""

    def count(self, name: str, value: int, at: datetime) -> None:
        """Record ``value`` (a count, 0 included) of ``name`` at ``at``; raise MetricsError
        when it cannot be recorded."""
        ...


class NoMetrics:
    """Records nothing (the default of use cases built without a metrics adapter)."""

    def count(self, name: str, value: int, at: datetime) -> None:
        return None
