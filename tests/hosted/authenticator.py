"""A software WebAuthn authenticator for the Flask test client: a real P-256 key signing
real authenticatorData and clientDataJSON, in the JSON shape browsers post
(PublicKeyCredential.toJSON()). Every field can be bent to test a refusal."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.encode_cbor import encode_cbor

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


@dataclass
class SoftAuthenticator:
    rp_id: str
    origin: str
    user_handle: bytes = b""
    sign_count: int = 0
    synced: bool = False
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: os.urandom(16))

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return encode_cbor({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def _flags(self, verified: bool) -> int:
        flags = UP | (UV if verified else 0)
        return flags | (BE | BS if self.synced else 0)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge,
                           "origin": origin or self.origin, "crossOrigin": False}).encode()

    def register(self, options: dict, *, origin: str | None = None,
                 rp_id: str | None = None, verified: bool = True) -> str:
        """The answer of navigator.credentials.create() to these options."""
        self.user_handle = self.user_handle or base64url_to_bytes(options["user"]["id"])
        attested = (b"\0" * 16 + struct.pack(">H", len(self.credential_id))
                    + self.credential_id + self._cose_key())
        auth_data = (hashlib.sha256((rp_id or self.rp_id).encode()).digest()
                     + bytes([self._flags(verified) | AT])
                     + struct.pack(">I", self.sign_count) + attested)
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps({
            "id": bytes_to_base64url(self.credential_id),
            "rawId": bytes_to_base64url(self.credential_id), "type": "public-key",
            "response": {"clientDataJSON": bytes_to_base64url(client_data),
                         "attestationObject": bytes_to_base64url(attestation),
                         "transports": ["internal"]},
            "clientExtensionResults": {}, "authenticatorAttachment": "platform"})

    def assert_(self, options: dict, *, origin: str | None = None, rp_id: str | None = None,
                verified: bool = True, sign_count: int | None = None) -> str:
        """The answer of navigator.credentials.get(); the counter moves on by one unless
        `sign_count` says what to report."""
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        auth_data = (hashlib.sha256((rp_id or self.rp_id).encode()).digest()
                     + bytes([self._flags(verified)]) + struct.pack(">I", self.sign_count))
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return json.dumps({
            "id": bytes_to_base64url(self.credential_id),
            "rawId": bytes_to_base64url(self.credential_id), "type": "public-key",
            "response": {"clientDataJSON": bytes_to_base64url(client_data),
                         "authenticatorData": bytes_to_base64url(auth_data),
                         "signature": bytes_to_base64url(signature),
                         "userHandle": bytes_to_base64url(self.user_handle)},
            "clientExtensionResults": {}, "authenticatorAttachment": "platform"})

