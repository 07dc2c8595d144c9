"""VerifiedTokens: verified once, remembered until the token expires, forgotten on revocation."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from authgate.authorizers.bearer import Caller, TokenIssuer, VerifiedTokens, bearer_token
from authgate.authorizers.jwks import KeySet, VerificationKey, parse_jwks
from authgate.authorizers.jwt_verify import (
    JwtVerifier,
    Reason,
    Rejected,
    Requirement,
    Verified,
    VerifierConfig,
)
from authgate.clock import ManualClock
from authgate.identity.keys import SigningKey, jwks
from authgate.identity.tokens import SignIn, access_token, id_token
from tests.unit.authorizers.conftest import ISSUER, LIFETIME, NOW, SIGN_IN

ID = Requirement(token_use="id")
ACCESS = Requirement(token_use="access")


class CountingKeys:
    """A key source that counts lookups: each one is a signature check about to happen."""

    def __init__(self, keys: KeySet) -> None:
        self.keys = keys
        self.lookups = 0

    def find(self, kid: str | None) -> VerificationKey | None:
        self.lookups += 1
        return self.keys.find(kid)


@dataclass
class Sessions:
    """Revocations as the user-pool service keeps them: a generation and the revoked subjects."""

    generation: int = 0
    revoked: set[str] = field(default_factory=set)
    asked: int = 0

    async def is_active(self, verified: Verified) -> bool:
        self.asked += 1
        return verified.subject not in self.revoked

    def revoke(self, sub: str) -> None:
        self.revoked.add(sub)
        self.generation += 1


def tokens_for(
    keys: CountingKeys, clock: ManualClock, revocations: Sessions | None = None
) -> VerifiedTokens:
    config = VerifierConfig(issuers=frozenset({ISSUER}))
    return VerifiedTokens(
        [TokenIssuer(JwtVerifier(config, keys, clock))], clock, revocations=revocations
    )


@pytest.fixture
def counting(keys: KeySet) -> CountingKeys:
    return CountingKeys(keys)


async def test_a_token_is_verified_once_then_served_from_the_cache(
    counting: CountingKeys, clock: ManualClock, pool_id_token: str
) -> None:
    tokens = tokens_for(counting, clock)
    first = await tokens.check(pool_id_token, ID)
    second = await tokens.check(pool_id_token, ID)
    assert isinstance(first, Caller)
    assert second is first
    assert counting.lookups == 1


async def test_method_requirements_are_checked_on_every_hit(
    counting: CountingKeys, clock: ManualClock, pool_id_token: str, pool_access_token: str
) -> None:
    tokens = tokens_for(counting, clock)
    assert isinstance(await tokens.check(pool_id_token, ID), Caller)
    refused = await tokens.check(pool_id_token, ACCESS)
    assert isinstance(refused, Rejected)
    assert refused.reason is Reason.WRONG_TOKEN_USE
    scoped = Requirement(token_use="access", scopes=frozenset({"orders/read"}))
    refused = await tokens.check(pool_access_token, scoped)
    assert isinstance(refused, Rejected)
    assert refused.reason is Reason.INSUFFICIENT_SCOPE


async def test_an_entry_lives_until_the_token_expires(
    counting: CountingKeys, clock: ManualClock, pool_id_token: str
) -> None:
    tokens = tokens_for(counting, clock)
    assert isinstance(await tokens.check(pool_id_token, ID), Caller)
    clock.advance(LIFETIME + 10)
    expired = await tokens.check(pool_id_token, ID)
    assert isinstance(expired, Rejected)
    assert expired.reason is Reason.EXPIRED
    assert len(tokens) == 0


async def test_revocation_takes_effect_on_the_next_check(
    counting: CountingKeys, clock: ManualClock, pool_id_token: str, id_key: SigningKey
) -> None:
    sessions = Sessions()
    tokens = tokens_for(counting, clock, sessions)
    other_user = id_token(
        id_key,
        SignIn(ISSUER, "client", "bbbb", "bob", int(NOW)),
        now=NOW,
        lifetime=LIFETIME,
    )
    assert isinstance(await tokens.check(pool_id_token, ID), Caller)
    assert isinstance(await tokens.check(other_user, ID), Caller)
    assert sessions.asked == 2
    sessions.revoke(SIGN_IN.sub)
    refused = await tokens.check(pool_id_token, ID)
    assert isinstance(refused, Rejected)
    assert refused.reason is Reason.REVOKED
    # The other user's token is checked again (the cache was emptied) and still passes.
    assert isinstance(await tokens.check(other_user, ID), Caller)
    assert sessions.asked == 4
    # Refusals are never remembered: the revoked token is asked about every time.
    assert isinstance(await tokens.check(pool_id_token, ID), Rejected)
    assert sessions.asked == 5


async def test_tokens_of_each_issuer_are_verified_with_that_issuers_keys(
    clock: ManualClock, id_key: SigningKey, stranger_key: SigningKey, pool_id_token: str
) -> None:
    other_issuer = "http://127.0.0.1:9229/us-east-1_Other"
    first = CountingKeys(parse_jwks(jwks([id_key])))
    second = CountingKeys(parse_jwks(jwks([stranger_key])))
    tokens = VerifiedTokens(
        [
            TokenIssuer(JwtVerifier(VerifierConfig(issuers=frozenset({ISSUER})), first, clock)),
            TokenIssuer(
                JwtVerifier(VerifierConfig(issuers=frozenset({other_issuer})), second, clock)
            ),
        ],
        clock,
    )
    theirs = id_token(
        stranger_key,
        SignIn(other_issuer, "client", "cccc", "carol", int(NOW)),
        now=NOW,
        lifetime=LIFETIME,
    )
    assert isinstance(await tokens.check(pool_id_token, ID), Caller)
    assert isinstance(await tokens.check(theirs, ID), Caller)
    # A key of the second pool does not make its holder an issuer of the first.
    crossed = id_token(stranger_key, SIGN_IN, now=NOW, lifetime=LIFETIME)
    refused = await tokens.check(crossed, ID)
    assert isinstance(refused, Rejected)
    assert refused.reason is Reason.WRONG_ISSUER


async def test_an_unknown_kid_is_refused_without_any_issuer_to_fetch_from(
    counting: CountingKeys, clock: ManualClock, stranger_key: SigningKey
) -> None:
    tokens = tokens_for(counting, clock)
    refused = await tokens.check(access_token(stranger_key, SIGN_IN, now=NOW, lifetime=60), ACCESS)
    assert isinstance(refused, Rejected)
    assert refused.reason is Reason.UNKNOWN_KID


@pytest.mark.parametrize(
    ("value", "token"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("abc.def.ghi", "abc.def.ghi"),
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer   abc.def.ghi ", "abc.def.ghi"),
        ("Bearer", "Bearer"),
        ("Basic abc", "Basic abc"),
    ],
)
def test_bearer_token(value: str | None, token: str | None) -> None:
    assert bearer_token(value) == token
