"""The user-pool identity provider assembled from its parts, for the composition root.

`UserPoolServices.assemble(...)` wires every service to one store, secret box, courier and clock;
`TokenStatus` (`status`) is what the gateway's authorizers ask, `keys` what serves JWKS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from authgate.clock import Clock
from authgate.identity.access import AccessTokens
from authgate.identity.admin_users import AdminUsers
from authgate.identity.challenge_session import ChallengeSessions
from authgate.identity.directory import UserDirectory
from authgate.identity.discovery import issuer, openid_configuration
from authgate.identity.federation import FederatedUsers
from authgate.identity.groups import GroupService
from authgate.identity.identity_providers import IdentityProviders
from authgate.identity.issuing import SESSION_GRACE, TokenIssuer
from authgate.identity.keyring import KeyRing
from authgate.identity.messenger import Messenger
from authgate.identity.mfa_setup import MfaSetup
from authgate.identity.oauth_authorize import Authorizations
from authgate.identity.oauth_tokens import OAuthTokens
from authgate.identity.outbox import Courier
from authgate.identity.passwords import PasswordHasher
from authgate.identity.pools import PoolService
from authgate.identity.profile import ProfileService
from authgate.identity.sessions import TokenStatus
from authgate.identity.signin import SignInService
from authgate.identity.signout import SignOutService
from authgate.identity.srp_flow import SrpFlow
from authgate.identity.store import UserPoolStore
from authgate.identity.totp import TotpSeeds
from authgate.identity.users import UserFlows
from authgate.security.secrets import SecretBox


@dataclass(frozen=True, slots=True)
class UserPoolServices:
    store: UserPoolStore
    keys: KeyRing
    status: TokenStatus
    pools: PoolService
    users: UserFlows
    admin: AdminUsers
    groups: GroupService
    signin: SignInService
    signout: SignOutService
    profile: ProfileService
    mfa: MfaSetup
    directory: UserDirectory
    providers: IdentityProviders
    authorizations: Authorizations
    oauth: OAuthTokens
    federated: FederatedUsers
    base_url: Callable[[], str]
    clock: Clock

    @classmethod
    def assemble(
        cls,
        store: UserPoolStore,
        box: SecretBox,
        courier: Courier,
        clock: Clock,
        *,
        base_url: Callable[[], str],
        region: str,
        account_id: str,
        hasher: PasswordHasher | None = None,
    ) -> UserPoolServices:
        keys = KeyRing(store, box, clock)
        status = TokenStatus(store, keys, base_url)
        pools = PoolService(store, box, keys, status, clock, region=region, account_id=account_id)
        directory = UserDirectory(store, box, hasher or PasswordHasher(), clock)
        messenger = Messenger(store, box, courier, clock)
        users = UserFlows(pools, directory, store, messenger, status, clock)
        access = AccessTokens(store, keys, status, clock)
        sessions = ChallengeSessions(store, box, clock)
        seeds = TotpSeeds(box)
        issuer_ = TokenIssuer(store, keys, status, clock)
        signout = SignOutService(pools, directory, store, access, status, clock)
        return cls(
            store=store,
            keys=keys,
            status=status,
            pools=pools,
            users=users,
            admin=AdminUsers(pools, directory, store, users, messenger, status, clock),
            groups=GroupService(pools, directory, store, clock),
            signin=SignInService(
                pools, directory, store, issuer_, sessions, SrpFlow(store, box, clock), seeds, clock
            ),
            signout=signout,
            profile=ProfileService(pools, directory, store, access, status, messenger, clock),
            mfa=MfaSetup(pools, directory, store, access, sessions, seeds, clock),
            directory=directory,
            providers=IdentityProviders(pools, store, box, clock),
            authorizations=Authorizations(pools, store, issuer_, clock),
            oauth=OAuthTokens(pools, store, issuer_, access, signout, clock),
            federated=FederatedUsers(store, clock),
            base_url=base_url,
            clock=clock,
        )

    async def open(self) -> None:
        """Load every pool's keys (before serving)."""
        await self.keys.load()

    async def prune(self) -> None:
        """Drop expired codes, one-use ids and sessions (run now and then)."""
        await self.store.prune(self.clock.now(), session_grace=SESSION_GRACE)

    def discovery(self, pool_id: str) -> dict[str, object]:
        base = self.base_url()
        return openid_configuration(issuer(base, pool_id), base)
