"""Unknown kids and the JWKS refetch rule, on a manual clock."""

from __future__ import annotations

import pytest

from authgate.authorizers.jwks import KeySet, parse_jwks
from authgate.authorizers.jwt_verify import (
    JwtVerifier,
    Reason,
    RefetchGate,
    Rejected,
    Verified,
    VerifierConfig,
)
from authgate.clock import ManualClock
from authgate.identity.keys import SigningKey, jwks
from authgate.identity.tokens import access_token
from tests.unit.authorizers.conftest import LIFETIME, NOW, SIGN_IN, forge, pool_claims, rsa_signer

INTERVAL = 60.0


def unknown(result: Verified | Rejected) -> bool:
    """True if the kid was unknown; the value is whether a refetch is allowed."""
    assert isinstance(result, Rejected), result
    assert result.reason is Reason.UNKNOWN_KID
    return result.refetch_keys


@pytest.fixture
def gate(clock: ManualClock) -> RefetchGate:
    return RefetchGate(clock, interval=INTERVAL)


@pytest.fixture
def rotated_token(stranger_key: SigningKey) -> str:
    """Signed by a key the issuer has just started using (not in the cached JWKS yet)."""
    return access_token(stranger_key, SIGN_IN, now=NOW, lifetime=LIFETIME)


def test_gate_opens_once_per_interval(gate: RefetchGate, clock: ManualClock) -> None:
    assert gate.allow()
    assert not gate.allow()
    clock.advance(INTERVAL - 0.001)
    assert not gate.allow()
    clock.advance(0.001)
    assert gate.allow()
    assert not gate.allow()


def test_a_fetch_for_another_reason_closes_the_gate(gate: RefetchGate, clock: ManualClock) -> None:
    gate.fetched()
    assert not gate.allow()
    clock.advance(INTERVAL)
    assert gate.allow()


def test_interval_must_be_positive(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="positive"):
        RefetchGate(clock, interval=0)


def test_unknown_kid_asks_for_one_refetch_then_verifies_with_new_keys(
    config: VerifierConfig,
    keys: KeySet,
    clock: ManualClock,
    gate: RefetchGate,
    id_key: SigningKey,
    access_key: SigningKey,
    stranger_key: SigningKey,
    rotated_token: str,
) -> None:
    verifier = JwtVerifier(config, keys, clock, gate=gate)
    assert unknown(verifier.verify(rotated_token))
    # The caller fetches the JWKS, which now lists the new key.
    verifier.replace_keys(parse_jwks(jwks([id_key, access_key, stranger_key])))
    assert isinstance(verifier.verify(rotated_token), Verified)


def test_a_flood_of_unknown_kids_allows_one_refetch_per_interval(
    config: VerifierConfig,
    keys: KeySet,
    clock: ManualClock,
    gate: RefetchGate,
    access_key: SigningKey,
) -> None:
    verifier = JwtVerifier(config, keys, clock, gate=gate)

    def made_up(i: int) -> str:
        return forge({"kid": f"made-up-{i}", "alg": "RS256"}, pool_claims(), rsa_signer(access_key))

    answers = [unknown(verifier.verify(made_up(i))) for i in range(50)]
    assert answers == [True] + [False] * 49
    verifier.replace_keys(keys)  # the caller refetched: nothing new
    clock.advance(INTERVAL / 2)
    assert not unknown(verifier.verify(made_up(50)))
    clock.advance(INTERVAL / 2)
    assert unknown(verifier.verify(made_up(51)))


def test_no_refetch_without_a_gate(
    config: VerifierConfig, keys: KeySet, clock: ManualClock, rotated_token: str
) -> None:
    verifier = JwtVerifier(config, keys, clock)
    assert not unknown(verifier.verify(rotated_token))


def test_a_token_without_kid_never_triggers_a_refetch(
    config: VerifierConfig,
    keys: KeySet,
    clock: ManualClock,
    gate: RefetchGate,
    access_key: SigningKey,
) -> None:
    verifier = JwtVerifier(config, keys, clock, gate=gate)
    token = forge({"alg": "RS256"}, pool_claims(), rsa_signer(access_key))
    assert not unknown(verifier.verify(token))
    assert gate.allow()  # the slot was not spent


def test_malformed_tokens_never_trigger_a_refetch(
    config: VerifierConfig, keys: KeySet, clock: ManualClock, gate: RefetchGate
) -> None:
    verifier = JwtVerifier(config, keys, clock, gate=gate)
    result = verifier.verify(forge({"kid": "new", "alg": "RS256"}, pool_claims())[:-1] + "*")
    assert isinstance(result, Rejected)
    assert result.reason is Reason.MALFORMED
    assert gate.allow()
