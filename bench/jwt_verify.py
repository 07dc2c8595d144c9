"""Micro-benchmark: microseconds per JWT verification, cold and from the verified-token cache.

Run: .venv/bin/python bench/jwt_verify.py [count]

The token is a user-pool access token (RS256, RSA-2048, ~900 bytes) and the verifier is
configured as a COGNITO_USER_POOLS / JWT authorizer would be (issuer, audience, scope). Each
figure is the best of several rounds of `count` calls (shared machines are noisy); PyJWT's
figure, when it is installed, is there for comparison. The calibration line says how fast this
interpreter is, so figures from different machines can be compared.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from authgate.authorizers.jwks import parse_jwks
from authgate.authorizers.jwt_verify import (
    JwtVerifier,
    Requirement,
    Verified,
    VerifierConfig,
    verify,
)
from authgate.authorizers.token_cache import TokenCache
from authgate.clock import SystemClock
from authgate.identity.keys import generate_signing_key, jwks
from authgate.identity.tokens import NATIVE_SCOPE, SignIn, access_token

ISSUER = "http://127.0.0.1:9229/us-east-1_Example1"
CLIENT = "57cbishk4j24pabc1234567890"
ROUNDS = 7


def measure(label: str, count: int, call: Callable[[], object], *, check: bool = True) -> float:
    result = call()  # warm up, and fail loudly if the token does not verify
    if check and not isinstance(result, dict | Verified):
        raise SystemExit(f"{label}: the token did not verify: {result}")
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(count):
            call()
        rounds.append((time.perf_counter_ns() - start) / count / 1000)
    best, median = min(rounds), statistics.median(rounds)
    print(f"{label:<44} best {best:8.2f} µs   median {median:8.2f} µs   ({count} x {ROUNDS})")
    return best


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    id_key, access_key = generate_signing_key(), generate_signing_key()
    document = jwks([id_key, access_key])
    keys = parse_jwks(document)
    clock = SystemClock()
    sign_in = SignIn(
        issuer=ISSUER,
        client_id=CLIENT,
        sub="aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        username="janedoe",
        auth_time=int(clock.now()),
        origin_jti="11111111-1111-4111-8111-111111111111",
        event_id="22222222-2222-4222-8222-222222222222",
    )
    token = access_token(access_key, sign_in, now=clock.now(), lifetime=3600)
    config = VerifierConfig(issuers=frozenset({ISSUER}), audiences=frozenset({CLIENT}))
    requirement = Requirement("access", frozenset({NATIVE_SCOPE}))
    cache: TokenCache[Verified] = TokenCache(clock)
    verifier = JwtVerifier(config, keys, clock, cache=cache)

    print(f"python {sys.version.split()[0]}; token {len(token)} bytes")
    measure("calibration: sum(range(100))", count * 10, lambda: sum(range(100)), check=False)
    measure(
        "cold verify (parse, RSA, claims, scope)",
        count,
        lambda: verify(token, keys, config, now=clock.now(), requirement=requirement),
    )
    measure(
        "cache hit (digest, lookup, scope)", count * 50, lambda: verifier.verify(token, requirement)
    )
    try:
        import jwt
    except ImportError:
        print("PyJWT not installed: no comparison")
        return
    key = jwt.PyJWKSet.from_dict(document)[access_key.kid]
    measure(
        "PyJWT decode RS256 (key object cached)",
        count,
        lambda: jwt.decode(token, key, algorithms=["RS256"], issuer=ISSUER),
    )


if __name__ == "__main__":
    main()
