"""Local key files for the ``local`` stage: an envelope master key and a MAC secret.

Each file holds 32 random bytes, is created on first use with mode 0600 (never group- or
world-readable), and lives in the git-ignored data folder. Envelopes: a fresh 256-bit data key per
value encrypts it with AES-GCM; the master key wraps the data key with AES-GCM; the ticket number
is the additional authenticated data of both, so a token moved to another ticket does not decrypt.

Token format: ``v1.<b64 wrapped data key>.<b64 nonce + ciphertext>``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.crypto.port import DecryptionError

_KEY_BYTES = 32
_NONCE_BYTES = 12


def load_or_create_key_file(path: Path) -> bytes:
    """Read a 32-byte key file, creating it atomically with mode 0600 if it does not exist.

    The key is written to a private temporary file first and then hard-linked into place, so a
    concurrent reader sees either no file or the whole key, and two creators agree on one key.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(_KEY_BYTES))
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileExistsError):  # another process won: use theirs
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    data = path.read_bytes()
    if len(data) != _KEY_BYTES:
        raise ValueError(f"{path} must hold exactly {_KEY_BYTES} bytes")
    if path.stat().st_mode & 0o077:
        raise ValueError(f"{path} is readable by others: chmod 600 it")
    return data


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LocalEnvelopeCipher:
    """ContactCipher with a master key file; the key is read on first use."""

    def __init__(self, key_file: Path) -> None:
        self._key_file = key_file
        self._master: AESGCM | None = None
        self._lock = threading.Lock()

    def _aead(self) -> AESGCM:
        with self._lock:
            if self._master is None:
                self._master = AESGCM(load_or_create_key_file(self._key_file))
            return self._master

    def encrypt(self, plaintext: bytes, context: str) -> str:
        aad = context.encode("utf-8")
        data_key = AESGCM.generate_key(bit_length=256)
        key_nonce = os.urandom(_NONCE_BYTES)
        wrapped = key_nonce + self._aead().encrypt(key_nonce, data_key, aad)
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)
        return f"v1.{_b64(wrapped)}.{_b64(sealed)}"

    def decrypt(self, token: str, context: str) -> bytes:
        aad = context.encode("utf-8")
        try:
            version, wrapped_text, sealed_text = token.split(".")
            if version != "v1":
                raise DecryptionError(f"unknown envelope version {version!r}")
            wrapped, sealed = _unb64(wrapped_text), _unb64(sealed_text)
            data_key = self._aead().decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], aad)
            return AESGCM(data_key).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], aad)
        except (ValueError, InvalidTag) as e:
            raise DecryptionError("contact details cannot be decrypted") from e


class LocalKeyring:
    """Keyring whose secret is a local key file."""

    def __init__(self, secret_file: Path) -> None:
        self._secret_file = secret_file
        self._secret: bytes | None = None

    def mac(self, purpose: str, data: bytes) -> bytes:
        if self._secret is None:
            self._secret = load_or_create_key_file(self._secret_file)
        return hmac.new(self._secret, purpose.encode() + b"\x00" + data, hashlib.sha256).digest()
