"""JWT verification for the JWT (HTTP API) and COGNITO_USER_POOLS (REST) authorizers.

Two steps, as RFC 8725 advises: first the JWS (RFC 7515) — size caps, strict base64url and
JSON, `alg` in the configured allow-list and matching the key's type, the `kid` found, the
signature checked — then the claims, separately: `iss` exact, `aud` (or `client_id` when there
is no `aud`), `exp`/`nbf`/`iat` with a small leeway. What varies per method (`token_use`,
scopes) is a `Requirement`, checked last, so one verified token serves every method.

Failures carry an internal reason code; the authorizers map them to AWS's responses
(401 Unauthorized, or 403 for JWT-authorizer scope failures). Pure: no I/O — keys come from a
`KeySource`, time from a `Clock`; when a kid is unknown the verifier says whether the caller may
refetch the JWKS now (`RefetchGate`: at most once per interval).
"""

from __future__ import annotations

import hmac
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from authgate.authorizers.jwks import (
    HMAC_ALGORITHMS,
    MAX_KID_LENGTH,
    RSA_ALGORITHMS,
    HmacKey,
    RsaKey,
    VerificationKey,
    b64url_decode,
)
from authgate.strict_json import no_duplicate_members

if TYPE_CHECKING:
    from authgate.authorizers.token_cache import TokenCache
    from authgate.clock import Clock

DEFAULT_MAX_TOKEN_LENGTH = 16_384
"""Cognito tokens are 1-2 KiB even with many attributes; API Gateway caps headers at 10 KiB."""
DEFAULT_MAX_HEADER_LENGTH = 1024
DEFAULT_LEEWAY = 5.0
DEFAULT_REFETCH_INTERVAL = 60.0

_RSA_HASHES: Mapping[str, hashes.HashAlgorithm] = {
    "RS256": hashes.SHA256(),
    "RS384": hashes.SHA384(),
    "RS512": hashes.SHA512(),
}
_HMAC_HASHES: Mapping[str, str] = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
_PKCS1 = padding.PKCS1v15()
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


class Reason(StrEnum):
    """Why a token was refused: for logs, metrics and the authorizer's choice of response."""

    MALFORMED = "malformed"
    ALG_NOT_ALLOWED = "alg_not_allowed"
    UNKNOWN_KID = "unknown_kid"
    BAD_SIGNATURE = "bad_signature"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    WRONG_TOKEN_USE = "wrong_token_use"  # noqa: S105 - a reason code
    INSUFFICIENT_SCOPE = "insufficient_scope"
    REVOKED = "revoked"
    """Valid, but signed out, revoked or its user disabled (user-pool tokens only)."""


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: Reason
    detail: str
    """Internal, for logs: never sent to the caller."""
    refetch_keys: bool = False
    """Unknown kid and the refetch interval has passed: fetch the JWKS, then verify again."""


@dataclass(frozen=True, slots=True)
class Verified:
    """A token whose signature and claims checked out. `claims` is read-only (arrays arrive
    as tuples), as one instance may be served from the cache to many requests."""

    claims: Mapping[str, object]
    scopes: frozenset[str]
    """From `scope` (space-separated) or, failing that, `scp` (list or string)."""
    alg: str
    kid: str | None
    expires_at: float

    @property
    def subject(self) -> str | None:
        return _str_or_none(self.claims.get("sub"))

    @property
    def jti(self) -> str | None:
        return _str_or_none(self.claims.get("jti"))

    @property
    def origin_jti(self) -> str | None:
        return _str_or_none(self.claims.get("origin_jti"))


Result = Verified | Rejected


class KeySource(Protocol):
    """Where the verifier finds a token's key (an issuer's JWKS, a shared secret)."""

    def find(self, kid: str | None) -> VerificationKey | None: ...


@dataclass(frozen=True, slots=True)
class VerifierConfig:
    """One issuer set, fixed when the authorizer is compiled."""

    issuers: frozenset[str]
    audiences: frozenset[str] | None = None
    """None: no audience check (Cognito authorizers check `aud` with their own regex)."""
    algorithms: frozenset[str] = frozenset({"RS256"})
    leeway: float = DEFAULT_LEEWAY
    max_token_length: int = DEFAULT_MAX_TOKEN_LENGTH
    max_header_length: int = DEFAULT_MAX_HEADER_LENGTH

    def __post_init__(self) -> None:
        if not self.issuers:
            raise ValueError("at least one issuer is needed")
        if self.audiences is not None and not self.audiences:
            raise ValueError("an empty audience list would refuse every token; use None")
        if not self.algorithms:
            raise ValueError("at least one algorithm is needed")
        unknown = self.algorithms - RSA_ALGORITHMS - HMAC_ALGORITHMS
        if unknown:
            raise ValueError(f"unsupported algorithms: {sorted(unknown)}")
        if self.algorithms & RSA_ALGORITHMS and self.algorithms & HMAC_ALGORITHMS:
            raise ValueError("an issuer signs with RSA keys (JWKS) or a shared secret, not both")
        if not 0 <= self.leeway <= 300:
            raise ValueError("leeway must be between 0 and 300 seconds")


@dataclass(frozen=True, slots=True)
class Requirement:
    """What one method asks of a verified token."""

    token_use: str | None = None
    """`id` or `access` (Cognito authorizers); None accepts any."""
    scopes: frozenset[str] = frozenset()
    scope_match: Literal["any", "all"] = "any"
    """API Gateway grants access when the token has at least one of the method's scopes."""


ANY_TOKEN = Requirement()


# Step 1: the JWS ------------------------------------------------------------------------------


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


_JSON = json.JSONDecoder(object_pairs_hook=no_duplicate_members, parse_constant=_no_constant)


def _json_object(segment: str) -> dict[str, object] | None:
    raw = b64url_decode(segment)
    if raw is None:
        return None
    try:
        value = _JSON.decode(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True, slots=True)
class SignedToken:
    """A token whose signature verified; its claims are not checked yet."""

    claims: dict[str, object]
    alg: str
    kid: str | None


def verify_signature(token: str, keys: KeySource, config: VerifierConfig) -> SignedToken | Rejected:
    """RFC 7515 §5.2 for the compact serialization, refusing what we do not understand."""
    if len(token) > config.max_token_length:
        return Rejected(Reason.MALFORMED, "token too long")
    if not token.isascii():
        return Rejected(Reason.MALFORMED, "token is not ASCII")
    parts = token.split(".")
    if len(parts) != 3:
        return Rejected(Reason.MALFORMED, f"{len(parts)} parts, a JWS has 3")
    header_segment, payload_segment, signature_segment = parts
    if len(header_segment) > config.max_header_length:
        return Rejected(Reason.MALFORMED, "header too long")
    header = _json_object(header_segment)
    if header is None:
        return Rejected(Reason.MALFORMED, "header is not base64url JSON object")
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str):
        return Rejected(Reason.MALFORMED, "no alg")
    if "crit" in header or "enc" in header:
        return Rejected(Reason.MALFORMED, "critical extensions or encryption not supported")
    if alg not in config.algorithms:  # `none` is never in the allow-list
        return Rejected(Reason.ALG_NOT_ALLOWED, f"alg {alg[:20]!r} not allowed")
    if kid is not None and (not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_LENGTH):
        return Rejected(Reason.MALFORMED, "kid is not a short string")
    signature = b64url_decode(signature_segment)
    if signature is None or not _B64URL.fullmatch(payload_segment):
        return Rejected(Reason.MALFORMED, "payload or signature is not base64url")
    # jku/x5u/jwk/x5c header members are ignored: keys come from the configured source only.
    key = keys.find(kid)
    if key is None:
        return Rejected(Reason.UNKNOWN_KID, f"no key {kid!r}"[:80])
    if not _key_fits(key, alg):
        return Rejected(Reason.ALG_NOT_ALLOWED, f"alg {alg} does not fit the key {kid!r}"[:80])
    signing_input = token[: len(header_segment) + 1 + len(payload_segment)].encode("ascii")
    if not _signature_valid(key, alg, signing_input, signature):
        return Rejected(Reason.BAD_SIGNATURE, "signature does not verify")
    claims = _json_object(payload_segment)
    if claims is None:
        return Rejected(Reason.MALFORMED, "payload is not a base64url JSON object")
    return SignedToken(claims, alg, kid)


def _key_fits(key: VerificationKey, alg: str) -> bool:
    """The key's type decides the algorithm family: an RSA public key is never an HMAC secret."""
    if isinstance(key, RsaKey):
        return alg in RSA_ALGORITHMS and (key.alg is None or key.alg == alg)
    return alg in HMAC_ALGORITHMS


def _signature_valid(key: VerificationKey, alg: str, signing_input: bytes, sig: bytes) -> bool:
    if isinstance(key, HmacKey):
        expected = hmac.new(key.secret, signing_input, _HMAC_HASHES[alg]).digest()
        return hmac.compare_digest(expected, sig)
    if len(sig) != key.size:
        return False
    try:
        key.public_key.verify(sig, signing_input, _PKCS1, _RSA_HASHES[alg])
    except InvalidSignature:
        return False
    return True


# Step 2: the claims ---------------------------------------------------------------------------


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _audience_ok(claims: Mapping[str, object], audiences: frozenset[str]) -> bool:
    """API Gateway: `aud` when present (string or array), else `client_id` (Cognito access
    tokens have no `aud`)."""
    aud = claims.get("aud")
    if aud is None:
        client_id = claims.get("client_id")
        return isinstance(client_id, str) and client_id in audiences
    if isinstance(aud, str):
        return aud in audiences
    return isinstance(aud, list) and any(isinstance(a, str) and a in audiences for a in aud)


def _scopes(claims: Mapping[str, object]) -> frozenset[str]:
    value = claims.get("scope", claims.get("scp"))
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(s for s in value if isinstance(s, str))
    return frozenset()


def _freeze(value: object) -> object:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def validate_claims(signed: SignedToken, config: VerifierConfig, *, now: float) -> Result:
    """RFC 7519 §4.1 registered claims, as API Gateway's JWT authorizer checks them."""
    claims = signed.claims
    iss = claims.get("iss")
    if not isinstance(iss, str) or iss not in config.issuers:
        return Rejected(Reason.WRONG_ISSUER, "iss is not a configured issuer")
    if config.audiences is not None and not _audience_ok(claims, config.audiences):
        return Rejected(Reason.WRONG_AUDIENCE, "neither aud nor client_id is a configured audience")
    leeway = config.leeway
    exp = _number(claims.get("exp"))
    if exp is None:
        return Rejected(Reason.MALFORMED, "exp missing or not a number")
    if now >= exp + leeway:
        return Rejected(Reason.EXPIRED, "token has expired")
    for name in ("nbf", "iat"):
        if name not in claims:
            continue
        moment = _number(claims[name])
        if moment is None:
            return Rejected(Reason.MALFORMED, f"{name} is not a number")
        if moment > now + leeway:
            return Rejected(Reason.NOT_YET_VALID, f"{name} is in the future")
    frozen = MappingProxyType({k: _freeze(v) for k, v in claims.items()})
    return Verified(frozen, _scopes(claims), signed.alg, signed.kid, exp)


def check_requirement(verified: Verified, requirement: Requirement) -> Result:
    """Per-method checks; cheap, so they run on cache hits too."""
    if requirement.token_use is not None and (
        verified.claims.get("token_use") != requirement.token_use
    ):
        return Rejected(Reason.WRONG_TOKEN_USE, f"token_use is not {requirement.token_use!r}")
    wanted = requirement.scopes
    if wanted:
        if requirement.scope_match == "any":
            missing = wanted.isdisjoint(verified.scopes)
        else:
            missing = not wanted <= verified.scopes
        if missing:
            return Rejected(Reason.INSUFFICIENT_SCOPE, "token lacks the method's scopes")
    return verified


def verify(
    token: str,
    keys: KeySource,
    config: VerifierConfig,
    *,
    now: float,
    requirement: Requirement = ANY_TOKEN,
) -> Result:
    """The whole check, uncached."""
    signed = verify_signature(token, keys, config)
    if isinstance(signed, Rejected):
        return signed
    verified = validate_claims(signed, config, now=now)
    if isinstance(verified, Rejected):
        return verified
    return check_requirement(verified, requirement)


# Key refetch and caching ----------------------------------------------------------------------


class RefetchGate:
    """At most one JWKS refetch per interval, whatever the number of unknown kids presented:
    a stream of made-up kids must not become a stream of requests to the issuer."""

    def __init__(self, clock: Clock, *, interval: float = DEFAULT_REFETCH_INTERVAL) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._clock = clock
        self._interval = interval
        self._last: float | None = None

    def fetched(self) -> None:
        """Note a fetch made for another reason (start-up, scheduled refresh)."""
        self._last = self._clock.monotonic()

    def allow(self) -> bool:
        """True, and the slot is taken, when a refetch may happen now."""
        now = self._clock.monotonic()
        if self._last is not None and now - self._last < self._interval:
            return False
        self._last = now
        return True


class JwtVerifier:
    """`verify` with a cache of verified tokens and the refetch rule; the caller owns I/O.

    On `Rejected(UNKNOWN_KID, refetch_keys=True)` the caller fetches the JWKS, passes it to
    `replace_keys` and calls `verify` once more.
    """

    def __init__(
        self,
        config: VerifierConfig,
        keys: KeySource,
        clock: Clock,
        *,
        cache: TokenCache[Verified] | None = None,
        gate: RefetchGate | None = None,
    ) -> None:
        self.config = config
        self._keys = keys
        self._clock = clock
        self._cache = cache
        self._gate = gate

    @property
    def keys(self) -> KeySource:
        return self._keys

    def replace_keys(self, keys: KeySource) -> int:
        """Use a newly fetched key set; cached tokens whose key left the set are dropped.
        Returns how many were dropped."""
        self._keys = keys
        if self._gate is not None:
            self._gate.fetched()
        if self._cache is None:
            return 0
        return self._cache.invalidate(lambda entry: keys.find(entry.value.kid) is None)

    def verify(self, token: str, requirement: Requirement = ANY_TOKEN) -> Result:
        cache = self._cache
        if cache is not None:
            hit = cache.get(token)
            if hit is not None:
                return check_requirement(hit, requirement)
        signed = verify_signature(token, self._keys, self.config)
        if isinstance(signed, Rejected):
            if signed.reason is Reason.UNKNOWN_KID and self._may_refetch(token):
                return replace(signed, refetch_keys=True)
            return signed
        verified = validate_claims(signed, self.config, now=self._clock.now())
        if isinstance(verified, Rejected):
            return verified
        if cache is not None:
            cache.put(
                token,
                verified,
                expires_at=verified.expires_at,
                subject=verified.subject,
                jti=verified.jti,
                origin_jti=verified.origin_jti,
            )
        return check_requirement(verified, requirement)

    def _may_refetch(self, token: str) -> bool:
        # A token naming no kid cannot be helped by a refetch (JWKS keys all have kids).
        header = _json_object(token.split(".", 1)[0])
        has_kid = header is not None and isinstance(header.get("kid"), str)
        return has_kid and self._gate is not None and self._gate.allow()


__all__ = [
    "ANY_TOKEN",
    "JwtVerifier",
    "KeySource",
    "Reason",
    "RefetchGate",
    "Rejected",
    "Requirement",
    "Result",
    "SignedToken",
    "Verified",
    "VerifierConfig",
    "check_requirement",
    "validate_claims",
    "verify",
    "verify_signature",
]
