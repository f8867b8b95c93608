"""Interfaces for the two secrets the services use: contact envelopes and a keyed MAC."""

from __future__ import annotations

from typing import Protocol


class ContactCipher(Protocol):
    """Envelope encryption of contact details, bound to the ticket number (its context)."""

    def encrypt(self, plaintext: bytes, context: str) -> str:
        """Return an opaque text token; decrypting needs the same ``context``."""
        ...

    def decrypt(self, token: str, context: str) -> bytes:
        """Return the plaintext, or raise DecryptionError (wrong context, tampered, wrong key)."""
        ...


class Keyring(Protocol):
    """A keyed MAC with a server secret, for values that must be stable yet unguessable."""

    def mac(self, purpose: str, data: bytes) -> bytes:
        """HMAC-SHA256 of ``data`` under the server secret, separated by ``purpose``."""
        ...


class DecryptionError(Exception):
    """The token cannot be decrypted with this key and context."""
