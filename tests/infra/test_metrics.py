"""The SLA-breach metric: the sweep publishes ``Clearloop/SlaBreaches`` to CloudWatch (on moto).

The whole path runs as on AWS: a submission through the API, an injected clock moved past the
first-response deadline, ``deps.sweep_service()`` built with the stage's metrics adapter
(``deps.metrics()``: CloudWatch on the ``prod`` stage) and moto's CloudWatch answering
``PutMetricData``; the datapoints are then read back with ``GetMetricStatistics``, the way the
``<stack>-sla-breaches`` alarm reads them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from chalice.test import Client
from moto import mock_aws

from app import app
from chalicelib import deps
from chalicelib.config import Settings
from chalicelib.observe.cloudwatch import CloudWatchMetrics, make_cloudwatch_client
from chalicelib.observe.local import FileMetrics
from chalicelib.observe.port import NAMESPACE, SLA_BREACHES, MetricsError
from infra.template import METRIC_NAMESPACE, SLA_BREACH_METRIC
from tests.functional.staff_helpers import START, MovableClock
from tests.support.stores import make_store

REGION = "us-east-1"
SLA = frozenset({"sla"})


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    with mock_aws():
        yield make_cloudwatch_client(REGION)


@pytest.fixture
def prod(cloudwatch: Any, tmp_path: Path) -> Iterator[tuple[Client, MovableClock]]:
    """The API on the prod stage's wiring (SQLite store, outbox notifier) with a movable clock."""
    env = {
        "CLEARLOOP_STAGE": "prod",
        "CLEARLOOP_DATA_DIR": str(tmp_path),
        "CLEARLOOP_NOTIFIER": "outbox",
        "AWS_DEFAULT_REGION": REGION,
    }
    deps.reset()
    clock = MovableClock()
    try:
        with make_store("sqlite", tmp_path, None) as store:
            deps.override(settings=Settings.from_env(env), store=store, clock=clock)
            with Client(app, stage_name="local") as client:
                yield client, clock
    finally:
        deps.reset()


def submit(client: Client, subject: str) -> str:
    body = {
        "type": "complaint",
        "category": "service-waiting",
        "subject": subject,
        "description": "Waited two hours.",
    }
    r = client.http.post(
        "/v1/feedback", headers={"Content-Type": "application/json"}, body=json.dumps(body)
    )
    assert r.status_code == 201, r.body
    return str(json.loads(r.body)["number"])


def sums(cloudwatch: Any, stage: str, start: datetime, end: datetime) -> list[tuple[str, float]]:
    """(time, Sum) of every 5-minute period with data, as the alarm reads the metric."""
    answer = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=SLA_BREACHES,
        Dimensions=[{"Name": "Stage", "Value": stage}],
        StartTime=start,
        EndTime=end,
        Period=300,
        Statistics=["Sum"],
    )
    points = sorted(answer["Datapoints"], key=lambda p: p["Timestamp"])
    return [(p["Timestamp"].astimezone(UTC).strftime("%H:%M"), p["Sum"]) for p in points]


def test_the_sweep_publishes_each_runs_breaches_to_cloudwatch(
    cloudwatch: Any, prod: tuple[Client, MovableClock]
) -> None:
    client, clock = prod
    assert isinstance(deps.metrics(), CloudWatchMetrics)
    for i in range(3):
        submit(client, f"Queue {i}")  # P2 complaints: first response due at 11:00

    clock.current = START + timedelta(hours=1)  # 10:00, nothing due yet
    assert deps.sweep_service().run(SLA).breached == 0
    clock.current = START + timedelta(hours=2, minutes=5)  # 11:05, all three breached
    assert deps.sweep_service().run(SLA).breached == 3
    clock.current = START + timedelta(hours=2, minutes=10)  # already recorded: no new breach
    assert deps.sweep_service().run(SLA).breached == 0
    # The daily housekeeping does not evaluate deadlines and reports nothing.
    deps.sweep_service().run(frozenset({"autoclose", "retention"}))

    found = sums(cloudwatch, "prod", START, START + timedelta(hours=3))
    assert found == [("10:00", 0.0), ("11:05", 3.0), ("11:10", 0.0)]
    # Another stage's alarm sees none of it.
    assert sums(cloudwatch, "dev", START, START + timedelta(hours=3)) == []
    (metric,) = cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert metric["MetricName"] == SLA_BREACHES
    assert metric["Dimensions"] == [{"Name": "Stage", "Value": "prod"}]
    # The deployment's alarm and IAM condition name this very metric.
    assert (METRIC_NAMESPACE, SLA_BREACH_METRIC) == (NAMESPACE, SLA_BREACHES)


def test_the_cloudwatch_client_is_built_on_the_first_count_only(cloudwatch: Any) -> None:
    built: list[str] = []

    def factory() -> Any:
        built.append("client")
        return cloudwatch

    metrics = CloudWatchMetrics("dev", factory)
    assert built == []
    at = START.replace(minute=2)
    metrics.count(SLA_BREACHES, 1, at)
    metrics.count(SLA_BREACHES, 2, at)
    assert built == ["client"]
    assert sums(cloudwatch, "dev", START, START + timedelta(hours=1)) == [("09:02", 3.0)]


class RefusingCloudWatch:
    def put_metric_data(self, **kwargs: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "PutMetricData"
        )


def test_a_refused_metric_fails_the_run_after_the_work_is_saved(
    prod: tuple[Client, MovableClock],
) -> None:
    """The breach is stored (and escalated) first; then the run raises, so the scheduled
    function reports an error and the sweep-failures alarm shows what the breach alarm cannot."""
    client, clock = prod
    number = submit(client, "Queue")
    deps.override(metrics=CloudWatchMetrics("prod", RefusingCloudWatch))  # type: ignore[arg-type]
    clock.current = START + timedelta(hours=2, minutes=5)
    with pytest.raises(MetricsError, match="AccessDenied"):
        deps.sweep_service().run(SLA)
    view = deps.store().get_ticket(number)
    assert view is not None
    assert view.ticket.escalated is True
    assert [e.kind for e in view.events][-2:] == ["sla_breached", "escalated"]


def test_the_local_stage_appends_counts_to_a_file_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"CLEARLOOP_STAGE": "local", "CLEARLOOP_DATA_DIR": str(tmp_path)})
    deps.reset()
    try:
        deps.override(settings=settings)
        metrics = deps.metrics()
        assert isinstance(metrics, FileMetrics)
        metrics.count(SLA_BREACHES, 2, START)
        metrics.count(SLA_BREACHES, 0, START + timedelta(minutes=5))
    finally:
        deps.reset()
    path = tmp_path / "metrics.jsonl"
    assert path.stat().st_mode & 0o777 == 0o600
    assert FileMetrics.read(path) == [
        {
            "namespace": NAMESPACE,
            "name": SLA_BREACHES,
            "value": value,
            "stage": "local",
            "at": at.isoformat(),
        }
        for value, at in ((2, START), (0, START + timedelta(minutes=5)))
    ]


def test_a_metrics_file_that_cannot_be_written_is_a_metrics_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where the folder should be")
    metrics = FileMetrics(tmp_path / "taken" / "metrics.jsonl", "local")
    with pytest.raises(MetricsError, match="cannot write"):
        metrics.count(SLA_BREACHES, 1, START)
