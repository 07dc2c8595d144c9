"""A user pool's keys and tokens, and a forger for tokens no honest issuer would sign."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from authgate.authorizers.jwks import KeySet, parse_jwks
from authgate.authorizers.jwt_verify import VerifierConfig
from authgate.clock import ManualClock
from authgate.identity.keys import SigningKey, generate_signing_key, jwks
from authgate.identity.tokens import NATIVE_SCOPE, SignIn, access_token, id_token

ISSUER = "http://127.0.0.1:9229/us-east-1_Example1"
CLIENT = "57cbishk4j24pabc1234567890"
SUB = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
NOW = 1_700_000_000.0
LIFETIME = 3600
SECRET = b"0123456789abcdef0123456789abcdef-shared"

SIGN_IN = SignIn(
    issuer=ISSUER,
    client_id=CLIENT,
    sub=SUB,
    username="janedoe",
    auth_time=int(NOW) - 60,
    origin_jti="11111111-1111-4111-8111-111111111111",
    event_id="22222222-2222-4222-8222-222222222222",
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: object) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def rsa_signer(key: SigningKey) -> Callable[[bytes], bytes]:
    return lambda data: key.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def hmac_signer(secret: bytes) -> Callable[[bytes], bytes]:
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def forge(
    header: Mapping[str, object] | str,
    claims: Mapping[str, object] | str,
    signer: Callable[[bytes], bytes] | None = None,
) -> str:
    """A compact JWS from any header and payload (raw JSON text accepted), signed or not."""
    head = b64(header.encode()) if isinstance(header, str) else b64json(header)
    body = b64(claims.encode()) if isinstance(claims, str) else b64json(claims)
    signing_input = f"{head}.{body}"
    signature = signer(signing_input.encode()) if signer is not None else b""
    return f"{signing_input}.{b64(signature)}"


def pool_claims(**changes: object) -> dict[str, object]:
    """Access-token-like claims for forged tokens, valid at NOW unless changed."""
    claims: dict[str, object] = {
        "sub": SUB,
        "iss": ISSUER,
        "client_id": CLIENT,
        "token_use": "access",
        "scope": NATIVE_SCOPE,
        "auth_time": int(NOW) - 60,
        "iat": int(NOW),
        "exp": int(NOW) + LIFETIME,
        "jti": "33333333-3333-4333-8333-333333333333",
        "username": "janedoe",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture(scope="session")
def id_key() -> SigningKey:
    return generate_signing_key()


@pytest.fixture(scope="session")
def access_key() -> SigningKey:
    return generate_signing_key()


@pytest.fixture(scope="session")
def stranger_key() -> SigningKey:
    """A key the pool never published."""
    return generate_signing_key()


@pytest.fixture
def keys(id_key: SigningKey, access_key: SigningKey) -> KeySet:
    return parse_jwks(jwks([id_key, access_key]))


@pytest.fixture
def config() -> VerifierConfig:
    return VerifierConfig(issuers=frozenset({ISSUER}), audiences=frozenset({CLIENT}))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=NOW)


@pytest.fixture
def pool_id_token(id_key: SigningKey) -> str:
    return id_token(id_key, SIGN_IN, now=NOW, lifetime=LIFETIME, attributes={"email": "j@x.io"})


@pytest.fixture
def pool_access_token(access_key: SigningKey) -> str:
    return access_token(access_key, SIGN_IN, now=NOW, lifetime=LIFETIME)
