"""An app client's OAuth settings (CreateUserPoolClient's `AllowedOAuth*`, `CallbackURLs`,
`LogoutURLs`, `SupportedIdentityProviders`): checked when written, read as a typed view.

The rules are Cognito's (userpool-oauth.md §6.1): callback URLs are absolute, carry no fragment,
and use HTTPS unless they point at this machine (`http://localhost`, `127.0.0.1`, `[::1]`) or an
app's own scheme (`myapp://cb`); `client_credentials` is its client's only flow; custom scopes are
`<resource server identifier>/<scope name>`. Redirect URIs are matched exactly, character for
character, as RFC 6749 §3.1.2.2 and Cognito require.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from authgate.identity.errors import InvalidParameter

COGNITO: Final = "COGNITO"
"""The pool's own users, as a `SupportedIdentityProviders` entry and `identity_provider` value."""
CODE: Final = "code"
IMPLICIT: Final = "implicit"
CLIENT_CREDENTIALS: Final = "client_credentials"
OPENID: Final = "openid"
STANDARD_SCOPES: Final = frozenset(
    {OPENID, "email", "phone", "profile", "aws.cognito.signin.user.admin"}
)
MAX_URLS: Final = 100
MAX_SCOPES: Final = 50
_LOOPBACK: Final = frozenset({"localhost", "127.0.0.1", "::1"})
_SCHEME: Final = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*")
_SCOPE: Final = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")
"""RFC 6749 §3.3 scope-token characters."""


@dataclass(frozen=True, slots=True)
class OAuthSettings:
    enabled: bool
    """AllowedOAuthFlowsUserPoolClient: without it no OAuth endpoint serves the client."""
    flows: frozenset[str]
    scopes: tuple[str, ...]
    callback_urls: tuple[str, ...]
    logout_urls: tuple[str, ...]
    default_redirect: str | None
    providers: tuple[str, ...]
    """SupportedIdentityProviders: `COGNITO` and the names of external providers."""

    def allows_flow(self, flow: str) -> bool:
        return self.enabled and flow in self.flows

    @property
    def custom_scopes(self) -> tuple[str, ...]:
        return tuple(s for s in self.scopes if s not in STANDARD_SCOPES)


def _strings(config: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = config.get(key) or []
    return tuple(v for v in value if isinstance(v, str))


def oauth_settings(config: Mapping[str, Any]) -> OAuthSettings:
    """The typed view of a stored client's settings (already checked by `check_oauth_config`)."""
    default = config.get("DefaultRedirectURI")
    return OAuthSettings(
        enabled=config.get("AllowedOAuthFlowsUserPoolClient") is True,
        flows=frozenset(_strings(config, "AllowedOAuthFlows")),
        scopes=_strings(config, "AllowedOAuthScopes"),
        callback_urls=_strings(config, "CallbackURLs"),
        logout_urls=_strings(config, "LogoutURLs"),
        default_redirect=default if isinstance(default, str) else None,
        providers=_strings(config, "SupportedIdentityProviders"),
    )


def check_redirect_url(url: str, what: str = "CallbackURLs") -> None:
    """A callback or logout URL as Cognito accepts it; InvalidParameter otherwise."""
    if not url or len(url) > 1024 or any(c.isspace() for c in url):
        raise InvalidParameter(f"{what}: invalid URL {url[:100]!r}")
    parts = urlsplit(url)
    if not parts.scheme or not _SCHEME.fullmatch(parts.scheme):
        raise InvalidParameter(f"{what}: {url} is not an absolute URL")
    if parts.fragment or "#" in url:
        raise InvalidParameter(f"{what}: {url} must not contain a fragment")
    scheme = parts.scheme.lower()
    if scheme in ("http", "https") and not parts.hostname:
        raise InvalidParameter(f"{what}: {url} has no host")
    if scheme == "http" and parts.hostname not in _LOOPBACK:
        raise InvalidParameter(f"{what}: {url} must use HTTPS (http is for localhost only)")
    if scheme in ("javascript", "data", "file", "vbscript"):
        raise InvalidParameter(f"{what}: the {scheme} scheme is not allowed")


def check_scope_name(scope: str) -> bool:
    return bool(_SCOPE.fullmatch(scope)) and len(scope) <= 256


def check_oauth_config(config: Mapping[str, Any]) -> None:
    """CreateUserPoolClient / UpdateUserPoolClient's OAuth members, as far as they can be
    checked without the pool (custom scopes are checked against its resource servers apart)."""
    settings = oauth_settings(config)
    for key, longest in (("CallbackURLs", MAX_URLS), ("LogoutURLs", MAX_URLS)):
        urls = _strings(config, key)
        if len(urls) > longest:
            raise InvalidParameter(f"{key} holds at most {longest} URLs")
        for url in urls:
            check_redirect_url(url, key)
    if len(settings.scopes) > MAX_SCOPES:
        raise InvalidParameter(f"AllowedOAuthScopes holds at most {MAX_SCOPES} scopes")
    for scope in settings.scopes:
        if not check_scope_name(scope) or (scope not in STANDARD_SCOPES and "/" not in scope):
            raise InvalidParameter(f"AllowedOAuthScopes: invalid scope {scope}")
    if CLIENT_CREDENTIALS in settings.flows and len(settings.flows) > 1:
        raise InvalidParameter(
            "client_credentials flow can not be selected along with code flow or implicit flow."
        )
    if CLIENT_CREDENTIALS in settings.flows and set(settings.scopes) & STANDARD_SCOPES:
        raise InvalidParameter("client_credentials flow can only use custom scopes.")
    if settings.default_redirect is not None and (
        settings.default_redirect not in settings.callback_urls
    ):
        raise InvalidParameter("DefaultRedirectURI must be one of the CallbackURLs.")
    if settings.enabled:
        if not settings.flows or not settings.scopes:
            raise InvalidParameter(
                "AllowedOAuthFlows and AllowedOAuthScopes are required if user pool client "
                "is allowed to use OAuth flows."
            )
        if settings.flows & {CODE, IMPLICIT} and not settings.callback_urls:
            raise InvalidParameter("CallbackURLs are required for the code and implicit flows.")


def requested_scopes(raw: str | None, allowed: Sequence[str]) -> tuple[str, ...] | None:
    """RFC 6749 §3.3: the space-separated `scope` parameter, every one of them allowed for the
    client; omitted → every allowed scope (Cognito). None when a scope is not allowed."""
    if raw is None or not raw.strip():
        return tuple(allowed)
    wanted = tuple(dict.fromkeys(raw.split()))
    if any(scope not in allowed for scope in wanted):
        return None
    return wanted
