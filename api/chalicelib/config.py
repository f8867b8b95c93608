"""Settings, read once from the environment. Nothing else in the project reads ``os.environ``.

| variable | default | meaning |
| --- | --- | --- |
| CLEARLOOP_STAGE | local | ``local``, ``dev`` or ``prod`` |
| CLEARLOOP_STORE | sqlite | ``sqlite`` (embedded) or ``dynamodb`` |
| CLEARLOOP_DATA_DIR | .local | folder for the SQLite file, local keys and the outbox |
| CLEARLOOP_SQLITE_PATH | <data dir>/clearloop.db | the SQLite database file |
| CLEARLOOP_TABLE | clearloop | DynamoDB table name |
| CLEARLOOP_DYNAMODB_ENDPOINT | (AWS) | endpoint URL, e.g. moto's server |
| CLEARLOOP_CONTACT_KEY_FILE | <data dir>/contact.key | local envelope master key (created 0600) |
| CLEARLOOP_SECRET_FILE | <data dir>/secret.key | local server secret (created 0600) |
| CLEARLOOP_KMS_KEY_ID | (none) | KMS key for contact envelopes in AWS stages |
| CLEARLOOP_MAC_KEY_ID | (none) | KMS HMAC key for the keyed MAC in AWS stages |
| CLEARLOOP_NUMBER_PREFIX | FB | ticket number prefix |
| CLEARLOOP_SITE_ORIGIN | http://127.0.0.1:8001 | the only origin allowed by CORS |
| CLEARLOOP_POLICY_FILE | (bundled) | SLA policy JSON |
| CLEARLOOP_CATEGORIES_FILE | (bundled) | category taxonomy JSON |
| CLEARLOOP_RULES_FILE | (bundled) | keyword and routing rules JSON |
| CLEARLOOP_DEPARTMENTS_FILE | (bundled) | departments and their notification addresses |
| CLEARLOOP_IDEMPOTENCY_HOURS | 24 | how long an Idempotency-Key is remembered |
| CLEARLOOP_AUTOCLOSE_DAYS | 14 | a resolved ticket nobody reopens closes after this many days |
| CLEARLOOP_CONTACT_RETENTION_DAYS | 365 | contact details are erased this long after closing |
| CLEARLOOP_OUTBOX_FILE | <data dir>/outbox.jsonl | where the local notifier writes messages |
| CLEARLOOP_NOTIFIER | outbox (local), ses (dev, prod) | ``outbox`` (a local file) or ``ses`` |
| CLEARLOOP_SES_SENDER | (none) | From address of SES messages (a verified identity) |
| CLEARLOOP_SITE_BUCKET | (none) | S3 bucket the publisher writes the public pages to (AWS) |
| CLEARLOOP_SITE_PREFIX | (none) | key prefix of the site inside that bucket |
| CLEARLOOP_PUBLISH_DIR | <project>/build/site | the built site the publisher writes into (local) |
| CLEARLOOP_PUBLISH_MONTHS | 12 | months of statistics and board items the publisher shows |
| CLEARLOOP_ATTACHMENT_BUCKET | (none) | private S3 bucket for photos (AWS); else a folder |
| CLEARLOOP_ATTACHMENT_DIR | <data dir>/blobs | where the local stage keeps attachments |
| CLEARLOOP_ATTACHMENT_MAX_MB | 5 | largest photo, in MiB |
| CLEARLOOP_ATTACHMENT_MAX_COUNT | 3 | photos per ticket |
| CLEARLOOP_ATTACHMENT_TYPES | image/jpeg,image/png,image/webp | accepted photo types |
| CLEARLOOP_ATTACHMENT_RETENTION_DAYS | = contact | photos erased this long after closing |
| CLEARLOOP_RATE_SUBMIT | 20/1h | submissions per client address (``<count>/<window>``) |
| CLEARLOOP_RATE_LOOKUP | 60/1m | ticket lookups per client address |
| CLEARLOOP_RATE_MESSAGE | 30/1h | messages and ratings per client address |
| CLEARLOOP_RATE_KEY_FAILURE | 10/1h | wrong ticket keys before keyed requests are refused |
| CLEARLOOP_RATE_OPEN311_SUBMIT | 20/1h | Open311 service requests per API key |
| CLEARLOOP_RATE_OPEN311_READ | 120/1m | Open311 reads per client address |
| CLEARLOOP_RATE_LIMITS | on | ``off`` turns per-client limits off (local stage only: load tests) |
| AWS_REGION / AWS_DEFAULT_REGION | us-east-1 | region for AWS clients |
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalicelib.domain.rate_limits import (
    ACTIONS,
    DEFAULT_LIMITS,
    Limit,
    RateLimitConfigError,
    parse_limit,
)

STAGES = ("local", "dev", "prod")
STORES = ("sqlite", "dynamodb")
NOTIFIERS = ("outbox", "ses")
_BUNDLED = Path(__file__).resolve().parent / "data"
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


class SettingsError(ValueError):
    """A setting has an invalid value; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    stage: str
    store: str
    data_dir: Path
    sqlite_path: Path
    table_name: str
    dynamodb_endpoint: str | None
    region: str
    contact_key_file: Path
    secret_file: Path
    kms_key_id: str | None
    number_prefix: str
    site_origin: str
    policy_file: Path
    categories_file: Path
    rules_file: Path
    idempotency_hours: int
    departments_file: Path = _BUNDLED / "departments.json"
    autoclose_days: int = 14
    contact_retention_days: int = 365
    outbox_file: Path = Path(".local/outbox.jsonl")
    mac_key_id: str | None = None
    notifier: str = "outbox"
    ses_sender: str | None = None
    site_bucket: str | None = None
    site_prefix: str = ""
    publish_dir: Path = _PROJECT_ROOT / "build" / "site"
    publish_months: int = 12
    attachment_bucket: str | None = None
    attachment_dir: Path = Path(".local/blobs")
    attachment_max_bytes: int = 5 * 1024 * 1024
    attachment_max_count: int = 3
    attachment_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp")
    attachment_retention_days: int = 365
    rate_limits: Mapping[str, Limit] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    rate_limits_enabled: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: the process environment)."""
        e = dict(os.environ if env is None else env)

        def get(name: str, default: str) -> str:
            value = e.get(name, "").strip()
            return value or default

        stage = get("CLEARLOOP_STAGE", "local")
        if stage not in STAGES:
            raise SettingsError(f"CLEARLOOP_STAGE must be one of {', '.join(STAGES)}")
        store = get("CLEARLOOP_STORE", "sqlite")
        if store not in STORES:
            raise SettingsError(f"CLEARLOOP_STORE must be one of {', '.join(STORES)}")
        data_dir = Path(get("CLEARLOOP_DATA_DIR", ".local")).expanduser().resolve()
        prefix = get("CLEARLOOP_NUMBER_PREFIX", "FB").upper()
        if not (1 <= len(prefix) <= 6 and prefix.isascii() and prefix.isalpha()):
            raise SettingsError("CLEARLOOP_NUMBER_PREFIX must be 1 to 6 ASCII letters")

        def whole(name: str, default: int, minimum: int) -> int:
            try:
                value = int(get(name, str(default)))
            except ValueError:
                raise SettingsError(f"{name} must be a whole number") from None
            if value < minimum:
                raise SettingsError(f"{name} must be at least {minimum}")
            return value

        idem_hours = whole("CLEARLOOP_IDEMPOTENCY_HOURS", 24, 1)
        # Nothing leaves the machine on the local stage unless asked for; AWS stages send mail.
        notifier = get("CLEARLOOP_NOTIFIER", "outbox" if stage == "local" else "ses")
        if notifier not in NOTIFIERS:
            raise SettingsError(f"CLEARLOOP_NOTIFIER must be one of {', '.join(NOTIFIERS)}")
        ses_sender = get("CLEARLOOP_SES_SENDER", "") or None
        if ses_sender is not None and (
            "@" not in ses_sender or any(ord(c) < 32 or ord(c) == 127 for c in ses_sender)
        ):
            raise SettingsError("CLEARLOOP_SES_SENDER must be an e-mail address on one line")
        rate_limits = {}
        for action in ACTIONS:
            name = f"CLEARLOOP_RATE_{action.upper()}"
            try:
                rate_limits[action] = parse_limit(get(name, str(DEFAULT_LIMITS[action])))
            except RateLimitConfigError as error:
                raise SettingsError(f"{name}: {error}") from None
        rate_switch = get("CLEARLOOP_RATE_LIMITS", "on").lower()
        if rate_switch not in ("on", "off"):
            raise SettingsError("CLEARLOOP_RATE_LIMITS must be on or off")
        if rate_switch == "off" and stage != "local":
            raise SettingsError("CLEARLOOP_RATE_LIMITS=off is for the local stage only")
        return cls(
            stage=stage,
            store=store,
            data_dir=data_dir,
            sqlite_path=Path(get("CLEARLOOP_SQLITE_PATH", str(data_dir / "clearloop.db"))),
            table_name=get("CLEARLOOP_TABLE", "clearloop"),
            dynamodb_endpoint=e.get("CLEARLOOP_DYNAMODB_ENDPOINT") or None,
            region=get("AWS_REGION", get("AWS_DEFAULT_REGION", "us-east-1")),
            contact_key_file=Path(get("CLEARLOOP_CONTACT_KEY_FILE", str(data_dir / "contact.key"))),
            secret_file=Path(get("CLEARLOOP_SECRET_FILE", str(data_dir / "secret.key"))),
            kms_key_id=e.get("CLEARLOOP_KMS_KEY_ID") or None,
            number_prefix=prefix,
            site_origin=get("CLEARLOOP_SITE_ORIGIN", "http://127.0.0.1:8001"),
            policy_file=Path(get("CLEARLOOP_POLICY_FILE", str(_BUNDLED / "sla_policy.json"))),
            categories_file=Path(
                get("CLEARLOOP_CATEGORIES_FILE", str(_BUNDLED / "categories.json"))
            ),
            rules_file=Path(get("CLEARLOOP_RULES_FILE", str(_BUNDLED / "rules.json"))),
            idempotency_hours=idem_hours,
            departments_file=Path(
                get("CLEARLOOP_DEPARTMENTS_FILE", str(_BUNDLED / "departments.json"))
            ),
            autoclose_days=whole("CLEARLOOP_AUTOCLOSE_DAYS", 14, 1),
            contact_retention_days=whole("CLEARLOOP_CONTACT_RETENTION_DAYS", 365, 1),
            outbox_file=Path(get("CLEARLOOP_OUTBOX_FILE", str(data_dir / "outbox.jsonl"))),
            mac_key_id=e.get("CLEARLOOP_MAC_KEY_ID") or None,
            notifier=notifier,
            ses_sender=ses_sender,
            site_bucket=e.get("CLEARLOOP_SITE_BUCKET") or None,
            site_prefix=get("CLEARLOOP_SITE_PREFIX", "").strip("/"),
            publish_dir=Path(
                get("CLEARLOOP_PUBLISH_DIR", str(_PROJECT_ROOT / "build" / "site"))
            ).expanduser(),
            publish_months=whole("CLEARLOOP_PUBLISH_MONTHS", 12, 1),
            **_attachment_settings(e, data_dir, get, whole),
            rate_limits=rate_limits,
            rate_limits_enabled=rate_switch == "on",
        )


def _attachment_settings(
    e: Mapping[str, str],
    data_dir: Path,
    get: Callable[[str, str], str],
    whole: Callable[[str, int, int], int],
) -> dict[str, Any]:
    """The photo-attachment settings (issue #12)."""
    accepted = ("image/jpeg", "image/png", "image/webp")
    types = tuple(
        t.strip().lower()
        for t in get("CLEARLOOP_ATTACHMENT_TYPES", ",".join(accepted)).split(",")
        if t.strip()
    )
    if not types or any(t not in accepted for t in types):
        raise SettingsError(f"CLEARLOOP_ATTACHMENT_TYPES must name some of {', '.join(accepted)}")
    max_mb = whole("CLEARLOOP_ATTACHMENT_MAX_MB", 5, 1)
    if max_mb > 5 * 1024:  # an S3 POST uploads at most 5 GiB
        raise SettingsError("CLEARLOOP_ATTACHMENT_MAX_MB must be at most 5120")
    contact_days = whole("CLEARLOOP_CONTACT_RETENTION_DAYS", 365, 1)
    return {
        "attachment_bucket": e.get("CLEARLOOP_ATTACHMENT_BUCKET") or None,
        "attachment_dir": Path(get("CLEARLOOP_ATTACHMENT_DIR", str(data_dir / "blobs"))),
        "attachment_max_bytes": max_mb * 1024 * 1024,
        "attachment_max_count": whole("CLEARLOOP_ATTACHMENT_MAX_COUNT", 3, 1),
        "attachment_types": types,
        "attachment_retention_days": whole("CLEARLOOP_ATTACHMENT_RETENTION_DAYS", contact_days, 1),
    }
