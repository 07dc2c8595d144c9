"""Where a pool's tokens come from: its issuer, JWKS address and OIDC discovery document.

The issuer is `<public base URL>/<poolId>` because pycognito, given `endpoint_url`, checks
`iss == endpoint_url + "/" + poolId` and fetches the JWKS below it. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

JWKS_PATH = "/.well-known/jwks.json"
DISCOVERY_PATH = "/.well-known/openid-configuration"
DEFAULT_SCOPES = ("openid", "email", "phone", "profile")


def _base(url: str, what: str) -> str:
    if not url or url.endswith("/"):
        raise ValueError(f"{what} must be non-empty and end without '/': {url!r}")
    return url


def issuer(base_url: str, pool_id: str) -> str:
    return f"{_base(base_url, 'base URL')}/{pool_id}"


def jwks_uri(pool_issuer: str) -> str:
    return _base(pool_issuer, "issuer") + JWKS_PATH


def openid_configuration(
    pool_issuer: str,
    oauth_base: str,
    *,
    scopes: Sequence[str] = DEFAULT_SCOPES,
) -> dict[str, object]:
    """The discovery document (OpenID Connect Discovery 1.0 §3), keys and values as Cognito
    serves them. `oauth_base` is where the pool's OAuth endpoints live (Cognito: the pool's
    domain); Cognito publishes no `grant_types_supported`, `claims_supported` or
    `code_challenge_methods_supported`, so neither does this."""
    domain = _base(oauth_base, "OAuth base URL")
    return {
        "authorization_endpoint": f"{domain}/oauth2/authorize",
        "end_session_endpoint": f"{domain}/logout",
        "id_token_signing_alg_values_supported": ["RS256"],
        "issuer": _base(pool_issuer, "issuer"),
        "jwks_uri": jwks_uri(pool_issuer),
        "response_types_supported": ["code", "token"],
        "revocation_endpoint": f"{domain}/oauth2/revoke",
        "scopes_supported": list(scopes),
        "subject_types_supported": ["public"],
        "token_endpoint": f"{domain}/oauth2/token",
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "userinfo_endpoint": f"{domain}/oauth2/userInfo",
    }
