"""The cognito-idp output shapes (UserPoolType, UserPoolClientType, UserType, GroupType, ...)
built from the identity records, member names as botocore's service model spells them.

Pure: no I/O. Timestamps are epoch seconds (JSON numbers), as the JSON 1.1 protocol sends them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authgate.identity.attributes import attribute_list
from authgate.identity.issuing import Tokens
from authgate.identity.model import (
    ClientRecord,
    GroupRecord,
    IdentityProviderRecord,
    PoolRecord,
    ResourceServer,
    UserRecord,
)
from authgate.identity.pool_config import STANDARD_ATTRIBUTES
from authgate.identity.pools import Client
from authgate.identity.signin import AuthResult, Challenge

_NOT_SHOWN = frozenset({"SoftwareTokenMfaConfiguration", "Schema"})


def _schema(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    given = {e.get("Name"): e for e in config.get("Schema", []) if isinstance(e, dict)}
    shown: list[dict[str, Any]] = []
    for name, (data_type, mutable) in STANDARD_ATTRIBUTES.items():
        entry: dict[str, Any] = {
            "Name": name,
            "AttributeDataType": data_type,
            "DeveloperOnlyAttribute": False,
            "Mutable": bool(given.get(name, {}).get("Mutable", mutable)),
            "Required": bool(given.get(name, {}).get("Required", name == "sub")),
        }
        if data_type == "String":
            entry["StringAttributeConstraints"] = {
                "MinLength": "1" if name == "sub" else "0",
                "MaxLength": "2048",
            }
        shown.append(entry)
    for custom, declared in given.items():
        if not isinstance(custom, str) or custom in STANDARD_ATTRIBUTES:
            continue
        prefix = "dev:" if declared.get("DeveloperOnlyAttribute") else "custom:"
        shown.append({**declared, "Name": f"{prefix}{custom}", "Required": False})
    return shown


def pool_type(pool: PoolRecord, arn: str, estimated_users: int) -> dict[str, Any]:
    config = {k: v for k, v in pool.config.items() if k not in _NOT_SHOWN}
    return {
        "Id": pool.id,
        "Name": pool.name,
        "Arn": arn,
        "LambdaConfig": {},
        "CreationDate": pool.created,
        "LastModifiedDate": pool.updated,
        **config,
        "SchemaAttributes": _schema(pool.config),
        "EstimatedNumberOfUsers": estimated_users,
    }


def pool_summary(pool: PoolRecord) -> dict[str, Any]:
    return {
        "Id": pool.id,
        "Name": pool.name,
        "LambdaConfig": {},
        "CreationDate": pool.created,
        "LastModifiedDate": pool.updated,
    }


def client_type(client: Client) -> dict[str, Any]:
    record = client.record
    shape: dict[str, Any] = {
        "UserPoolId": record.pool_id,
        "ClientName": record.name,
        "ClientId": record.id,
    }
    if client.secret is not None:
        shape["ClientSecret"] = client.secret
    shape["LastModifiedDate"] = record.updated
    shape["CreationDate"] = record.created
    shape.update(record.config)
    return shape


def client_summary(record: ClientRecord) -> dict[str, str]:
    return {"ClientId": record.id, "UserPoolId": record.pool_id, "ClientName": record.name}


def resource_server_type(server: ResourceServer) -> dict[str, Any]:
    return {
        "UserPoolId": server.pool_id,
        "Identifier": server.identifier,
        "Name": server.name,
        "Scopes": [{"ScopeName": n, "ScopeDescription": d} for n, d in server.scopes],
    }


def identity_provider_type(
    provider: IdentityProviderRecord, details: Mapping[str, str]
) -> dict[str, Any]:
    """IdentityProviderType; `details` with the client secret, as AWS's Describe shows it."""
    return {
        "UserPoolId": provider.pool_id,
        "ProviderName": provider.name,
        "ProviderType": provider.type,
        "ProviderDetails": dict(details),
        "AttributeMapping": dict(provider.attribute_mapping),
        "IdpIdentifiers": list(provider.identifiers),
        "LastModifiedDate": provider.updated,
        "CreationDate": provider.created,
    }


def provider_description(provider: IdentityProviderRecord) -> dict[str, Any]:
    return {
        "ProviderName": provider.name,
        "ProviderType": provider.type,
        "LastModifiedDate": provider.updated,
        "CreationDate": provider.created,
    }


def group_type(group: GroupRecord) -> dict[str, Any]:
    shape: dict[str, Any] = {"GroupName": group.name, "UserPoolId": group.pool_id}
    if group.description is not None:
        shape["Description"] = group.description
    if group.role_arn is not None:
        shape["RoleArn"] = group.role_arn
    if group.precedence is not None:
        shape["Precedence"] = group.precedence
    shape["LastModifiedDate"] = group.updated
    shape["CreationDate"] = group.created
    return shape


def attributes_of(user: UserRecord, *, developer: bool = True) -> list[dict[str, str]]:
    shown = {"sub": user.sub}
    shown.update(
        (k, v) for k, v in user.attributes.items() if developer or not k.startswith("dev:")
    )
    return attribute_list(shown)


def mfa_fields(user: UserRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if user.preferred_mfa:
        fields["PreferredMfaSetting"] = user.preferred_mfa
    if user.mfa_enabled:
        fields["UserMFASettingList"] = list(user.mfa_enabled)
    return fields


def user_type(user: UserRecord, wanted: list[str] | None = None) -> dict[str, Any]:
    """UserType (ListUsers, AdminCreateUser); `wanted`: ListUsers' AttributesToGet."""
    attributes = attributes_of(user)
    if wanted is not None:
        attributes = [a for a in attributes if a["Name"] in wanted]
    return {
        "Username": user.username,
        "Attributes": attributes,
        "UserCreateDate": user.created,
        "UserLastModifiedDate": user.updated,
        "Enabled": user.enabled,
        "UserStatus": user.status.value,
    }


def admin_get_user(user: UserRecord) -> dict[str, Any]:
    return {
        "Username": user.username,
        "UserAttributes": attributes_of(user),
        "UserCreateDate": user.created,
        "UserLastModifiedDate": user.updated,
        "Enabled": user.enabled,
        "UserStatus": user.status.value,
        **mfa_fields(user),
    }


def get_user(user: UserRecord) -> dict[str, Any]:
    return {
        "Username": user.username,
        "UserAttributes": attributes_of(user, developer=False),
        **mfa_fields(user),
    }


def auth_result(result: AuthResult) -> dict[str, Any]:
    """InitiateAuth / RespondToAuthChallenge output: a challenge, or the tokens with an empty
    ChallengeParameters and no ChallengeName."""
    if isinstance(result, Challenge):
        shape: dict[str, Any] = {
            "ChallengeName": result.name,
            "ChallengeParameters": dict(result.parameters),
        }
        if result.session is not None:
            shape["Session"] = result.session
        return shape
    return {"ChallengeParameters": {}, "AuthenticationResult": tokens(result)}


def tokens(result: Tokens) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "AccessToken": result.access_token,
        "ExpiresIn": result.expires_in,
        "TokenType": "Bearer",
    }
    if result.refresh_token is not None:
        shape["RefreshToken"] = result.refresh_token
    shape["IdToken"] = result.id_token
    return shape
