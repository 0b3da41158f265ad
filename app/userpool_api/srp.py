"""The server side of the pool's SRP-6a variant (RFC 5054's 3072-bit group, SHA-256, the
pool name mixed into x, an HKDF-derived key that signs the PASSWORD_VERIFIER answer), so
that USER_SRP_AUTH clients (Amplify, amazon-cognito-identity-js, pycognito) sign in
unchanged. Numbers travel as hex; hashing pads them the way those clients do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E"
    "3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF"
    "5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D3"
    "9A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08"
    "CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF69558171839"
    "95497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DB"
    "EF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA"
    "06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB31"
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF")
N = int(N_HEX, 16)
G = 2
INFO = b"Caldera Derived Key"
SALT_BYTES = 16
SECRET_BLOCK_BYTES = 64


def pad_hex(value: int | str) -> str:
    """Even-length hex with a leading 00 when the top bit is set (a positive two's
    complement number), as the clients hash it."""
    text = f"{value:x}" if isinstance(value, int) else value.lower()
    if len(text) % 2:
        return "0" + text
    return "00" + text if text[0] in "89abcdef" else text


def _hash_hex(hex_text: str) -> str:
    return hashlib.sha256(bytes.fromhex(hex_text)).hexdigest()


K = int(_hash_hex("00" + N_HEX + "0" + format(G, "x")), 16)


def _x(pool_name: str, user_id: str, password: str, salt_hex: str) -> int:
    inner = hashlib.sha256(f"{pool_name}{user_id}:{password}".encode()).hexdigest()
    return int(_hash_hex(pad_hex(salt_hex) + inner), 16)


def make_verifier(pool_name: str, user_id: str, password: str) -> tuple[str, str]:
    """(salt, verifier) in hex for this user of this pool; both needed at sign-in."""
    salt = secrets.token_hex(SALT_BYTES)
    return salt, format(pow(G, _x(pool_name, user_id, password, salt), N), "x")


def server_ephemeral(verifier_hex: str) -> tuple[int, int]:
    """(b, B = k·v + g^b mod N), B never 0 mod N."""
    verifier = int(verifier_hex, 16)
    while True:
        small_b = secrets.randbits(1024) % N
        big_b = (K * verifier + pow(G, small_b, N)) % N
        if big_b and small_b:
            return small_b, big_b


def session_key(verifier_hex: str, small_b: int, big_a: int, big_b: int) -> bytes | None:
    """The 16-byte key both sides derive; None for an A the protocol must refuse."""
    if big_a % N == 0:
        return None
    u = int(_hash_hex(pad_hex(big_a) + pad_hex(big_b)), 16)
    if u == 0:
        return None
    shared = pow(big_a * pow(int(verifier_hex, 16), u, N), small_b, N)
    prk = hmac.new(bytes.fromhex(pad_hex(format(u, "x"))), bytes.fromhex(pad_hex(shared)),
                   hashlib.sha256).digest()
    return hmac.new(prk, INFO + b"\x01", hashlib.sha256).digest()[:16]


def expected_signature(key: bytes, pool_name: str, user_id: str, secret_block: bytes,
                       timestamp: str) -> str:
    message = pool_name.encode() + user_id.encode() + secret_block + timestamp.encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def new_secret_block() -> str:
    return base64.b64encode(secrets.token_bytes(SECRET_BLOCK_BYTES)).decode()
