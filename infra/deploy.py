"""Deploy a stage to AWS: package, deploy the stack, build and upload the site, publish once.

Uses boto3 only (no AWS CLI, no SAM CLI). The steps:

1. Make sure the artifacts bucket ``clearloop-artifacts-<account>-<region>`` exists (private,
   encrypted); CloudFormation reads the code zip and the template from it.
2. Build the template and zip (:mod:`infra.build`) with the site's origin, upload both, and apply
   them through a change set (``CAPABILITY_IAM``, ``CAPABILITY_AUTO_EXPAND`` for the SAM
   transform). On the very first deploy CloudFront has not yet named the site, so the API is
   built with a placeholder origin and, once the stack reports ``SiteOrigin``, rebuilt and
   updated with the real one (only the API's CORS and the functions' environment change).
3. Build the site with ``CLEARLOOP_API_URL`` = the stack's ``EndpointURL`` and
   ``mkdocs build --strict``, upload every file with an explicit content type, and invalidate
   CloudFront's cache.
4. Invoke the publisher once if ``app.py`` defines it (``PUBLISH_HANDLER``), so the
   transparency page exists before its first hourly run.

Example::

    $ scripts/deploy --stage prod --region eu-west-1 --alarm-email ops@example.org \
        --ses-sender feedback@example.org
"""

from __future__ import annotations

import argparse
import hashlib
import json
import mimetypes
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from chalicelib.site_server import CONTENT_TYPES
from infra.build import DEFAULT_OUT, DEFAULT_REGION, ROOT, STAGES, BuildError, build
from infra.template import PENDING_SITE_ORIGIN, functions_of

PUBLISH_HANDLER: Final = "app.publish"
CAPABILITIES: Final = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
# HTML and data files change with every deploy and publish; the rest changes with deploys only.
SHORT_CACHE: Final = "public, max-age=300"
LONG_CACHE: Final = "public, max-age=3600"
_SHORT_CACHE_SUFFIXES: Final = frozenset({".html", ".xml", ".json", ".csv", ".atom", ".txt"})
_UNHEALTHY: Final = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"})


class DeployError(RuntimeError):
    """The deployment stopped; the message says where and what to do."""


def default_stack_name(stage: str) -> str:
    return f"clearloop-{stage}"


def artifacts_bucket_name(account: str, region: str) -> str:
    return f"clearloop-artifacts-{account}-{region}"


def content_type(path: Path) -> str:
    """The Content-Type a site file is served with (the local runner's table first)."""
    suffix = path.suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def cache_control(path: Path) -> str:
    return SHORT_CACHE if path.suffix.lower() in _SHORT_CACHE_SUFFIXES else LONG_CACHE


def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            yield path


def upload_site(s3: Any, bucket: str, site_dir: Path) -> list[str]:
    """Upload every file of the built site; returns the keys. Nothing is deleted: the
    publisher's pages live in the same bucket."""
    keys = []
    for path in _files(site_dir):
        key = path.relative_to(site_dir).as_posix()
        s3.upload_file(
            str(path),
            bucket,
            key,
            ExtraArgs={"ContentType": content_type(path), "CacheControl": cache_control(path)},
        )
        keys.append(key)
    return keys


def ensure_artifacts_bucket(s3: Any, bucket: str, region: str) -> None:
    """Create the private artifacts bucket unless it exists (owned by this account)."""
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise DeployError(f"artifacts bucket {bucket} exists but is not usable: {e}") from e
    options: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":  # us-east-1 rejects an explicit location constraint
        options["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**options)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def with_code_location(template: Mapping[str, Any], bucket: str, key: str) -> dict[str, Any]:
    """A copy of ``template`` whose functions load their code from ``s3://bucket/key``."""
    copy: dict[str, Any] = json.loads(json.dumps(template))
    for function in functions_of(copy).values():
        function["Properties"]["CodeUri"] = f"s3://{bucket}/{key}"
    return copy


def upload_artifacts(
    s3: Any, bucket: str, region: str, stack: str, template: Mapping[str, Any], zip_path: Path
) -> str:
    """Upload the zip and the template (content-addressed); returns the template's URL."""
    code = zip_path.read_bytes()
    code_key = f"{stack}/{_sha256(code)}.zip"
    s3.put_object(Bucket=bucket, Key=code_key, Body=code)
    body = json.dumps(with_code_location(template, bucket, code_key), sort_keys=True).encode()
    template_key = f"{stack}/{_sha256(body)}.template.json"
    s3.put_object(Bucket=bucket, Key=template_key, Body=body, ContentType="application/json")
    # Templates over 51,200 bytes must be passed by URL; ours is, always.
    return f"https://{bucket}.s3.{region}.amazonaws.com/{template_key}"


def stack_status(cfn: Any, stack: str) -> tuple[str | None, dict[str, str]]:
    """The stack's status and outputs, or ``(None, {})`` when there is no such stack."""
    from botocore.exceptions import ClientError

    try:
        found = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as e:
        if "does not exist" in str(e):
            return None, {}
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
    return str(found["StackStatus"]), outputs


def _failure_events(cfn: Any, stack: str, limit: int = 10) -> str:
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    failed = [
        f"  {e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
        for e in events
        if str(e.get("ResourceStatus", "")).endswith("FAILED")
    ]
    return "\n".join(failed[:limit]) or "  (no failed resource events)"


def stack_parameters(cfn: Any, stack: str, given: Mapping[str, str | None]) -> list[dict[str, Any]]:
    """Change-set parameters: the values given, and for the others the stack's current value
    (so a redeploy without ``--alarm-email`` keeps the subscription) or the template default."""
    from botocore.exceptions import ClientError

    try:
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        current = {p["ParameterKey"] for p in described.get("Parameters", [])}
    except ClientError as e:
        if "does not exist" not in str(e):
            raise
        current = set()  # no stack yet: every parameter not given takes its default
    parameters: list[dict[str, Any]] = []
    for key, value in given.items():
        if value is not None:
            parameters.append({"ParameterKey": key, "ParameterValue": value})
        elif key in current:
            parameters.append({"ParameterKey": key, "UsePreviousValue": True})
    return parameters


def apply_template(
    cfn: Any,
    stack: str,
    template_url: str,
    parameters: Mapping[str, str | None],
    tags: Mapping[str, str],
) -> dict[str, str]:
    """Create or update ``stack`` through a change set and wait; returns the stack's outputs.

    A parameter given as ``None`` keeps the stack's current value (or the template default).
    """
    from botocore.exceptions import WaiterError

    status, _ = stack_status(cfn, stack)
    if status in _UNHEALTHY:
        raise DeployError(
            f"stack {stack} is {status} and cannot be updated: run scripts/destroy, then deploy"
        )
    creating = status is None or status == "REVIEW_IN_PROGRESS"
    change_set = f"deploy-{datetime.now(UTC):%Y%m%d%H%M%S}"
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName=change_set,
        ChangeSetType="CREATE" if creating else "UPDATE",
        TemplateURL=template_url,
        Capabilities=CAPABILITIES,
        Parameters=stack_parameters(cfn, stack, parameters),
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=stack, ChangeSetName=change_set, WaiterConfig={"Delay": 5}
        )
    except WaiterError as e:
        described = cfn.describe_change_set(StackName=stack, ChangeSetName=change_set)
        reason = str(described.get("StatusReason", ""))
        if "didn't contain changes" in reason or "No updates" in reason:
            cfn.delete_change_set(StackName=stack, ChangeSetName=change_set)
            print(f"  {stack}: no changes")
            return stack_status(cfn, stack)[1]
        raise DeployError(f"change set for {stack} failed: {reason}") from e
    cfn.execute_change_set(StackName=stack, ChangeSetName=change_set)
    waiter = "stack_create_complete" if creating else "stack_update_complete"
    print(f"  {stack}: applying {change_set} (CloudFront takes several minutes the first time)")
    try:
        # Up to an hour: creating a CloudFront distribution alone can take 15 minutes.
        cfn.get_waiter(waiter).wait(StackName=stack, WaiterConfig={"Delay": 15, "MaxAttempts": 240})
    except WaiterError as e:
        raise DeployError(
            f"stack {stack} did not deploy; failed resources:\n{_failure_events(cfn, stack)}"
        ) from e
    return stack_status(cfn, stack)[1]


def build_site(api_url: str, site_origin: str, site_dir: Path) -> None:
    """``mkdocs build --strict`` with the deployed API's URL in the pages' <meta> tag."""
    env = dict(os.environ)
    env.update({"CLEARLOOP_API_URL": api_url.rstrip("/"), "CLEARLOOP_SITE_URL": site_origin + "/"})
    mkdocs = Path(sys.executable).with_name("mkdocs")
    done = subprocess.run(  # noqa: S603 - fixed argv (mkdocs beside this interpreter), no shell
        [str(mkdocs), "build", "--strict", "--clean", "--site-dir", str(site_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise DeployError(f"mkdocs build failed:\n{done.stderr[-3000:]}")


def scheduled_event(account: str, region: str) -> dict[str, Any]:
    """An EventBridge "Scheduled Event", as the schedule itself would deliver it."""
    return {
        "version": "0",
        "id": f"deploy-{int(time.time())}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": {},
    }


def first_publish(
    session: Any, stack: str, template: Mapping[str, Any], account: str, region: str
) -> str:
    """Run the publisher once if the app has one; returns what happened, for the summary."""
    publishers = [
        name
        for name, function in functions_of(template).items()
        if function["Properties"].get("Handler") == PUBLISH_HANDLER
    ]
    if not publishers:
        return "no publish function in app.py yet: nothing published"
    physical = session.client("cloudformation").describe_stack_resource(
        StackName=stack, LogicalResourceId=publishers[0]
    )["StackResourceDetail"]["PhysicalResourceId"]
    answer = session.client("lambda").invoke(
        FunctionName=physical,
        InvocationType="RequestResponse",
        Payload=json.dumps(scheduled_event(account, region)).encode(),
    )
    if answer.get("FunctionError"):
        raise DeployError(f"the first publish failed: {answer['Payload'].read()[:2000]!r}")
    return f"published once with {physical}"


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


def stack_parameter_values(args: argparse.Namespace) -> dict[str, str | None]:
    """The template's parameters from the options (``None``: keep the stack's value)."""
    return {
        "AlarmEmail": args.alarm_email,
        "SesSender": args.ses_sender,
        "ApiRateLimit": _text(args.api_rate_limit),
        "ApiBurstLimit": _text(args.api_burst_limit),
        "PriceClass": args.price_class,
        "RestoredTableName": args.restored_table,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/deploy", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--stage", choices=STAGES, default="dev")
    parser.add_argument("--stack-name", help="default: clearloop-<stage>")
    parser.add_argument("--region", help="default: the profile's region, else us-east-1")
    parser.add_argument("--profile", help="AWS profile (default: the usual credential chain)")
    # Stack parameters: omitted ones keep their current value (first deploy: the default).
    parser.add_argument("--alarm-email", help="subscribe this address to the alarms")
    parser.add_argument(
        "--ses-sender",
        help="From address of notification e-mails, verified in SES in the region "
        "('' for none: no e-mail is sent)",
    )
    parser.add_argument("--api-rate-limit", type=int, help="requests/s (default 1000)")
    parser.add_argument("--api-burst-limit", type=int, help="burst requests (default 2000)")
    parser.add_argument(
        "--price-class",
        choices=["PriceClass_100", "PriceClass_200", "PriceClass_All"],
        help="CloudFront edge locations (default PriceClass_100)",
    )
    parser.add_argument(
        "--restored-table",
        help="use this table restored from a backup instead of the stack's own ('' to go back)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="build folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    session = boto3.session.Session(profile_name=args.profile, region_name=args.region)
    region = session.region_name or DEFAULT_REGION
    stack = args.stack_name or default_stack_name(args.stage)
    try:
        account = session.client("sts").get_caller_identity()["Account"]
        s3 = session.client("s3", region_name=region)
        cfn = session.client("cloudformation", region_name=region)
        bucket = artifacts_bucket_name(account, region)
        print(f"Deploying {stack} ({args.stage}) to account {account}, {region}")
        ensure_artifacts_bucket(s3, bucket, region)
        parameters = stack_parameter_values(args)
        tags = {"app": "clearloop", "stage": args.stage}
        origin = stack_status(cfn, stack)[1].get("SiteOrigin", PENDING_SITE_ORIGIN)
        # Two passes at most: the first deploy learns the site's origin from CloudFront.
        for _ in range(2):
            print(f"  packaging for site origin {origin}")
            result = build(args.out, stage=args.stage, site_origin=origin, region=region)
            url = upload_artifacts(s3, bucket, region, stack, result.template, result.zip_path)
            outputs = apply_template(cfn, stack, url, parameters, tags)
            if outputs["SiteOrigin"] == origin:
                break
            origin = outputs["SiteOrigin"]
        else:
            raise DeployError(f"the site origin keeps changing ({origin}); deploy again")
        site_dir = args.out / "site"
        build_site(outputs["EndpointURL"], origin, site_dir)
        keys = upload_site(s3, outputs["SiteBucketName"], site_dir)
        published = first_publish(session, stack, result.template, account, region)
        # After the upload and the first publish: visitors get the new files, not cached ones.
        session.client("cloudfront").create_invalidation(
            DistributionId=outputs["SiteDistributionId"],
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": ["/*"]},
                "CallerReference": f"deploy-{time.time_ns()}",
            },
        )
    except (BuildError, DeployError, BotoCoreError, ClientError) as e:
        print(f"deploy failed: {e}", file=sys.stderr)
        return 1
    print(
        f"Deployed {stack}.\n"
        f"  site:   {origin}/ ({len(keys)} files uploaded)\n"
        f"  API:    {outputs['EndpointURL']}\n"
        f"  table:  {outputs['TableName']}\n"
        f"  alarms: {outputs['AlarmTopicArn']}\n"
        f"  {published}"
    )
    return 0
