"""SigV4 authentication of a request against authgate's IAM: who signed it, with which key.

Shared by the data plane (service `execute-api`) and the management plane (`iam`, `sts`,
`apigateway`, `cognito-idp`). Credentials are cached in memory with their compiled identity
policies and dropped as soon as the IAM records change, so a disabled key fails on the very
next request while a busy key costs no storage round trip.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from authgate.authorizers.base import Principal
from authgate.clock import Clock
from authgate.http1.message import BytesBody, EmptyBody, Request
from authgate.iam import sigv4
from authgate.iam.model import Caller, ResolvedCredential
from authgate.iam.service import split_session_policy
from authgate.policy import ContextKeys, Policy, PolicyError, PolicyKind, parse_policy
from authgate.policy import Principal as PolicyPrincipal
from authgate.policy.context import principal_keys

SIGV4_PREFIX = "AWS4-HMAC-SHA256 "


class CredentialSource(Protocol):
    """The IAM service, as far as authentication needs it."""

    @property
    def generation(self) -> int: ...

    async def resolve(self, access_key_id: str) -> ResolvedCredential | None: ...


@dataclass(frozen=True, slots=True)
class KnownCredential:
    resolved: ResolvedCredential
    secret: sigv4.SecretKey
    principal: Principal


class CredentialCache:
    """Access key id → credential, with its principal and compiled policies; bounded LRU."""

    def __init__(self, source: CredentialSource, *, max_entries: int = 10_000) -> None:
        self._source = source
        self._entries: OrderedDict[str, KnownCredential | None] = OrderedDict()
        self._generation = -1
        self._max = max_entries

    async def get(self, access_key_id: str) -> KnownCredential | None:
        if self._source.generation != self._generation:
            self._entries.clear()
            self._generation = self._source.generation
        if access_key_id in self._entries:
            self._entries.move_to_end(access_key_id)
            return self._entries[access_key_id]
        generation = self._generation
        resolved = await self._source.resolve(access_key_id)
        known = None if resolved is None else _known(resolved)
        if self._source.generation == generation:  # not stale by the time it arrived
            self._entries[access_key_id] = known
            if len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return known


def _known(resolved: ResolvedCredential) -> KnownCredential:
    principal = iam_principal(resolved.caller, resolved.policies, resolved.access_key_id)
    return KnownCredential(resolved, sigv4.SecretKey(resolved.secret), principal)


def iam_principal(
    caller: Caller, policies: Sequence[tuple[str, str]], access_key_id: str | None = None
) -> Principal:
    """The principal an IAM caller signs as, with its policies compiled; also what a simulation
    of that caller's request runs with, so the two cannot drift apart.

    `policies`: (name, document) pairs as `ResolvedCredential.policies` holds them, a session
    policy included."""
    identity_docs, session_doc = split_session_policy(policies)
    compiled = [p for p in (_parse(name, doc) for name, doc in identity_docs) if p is not None]
    session = _parse("session policy", session_doc) if session_doc is not None else None
    if session_doc is not None and session is None:
        session = _DENY_ALL  # a session policy that cannot be read allows nothing
    identity: dict[str, object | None] = {
        "accessKey": access_key_id,
        "accountId": caller.account,
        "caller": caller.user_id,
        "user": caller.user_id,
        "userArn": caller.arn,
    }
    conditioned = [*compiled, session] if session is not None else compiled
    policy_principal = PolicyPrincipal.from_arn(caller.arn)
    keys = ContextKeys({"aws:userid": caller.user_id, **principal_keys(policy_principal)})
    return Principal(
        subject=caller.arn,
        kind="AWS_IAM",
        policy_principal=policy_principal,
        policies=tuple(compiled),
        session_policy=session,
        context_keys=keys,
        decisions=None if any(p.conditional for p in conditioned) else {},
        identity=identity,
    )


_DENY_ALL = parse_policy(
    '{"Version": "2012-10-17", "Statement": []}', kind=PolicyKind.IDENTITY, name="session policy"
)


def _parse(name: str, document: str) -> Policy | None:
    try:
        return parse_policy(document, kind=PolicyKind.IDENTITY, name=name)
    except PolicyError:
        return None  # stored policies were validated on write; a bad one grants nothing


def is_signed(request: Request) -> bool:
    """Whether the request carries a SigV4 signature in either form."""
    auth = request.header("authorization")
    if auth is not None:
        return auth.startswith(SIGV4_PREFIX)
    return "X-Amz-Signature=" in request.query


def credential_service(request: Request) -> str | None:
    """The service named in a SigV4 credential scope, read cheaply for dispatch."""
    auth = request.header("authorization")
    text: str | None = None
    if auth is not None and auth.startswith(SIGV4_PREFIX):
        start = auth.find("Credential=")
        if start >= 0:
            text = auth[start + 11 :].split(",", 1)[0]
    elif "X-Amz-Credential=" in request.query:
        for pair in request.query.split("&"):
            if pair.startswith("X-Amz-Credential="):
                text = pair[17:].replace("%2F", "/").replace("%2f", "/")
    if text is None:
        return None
    parts = text.split("/")
    return parts[3] if len(parts) == 5 else None


class SigV4Authenticator:
    def __init__(self, credentials: CredentialCache, clock: Clock, *, region: str) -> None:
        self._credentials = credentials
        self._clock = clock
        self._region = region

    async def authenticate(
        self, request: Request, service: str, body: bytes | None = None
    ) -> Principal:
        """Verify the signature; raises a sigv4.SigV4Error subclass on any failure.

        `body`: the request body when the caller has already read it; otherwise it is read
        here and put back for whoever reads it next.
        """
        if body is None:
            body = await request.body.read()
            if not isinstance(request.body, EmptyBody | BytesBody):
                request.body = BytesBody(body)  # read once: kept for whoever reads it next
        parts = sigv4.RequestParts(
            request.method, request.path, request.query, request.headers, body
        )
        signed = sigv4.parse(parts)
        sigv4.check(
            signed,
            now=self._clock.now(),
            expected_region=self._region,
            expected_service=service,
        )
        known = await self._credentials.get(signed.access_key_id)
        if known is None:
            raise sigv4.UnrecognizedClient()
        resolved = known.resolved
        if resolved.session_token_sha256 is not None:
            token = signed.session_token or ""
            digest = hashlib.sha256(token.encode("latin-1")).hexdigest()
            if not hmac.compare_digest(digest, resolved.session_token_sha256):
                raise sigv4.UnrecognizedClient()
        elif signed.session_token:
            raise sigv4.UnrecognizedClient()
        sigv4.verify_signature(signed, known.secret)
        if resolved.expiration is not None and resolved.expiration <= self._clock.now():
            raise sigv4.ExpiredToken()
        if not resolved.active:
            raise sigv4.UnrecognizedClient()
        return known.principal
