"""StsService: who may assume a role, what the credentials look like, and when they expire."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from authgate.iam.errors import (
    AccessDenied,
    IamError,
    InvalidClientTokenId,
    MalformedPolicyDocument,
    ValidationError,
)
from authgate.iam.model import Caller, PrincipalKind
from authgate.iam.service import SESSION_POLICY, split_session_policy, temporary_context
from authgate.iam.trust import parse_trust_policy
from authgate.policy import PolicyError
from authgate.security.compare import token_matches
from tests.unit.iam.conftest import ACCOUNT, IamWorld

E = TypeVar("E", bound=IamError)
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
ASSUME = "sts:AssumeRole"


async def failure(cls: type[E], attempt: Awaitable[object]) -> E:
    with pytest.raises(cls) as caught:
        await attempt
    return caught.value


def statement(principal: object, effect: str = "Allow", **extra: object) -> dict[str, object]:
    return {"Effect": effect, "Principal": principal, "Action": ASSUME, **extra}


def trust(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str = ASSUME, resource: str = "*", effect: str = "Allow") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": effect, "Action": action, "Resource": resource}],
        }
    )


async def alice(world: IamWorld) -> Caller:
    await world.iam.create_user("alice")
    return await world.iam.caller_for_user("alice")


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


# -- trust policies, parsed --------------------------------------------------------------------


def test_trust_policy_applies_to_its_role() -> None:
    policy = parse_trust_policy(trust(statement({"AWS": ROOT})), role_arn("r"))
    assert [s.resources for s in policy.statements] == [(role_arn("r"),)]
    with pytest.raises(PolicyError, match=r"Statement\[0\]\.Resource: not allowed"):
        parse_trust_policy(trust(statement("*", Resource="*")), role_arn("r"))


# -- AssumeRole: who may ------------------------------------------------------------------------


async def test_trust_naming_the_user_grants_without_identity_policy(world: IamWorld) -> None:
    caller = await alice(world)
    role = await world.iam.create_role("r", trust(statement({"AWS": ALICE})))
    generation = world.iam.generation
    credentials, session = await world.sts.assume_role(caller, role.arn, "build-42")
    assert world.iam.generation > generation
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", credentials.access_key_id)
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", credentials.secret)
    assert credentials.session_token.startswith("IQoJb3JpZ2luX2Vj")
    assert credentials.expiration == world.clock.now() + 3600
    assert credentials.secret not in repr(credentials)
    assert credentials.session_token not in repr(credentials)
    assert session == Caller(
        arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/r/build-42",
        user_id=f"{role.id}:build-42",
        account=ACCOUNT,
        kind="AssumedRole",
        name="build-42",
        role_arn=role.arn,
    )


async def test_trust_naming_the_account_needs_an_identity_allow(world: IamWorld) -> None:
    caller = await alice(world)
    role = await world.iam.create_role("r", trust(statement({"AWS": ROOT})))
    denied = await failure(AccessDenied, world.sts.assume_role(caller, role.arn, "sess"))
    assert (denied.code, denied.status, denied.fault) == ("AccessDenied", 403, "Sender")
    assert denied.message == (
        f"User: {ALICE} is not authorized to perform: sts:AssumeRole on resource: {role.arn}"
    )
    await world.iam.put_inline_policy(
        PrincipalKind.USER, "alice", "assume", allow(resource=role.arn)
    )
    credentials, _ = await world.sts.assume_role(caller, role.arn, "sess")
    assert credentials.access_key_id.startswith("ASIA")


async def test_identity_allow_for_another_role_does_not_count(world: IamWorld) -> None:
    caller = await alice(world)
    role = await world.iam.create_role("r", trust(statement({"AWS": ACCOUNT})))
    await world.iam.put_inline_policy(
        PrincipalKind.USER, "alice", "assume", allow(resource=role_arn("other"))
    )
    await failure(AccessDenied, world.sts.assume_role(caller, role.arn, "sess"))


async def test_identity_allow_without_trust_is_denied(world: IamWorld) -> None:
    caller = await alice(world)
    role = await world.iam.create_role("r", trust(statement({"AWS": f"{ROOT[:-4]}user/bob"})))
    await world.iam.put_inline_policy(PrincipalKind.USER, "alice", "assume", allow())
    await failure(AccessDenied, world.sts.assume_role(caller, role.arn, "sess"))


@pytest.mark.parametrize(
    "deny_in", ["trust", "identity", "group"], ids=["trust-deny", "identity-deny", "group-deny"]
)
async def test_explicit_deny_anywhere_refuses(world: IamWorld, deny_in: str) -> None:
    caller = await alice(world)
    statements = [statement({"AWS": ALICE})]
    if deny_in == "trust":
        statements.append(statement({"AWS": ALICE}, effect="Deny"))
    role = await world.iam.create_role("r", trust(*statements))
    if deny_in == "identity":
        await world.iam.put_inline_policy(PrincipalKind.USER, "alice", "no", allow(effect="Deny"))
    if deny_in == "group":
        await world.iam.create_group("g")
        await world.iam.add_user_to_group("g", "alice")
        policy = await world.iam.create_policy("no", allow("sts:*", effect="Deny"))
        await world.iam.attach_policy(PrincipalKind.GROUP, "g", policy.arn)
    await failure(AccessDenied, world.sts.assume_role(caller, role.arn, "sess"))


async def test_trust_for_everyone(world: IamWorld) -> None:
    caller = await alice(world)
    role = await world.iam.create_role("r", trust(statement("*")))
    await world.sts.assume_role(caller, role.arn, "sess")


async def test_trust_conditions_see_the_session_and_caller(world: IamWorld) -> None:
    caller = await alice(world)
    condition = {
        "StringLike": {"sts:RoleSessionName": "ci-*"},
        "StringEquals": {"aws:username": "alice", "aws:PrincipalType": "User"},
    }
    role = await world.iam.create_role("r", trust(statement({"AWS": ALICE}, Condition=condition)))
    await world.sts.assume_role(caller, role.arn, "ci-7")
    await failure(AccessDenied, world.sts.assume_role(caller, role.arn, "manual"))


async def test_unknown_or_foreign_roles_are_access_denied(world: IamWorld) -> None:
    caller = await alice(world)
    await world.iam.create_role("r", trust(statement("*")), path="/ci/")
    for arn in (
        role_arn("missing"),
        role_arn("r"),  # the role's path is /ci/
        "arn:aws:iam::999999999999:role/ci/r",
        f"arn:aws:iam::{ACCOUNT}:user/ci/r",
    ):
        denied = await failure(AccessDenied, world.sts.assume_role(caller, arn, "sess"))
        assert denied.message.endswith(f"on resource: {arn}")
    await world.sts.assume_role(caller, f"arn:aws:iam::{ACCOUNT}:role/ci/r", "sess")


async def test_deleted_user_callers_get_no_identity_grant(world: IamWorld) -> None:
    caller = await alice(world)
    await world.iam.put_inline_policy(PrincipalKind.USER, "alice", "assume", allow())
    role = await world.iam.create_role("r", trust(statement({"AWS": ROOT})))
    await world.iam.delete_inline_policy(PrincipalKind.USER, "alice", "assume")
    await world.iam.delete_user("alice")
    await failure(AccessDenied, world.sts.assume_role(caller, role.arn, "sess"))


# -- AssumeRole: parameters --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("session_name", "duration", "message"),
    [
        (
            "s",
            3600,
            "Value 's' at 'roleSessionName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 2",
        ),
        ("x" * 65, 3600, "Member must have length less than or equal to 64"),
        ("bad name", 3600, r"Member must satisfy regular expression pattern: [\w+=,.@-]*"),
        (
            "ok",
            899,
            "Value '899' at 'durationSeconds' failed to satisfy constraint: "
            "Member must have value greater than or equal to 900",
        ),
        ("ok", 43201, "Member must have value less than or equal to 43200"),
    ],
)
async def test_parameter_validation(
    world: IamWorld, session_name: str, duration: int, message: str
) -> None:
    caller = await alice(world)
    role = await world.iam.create_role("r", trust(statement("*")))
    error = await failure(
        ValidationError, world.sts.assume_role(caller, role.arn, session_name, duration)
    )
    assert (error.code, error.status) == ("ValidationError", 400)
    assert error.message.startswith("1 validation error detected: ")
    assert message in error.message


async def test_short_role_arn_is_a_validation_error(world: IamWorld) -> None:
    caller = await alice(world)
    error = await failure(ValidationError, world.sts.assume_role(caller, "arn:aws:iam", "s1"))
    assert "at 'roleArn'" in error.message


async def test_duration_limits(world: IamWorld) -> None:
    caller = await alice(world)
    role = await world.iam.create_role("r", trust(statement("*")), max_session_duration=7200)
    low, _ = await world.sts.assume_role(caller, role.arn, "s1", 900)
    high, session = await world.sts.assume_role(caller, role.arn, "s2", 7200)
    assert (low.expiration, high.expiration) == (world.clock.now() + 900, world.clock.now() + 7200)
    too_long = await failure(ValidationError, world.sts.assume_role(caller, role.arn, "s3", 7201))
    assert too_long.message == (
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )
    # role chaining: a role session assuming a role gets at most one hour
    await world.sts.assume_role(session, role.arn, "chained", 3600)
    chained = await failure(ValidationError, world.sts.assume_role(session, role.arn, "c2", 3601))
    assert chained.message == (
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
        "role chaining."
    )


async def test_malformed_session_policy(world: IamWorld) -> None:
    caller = await alice(world)
    role = await world.iam.create_role("r", trust(statement("*")))
    error = await failure(
        MalformedPolicyDocument,
        world.sts.assume_role(caller, role.arn, "sess", session_policy='{"Statement": 1}'),
    )
    assert "Statement: must be an object or a list of objects" in error.message


# -- what the credentials resolve to -----------------------------------------------------------


async def test_assumed_role_credentials_resolve(world: IamWorld) -> None:
    caller = await alice(world)
    role = await world.iam.create_role("r", trust(statement({"AWS": ALICE})))
    managed = await world.iam.create_policy("read", allow("iam:Get*"))
    await world.iam.put_inline_policy(PrincipalKind.ROLE, "r", "inline", allow("iam:List*"))
    await world.iam.attach_policy(PrincipalKind.ROLE, "r", managed.arn)
    await world.iam.put_inline_policy(PrincipalKind.USER, "alice", "own", allow("s3:*"))
    session_policy = allow("iam:ListUsers")
    credentials, session = await world.sts.assume_role(
        caller, role.arn, "sess", 1800, session_policy=session_policy
    )
    resolved = await world.iam.resolve(credentials.access_key_id)
    assert resolved is not None
    assert (resolved.secret, resolved.active, resolved.caller) == (
        credentials.secret,
        True,
        session,
    )
    assert resolved.expiration == credentials.expiration
    assert resolved.session_token_sha256 is not None
    assert token_matches(credentials.session_token, resolved.session_token_sha256)
    assert resolved.policies == (
        ("role/r/inline", allow("iam:List*")),
        (managed.arn, allow("iam:Get*")),
        (SESSION_POLICY, session_policy),
    ), "the role's policies, not alice's, and the session policy tagged"
    identity, session_doc = split_session_policy(resolved.policies)
    assert (len(identity), session_doc) == (2, session_policy)


async def test_temporary_credentials_expire(world: IamWorld) -> None:
    caller = await alice(world)
    role = await world.iam.create_role("r", trust(statement("*")))
    credentials, _ = await world.sts.assume_role(caller, role.arn, "sess", 900)
    world.clock.advance(899)
    resolved = await world.iam.resolve(credentials.access_key_id)
    assert resolved is not None
    assert resolved.active
    world.clock.advance(1)
    expired = await world.iam.resolve(credentials.access_key_id)
    assert expired is not None
    assert not expired.active
    assert expired.expiration == credentials.expiration <= world.clock.now()
    assert await world.iam.delete_expired_credentials() == 0, "expiring now is not expired yet"
    world.clock.advance(1)
    generation = world.iam.generation
    assert await world.iam.delete_expired_credentials() == 1
    assert world.iam.generation == generation + 1
    assert await world.iam.resolve(credentials.access_key_id) is None


async def test_deleting_the_role_ends_its_sessions(world: IamWorld) -> None:
    caller = await alice(world)
    role = await world.iam.create_role("r", trust(statement("*")))
    credentials, _ = await world.sts.assume_role(caller, role.arn, "sess")
    await world.iam.delete_role("r")
    assert await world.iam.resolve(credentials.access_key_id) is None


async def test_temporary_secrets_and_tokens_are_not_stored_in_clear(world: IamWorld) -> None:
    caller = await alice(world)
    role = await world.iam.create_role("r", trust(statement("*")))
    credentials, _ = await world.sts.assume_role(caller, role.arn, "sess")
    session = await world.sts.get_session_token(caller)
    raw = world.raw_database()
    for issued in (credentials, session):
        assert issued.access_key_id.encode() in raw
        assert issued.secret.encode() not in raw
        assert issued.session_token.encode() not in raw
    with sqlite3.connect(world.db_path) as db:
        rows = db.execute(
            "SELECT id, secret, token_sha256 FROM iam_temporary_credentials"
        ).fetchall()
    db.close()
    assert len(rows) == 2
    for key_id, sealed, digest in rows:
        issued = credentials if key_id == credentials.access_key_id else session
        assert world.box.open(sealed, context=temporary_context(key_id)) == issued.secret.encode()
        assert token_matches(issued.session_token, digest)


# -- session policies limit what a session may assume ------------------------------------------


async def test_session_policy_limits_assuming_another_role(world: IamWorld) -> None:
    caller = await alice(world)
    first = await world.iam.create_role("first", trust(statement({"AWS": ALICE})))
    second = await world.iam.create_role("second", trust(statement({"AWS": first.arn})))
    limited, session = await world.sts.assume_role(
        caller, first.arn, "sess", session_policy=allow("iam:GetUser")
    )
    resolved = await world.iam.resolve(limited.access_key_id)
    assert resolved is not None
    await failure(
        AccessDenied,
        world.sts.assume_role(session, second.arn, "s2", identity_policies=resolved.policies),
    )
    # without the session policy the role's trust grant stands
    await world.sts.assume_role(session, second.arn, "s3")
    # a trust statement naming the session itself is not limited by the session policy
    await world.iam.update_assume_role_policy("second", trust(statement({"AWS": session.arn})))
    await world.sts.assume_role(session, second.arn, "s4", identity_policies=resolved.policies)


async def test_role_sessions_use_the_role_identity_policies(world: IamWorld) -> None:
    caller = await alice(world)
    first = await world.iam.create_role("first", trust(statement({"AWS": ALICE})))
    second = await world.iam.create_role("second", trust(statement({"AWS": ACCOUNT})))
    _, session = await world.sts.assume_role(caller, first.arn, "sess")
    await failure(AccessDenied, world.sts.assume_role(session, second.arn, "s2"))
    await world.iam.put_inline_policy(PrincipalKind.ROLE, "first", "chain", allow())
    await world.sts.assume_role(session, second.arn, "s2")


# -- GetSessionToken ---------------------------------------------------------------------------


async def test_get_session_token(world: IamWorld) -> None:
    caller = await alice(world)
    await world.iam.put_inline_policy(PrincipalKind.USER, "alice", "own", allow("s3:*"))
    generation = world.iam.generation
    credentials = await world.sts.get_session_token(caller)
    assert world.iam.generation > generation
    assert credentials.expiration == world.clock.now() + 43_200
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", credentials.access_key_id)
    resolved = await world.iam.resolve(credentials.access_key_id)
    assert resolved is not None
    assert (resolved.caller, resolved.active) == (caller, True)
    assert resolved.policies == (("user/alice/own", allow("s3:*")),)
    short = await world.sts.get_session_token(caller, 900)
    assert short.expiration == world.clock.now() + 900
    await world.sts.get_session_token(caller, 129_600)


@pytest.mark.parametrize(
    ("duration", "rule"),
    [(899, "greater than or equal to 900"), (129_601, "less than or equal to 129600")],
)
async def test_get_session_token_durations(world: IamWorld, duration: int, rule: str) -> None:
    caller = await alice(world)
    error = await failure(ValidationError, world.sts.get_session_token(caller, duration))
    assert (
        f"at 'durationSeconds' failed to satisfy constraint: Member must have value {rule}"
        in error.message
    )


async def test_get_session_token_refuses_session_credentials(world: IamWorld) -> None:
    caller = await alice(world)
    role = await world.iam.create_role("r", trust(statement("*")))
    _, session = await world.sts.assume_role(caller, role.arn, "sess")
    for attempt in (
        world.sts.get_session_token(session),
        world.sts.get_session_token(caller, temporary=True),
    ):
        denied = await failure(AccessDenied, attempt)
        assert denied.message == "Cannot call GetSessionToken with session credentials"


async def test_get_session_token_for_a_deleted_user(world: IamWorld) -> None:
    caller = await alice(world)
    await world.iam.delete_user("alice")
    await failure(InvalidClientTokenId, world.sts.get_session_token(caller))


async def test_deleting_the_user_ends_session_tokens(world: IamWorld) -> None:
    caller = await alice(world)
    credentials = await world.sts.get_session_token(caller)
    await world.iam.delete_user("alice")
    assert await world.iam.resolve(credentials.access_key_id) is None
