"""Users who sign in through an external identity provider: found by, or created from, the
verified ID token of that provider.

As in Cognito, such a user is named `<provider>_<provider's sub>`, has the status
EXTERNAL_PROVIDER and no password, gets a `sub` of the pool's own, and carries the provider's
claims as the attributes the provider's `AttributeMapping` names (refreshed at every sign-in)
plus `identities`, the JSON list Cognito keeps of the providers a user came from. A federated
user is not findable by email or phone: those belong to the pool's own accounts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Final

from authgate.clock import Clock
from authgate.identity.attributes import check_values
from authgate.identity.errors import CognitoError, NotAuthorized
from authgate.identity.model import IdentityProviderRecord, UserRecord, UserStatus
from authgate.identity.pools import Pool
from authgate.identity.store import Duplicate, UserPoolStore

MAX_SUB: Final = 128
IDENTITIES: Final = "identities"


def mapped_attributes(
    pool: Pool, provider: IdentityProviderRecord, claims: Mapping[str, object]
) -> dict[str, str]:
    """The pool attributes the mapping names, from the provider's claims, as strings; a claim
    the pool's schema would refuse (a malformed phone number, say) is left out."""
    found: dict[str, str] = {}
    for attribute, claim in provider.attribute_mapping.items():
        if attribute == "username":
            continue
        value = claims.get(claim)
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str | int | float):
            text = str(value)
        else:
            continue
        try:
            check_values(pool.settings, {attribute: text}, admin=True)
        except CognitoError:
            continue
        found[attribute] = text
    return found


def identities(provider: IdentityProviderRecord, user_id: str, created: float) -> str:
    return json.dumps(
        [
            {
                "userId": user_id,
                "providerName": provider.name,
                "providerType": provider.type,
                "issuer": None,
                "primary": "true",
                "dateCreated": str(int(created * 1000)),
            }
        ],
        separators=(",", ":"),
    )


class FederatedUsers:
    def __init__(self, store: UserPoolStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def sign_in(
        self, pool: Pool, provider: IdentityProviderRecord, claims: Mapping[str, object]
    ) -> UserRecord:
        """The user for these verified claims, linked or created; NotAuthorized if disabled."""
        subject = claims.get(provider.attribute_mapping.get("username", "sub"))
        if not isinstance(subject, str) or not subject or len(subject) > MAX_SUB:
            raise NotAuthorized("The identity provider named no user.")
        username = f"{provider.name}_{subject}"
        attributes = mapped_attributes(pool, provider, claims)
        user = await self._store.get_user(pool.id, pool.settings.fold(username))
        if user is None:
            user = await self._create(pool, provider, username, subject, attributes)
        elif any(user.attributes.get(k) != v for k, v in attributes.items()):
            user = await self._refresh(user, attributes)
        if not user.enabled:
            raise NotAuthorized("User is disabled.")
        return user

    async def _create(
        self,
        pool: Pool,
        provider: IdentityProviderRecord,
        username: str,
        subject: str,
        attributes: Mapping[str, str],
    ) -> UserRecord:
        now = self._clock.now()
        user = UserRecord(
            pool_id=pool.id,
            username=username,
            username_key=pool.settings.fold(username),
            sub=str(uuid.uuid4()),
            status=UserStatus.EXTERNAL_PROVIDER,
            enabled=True,
            created=now,
            updated=now,
            attributes={**attributes, IDENTITIES: identities(provider, subject, now)},
        )
        try:
            await self._store.insert_user(user)
        except Duplicate:  # the same user signing in twice at once
            found = await self._store.get_user(pool.id, user.username_key)
            if found is None:
                raise
            return found
        return user

    async def _refresh(self, user: UserRecord, attributes: Mapping[str, str]) -> UserRecord:
        """The provider's latest claims; a concurrent change wins (the next sign-in retries)."""
        updated = replace(
            user,
            attributes={**user.attributes, **attributes},
            aliases=(),
            updated=self._clock.now(),
            version=user.version + 1,
        )
        return updated if await self._store.update_user(updated) else user
