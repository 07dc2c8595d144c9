"""IssuerKeys against a real issuer on 127.0.0.1: discovery, one fetch at a time, the refetch
budget, failures that keep the old keys, and the limits on what an issuer may send."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from authgate.authorizers.bearer import Caller, TokenIssuer, VerifiedTokens
from authgate.authorizers.fetch import PoolFetch
from authgate.authorizers.issuer_keys import IssuerKeys
from authgate.authorizers.jwks import RSA_ALGORITHMS
from authgate.authorizers.jwt_verify import (
    JwtVerifier,
    Reason,
    Rejected,
    Requirement,
    VerifierConfig,
)
from authgate.clock import ManualClock
from authgate.http1.client import UpstreamPool
from authgate.http1.server import HttpServer
from authgate.identity.keys import SigningKey
from authgate.identity.tokens import SignIn, access_token
from tests.issuer_server import Issuer
from tests.unit.authorizers.conftest import CLIENT, LIFETIME, NOW

INTERVAL = 60.0
ANY = Requirement()


@pytest.fixture
async def issuer(id_key: SigningKey) -> AsyncIterator[Issuer]:
    served = Issuer(keys=[id_key])
    server = HttpServer(served)
    host, port = await server.start("127.0.0.1", 0)
    served.base = f"http://{host}:{port}"
    yield served
    await server.shutdown(1.0)


@pytest.fixture
async def pool() -> AsyncIterator[UpstreamPool]:
    upstream = UpstreamPool()
    yield upstream
    await upstream.close()


def keys_of(issuer: Issuer, pool: UpstreamPool, clock: ManualClock, **limits: int) -> IssuerKeys:
    return IssuerKeys(
        issuer.issuer, PoolFetch(pool, **limits), clock, refetch_interval=INTERVAL, max_age=3600
    )


def tokens_of(keys: IssuerKeys, clock: ManualClock) -> VerifiedTokens:
    config = VerifierConfig(
        issuers=frozenset({keys.issuer}), audiences=frozenset({CLIENT}), algorithms=RSA_ALGORITHMS
    )
    verifier = JwtVerifier(config, keys, clock, gate=keys.gate)
    return VerifiedTokens([TokenIssuer(verifier, keys)], clock)


def token(key: SigningKey, issuer: Issuer, sub: str = "u1") -> str:
    return access_token(
        key, SignIn(issuer.issuer, CLIENT, sub, sub, int(NOW)), now=NOW, lifetime=LIFETIME
    )


async def test_keys_are_discovered_then_fetched_on_first_use(
    issuer: Issuer, pool: UpstreamPool, clock: ManualClock, id_key: SigningKey
) -> None:
    keys = keys_of(issuer, pool, clock)
    tokens = tokens_of(keys, clock)
    assert isinstance(await tokens.check(token(id_key, issuer), ANY), Caller)
    assert (issuer.discovery_hits, issuer.jwks_hits) == (1, 1)
    # Another token, the same key: nothing fetched.
    assert isinstance(await tokens.check(token(id_key, issuer, "u2"), ANY), Caller)
    assert issuer.jwks_hits == 1


async def test_an_unknown_kid_refetches_at_most_once_per_interval(
    issuer: Issuer,
    pool: UpstreamPool,
    clock: ManualClock,
    id_key: SigningKey,
    stranger_key: SigningKey,
) -> None:
    keys = keys_of(issuer, pool, clock)
    tokens = tokens_of(keys, clock)
    assert isinstance(await tokens.check(token(id_key, issuer), ANY), Caller)
    clock.advance(INTERVAL)
    forged = [token(stranger_key, issuer, f"x{i}") for i in range(20)]
    for attempt in forged:
        refused = await tokens.check(attempt, ANY)
        assert isinstance(refused, Rejected)
        assert refused.reason is Reason.UNKNOWN_KID
    assert issuer.jwks_hits == 2  # the first unknown kid refetched; the other 19 did not
    # The issuer rotates in the new key: usable once the interval has passed.
    issuer.keys.append(stranger_key)
    assert isinstance(await tokens.check(forged[0], ANY), Rejected)
    clock.advance(INTERVAL)
    assert isinstance(await tokens.check(forged[0], ANY), Caller)
    assert issuer.jwks_hits == 3
    assert issuer.discovery_hits == 1


async def test_requests_meeting_a_fetch_in_flight_wait_for_it(
    issuer: Issuer, pool: UpstreamPool, clock: ManualClock, id_key: SigningKey
) -> None:
    issuer.delay = 0.05
    tokens = tokens_of(keys_of(issuer, pool, clock), clock)
    results = await asyncio.gather(
        *(tokens.check(token(id_key, issuer, f"u{i}"), ANY) for i in range(10))
    )
    assert all(isinstance(result, Caller) for result in results)
    assert (issuer.discovery_hits, issuer.jwks_hits) == (1, 1)


async def test_a_failed_refetch_keeps_the_keys_already_known(
    issuer: Issuer,
    pool: UpstreamPool,
    clock: ManualClock,
    id_key: SigningKey,
    stranger_key: SigningKey,
) -> None:
    tokens = tokens_of(keys_of(issuer, pool, clock), clock)
    assert isinstance(await tokens.check(token(id_key, issuer), ANY), Caller)
    issuer.status = 500
    clock.advance(INTERVAL)
    assert isinstance(await tokens.check(token(stranger_key, issuer), ANY), Rejected)
    assert isinstance(await tokens.check(token(id_key, issuer, "u3"), ANY), Caller)


async def test_keys_are_refreshed_in_the_background_when_old_and_withdrawn_keys_stop_working(
    issuer: Issuer,
    pool: UpstreamPool,
    clock: ManualClock,
    id_key: SigningKey,
    stranger_key: SigningKey,
) -> None:
    keys = keys_of(issuer, pool, clock)
    tokens = tokens_of(keys, clock)
    held = token(id_key, issuer)
    assert isinstance(await tokens.check(held, ANY), Caller)
    issuer.keys[:] = [stranger_key]  # the issuer withdraws the key
    clock.advance(3600)
    await tokens.check(token(stranger_key, issuer), ANY)  # starts the background refresh
    for _ in range(100):
        if keys.find(stranger_key.kid) is not None:
            break
        await asyncio.sleep(0.01)
    assert issuer.jwks_hits == 2
    refused = await tokens.check(held, ANY)  # was cached; its key is gone
    assert isinstance(refused, Rejected)
    assert refused.reason is Reason.UNKNOWN_KID


@pytest.mark.parametrize(
    "breakage",
    ["another issuer", "oversized", "not json", "status"],
)
async def test_what_an_issuer_may_not_send(
    breakage: str, issuer: Issuer, pool: UpstreamPool, clock: ManualClock, id_key: SigningKey
) -> None:
    if breakage == "another issuer":
        issuer.claimed_issuer = "https://evil.example"
    elif breakage == "oversized":
        issuer.jwks_body = b'{"keys":[' + b" " * 200_000 + b"]}"
    elif breakage == "not json":
        issuer.jwks_body = b"<html>"
    else:
        issuer.status = 302
    keys = keys_of(issuer, pool, clock)
    refused = await tokens_of(keys, clock).check(token(id_key, issuer), ANY)
    assert isinstance(refused, Rejected)
    assert refused.reason is Reason.UNKNOWN_KID
    assert len(keys.keys) == 0


async def test_an_issuer_that_does_not_answer_in_time(
    issuer: Issuer, pool: UpstreamPool, clock: ManualClock, id_key: SigningKey
) -> None:
    issuer.delay = 1.0
    keys = IssuerKeys(issuer.issuer, PoolFetch(pool, timeout=0.1), clock)
    started = asyncio.get_running_loop().time()
    refused = await tokens_of(keys, clock).check(token(id_key, issuer), ANY)
    assert isinstance(refused, Rejected)
    assert asyncio.get_running_loop().time() - started < 0.5
