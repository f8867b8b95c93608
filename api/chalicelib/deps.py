"""Lazy getters for settings, stores, clients and use cases, built on first use and cached.

Nothing here runs at import time: importing ``app.py`` opens no database and creates no AWS
client (moto and ``chalice.test.Client`` rely on that, and it keeps Lambda cold starts short).
Tests call ``reset()`` and may ``override()`` any getter's value with a fake.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from chalicelib.config import Settings

# Everything else is imported by the getter that needs it, on first use: importing every use
# case (and the domain modules behind them) here was about half of ``import app``, paid by each
# Lambda cold start, although a request needs one use case and a schedule one or two.
if TYPE_CHECKING:
    from chalicelib.blobs.port import BlobStore
    from chalicelib.crypto.port import ContactCipher, Keyring
    from chalicelib.domain.categories import Taxonomy
    from chalicelib.domain.departments import Directory
    from chalicelib.domain.sla import Policy
    from chalicelib.domain.sla_state import Timers
    from chalicelib.domain.triage import Rules
    from chalicelib.notify.port import Notifier
    from chalicelib.observe.port import Metrics
    from chalicelib.publish.sinks import Sink
    from chalicelib.services.attachments import AttachmentService
    from chalicelib.services.lookup import LookupService
    from chalicelib.services.open311 import Open311KeyService, Open311Service
    from chalicelib.services.ports import Clock, RandomSource
    from chalicelib.services.publication import PublicationService
    from chalicelib.services.publishing import PublishService
    from chalicelib.services.rate_limits import RateLimitService
    from chalicelib.services.staff_access import StaffAccessService
    from chalicelib.services.submission import SubmissionService
    from chalicelib.services.submitter import SubmitterService
    from chalicelib.services.sweep import SweepService
    from chalicelib.services.ticket_work import TicketWorkService
    from chalicelib.store.port import TicketStore

T = TypeVar("T")
_cache: dict[str, Any] = {}
_lock = threading.RLock()


def _cached(name: str, build: Callable[[], T]) -> T:
    try:
        return cast(T, _cache[name])
    except KeyError:
        pass
    with _lock:
        if name not in _cache:
            _cache[name] = build()
        return cast(T, _cache[name])


def reset() -> None:
    """Forget every built object (tests call this between cases)."""
    with _lock:
        _cache.clear()


def override(**values: Any) -> None:
    """Replace getters' values, e.g. ``override(clock=FakeClock(...), store=fake)``."""
    with _lock:
        _cache.update(values)


def settings() -> Settings:
    return _cached("settings", Settings.from_env)


def clock() -> Clock:
    def build() -> Clock:
        from chalicelib.services.ports import SystemClock

        return SystemClock()

    return _cached("clock", build)


def random() -> RandomSource:
    def build() -> RandomSource:
        from chalicelib.services.ports import SystemRandom

        return SystemRandom()

    return _cached("random", build)


def _load_json(path: Any) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def taxonomy() -> Taxonomy:
    def build() -> Taxonomy:
        from chalicelib.domain.categories import load_taxonomy

        return load_taxonomy(_load_json(settings().categories_file))

    return _cached("taxonomy", build)


def rules() -> Rules:
    def build() -> Rules:
        from chalicelib.domain.triage import load_rules

        return load_rules(_load_json(settings().rules_file), taxonomy())

    return _cached("rules", build)


def policy() -> Policy:
    def build() -> Policy:
        from chalicelib.domain.sla import load_policy_file

        return load_policy_file(settings().policy_file)

    return _cached("policy", build)


def _build_adapter() -> TicketStore:
    s = settings()
    if s.store == "dynamodb":
        from chalicelib.store.dynamodb.store import DynamoTicketStore

        return DynamoTicketStore.from_settings(s)
    from chalicelib.store.sqlite import SqliteStore

    return SqliteStore(s.sqlite_path)


def _build_store() -> TicketStore:
    """The configured adapter behind ``RetryingStore``: a store that is briefly unavailable
    (throttling, a transient 5xx, SQLite's "database is locked") is retried within a short
    budget before the API answers 503 with Retry-After (``store/retry.py``)."""
    from chalicelib.store.retry import RetryingStore

    return RetryingStore(_build_adapter())


def store() -> TicketStore:
    return _cached("store", _build_store)


def _kms_client() -> Any:
    """One KMS client shared by the cipher and the keyring (AWS stages only)."""

    def build() -> Any:
        from chalicelib.crypto.kms import make_kms_client

        return make_kms_client(settings().region)

    return _cached("kms_client", build)


def _build_cipher() -> ContactCipher:
    s = settings()
    if s.kms_key_id:  # AWS stages: envelopes under the deployment's KMS key (infra/)
        from chalicelib.crypto.kms import KmsEnvelopeCipher

        return KmsEnvelopeCipher(s.kms_key_id, _kms_client)
    from chalicelib.crypto.local import LocalEnvelopeCipher

    return LocalEnvelopeCipher(s.contact_key_file)


def cipher() -> ContactCipher:
    return _cached("cipher", _build_cipher)


def _build_keyring() -> Keyring:
    s = settings()
    if s.mac_key_id:  # AWS stages: the deployment's KMS HMAC key (infra/)
        from chalicelib.crypto.kms import KmsKeyring

        return KmsKeyring(s.mac_key_id, _kms_client)
    from chalicelib.crypto.local import LocalKeyring

    return LocalKeyring(s.secret_file)


def keyring() -> Keyring:
    return _cached("keyring", _build_keyring)


def directory() -> Directory:
    def build() -> Directory:
        from chalicelib.domain.departments import load_directory

        required = {c.department for c in taxonomy().by_code.values()}
        required |= {r.department for r in rules().routes}
        return load_directory(_load_json(settings().departments_file), required)

    return _cached("directory", build)


def timers() -> Timers:
    def build() -> Timers:
        from chalicelib.domain.sla_state import Timers

        s = settings()
        return Timers(
            autoclose_after=timedelta(days=s.autoclose_days),
            contact_retention=timedelta(days=s.contact_retention_days),
            attachment_retention=timedelta(days=s.attachment_retention_days),
        )

    return _cached("timers", build)


def _build_notifier() -> Notifier:
    s = settings()
    if s.notifier == "ses":  # AWS stages: mail through SES (a missing sender fails each send)
        from chalicelib.notify.ses import SesNotifier, make_ses_client

        return SesNotifier(s.ses_sender, lambda: make_ses_client(s.region))
    from chalicelib.notify.outbox import OutboxNotifier

    return OutboxNotifier(s.outbox_file)


def notifier() -> Notifier:
    return _cached("notifier", _build_notifier)


def staff_access_service() -> StaffAccessService:
    def build() -> StaffAccessService:
        from chalicelib.services.staff_access import StaffAccessService

        return StaffAccessService(store(), clock(), random())

    return _cached("staff_access", build)


def ticket_work_service() -> TicketWorkService:
    def build() -> TicketWorkService:
        from chalicelib.services.ticket_work import TicketWorkService

        return TicketWorkService(
            store=store(),
            cipher=cipher(),
            keyring=keyring(),
            clock=clock(),
            taxonomy=taxonomy(),
            policy=policy(),
            number_prefix=settings().number_prefix,
            timers=timers(),
            departments=directory().ids,
            notifier=notifier(),
            site_origin=settings().site_origin,
            attachment_links=lambda t: attachment_service().links(t),
        )

    return _cached("ticket_work", build)


def submitter_service() -> SubmitterService:
    def build() -> SubmitterService:
        from chalicelib.services.submitter import SubmitterService

        return SubmitterService(store(), lookup_service(), clock(), policy(), timers())

    return _cached("submitter", build)


def sweep_service() -> SweepService:
    def build() -> SweepService:
        from chalicelib.services.sweep import SweepService

        return SweepService(
            store(),
            clock(),
            policy(),
            timers(),
            notifier(),
            directory(),
            cipher=cipher(),
            metrics=metrics(),
            purge_attachments=lambda t: attachment_service().purge_blobs(t),
        )

    return _cached("sweep", build)


def submission_service() -> SubmissionService:
    def build() -> SubmissionService:
        from chalicelib.services.submission import SubmissionService

        s = settings()
        return SubmissionService(
            store=store(),
            cipher=cipher(),
            keyring=keyring(),
            clock=clock(),
            random=random(),
            taxonomy=taxonomy(),
            rules=rules(),
            policy=policy(),
            number_prefix=s.number_prefix,
            idempotency_ttl=timedelta(hours=s.idempotency_hours),
            timers=timers(),
        )

    return _cached("submission_service", build)


def publication_service() -> PublicationService:
    def build() -> PublicationService:
        from chalicelib.services.publication import PublicationService

        return PublicationService(
            store(), cipher(), clock(), policy(), timers(), settings().number_prefix, random()
        )

    return _cached("publication_service", build)


def site_sink() -> Sink:
    """Where the publisher writes: the site bucket when one is configured (AWS), else the
    built site folder (``clearloop run``)."""

    def build() -> Sink:
        from chalicelib.publish.sinks import DirectorySink, S3Sink, make_s3_client

        s = settings()
        if s.site_bucket:
            return S3Sink(s.site_bucket, s.site_prefix, lambda: make_s3_client(s.region))
        return DirectorySink(s.publish_dir)

    return _cached("site_sink", build)


def publish_service() -> PublishService:
    def build() -> PublishService:
        from chalicelib.services.publishing import PublishService

        s = settings()
        return PublishService(
            store(),
            clock(),
            policy(),
            taxonomy(),
            directory(),
            site_sink(),
            site_origin=s.site_origin,
            months=s.publish_months,
            blobs=blobs,
        )

    return _cached("publish_service", build)


def lookup_service() -> LookupService:
    def build() -> LookupService:
        from chalicelib.services.lookup import LookupService

        return LookupService(
            store(), settings().number_prefix, lambda t: attachment_service().links(t)
        )

    return _cached("lookup_service", build)


def metrics() -> Metrics:
    """Where counts for alarms go: CloudWatch on the AWS stages (client built on the first
    count), ``<data dir>/metrics.jsonl`` on the local stage."""

    def build() -> Metrics:
        s = settings()
        if s.stage == "local":
            from chalicelib.observe.local import FileMetrics

            return FileMetrics(s.data_dir / "metrics.jsonl", s.stage)
        from chalicelib.observe.cloudwatch import CloudWatchMetrics, make_cloudwatch_client

        return CloudWatchMetrics(s.stage, lambda: make_cloudwatch_client(s.region))

    return _cached("metrics", build)


def blobs() -> BlobStore:
    """The private store of photo attachments: the S3 bucket when one is configured (AWS),
    else a folder in the data folder (``local`` stage)."""

    def build() -> BlobStore:
        s = settings()
        if s.attachment_bucket:
            from chalicelib.blobs.s3 import S3BlobStore, make_blob_client

            return S3BlobStore(
                s.attachment_bucket, lambda: make_blob_client(s.region), lambda: clock().now()
            )
        from chalicelib.blobs.local import LocalBlobStore

        return LocalBlobStore(s.attachment_dir, keyring())

    return _cached("blobs", build)


def attachment_service() -> AttachmentService:
    def build() -> AttachmentService:
        from chalicelib.domain.attachments import Limits
        from chalicelib.services.attachments import AttachmentService

        s = settings()
        return AttachmentService(
            store=store(),
            blobs=blobs,
            lookup=lookup_service(),
            clock=clock(),
            random=random(),
            policy=policy(),
            timers=timers(),
            limits=Limits(s.attachment_types, s.attachment_max_bytes, s.attachment_max_count),
        )

    return _cached("attachment_service", build)


def open311_key_service() -> Open311KeyService:
    def build() -> Open311KeyService:
        from chalicelib.services.open311 import Open311KeyService

        return Open311KeyService(store(), clock(), random())

    return _cached("open311_keys", build)


def open311_service() -> Open311Service:
    def build() -> Open311Service:
        from chalicelib.services.open311 import Open311Service

        return Open311Service(
            store=store(),
            submission=submission_service(),
            keys=open311_key_service(),
            clock=clock(),
            taxonomy=taxonomy(),
            directory=directory(),
            number_prefix=settings().number_prefix,
            limits=rate_limit_service(),
        )

    return _cached("open311_service", build)


def rate_limit_service() -> RateLimitService:
    def build() -> RateLimitService:
        from chalicelib.services.rate_limits import RateLimitService

        s = settings()
        return RateLimitService(
            store(), keyring(), clock(), s.rate_limits, enabled=s.rate_limits_enabled
        )

    return _cached("rate_limits", build)
