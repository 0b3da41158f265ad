"""Encryption at rest (AES-256-GCM, key per purpose derived from the secret key)."""

from __future__ import annotations

import base64

import pytest

from app.secretbox import SecretBoxError, seal, unseal

KEY = "k" * 48


def test_round_trip():
    sealed = seal(KEY, "totp", "JBSWY3DPEHPK3PXP")
    assert sealed.startswith("v1.")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert unseal(KEY, "totp", sealed) == "JBSWY3DPEHPK3PXP"


def test_every_seal_is_different():
    assert seal(KEY, "totp", "same") != seal(KEY, "totp", "same")


def test_unicode_and_empty_plaintext():
    for text in ("", "ключ 🔑", "x" * 10_000):
        assert unseal(KEY, "p", seal(KEY, "p", text)) == text


def test_wrong_secret_key_fails():
    with pytest.raises(SecretBoxError):
        unseal("other" * 10, "totp", seal(KEY, "totp", "s"))


def test_wrong_purpose_fails():
    """A TOTP secret cannot be opened as a signing key and vice versa."""
    with pytest.raises(SecretBoxError):
        unseal(KEY, "signing-key", seal(KEY, "totp", "s"))


def test_tampering_is_detected():
    sealed = seal(KEY, "totp", "secret")
    raw = bytearray(base64.urlsafe_b64decode(sealed[3:]))
    raw[-1] ^= 1
    with pytest.raises(SecretBoxError):
        unseal(KEY, "totp", "v1." + base64.urlsafe_b64encode(bytes(raw)).decode())


@pytest.mark.parametrize("garbage", ["", "v2.abc", "v1.", "v1.%%%", "v1.AAAA", "no-dot"])
def test_malformed_values_fail_cleanly(garbage):
    with pytest.raises(SecretBoxError):
        unseal(KEY, "totp", garbage)
