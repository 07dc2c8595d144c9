"""The verified-token cache: hits, expiry at exp, bounds, and invalidation for revocation."""

from __future__ import annotations

from dataclasses import replace

import pytest

from authgate.authorizers.jwks import KeySet, VerificationKey, parse_jwks
from authgate.authorizers.jwt_verify import (
    JwtVerifier,
    Reason,
    Rejected,
    Requirement,
    Verified,
    VerifierConfig,
)
from authgate.authorizers.token_cache import TokenCache
from authgate.clock import ManualClock
from authgate.identity.keys import SigningKey, jwks
from authgate.identity.tokens import access_token
from tests.unit.authorizers.conftest import LIFETIME, NOW, SIGN_IN


class CountingKeys:
    """A caller-supplied key source that counts lookups: a lookup means a cold verify."""

    def __init__(self, keys: KeySet) -> None:
        self.keys = keys
        self.lookups = 0

    def find(self, kid: str | None) -> VerificationKey | None:
        self.lookups += 1
        return self.keys.find(kid)


@pytest.fixture
def counting(keys: KeySet) -> CountingKeys:
    return CountingKeys(keys)


@pytest.fixture
def cache(clock: ManualClock) -> TokenCache[Verified]:
    return TokenCache(clock, max_entries=100)


@pytest.fixture
def verifier(
    config: VerifierConfig, counting: CountingKeys, clock: ManualClock, cache: TokenCache[Verified]
) -> JwtVerifier:
    return JwtVerifier(config, counting, clock, cache=cache)


def token_for(key: SigningKey, *, sub: str = SIGN_IN.sub, origin: str | None = None) -> str:
    sign_in = replace(SIGN_IN, sub=sub, origin_jti=origin or SIGN_IN.origin_jti)
    return access_token(key, sign_in, now=NOW, lifetime=LIFETIME)


def test_second_verify_is_a_cache_hit(
    verifier: JwtVerifier, counting: CountingKeys, pool_access_token: str
) -> None:
    first = verifier.verify(pool_access_token)
    second = verifier.verify(pool_access_token)
    assert isinstance(first, Verified)
    assert second is first
    assert counting.lookups == 1


def test_requirements_are_checked_on_hits_too(
    verifier: JwtVerifier, counting: CountingKeys, pool_access_token: str
) -> None:
    assert isinstance(verifier.verify(pool_access_token), Verified)
    wrong_use = verifier.verify(pool_access_token, Requirement("id"))
    no_scope = verifier.verify(pool_access_token, Requirement(scopes=frozenset({"rs/write"})))
    assert isinstance(wrong_use, Rejected)
    assert wrong_use.reason is Reason.WRONG_TOKEN_USE
    assert isinstance(no_scope, Rejected)
    assert no_scope.reason is Reason.INSUFFICIENT_SCOPE
    assert counting.lookups == 1


def test_failures_are_not_cached(
    verifier: JwtVerifier, counting: CountingKeys, pool_access_token: str, clock: ManualClock
) -> None:
    clock.advance(LIFETIME + 60)
    for _ in range(2):
        result = verifier.verify(pool_access_token)
        assert isinstance(result, Rejected)
        assert result.reason is Reason.EXPIRED
    assert counting.lookups == 2


def test_entry_expires_at_the_tokens_exp(
    verifier: JwtVerifier,
    cache: TokenCache[Verified],
    pool_access_token: str,
    clock: ManualClock,
) -> None:
    assert isinstance(verifier.verify(pool_access_token), Verified)
    clock.advance(LIFETIME - 1)
    assert cache.get(pool_access_token) is not None
    clock.advance(1)
    assert cache.get(pool_access_token) is None
    assert len(cache) == 0
    # Within the leeway a cold verify still passes, but nothing past exp is cached again.
    assert isinstance(verifier.verify(pool_access_token), Verified)
    assert len(cache) == 0
    clock.advance(10)
    result = verifier.verify(pool_access_token)
    assert isinstance(result, Rejected)
    assert result.reason is Reason.EXPIRED


def test_put_of_an_expired_entry_is_refused(clock: ManualClock) -> None:
    cache: TokenCache[str] = TokenCache(clock)
    assert not cache.put("t", "v", expires_at=NOW)
    assert cache.put("t", "v", expires_at=NOW + 1)
    assert cache.get("t") == "v"


def test_cache_is_bounded_and_drops_the_least_recently_used(clock: ManualClock) -> None:
    cache: TokenCache[int] = TokenCache(clock, max_entries=3)
    for i in range(3):
        cache.put(f"t{i}", i, expires_at=NOW + 60)
    assert cache.get("t0") == 0  # t0 is now the most recently used
    cache.put("t3", 3, expires_at=NOW + 60)
    assert len(cache) == 3
    assert cache.get("t1") is None
    assert [cache.get(t) for t in ("t0", "t2", "t3")] == [0, 2, 3]
    for i in range(4, 50):
        cache.put(f"t{i}", i, expires_at=NOW + 60)
    assert len(cache) == 3


def test_max_entries_must_be_positive(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        TokenCache(clock, max_entries=0)


def test_invalidate_subject_drops_every_token_of_that_user(
    verifier: JwtVerifier,
    cache: TokenCache[Verified],
    counting: CountingKeys,
    access_key: SigningKey,
) -> None:
    jane_1, jane_2 = token_for(access_key), token_for(access_key, origin="other-family")
    bob = token_for(access_key, sub="bbbbbbbb-0000-4000-8000-000000000000")
    for token in (jane_1, jane_2, bob):
        assert isinstance(verifier.verify(token), Verified)
    assert cache.invalidate_subject(SIGN_IN.sub) == 2
    assert cache.get(jane_1) is None
    assert cache.get(jane_2) is None
    assert cache.get(bob) is not None
    assert isinstance(verifier.verify(jane_1), Verified)  # a cold verify again, not a hit
    assert counting.lookups == 4


def test_invalidate_jti_drops_one_token_or_a_refresh_family(
    verifier: JwtVerifier, cache: TokenCache[Verified], access_key: SigningKey
) -> None:
    family_a = [token_for(access_key, origin="family-a") for _ in range(2)]
    family_b = token_for(access_key, origin="family-b")
    verified = [verifier.verify(t) for t in [*family_a, family_b]]
    assert all(isinstance(v, Verified) for v in verified)
    jti = verified[2].jti if isinstance(verified[2], Verified) else None
    assert jti is not None
    assert cache.invalidate_jti(jti) == 1  # one token by its own jti
    assert cache.get(family_b) is None
    assert cache.invalidate_jti("family-a") == 2  # RevokeToken: every token of the family
    assert len(cache) == 0


def test_invalidate_by_predicate_and_by_token(
    verifier: JwtVerifier, cache: TokenCache[Verified], access_key: SigningKey
) -> None:
    tokens = [token_for(access_key) for _ in range(3)]
    for token in tokens:
        verifier.verify(token)
    assert cache.invalidate_token(tokens[0])
    assert not cache.invalidate_token(tokens[0])
    assert cache.invalidate(lambda entry: entry.value.claims.get("username") == "nobody") == 0
    assert cache.invalidate(lambda entry: entry.value.claims.get("username") == "janedoe") == 2
    assert len(cache) == 0


def test_key_withdrawn_from_the_jwks_drops_its_cached_tokens(
    config: VerifierConfig,
    clock: ManualClock,
    cache: TokenCache[Verified],
    id_key: SigningKey,
    access_key: SigningKey,
    pool_id_token: str,
    pool_access_token: str,
) -> None:
    verifier = JwtVerifier(config, parse_jwks(jwks([id_key, access_key])), clock, cache=cache)
    assert isinstance(verifier.verify(pool_id_token), Verified)
    assert isinstance(verifier.verify(pool_access_token), Verified)
    assert verifier.replace_keys(parse_jwks(jwks([id_key]))) == 1
    assert cache.get(pool_id_token) is not None
    result = verifier.verify(pool_access_token)
    assert isinstance(result, Rejected)
    assert result.reason is Reason.UNKNOWN_KID


def test_cache_keys_are_digests_not_tokens(
    verifier: JwtVerifier, cache: TokenCache[Verified], pool_access_token: str
) -> None:
    verifier.verify(pool_access_token)
    seen: list[object] = []

    def look(entry: object) -> bool:
        seen.append(entry)
        return False

    assert cache.invalidate(look) == 0
    assert len(seen) == 1
    assert pool_access_token not in repr(seen)
