"""Contact envelopes and the keyed MAC on AWS KMS, used in the AWS stages instead of key files.

Envelopes (:class:`KmsEnvelopeCipher`): each value gets a fresh AES-256 data key from KMS
``GenerateDataKey``; the value is sealed locally with AES-GCM under that key, and only the data
key as KMS encrypted it is kept, inside the token. The ticket number is bound twice: as the KMS
encryption context ``{"ticket": <number>}`` (so KMS refuses to unwrap the data key for any other
ticket, and CloudTrail records which ticket was read) and as the AES-GCM additional data.

Token format: ``k1.<b64 KMS ciphertext blob of the data key>.<b64 nonce + ciphertext>``, distinct
from the local ``v1.`` tokens, so a token is never handed to the wrong cipher silently.

MAC (:class:`KmsKeyring`): an HMAC-SHA256 key held by KMS (``HMAC_256``, never exported). For
each purpose the keyring asks KMS once for ``GenerateMac("clearloop/keyring/v1" NUL purpose)``
and uses that 32-byte result as the purpose's HMAC key in memory. One KMS call per purpose per
Lambda container instead of one per MAC keeps a burst of submissions inside KMS's HMAC request
quota and costs nothing per request; the results are as stable as the KMS key itself.

Example::

    client_factory = lambda: make_kms_client("eu-west-1")
    cipher = KmsEnvelopeCipher("arn:aws:kms:eu-west-1:111122223333:key/...", client_factory)
    token = cipher.encrypt(b'{"email": "ann@example.org"}', "FB-3K7Q-M9X2")   # "k1.AQID..."
    cipher.decrypt(token, "FB-3K7Q-M9X2")   # b'{"email": "ann@example.org"}'
    cipher.decrypt(token, "FB-0000-0000")   # raises DecryptionError

    keyring = KmsKeyring("arn:aws:kms:eu-west-1:111122223333:key/...", client_factory)
    keyring.mac("ticket-key", b"...")       # 32 bytes, the same on every call and container
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.crypto.port import DecryptionError
from chalicelib.errors import StoreUnavailableError
from chalicelib.lazy import Lazy

if TYPE_CHECKING:
    from mypy_boto3_kms.client import KMSClient

ENVELOPE_VERSION: Final = "k1"
CONTEXT_KEY: Final = "ticket"
_NONCE_BYTES: Final = 12
_MAC_ALGORITHM: Final = "HMAC_SHA_256"
_KEYRING_LABEL: Final = b"clearloop/keyring/v1\x00"

# KMS answers that mean "this ciphertext does not open with this key and context": a tampered
# blob, another ticket's context, a blob from another key (IncorrectKey on AWS; AccessDenied on
# moto and for keys in other accounts), or a key that cannot decrypt at all.
_NOT_DECRYPTABLE: Final = frozenset(
    {
        "InvalidCiphertextException",
        "IncorrectKeyException",
        "AccessDeniedException",
        "InvalidKeyUsageException",
    }
)
# KMS answers that mean "try again later"; anything else (a disabled or missing key, a policy
# that denies us) is a deployment fault and propagates as the ClientError it is.
_TRANSIENT: Final = frozenset(
    {
        "ThrottlingException",
        "KMSInternalException",
        "DependencyTimeoutException",
        "KeyUnavailableException",
        "LimitExceededException",
    }
)


def make_kms_client(region: str) -> KMSClient:
    """A KMS client with short timeouts and three tries in all (inside API Gateway's 29 s)."""
    import boto3  # ~170 ms to import: paid only when a client is built (ARCHITECTURE rule 3)
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 3},
        connect_timeout=2,
        read_timeout=5,
    )
    return boto3.session.Session().client("kms", region_name=region, config=config)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextmanager
def _kms_unavailable_is_retryable() -> Iterator[None]:
    """Turn KMS throttling and network failures into the 503 the API maps to Retry-After."""
    try:
        yield
    except ClientError as e:
        if _error_code(e) in _TRANSIENT:
            raise StoreUnavailableError("The key service is busy; try again shortly.") from e
        raise
    except BotoCoreError as e:  # connection and read timeouts after botocore's retries
        raise StoreUnavailableError("The key service cannot be reached; try again.") from e


class KmsEnvelopeCipher:
    """ContactCipher with KMS data keys; ``client_factory`` is called on the first use only."""

    def __init__(self, key_id: str, client_factory: Callable[[], KMSClient]) -> None:
        self._key_id = key_id
        self._client = Lazy(client_factory)

    def encrypt(self, plaintext: bytes, context: str) -> str:
        with _kms_unavailable_is_retryable():
            response = self._client.get().generate_data_key(
                KeyId=self._key_id,
                KeySpec="AES_256",
                EncryptionContext={CONTEXT_KEY: context},
            )
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(response["Plaintext"]).encrypt(nonce, plaintext, context.encode("utf-8"))
        return f"{ENVELOPE_VERSION}.{_b64(response['CiphertextBlob'])}.{_b64(nonce + sealed)}"

    def decrypt(self, token: str, context: str) -> bytes:
        try:
            version, wrapped_text, sealed_text = token.split(".")
            wrapped, sealed = _unb64(wrapped_text), _unb64(sealed_text)
        except (ValueError, binascii.Error) as e:
            raise DecryptionError("contact details cannot be decrypted: malformed token") from e
        if version != ENVELOPE_VERSION:
            raise DecryptionError(f"unknown envelope version {version!r}")
        try:
            with _kms_unavailable_is_retryable():
                # KeyId pins the key: a blob made under any other key is refused, not unwrapped.
                response = self._client.get().decrypt(
                    CiphertextBlob=wrapped,
                    KeyId=self._key_id,
                    EncryptionContext={CONTEXT_KEY: context},
                )
        except ClientError as e:
            if _error_code(e) in _NOT_DECRYPTABLE:
                raise DecryptionError(
                    f"contact details cannot be decrypted ({_error_code(e)})"
                ) from e
            raise
        try:
            return AESGCM(response["Plaintext"]).decrypt(
                sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], context.encode("utf-8")
            )
        except (ValueError, InvalidTag) as e:
            raise DecryptionError("contact details cannot be decrypted") from e


class KmsKeyring:
    """Keyring whose secret is a KMS HMAC key; see the module docstring for the derivation."""

    def __init__(self, key_id: str, client_factory: Callable[[], KMSClient]) -> None:
        self._key_id = key_id
        self._client = Lazy(client_factory)
        self._purpose_keys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def _purpose_key(self, purpose: str) -> bytes:
        key = self._purpose_keys.get(purpose)
        if key is not None:
            return key
        with _kms_unavailable_is_retryable():
            response = self._client.get().generate_mac(
                KeyId=self._key_id,
                Message=_KEYRING_LABEL + purpose.encode("utf-8"),
                MacAlgorithm=_MAC_ALGORITHM,
            )
        key = response["Mac"]
        with self._lock:  # two threads may both ask KMS; the answers are equal, keep one
            return self._purpose_keys.setdefault(purpose, key)

    def mac(self, purpose: str, data: bytes) -> bytes:
        return hmac.new(self._purpose_key(purpose), data, hashlib.sha256).digest()
