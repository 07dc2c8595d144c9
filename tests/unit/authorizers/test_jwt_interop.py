"""Our tokens against PyJWT, an independent implementation, both ways.

PyJWT is what pycognito verifies with: it must accept the pool's tokens from the pool's JWKS
(as a dict, and fetched over HTTP with `PyJWKClient` from `{issuer}/.well-known/jwks.json`),
and our verifier must accept what PyJWT signs.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from authgate.authorizers.jwks import KeySet, SharedSecret, parse_jwks
from authgate.authorizers.jwt_verify import Verified, VerifierConfig, verify
from authgate.identity.discovery import issuer, jwks_uri, openid_configuration
from authgate.identity.keys import SigningKey, jwks
from authgate.identity.tokens import access_token, id_token, id_token_claims
from tests.unit.authorizers.conftest import CLIENT, ISSUER, NOW, SECRET, SIGN_IN, pool_claims

jwt = pytest.importorskip("jwt", reason="PyJWT (pyjwt[crypto]) is a test dependency")

POOL_ID = "us-east-1_Example1"


def wall_clock() -> float:
    """PyJWT reads the wall clock, so tokens for it are minted now."""
    return time.time()


def pyjwt_decode(token: str, document: Mapping[str, object], **kwargs: object) -> dict[str, object]:
    key_set = jwt.PyJWKSet.from_dict(document)
    kid = jwt.get_unverified_header(token)["kid"]
    claims: dict[str, object] = jwt.decode(
        token,
        key_set[kid],
        algorithms=["RS256"],
        issuer=ISSUER,
        options={"require": ["exp", "iss", "iat"], "verify_iat": True},
        leeway=0,
        **kwargs,
    )
    return claims


def test_pyjwt_accepts_the_pool_id_token(id_key: SigningKey, access_key: SigningKey) -> None:
    attributes = {"email": "j@x.io", "email_verified": "true"}
    now = wall_clock()
    token = id_token(id_key, SIGN_IN, now=now, lifetime=3600, attributes=attributes, jti="j")
    claims = pyjwt_decode(token, jwks([id_key, access_key]), audience=CLIENT)
    assert claims == id_token_claims(
        SIGN_IN, now=now, lifetime=3600, attributes=attributes, jti="j"
    )
    assert claims["token_use"] == "id"
    assert isinstance(claims["iat"], int)  # pycognito insists


def test_pyjwt_accepts_the_pool_access_token(id_key: SigningKey, access_key: SigningKey) -> None:
    token = access_token(access_key, SIGN_IN, now=wall_clock(), lifetime=3600)
    claims = pyjwt_decode(token, jwks([id_key, access_key]))
    assert claims["token_use"] == "access"
    assert claims["client_id"] == CLIENT


def test_pyjwt_refuses_the_pool_id_token_for_another_audience(
    id_key: SigningKey, access_key: SigningKey
) -> None:
    token = id_token(id_key, SIGN_IN, now=wall_clock(), lifetime=3600)
    with pytest.raises(jwt.InvalidAudienceError):
        pyjwt_decode(token, jwks([id_key, access_key]), audience="another-client")


def test_pyjwt_refuses_a_token_whose_key_is_not_published(
    id_key: SigningKey, access_key: SigningKey
) -> None:
    token = access_token(access_key, SIGN_IN, now=wall_clock(), lifetime=3600)
    with pytest.raises(KeyError):
        pyjwt_decode(token, jwks([id_key]))


class _PoolDocuments(BaseHTTPRequestHandler):
    documents: dict[str, bytes] = {}

    def do_GET(self) -> None:
        body = self.documents.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def pool_server(id_key: SigningKey, access_key: SigningKey) -> Iterator[str]:
    """A loopback server publishing the pool's JWKS and discovery document; yields its base."""

    class Handler(_PoolDocuments):
        documents: dict[str, bytes] = {}

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    pool_issuer = issuer(base, POOL_ID)
    Handler.documents = {
        f"/{POOL_ID}/.well-known/jwks.json": json.dumps(jwks([id_key, access_key])).encode(),
        f"/{POOL_ID}/.well-known/openid-configuration": json.dumps(
            openid_configuration(pool_issuer, base)
        ).encode(),
    }
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_pyjwk_client_fetches_the_jwks_and_verifies(pool_server: str, id_key: SigningKey) -> None:
    pool_issuer = issuer(pool_server, POOL_ID)
    # The OIDC way in: discovery document → jwks_uri.
    with urllib.request.urlopen(pool_issuer + "/.well-known/openid-configuration", timeout=5) as r:
        document = json.load(r)
    assert document["jwks_uri"] == jwks_uri(pool_issuer)
    client = jwt.PyJWKClient(document["jwks_uri"], timeout=5)
    signed_in = replace(SIGN_IN, issuer=pool_issuer)
    token = id_token(id_key, signed_in, now=wall_clock(), lifetime=3600)
    signing_key = client.get_signing_key_from_jwt(token)
    assert signing_key.key_id == id_key.kid
    claims = jwt.decode(
        token, signing_key.key, algorithms=["RS256"], audience=CLIENT, issuer=pool_issuer
    )
    assert claims["iss"] == f"{pool_server}/{POOL_ID}"


def test_our_verifier_accepts_what_pyjwt_signs(access_key: SigningKey, keys: KeySet) -> None:
    token = jwt.encode(
        pool_claims(), access_key.private_key, algorithm="RS256", headers={"kid": access_key.kid}
    )
    config = VerifierConfig(issuers=frozenset({ISSUER}), audiences=frozenset({CLIENT}))
    result = verify(token, keys, config, now=NOW)
    assert isinstance(result, Verified), result
    assert result.claims["username"] == "janedoe"


def test_our_verifier_accepts_pyjwt_hs256_with_the_shared_secret() -> None:
    token = jwt.encode(pool_claims(), SECRET, algorithm="HS256")
    config = VerifierConfig(issuers=frozenset({ISSUER}), algorithms=frozenset({"HS256"}))
    assert isinstance(verify(token, SharedSecret(SECRET), config, now=NOW), Verified)


def test_jwks_round_trips_through_pyjwt(id_key: SigningKey, access_key: SigningKey) -> None:
    document = jwks([id_key, access_key])
    key_set = jwt.PyJWKSet.from_dict(document)
    ours = parse_jwks(document)
    for key in (id_key, access_key):
        theirs = key_set[key.kid].key
        assert theirs.public_numbers() == key.private_key.public_key().public_numbers()
        assert key.kid in ours
