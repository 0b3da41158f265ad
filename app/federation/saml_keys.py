"""The key pair of Frontdesk's SAML service provider: it signs our AuthnRequests and its
certificate is published in the SP metadata. Configured as PEM files, or generated once
(RSA 2048, self-signed, ten years) into the instance folder and kept there."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from app.config import ConfigError, Settings

VALID_DAYS = 3650


def sp_key_pair(settings: Settings) -> tuple[str, str]:
    """(key path, certificate path) for pysaml2, both readable."""
    if settings.saml_sp_key_path or settings.saml_sp_cert_path:
        paths = (settings.saml_sp_key_path, settings.saml_sp_cert_path)
        if not all(paths) or not all(Path(p).is_file() for p in paths):
            raise ConfigError("FRONTDESK_SAML_SP_KEY_PATH and SAML_SP_CERT_PATH must both name "
                              "readable PEM files")
        return paths
    folder = Path(settings.instance_path) / "saml"
    key_path, cert_path = folder / "sp-key.pem", folder / "sp-cert.pem"
    if not (key_path.is_file() and cert_path.is_file()):
        folder.mkdir(parents=True, exist_ok=True)
        key, cert = generate(urlsplit(settings.issuer).hostname or "frontdesk")
        _write(key_path, key, 0o600)
        _write(cert_path, cert, 0o644)
    return str(key_path), str(cert_path)


def generate(common_name: str) -> tuple[bytes, bytes]:
    """A new RSA key and its self-signed certificate, both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes, mode: int) -> None:
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temp, path)
