"""IamService on a real SQLite store: every operation, every error code and message, secrets
at rest, and what `resolve()` hands the authorizer."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from authgate.iam.errors import (
    AccessDenied,
    ConcurrentModification,
    DeleteConflict,
    EntityAlreadyExists,
    ExpiredToken,
    IamError,
    InvalidClientTokenId,
    InvalidInput,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
    ServiceFailure,
    ValidationError,
)
from authgate.iam.model import KeyStatus, PrincipalKind
from authgate.iam.service import (
    SESSION_POLICY,
    IamService,
    access_key_context,
    split_session_policy,
)
from authgate.policy import Principal, RequestContext, evaluate, parse_policy
from authgate.security.secrets import SealedValueError, SecretBox
from tests.unit.iam.conftest import ACCOUNT, IamWorld

USER, GROUP, ROLE = PrincipalKind.USER, PrincipalKind.GROUP, PrincipalKind.ROLE


def doc(action: str = "execute-api:Invoke", effect: str = "Allow", resource: str = "*") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": effect, "Action": action, "Resource": resource}],
        }
    )


def trust(principal: object) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
            ],
        }
    )


ROOT = f"arn:aws:iam::{ACCOUNT}:root"
E = TypeVar("E", bound=IamError)


async def failure(cls: type[E], attempt: Awaitable[object]) -> E:
    """The error `attempt` raises, which must be a `cls`."""
    with pytest.raises(cls) as caught:
        await attempt
    return caught.value


def error(exc: pytest.ExceptionInfo[IamError]) -> tuple[str, int, str, str]:
    return exc.value.code, exc.value.status, exc.value.fault, exc.value.message


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "code", "status", "fault"),
    [
        (NoSuchEntity, "NoSuchEntity", 404, "Sender"),
        (EntityAlreadyExists, "EntityAlreadyExists", 409, "Sender"),
        (LimitExceeded, "LimitExceeded", 409, "Sender"),
        (DeleteConflict, "DeleteConflict", 409, "Sender"),
        (MalformedPolicyDocument, "MalformedPolicyDocument", 400, "Sender"),
        (ValidationError, "ValidationError", 400, "Sender"),
        (InvalidInput, "InvalidInput", 400, "Sender"),
        (AccessDenied, "AccessDenied", 403, "Sender"),
        (ConcurrentModification, "ConcurrentModification", 409, "Sender"),
        (ExpiredToken, "ExpiredToken", 403, "Sender"),
        (InvalidClientTokenId, "InvalidClientTokenId", 403, "Sender"),
        (ServiceFailure, "ServiceFailure", 500, "Receiver"),
    ],
)
def test_error_faces(cls: type[IamError], code: str, status: int, fault: str) -> None:
    err = cls("m")
    assert (err.code, err.status, err.fault, err.message, str(err)) == (
        code,
        status,
        fault,
        "m",
        "m",
    )


def test_default_messages() -> None:
    assert ExpiredToken().message == "The security token included in the request is expired"
    assert (
        InvalidClientTokenId().message == "The security token included in the request is invalid."
    )
    assert ConcurrentModification().message.startswith("The request was rejected because multiple")


# -- users -------------------------------------------------------------------------------------


async def test_create_and_get_user(world: IamWorld) -> None:
    before = world.iam.generation
    user = await world.iam.create_user("alice", "/eng/", [("team", "web")])
    assert re.fullmatch(r"AIDA[A-Z2-7]{17}", user.id)
    assert user.arn == f"arn:aws:iam::{ACCOUNT}:user/eng/alice"
    assert (user.path, user.created, user.tags) == ("/eng/", world.clock.now(), (("team", "web"),))
    assert world.iam.generation == before + 1
    assert await world.iam.get_user("alice") == user
    assert await world.iam.get_user("ALICE") == user
    assert world.iam.generation == before + 1, "reads do not bump"


async def test_duplicate_user(world: IamWorld) -> None:
    await world.iam.create_user("alice")
    generation = world.iam.generation
    with pytest.raises(EntityAlreadyExists) as caught:
        await world.iam.create_user("Alice")
    assert error(caught) == (
        "EntityAlreadyExists",
        409,
        "Sender",
        "User with name Alice already exists.",
    )
    assert world.iam.generation == generation, "failed writes do not bump"


async def test_missing_user(world: IamWorld) -> None:
    with pytest.raises(NoSuchEntity) as caught:
        await world.iam.get_user("alice")
    assert error(caught) == (
        "NoSuchEntity",
        404,
        "Sender",
        "The user with name alice cannot be found.",
    )


@pytest.mark.parametrize(
    ("name", "path", "message"),
    [
        (
            "",
            "/",
            "Value '' at 'userName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1",
        ),
        (
            "a" * 65,
            "/",
            "at 'userName' failed to satisfy constraint: "
            "Member must have length less than or equal to 64",
        ),
        (
            "bad name",
            "/",
            "Value 'bad name' at 'userName' failed to satisfy constraint: "
            r"Member must satisfy regular expression pattern: [\w+=,.@-]+",
        ),
        ("bad/name", "/", "at 'userName'"),
        (
            "alice",
            "eng",
            "Value 'eng' at 'path' failed to satisfy constraint: Member must satisfy "
            r"regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)",
        ),
        ("alice", "/eng", "at 'path'"),
        (
            "alice",
            "",
            "at 'path' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1",
        ),
        (
            "alice",
            "/" + "a" * 511 + "/",
            "at 'path' failed to satisfy constraint: "
            "Member must have length less than or equal to 512",
        ),
    ],
)
async def test_user_validation(world: IamWorld, name: str, path: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        await world.iam.create_user(name, path)
    assert caught.value.message.startswith("1 validation error detected: ")
    assert message in caught.value.message
    assert await world.iam.list_users() == []


async def test_user_name_characters(world: IamWorld) -> None:
    user = await world.iam.create_user("a+b=c,d.e@f_g-h", "/a/b-c/")
    assert user.arn == f"arn:aws:iam::{ACCOUNT}:user/a/b-c/a+b=c,d.e@f_g-h"
    await world.iam.create_user("x" * 64)


async def test_user_tags(world: IamWorld) -> None:
    with pytest.raises(InvalidInput) as caught:
        await world.iam.create_user("alice", tags=[("Team", "a"), ("team", "b")])
    assert (
        caught.value.message
        == "Duplicate tag keys found. Please note that Tag keys are case insensitive."
    )
    with pytest.raises(LimitExceeded):
        await world.iam.create_user("alice", tags=[(f"k{i}", "v") for i in range(51)])
    assert (
        "tags.member.key"
        in (
            await failure(ValidationError, world.iam.create_user("alice", tags=[("", "v")]))
        ).message
    )
    assert (
        "tags.member.value"
        in (
            await failure(ValidationError, world.iam.create_user("alice", tags=[("k", "v" * 257)]))
        ).message
    )
    assert (
        "tags.member.key"
        in (
            await failure(ValidationError, world.iam.create_user("alice", tags=[("k{", "v")]))
        ).message
    )
    user = await world.iam.create_user("alice", tags=[(f"k{i}", "") for i in range(50)])
    assert len(user.tags) == 50


async def test_list_users(world: IamWorld) -> None:
    for name, path in [("carol", "/"), ("bob", "/eng/"), ("alice", "/eng/web/")]:
        await world.iam.create_user(name, path)
    assert [u.name for u in await world.iam.list_users()] == ["alice", "bob", "carol"]
    assert [u.name for u in await world.iam.list_users("/eng/")] == ["alice", "bob"]
    assert "pathPrefix" in (await failure(ValidationError, world.iam.list_users("eng"))).message
    assert await world.iam.has_users()


async def test_delete_user(world: IamWorld) -> None:
    await world.iam.create_user("alice")
    generation = world.iam.generation
    await world.iam.delete_user("ALICE")
    assert world.iam.generation == generation + 1
    assert not await world.iam.has_users()
    assert (
        await failure(NoSuchEntity, world.iam.delete_user("alice"))
    ).message == "The user with name alice cannot be found."


async def test_delete_user_conflicts(world: IamWorld) -> None:
    iam = world.iam
    await iam.create_user("alice")
    await iam.create_group("devs")
    policy = await iam.create_policy("p", doc())
    key = await iam.create_access_key("alice")
    await iam.put_inline_policy(USER, "alice", "inline", doc())
    await iam.attach_policy(USER, "alice", policy.arn)
    await iam.add_user_to_group("devs", "alice")
    steps = [
        (
            "Cannot delete entity, must delete access keys first.",
            iam.delete_access_key("alice", key.key.id),
        ),
        (
            "Cannot delete entity, must delete policies first.",
            iam.delete_inline_policy(USER, "alice", "inline"),
        ),
        (
            "Cannot delete entity, must detach all policies first.",
            iam.detach_policy(USER, "alice", policy.arn),
        ),
        (
            "Cannot delete entity, must remove user from group first.",
            iam.remove_user_from_group("devs", "alice"),
        ),
    ]
    for message, fix in steps:
        with pytest.raises(DeleteConflict) as caught:
            await iam.delete_user("alice")
        assert error(caught) == ("DeleteConflict", 409, "Sender", message)
        await fix
    await iam.delete_user("alice")


# -- access keys -------------------------------------------------------------------------------


async def test_access_keys(world: IamWorld) -> None:
    iam = world.iam
    await iam.create_user("alice")
    first = await iam.create_access_key("Alice")
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", first.key.id)
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", first.secret)
    assert (first.key.user_name, first.key.status, first.key.created) == (
        "alice",
        KeyStatus.ACTIVE,
        world.clock.now(),
    )
    assert first.secret not in repr(first)
    world.clock.advance(5)
    second = await iam.create_access_key("alice")
    with pytest.raises(LimitExceeded) as caught:
        await iam.create_access_key("alice")
    assert error(caught) == (
        "LimitExceeded",
        409,
        "Sender",
        "Cannot exceed quota for AccessKeysPerUser: 2",
    )
    assert await iam.list_access_keys("alice") == [first.key, second.key]

    await iam.update_access_key("alice", first.key.id, KeyStatus.INACTIVE)
    assert [k.status for k in await iam.list_access_keys("alice")] == [
        KeyStatus.INACTIVE,
        KeyStatus.ACTIVE,
    ]
    await iam.delete_access_key("alice", first.key.id)
    assert await iam.list_access_keys("alice") == [second.key]
    await iam.create_access_key("alice")


async def test_access_key_errors(world: IamWorld) -> None:
    iam = world.iam
    assert (
        await failure(NoSuchEntity, iam.create_access_key("ghost"))
    ).message == "The user with name ghost cannot be found."
    assert (
        await failure(NoSuchEntity, iam.list_access_keys("ghost"))
    ).message == "The user with name ghost cannot be found."
    await iam.create_user("alice")
    await iam.create_user("bob")
    bobs = await iam.create_access_key("bob")
    for attempt in (
        iam.update_access_key("alice", bobs.key.id, KeyStatus.INACTIVE),
        iam.delete_access_key("alice", bobs.key.id),
        iam.update_access_key("alice", "AKIANOSUCHKEY0000000", KeyStatus.ACTIVE),
        iam.delete_access_key("alice", "AKIANOSUCHKEY0000000"),
    ):
        with pytest.raises(NoSuchEntity) as caught:
            await attempt
        assert caught.value.message.startswith("The Access Key with id AKIA")
        assert caught.value.message.endswith(" cannot be found.")
    with pytest.raises(ValidationError) as bad:
        await iam.update_access_key("bob", bobs.key.id, "Enabled")  # type: ignore[arg-type]
    assert "Member must satisfy enum value set: [Active, Inactive]" in bad.value.message
    await iam.update_access_key("bob", bobs.key.id, "Inactive")  # type: ignore[arg-type]
    assert (await iam.list_access_keys("bob"))[0].status is KeyStatus.INACTIVE


async def test_secrets_are_never_stored_in_clear(world: IamWorld) -> None:
    await world.iam.create_user("alice")
    keys = [await world.iam.create_access_key("alice") for _ in range(2)]
    raw = world.raw_database()
    for key in keys:
        assert key.key.id.encode() in raw, "the test does read the records"
        assert key.secret.encode() not in raw
    with sqlite3.connect(world.db_path) as db:
        rows = db.execute("SELECT id, secret FROM iam_access_keys").fetchall()
    db.close()
    assert len(rows) == 2
    for key_id, sealed in rows:
        secret = next(k.secret for k in keys if k.key.id == key_id)
        assert secret.encode() not in sealed
        assert world.box.open(sealed, context=access_key_context(key_id)) == secret.encode()


# -- resolve -----------------------------------------------------------------------------------


async def test_resolve_long_term_key(world: IamWorld) -> None:
    iam = world.iam
    user = await iam.create_user("alice", "/eng/")
    key = await iam.create_access_key("alice")
    resolved = await iam.resolve(key.key.id)
    assert resolved is not None
    assert (resolved.access_key_id, resolved.secret, resolved.active) == (
        key.key.id,
        key.secret,
        True,
    )
    assert (resolved.session_token_sha256, resolved.expiration) == (None, None)
    assert resolved.caller == await iam.caller_for_user("alice")
    assert resolved.caller.arn == user.arn
    assert (resolved.caller.user_id, resolved.caller.kind, resolved.caller.name) == (
        user.id,
        "IAMUser",
        "alice",
    )
    assert (resolved.caller.account, resolved.caller.role_arn) == (ACCOUNT, None)
    assert resolved.policies == ()
    assert key.secret not in repr(resolved)


async def test_disable_and_delete_take_effect_at_once(world: IamWorld) -> None:
    iam = world.iam
    await iam.create_user("alice")
    key = await iam.create_access_key("alice")
    generation = iam.generation
    await iam.update_access_key("alice", key.key.id, KeyStatus.INACTIVE)
    assert iam.generation > generation
    resolved = await iam.resolve(key.key.id)
    assert resolved is not None
    assert not resolved.active
    await iam.update_access_key("alice", key.key.id, KeyStatus.ACTIVE)
    again = await iam.resolve(key.key.id)
    assert again is not None
    assert again.active
    generation = iam.generation
    await iam.delete_access_key("alice", key.key.id)
    assert iam.generation > generation
    assert await iam.resolve(key.key.id) is None


async def test_resolve_unknown_keys(world: IamWorld) -> None:
    for key_id in ("AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE", "", "x"):
        assert await world.iam.resolve(key_id) is None


async def test_resolve_collects_every_identity_policy(world: IamWorld) -> None:
    iam = world.iam
    await iam.create_user("alice")
    await iam.create_group("devs")
    await iam.create_group("ops")
    shared = await iam.create_policy("shared", doc("execute-api:Invoke"))
    grp = await iam.create_policy("grp", doc("iam:GetUser"))
    await iam.put_inline_policy(USER, "alice", "mine", doc("sts:GetCallerIdentity"))
    await iam.attach_policy(USER, "alice", shared.arn)
    await iam.put_inline_policy(GROUP, "devs", "team", doc("iam:ListUsers"))
    await iam.attach_policy(GROUP, "devs", shared.arn)
    await iam.attach_policy(GROUP, "ops", grp.arn)
    await iam.add_user_to_group("devs", "alice")
    await iam.add_user_to_group("ops", "alice")
    key = await iam.create_access_key("alice")
    resolved = await iam.resolve(key.key.id)
    assert resolved is not None
    assert [name for name, _ in resolved.policies] == [
        "user/alice/mine",
        shared.arn,
        "group/devs/team",
        grp.arn,
    ], "a policy attached twice counts once"
    assert dict(resolved.policies)["group/devs/team"] == doc("iam:ListUsers")
    policies = [parse_policy(d, name=n) for n, d in resolved.policies]
    principal = Principal.from_arn(resolved.caller.arn)
    for action, allowed in [
        ("iam:ListUsers", True),
        ("iam:GetUser", True),
        ("iam:DeleteUser", False),
    ]:
        decision = evaluate(
            RequestContext(action, "arn:aws:iam::123456789012:user/x", principal), policies
        )
        assert decision.allowed is allowed

    await iam.remove_user_from_group("ops", "alice")
    after = await iam.resolve(key.key.id)
    assert after is not None
    assert grp.arn not in dict(after.policies)


async def test_resolve_with_the_wrong_master_key_fails_closed(world: IamWorld) -> None:
    await world.iam.create_user("alice")
    key = await world.iam.create_access_key("alice")
    other = IamService(world.store, SecretBox(bytes(32)), account_id=ACCOUNT, clock=world.clock)
    with pytest.raises(SealedValueError):
        await other.resolve(key.key.id)


def test_split_session_policy() -> None:
    policies = (("user/a/p", "1"), (SESSION_POLICY, "2"), ("arn:x", "3"))
    assert split_session_policy(policies) == ([("user/a/p", "1"), ("arn:x", "3")], "2")
    assert split_session_policy(policies[:1]) == ([("user/a/p", "1")], None)


# -- groups ------------------------------------------------------------------------------------


async def test_groups(world: IamWorld) -> None:
    iam = world.iam
    devs = await iam.create_group("devs", "/eng/")
    assert re.fullmatch(r"AGPA[A-Z2-7]{17}", devs.id)
    assert devs.arn == f"arn:aws:iam::{ACCOUNT}:group/eng/devs"
    assert (
        await failure(EntityAlreadyExists, iam.create_group("DEVS"))
    ).message == "Group with name DEVS already exists."
    assert "groupName" in (await failure(ValidationError, iam.create_group("a" * 129))).message
    await iam.create_group("a" * 128)
    alice = await iam.create_user("alice")
    bob = await iam.create_user("bob")
    await iam.add_user_to_group("devs", "bob")
    await iam.add_user_to_group("Devs", "alice")
    generation = iam.generation
    await iam.add_user_to_group("devs", "alice")
    assert await iam.get_group("devs") == (devs, [alice, bob])
    assert await iam.list_groups_for_user("alice") == [devs]
    assert [g.name for g in await iam.list_groups()] == ["a" * 128, "devs"]
    assert [g.name for g in await iam.list_groups("/eng/")] == ["devs"]
    await iam.remove_user_from_group("devs", "alice")
    assert iam.generation > generation
    assert await iam.get_group("devs") == (devs, [bob])
    assert (
        await failure(NoSuchEntity, iam.remove_user_from_group("devs", "alice"))
    ).message == "The user with name alice cannot be found."


async def test_group_errors(world: IamWorld) -> None:
    iam = world.iam
    await iam.create_user("alice")
    for attempt in (
        iam.get_group("ghosts"),
        iam.add_user_to_group("ghosts", "alice"),
        iam.remove_user_from_group("ghosts", "alice"),
        iam.delete_group("ghosts"),
    ):
        with pytest.raises(NoSuchEntity) as caught:
            await attempt
        assert caught.value.message == "The group with name ghosts cannot be found."
    await iam.create_group("devs")
    assert (
        await failure(NoSuchEntity, iam.add_user_to_group("devs", "bob"))
    ).message == "The user with name bob cannot be found."
    assert (
        await failure(NoSuchEntity, iam.list_groups_for_user("bob"))
    ).message == "The user with name bob cannot be found."


async def test_groups_per_user_limit(world: IamWorld) -> None:
    iam = world.iam
    await iam.create_user("alice")
    for i in range(11):
        await iam.create_group(f"g{i}")
    for i in range(10):
        await iam.add_user_to_group(f"g{i}", "alice")
    assert (
        await failure(LimitExceeded, iam.add_user_to_group("g10", "alice"))
    ).message == "Cannot exceed quota for GroupsPerUser: 10"
    await iam.add_user_to_group("g0", "alice")  # already a member: not a new membership


async def test_delete_group_conflicts(world: IamWorld) -> None:
    iam = world.iam
    await iam.create_user("alice")
    await iam.create_group("devs")
    policy = await iam.create_policy("p", doc())
    await iam.add_user_to_group("devs", "alice")
    await iam.put_inline_policy(GROUP, "devs", "inline", doc())
    await iam.attach_policy(GROUP, "devs", policy.arn)
    steps = [
        (
            "Cannot delete entity, must remove users from group first.",
            iam.remove_user_from_group("devs", "alice"),
        ),
        (
            "Cannot delete entity, must delete policies first.",
            iam.delete_inline_policy(GROUP, "devs", "inline"),
        ),
        (
            "Cannot delete entity, must detach all policies first.",
            iam.detach_policy(GROUP, "devs", policy.arn),
        ),
    ]
    for message, fix in steps:
        assert (await failure(DeleteConflict, iam.delete_group("devs"))).message == f"{message}"
        await fix
    await iam.delete_group("devs")
    assert await iam.list_groups() == []


# -- roles -------------------------------------------------------------------------------------


async def test_roles(world: IamWorld) -> None:
    iam = world.iam
    role = await iam.create_role("Deployer", trust(ROOT), "/ci/", "deploys", 7200)
    assert re.fullmatch(r"AROA[A-Z2-7]{17}", role.id)
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/ci/Deployer"
    assert (role.trust_policy, role.description, role.max_session_duration) == (
        trust(ROOT),
        "deploys",
        7200,
    )
    assert await iam.get_role("deployer") == role
    assert (
        await failure(EntityAlreadyExists, iam.create_role("deployer", trust(ROOT)))
    ).message == "Role with name deployer already exists."
    await iam.create_role("reader", trust(ROOT))
    assert [r.name for r in await iam.list_roles()] == ["Deployer", "reader"]
    assert [r.name for r in await iam.list_roles("/ci/")] == ["Deployer"]
    assert await iam.find_role(role.arn) == role
    assert await iam.find_role(f"arn:aws:iam::{ACCOUNT}:role/Deployer") is None, "path matters"
    assert await iam.find_role("arn:aws:iam::999999999999:role/ci/Deployer") is None
    new_trust = trust(f"arn:aws:iam::{ACCOUNT}:user/alice")
    generation = iam.generation
    await iam.update_assume_role_policy("deployer", new_trust)
    assert iam.generation == generation + 1
    assert (await iam.get_role("Deployer")).trust_policy == new_trust
    await iam.delete_role("deployer")
    assert (
        await failure(NoSuchEntity, iam.get_role("Deployer"))
    ).message == "The role with name Deployer cannot be found."
    assert (
        await failure(NoSuchEntity, iam.delete_role("x"))
    ).message == "The role with name x cannot be found."
    assert (
        await failure(NoSuchEntity, iam.update_assume_role_policy("x", trust(ROOT)))
    ).message == "The role with name x cannot be found."


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "a" * 65}, "at 'roleName'"),
        ({"name": "a b"}, "at 'roleName'"),
        ({"path": "x"}, "at 'path'"),
        (
            {"description": "d" * 1001},
            "at 'description' failed to satisfy constraint: "
            "Member must have length less than or equal to 1000",
        ),
        (
            {"max_session_duration": 3599},
            "Value '3599' at 'maxSessionDuration' failed to satisfy constraint: "
            "Member must have value greater than or equal to 3600",
        ),
        ({"max_session_duration": 43201}, "Member must have value less than or equal to 43200"),
    ],
)
async def test_role_validation(world: IamWorld, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"name": "r", "trust_policy": trust(ROOT), **kwargs}
    with pytest.raises(ValidationError) as caught:
        await world.iam.create_role(**args)  # type: ignore[arg-type]
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "a policy must be a JSON object"),
        (
            json.dumps({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}),
            "Statement[0].Principal: a resource policy statement needs Principal",
        ),
        (
            json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "sts:AssumeRole",
                            "Resource": "*",
                        }
                    ]
                }
            ),
            "Statement[0].Resource: not allowed in a trust policy",
        ),
        (
            json.dumps(
                {
                    "Statement": {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "sts:AssumeRole",
                        "NotResource": "*",
                    }
                }
            ),
            "Statement.NotResource: not allowed in a trust policy",
        ),
        (
            json.dumps(
                {"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "sts:AssumeRole"}]}
            ),
            'Statement[0].Effect: must be "Allow" or "Deny"',
        ),
        (
            json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::1:user/*"},
                            "Action": "sts:AssumeRole",
                        }
                    ]
                }
            ),
            "Statement[0].Principal.AWS",
        ),
        ('{"Statement": [], "Statement": []}', "more than once"),
    ],
)
async def test_malformed_trust_policies(world: IamWorld, document: str, message: str) -> None:
    with pytest.raises(MalformedPolicyDocument) as caught:
        await world.iam.create_role("r", document)
    assert error(caught)[:3] == ("MalformedPolicyDocument", 400, "Sender")
    assert message in caught.value.message
    await world.iam.create_role("r", trust(ROOT))
    with pytest.raises(MalformedPolicyDocument):
        await world.iam.update_assume_role_policy("r", document)


async def test_delete_role_conflicts(world: IamWorld) -> None:
    iam = world.iam
    await iam.create_role("r", trust(ROOT))
    policy = await iam.create_policy("p", doc())
    await iam.put_inline_policy(ROLE, "r", "inline", doc())
    await iam.attach_policy(ROLE, "r", policy.arn)
    assert (
        await failure(DeleteConflict, iam.delete_role("r"))
    ).message == "Cannot delete entity, must delete policies first."
    await iam.delete_inline_policy(ROLE, "r", "inline")
    assert (
        await failure(DeleteConflict, iam.delete_role("r"))
    ).message == "Cannot delete entity, must detach all policies first."
    await iam.detach_policy(ROLE, "r", policy.arn)
    await iam.delete_role("r")


# -- inline policies ---------------------------------------------------------------------------


async def _make_owner(world: IamWorld, kind: PrincipalKind, name: str) -> None:
    if kind is USER:
        await world.iam.create_user(name)
    elif kind is GROUP:
        await world.iam.create_group(name)
    else:
        await world.iam.create_role(name, trust(ROOT))


@pytest.mark.parametrize("kind", list(PrincipalKind))
async def test_inline_policies(world: IamWorld, kind: PrincipalKind) -> None:
    iam = world.iam
    assert (
        await failure(NoSuchEntity, iam.put_inline_policy(kind, "owner", "p", doc()))
    ).message == f"The {kind.value} with name owner cannot be found."
    await _make_owner(world, kind, "Owner")
    generation = iam.generation
    await iam.put_inline_policy(kind, "owner", "b", doc())
    await iam.put_inline_policy(kind, "owner", "a", doc("iam:*"))
    await iam.put_inline_policy(kind, "owner", "b", doc("sts:*"))
    assert iam.generation == generation + 3
    assert await iam.list_inline_policies(kind, "owner") == ["a", "b"]
    got = await iam.get_inline_policy(kind, "OWNER", "b")
    assert (got.owner_kind, got.owner, got.name, got.document) == (kind, "Owner", "b", doc("sts:*"))
    with pytest.raises(NoSuchEntity) as caught:
        await iam.get_inline_policy(kind, "owner", "c")
    assert caught.value.message == f"The {kind.value} policy with name c cannot be found."
    assert (
        await failure(NoSuchEntity, iam.delete_inline_policy(kind, "owner", "c"))
    ).message == f"The {kind.value} policy with name c cannot be found."
    await iam.delete_inline_policy(kind, "owner", "a")
    assert await iam.list_inline_policies(kind, "owner") == ["b"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("nope", "$: not valid JSON"),
        (
            json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}
            ),
            "Statement[0].Resource: a statement needs Resource or NotResource",
        ),
        (
            json.dumps(
                {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"}}
            ),
            "Statement.Principal: not allowed in identity policies",
        ),
        (json.dumps({"Version": "2020-01-01", "Statement": []}), "Version: must be"),
        (
            json.dumps({"Statement": [{"Effect": "Allow", "Action": "nocolon", "Resource": "*"}]}),
            "Statement[0].Action",
        ),
    ],
)
async def test_malformed_identity_policies(world: IamWorld, document: str, message: str) -> None:
    await world.iam.create_user("alice")
    with pytest.raises(MalformedPolicyDocument) as caught:
        await world.iam.put_inline_policy(USER, "alice", "p", document)
    assert message in caught.value.message
    with pytest.raises(MalformedPolicyDocument) as again:
        await world.iam.create_policy("p", document)
    assert message in again.value.message


async def test_inline_policy_name_validation(world: IamWorld) -> None:
    await world.iam.create_user("alice")
    assert (
        "at 'policyName'"
        in (
            await failure(
                ValidationError, world.iam.put_inline_policy(USER, "alice", "bad name", doc())
            )
        ).message
    )
    assert (
        "at 'userName'"
        in (
            await failure(
                ValidationError, world.iam.put_inline_policy(USER, "bad name", "p", doc())
            )
        ).message
    )
    assert (
        "at 'roleName'"
        in (await failure(ValidationError, world.iam.list_inline_policies(ROLE, "r" * 65))).message
    )


# -- managed policies --------------------------------------------------------------------------


async def test_managed_policies(world: IamWorld) -> None:
    iam = world.iam
    policy = await iam.create_policy("ReadOnly", doc("iam:Get*"), "/team/", "reads")
    assert re.fullmatch(r"ANPA[A-Z2-7]{17}", policy.id)
    assert policy.arn == f"arn:aws:iam::{ACCOUNT}:policy/team/ReadOnly"
    assert (policy.document, policy.default_version_id, policy.attachment_count) == (
        doc("iam:Get*"),
        "v1",
        0,
    )
    assert await iam.get_policy(policy.arn) == policy
    assert await iam.get_policy_description(policy.arn) == "reads"
    with pytest.raises(EntityAlreadyExists) as caught:
        await iam.create_policy("readonly", doc())
    assert (
        caught.value.message
        == "A policy called readonly already exists. Duplicate names are not allowed."
    )
    other = await iam.create_policy("Other", doc())
    assert [p.name for p in await iam.list_policies()] == ["Other", "ReadOnly"]
    assert [p.name for p in await iam.list_policies("/team/")] == ["ReadOnly"]
    await iam.delete_policy(other.arn)
    with pytest.raises(NoSuchEntity) as gone:
        await iam.get_policy(other.arn)
    assert gone.value.message == f"Policy {other.arn} does not exist or is not attachable."
    with pytest.raises(NoSuchEntity):
        await iam.delete_policy(other.arn)


async def test_policy_arn_validation(world: IamWorld) -> None:
    for bad in ("ReadOnly", "arn:aws:iam::123456789012:user/x", ""):
        with pytest.raises(InvalidInput) as caught:
            await world.iam.get_policy(bad)
        assert error(caught) == ("InvalidInput", 400, "Sender", f"ARN {bad} is not valid.")
    with pytest.raises(NoSuchEntity):
        await world.iam.get_policy("arn:aws:iam::aws:policy/AdministratorAccess")


async def test_managed_policy_size_limit(world: IamWorld) -> None:
    statements = [
        {"Effect": "Allow", "Action": f"iam:Get{i:04d}", "Resource": "*"} for i in range(200)
    ]
    big = json.dumps({"Version": "2012-10-17", "Statement": statements})
    assert (
        await failure(LimitExceeded, world.iam.create_policy("big", big))
    ).message == "Cannot exceed quota for PolicySize: 6144"
    spaced = json.dumps({"Version": "2012-10-17", "Statement": statements[:100]}, indent=8)
    assert len(spaced) > 6144, "whitespace does not count"
    await world.iam.create_policy("spaced", spaced)


@pytest.mark.parametrize("kind", list(PrincipalKind))
async def test_attachments(world: IamWorld, kind: PrincipalKind) -> None:
    iam = world.iam
    await _make_owner(world, kind, "owner")
    policy = await iam.create_policy("p", doc())
    await iam.attach_policy(kind, "owner", policy.arn)
    await iam.attach_policy(kind, "owner", policy.arn)
    attached = await iam.list_attached_policies(kind, "owner")
    assert [(p.arn, p.attachment_count) for p in attached] == [(policy.arn, 1)]
    assert (await iam.get_policy(policy.arn)).attachment_count == 1
    assert (
        await failure(DeleteConflict, iam.delete_policy(policy.arn))
    ).message == "Cannot delete a policy attached to entities."
    await iam.detach_policy(kind, "owner", policy.arn)
    assert (
        await failure(NoSuchEntity, iam.detach_policy(kind, "owner", policy.arn))
    ).message == f"Policy {policy.arn} was not found."
    missing = f"arn:aws:iam::{ACCOUNT}:policy/missing"
    assert (
        "does not exist or is not attachable"
        in (await failure(NoSuchEntity, iam.attach_policy(kind, "owner", missing))).message
    )
    assert (
        await failure(NoSuchEntity, iam.attach_policy(kind, "nobody", policy.arn))
    ).message == f"The {kind.value} with name nobody cannot be found."
    with pytest.raises(NoSuchEntity):
        await iam.list_attached_policies(kind, "nobody")
    await iam.delete_policy(policy.arn)


@pytest.mark.parametrize(
    ("kind", "quota"),
    [(USER, "PoliciesPerUser"), (GROUP, "PoliciesPerGroup"), (ROLE, "PoliciesPerRole")],
)
async def test_attached_policies_limit(world: IamWorld, kind: PrincipalKind, quota: str) -> None:
    await _make_owner(world, kind, "owner")
    arns = [(await world.iam.create_policy(f"p{i}", doc())).arn for i in range(11)]
    for arn in arns[:10]:
        await world.iam.attach_policy(kind, "owner", arn)
    assert (
        await failure(LimitExceeded, world.iam.attach_policy(kind, "owner", arns[10]))
    ).message == f"Cannot exceed quota for {quota}: 10"
    await world.iam.attach_policy(kind, "owner", arns[0])


async def test_every_write_bumps_the_generation(world: IamWorld) -> None:
    iam = world.iam
    seen = [iam.generation]
    await iam.create_user("alice")
    seen.append(iam.generation)
    key = await iam.create_access_key("alice")
    seen.append(iam.generation)
    await iam.update_access_key("alice", key.key.id, KeyStatus.INACTIVE)
    seen.append(iam.generation)
    await iam.create_group("g")
    seen.append(iam.generation)
    await iam.add_user_to_group("g", "alice")
    seen.append(iam.generation)
    policy = await iam.create_policy("p", doc())
    seen.append(iam.generation)
    await iam.attach_policy(USER, "alice", policy.arn)
    seen.append(iam.generation)
    await iam.create_role("r", trust(ROOT))
    seen.append(iam.generation)
    assert seen == sorted(set(seen)), "strictly increasing"
    for read in (
        iam.get_user("alice"),
        iam.list_users(),
        iam.get_group("g"),
        iam.list_policies(),
        iam.resolve(key.key.id),
        iam.list_attached_policies(USER, "alice"),
    ):
        await read
    assert iam.generation == seen[-1]
