"""Remove a deployed stage: empty the site bucket, delete the stack and its artifacts.

The table and the two KMS keys are retained by the stack (``DeletionPolicy: Retain``): deleting
a stack must never delete the tickets, nor the keys without which their contact details cannot be
read. ``--delete-data`` removes them too: the table at once (deletion protection is turned off
first; its point-in-time backups go with it) and the keys after KMS's shortest waiting period of
7 days, during which ``aws kms cancel-key-deletion`` still saves them.

Asks for the stack's name as confirmation unless ``--yes``.

Example::

    $ scripts/destroy --stage dev                 # asks, keeps the table and keys
    $ scripts/destroy --stage dev --yes --delete-data
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from typing import Any, Final

from infra.build import DEFAULT_REGION, STAGES
from infra.deploy import artifacts_bucket_name, default_stack_name, stack_status
from infra.template import CONTACT_KEY, MAC_KEY, SITE_BUCKET, TABLE

KEY_DELETION_DAYS: Final = 7  # the minimum KMS allows


def stack_resources(cfn: Any, stack: str) -> dict[str, str]:
    """Physical IDs of the stack's resources by logical ID."""
    paginator = cfn.get_paginator("list_stack_resources")
    return {
        r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
        for page in paginator.paginate(StackName=stack)
        for r in page["StackResourceSummaries"]
    }


def empty_bucket(s3: Any, bucket: str, prefix: str = "") -> int:
    """Delete every object (and every version and delete marker) under ``prefix``."""
    deleted = 0
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        batch = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        # list_object_versions pages hold at most 1,000 entries, delete_objects takes as many.
        if batch:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            deleted += len(batch)
    return deleted


def _bucket_exists(s3: Any, bucket: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        return False
    return True


def delete_data(dynamodb: Any, kms: Any, resources: Mapping[str, str]) -> list[str]:
    """Delete the retained table and schedule the retained keys' deletion; returns a report."""
    report = []
    table = resources.get(TABLE)
    if table:
        dynamodb.update_table(TableName=table, DeletionProtectionEnabled=False)
        dynamodb.delete_table(TableName=table)
        report.append(f"deleted table {table}")
    for logical in (CONTACT_KEY, MAC_KEY):
        key = resources.get(logical)
        if key:
            kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=KEY_DELETION_DAYS)
            report.append(f"scheduled key {key} for deletion in {KEY_DELETION_DAYS} days")
    return report


def destroy(
    session: Any,
    stack: str,
    *,
    delete_retained: bool,
    confirm: Callable[[str], bool],
    region: str,
) -> list[str]:
    """Remove ``stack`` after ``confirm(plan)`` agrees; returns what was done."""
    cfn = session.client("cloudformation", region_name=region)
    s3 = session.client("s3", region_name=region)
    status, _ = stack_status(cfn, stack)
    resources = stack_resources(cfn, stack) if status else {}
    retained = [resources[n] for n in (TABLE, CONTACT_KEY, MAC_KEY) if resources.get(n)]
    plan = [f"stack {stack} ({status or 'not found'})"]
    if resources.get(SITE_BUCKET):
        plan.append(f"every file in the site bucket {resources[SITE_BUCKET]}")
    if delete_retained:
        plan += [f"retained data: {name}" for name in retained]
    if not confirm("This deletes:\n  " + "\n  ".join(plan)):
        return ["nothing deleted"]
    report = []
    if resources.get(SITE_BUCKET) and _bucket_exists(s3, resources[SITE_BUCKET]):
        count = empty_bucket(s3, resources[SITE_BUCKET])
        report.append(f"emptied {resources[SITE_BUCKET]} ({count} objects)")
    if status:
        cfn.delete_stack(StackName=stack)
        cfn.get_waiter("stack_delete_complete").wait(
            StackName=stack, WaiterConfig={"Delay": 15, "MaxAttempts": 240}
        )
        report.append(f"deleted stack {stack}")
    account = session.client("sts").get_caller_identity()["Account"]
    artifacts = artifacts_bucket_name(account, region)
    if _bucket_exists(s3, artifacts):
        count = empty_bucket(s3, artifacts, prefix=f"{stack}/")
        report.append(f"removed {count} artifacts of {stack} from {artifacts}")
        if not s3.list_objects_v2(Bucket=artifacts, MaxKeys=1).get("KeyCount"):
            s3.delete_bucket(Bucket=artifacts)  # no other stack uses it any more
            report.append(f"deleted the empty bucket {artifacts}")
    if delete_retained:
        report += delete_data(
            session.client("dynamodb", region_name=region),
            session.client("kms", region_name=region),
            resources,
        )
    elif retained:
        report.append(
            "kept (DeletionPolicy Retain): "
            + ", ".join(retained)
            + "; run again with --delete-data to remove them"
        )
    return report


def _ask(stack: str) -> Callable[[str], bool]:
    def confirm(plan: str) -> bool:
        print(plan)
        try:
            answer = input(f"Type the stack name ({stack}) to confirm: ")
        except EOFError:  # no terminal: only --yes may skip the question
            return False
        return answer.strip() == stack

    return confirm


def _agree(plan: str) -> bool:
    print(plan)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/destroy", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--stage", choices=STAGES, default="dev")
    parser.add_argument("--stack-name", help="default: clearloop-<stage>")
    parser.add_argument("--region", help="default: the profile's region, else us-east-1")
    parser.add_argument("--profile", help="AWS profile (default: the usual credential chain)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--delete-data",
        action="store_true",
        help="also delete the retained table and schedule the KMS keys' deletion",
    )
    args = parser.parse_args(argv)
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    session = boto3.session.Session(profile_name=args.profile, region_name=args.region)
    region = session.region_name or DEFAULT_REGION
    stack = args.stack_name or default_stack_name(args.stage)
    confirm = _agree if args.yes else _ask(stack)
    try:
        report = destroy(
            session, stack, delete_retained=args.delete_data, confirm=confirm, region=region
        )
    except (BotoCoreError, ClientError) as e:
        print(f"destroy failed: {e}", file=sys.stderr)
        return 1
    print("\n".join(report))
    return 0 if report != ["nothing deleted"] else 1


if __name__ == "__main__":
    sys.exit(main())
