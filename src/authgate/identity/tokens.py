"""ID, access and refresh tokens as a Cognito user pool issues them, and their lifetimes.

Claims follow the Cognito Developer Guide pages "Using the ID token" / "Using the access
token" (header `{"kid","alg":"RS256"}`, no `typ`). Signing is RS256 (RFC 7518 §3.3: RSASSA-PKCS1
v1.5 with SHA-256) done with `cryptography` directly: a JWS is three base64url parts and one
signature, and doing it here keeps JWT libraries out of the gateway's runtime (tests check the
result with PyJWT, an independent implementation). Pure: the caller gives the key, the time and
every claim input; only `jti` and refresh tokens draw randomness.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from authgate.identity.keys import ALGORITHM, SigningKey, TokenUse, b64url

NATIVE_SCOPE = "aws.cognito.signin.user.admin"
"""The only scope of access tokens from InitiateAuth / AdminInitiateAuth."""

BOOLEAN_ATTRIBUTES = frozenset({"email_verified", "phone_number_verified"})
NUMBER_ATTRIBUTES = frozenset({"updated_at"})
RESERVED_CLAIMS = frozenset(
    {
        "aud", "acr", "amr", "at_hash", "auth_time", "client_id", "cognito:groups",
        "cognito:preferred_role", "cognito:roles", "cognito:username", "device_key",
        "event_id", "exp", "iat", "identities", "iss", "jti", "nbf", "nonce", "origin_jti",
        "scope", "token_use", "username", "version",
    }
)  # fmt: skip
"""Claims the pool sets itself; a user attribute of that name would be a bug upstream."""

_PADDING = padding.PKCS1v15()


@dataclass(frozen=True, slots=True)
class GroupMembership:
    """A group the user is in, as the token needs it (Cognito `CreateGroup` fields)."""

    name: str
    precedence: int | None = None
    role_arn: str | None = None


@dataclass(frozen=True, slots=True)
class SignIn:
    """What every token issued from one authentication shares (refreshes keep it)."""

    issuer: str
    """`<public base URL>/<poolId>`, no trailing slash."""
    client_id: str
    sub: str
    """The user's UUID; for client_credentials tokens, the client id."""
    username: str | None
    """Internal username; None for client_credentials tokens."""
    auth_time: int
    origin_jti: str | None = None
    event_id: str | None = None
    groups: tuple[GroupMembership, ...] = ()
    device_key: str | None = None


def new_jti() -> str:
    return str(uuid.uuid4())


def group_claims(groups: Sequence[GroupMembership]) -> dict[str, object]:
    """`cognito:groups`, `cognito:roles` and `cognito:preferred_role` for an ID token.

    The preferred role belongs to the group of lowest precedence (a group without one ranks
    last); when several groups tie there with different roles, no role is preferred.
    """
    if not groups:
        return {}
    claims: dict[str, object] = {"cognito:groups": [g.name for g in groups]}
    with_roles = [g for g in groups if g.role_arn is not None]
    if not with_roles:
        return claims
    roles = list(dict.fromkeys(g.role_arn for g in with_roles if g.role_arn is not None))
    best = min(_rank(g) for g in with_roles)
    top = {g.role_arn for g in with_roles if _rank(g) == best}
    if len(top) == 1:
        claims["cognito:preferred_role"] = top.pop()
    claims["cognito:roles"] = roles
    return claims


def _rank(group: GroupMembership) -> tuple[int, int]:
    return (0, group.precedence) if group.precedence is not None else (1, 0)


def _attribute_claims(attributes: Mapping[str, str], sub: str) -> dict[str, object]:
    """Stored attribute strings as ID-token claims: `*_verified` booleans, `updated_at` a number,
    everything else (custom attributes of Number type too) a string."""
    claims: dict[str, object] = {}
    for name, value in attributes.items():
        if name == "sub":
            if value != sub:
                raise ValueError("the sub attribute differs from the sign-in's sub")
            continue
        if name in RESERVED_CLAIMS:
            raise ValueError(f"attribute {name!r} would overwrite a token claim")
        if name in BOOLEAN_ATTRIBUTES:
            if value not in ("true", "false"):
                raise ValueError(f"attribute {name!r} must be 'true' or 'false'")
            claims[name] = value == "true"
        elif name in NUMBER_ATTRIBUTES:
            claims[name] = int(value)
        else:
            claims[name] = value
    return claims


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the access token."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return b64url(digest[: len(digest) // 2])


def id_token_claims(
    sign_in: SignIn,
    *,
    now: float,
    lifetime: int,
    attributes: Mapping[str, str] | None = None,
    jti: str | None = None,
    nonce: str | None = None,
    access_token: str | None = None,
    identities: Sequence[Mapping[str, object]] | None = None,
) -> dict[str, object]:
    """The ID token payload. `attributes` are the ones the client may read, as stored;
    `identities` the providers a federated user came from (a JSON array, as Cognito sends it).

    `nonce` and `access_token` (for `at_hash`) only for tokens from the OAuth endpoints:
    pycognito checks `at_hash` against the access token when it is present.
    """
    if sign_in.username is None:
        raise ValueError("ID tokens need a user")
    iat = int(now)
    claims: dict[str, object] = {"sub": sign_in.sub}
    claims.update(group_claims(sign_in.groups))
    claims["iss"] = sign_in.issuer
    claims["cognito:username"] = sign_in.username
    if sign_in.origin_jti is not None:
        claims["origin_jti"] = sign_in.origin_jti
    claims["aud"] = sign_in.client_id
    if sign_in.event_id is not None:
        claims["event_id"] = sign_in.event_id
    claims["token_use"] = TokenUse.ID.value
    if identities:
        claims["identities"] = [dict(identity) for identity in identities]
    claims["auth_time"] = sign_in.auth_time
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["at_hash"] = at_hash(access_token)
    claims["exp"] = iat + lifetime
    claims["iat"] = iat
    claims["jti"] = jti if jti is not None else new_jti()
    claims.update(_attribute_claims(attributes or {}, sign_in.sub))
    return claims


def access_token_claims(
    sign_in: SignIn,
    *,
    now: float,
    lifetime: int,
    scopes: Sequence[str] = (NATIVE_SCOPE,),
    jti: str | None = None,
    version: int | None = None,
) -> dict[str, object]:
    """The access token payload: `client_id` and no `aud`; `version` 2 from the OAuth endpoints."""
    if not scopes or any(not s or " " in s for s in scopes):
        raise ValueError("scopes must be non-empty names without spaces")
    iat = int(now)
    claims: dict[str, object] = {"sub": sign_in.sub}
    if sign_in.groups:
        claims["cognito:groups"] = [g.name for g in sign_in.groups]
    if sign_in.device_key is not None:
        claims["device_key"] = sign_in.device_key
    claims["iss"] = sign_in.issuer
    if version is not None:
        claims["version"] = version
    claims["client_id"] = sign_in.client_id
    if sign_in.origin_jti is not None:
        claims["origin_jti"] = sign_in.origin_jti
    if sign_in.event_id is not None:
        claims["event_id"] = sign_in.event_id
    claims["token_use"] = TokenUse.ACCESS.value
    claims["scope"] = " ".join(scopes)
    claims["auth_time"] = sign_in.auth_time
    claims["exp"] = iat + lifetime
    claims["iat"] = iat
    claims["jti"] = jti if jti is not None else new_jti()
    if sign_in.username is not None:
        claims["username"] = sign_in.username
    return claims


def _json(value: Mapping[str, object]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(key: SigningKey, claims: Mapping[str, object]) -> str:
    """A compact JWS (RFC 7515 §7.1) with Cognito's header: `{"kid":…,"alg":"RS256"}`."""
    header = b64url(_json({"kid": key.kid, "alg": ALGORITHM}))
    signing_input = f"{header}.{b64url(_json(claims))}"
    signature = key.private_key.sign(signing_input.encode("ascii"), _PADDING, hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def id_token(
    key: SigningKey,
    sign_in: SignIn,
    *,
    now: float,
    lifetime: int,
    attributes: Mapping[str, str] | None = None,
    jti: str | None = None,
    nonce: str | None = None,
    access_token: str | None = None,
    identities: Sequence[Mapping[str, object]] | None = None,
) -> str:
    claims = id_token_claims(
        sign_in,
        now=now,
        lifetime=lifetime,
        attributes=attributes,
        jti=jti,
        nonce=nonce,
        access_token=access_token,
        identities=identities,
    )
    return sign(key, claims)


def access_token(
    key: SigningKey,
    sign_in: SignIn,
    *,
    now: float,
    lifetime: int,
    scopes: Sequence[str] = (NATIVE_SCOPE,),
    jti: str | None = None,
    version: int | None = None,
) -> str:
    claims = access_token_claims(
        sign_in, now=now, lifetime=lifetime, scopes=scopes, jti=jti, version=version
    )
    return sign(key, claims)


# Refresh tokens -------------------------------------------------------------------------------

REFRESH_TOKEN_HEADER = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ"  # noqa: S105
"""`{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}`: AWS refresh tokens all start with it."""

MAX_REFRESH_TOKEN_LENGTH = 4096
_REFRESH_SHAPE = re.compile(r"[A-Za-z0-9_=.-]+")
# Part sizes of an AWS refresh token (RSA-2048 wrapped key, 96-bit IV, GCM tag); the
# "ciphertext" is random bytes sized so the whole is ~1.8k characters, as AWS's are.
_PART_BYTES = (256, 12, 1000, 16)


@dataclass(frozen=True, slots=True, repr=False)
class RefreshToken:
    """A new refresh token: give `token` to the client, store only `digest`."""

    token: str
    digest: str

    def __repr__(self) -> str:
        return f"RefreshToken(digest={self.digest[:12]!r}…)"


def new_refresh_token() -> RefreshToken:
    """An opaque token shaped like AWS's JWE (five parts), but random: nothing in it is secret
    or meaningful, so nothing can be decrypted or forged from it; the server looks it up by
    digest. Over 10 000 random bits."""
    parts = [REFRESH_TOKEN_HEADER, *(b64url(secrets.token_bytes(n)) for n in _PART_BYTES)]
    token = ".".join(parts)
    return RefreshToken(token, _digest(token))


def refresh_token_digest(token: str) -> str | None:
    """The storage key for a presented refresh token; None when it cannot be one of ours."""
    if len(token) > MAX_REFRESH_TOKEN_LENGTH or not _REFRESH_SHAPE.fullmatch(token):
        return None
    return _digest(token)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


# Lifetimes ------------------------------------------------------------------------------------

TokenKind = Literal["id", "access", "refresh"]
TimeUnit = Literal["seconds", "minutes", "hours", "days"]
UNIT_SECONDS: Mapping[str, int] = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}

_DEFAULT_UNIT: Mapping[TokenKind, TimeUnit] = {"id": "hours", "access": "hours", "refresh": "days"}
_DEFAULT_SECONDS: Mapping[TokenKind, int] = {"id": 3600, "access": 3600, "refresh": 30 * 86400}
_RANGE_SECONDS: Mapping[TokenKind, tuple[int, int]] = {
    "id": (5 * 60, 86400),
    "access": (5 * 60, 86400),
    "refresh": (60 * 60, 3650 * 86400),
}


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """Seconds each token of an app client lives (Cognito defaults: 1 h, 1 h, 30 days)."""

    id_token: int = _DEFAULT_SECONDS["id"]
    access_token: int = _DEFAULT_SECONDS["access"]
    refresh_token: int = _DEFAULT_SECONDS["refresh"]


def validity_seconds(kind: TokenKind, value: int | None, unit: str | None = None) -> int:
    """An app client's `*TokenValidity` in seconds, with `TokenValidityUnits` applied.

    Omitted value → default; refresh `0` → default too. Units default to hours (ID, access)
    or days (refresh). Raises ValueError outside 5 min to 1 day (ID, access) or 60 min to 3650 days.
    """
    if value is None or (kind == "refresh" and value == 0):
        return _DEFAULT_SECONDS[kind]
    unit_name = unit if unit is not None else _DEFAULT_UNIT[kind]
    if unit_name not in UNIT_SECONDS:
        raise ValueError(f"unknown time unit {unit_name!r}")
    seconds = value * UNIT_SECONDS[unit_name]
    low, high = _RANGE_SECONDS[kind]
    if not low <= seconds <= high:
        raise ValueError(f"{kind} token validity must be between {low} and {high} seconds")
    return seconds


def lifetimes(
    *,
    id_token: int | None = None,
    access_token: int | None = None,
    refresh_token: int | None = None,
    units: Mapping[str, str] | None = None,
) -> Lifetimes:
    """From `CreateUserPoolClient` fields (`TokenValidityUnits` keys: `IdToken`, `AccessToken`,
    `RefreshToken`)."""
    units = units or {}
    return Lifetimes(
        validity_seconds("id", id_token, units.get("IdToken")),
        validity_seconds("access", access_token, units.get("AccessToken")),
        validity_seconds("refresh", refresh_token, units.get("RefreshToken")),
    )
