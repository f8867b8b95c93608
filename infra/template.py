"""The CloudFormation of a Clearloop deployment, around what ``chalice package`` generates.

Two steps, both pure functions of their inputs (no AWS calls, no files):

1. :func:`merge_template` is the file given to ``chalice package --merge-template``: the table
   (translated from ``chalicelib.store.dynamodb.schema``, so the deployment and the tests cannot
   differ), the KMS keys, the function role, the private site bucket behind CloudFront with the
   security headers, API Gateway throttling and gateway responses, the alarm topic and the alarms
   that do not depend on which functions exist.
2. :func:`finish_template` then walks every function chalice generated (the API handler and one
   per ``@app.schedule``) and gives each the supported runtime, the role, the environment that
   points it at the stack's resources, a log group with a retention period and an errors alarm.
   Because this step discovers the functions, a schedule added to ``app.py`` is deployed, logged,
   permitted and alarmed with no change here.

Example::

    merge = merge_template("prod", "https://d111111abcdef8.cloudfront.net")
    # json.dump(merge, ...); chalice package --merge-template merge.json out/  -> out/sam.json
    template = finish_template(
        sam, stage="prod", site_origin="https://d111111abcdef8.cloudfront.net", runtime="python3.13"
    )
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any, Final

from chalicelib.http import SECURITY_HEADERS
from chalicelib.observe.port import NAMESPACE, SLA_BREACHES
from chalicelib.site_server import security_headers
from chalicelib.store.dynamodb.schema import TABLE_DEFINITION, TTL_ATTRIBUTE

Json = dict[str, Any]

# Logical IDs of the resources defined here (chalice owns RestAPI, APIHandler and one function
# per schedule, named after the Python function in CamelCase).
REST_API: Final = "RestAPI"
API_HANDLER: Final = "APIHandler"
TABLE: Final = "Table"
CONTACT_KEY: Final = "ContactKey"
MAC_KEY: Final = "MacKey"
FUNCTION_ROLE: Final = "FunctionRole"
SITE_BUCKET: Final = "SiteBucket"
SITE_BUCKET_POLICY: Final = "SiteBucketPolicy"
SITE_OAC: Final = "SiteOriginAccessControl"
SITE_HEADERS: Final = "SiteResponseHeaders"
SITE_INDEX_FUNCTION: Final = "SiteDirectoryIndex"
SITE_DISTRIBUTION: Final = "SiteDistribution"
ALARM_TOPIC: Final = "AlarmTopic"
USE_RESTORED_TABLE: Final = "UseRestoredTable"  # condition
HAS_SES_SENDER: Final = "HasSesSender"  # condition
SES_SENDER: Final = "SesSender"  # parameter: the From address of notification e-mails

# chalice writes `iam_role_arn` into every function; the build sets this value (with
# `manage_iam_role: false`) and finish_template replaces it with the stack's own role, failing
# loudly if any function escaped.
ROLE_PLACEHOLDER: Final = "arn:aws:iam::000000000000:role/replaced-by-infra-template"
# Used until the stack exists and CloudFront has given the site its domain (see infra.deploy).
PENDING_SITE_ORIGIN: Final = "https://pending.invalid"

API_STAGE: Final = "api"  # chalice's API Gateway stage name
# The sweep publishes these through chalicelib.observe (one definition for code and alarms).
METRIC_NAMESPACE: Final = NAMESPACE
SLA_BREACH_METRIC: Final = SLA_BREACHES
# The SLA sweep is the scheduled function named `sla_sweep` in app.py (SPEC section 4); its
# errors alarm is the "sweep failures" alarm.
SWEEP_HANDLER: Final = "app.sla_sweep"

LOG_RETENTION_DAYS: Final = 30
LAMBDA_DATA_DIR: Final = "/tmp/clearloop"  # noqa: S108 - Lambda's only writable folder
# chalice's defaults; a stage that sets lambda_memory_size / lambda_timeout keeps its values.
_CHALICE_DEFAULT_MEMORY: Final = 128
_CHALICE_DEFAULT_TIMEOUT: Final = 60
FUNCTION_MEMORY_MB: Final = 512  # more memory is more CPU: boto3 + cryptography cold starts
API_TIMEOUT_SECONDS: Final = 28  # API Gateway gives up at 29 s
SCHEDULED_TIMEOUT_SECONDS: Final = 240  # below the sweep's 5-minute period

# The item operations the DynamoDB adapter makes (tests/infra checks the adapter's calls against
# this list); no Scan (the design never scans), no table management, no streams.
TABLE_ACTIONS: Final = (
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
)
# What the publisher does with the site bucket (chalicelib/publish/sinks.py, S3Sink): objects
# are read, written and deleted under the bucket's own ARN, and the bucket is listed (ListObjectsV2
# needs s3:ListBucket on the bucket itself). tests/infra checks these against the sink's calls.
SITE_OBJECT_ACTIONS: Final = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")
SITE_BUCKET_ACTIONS: Final = ("s3:ListBucket",)
# The notifier's one call (chalicelib/notify/ses.py, SendEmail of the classic SES API).
SES_ACTIONS: Final = ("ses:SendEmail",)
# What the account (and so CloudFormation and the operators' IAM policies) may do with a key:
# manage it, never use it. Listed one by one: a key policy with kms:* would let any principal
# with an IAM grant decrypt contact details.
KEY_ADMIN_ACTIONS: Final = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
# CloudFront managed cache policy "CachingOptimized" (honours the Cache-Control set on upload).
CACHING_OPTIMIZED_POLICY_ID: Final = "658327ea-f89d-4fab-a63d-7e88639e58f6"

# MkDocs writes pages as <dir>/index.html and links to <dir>/; S3 has no directory index, so a
# viewer-request function maps "/track/" to "/track/index.html" and redirects "/track" there.
DIRECTORY_INDEX_JS: Final = """\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
  } else if (uri.split('/').pop().indexOf('.') === -1) {
    return {
      statusCode: 301,
      statusDescription: 'Moved Permanently',
      headers: { location: { value: uri + '/' } }
    };
  }
  return request;
}
"""

# Table properties that mean the same in CreateTable and in AWS::DynamoDB::Table.
_TABLE_KEYS: Final = frozenset(
    {
        "AttributeDefinitions",
        "KeySchema",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "BillingMode",
        "ProvisionedThroughput",
        "TableClass",
        "Tags",
        "OnDemandThroughput",
    }
)


def ref(name: str) -> Json:
    return {"Ref": name}


def get_att(name: str, attribute: str) -> Json:
    return {"Fn::GetAtt": [name, attribute]}


def sub(text: str) -> Json:
    return {"Fn::Sub": text}


def table_properties(definition: Mapping[str, Any] = TABLE_DEFINITION) -> Json:
    """``AWS::DynamoDB::Table`` properties for ``schema.TABLE_DEFINITION`` plus the deployment's
    protections: point-in-time recovery, KMS encryption at rest, TTL and deletion protection.

    A key this translation does not know fails the build rather than being dropped silently.
    """
    unknown = set(definition) - _TABLE_KEYS
    if unknown:
        raise ValueError(
            f"schema.TABLE_DEFINITION has {sorted(unknown)}: teach infra/template.py "
            "table_properties() how CloudFormation spells it"
        )
    properties: Json = copy.deepcopy(dict(definition))
    properties.update(
        {
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            # KMS with the AWS managed key aws/dynamodb: no monthly key fee, and the table stays
            # readable if the stack (and its customer keys) are ever deleted. Contact details
            # carry their own envelope under ContactKey on top of this.
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
            "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
            "DeletionProtectionEnabled": True,
        }
    )
    return properties


def _index_names(definition: Mapping[str, Any] = TABLE_DEFINITION) -> list[str]:
    return [str(index["IndexName"]) for index in definition.get("GlobalSecondaryIndexes", [])]


# A point-in-time restore creates a new table outside the stack; the RestoredTableName parameter
# switches every function, permission and alarm to it (see the operations guide, "Restore").
_RESTORED_ARN: Final = (
    "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${RestoredTableName}"
)


def active_table_name() -> Json:
    """The table the functions use: the restored one when named, else the stack's own."""
    return {"Fn::If": [USE_RESTORED_TABLE, ref("RestoredTableName"), ref(TABLE)]}


def _active_table_arn(suffix: str = "") -> Json:
    return {
        "Fn::If": [
            USE_RESTORED_TABLE,
            sub(_RESTORED_ARN + suffix),
            sub(f"${{{TABLE}.Arn}}{suffix}") if suffix else get_att(TABLE, "Arn"),
        ]
    }


def _key_policy(use_statement: Json) -> Json:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountManagesButCannotUseTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                "Action": list(KEY_ADMIN_ACTIONS),
                # In a key policy "*" means "this key"; no other value is accepted.
                "Resource": "*",
            },
            use_statement,
        ],
    }


def _keys() -> Json:
    contact_use = {
        "Sid": "FunctionsSealAndOpenContactDetailsPerTicket",
        "Effect": "Allow",
        "Principal": {"AWS": get_att(FUNCTION_ROLE, "Arn")},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
        # Every request must name the ticket: a data key is only ever bound to one ticket.
        "Condition": {
            "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["ticket"]},
            "Null": {"kms:EncryptionContext:ticket": "false"},
        },
    }
    mac_use = {
        "Sid": "FunctionsComputeTheKeyedMac",
        "Effect": "Allow",
        "Principal": {"AWS": get_att(FUNCTION_ROLE, "Arn")},
        "Action": ["kms:GenerateMac"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:MacAlgorithm": "HMAC_SHA_256"}},
    }
    retained = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    return {
        CONTACT_KEY: {
            "Type": "AWS::KMS::Key",
            **retained,
            "Properties": {
                "Description": sub("${AWS::StackName}: envelope key for contact details"),
                "KeySpec": "SYMMETRIC_DEFAULT",
                "KeyUsage": "ENCRYPT_DECRYPT",
                "EnableKeyRotation": True,
                "KeyPolicy": _key_policy(contact_use),
            },
        },
        "ContactKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {
                "AliasName": sub("alias/${AWS::StackName}-contact"),
                "TargetKeyId": ref(CONTACT_KEY),
            },
        },
        MAC_KEY: {
            "Type": "AWS::KMS::Key",
            **retained,
            "Properties": {
                "Description": sub("${AWS::StackName}: HMAC key for the application's keyed MAC"),
                # KMS cannot rotate HMAC keys; the operations guide says how to replace it.
                "KeySpec": "HMAC_256",
                "KeyUsage": "GENERATE_VERIFY_MAC",
                "KeyPolicy": _key_policy(mac_use),
            },
        },
        "MacKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {
                "AliasName": sub("alias/${AWS::StackName}-mac"),
                "TargetKeyId": ref(MAC_KEY),
            },
        },
    }


def ses_identity_arns() -> list[Json]:
    """The SES identities the sender address may be verified as: the address itself and its
    domain (SES authorizes a send against whichever identity verifies the From address).

    The domain is the second part of ``"<SesSender>@x"`` split at ``@``, an index that exists
    even for an empty parameter: the statement is then left out by its condition, but
    CloudFormation may still resolve the functions of the Fn::If branch it does not take."""
    identity = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/"
    domain = {"Fn::Select": [1, {"Fn::Split": ["@", sub(f"${{{SES_SENDER}}}@x")]}]}
    return [
        sub(f"{identity}${{{SES_SENDER}}}"),
        {"Fn::Sub": [identity + "${Domain}", {"Domain": domain}]},
    ]


def _role() -> Json:
    table_arn = _active_table_arn()
    index_arns = [_active_table_arn(f"/index/{name}") for name in _index_names()]
    statements: list[Json] = [
        {
            "Sid": "TicketItems",
            "Effect": "Allow",
            "Action": list(TABLE_ACTIONS),
            "Resource": [table_arn],
        },
        {
            "Sid": "IndexQueries",
            "Effect": "Allow",
            "Action": ["dynamodb:Query"],
            "Resource": index_arns,
        },
        {
            # PutMetricData has no resource-level permissions; the namespace condition is the
            # only narrowing AWS offers (the sweep publishes Clearloop/SlaBreaches).
            "Sid": "ClearloopMetrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
        },
        {
            # The publisher writes the transparency page, the board and the open data into
            # the site bucket, and deletes the pages that should no longer exist.
            "Sid": "PublishedPages",
            "Effect": "Allow",
            "Action": list(SITE_OBJECT_ACTIONS),
            "Resource": [sub(f"${{{SITE_BUCKET}.Arn}}/*")],
        },
        {
            "Sid": "ListPublishedPages",
            "Effect": "Allow",
            "Action": list(SITE_BUCKET_ACTIONS),
            "Resource": [get_att(SITE_BUCKET, "Arn")],
        },
        {
            # Notifications, from the configured address only; none without one.
            "Fn::If": [
                HAS_SES_SENDER,
                {
                    "Sid": "SendNotificationsAsTheSender",
                    "Effect": "Allow",
                    "Action": list(SES_ACTIONS),
                    "Resource": ses_identity_arns(),
                    "Condition": {"StringEquals": {"ses:FromAddress": ref(SES_SENDER)}},
                },
                ref("AWS::NoValue"),
            ]
        },
    ]
    return {
        FUNCTION_ROLE: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": sub("${AWS::StackName}: the API and scheduled functions"),
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "data",
                        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                    }
                ],
            },
        }
    }


def response_headers_config(api_origin: str, upload_origin: str | None = None) -> Json:
    """The CloudFront response headers policy config: the local runner's production headers
    (``chalicelib.site_server.security_headers``, the single source) plus the API's HSTS."""
    headers = dict(security_headers(api_origin, upload_origin))
    hsts = SECURITY_HEADERS["Strict-Transport-Security"]
    max_age = int(hsts.split(";")[0].split("=")[1])
    security: Json = {
        "ContentSecurityPolicy": {
            "ContentSecurityPolicy": sub(headers.pop("Content-Security-Policy")),
            "Override": True,
        },
        "StrictTransportSecurity": {
            "AccessControlMaxAgeSec": max_age,
            "IncludeSubdomains": "includesubdomains" in hsts.lower().replace(" ", ""),
            "Preload": False,
            "Override": True,
        },
    }
    if headers.pop("X-Content-Type-Options", "").lower() == "nosniff":
        security["ContentTypeOptions"] = {"Override": True}
    if "Referrer-Policy" in headers:
        security["ReferrerPolicy"] = {
            "ReferrerPolicy": headers.pop("Referrer-Policy"),
            "Override": True,
        }
    if "X-Frame-Options" in headers:
        security["FrameOptions"] = {
            "FrameOption": headers.pop("X-Frame-Options").upper(),
            "Override": True,
        }
    config: Json = {
        "Name": sub("${AWS::StackName}-site-headers"),
        "Comment": "SPEC section 7: CSP without inline script, HSTS, no framing",
        "SecurityHeadersConfig": security,
    }
    if headers:
        config["CustomHeadersConfig"] = {
            "Items": [
                {"Header": name, "Value": value, "Override": True}
                for name, value in sorted(headers.items())
            ]
        }
    return config


def _site() -> Json:
    distribution_arn = sub(
        f"arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/${{{SITE_DISTRIBUTION}}}"
    )
    api_origin = f"https://${{{REST_API}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"
    not_found = {"ResponseCode": 404, "ResponsePagePath": "/404.html", "ErrorCachingMinTTL": 60}
    return {
        SITE_BUCKET: {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            },
        },
        SITE_BUCKET_POLICY: {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": ref(SITE_BUCKET),
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "OnlyThisDistributionReads",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudfront.amazonaws.com"},
                            "Action": "s3:GetObject",
                            "Resource": sub(f"${{{SITE_BUCKET}.Arn}}/*"),
                            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
                        }
                    ],
                },
            },
        },
        SITE_OAC: {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": sub("${AWS::StackName}-site"),
                    "Description": "CloudFront signs every request to the private site bucket",
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        },
        SITE_HEADERS: {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {
                "ResponseHeadersPolicyConfig": response_headers_config(
                    api_origin, ATTACHMENT_ORIGIN
                )
            },
        },
        SITE_INDEX_FUNCTION: {
            "Type": "AWS::CloudFront::Function",
            "Properties": {
                "Name": sub("${AWS::StackName}-directory-index"),
                "AutoPublish": True,
                "FunctionCode": DIRECTORY_INDEX_JS,
                "FunctionConfig": {
                    "Comment": "MkDocs directory URLs on S3",
                    "Runtime": "cloudfront-js-2.0",
                },
            },
        },
        SITE_DISTRIBUTION: {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Enabled": True,
                    "Comment": sub("${AWS::StackName} site and published pages"),
                    "DefaultRootObject": "index.html",
                    "HttpVersion": "http2and3",
                    "IPV6Enabled": True,
                    "PriceClass": ref("PriceClass"),
                    "Origins": [
                        {
                            "Id": "site-bucket",
                            "DomainName": get_att(SITE_BUCKET, "RegionalDomainName"),
                            "OriginAccessControlId": get_att(SITE_OAC, "Id"),
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                    "DefaultCacheBehavior": {
                        "TargetOriginId": "site-bucket",
                        "ViewerProtocolPolicy": "redirect-to-https",
                        "AllowedMethods": ["GET", "HEAD"],
                        "CachedMethods": ["GET", "HEAD"],
                        "Compress": True,
                        "CachePolicyId": CACHING_OPTIMIZED_POLICY_ID,
                        "ResponseHeadersPolicyId": ref(SITE_HEADERS),
                        "FunctionAssociations": [
                            {
                                "EventType": "viewer-request",
                                "FunctionARN": get_att(SITE_INDEX_FUNCTION, "FunctionARN"),
                            }
                        ],
                    },
                    # Without s3:ListBucket a missing object is a 403 from S3: show the 404 page.
                    "CustomErrorResponses": [
                        {"ErrorCode": 403, **not_found},
                        {"ErrorCode": 404, **not_found},
                    ],
                    "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
                }
            },
        },
    }


def _error_body(code: str, message: str) -> str:
    return json.dumps({"error": {"code": code, "message": message, "fields": {}}})


def _gateway_responses(site_origin: str) -> Json:
    """API Gateway's own answers (throttling, unknown paths) in the SPEC's error format, with
    the API's security headers and CORS, so the site can read a 429 and show it."""
    headers = {
        "Access-Control-Allow-Origin": f"'{site_origin}'",
        "Access-Control-Expose-Headers": "'Retry-After'",
        # API Gateway static header values are quoted with ', so values that contain ' (the
        # CSP) are left to the Lambda's responses.
        **{
            name: f"'{value}'"
            for name, value in SECURITY_HEADERS.items()
            if "'" not in value and name != "Cache-Control"
        },
        "Cache-Control": "'no-store'",
    }

    def response(body: str, status: int | None = None, extra: dict[str, str] | None = None) -> Json:
        answer: Json = {
            "ResponseParameters": {"Headers": {**headers, **(extra or {})}},
            "ResponseTemplates": {"application/json": body},
        }
        if status is not None:  # otherwise API Gateway keeps the status it chose
            answer["StatusCode"] = status
        return answer

    # $context.error.messageString is API Gateway's message, already quoted as a JSON string.
    gateway_message = (
        '{"error": {"code": "request_rejected", '
        '"message": $context.error.messageString, "fields": {}}}'
    )
    return {
        # Stage throttling is a token bucket refilled every second: a second is the wait that
        # OpenAPI's 429 promises (Retry-After) and the site reads.
        "THROTTLED": response(
            _error_body("rate_limited", "Too many requests; try again shortly."),
            429,
            {"Retry-After": "'1'"},
        ),
        # An unknown path: chalice local says 403 "Missing Authentication Token"; 404 is true.
        "MISSING_AUTHENTICATION_TOKEN": response(
            _error_body("not_found", "No such endpoint."), 404
        ),
        "DEFAULT_4XX": response(gateway_message),
        "DEFAULT_5XX": response(_error_body("internal_error", "An internal error occurred.")),
    }


def _alarm(suffix: str, description: str, **metric: Any) -> Json:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": sub(f"${{AWS::StackName}}-{suffix}"),
            "AlarmDescription": description,
            "ActionsEnabled": True,
            "AlarmActions": [ref(ALARM_TOPIC)],
            "OKActions": [ref(ALARM_TOPIC)],
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            # No data means nothing failed (no traffic, no breach), not an emergency.
            "TreatMissingData": "notBreaching",
            **metric,
        },
    }


def _throttle_metrics() -> list[Json]:
    table = {"Name": "TableName", "Value": active_table_name()}
    targets: list[list[Json]] = [[table]] + [
        [table, {"Name": "GlobalSecondaryIndexName", "Value": name}] for name in _index_names()
    ]
    metrics: list[Json] = []
    for n, dimensions in enumerate(targets):
        for kind in ("Read", "Write"):
            metrics.append(
                {
                    "Id": f"{kind.lower()}{n}",
                    "ReturnData": False,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/DynamoDB",
                            "MetricName": f"{kind}ThrottleEvents",
                            "Dimensions": dimensions,
                        },
                        "Period": 300,
                        "Stat": "Sum",
                    },
                }
            )
    # SUM(METRICS()) adds whatever series have data; "a + b" would be empty if one were.
    metrics.append(
        {"Id": "throttles", "Expression": "SUM(METRICS())", "Label": "Throttled requests"}
    )
    return metrics


def _alarms(stage: str) -> Json:
    return {
        ALARM_TOPIC: {
            "Type": "AWS::SNS::Topic",
            "Properties": {"DisplayName": sub("${AWS::StackName} alarms")},
        },
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {
                "TopicArn": ref(ALARM_TOPIC),
                "Protocol": "email",
                "Endpoint": ref("AlarmEmail"),
            },
        },
        "ApiServerErrorsAlarm": _alarm(
            "api-5xx",
            "The API answered 5xx five times or more in 5 minutes (Lambda errors, timeouts, "
            "or the store or KMS unavailable). See the operations guide, 'Alarms'.",
            Namespace="AWS/ApiGateway",
            MetricName="5XXError",
            Dimensions=[{"Name": "ApiName", "Value": sub("${AWS::StackName}")}],
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=5,
        ),
        "DynamoDbThrottlesAlarm": _alarm(
            "dynamodb-throttles",
            "DynamoDB throttled reads or writes on the table or an index in two of the last "
            "three 5-minute periods (a hot partition or an account limit).",
            Metrics=_throttle_metrics(),
            EvaluationPeriods=3,
            DatapointsToAlarm=2,
            Threshold=1,
        ),
        "SlaBreachesAlarm": _alarm(
            "sla-breaches",
            "At least one ticket breached its SLA deadline (metric Clearloop/SlaBreaches, "
            "published by the SLA sweep).",
            Namespace=METRIC_NAMESPACE,
            MetricName=SLA_BREACH_METRIC,
            Dimensions=[{"Name": "Stage", "Value": stage}],
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
        ),
    }


def merge_template(stage: str, site_origin: str) -> Json:
    """The template merged into chalice's: parameters, resources, outputs, API settings."""
    resources: Json = {
        REST_API: {
            "Properties": {
                # Named after the stack so two stages in one account have separate metrics.
                "Name": sub("${AWS::StackName}"),
                "MethodSettings": [
                    {
                        "ResourcePath": "/*",
                        "HttpMethod": "*",
                        "ThrottlingRateLimit": ref("ApiRateLimit"),
                        "ThrottlingBurstLimit": ref("ApiBurstLimit"),
                    }
                ],
                "GatewayResponses": _gateway_responses(site_origin),
            }
        },
        TABLE: {
            "Type": "AWS::DynamoDB::Table",
            # The tickets are the one thing a redeploy must never lose.
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": table_properties(),
        },
        **_keys(),
        **_role(),
        **_site(),
        **_alarms(stage),
        **attachment_resources(site_origin),
    }
    return {
        "Description": f"Clearloop ({stage}): API, scheduled functions, table, keys, site, alarms",
        "Parameters": {
            "AlarmEmail": {
                "Type": "String",
                "Default": "",
                "Description": "Address subscribed to the alarm topic (empty: none)",
            },
            "ApiRateLimit": {
                "Type": "Number",
                "Default": 1000,
                "MinValue": 1,
                "Description": "API Gateway steady-state requests per second for the stage",
            },
            "ApiBurstLimit": {
                "Type": "Number",
                "Default": 2000,
                "MinValue": 1,
                "Description": "API Gateway burst (token bucket size) for the stage",
            },
            "PriceClass": {
                "Type": "String",
                "Default": "PriceClass_100",
                "AllowedValues": ["PriceClass_100", "PriceClass_200", "PriceClass_All"],
                "Description": "CloudFront edge locations (100: North America and Europe)",
            },
            SES_SENDER: {
                "Type": "String",
                "Default": "",
                "AllowedPattern": "([^@\\s]+@[A-Za-z0-9.-]+)?",
                "Description": "From address of notification e-mails, verified in SES in this "
                "region as an address or a domain (empty: no e-mail is sent)",
            },
            "RestoredTableName": {
                "Type": "String",
                "Default": "",
                "AllowedPattern": "[A-Za-z0-9_.-]{0,255}",
                "Description": "A table restored from a backup to use instead of the stack's "
                "own (empty: the stack's table)",
            },
        },
        "Conditions": {
            "HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [ref("AlarmEmail"), ""]}]},
            HAS_SES_SENDER: {"Fn::Not": [{"Fn::Equals": [ref(SES_SENDER), ""]}]},
            USE_RESTORED_TABLE: {"Fn::Not": [{"Fn::Equals": [ref("RestoredTableName"), ""]}]},
        },
        "Resources": resources,
        "Outputs": {
            "SiteOrigin": {"Value": sub(f"https://${{{SITE_DISTRIBUTION}.DomainName}}")},
            "SiteBucketName": {"Value": ref(SITE_BUCKET)},
            "SiteDistributionId": {"Value": ref(SITE_DISTRIBUTION)},
            "TableName": {"Value": active_table_name()},
            "StackTableName": {"Value": ref(TABLE)},
            "ContactKeyArn": {"Value": get_att(CONTACT_KEY, "Arn")},
            "MacKeyArn": {"Value": get_att(MAC_KEY, "Arn")},
            "AlarmTopicArn": {"Value": ref(ALARM_TOPIC)},
            "AttachmentBucketName": {"Value": ref(ATTACHMENT_BUCKET)},
        },
    }


def is_scheduled(function: Mapping[str, Any]) -> bool:
    events = function.get("Properties", {}).get("Events", {})
    return any(event.get("Type") == "Schedule" for event in events.values())


def functions_of(template: Mapping[str, Any]) -> dict[str, Json]:
    """The template's Lambda functions by logical ID."""
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }


def _cors_origins(value: Any) -> set[str]:
    """Every Access-Control-Allow-Origin value chalice baked into the API definition."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("Access-Control-Allow-Origin") and isinstance(item, str):
                found.add(item)
            else:
                found |= _cors_origins(item)
    elif isinstance(value, list):
        for item in value:
            found |= _cors_origins(item)
    return found


def finish_template(template: Json, *, stage: str, site_origin: str, runtime: str) -> Json:
    """Apply the deployment's settings to every function in ``template`` (changed in place)."""
    resources: Json = template["Resources"]
    functions = functions_of(template)
    if API_HANDLER not in functions:
        raise ValueError("chalice generated no APIHandler: does app.py define any route?")
    stale = _cors_origins(resources[REST_API]) - {f"'{site_origin}'"}
    if stale:
        raise ValueError(
            f"the API's CORS origin is {sorted(stale)}, not {site_origin!r}: app.py must take "
            "it from Settings.site_origin (CLEARLOOP_SITE_ORIGIN at package time)"
        )
    log_groups = []
    for name, function in functions.items():
        props = function["Properties"]
        if props.get("Role") != ROLE_PLACEHOLDER:
            raise ValueError(f"{name} has role {props.get('Role')!r}, expected the placeholder")
        scheduled = is_scheduled(function)
        props["Role"] = get_att(FUNCTION_ROLE, "Arn")
        # chalice takes the runtime from the packaging interpreter; the wheels in the zip were
        # chosen for this one (infra/build.py), so the two always agree.
        props["Runtime"] = runtime
        if props.get("MemorySize") == _CHALICE_DEFAULT_MEMORY:
            props["MemorySize"] = FUNCTION_MEMORY_MB
        if props.get("Timeout") == _CHALICE_DEFAULT_TIMEOUT:
            props["Timeout"] = SCHEDULED_TIMEOUT_SECONDS if scheduled else API_TIMEOUT_SECONDS
        variables = props.setdefault("Environment", {}).setdefault("Variables", {})
        variables.update(
            {
                "CLEARLOOP_STAGE": stage,
                "CLEARLOOP_STORE": "dynamodb",
                "CLEARLOOP_TABLE": active_table_name(),
                "CLEARLOOP_KMS_KEY_ID": get_att(CONTACT_KEY, "Arn"),
                "CLEARLOOP_MAC_KEY_ID": get_att(MAC_KEY, "Arn"),
                "CLEARLOOP_SITE_ORIGIN": site_origin,
                "CLEARLOOP_SITE_BUCKET": ref(SITE_BUCKET),
                # Empty when no sender is configured: each message then fails, logged.
                "CLEARLOOP_SES_SENDER": ref(SES_SENDER),
                "CLEARLOOP_ATTACHMENT_BUCKET": ref(ATTACHMENT_BUCKET),
                # The package is read-only on Lambda; /tmp is the one writable folder.
                "CLEARLOOP_DATA_DIR": LAMBDA_DATA_DIR,
            }
        )
        log_group = f"{name}LogGroup"
        resources[log_group] = {
            "Type": "AWS::Logs::LogGroup",
            # Logs are kept for LOG_RETENTION_DAYS, not beyond the stack.
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {"RetentionInDays": LOG_RETENTION_DAYS},
        }
        props["LoggingConfig"] = {"LogGroup": ref(log_group), "LogFormat": "Text"}
        log_groups.append(get_att(log_group, "Arn"))
        is_sweep = props.get("Handler") == SWEEP_HANDLER
        resources["SweepFailuresAlarm" if is_sweep else f"{name}ErrorsAlarm"] = _alarm(
            "sweep-failures" if is_sweep else f"{name}-errors",
            (
                "The SLA sweep failed in two of the last three runs: deadlines are not being "
                "marked or escalated."
                if is_sweep
                else f"Function {name} raised an unhandled error or timed out."
            ),
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Dimensions=[{"Name": "FunctionName", "Value": ref(name)}],
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=3 if is_sweep else 1,
            DatapointsToAlarm=2 if is_sweep else 1,
            Threshold=1,
        )
    resources[FUNCTION_ROLE]["Properties"]["Policies"].append(
        {
            "PolicyName": "logs",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "OwnLogGroupsOnly",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": log_groups,
                    }
                ],
            },
        }
    )
    return template


# -- photo attachments (issue #12) ------------------------------------------------------------

ATTACHMENT_BUCKET: Final = "AttachmentBucket"
ATTACHMENT_BUCKET_POLICY: Final = "AttachmentBucketPolicy"
# The origin of presigned forms and links (chalicelib.blobs.s3.make_blob_client): the site's
# CSP allows it for the upload (connect-src) and the photos (img-src).
ATTACHMENT_ORIGIN: Final = f"https://${{{ATTACHMENT_BUCKET}}}.s3.${{AWS::Region}}.amazonaws.com"
QUARANTINE_DAYS: Final = 1


def attachment_resources(site_origin: str) -> Json:
    """The private photo bucket: encrypted, no public access, TLS only, uploads (quarantine/)
    expiring after a day in case no completion deletes them, POST from the site's origin only
    (CORS); and the functions' least-privilege access to its two prefixes."""
    bucket_arn = get_att(ATTACHMENT_BUCKET, "Arn")
    objects = [
        sub(f"${{{ATTACHMENT_BUCKET}.Arn}}/quarantine/*"),
        sub(f"${{{ATTACHMENT_BUCKET}.Arn}}/attachments/*"),
    ]
    return {
        ATTACHMENT_BUCKET: {
            "Type": "AWS::S3::Bucket",
            # Photos are personal data kept with their tickets (the table is retained too);
            # retention erases them, not a redeploy.
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "expire-quarantine",
                            "Status": "Enabled",
                            "Prefix": "quarantine/",
                            "ExpirationInDays": QUARANTINE_DAYS,
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                        }
                    ]
                },
                "CorsConfiguration": {
                    "CorsRules": [
                        {
                            "AllowedMethods": ["POST"],
                            "AllowedOrigins": [site_origin],
                            "AllowedHeaders": ["*"],
                            "MaxAge": 600,
                        }
                    ]
                },
            },
        },
        ATTACHMENT_BUCKET_POLICY: {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": ref(ATTACHMENT_BUCKET),
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "TlsOnly",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [bucket_arn, sub(f"${{{ATTACHMENT_BUCKET}.Arn}}/*")],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
        "AttachmentAccessPolicy": {
            "Type": "AWS::IAM::RolePolicy",
            "Properties": {
                "RoleName": ref(FUNCTION_ROLE),
                "PolicyName": "attachments",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            # Presigned forms and links carry the role's signature, so the role
                            # needs what they allow: put (upload), get (view), delete.
                            "Sid": "AttachmentObjects",
                            "Effect": "Allow",
                            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                            "Resource": objects,
                        },
                        {
                            "Sid": "AttachmentListing",
                            "Effect": "Allow",
                            "Action": ["s3:ListBucket"],
                            "Resource": bucket_arn,
                            "Condition": {"StringLike": {"s3:prefix": ["attachments/*"]}},
                        },
                    ],
                },
            },
        },
    }
