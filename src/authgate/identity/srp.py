"""Server side of Cognito's USER_SRP_AUTH: SRP-6a as amazon-cognito-identity-js computes it.

Cognito's variant differs from RFC 5054 in ways every client depends on: integers are hashed in
their minimal two's-complement form (`pad`), not left-padded to the group size; `k` is hashed
from that form too; `x` salts a hash of `poolName ‖ userId ‖ ":" ‖ password`; the session key
is a one-block HKDF labelled "Caldera Derived Key"; and the client proves the key with an HMAC
over pool name, user id, SECRET_BLOCK and a TIMESTAMP in Java's `EEE MMM d HH:mm:ss UTC yyyy`.

There is no `Session` on PASSWORD_VERIFIER (pycognito and warrant-lite never send one), so what
the server must remember between the two calls is a `Challenge`, which the caller carries in
SECRET_BLOCK (see `secret_block`). Device SRP uses the same functions with the device group
key as `pool_name` and the device key as `user_id`.

Pure: no I/O. Randomness comes from the caller (`random_bytes`), time as `now`.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, NamedTuple

from authgate.errors import AuthgateError

RandomBytes = Callable[[int], bytes]
"""A source of cryptographically random bytes, such as `secrets.token_bytes`."""

N_HEX: Final = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N: Final = int(N_HEX, 16)
"""The 3072-bit MODP prime of RFC 3526 (group 15)."""
G: Final = 2

SALT_BYTES: Final = 16
"""Cognito's SALT is 32 hex digits."""
EPHEMERAL_BYTES: Final = 32
"""Size of the server's secret `b` (256 bits: 128-bit security in a 3072-bit group)."""
KEY_BYTES: Final = 16
DEFAULT_TIMESTAMP_SKEW: Final = 300.0
"""How far (seconds) a TIMESTAMP may sit from the server's clock; AWS publishes no figure."""

_MAX_SRP_A_DIGITS: Final = 1024
"""A is below N (768 hex digits); allow leading zeros, refuse anything longer unparsed."""
_HKDF_INFO: Final = b"Caldera Derived Key\x01"
_DRAW_ATTEMPTS: Final = 16
_HEX = re.compile(r"[0-9a-fA-F]+")
_POOL_ID = re.compile(r"[A-Za-z0-9-]+_[0-9A-Za-z]+")
_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_TIMESTAMP = re.compile(
    r"(?P<weekday>[A-Z][a-z]{2}) (?P<month>[A-Z][a-z]{2}) (?P<day>[1-9][0-9]?) "
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2}) UTC (?P<year>[0-9]{4})"
)


class SrpRejected(AuthgateError):
    """The SRP exchange failed. `reason` is for logs only: clients get one generic denial
    (`NotAuthorizedException` `Incorrect username or password.`), whatever went wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def pad(n: int) -> bytes:
    """Big-endian bytes of `n` with a leading zero byte when the top bit is set.

    This is Java's `BigInteger.toByteArray()` for a non-negative number, and what the clients'
    `padHex` produces; every integer that is hashed is hashed in this form (spec §3.2).
    """
    if n < 0:
        raise ValueError("SRP integers are non-negative")
    return n.to_bytes(n.bit_length() // 8 + 1, "big")


def _hash(*parts: bytes) -> bytes:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.digest()


def _hash_int(*parts: bytes) -> int:
    return int.from_bytes(_hash(*parts), "big")


K: Final = _hash_int(pad(N), pad(G))
"""The multiplier `k = H(PAD(N) ‖ PAD(g))` — not RFC 5054's fixed-width k."""


def pool_name(pool_id: str) -> str:
    """The part of a pool id after the `_` (`us-east-1_AbC123xyz` → `AbC123xyz`).

    A second `_` is refused: the API model allows none in that part, and clients would
    disagree on where the name starts (pycognito takes `split("_")[1]`).
    """
    if _POOL_ID.fullmatch(pool_id) is None:
        raise ValueError(f"not a user pool id: {pool_id!r}")
    return pool_id.partition("_")[2]


def private_key(pool_name: str, user_id: str, password: str, salt: bytes) -> int:
    """`x = H(PAD(salt) ‖ H(poolName ‖ userId ‖ ":" ‖ password))` as an unsigned integer."""
    inner = _hash(f"{pool_name}{user_id}:{password}".encode())
    return _hash_int(pad(int.from_bytes(salt, "big")), inner)


class Verifier(NamedTuple):
    """What is stored for a password instead of the password: `salt` and `v = g^x mod N`."""

    salt: bytes
    verifier: int


def make_verifier(
    pool_name: str,
    user_id: str,
    password: str,
    *,
    random_bytes: RandomBytes = secrets.token_bytes,
) -> Verifier:
    """Salt and verifier for a new password, bound to the pool name and the internal username.

    The salt's first byte is never zero: pycognito pads the SALT *string* where the JS client
    pads the salt *integer*, and the two agree only when the hex does not start with `00`.
    """
    salt = _draw(random_bytes, SALT_BYTES, lambda drawn: drawn[0] != 0)
    x = private_key(pool_name, user_id, password, salt)
    return Verifier(salt, pow(G, x, N))


def _draw(random_bytes: RandomBytes, size: int, acceptable: Callable[[bytes], bool]) -> bytes:
    for _ in range(_DRAW_ATTEMPTS):
        drawn = random_bytes(size)
        if len(drawn) != size:
            raise ValueError(f"the random source returned {len(drawn)} bytes, not {size}")
        if acceptable(drawn):
            return drawn
    raise RuntimeError("the random source keeps returning unusable values")


def parse_srp_a(text: str) -> int:
    """The client's public value from `SRP_A` (hex); refuses `A mod N == 0` and `A >= N`.

    A client that sends `A ≡ 0` would force the server's premaster secret to zero and sign in
    without the password (RFC 5054 §2.5.4 makes the server abort).
    """
    if not text or len(text) > _MAX_SRP_A_DIGITS or not _HEX.fullmatch(text):
        raise SrpRejected("srp_a_malformed")
    big_a = int(text, 16)
    if big_a % N == 0:
        raise SrpRejected("srp_a_zero_mod_n")
    if big_a >= N:
        raise SrpRejected("srp_a_out_of_range")
    return big_a


class Ephemeral(NamedTuple):
    """The server's one-use secret `b` and public value `B = (k·v + g^b) mod N`."""

    small_b: int
    big_b: int


def server_ephemeral(
    verifier: int, *, random_bytes: RandomBytes = secrets.token_bytes
) -> Ephemeral:
    """Draw `b` and compute `B`; a draw giving `b == 0` or `B ≡ 0` is replaced."""
    for _ in range(_DRAW_ATTEMPTS):
        # 256 bits are below N, so only an all-zero draw could give b == 0.
        small_b = int.from_bytes(_draw(random_bytes, EPHEMERAL_BYTES, any), "big")
        big_b = (K * verifier + pow(G, small_b, N)) % N
        if big_b != 0:
            return Ephemeral(small_b, big_b)
    raise RuntimeError("the random source keeps returning unusable values")


def scrambler(big_a: int, big_b: int) -> int:
    """`u = H(PAD(A) ‖ PAD(B))`; zero would make the password irrelevant, so it is refused."""
    u = _hash_int(pad(big_a), pad(big_b))
    if u == 0:
        raise SrpRejected("srp_u_zero")
    return u


def server_premaster(big_a: int, verifier: int, u: int, small_b: int) -> int:
    """`S = (A · v^u mod N)^b mod N`, the value the client reaches from the password."""
    return pow(big_a * pow(verifier, u, N) % N, small_b, N)


def derive_key(premaster: int, u: int) -> bytes:
    """The 16-byte key: HKDF-SHA256 with salt `PAD(u)`, input `PAD(S)`, one block of
    info "Caldera Derived Key" (RFC 5869 with L = 16)."""
    prk = hmac.new(pad(u), pad(premaster), hashlib.sha256).digest()
    return hmac.new(prk, _HKDF_INFO, hashlib.sha256).digest()[:KEY_BYTES]


def claim_signature(
    key: bytes, pool_name: str, user_id: str, secret_block: bytes, timestamp: str
) -> bytes:
    """`HMAC-SHA256(K, poolName ‖ userId ‖ SECRET_BLOCK bytes ‖ TIMESTAMP)` — raw 32 bytes;
    PASSWORD_CLAIM_SIGNATURE is its standard base64."""
    message = pool_name.encode() + user_id.encode() + secret_block + timestamp.encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def format_timestamp(epoch: float) -> str:
    """Cognito's TIMESTAMP for a moment: `Tue Jan 2 03:04:05 UTC 2024` (no leading zero on the
    day, English names whatever the locale)."""
    t = time.gmtime(int(epoch))
    return (
        f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} UTC {t.tm_year:04d}"
    )


def parse_timestamp(text: str) -> int:
    """Seconds since the epoch of a canonical TIMESTAMP.

    AWS refuses a zero-padded day and a weekday that does not fit the date, so the parsed
    moment is rendered again and must give back exactly the text received.
    """
    match = _TIMESTAMP.fullmatch(text)
    if match is None or match["month"] not in _MONTHS:
        raise SrpRejected("timestamp_malformed")
    try:
        epoch = calendar.timegm(
            (
                int(match["year"]),
                _MONTHS.index(match["month"]) + 1,
                int(match["day"]),
                int(match["hour"]),
                int(match["minute"]),
                int(match["second"]),
            )
        )
    except (ValueError, OverflowError):
        raise SrpRejected("timestamp_malformed") from None
    if format_timestamp(epoch) != text:
        raise SrpRejected("timestamp_malformed")
    return epoch


def check_timestamp(text: str, *, now: float, max_skew: float = DEFAULT_TIMESTAMP_SKEW) -> None:
    """The TIMESTAMP is canonical and within `max_skew` seconds of `now`, either way."""
    if abs(parse_timestamp(text) - now) > max_skew:
        raise SrpRejected("timestamp_stale")


@dataclass(frozen=True, slots=True)
class Challenge:
    """What the server must remember from InitiateAuth until PASSWORD_VERIFIER.

    `user_id` is USER_ID_FOR_SRP (the internal username). The caller seals this into
    SECRET_BLOCK, since pycognito and warrant-lite answer without a `Session`.
    """

    user_id: str
    big_a: int
    small_b: int
    big_b: int

    def __repr__(self) -> str:
        return f"Challenge(user_id={self.user_id!r}, small_b=<hidden>)"


def start_challenge(
    user_id: str,
    srp_a: str,
    verifier: int,
    *,
    random_bytes: RandomBytes = secrets.token_bytes,
) -> Challenge:
    """Check the client's `SRP_A` and pick the server's ephemeral for one sign-in attempt."""
    big_a = parse_srp_a(srp_a)
    ephemeral = server_ephemeral(verifier, random_bytes=random_bytes)
    return Challenge(user_id, big_a, ephemeral.small_b, ephemeral.big_b)


def challenge_parameters(
    challenge: Challenge, *, salt: bytes, secret_block: str, username: str | None = None
) -> dict[str, str]:
    """PASSWORD_VERIFIER's ChallengeParameters. `USERNAME` defaults to the internal username;
    the .NET client and pycognito's new-password step read it, so it is always present."""
    return {
        "SALT": salt.hex(),
        "SECRET_BLOCK": secret_block,
        "SRP_B": format(challenge.big_b, "x"),
        "USERNAME": challenge.user_id if username is None else username,
        "USER_ID_FOR_SRP": challenge.user_id,
    }


def canonical_b64decode(text: str, reason: str) -> bytes:
    """Standard base64 in its one canonical spelling, else `SrpRejected(reason)`.

    Strict, so that no two strings stand for the same bytes (unused padding bits set).
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise SrpRejected(reason) from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise SrpRejected(reason)
    return raw


def verify_password_claim(
    challenge: Challenge,
    *,
    pool_name: str,
    verifier: int,
    secret_block: str,
    timestamp: str,
    signature: str,
    now: float,
    max_skew: float = DEFAULT_TIMESTAMP_SKEW,
) -> None:
    """Accept PASSWORD_VERIFIER's answer or raise `SrpRejected`.

    `secret_block` is PASSWORD_CLAIM_SECRET_BLOCK exactly as received (the one `challenge` was
    opened from) and `timestamp` TIMESTAMP as received: both are signed as sent. Cheap checks
    run first; the signature is compared in constant time. The caller still checks that the
    answer's USERNAME resolves to `challenge.user_id` and that the block was not used before.
    """
    check_timestamp(timestamp, now=now, max_skew=max_skew)
    claimed = canonical_b64decode(signature, "signature_malformed")
    block = canonical_b64decode(secret_block, "secret_block_malformed")
    u = scrambler(challenge.big_a, challenge.big_b)
    key = derive_key(server_premaster(challenge.big_a, verifier, u, challenge.small_b), u)
    expected = claim_signature(key, pool_name, challenge.user_id, block, timestamp)
    if not hmac.compare_digest(expected, claimed):
        raise SrpRejected("signature_mismatch")
