"""The AWS stages' metrics adapter: CloudWatch ``PutMetricData`` in the ``Clearloop`` namespace.

The client is built by ``client_factory`` on the first count, so importing or constructing the
adapter imports no boto3 and touches no network (cold starts, ARCHITECTURE rule 3). Each datum
has the dimension ``Stage`` (``dev``, ``prod``) and the unit ``Count``.

IAM: ``cloudwatch:PutMetricData`` has no resource-level permissions, so the deployment's role
allows it on ``*`` only under the condition ``cloudwatch:namespace = Clearloop``
(``infra/template.py``).

Example::

    metrics = CloudWatchMetrics("prod", lambda: make_cloudwatch_client("eu-west-1"))
    metrics.count(SLA_BREACHES, 2, at=now)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.lazy import Lazy
from chalicelib.observe.port import NAMESPACE, STAGE_DIMENSION, MetricsError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.client import CloudWatchClient


def make_cloudwatch_client(region: str) -> CloudWatchClient:
    """A CloudWatch client with short timeouts and three tries in all (standard retries)."""
    import boto3  # ~170 ms to import: paid only when the first metric is sent
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 3},
        connect_timeout=2,
        read_timeout=5,
    )
    return boto3.session.Session().client("cloudwatch", region_name=region, config=config)


class CloudWatchMetrics:
    """Counts as CloudWatch custom metrics ``Clearloop/<name>`` with the stage as dimension."""

    def __init__(self, stage: str, client_factory: Callable[[], CloudWatchClient]) -> None:
        self.stage = stage
        self._client = Lazy(client_factory)

    @property
    def client(self) -> CloudWatchClient:
        """The CloudWatch client, built by the factory on first use."""
        return self._client.get()

    def count(self, name: str, value: int, at: datetime) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_metric_data(
                Namespace=NAMESPACE,
                MetricData=[
                    {
                        "MetricName": name,
                        "Dimensions": [{"Name": STAGE_DIMENSION, "Value": self.stage}],
                        "Timestamp": at,
                        "Value": float(value),
                        "Unit": "Count",
                    }
                ],
            )
        except (BotoCoreError, ClientError) as e:
            raise MetricsError(f"CloudWatch did not take {NAMESPACE}/{name}: {e}") from e
