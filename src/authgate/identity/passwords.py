"""User-pool passwords: argon2id hashes, Cognito's password policy, temporary passwords.

The hash serves USER_PASSWORD_AUTH and ADMIN_USER_PASSWORD_AUTH; USER_SRP_AUTH uses the SRP
verifier (`srp.make_verifier`) stored beside it, since SRP cannot work from an argon2 hash.

Default cost follows OWASP's argon2id profile (19 MiB, 2 passes, 1 lane): about 25 ms and
19 MiB per hash or check on one core of the reference machine. argon2-cffi's own default
(64 MiB, 3 passes, 4 lanes) costs about 140 ms there, too much for a sign-in endpoint that
also runs many at once. Raising the parameters later is safe: `needs_rehash` says which
stored hashes to replace at the next successful sign-in.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Final

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from authgate.errors import AuthgateError
from authgate.identity.srp import RandomBytes

MAX_PASSWORD_LENGTH: Final = 256
"""Cognito's limit (a request-validation error above it, not a policy failure)."""

UPPERCASE: Final = frozenset(string.ascii_uppercase)
LOWERCASE: Final = frozenset(string.ascii_lowercase)
DIGITS: Final = frozenset(string.digits)
SYMBOLS: Final = frozenset("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")
"""Cognito's special characters; the space counts as one (Developer Guide,
user-pool-settings-policies). Letters and digits are Basic Latin only."""

POLICY_PREFIX: Final = "Password did not conform with policy: "
NOT_LONG_ENOUGH: Final = "Password not long enough"
NEEDS_UPPERCASE: Final = "Password must have uppercase characters"
NEEDS_LOWERCASE: Final = "Password must have lowercase characters"
NEEDS_NUMBERS: Final = "Password must have numeric characters"
NEEDS_SYMBOLS: Final = "Password must have symbol characters"

TEMPORARY_PASSWORD_LENGTH: Final = 12
"""Length of generated temporary passwords unless the policy asks for more (~75 bits)."""
_TEMPORARY_SYMBOLS: Final = "!#$%*+-.:=?@^_~"
"""Symbols for generated passwords: none that HTML, quoting or a shell would mangle when the
password is pasted from an invitation message."""


class PasswordHashError(AuthgateError):
    """A stored hash cannot be read: corrupted, truncated, or not an argon2 hash."""


@dataclass(frozen=True, slots=True)
class HashParameters:
    """argon2id cost parameters; `memory_kib` is in KiB, as argon2 counts it."""

    time_cost: int = 2
    memory_kib: int = 19 * 1024
    parallelism: int = 1
    hash_len: int = 32
    salt_len: int = 16


class PasswordHasher:
    """argon2id hashing and checking with one set of parameters.

    Checking is constant-time in the hash comparison (libargon2 compares in constant time);
    `burn` spends the same effort for a user that does not exist, so that response times do
    not tell which usernames are real.
    """

    __slots__ = ("_dummy", "_hasher", "_parameters", "_random_bytes")

    def __init__(
        self,
        parameters: HashParameters | None = None,
        *,
        random_bytes: RandomBytes = secrets.token_bytes,
    ) -> None:
        self._parameters = parameters or HashParameters()
        p = self._parameters
        self._hasher = argon2.PasswordHasher(
            time_cost=p.time_cost,
            memory_cost=p.memory_kib,
            parallelism=p.parallelism,
            hash_len=p.hash_len,
            salt_len=p.salt_len,
            type=argon2.Type.ID,
        )
        self._random_bytes = random_bytes
        self._dummy: str | None = None

    @property
    def parameters(self) -> HashParameters:
        return self._parameters

    def hash(self, password: str) -> str:
        """The PHC string, `$argon2id$v=19$m=…,t=…,p=…$salt$hash`."""
        return self._hasher.hash(password, salt=self._random_bytes(self._parameters.salt_len))

    def verify(self, stored: str, password: str) -> bool:
        """Does `password` match `stored`? A hash that cannot be read raises PasswordHashError."""
        try:
            return self._hasher.verify(stored, password)
        except VerifyMismatchError:
            return False
        except (InvalidHashError, VerificationError) as exc:
            raise PasswordHashError(f"unreadable password hash: {type(exc).__name__}") from None

    def needs_rehash(self, stored: str) -> bool:
        """Was `stored` made with other parameters (or another argon2 variant) than these?"""
        try:
            return self._hasher.check_needs_rehash(stored)
        except (InvalidHashError, ValueError):
            raise PasswordHashError("unreadable password hash") from None

    def burn(self, password: str) -> None:
        """Do the work of one `verify` against a hash nobody has, and learn nothing from it."""
        if self._dummy is None:
            self._dummy = self.hash(secrets.token_urlsafe(16))
        self.verify(self._dummy, password)


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """A pool's `Policies.PasswordPolicy`, with Cognito's defaults (user-pool-settings-policies).

    TemporaryPasswordValidityDays is carried for the sign-in flow; checking a password does not
    use it.
    """

    minimum_length: int = 8
    require_uppercase: bool = True
    require_lowercase: bool = True
    require_numbers: bool = True
    require_symbols: bool = True
    temporary_password_validity_days: int = 7

    def __post_init__(self) -> None:
        if not 6 <= self.minimum_length <= 99:
            raise ValueError("MinimumLength must be between 6 and 99")
        if not 0 <= self.temporary_password_validity_days <= 365:
            raise ValueError("TemporaryPasswordValidityDays must be between 0 and 365")


@dataclass(frozen=True, slots=True)
class PolicyViolation:
    """Why a password was refused: `InvalidPasswordException` with `message`."""

    detail: str

    @property
    def message(self) -> str:
        return POLICY_PREFIX + self.detail


def check_policy(password: str, policy: PasswordPolicy) -> PolicyViolation | None:
    """The first rule `password` breaks, or None. Cognito names one rule per refusal; the order
    here (length, then the character classes in the policy's field order) is our choice."""
    chars = set(password)
    if len(password) < policy.minimum_length:
        return PolicyViolation(NOT_LONG_ENOUGH)
    if policy.require_uppercase and not chars & UPPERCASE:
        return PolicyViolation(NEEDS_UPPERCASE)
    if policy.require_lowercase and not chars & LOWERCASE:
        return PolicyViolation(NEEDS_LOWERCASE)
    if policy.require_numbers and not chars & DIGITS:
        return PolicyViolation(NEEDS_NUMBERS)
    if policy.require_symbols and not chars & SYMBOLS:
        return PolicyViolation(NEEDS_SYMBOLS)
    return None


def temporary_password(
    policy: PasswordPolicy, *, random_bytes: RandomBytes = secrets.token_bytes
) -> str:
    """A password for AdminCreateUser's invitation that `policy` accepts.

    It always holds every character class, so it passes whatever the policy requires.
    """
    classes = (
        string.ascii_uppercase,
        string.ascii_lowercase,
        string.digits,
        _TEMPORARY_SYMBOLS,
    )
    everything = "".join(classes)
    length = max(policy.minimum_length, TEMPORARY_PASSWORD_LENGTH)
    draw = _UniformDraw(random_bytes)
    chars = [alphabet[draw.below(len(alphabet))] for alphabet in classes]
    chars += [everything[draw.below(len(everything))] for _ in range(length - len(chars))]
    for i in range(len(chars) - 1, 0, -1):  # Fisher-Yates, so the classes sit anywhere
        j = draw.below(i + 1)
        chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


class _UniformDraw:
    """Unbiased small integers from a byte source (rejection sampling, bounded)."""

    __slots__ = ("_budget", "_random_bytes")

    def __init__(self, random_bytes: RandomBytes) -> None:
        self._random_bytes = random_bytes
        self._budget = 4096

    def below(self, n: int) -> int:
        if not 0 < n <= 256:
            raise ValueError("draws are of one byte")
        limit = 256 - 256 % n
        while self._budget > 0:
            self._budget -= 1
            (byte,) = self._random_bytes(1)
            if byte < limit:
                return byte % n
        raise RuntimeError("the random source keeps returning unusable values")
