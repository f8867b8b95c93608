"""The KMS envelope cipher and keyring on moto's KMS (GenerateDataKey, Decrypt, GenerateMac).

moto implements all three calls, including encryption-context checks on Decrypt and HMAC keys
(moto/kms/models.py: generate_data_key, decrypt, generate_mac), so the real code path runs here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from chalice.test import Client
from moto import mock_aws

from app import app
from chalicelib import deps
from chalicelib.config import Settings
from chalicelib.crypto.kms import KmsEnvelopeCipher, KmsKeyring, make_kms_client
from chalicelib.crypto.local import LocalEnvelopeCipher
from chalicelib.crypto.port import DecryptionError
from chalicelib.errors import StoreUnavailableError
from tests.support.stores import make_store

REGION = "us-east-1"


class CountingClient:
    """The real (moto) KMS client, counting the calls made through it."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.client, name)


@pytest.fixture
def kms() -> Iterator[Any]:
    with mock_aws():
        yield make_kms_client(REGION)


@pytest.fixture
def contact_key(kms: Any) -> str:
    return str(kms.create_key(Description="contact")["KeyMetadata"]["Arn"])


@pytest.fixture
def mac_key(kms: Any) -> str:
    metadata = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    return str(metadata["Arn"])


def flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


def test_contact_details_round_trip_in_a_versioned_token(kms: Any, contact_key: str) -> None:
    cipher = KmsEnvelopeCipher(contact_key, lambda: kms)
    secret = "ann@example.org, +44 20 7946 0000, 王芳".encode()
    token = cipher.encrypt(secret, "FB-3K7Q-M9X2")
    assert token.startswith("k1.")
    assert len(token.split(".")) == 3
    assert b"ann@example.org" not in token.encode()  # (a short probe would match base64 by chance)
    assert "王芳" not in token
    assert cipher.decrypt(token, "FB-3K7Q-M9X2") == secret
    # A fresh data key and nonce each time: equal plaintexts give unrelated tokens.
    assert cipher.encrypt(secret, "FB-3K7Q-M9X2") != token


def test_a_ticket_cannot_open_another_tickets_contact(kms: Any, contact_key: str) -> None:
    cipher = KmsEnvelopeCipher(contact_key, lambda: kms)
    token = cipher.encrypt(b"ann@example.org", "FB-AAAA-AAAA")
    with pytest.raises(DecryptionError):
        cipher.decrypt(token, "FB-BBBB-BBBB")


def test_a_data_key_moved_to_another_ticket_fails_the_aead_too(kms: Any, contact_key: str) -> None:
    # Even with KMS unwrapping for ticket B (its own data key), A's sealed part stays shut:
    # the ticket number is also the AES-GCM additional data.
    cipher = KmsEnvelopeCipher(contact_key, lambda: kms)
    token_a = cipher.encrypt(b"ann@example.org", "FB-AAAA-AAAA")
    token_b = cipher.encrypt(b"bob@example.org", "FB-BBBB-BBBB")
    spliced = ".".join([*token_b.split(".")[:2], token_a.split(".")[2]])
    with pytest.raises(DecryptionError):
        cipher.decrypt(spliced, "FB-BBBB-BBBB")


def test_tampered_tokens_fail(kms: Any, contact_key: str) -> None:
    cipher = KmsEnvelopeCipher(contact_key, lambda: kms)
    token = cipher.encrypt(b"ann@example.org", "FB-3K7Q-M9X2")
    version, wrapped, sealed = token.split(".")
    for bad in (
        f"{version}.{flip(wrapped, len(wrapped) // 2)}.{sealed}",  # the KMS blob
        f"{version}.{wrapped}.{flip(sealed, len(sealed) - 3)}",  # the ciphertext or tag
        f"{version}.{wrapped}.{flip(sealed, 2)}",  # the nonce
        f"{version}.{wrapped}",
        "garbage",
        f"k1.{wrapped}.!!!",
    ):
        with pytest.raises(DecryptionError):
            cipher.decrypt(bad, "FB-3K7Q-M9X2")


def test_another_key_cannot_open_the_token(kms: Any, contact_key: str) -> None:
    other = kms.create_key(Description="another stage")["KeyMetadata"]["Arn"]
    token = KmsEnvelopeCipher(contact_key, lambda: kms).encrypt(b"ann@example.org", "FB-1")
    with pytest.raises(DecryptionError):
        KmsEnvelopeCipher(other, lambda: kms).decrypt(token, "FB-1")


def test_local_and_kms_tokens_are_not_confused(kms: Any, contact_key: str, tmp_path: Path) -> None:
    local = LocalEnvelopeCipher(tmp_path / "contact.key")
    remote = KmsEnvelopeCipher(contact_key, lambda: kms)
    with pytest.raises(DecryptionError, match="version"):
        remote.decrypt(local.encrypt(b"x", "FB-1"), "FB-1")
    with pytest.raises(DecryptionError):
        local.decrypt(remote.encrypt(b"x", "FB-1"), "FB-1")


def test_the_client_is_built_lazily_and_once(kms: Any, contact_key: str) -> None:
    built: list[CountingClient] = []

    def factory() -> Any:
        built.append(CountingClient(kms))
        return built[-1]

    cipher = KmsEnvelopeCipher(contact_key, factory)
    assert built == []
    cipher.decrypt(cipher.encrypt(b"x", "FB-1"), "FB-1")
    assert len(built) == 1
    assert built[0].calls == ["generate_data_key", "decrypt"]


def test_keyring_mac_is_stable_and_separated_by_purpose_and_data(kms: Any, mac_key: str) -> None:
    keyring = KmsKeyring(mac_key, lambda: kms)
    first = keyring.mac("ticket-key", b"abc")
    assert len(first) == 32
    assert keyring.mac("ticket-key", b"abc") == first
    # Another container (a new keyring, a new client) derives the same value from KMS.
    assert KmsKeyring(mac_key, lambda: make_kms_client(REGION)).mac("ticket-key", b"abc") == first
    assert keyring.mac("client-ip", b"abc") != first
    assert keyring.mac("ticket-key", b"abd") != first
    # purpose and data are not simply concatenated: ("a", "bc") is not ("ab", "c").
    assert keyring.mac("a", b"bc") != keyring.mac("ab", b"c")


def test_keyring_depends_on_the_key(kms: Any, mac_key: str) -> None:
    other = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    a = KmsKeyring(mac_key, lambda: kms).mac("ticket-key", b"abc")
    assert KmsKeyring(other["Arn"], lambda: kms).mac("ticket-key", b"abc") != a


def test_keyring_asks_kms_once_per_purpose(kms: Any, mac_key: str) -> None:
    client = CountingClient(kms)
    keyring = KmsKeyring(mac_key, lambda: client)
    for n in range(5):
        keyring.mac("ticket-key", str(n).encode())
        keyring.mac("client-ip", str(n).encode())
    assert client.calls == ["generate_mac", "generate_mac"]


def test_keyring_on_a_key_that_cannot_mac_is_a_deployment_error(kms: Any, contact_key: str) -> None:
    with pytest.raises(ClientError, match="InvalidKeyUsage"):
        KmsKeyring(contact_key, lambda: kms).mac("ticket-key", b"abc")


class ThrottledKms:
    """A KMS client that is always throttled (moto never throttles)."""

    def _throttled(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "Op")

    generate_data_key = decrypt = generate_mac = _throttled


def test_throttling_is_a_retryable_unavailability() -> None:
    cipher = KmsEnvelopeCipher("key", ThrottledKms)
    with pytest.raises(StoreUnavailableError):
        cipher.encrypt(b"x", "FB-1")
    with pytest.raises(StoreUnavailableError):
        cipher.decrypt("k1.AAAA.AAAA", "FB-1")
    with pytest.raises(StoreUnavailableError):
        KmsKeyring("key", ThrottledKms).mac("p", b"x")


def test_deps_choose_kms_when_the_deployment_names_keys(
    kms: Any, contact_key: str, mac_key: str, tmp_path: Path
) -> None:
    """Through the API: a submission's contact is sealed under KMS, its key checked by KMS MAC."""
    env = {
        "CLEARLOOP_STAGE": "prod",
        "CLEARLOOP_DATA_DIR": str(tmp_path),
        "CLEARLOOP_KMS_KEY_ID": contact_key,
        "CLEARLOOP_MAC_KEY_ID": mac_key,
        "AWS_DEFAULT_REGION": REGION,
    }
    deps.reset()
    try:
        with make_store("sqlite", tmp_path, None) as store:
            deps.override(settings=Settings.from_env(env), store=store)
            assert isinstance(deps.cipher(), KmsEnvelopeCipher)
            assert isinstance(deps.keyring(), KmsKeyring)
            with Client(app, stage_name="local") as client:
                created = client.http.post(
                    "/v1/feedback",
                    headers={"Content-Type": "application/json"},
                    body=json.dumps(
                        {
                            "type": "complaint",
                            "category": "service",
                            "subject": "Broken lift",
                            "description": "The lift at the library is broken again.",
                            "contact": {"email": "ann@example.org"},
                        }
                    ),
                )
                assert created.status_code == 201, created.body
                body = json.loads(created.body)
                found = client.http.get(
                    f"/v1/tickets/{body['number']}", headers={"X-Ticket-Key": body["key"]}
                )
                assert found.status_code == 200, found.body
                assert "timeline" in json.loads(found.body)
            view = store.get_ticket(body["number"])
            assert view is not None
            token = view.ticket.contact_ciphertext
            assert token is not None
            assert token.startswith("k1.")
            opened = KmsEnvelopeCipher(contact_key, lambda: kms).decrypt(token, body["number"])
            assert b"ann@example.org" in opened
    finally:
        deps.reset()
    assert not (tmp_path / "contact.key").exists()  # no local key file in an AWS stage
