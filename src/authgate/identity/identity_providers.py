"""The external identity providers a pool trusts: CreateIdentityProvider, DescribeIdentityProvider,
ListIdentityProviders, UpdateIdentityProvider, DeleteIdentityProvider.

authgate federates with OpenID Connect providers (`ProviderType` OIDC); the other types Cognito
knows (SAML and the social providers) are refused by name. `ProviderDetails` are Cognito's:
`client_id`, `client_secret` (sealed at rest, shown by Describe as AWS shows it),
`authorize_scopes`, `oidc_issuer`, `attributes_request_method`, and optionally `authorize_url`,
`token_url`, `attributes_url`, `jwks_uri` (otherwise found from the issuer's discovery
document). `AttributeMapping` maps pool attributes to the provider's claims; `username` maps to
`sub` unless set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final
from urllib.parse import urlsplit

from authgate.clock import Clock
from authgate.identity.codes import after_key, page
from authgate.identity.errors import DuplicateProvider, InvalidParameter, ResourceNotFound
from authgate.identity.model import IdentityProviderRecord
from authgate.identity.oauth_client import COGNITO
from authgate.identity.pool_config import STANDARD_ATTRIBUTES
from authgate.identity.pools import PoolService
from authgate.identity.store import Duplicate, UserPoolStore
from authgate.security.secrets import SecretBox

OIDC: Final = "OIDC"
PROVIDER_TYPES: Final = frozenset(
    {"SAML", "Facebook", "Google", "LoginWithAmazon", "SignInWithApple", OIDC}
)
REQUIRED_DETAILS: Final = ("client_id", "authorize_scopes", "oidc_issuer")
OPTIONAL_DETAILS: Final = (
    "client_secret",
    "attributes_request_method",
    "authorize_url",
    "token_url",
    "attributes_url",
    "jwks_uri",
    "attributes_url_add_attributes",
)
URL_DETAILS: Final = ("oidc_issuer", "authorize_url", "token_url", "attributes_url", "jwks_uri")
MAX_IDENTIFIERS: Final = 50
MAX_PROVIDERS: Final = 300
_NAME: Final = re.compile(r"[^_\s][^\s]{0,30}[^_\s]")
_IDENTIFIER: Final = re.compile(r"[\w\s+=.@-]{1,40}")


def secret_context(pool_id: str, name: str) -> bytes:
    return f"userpool identity provider secret\x00{pool_id}\x00{name}".encode()


def _strings(value: object, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidParameter(f"{what} must map names to strings")
    return dict(value)


def _details(raw: Mapping[str, str]) -> dict[str, str]:
    details = dict(raw)
    for key in details:
        if key not in REQUIRED_DETAILS and key not in OPTIONAL_DETAILS:
            raise InvalidParameter(f"ProviderDetails: unknown key {key}")
    for key in REQUIRED_DETAILS:
        if not details.get(key):
            raise InvalidParameter(f"ProviderDetails: {key} is required")
    method = details.setdefault("attributes_request_method", "GET")
    if method not in ("GET", "POST"):
        raise InvalidParameter("ProviderDetails: attributes_request_method must be GET or POST")
    for key in URL_DETAILS:
        url = details.get(key)
        if url is None:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
            raise InvalidParameter(f"ProviderDetails: {key} must be an http(s) URL")
    if "openid" not in details["authorize_scopes"].split():
        raise InvalidParameter("ProviderDetails: authorize_scopes must include openid")
    return details


def _mapping(raw: Mapping[str, str]) -> dict[str, str]:
    mapping = {"username": "sub", **raw}
    for name in mapping:
        if name == "username" or name in STANDARD_ATTRIBUTES or name.startswith("custom:"):
            continue
        raise InvalidParameter(f"AttributeMapping: {name} is not a user pool attribute")
    if mapping.pop("sub", None) is not None:
        raise InvalidParameter("AttributeMapping: sub cannot be mapped")
    return mapping


def _no_acr(request: Mapping[str, Any]) -> None:
    if request.get("AcrMapping"):
        raise InvalidParameter("AcrMapping: authgate maps no authentication context classes")


def _identifiers(raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_IDENTIFIERS:
        raise InvalidParameter(f"IdpIdentifiers must be a list of at most {MAX_IDENTIFIERS}")
    for item in raw:
        if not isinstance(item, str) or not _IDENTIFIER.fullmatch(item):
            raise InvalidParameter(f"IdpIdentifiers: invalid identifier {item!r}")
    return tuple(dict.fromkeys(raw))


class IdentityProviders:
    def __init__(
        self, pools: PoolService, store: UserPoolStore, box: SecretBox, clock: Clock
    ) -> None:
        self._pools = pools
        self._store = store
        self._box = box
        self._clock = clock

    async def create(self, pool_id: str, request: Mapping[str, Any]) -> IdentityProviderRecord:
        await self._pools.pool(pool_id)
        _no_acr(request)
        name = request.get("ProviderName")
        if not isinstance(name, str) or not _NAME.fullmatch(name) or name == COGNITO:
            raise InvalidParameter("ProviderName must be 1 to 32 characters, not COGNITO")
        kind = request.get("ProviderType")
        if kind not in PROVIDER_TYPES:
            raise InvalidParameter("ProviderType must be SAML, Facebook, Google, ... or OIDC")
        if kind != OIDC:
            raise InvalidParameter(f"ProviderType {kind}: authgate federates with OIDC only")
        existing = await self._store.list_providers(pool_id, after=None, limit=MAX_PROVIDERS)
        if len(existing) >= MAX_PROVIDERS:
            raise InvalidParameter(f"A user pool has at most {MAX_PROVIDERS} identity providers")
        identifiers = _identifiers(request.get("IdpIdentifiers"))
        self._check_identifiers(existing, name, identifiers)
        now = self._clock.now()
        record = self._sealed(
            IdentityProviderRecord(
                pool_id=pool_id,
                name=name,
                type=OIDC,
                details={},
                attribute_mapping=_mapping(
                    _strings(request.get("AttributeMapping"), "AttributeMapping")
                ),
                identifiers=identifiers,
                created=now,
                updated=now,
            ),
            _details(_strings(request.get("ProviderDetails"), "ProviderDetails")),
        )
        try:
            await self._store.insert_provider(record)
        except Duplicate:
            raise DuplicateProvider(
                f"A provider with the name {name} already exists in this user pool."
            ) from None
        return record

    async def get(self, pool_id: str, name: object) -> IdentityProviderRecord:
        await self._pools.pool(pool_id)
        found = None
        if isinstance(name, str) and name:
            found = await self._store.get_provider(pool_id, name)
        if found is None:
            raise ResourceNotFound(f"Identity provider {name} does not exist.")
        return found

    async def by_identifier(self, pool_id: str, identifier: object) -> IdentityProviderRecord:
        await self._pools.pool(pool_id)
        for provider in await self._store.list_providers(pool_id, after=None, limit=MAX_PROVIDERS):
            if identifier in provider.identifiers:
                return provider
        raise ResourceNotFound(f"Identity provider for identifier {identifier} does not exist.")

    async def list_providers(
        self, pool_id: str, limit: int, token: object
    ) -> tuple[list[IdentityProviderRecord], str | None]:
        await self._pools.pool(pool_id)
        after = after_key(token, "NextToken")
        found = await self._store.list_providers(pool_id, after=after, limit=limit + 1)
        return page(found, limit, lambda p: p.name)

    async def update(self, pool_id: str, request: Mapping[str, Any]) -> IdentityProviderRecord:
        current = await self.get(pool_id, request.get("ProviderName"))
        _no_acr(request)
        details = dict(self.details(current))
        if "ProviderDetails" in request:
            details.update(_strings(request.get("ProviderDetails"), "ProviderDetails"))
        mapping = current.attribute_mapping
        if "AttributeMapping" in request:
            mapping = _mapping(_strings(request.get("AttributeMapping"), "AttributeMapping"))
        identifiers = current.identifiers
        if "IdpIdentifiers" in request:
            identifiers = _identifiers(request.get("IdpIdentifiers"))
            others = await self._store.list_providers(pool_id, after=None, limit=MAX_PROVIDERS)
            self._check_identifiers(others, current.name, identifiers)
        record = self._sealed(
            replace(
                current,
                attribute_mapping=mapping,
                identifiers=identifiers,
                updated=self._clock.now(),
            ),
            _details(details),
        )
        if not await self._store.update_provider(record):
            raise ResourceNotFound(f"Identity provider {current.name} does not exist.")
        return record

    async def delete(self, pool_id: str, name: object) -> None:
        provider = await self.get(pool_id, name)
        await self._store.delete_provider(pool_id, provider.name)

    def details(self, provider: IdentityProviderRecord) -> dict[str, str]:
        """ProviderDetails with the client secret opened."""
        details = dict(provider.details)
        if provider.sealed_secret is not None:
            context = secret_context(provider.pool_id, provider.name)
            details["client_secret"] = self._box.open(
                provider.sealed_secret, context=context
            ).decode()
        return details

    def _sealed(
        self, record: IdentityProviderRecord, details: Mapping[str, str]
    ) -> IdentityProviderRecord:
        public = {k: v for k, v in details.items() if k != "client_secret"}
        secret = details.get("client_secret")
        sealed = None
        if secret:
            context = secret_context(record.pool_id, record.name)
            sealed = self._box.seal(secret.encode(), context=context)
        return replace(record, details=public, sealed_secret=sealed)

    @staticmethod
    def _check_identifiers(
        existing: list[IdentityProviderRecord], name: str, identifiers: tuple[str, ...]
    ) -> None:
        for other in existing:
            if other.name != name and set(other.identifiers) & set(identifiers):
                raise InvalidParameter(f"An identifier of {name} is already used by {other.name}")
