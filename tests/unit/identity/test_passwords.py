"""Passwords: argon2id hashes that check and age well, Cognito's policy with its exact messages,
and temporary passwords every policy accepts."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authgate.identity.passwords import (
    MAX_PASSWORD_LENGTH,
    SYMBOLS,
    TEMPORARY_PASSWORD_LENGTH,
    HashParameters,
    PasswordHasher,
    PasswordHashError,
    PasswordPolicy,
    PolicyViolation,
    check_policy,
    temporary_password,
)

CHEAP = HashParameters(time_cost=1, memory_kib=64, parallelism=1)
"""Fast enough to hash hundreds of times in a test; never for real use."""

# --- policy --------------------------------------------------------------------------------

DEFAULT = PasswordPolicy()
LENGTH_ONLY = PasswordPolicy(
    minimum_length=6,
    require_uppercase=False,
    require_lowercase=False,
    require_numbers=False,
    require_symbols=False,
)
PREFIX = "Password did not conform with policy: "


@pytest.mark.parametrize(
    ("password", "policy", "message"),
    [
        ("Passw0rd!", DEFAULT, None),
        ("Pa0!pa0!", DEFAULT, None),
        ("Pa0!pa0", DEFAULT, PREFIX + "Password not long enough"),
        ("", DEFAULT, PREFIX + "Password not long enough"),
        ("abc", DEFAULT, PREFIX + "Password not long enough"),  # length is named first
        ("passw0rd!", DEFAULT, PREFIX + "Password must have uppercase characters"),
        ("PASSW0RD!", DEFAULT, PREFIX + "Password must have lowercase characters"),
        ("Password!", DEFAULT, PREFIX + "Password must have numeric characters"),
        ("Passw0rdd", DEFAULT, PREFIX + "Password must have symbol characters"),
        ("password", DEFAULT, PREFIX + "Password must have uppercase characters"),
        ("PASSWORD", DEFAULT, PREFIX + "Password must have lowercase characters"),
        ("Pass w0rd", DEFAULT, None),  # the space is a symbol
        # Only Basic Latin counts as a letter or digit; other scripts are not symbols either.
        ("ÄÖÜpassw0rd!", DEFAULT, PREFIX + "Password must have uppercase characters"),
        ("PASSWÖRD0!", DEFAULT, PREFIX + "Password must have lowercase characters"),
        ("Password\u0661!", DEFAULT, PREFIX + "Password must have numeric characters"),
        ("Passw0rd€", DEFAULT, PREFIX + "Password must have symbol characters"),
        ("Passw0rd\t", DEFAULT, PREFIX + "Password must have symbol characters"),
        ("aaaaaa", LENGTH_ONLY, None),
        ("aaaaa", LENGTH_ONLY, PREFIX + "Password not long enough"),
        ("!!!!!!", LENGTH_ONLY, None),
        ("aA1!" + "a" * 95, PasswordPolicy(minimum_length=99), None),
        ("aA1!" + "a" * 94, PasswordPolicy(minimum_length=99), PREFIX + "Password not long enough"),
        (
            "password",
            PasswordPolicy(require_uppercase=False, require_numbers=False),
            PREFIX + "Password must have symbol characters",
        ),
        (
            "password",
            PasswordPolicy(require_uppercase=False, require_symbols=False),
            PREFIX + "Password must have numeric characters",
        ),
        (
            "password",
            PasswordPolicy(require_uppercase=False, require_numbers=False, require_symbols=False),
            None,
        ),
        ("PASSWORD1", PasswordPolicy(require_lowercase=False, require_symbols=False), None),
        (
            "12345678",
            PasswordPolicy(require_uppercase=False, require_lowercase=False, require_symbols=False),
            None,
        ),
        (
            "12345678",
            PasswordPolicy(require_lowercase=False, require_symbols=False),
            PREFIX + "Password must have uppercase characters",
        ),
    ],
)
def test_policy_messages(password: str, policy: PasswordPolicy, message: str | None) -> None:
    violation = check_policy(password, policy)
    assert (violation.message if violation else None) == message


def test_a_violation_keeps_the_rule_apart_from_the_prefix() -> None:
    violation = check_policy("passw0rd!", DEFAULT)
    assert violation == PolicyViolation("Password must have uppercase characters")
    assert violation.message == (
        "Password did not conform with policy: Password must have uppercase characters"
    )


@pytest.mark.parametrize("symbol", sorted(SYMBOLS))
def test_each_cognito_symbol_counts(symbol: str) -> None:
    assert check_policy("Passw0rd" + symbol, DEFAULT) is None


def test_the_symbol_set_is_cognitos() -> None:
    documented = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-")  # user-pool-settings-policies
    assert len(documented) == 32
    assert {*documented, " "} == SYMBOLS


def test_defaults_are_cognitos() -> None:
    assert PasswordPolicy(8, True, True, True, True, 7) == DEFAULT


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"minimum_length": 5}, "MinimumLength"),
        ({"minimum_length": 100}, "MinimumLength"),
        ({"temporary_password_validity_days": -1}, "TemporaryPasswordValidityDays"),
        ({"temporary_password_validity_days": 366}, "TemporaryPasswordValidityDays"),
    ],
)
def test_policies_out_of_cognitos_ranges_are_refused(fields: dict[str, int], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        PasswordPolicy(**fields)  # type: ignore[arg-type]


# --- temporary passwords ---------------------------------------------------------------------

_policies = st.builds(
    PasswordPolicy,
    minimum_length=st.integers(min_value=6, max_value=99),
    require_uppercase=st.booleans(),
    require_lowercase=st.booleans(),
    require_numbers=st.booleans(),
    require_symbols=st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(policy=_policies)
def test_property_temporary_passwords_satisfy_their_policy(policy: PasswordPolicy) -> None:
    password = temporary_password(policy)
    assert check_policy(password, policy) is None
    assert check_policy(password, DEFAULT) is None  # every class, whatever the policy
    assert len(password) == max(policy.minimum_length, TEMPORARY_PASSWORD_LENGTH)
    assert password.isascii()
    assert password.isprintable()
    assert not set(password) & set("\"'\\`<>& ")


def test_temporary_passwords_are_unpredictable() -> None:
    drawn = {temporary_password(DEFAULT) for _ in range(200)}
    assert len(drawn) == 200
    positions = {p.index(next(c for c in p if c.isdigit())) for p in drawn}
    assert len(positions) > 6  # the classes are shuffled, not always at the front


def test_temporary_passwords_follow_the_injected_source() -> None:
    def counting_source() -> Callable[[int], bytes]:
        numbers = itertools.count()
        return lambda size: bytes(next(numbers) % 256 for _ in range(size))

    first = temporary_password(DEFAULT, random_bytes=counting_source())
    assert first == temporary_password(DEFAULT, random_bytes=counting_source())
    assert check_policy(first, DEFAULT) is None


def test_a_useless_random_source_is_refused_not_looped_on() -> None:
    with pytest.raises(RuntimeError, match="random source"):
        temporary_password(DEFAULT, random_bytes=lambda size: b"\xff" * size)


# --- hashing -------------------------------------------------------------------------------


def test_hash_is_argon2id_with_the_documented_cost() -> None:
    hasher = PasswordHasher()
    stored = hasher.hash("Passw0rd!")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    started = time.perf_counter()
    assert hasher.verify(stored, "Passw0rd!")
    elapsed = time.perf_counter() - started
    assert 0.002 < elapsed < 2.0  # memory-hard work happened, and it is not absurdly slow
    assert not hasher.verify(stored, "Passw0rd")
    assert not hasher.needs_rehash(stored)


@pytest.mark.parametrize(
    "password", ["Passw0rd!", "", "Pässwörd ✓ 密码", "x" * MAX_PASSWORD_LENGTH]
)
def test_hash_round_trip(password: str) -> None:
    hasher = PasswordHasher(CHEAP)
    stored = hasher.hash(password)
    assert stored.startswith("$argon2id$")
    assert hasher.verify(stored, password)
    assert not hasher.verify(stored, password + "x")
    assert not hasher.verify(stored, password.upper() + "!")


def test_each_hash_has_its_own_salt() -> None:
    hasher = PasswordHasher(CHEAP)
    assert len({hasher.hash("same") for _ in range(10)}) == 10


def test_the_salt_comes_from_the_injected_source() -> None:
    hasher = PasswordHasher(CHEAP, random_bytes=lambda size: b"\x01" * size)
    assert hasher.hash("same") == hasher.hash("same")
    assert hasher.hash("same") != hasher.hash("other")


def test_other_parameters_need_a_rehash() -> None:
    old = PasswordHasher(CHEAP).hash("Passw0rd!")
    current = PasswordHasher(HashParameters(time_cost=2, memory_kib=128, parallelism=1))
    assert current.needs_rehash(old)
    assert current.verify(old, "Passw0rd!")  # still checks: parameters live in the hash
    assert not current.needs_rehash(current.hash("Passw0rd!"))


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plaintext",
        "$argon2id$v=19$m=64,t=1,p=1$",
        "$2b$12$abcdefghijklmnopqrstuuK9Rr8wZ8z0iP2nRkKX5qKZ0bq8nM0a",
    ],
)
def test_unreadable_hashes_raise(stored: str) -> None:
    hasher = PasswordHasher(CHEAP)
    with pytest.raises(PasswordHashError):
        hasher.verify(stored, "Passw0rd!")


def test_unreadable_hashes_cannot_be_judged_for_rehashing() -> None:
    with pytest.raises(PasswordHashError):
        PasswordHasher(CHEAP).needs_rehash("plaintext")


def test_burn_costs_about_what_a_verification_costs() -> None:
    hasher = PasswordHasher()
    stored = hasher.hash("Passw0rd!")
    hasher.burn("warm-up")  # the first call also makes the decoy hash

    def best_of_three(work: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return min(times)

    verifying = best_of_three(lambda: hasher.verify(stored, "wrong"))
    burning = best_of_three(lambda: hasher.burn("wrong"))
    assert burning > 0.3 * verifying
