"""An issuer's signing keys, found through OpenID discovery, cached, and fetched again when needed.

As API Gateway's JWT authorizer does: `{issuer}/.well-known/openid-configuration` names the
`jwks_uri`; the JWKS is kept (refreshed in the background after `max_age`, an hour by default)
and fetched again when a token names a kid it does not list — for each issuer at most once per
interval (`RefetchGate`), however many made-up kids arrive, and one fetch at a time: requests
that meet a fetch in flight wait for it instead of starting another. A failed fetch keeps the
keys already known. One `IssuerKeys` per issuer lives as long as the process (`Issuers`), so a
redeploy neither refetches nor resets the refetch budget.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from typing import Protocol

from authgate.authorizers.fetch import Fetch, FetchError
from authgate.authorizers.jwks import JwksError, KeySet, VerificationKey, parse_jwks_bytes
from authgate.authorizers.jwt_verify import DEFAULT_REFETCH_INTERVAL, RefetchGate
from authgate.clock import Clock
from authgate.http1.client import Url
from authgate.identity.discovery import DISCOVERY_PATH

log = logging.getLogger("authgate.authorizers")

DEFAULT_MAX_AGE_S = 3600.0
MAX_DISCOVERY_BYTES = 64 * 1024


class KeysListener(Protocol):
    def keys_replaced(self, keys: KeySet) -> None:
        """A new key set is in use; drop what depended on keys it no longer lists."""
        ...


class IssuerKeys:
    """The `KeySource` of one issuer whose keys are fetched over HTTP."""

    def __init__(
        self,
        issuer: str,
        fetch: Fetch,
        clock: Clock,
        *,
        refetch_interval: float = DEFAULT_REFETCH_INTERVAL,
        max_age: float = DEFAULT_MAX_AGE_S,
    ) -> None:
        self.issuer = issuer
        self.gate = RefetchGate(clock, interval=refetch_interval)
        """Shared with the verifiers of this issuer: one refetch budget for all of them."""
        self._fetch = fetch
        self._clock = clock
        self._max_age = max_age
        self._keys = KeySet()
        self._jwks_url: str | None = None
        self._fetched_at: float | None = None
        self._inflight: asyncio.Task[None] | None = None
        self._listeners: weakref.WeakSet[KeysListener] = weakref.WeakSet()

    def find(self, kid: str | None) -> VerificationKey | None:
        return self._keys.find(kid)

    @property
    def keys(self) -> KeySet:
        return self._keys

    @property
    def refreshing(self) -> bool:
        return self._inflight is not None

    def subscribe(self, listener: KeysListener) -> None:
        """Tell `listener` of every new key set (held weakly: a dropped authorizer unsubscribes)."""
        self._listeners.add(listener)

    async def refresh(self) -> None:
        """Fetch the JWKS now, or wait for the fetch in flight."""
        task = self._start()
        await asyncio.shield(task)  # a caller that goes away does not cancel the others' fetch

    def refresh_if_due(self) -> None:
        """Start a background refresh when the keys are older than `max_age` (and the gate,
        which failed fetches also pass through, allows one)."""
        fetched = self._fetched_at
        if (
            fetched is not None
            and self._inflight is None
            and self._clock.monotonic() - fetched >= self._max_age
            and self.gate.allow()
        ):
            self._start()

    def _start(self) -> asyncio.Task[None]:
        task = self._inflight
        if task is None:
            task = self._inflight = asyncio.get_running_loop().create_task(self._load())
        return task

    async def _load(self) -> None:
        try:
            url = self._jwks_url or await self._discover()
            keys = parse_jwks_bytes(await self._fetch(url))
        except (FetchError, JwksError) as exc:
            log.warning("keys of issuer %s not fetched: %s", self.issuer, exc)
            return
        finally:
            self._inflight = None
        self._keys = keys
        self._fetched_at = self._clock.monotonic()
        self.gate.fetched()
        for listener in list(self._listeners):
            listener.keys_replaced(keys)

    async def _discover(self) -> str:
        """OpenID Connect Discovery 1.0 §4: the document's `issuer` must be ours exactly."""
        url = self.issuer.rstrip("/") + DISCOVERY_PATH
        raw = await self._fetch(url)
        if len(raw) > MAX_DISCOVERY_BYTES:
            raise FetchError(f"{url}: discovery document too large")
        try:
            document = json.loads(raw)
        except (ValueError, RecursionError):
            raise FetchError(f"{url}: not JSON") from None
        if not isinstance(document, dict):
            raise FetchError(f"{url}: not a JSON object")
        if document.get("issuer") != self.issuer:
            raise FetchError(f"{url}: names another issuer")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise FetchError(f"{url}: no jwks_uri")
        try:
            Url.parse(jwks_uri)
        except ValueError as exc:
            raise FetchError(f"{url}: jwks_uri {exc}") from None
        self._jwks_url = jwks_uri
        return jwks_uri


class Issuers:
    """One `IssuerKeys` per issuer URL for the life of the process."""

    def __init__(
        self,
        fetch: Fetch,
        clock: Clock,
        *,
        refetch_interval: float = DEFAULT_REFETCH_INTERVAL,
        max_age: float = DEFAULT_MAX_AGE_S,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._refetch_interval = refetch_interval
        self._max_age = max_age
        self._by_issuer: dict[str, IssuerKeys] = {}

    def get(self, issuer: str) -> IssuerKeys:
        keys = self._by_issuer.get(issuer)
        if keys is None:
            keys = IssuerKeys(
                issuer,
                self._fetch,
                self._clock,
                refetch_interval=self._refetch_interval,
                max_age=self._max_age,
            )
            self._by_issuer[issuer] = keys
        return keys
