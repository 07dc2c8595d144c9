"""The cognito-idp API (AWS JSON 1.1: `POST /`, `X-Amz-Target:
AWSCognitoIdentityProviderService.<Operation>`), from request to response.

Each operation is flagged unsigned or signed, as botocore's service model flags them
(userpool-protocol.md §1.2). Unsigned ones (SignUp, InitiateAuth, GetUser, ...) are authorized
by their app client or access token. Signed ones must carry a SigV4 signature for service
`cognito-idp`, and the caller's IAM policies must allow `cognito-idp:<Operation>` on the pool's
ARN (`*` for CreateUserPool and ListUserPools) — the wiring passes `check`, which does both
the way the rest of the management plane does. Errors answer `{"__type", "message"}` with 400
(500 only for InternalErrorException); anything unexpected is logged and answered as
InternalErrorException without detail.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from authgate.admin import cognito_idp_shapes as shapes
from authgate.http1.message import Request, Response
from authgate.identity.errors import CognitoError, InvalidParameter
from authgate.identity.model import IdentityProviderRecord
from authgate.identity.provider import UserPoolServices

logger = logging.getLogger("authgate.admin")

TARGET_PREFIX: Final = "AWSCognitoIdentityProviderService."
CONTENT_TYPE: Final = "application/x-amz-json-1.1"
SERVICE: Final = "cognito-idp"

Body = dict[str, Any]
Handler = Callable[[UserPoolServices, Body], Awaitable[Body | None]]
Check = Callable[[str, str], Awaitable[None]]
"""`check(action, resource)`: verify the request's signature and authorize the action, or raise
`Refused`."""


class Refused(Exception):
    """An answer that is not a cognito-idp exception (bad signature, access denied, ...)."""

    def __init__(self, error_type: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class Operation:
    handler: Handler
    signed: bool


def is_cognito(request: Request) -> bool:
    target = request.header("x-amz-target")
    return target is not None and target.startswith(TARGET_PREFIX)


async def handle_cognito(
    request: Request, body: bytes, services: UserPoolServices, check: Check
) -> Response:
    request_id = str(uuid.uuid4())
    name = (request.header("x-amz-target") or "")[len(TARGET_PREFIX) :]
    operation = OPERATIONS.get(name)
    try:
        if request.method != "POST" or operation is None:
            raise Refused("UnknownOperationException", f"Unknown operation {name}")
        fields = _json(body)
        if operation.signed:
            await check(f"{SERVICE}:{name}", _resource(services, name, fields))
        result = await operation.handler(services, fields)
    except CognitoError as error:
        return _error(error.status, error.type, error.message, request_id)
    except Refused as refused:
        return _error(refused.status, refused.error_type, refused.message, request_id)
    except Exception:
        logger.exception("cognito-idp %s failed (request %s)", name, request_id)
        return _error(500, "InternalErrorException", "Internal error", request_id)
    return Response(200, _headers(request_id), orjson.dumps(result or {}))


def _json(body: bytes) -> Body:
    try:
        fields = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        raise Refused("SerializationException", "The request body is not valid JSON") from None
    if not isinstance(fields, dict):
        raise Refused("SerializationException", "The request body must be a JSON object")
    return fields


def _resource(services: UserPoolServices, name: str, fields: Body) -> str:
    if name in ("CreateUserPool", "ListUserPools"):
        return "*"
    pool_id = fields.get("UserPoolId")
    if not isinstance(pool_id, str) or not pool_id:
        raise InvalidParameter("Missing required parameter UserPoolId")
    return services.pools.arn(pool_id)


def _headers(request_id: str) -> list[tuple[str, str]]:
    return [("content-type", CONTENT_TYPE), ("x-amzn-RequestId", request_id)]


def _error(status: int, error_type: str, message: str, request_id: str) -> Response:
    headers = [
        *_headers(request_id),
        ("x-amzn-ErrorType", f"{error_type}:"),
        ("x-amzn-ErrorMessage", message.encode("ascii", "replace").decode("ascii")),
    ]
    return Response(status, headers, orjson.dumps({"__type": error_type, "message": message}))


def _limit(fields: Body, key: str, default: int, *, low: int = 1, high: int = 60) -> int:
    value = fields.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidParameter(f"{key} must be from {low} to {high}")
    return value or default


def _paged(items: list[Any], token: str | None, key: str, token_key: str = "NextToken") -> Body:  # noqa: S107
    body: Body = {key: items}
    if token is not None:
        body[token_key] = token
    return body


# -- pools, clients, resource servers -------------------------------------------------------------


async def create_user_pool(s: UserPoolServices, f: Body) -> Body:
    pool = await s.pools.create_pool(f.get("PoolName"), f)  # type: ignore[arg-type]
    return {"UserPool": shapes.pool_type(pool.record, s.pools.arn(pool.id), 0)}


async def describe_user_pool(s: UserPoolServices, f: Body) -> Body:
    pool = await s.pools.pool(f.get("UserPoolId"))
    users = await s.pools.estimated_users(pool.id)
    return {"UserPool": shapes.pool_type(pool.record, s.pools.arn(pool.id), users)}


async def list_user_pools(s: UserPoolServices, f: Body) -> Body:
    if "MaxResults" not in f:
        raise InvalidParameter("Missing required parameter MaxResults")
    found, token = await s.pools.list_pools(_limit(f, "MaxResults", 60), f.get("NextToken"))
    return _paged([shapes.pool_summary(p) for p in found], token, "UserPools")


async def update_user_pool(s: UserPoolServices, f: Body) -> None:
    await s.pools.update_pool(f["UserPoolId"], f)


async def delete_user_pool(s: UserPoolServices, f: Body) -> None:
    await s.pools.delete_pool(f["UserPoolId"])


def _mfa_body(config: Mapping[str, Any]) -> Body:
    return {
        "SoftwareTokenMfaConfiguration": config.get("SoftwareTokenMfaConfiguration", {}),
        "MfaConfiguration": config.get("MfaConfiguration", "OFF"),
    }


async def set_user_pool_mfa_config(s: UserPoolServices, f: Body) -> Body:
    pool = await s.pools.set_mfa_config(f["UserPoolId"], f)
    return _mfa_body(pool.record.config)


async def get_user_pool_mfa_config(s: UserPoolServices, f: Body) -> Body:
    return _mfa_body((await s.pools.pool(f["UserPoolId"])).record.config)


async def create_user_pool_client(s: UserPoolServices, f: Body) -> Body:
    generate = f.get("GenerateSecret", False)
    if not isinstance(generate, bool):
        raise InvalidParameter("GenerateSecret must be a boolean")
    client = await s.pools.create_client(
        f["UserPoolId"], f.get("ClientName"), f, generate_secret=generate
    )
    return {"UserPoolClient": shapes.client_type(client)}


async def describe_user_pool_client(s: UserPoolServices, f: Body) -> Body:
    client = await s.pools.client(f.get("ClientId"), f["UserPoolId"])
    return {"UserPoolClient": shapes.client_type(client)}


async def list_user_pool_clients(s: UserPoolServices, f: Body) -> Body:
    found, token = await s.pools.list_clients(
        f["UserPoolId"], _limit(f, "MaxResults", 60), f.get("NextToken")
    )
    return _paged([shapes.client_summary(c) for c in found], token, "UserPoolClients")


async def update_user_pool_client(s: UserPoolServices, f: Body) -> Body:
    client = await s.pools.update_client(f["UserPoolId"], f.get("ClientId"), f)  # type: ignore[arg-type]
    return {"UserPoolClient": shapes.client_type(client)}


async def delete_user_pool_client(s: UserPoolServices, f: Body) -> None:
    await s.pools.delete_client(f["UserPoolId"], f.get("ClientId"))  # type: ignore[arg-type]


async def create_resource_server(s: UserPoolServices, f: Body) -> Body:
    server = await s.pools.create_resource_server(
        f["UserPoolId"], f.get("Identifier"), f.get("Name"), f.get("Scopes")
    )
    return {"ResourceServer": shapes.resource_server_type(server)}


async def describe_resource_server(s: UserPoolServices, f: Body) -> Body:
    server = await s.pools.resource_server(f["UserPoolId"], str(f.get("Identifier")))
    return {"ResourceServer": shapes.resource_server_type(server)}


async def list_resource_servers(s: UserPoolServices, f: Body) -> Body:
    found = await s.pools.resource_servers(f["UserPoolId"])
    return {"ResourceServers": [shapes.resource_server_type(r) for r in found]}


# -- identity providers ---------------------------------------------------------------------------


def _provider(s: UserPoolServices, provider: IdentityProviderRecord) -> Body:
    details = s.providers.details(provider)
    return {"IdentityProvider": shapes.identity_provider_type(provider, details)}


async def create_identity_provider(s: UserPoolServices, f: Body) -> Body:
    return _provider(s, await s.providers.create(f["UserPoolId"], f))


async def describe_identity_provider(s: UserPoolServices, f: Body) -> Body:
    return _provider(s, await s.providers.get(f["UserPoolId"], f.get("ProviderName")))


async def get_identity_provider_by_identifier(s: UserPoolServices, f: Body) -> Body:
    return _provider(s, await s.providers.by_identifier(f["UserPoolId"], f.get("IdpIdentifier")))


async def list_identity_providers(s: UserPoolServices, f: Body) -> Body:
    found, token = await s.providers.list_providers(
        f["UserPoolId"], _limit(f, "MaxResults", 60), f.get("NextToken")
    )
    return _paged([shapes.provider_description(p) for p in found], token, "Providers")


async def update_identity_provider(s: UserPoolServices, f: Body) -> Body:
    return _provider(s, await s.providers.update(f["UserPoolId"], f))


async def delete_identity_provider(s: UserPoolServices, f: Body) -> None:
    await s.providers.delete(f["UserPoolId"], f.get("ProviderName"))


# -- groups ---------------------------------------------------------------------------------------


async def create_group(s: UserPoolServices, f: Body) -> Body:
    return {"Group": shapes.group_type(await s.groups.create(f["UserPoolId"], f))}


async def get_group(s: UserPoolServices, f: Body) -> Body:
    return {"Group": shapes.group_type(await s.groups.get(f["UserPoolId"], f.get("GroupName")))}


async def list_groups(s: UserPoolServices, f: Body) -> Body:
    found, token = await s.groups.list_groups(
        f["UserPoolId"], _limit(f, "Limit", 60, low=0), f.get("NextToken")
    )
    return _paged([shapes.group_type(g) for g in found], token, "Groups")


async def update_group(s: UserPoolServices, f: Body) -> Body:
    return {"Group": shapes.group_type(await s.groups.update(f["UserPoolId"], f))}


async def delete_group(s: UserPoolServices, f: Body) -> None:
    await s.groups.delete(f["UserPoolId"], f.get("GroupName"))


async def admin_add_user_to_group(s: UserPoolServices, f: Body) -> None:
    await s.groups.add_user(f["UserPoolId"], f.get("Username"), f.get("GroupName"))


async def admin_remove_user_from_group(s: UserPoolServices, f: Body) -> None:
    await s.groups.remove_user(f["UserPoolId"], f.get("Username"), f.get("GroupName"))


async def admin_list_groups_for_user(s: UserPoolServices, f: Body) -> Body:
    found, token = await s.groups.groups_of(
        f["UserPoolId"], f.get("Username"), _limit(f, "Limit", 60, low=0), f.get("NextToken")
    )
    return _paged([shapes.group_type(g) for g in found], token, "Groups")


async def list_users_in_group(s: UserPoolServices, f: Body) -> Body:
    found, token = await s.groups.users_in(
        f["UserPoolId"], f.get("GroupName"), _limit(f, "Limit", 60, low=0), f.get("NextToken")
    )
    return _paged([shapes.user_type(u) for u in found], token, "Users")


# -- users (admin) --------------------------------------------------------------------------------


async def admin_create_user(s: UserPoolServices, f: Body) -> Body:
    return {"User": shapes.user_type(await s.admin.create(f["UserPoolId"], f))}


async def admin_set_user_password(s: UserPoolServices, f: Body) -> None:
    await s.admin.set_password(f["UserPoolId"], f)


async def admin_confirm_sign_up(s: UserPoolServices, f: Body) -> None:
    await s.admin.confirm_sign_up(f["UserPoolId"], f.get("Username"))


async def admin_get_user(s: UserPoolServices, f: Body) -> Body:
    found = await s.admin.locate(f["UserPoolId"], f.get("Username"))
    return shapes.admin_get_user(found.user)


async def admin_delete_user(s: UserPoolServices, f: Body) -> None:
    await s.admin.delete(f["UserPoolId"], f.get("Username"))


async def admin_disable_user(s: UserPoolServices, f: Body) -> None:
    await s.admin.set_enabled(f["UserPoolId"], f.get("Username"), False)


async def admin_enable_user(s: UserPoolServices, f: Body) -> None:
    await s.admin.set_enabled(f["UserPoolId"], f.get("Username"), True)


async def admin_update_user_attributes(s: UserPoolServices, f: Body) -> None:
    await s.admin.update_attributes(f["UserPoolId"], f)


async def admin_delete_user_attributes(s: UserPoolServices, f: Body) -> None:
    await s.admin.delete_attributes(f["UserPoolId"], f)


async def admin_reset_user_password(s: UserPoolServices, f: Body) -> None:
    await s.admin.reset_password(f["UserPoolId"], f.get("Username"))


async def admin_user_global_sign_out(s: UserPoolServices, f: Body) -> None:
    await s.signout.admin_global_sign_out(f["UserPoolId"], f.get("Username"))


async def admin_set_user_mfa_preference(s: UserPoolServices, f: Body) -> None:
    await s.mfa.admin_set_preference(f["UserPoolId"], f)


async def list_users(s: UserPoolServices, f: Body) -> Body:
    wanted = f.get("AttributesToGet")
    if wanted is not None and (
        not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted)
    ):
        raise InvalidParameter("AttributesToGet must be a list of attribute names")
    found, token = await s.admin.list_users(f["UserPoolId"], f)
    users = [shapes.user_type(u, wanted) for u in found]
    return _paged(users, token, "Users", "PaginationToken")


async def admin_initiate_auth(s: UserPoolServices, f: Body) -> Body:
    return shapes.auth_result(await s.signin.initiate(f, admin_pool=f["UserPoolId"]))


async def admin_respond_to_auth_challenge(s: UserPoolServices, f: Body) -> Body:
    return shapes.auth_result(await s.signin.respond(f, admin_pool=f["UserPoolId"]))


# -- public operations ----------------------------------------------------------------------------


async def sign_up(s: UserPoolServices, f: Body) -> Body:
    result = await s.users.sign_up(f)
    body: Body = {"UserConfirmed": False, "UserSub": result.user.sub}
    if result.delivery is not None:
        body["CodeDeliveryDetails"] = result.delivery.details()
    return body


async def confirm_sign_up(s: UserPoolServices, f: Body) -> None:
    await s.users.confirm_sign_up(f)


async def resend_confirmation_code(s: UserPoolServices, f: Body) -> Body:
    return {"CodeDeliveryDetails": await s.users.resend_confirmation_code(f)}


async def forgot_password(s: UserPoolServices, f: Body) -> Body:
    return {"CodeDeliveryDetails": await s.users.forgot_password(f)}


async def confirm_forgot_password(s: UserPoolServices, f: Body) -> None:
    await s.users.confirm_forgot_password(f)


async def initiate_auth(s: UserPoolServices, f: Body) -> Body:
    return shapes.auth_result(await s.signin.initiate(f))


async def respond_to_auth_challenge(s: UserPoolServices, f: Body) -> Body:
    return shapes.auth_result(await s.signin.respond(f))


async def revoke_token(s: UserPoolServices, f: Body) -> None:
    await s.signout.revoke_token(f)


async def global_sign_out(s: UserPoolServices, f: Body) -> None:
    await s.signout.global_sign_out(f.get("AccessToken"))


async def get_user(s: UserPoolServices, f: Body) -> Body:
    return shapes.get_user((await s.profile.get_user(f.get("AccessToken"))).user)


async def change_password(s: UserPoolServices, f: Body) -> None:
    await s.profile.change_password(f)


async def update_user_attributes(s: UserPoolServices, f: Body) -> Body:
    sent = await s.profile.update_attributes(f)
    return {"CodeDeliveryDetailsList": sent} if sent else {}


async def get_user_attribute_verification_code(s: UserPoolServices, f: Body) -> Body:
    return {"CodeDeliveryDetails": await s.profile.attribute_verification_code(f)}


async def verify_user_attribute(s: UserPoolServices, f: Body) -> Body:
    await s.profile.verify_attribute(f)
    return {}


async def delete_user(s: UserPoolServices, f: Body) -> None:
    await s.profile.delete_user(f.get("AccessToken"))


async def associate_software_token(s: UserPoolServices, f: Body) -> Body:
    secret, session = await s.mfa.associate(f)
    body: Body = {"SecretCode": secret}
    if session is not None:
        body["Session"] = session
    return body


async def verify_software_token(s: UserPoolServices, f: Body) -> Body:
    status, session = await s.mfa.verify(f)
    body: Body = {"Status": status}
    if session is not None:
        body["Session"] = session
    return body


async def set_user_mfa_preference(s: UserPoolServices, f: Body) -> None:
    await s.mfa.set_preference(f)


_PUBLIC: Final[Mapping[str, Handler]] = {
    "SignUp": sign_up,
    "ConfirmSignUp": confirm_sign_up,
    "ResendConfirmationCode": resend_confirmation_code,
    "ForgotPassword": forgot_password,
    "ConfirmForgotPassword": confirm_forgot_password,
    "InitiateAuth": initiate_auth,
    "RespondToAuthChallenge": respond_to_auth_challenge,
    "RevokeToken": revoke_token,
    "GlobalSignOut": global_sign_out,
    "GetUser": get_user,
    "ChangePassword": change_password,
    "UpdateUserAttributes": update_user_attributes,
    "GetUserAttributeVerificationCode": get_user_attribute_verification_code,
    "VerifyUserAttribute": verify_user_attribute,
    "DeleteUser": delete_user,
    "AssociateSoftwareToken": associate_software_token,
    "VerifySoftwareToken": verify_software_token,
    "SetUserMFAPreference": set_user_mfa_preference,
}
_SIGNED: Final[Mapping[str, Handler]] = {
    "CreateUserPool": create_user_pool,
    "DescribeUserPool": describe_user_pool,
    "ListUserPools": list_user_pools,
    "UpdateUserPool": update_user_pool,
    "DeleteUserPool": delete_user_pool,
    "SetUserPoolMfaConfig": set_user_pool_mfa_config,
    "GetUserPoolMfaConfig": get_user_pool_mfa_config,
    "CreateUserPoolClient": create_user_pool_client,
    "DescribeUserPoolClient": describe_user_pool_client,
    "ListUserPoolClients": list_user_pool_clients,
    "UpdateUserPoolClient": update_user_pool_client,
    "DeleteUserPoolClient": delete_user_pool_client,
    "CreateResourceServer": create_resource_server,
    "DescribeResourceServer": describe_resource_server,
    "ListResourceServers": list_resource_servers,
    "CreateIdentityProvider": create_identity_provider,
    "DescribeIdentityProvider": describe_identity_provider,
    "GetIdentityProviderByIdentifier": get_identity_provider_by_identifier,
    "ListIdentityProviders": list_identity_providers,
    "UpdateIdentityProvider": update_identity_provider,
    "DeleteIdentityProvider": delete_identity_provider,
    "CreateGroup": create_group,
    "GetGroup": get_group,
    "ListGroups": list_groups,
    "UpdateGroup": update_group,
    "DeleteGroup": delete_group,
    "AdminAddUserToGroup": admin_add_user_to_group,
    "AdminRemoveUserFromGroup": admin_remove_user_from_group,
    "AdminListGroupsForUser": admin_list_groups_for_user,
    "ListUsersInGroup": list_users_in_group,
    "AdminCreateUser": admin_create_user,
    "AdminSetUserPassword": admin_set_user_password,
    "AdminConfirmSignUp": admin_confirm_sign_up,
    "AdminGetUser": admin_get_user,
    "AdminDeleteUser": admin_delete_user,
    "AdminDisableUser": admin_disable_user,
    "AdminEnableUser": admin_enable_user,
    "AdminUpdateUserAttributes": admin_update_user_attributes,
    "AdminDeleteUserAttributes": admin_delete_user_attributes,
    "AdminResetUserPassword": admin_reset_user_password,
    "AdminUserGlobalSignOut": admin_user_global_sign_out,
    "AdminSetUserMFAPreference": admin_set_user_mfa_preference,
    "AdminInitiateAuth": admin_initiate_auth,
    "AdminRespondToAuthChallenge": admin_respond_to_auth_challenge,
    "ListUsers": list_users,
}
OPERATIONS: Final[Mapping[str, Operation]] = {
    **{name: Operation(handler, signed=False) for name, handler in _PUBLIC.items()},
    **{name: Operation(handler, signed=True) for name, handler in _SIGNED.items()},
}
"""Every operation served, by its X-Amz-Target name."""
