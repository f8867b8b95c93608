"""The parts of scripts/deploy and scripts/destroy that run against AWS, on moto.

moto cannot apply the SAM transform, so the stack here is a small plain template with the same
logical IDs as the real one (site bucket, retained table and keys); the template's own checks are
in test_template.py.
"""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.deploy import (
    LONG_CACHE,
    SHORT_CACHE,
    _parser,
    artifacts_bucket_name,
    content_type,
    ensure_artifacts_bucket,
    stack_parameter_values,
    stack_parameters,
    stack_status,
    upload_artifacts,
    upload_site,
    with_code_location,
)
from infra.destroy import destroy
from infra.template import CONTACT_KEY, MAC_KEY, SITE_BUCKET, TABLE

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
STACK = "clearloop-dev"

# moto stores a CloudFormation key policy as given and parses it on use: give it JSON text.
KEY_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}
        ],
    }
)
# The stateful part of the real template, in plain CloudFormation that moto can create.
MINI_TEMPLATE = {
    "Resources": {
        SITE_BUCKET: {"Type": "AWS::S3::Bucket"},
        TABLE: {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "Properties": {
                "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
                "DeletionProtectionEnabled": True,
            },
        },
        CONTACT_KEY: {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",
            "Properties": {"KeyPolicy": KEY_POLICY},
        },
        MAC_KEY: {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",
            "Properties": {
                "KeyPolicy": KEY_POLICY,
                "KeySpec": "HMAC_256",
                "KeyUsage": "GENERATE_VERIFY_MAC",
            },
        },
    }
}


@pytest.fixture
def session() -> Iterator[Any]:
    with mock_aws():
        yield boto3.session.Session(region_name=REGION)


@pytest.fixture
def stack(session: Any) -> dict[str, str]:
    cfn = session.client("cloudformation")
    cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(MINI_TEMPLATE))
    summaries = cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries}


def test_site_files_get_their_content_type_and_cache_policy(session: Any, tmp_path: Path) -> None:
    s3 = session.client("s3")
    s3.create_bucket(Bucket="site")
    site = tmp_path / "site"
    for name in (
        "index.html",
        "track/index.html",
        "assets/js/api.js",
        "assets/css/a.css",
        "sitemap.xml.gz",
        "search/search_index.json",
        "assets/logo.svg",
        "font.woff2",
    ):
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text("x")
    keys = upload_site(s3, "site", site)
    assert "track/index.html" in keys
    assert len(keys) == 8
    expected = {
        "index.html": ("text/html; charset=utf-8", SHORT_CACHE),
        "assets/js/api.js": ("text/javascript; charset=utf-8", LONG_CACHE),
        "assets/css/a.css": ("text/css; charset=utf-8", LONG_CACHE),
        "search/search_index.json": ("application/json", SHORT_CACHE),
        "assets/logo.svg": ("image/svg+xml", LONG_CACHE),
        "font.woff2": ("font/woff2", LONG_CACHE),
    }
    for key, (kind, cache) in expected.items():
        head = s3.head_object(Bucket="site", Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (kind, cache), key
    assert content_type(Path("x.unknown-ext")) == "application/octet-stream"


def test_artifacts_bucket_is_created_private_once(session: Any) -> None:
    s3 = session.client("s3")
    bucket = artifacts_bucket_name("123456789012", REGION)
    ensure_artifacts_bucket(s3, bucket, REGION)
    ensure_artifacts_bucket(s3, bucket, REGION)  # exists: left as it is
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_artifacts_are_content_addressed_and_functions_load_from_them(
    session: Any, tmp_path: Path
) -> None:
    s3 = session.client("s3")
    s3.create_bucket(Bucket="artifacts")
    template = {
        "Resources": {
            "APIHandler": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"CodeUri": "./deployment.zip"},
            },
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        }
    }
    zip_path = tmp_path / "deployment.zip"
    zip_path.write_bytes(b"PK-not-really")
    url = upload_artifacts(s3, "artifacts", REGION, STACK, template, zip_path)
    assert url.startswith(f"https://artifacts.s3.{REGION}.amazonaws.com/{STACK}/")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="artifacts")["Contents"]]
    (code_key,) = [k for k in keys if k.endswith(".zip")]
    uploaded = json.loads(
        s3.get_object(Bucket="artifacts", Key=url.split("/", 3)[3])["Body"].read()
    )
    assert (
        uploaded["Resources"]["APIHandler"]["Properties"]["CodeUri"] == f"s3://artifacts/{code_key}"
    )
    assert template["Resources"]["APIHandler"]["Properties"]["CodeUri"] == "./deployment.zip"
    assert (
        with_code_location(template, "b", "k")["Resources"]["Table"]
        == template["Resources"]["Table"]
    )


def test_destroy_asks_and_does_nothing_without_agreement(
    session: Any, stack: dict[str, str]
) -> None:
    plans = []

    def refuse(plan: str) -> bool:
        plans.append(plan)
        return False

    report = destroy(session, STACK, delete_retained=False, confirm=refuse, region=REGION)
    assert report == ["nothing deleted"]
    assert stack[SITE_BUCKET] in plans[0]
    assert stack_status(session.client("cloudformation"), STACK)[0] == "CREATE_COMPLETE"


def test_destroy_empties_the_bucket_deletes_the_stack_and_keeps_the_data(
    session: Any, stack: dict[str, str]
) -> None:
    s3 = session.client("s3")
    for key in ("index.html", "transparency/index.html"):
        s3.put_object(Bucket=stack[SITE_BUCKET], Key=key, Body=b"x")
    artifacts = artifacts_bucket_name("123456789012", REGION)
    ensure_artifacts_bucket(s3, artifacts, REGION)
    s3.put_object(Bucket=artifacts, Key=f"{STACK}/abc.zip", Body=b"x")
    s3.put_object(Bucket=artifacts, Key="clearloop-prod/def.zip", Body=b"x")
    report = destroy(session, STACK, delete_retained=False, confirm=lambda _: True, region=REGION)
    assert stack_status(session.client("cloudformation"), STACK) == (None, {})
    # Emptied first, so the stack could delete it (a non-empty bucket fails the deletion).
    assert stack[SITE_BUCKET] not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert any(f"emptied {stack[SITE_BUCKET]} (2 objects)" in line for line in report)
    remaining = [o["Key"] for o in s3.list_objects_v2(Bucket=artifacts)["Contents"]]
    assert remaining == ["clearloop-prod/def.zip"]  # another stage's artifacts stay
    assert stack[TABLE] in session.client("dynamodb").list_tables()["TableNames"]
    assert any("--delete-data" in line for line in report)


def test_destroy_delete_data_removes_the_table_and_schedules_the_keys(
    session: Any, stack: dict[str, str]
) -> None:
    report = destroy(session, STACK, delete_retained=True, confirm=lambda _: True, region=REGION)
    assert stack[TABLE] not in session.client("dynamodb").list_tables()["TableNames"]
    kms = session.client("kms")
    for logical in (CONTACT_KEY, MAC_KEY):
        metadata = kms.describe_key(KeyId=stack[logical])["KeyMetadata"]
        assert metadata["KeyState"] == "PendingDeletion"
    assert any("7 days" in line for line in report)
    artifacts = artifacts_bucket_name("123456789012", REGION)
    assert artifacts not in [b["Name"] for b in session.client("s3").list_buckets()["Buckets"]]


def test_scripts_are_executable_and_show_their_options() -> None:
    for name, option in (
        ("deploy", "--alarm-email"),
        ("destroy", "--delete-data"),
        ("build_template.py", "--site-origin"),
    ):
        script = ROOT / "scripts" / name
        assert script.stat().st_mode & stat.S_IXUSR, name
        done = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
        assert done.returncode == 0, (name, done.stderr)
        assert option in done.stdout, name


def test_parameters_not_given_keep_the_stacks_values(session: Any) -> None:
    cfn = session.client("cloudformation")
    given = {"AlarmEmail": None, "ApiRateLimit": "50", "RestoredTableName": None}
    # No stack yet: only what was given; the template's defaults do the rest.
    assert stack_parameters(cfn, STACK, given) == [
        {"ParameterKey": "ApiRateLimit", "ParameterValue": "50"}
    ]
    template = {
        "Parameters": {"AlarmEmail": {"Type": "String", "Default": ""}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    }
    cfn.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "AlarmEmail", "ParameterValue": "ops@example.org"}],
    )
    # A redeploy without --alarm-email keeps the address; a parameter the stack does not
    # have yet (added by a newer template) takes its default.
    assert stack_parameters(cfn, STACK, given) == [
        {"ParameterKey": "AlarmEmail", "UsePreviousValue": True},
        {"ParameterKey": "ApiRateLimit", "ParameterValue": "50"},
    ]


def test_every_template_parameter_has_a_deploy_option(template: dict[str, Any]) -> None:
    args = _parser().parse_args(
        ["--ses-sender", "feedback@example.org", "--alarm-email", "ops@example.org"]
    )
    values = stack_parameter_values(args)
    assert set(values) == set(template["Parameters"])
    assert values["SesSender"] == "feedback@example.org"
    assert values["AlarmEmail"] == "ops@example.org"
    assert values["ApiRateLimit"] is None  # not given: the stack keeps its value
