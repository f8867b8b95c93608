import base64
import stat
from pathlib import Path

import pytest

from chalicelib.crypto.local import LocalEnvelopeCipher, LocalKeyring
from chalicelib.crypto.port import DecryptionError


def test_key_file_is_created_private(tmp_path: Path) -> None:
    cipher = LocalEnvelopeCipher(tmp_path / "keys" / "contact.key")
    token = cipher.encrypt(b"ann@example.com", "FB-00000-00000")
    mode = stat.S_IMODE((tmp_path / "keys" / "contact.key").stat().st_mode)
    assert mode == 0o600
    # Neither the token nor any of its decoded parts carries the address. (A 3-letter probe
    # would match random base64 now and then; the whole address cannot by chance.)
    assert b"ann@example.com" not in token.encode()
    for part in token.split("."):
        decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        assert b"ann@example.com" not in decoded
    assert cipher.decrypt(token, "FB-00000-00000") == b"ann@example.com"


def test_ciphertext_is_bound_to_its_ticket(tmp_path: Path) -> None:
    cipher = LocalEnvelopeCipher(tmp_path / "contact.key")
    token = cipher.encrypt(b"secret", "FB-AAAAA-AAAAA")
    with pytest.raises(DecryptionError):
        cipher.decrypt(token, "FB-BBBBB-BBBBB")


def test_other_key_or_tampering_fails(tmp_path: Path) -> None:
    token = LocalEnvelopeCipher(tmp_path / "a.key").encrypt(b"secret", "n")
    with pytest.raises(DecryptionError):
        LocalEnvelopeCipher(tmp_path / "b.key").decrypt(token, "n")
    cipher = LocalEnvelopeCipher(tmp_path / "a.key")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(DecryptionError):
        cipher.decrypt(tampered, "n")
    with pytest.raises(DecryptionError):
        cipher.decrypt("garbage", "n")


def test_key_file_is_reused_and_world_readable_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    a = LocalKeyring(path).mac("p", b"x")
    assert LocalKeyring(path).mac("p", b"x") == a
    assert LocalKeyring(path).mac("q", b"x") != a
    path.chmod(0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        LocalKeyring(path).mac("p", b"x")
