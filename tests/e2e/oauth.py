"""OAuth test support: app clients with OAuth settings, PKCE pairs, and a cookie-keeping HTTP
client that fills the hosted pages' forms the way a browser without JavaScript would."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.e2e.userpools import PoolsGateway

CALLBACK = "http://127.0.0.1:9/callback"
"""Registered callback of the test clients: nothing listens there, redirects are read, not
followed."""
LOGOUT = "http://127.0.0.1:9/signed-out"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class OAuthPool:
    """A pool (email usernames), a resource server `orders` and three clients: `public`
    (code flow, no secret), `confidential` (code flow, secret) and `machine`
    (client_credentials)."""

    pools: PoolsGateway
    pool_id: str
    public: str
    confidential: str
    confidential_secret: str
    machine: str
    machine_secret: str

    @classmethod
    def make(cls, pools: PoolsGateway, **pool_settings: Any) -> OAuthPool:
        pool_id = pools.pool(**pool_settings)
        pools.admin.create_resource_server(
            UserPoolId=pool_id,
            Identifier="orders",
            Name="Orders",
            Scopes=[
                {"ScopeName": "read", "ScopeDescription": "read orders"},
                {"ScopeName": "write", "ScopeDescription": "write orders"},
            ],
        )
        code_flow = {
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email", "profile", "orders/read"],
            "CallbackURLs": [CALLBACK],
            "LogoutURLs": [LOGOUT],
            "SupportedIdentityProviders": ["COGNITO"],
        }
        public = pools.app_client(pool_id, **code_flow)["ClientId"]
        confidential = pools.app_client(pool_id, GenerateSecret=True, **code_flow)
        machine = pools.app_client(
            pool_id,
            GenerateSecret=True,
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthScopes=["orders/read", "orders/write"],
        )
        return cls(
            pools,
            pool_id,
            public,
            confidential["ClientId"],
            confidential["ClientSecret"],
            machine["ClientId"],
            machine["ClientSecret"],
        )

    def authorize_query(self, client_id: str | None = None, **extra: str) -> dict[str, str]:
        verifier, challenge = pkce_pair()
        query = {
            "client_id": client_id or self.public,
            "redirect_uri": CALLBACK,
            "response_type": "code",
            "scope": "openid email",
            "state": "st-" + secrets.token_hex(4),
            "nonce": "n-" + secrets.token_hex(4),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        }
        query["_verifier"] = verifier  # kept by the test, dropped before sending
        return query


class FormClient:
    """httpx with cookies and no redirects followed, plus the hosted pages' form filling."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=30)

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.http.get(path, params={k: v for k, v in params.items() if k[0] != "_"})

    def submit(self, path: str, query: dict[str, str], **fields: str) -> httpx.Response:
        """GET the page for its CSRF token, then POST the form as the page's action says."""
        shown = self.get(path, **query)
        assert shown.status_code == 200, shown.text
        found = _CSRF.search(shown.text)
        assert found is not None, "the form carries a CSRF token"
        public = {k: v for k, v in query.items() if k[0] != "_"}
        return self.http.post(
            f"{path}?{urlencode(public)}", data={"csrf": found.group(1), **fields}
        )

    def sign_in(self, query: dict[str, str], username: str, password: str) -> str:
        """From /oauth2/authorize to the callback (through the sign-in page unless a session
        of this browser stands); returns the callback URL reached."""
        started = self.get("/oauth2/authorize", **query)
        assert started.status_code == 302, started.text
        if not started.headers["location"].startswith("/login?"):
            return started.headers["location"]
        answer = self.submit("/login", query, username=username, password=password)
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    def token(self, data: dict[str, str], auth: tuple[str, str] | None = None) -> httpx.Response:
        return self.http.post("/oauth2/token", data=data, auth=auth)
