"""The JWT verifier: pool tokens pass; the attack battery, one test per case; requirements."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import serialization

from authgate.authorizers.jwks import KeySet, SharedSecret
from authgate.authorizers.jwt_verify import (
    Reason,
    Rejected,
    Requirement,
    Verified,
    VerifierConfig,
    verify,
)
from authgate.identity.keys import SigningKey
from authgate.identity.tokens import NATIVE_SCOPE, access_token, id_token
from tests.unit.authorizers.conftest import (
    CLIENT,
    ISSUER,
    LIFETIME,
    NOW,
    SECRET,
    SIGN_IN,
    SUB,
    b64,
    b64json,
    forge,
    hmac_signer,
    pool_claims,
    rsa_signer,
)


def refused(result: Verified | Rejected, reason: Reason) -> None:
    assert isinstance(result, Rejected), result
    assert result.reason is reason, result
    assert not result.refetch_keys


def accepted(result: Verified | Rejected) -> Verified:
    assert isinstance(result, Verified), result
    return result


# What must pass -------------------------------------------------------------------------------


def test_pool_id_token_verifies(pool_id_token: str, keys: KeySet, config: VerifierConfig) -> None:
    verified = accepted(verify(pool_id_token, keys, config, now=NOW + 10))
    assert verified.claims["aud"] == CLIENT
    assert verified.claims["token_use"] == "id"
    assert verified.claims["email"] == "j@x.io"
    assert verified.subject == SUB
    assert verified.origin_jti == SIGN_IN.origin_jti
    assert verified.alg == "RS256"
    assert verified.expires_at == NOW + LIFETIME
    assert verified.scopes == frozenset()


def test_pool_access_token_verifies_by_client_id(
    pool_access_token: str, keys: KeySet, config: VerifierConfig
) -> None:
    verified = accepted(verify(pool_access_token, keys, config, now=NOW))
    assert "aud" not in verified.claims
    assert verified.scopes == {NATIVE_SCOPE}


def test_cognito_style_config_checks_no_audience(pool_access_token: str, keys: KeySet) -> None:
    config = VerifierConfig(issuers=frozenset({ISSUER, "http://other/pool"}))
    accepted(verify(pool_access_token, keys, config, now=NOW))


def test_verified_claims_are_read_only(access_key: SigningKey, keys: KeySet) -> None:
    signed_in = replace(SIGN_IN, groups=())
    token = access_token(access_key, signed_in, now=NOW, lifetime=60, scopes=("a", "b"))
    config = VerifierConfig(issuers=frozenset({ISSUER}))
    verified = accepted(verify(token, keys, config, now=NOW))
    with pytest.raises(TypeError):
        verified.claims["sub"] = "someone else"  # type: ignore[index]


def test_nested_claims_are_frozen(access_key: SigningKey, keys: KeySet) -> None:
    claims = pool_claims(**{"cognito:groups": ["a", "b"], "extra": {"k": ["v"]}})
    token = forge({"kid": access_key.kid, "alg": "RS256"}, claims, rsa_signer(access_key))
    verified = accepted(verify(token, keys, VerifierConfig(issuers=frozenset({ISSUER})), now=NOW))
    assert verified.claims["cognito:groups"] == ("a", "b")
    extra = verified.claims["extra"]
    with pytest.raises(TypeError):
        extra["k"] = "changed"  # type: ignore[index]


def test_aud_may_be_an_array(access_key: SigningKey, keys: KeySet, config: VerifierConfig) -> None:
    claims = pool_claims(aud=["someone", CLIENT], client_id=None)
    token = forge({"kid": access_key.kid, "alg": "RS256"}, claims, rsa_signer(access_key))
    accepted(verify(token, keys, config, now=NOW))


def test_leeway_tolerates_a_little_clock_skew(
    access_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    claims = pool_claims(nbf=int(NOW) + 3, iat=int(NOW) + 3)
    token = forge({"kid": access_key.kid, "alg": "RS256"}, claims, rsa_signer(access_key))
    accepted(verify(token, keys, config, now=NOW))
    accepted(verify(token, keys, config, now=NOW + LIFETIME + 4))


def test_shared_secret_hs256_token_verifies() -> None:
    config = VerifierConfig(issuers=frozenset({ISSUER}), algorithms=frozenset({"HS256"}))
    token = forge({"alg": "HS256", "typ": "JWT"}, pool_claims(), hmac_signer(SECRET))
    accepted(verify(token, SharedSecret(SECRET), config, now=NOW))


# The attack battery ---------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_refused(
    alg: str, access_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    token = forge({"kid": access_key.kid, "alg": alg}, pool_claims())
    refused(verify(token, keys, config, now=NOW), Reason.ALG_NOT_ALLOWED)


def test_hs256_signed_with_the_rsa_public_key_is_refused(
    access_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    # The classic confusion: the public key (which anyone has) used as an HMAC secret.
    public = access_key.private_key.public_key()
    for encoding, fmt in [
        (serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        (serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
    ]:
        secret = public.public_bytes(encoding, fmt)
        token = forge({"kid": access_key.kid, "alg": "HS256"}, pool_claims(), hmac_signer(secret))
        refused(verify(token, keys, config, now=NOW), Reason.ALG_NOT_ALLOWED)


def test_hs256_against_rsa_keys_is_refused_even_where_hs256_is_allowed(
    access_key: SigningKey, keys: KeySet
) -> None:
    # A misconfigured HS256 authorizer pointed at a JWKS: the key's type still decides.
    config = VerifierConfig(issuers=frozenset({ISSUER}), algorithms=frozenset({"HS256"}))
    secret = access_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = forge({"kid": access_key.kid, "alg": "HS256"}, pool_claims(), hmac_signer(secret))
    refused(verify(token, keys, config, now=NOW), Reason.ALG_NOT_ALLOWED)


def test_rs256_token_is_refused_by_a_shared_secret_config(pool_access_token: str) -> None:
    config = VerifierConfig(issuers=frozenset({ISSUER}), algorithms=frozenset({"HS256"}))
    refused(
        verify(pool_access_token, SharedSecret(SECRET), config, now=NOW), Reason.ALG_NOT_ALLOWED
    )


def test_rsa_and_hmac_algorithms_cannot_share_a_config() -> None:
    with pytest.raises(ValueError, match="not both"):
        VerifierConfig(issuers=frozenset({ISSUER}), algorithms=frozenset({"RS256", "HS256"}))


def test_unknown_kid_is_refused(
    stranger_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    token = access_token(stranger_key, SIGN_IN, now=NOW, lifetime=LIFETIME)
    refused(verify(token, keys, config, now=NOW), Reason.UNKNOWN_KID)


def test_missing_kid_is_refused_for_a_jwks_issuer(
    access_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    token = forge({"alg": "RS256"}, pool_claims(), rsa_signer(access_key))
    refused(verify(token, keys, config, now=NOW), Reason.UNKNOWN_KID)


def test_signature_by_another_key_under_a_published_kid_is_refused(
    access_key: SigningKey, stranger_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    token = forge({"kid": access_key.kid, "alg": "RS256"}, pool_claims(), rsa_signer(stranger_key))
    refused(verify(token, keys, config, now=NOW), Reason.BAD_SIGNATURE)


def test_expired_token_is_refused(
    pool_access_token: str, keys: KeySet, config: VerifierConfig
) -> None:
    refused(verify(pool_access_token, keys, config, now=NOW + LIFETIME + 5), Reason.EXPIRED)


def test_not_yet_valid_token_is_refused(
    access_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    token = forge(
        {"kid": access_key.kid, "alg": "RS256"},
        pool_claims(nbf=int(NOW) + 600),
        rsa_signer(access_key),
    )
    refused(verify(token, keys, config, now=NOW), Reason.NOT_YET_VALID)


def test_token_issued_in_the_future_is_refused(
    access_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    claims = pool_claims(iat=int(NOW) + 600, exp=int(NOW) + 4000)
    token = forge({"kid": access_key.kid, "alg": "RS256"}, claims, rsa_signer(access_key))
    refused(verify(token, keys, config, now=NOW), Reason.NOT_YET_VALID)


@pytest.mark.parametrize(
    "iss",
    [
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example1",
        ISSUER + "/",
        ISSUER.upper(),
        [ISSUER],
        None,
    ],
)
def test_wrong_issuer_is_refused(
    iss: object, access_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    token = forge(
        {"kid": access_key.kid, "alg": "RS256"}, pool_claims(iss=iss), rsa_signer(access_key)
    )
    refused(verify(token, keys, config, now=NOW), Reason.WRONG_ISSUER)


def test_id_token_for_another_client_is_refused(id_key: SigningKey, keys: KeySet) -> None:
    token = id_token(id_key, replace(SIGN_IN, client_id="other-client"), now=NOW, lifetime=60)
    config = VerifierConfig(issuers=frozenset({ISSUER}), audiences=frozenset({CLIENT}))
    refused(verify(token, keys, config, now=NOW), Reason.WRONG_AUDIENCE)


def test_access_token_for_another_client_is_refused(access_key: SigningKey, keys: KeySet) -> None:
    token = access_token(
        access_key, replace(SIGN_IN, client_id="other-client"), now=NOW, lifetime=60
    )
    config = VerifierConfig(issuers=frozenset({ISSUER}), audiences=frozenset({CLIENT}))
    refused(verify(token, keys, config, now=NOW), Reason.WRONG_AUDIENCE)


def test_aud_is_evaluated_when_both_aud_and_client_id_are_present(
    access_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    claims = pool_claims(aud="other-client")  # client_id is still CLIENT
    token = forge({"kid": access_key.kid, "alg": "RS256"}, claims, rsa_signer(access_key))
    refused(verify(token, keys, config, now=NOW), Reason.WRONG_AUDIENCE)


def test_wrong_token_use_is_refused(
    pool_access_token: str, keys: KeySet, config: VerifierConfig
) -> None:
    # A COGNITO_USER_POOLS method without scopes wants an ID token.
    result = verify(pool_access_token, keys, config, now=NOW, requirement=Requirement("id"))
    refused(result, Reason.WRONG_TOKEN_USE)


def test_missing_scope_is_refused(
    pool_access_token: str, keys: KeySet, config: VerifierConfig
) -> None:
    wanted = Requirement(scopes=frozenset({"https://api.example.com/cats.read"}))
    refused(
        verify(pool_access_token, keys, config, now=NOW, requirement=wanted),
        Reason.INSUFFICIENT_SCOPE,
    )


def test_id_token_has_no_scopes_to_offer(
    pool_id_token: str, keys: KeySet, config: VerifierConfig
) -> None:
    wanted = Requirement(scopes=frozenset({NATIVE_SCOPE}))
    refused(
        verify(pool_id_token, keys, config, now=NOW, requirement=wanted), Reason.INSUFFICIENT_SCOPE
    )


def test_tampered_payload_is_refused(
    pool_access_token: str, keys: KeySet, config: VerifierConfig
) -> None:
    header, _, signature = pool_access_token.split(".")
    token = f"{header}.{b64json(pool_claims(sub='admin', username='admin'))}.{signature}"
    refused(verify(token, keys, config, now=NOW), Reason.BAD_SIGNATURE)


def test_tampered_header_is_refused(
    pool_access_token: str, access_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    _, payload, signature = pool_access_token.split(".")
    header = b64json({"kid": access_key.kid, "alg": "RS256", "typ": "JWT"})
    refused(verify(f"{header}.{payload}.{signature}", keys, config, now=NOW), Reason.BAD_SIGNATURE)


@pytest.mark.parametrize(
    ("cut", "reason"),
    [
        (lambda t: t[:-4], Reason.BAD_SIGNATURE),  # signature shortened
        (lambda t: t[:-1], Reason.MALFORMED),  # one character off: not base64url any more
        (lambda t: t.rsplit(".", 1)[0] + ".", Reason.BAD_SIGNATURE),  # signature emptied
        (lambda t: t.rsplit(".", 1)[0], Reason.MALFORMED),  # two parts
        (lambda t: t.split(".", 1)[0], Reason.MALFORMED),  # header only
        (lambda t: t[: len(t) // 3], Reason.MALFORMED),  # cut inside the payload
        (lambda t: "", Reason.MALFORMED),
    ],
)
def test_truncated_token_is_refused(
    cut: object, reason: Reason, pool_access_token: str, keys: KeySet, config: VerifierConfig
) -> None:
    assert callable(cut)
    refused(verify(cut(pool_access_token), keys, config, now=NOW), reason)


def test_oversized_token_is_refused(
    access_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    claims = pool_claims(padding="x" * 20_000)
    token = forge({"kid": access_key.kid, "alg": "RS256"}, claims, rsa_signer(access_key))
    refused(verify(token, keys, config, now=NOW), Reason.MALFORMED)
    roomy = replace(config, max_token_length=64_000)
    accepted(verify(token, keys, roomy, now=NOW))  # the cap, not the token, refused it


def test_oversized_header_is_refused(
    access_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    header = {"kid": access_key.kid, "alg": "RS256", "x": "y" * 2000}
    token = forge(header, pool_claims(), rsa_signer(access_key))
    refused(verify(token, keys, config, now=NOW), Reason.MALFORMED)


def test_duplicate_claim_names_are_refused(
    access_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    # Parsers differ on which duplicate wins: refuse rather than pick.
    claims = (
        f'{{"sub":"{SUB}","iss":"{ISSUER}","client_id":"{CLIENT}",'
        f'"exp":{int(NOW) + 60},"sub":"admin"}}'
    )
    token = forge({"kid": access_key.kid, "alg": "RS256"}, claims, rsa_signer(access_key))
    refused(verify(token, keys, config, now=NOW), Reason.MALFORMED)


def test_non_json_numbers_are_refused(
    access_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    claims = f'{{"iss":"{ISSUER}","client_id":"{CLIENT}","exp":Infinity}}'
    token = forge({"kid": access_key.kid, "alg": "RS256"}, claims, rsa_signer(access_key))
    refused(verify(token, keys, config, now=NOW), Reason.MALFORMED)


@pytest.mark.parametrize("exp", [None, "1700003600", True, 1e400])
def test_exp_must_be_a_number(
    exp: object, access_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    claims = pool_claims(exp=exp)
    token = forge({"kid": access_key.kid, "alg": "RS256"}, claims, rsa_signer(access_key))
    refused(verify(token, keys, config, now=NOW), Reason.MALFORMED)


def test_critical_header_extensions_are_refused(
    access_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    header = {"kid": access_key.kid, "alg": "RS256", "crit": ["b64"], "b64": False}
    token = forge(header, pool_claims(), rsa_signer(access_key))
    refused(verify(token, keys, config, now=NOW), Reason.MALFORMED)


def test_embedded_jwk_header_is_not_trusted(
    stranger_key: SigningKey, keys: KeySet, config: VerifierConfig
) -> None:
    # The signer offers its own key in the header; only the configured key set counts.
    header = {"kid": stranger_key.kid, "alg": "RS256", "jwk": stranger_key.public_jwk()}
    token = forge(header, pool_claims(), rsa_signer(stranger_key))
    refused(verify(token, keys, config, now=NOW), Reason.UNKNOWN_KID)


def test_encrypted_tokens_are_refused(keys: KeySet, config: VerifierConfig) -> None:
    jwe = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.a.b.c.d"
    refused(verify(jwe, keys, config, now=NOW), Reason.MALFORMED)


@pytest.mark.parametrize(
    "token",
    [
        "é.b.c",
        "eyJhbGciOiJSUzI1NiJ9=.e30.sig",  # padding is not base64url
        "eyJhbGciOiJSUzI1NiJ9.e30.si+g",  # '+' belongs to the other alphabet
        b64(b"[1,2]") + ".e30.",  # header not an object
        b64(b'{"kid":7,"alg":"RS256"}') + ".e30.",
        b64(b'{"kid":"k"}') + ".e30.",  # no alg
    ],
)
def test_malformed_headers_are_refused(token: str, keys: KeySet, config: VerifierConfig) -> None:
    refused(verify(token, keys, config, now=NOW), Reason.MALFORMED)


def test_short_shared_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SharedSecret(b"short")


def test_shared_secret_without_a_kid_accepts_tokens_naming_any_kid() -> None:
    config = VerifierConfig(issuers=frozenset({ISSUER}), algorithms=frozenset({"HS256"}))
    token = forge({"alg": "HS256", "kid": "whatever"}, pool_claims(), hmac_signer(SECRET))
    accepted(verify(token, SharedSecret(SECRET), config, now=NOW))


def test_shared_secret_with_a_kid_accepts_only_that_kid() -> None:
    config = VerifierConfig(issuers=frozenset({ISSUER}), algorithms=frozenset({"HS256"}))
    keys = SharedSecret(SECRET, kid="k1")
    named = forge({"alg": "HS256", "kid": "k1"}, pool_claims(), hmac_signer(SECRET))
    other = forge({"alg": "HS256", "kid": "k2"}, pool_claims(), hmac_signer(SECRET))
    unnamed = forge({"alg": "HS256"}, pool_claims(), hmac_signer(SECRET))
    accepted(verify(named, keys, config, now=NOW))
    refused(verify(other, keys, config, now=NOW), Reason.UNKNOWN_KID)
    refused(verify(unnamed, keys, config, now=NOW), Reason.UNKNOWN_KID)
    assert SECRET.decode() not in repr(keys)


def test_wrong_shared_secret_is_refused() -> None:
    config = VerifierConfig(issuers=frozenset({ISSUER}), algorithms=frozenset({"HS256"}))
    token = forge({"alg": "HS256"}, pool_claims(), hmac_signer(b"another-secret-" * 4))
    refused(verify(token, SharedSecret(SECRET), config, now=NOW), Reason.BAD_SIGNATURE)


# Requirements ---------------------------------------------------------------------------------


def test_any_one_of_the_method_scopes_is_enough(access_key: SigningKey, keys: KeySet) -> None:
    token = access_token(access_key, SIGN_IN, now=NOW, lifetime=60, scopes=("rs/read",))
    config = VerifierConfig(issuers=frozenset({ISSUER}))
    wanted = Requirement("access", frozenset({"rs/read", "rs/write"}))
    accepted(verify(token, keys, config, now=NOW, requirement=wanted))


def test_all_mode_needs_every_scope(access_key: SigningKey, keys: KeySet) -> None:
    token = access_token(access_key, SIGN_IN, now=NOW, lifetime=60, scopes=("rs/read",))
    config = VerifierConfig(issuers=frozenset({ISSUER}))
    both = frozenset({"rs/read", "rs/write"})
    result = verify(token, keys, config, now=NOW, requirement=Requirement(None, both, "all"))
    refused(result, Reason.INSUFFICIENT_SCOPE)
    wider = access_token(access_key, SIGN_IN, now=NOW, lifetime=60, scopes=("rs/read", "rs/write"))
    accepted(verify(wider, keys, config, now=NOW, requirement=Requirement(None, both, "all")))


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"scp": ["a", "b"]}, {"a", "b"}),
        ({"scp": "a b"}, {"a", "b"}),
        ({"scope": "a  b\tc"}, {"a", "b", "c"}),
        ({"scope": "a", "scp": ["z"]}, {"a"}),
        ({"scope": 7}, set()),
    ],
)
def test_scopes_come_from_scope_or_scp(
    claims: dict[str, object],
    expected: set[str],
    access_key: SigningKey,
    keys: KeySet,
    config: VerifierConfig,
) -> None:
    body = pool_claims(**{"scope": None, **claims})
    token = forge({"kid": access_key.kid, "alg": "RS256"}, body, rsa_signer(access_key))
    assert accepted(verify(token, keys, config, now=NOW)).scopes == expected


@pytest.mark.parametrize(
    "changes",
    [
        {"issuers": frozenset()},
        {"audiences": frozenset()},
        {"algorithms": frozenset()},
        {"algorithms": frozenset({"ES256"})},
        {"leeway": -1.0},
    ],
)
def test_configs_that_would_misbehave_are_refused(changes: dict[str, object]) -> None:
    fields: dict[str, object] = {"issuers": frozenset({ISSUER}), **changes}
    with pytest.raises(ValueError):  # noqa: PT011 - several messages
        VerifierConfig(**fields)  # type: ignore[arg-type]
