"""Rows of the user-pool tables ↔ the records of `identity.model`. Pure: no I/O."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Row

from authgate.identity.model import (
    AuthCodeRecord,
    ClientRecord,
    CodePurpose,
    CodeRecord,
    GroupRecord,
    IdentityProviderRecord,
    KeyRow,
    PoolRecord,
    ResourceServer,
    SessionRecord,
    UserRecord,
    UserStatus,
)


def dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def pool_of(row: Row[Any]) -> PoolRecord:
    return PoolRecord(row.id, row.name, row.created, row.updated, json.loads(row.config))


def pool_values(pool: PoolRecord) -> dict[str, object]:
    return {
        "id": pool.id,
        "name": pool.name,
        "created": pool.created,
        "updated": pool.updated,
        "config": dump(dict(pool.config)),
    }


def client_of(row: Row[Any]) -> ClientRecord:
    return ClientRecord(
        row.id, row.pool_id, row.name, row.created, row.updated, json.loads(row.config), row.secret
    )


def client_values(client: ClientRecord) -> dict[str, object]:
    return {
        "id": client.id,
        "pool_id": client.pool_id,
        "name": client.name,
        "created": client.created,
        "updated": client.updated,
        "config": dump(dict(client.config)),
        "secret": client.sealed_secret,
    }


def server_of(row: Row[Any]) -> ResourceServer:
    scopes = tuple((str(name), str(text)) for name, text in json.loads(row.scopes))
    return ResourceServer(row.pool_id, row.identifier, row.name, scopes)


def key_of(row: Row[Any]) -> KeyRow:
    return KeyRow(row.pool_id, row.kid, row.use, row.created, row.retired, row.private_key)


def key_values(key: KeyRow) -> dict[str, object]:
    return {
        "kid": key.kid,
        "pool_id": key.pool_id,
        "use": key.use,
        "created": key.created,
        "retired": key.retired,
        "private_key": key.sealed_key,
    }


def group_of(row: Row[Any]) -> GroupRecord:
    return GroupRecord(
        row.pool_id,
        row.name,
        row.description,
        row.role_arn,
        row.precedence,
        row.created,
        row.updated,
    )


def group_values(group: GroupRecord) -> dict[str, object]:
    return {
        "pool_id": group.pool_id,
        "name": group.name,
        "description": group.description,
        "role_arn": group.role_arn,
        "precedence": group.precedence,
        "created": group.created,
        "updated": group.updated,
    }


def user_of(row: Row[Any], aliases: tuple[Any, ...] = ()) -> UserRecord:
    return UserRecord(
        pool_id=row.pool_id,
        username=row.username,
        username_key=row.username_key,
        sub=row.sub,
        status=UserStatus(row.status),
        enabled=row.enabled,
        created=row.created,
        updated=row.updated,
        attributes=json.loads(row.attributes),
        aliases=aliases,
        password_hash=row.password_hash,
        sealed_srp=row.srp,
        password_set_at=row.password_set_at,
        sealed_totp=row.totp,
        totp_verified=row.totp_verified,
        totp_last_step=row.totp_last_step,
        mfa_enabled=tuple(json.loads(row.mfa_enabled)),
        preferred_mfa=row.preferred_mfa,
        failed_attempts=row.failed_attempts,
        last_failure=row.last_failure,
        locked_until=row.locked_until,
        tokens_valid_after=row.tokens_valid_after,
        version=row.version,
    )


def user_values(user: UserRecord) -> dict[str, object]:
    return {
        "pool_id": user.pool_id,
        "username_key": user.username_key,
        "username": user.username,
        "sub": user.sub,
        "status": user.status.value,
        "enabled": user.enabled,
        "created": user.created,
        "updated": user.updated,
        "attributes": dump(dict(user.attributes)),
        "password_hash": user.password_hash,
        "srp": user.sealed_srp,
        "password_set_at": user.password_set_at,
        "totp": user.sealed_totp,
        "totp_verified": user.totp_verified,
        "totp_last_step": user.totp_last_step,
        "mfa_enabled": dump(list(user.mfa_enabled)),
        "preferred_mfa": user.preferred_mfa,
        "failed_attempts": user.failed_attempts,
        "last_failure": user.last_failure,
        "locked_until": user.locked_until,
        "tokens_valid_after": user.tokens_valid_after,
        "version": user.version,
    }


def code_of(row: Row[Any]) -> CodeRecord:
    return CodeRecord(
        row.pool_id,
        row.username,
        CodePurpose(row.purpose),
        row.digest,
        row.expires_at,
        row.attempts,
    )


def session_of(row: Row[Any]) -> SessionRecord:
    return SessionRecord(
        origin_jti=row.origin_jti,
        pool_id=row.pool_id,
        username=row.username,
        sub=row.sub,
        client_id=row.client_id,
        created=row.created,
        expires_at=row.expires_at,
        auth_time=row.auth_time,
        refresh_digest=row.refresh_digest,
        revoked_at=row.revoked_at,
        scopes=None if row.scopes is None else tuple(json.loads(row.scopes)),
    )


def session_values(session: SessionRecord) -> dict[str, object]:
    return {
        "origin_jti": session.origin_jti,
        "pool_id": session.pool_id,
        "username": session.username,
        "sub": session.sub,
        "client_id": session.client_id,
        "created": session.created,
        "expires_at": session.expires_at,
        "auth_time": session.auth_time,
        "refresh_digest": session.refresh_digest,
        "revoked_at": session.revoked_at,
    }


def auth_code_values(code: AuthCodeRecord) -> dict[str, object]:
    return {
        "digest": code.digest,
        "pool_id": code.pool_id,
        "client_id": code.client_id,
        "username": code.username,
        "sub": code.sub,
        "redirect_uri": code.redirect_uri,
        "scopes": dump(list(code.scopes)),
        "code_challenge": code.code_challenge,
        "nonce": code.nonce,
        "auth_time": code.auth_time,
        "expires_at": code.expires_at,
    }


def auth_code_of(row: Row[Any]) -> AuthCodeRecord:
    return AuthCodeRecord(
        digest=row.digest,
        pool_id=row.pool_id,
        client_id=row.client_id,
        username=row.username,
        sub=row.sub,
        redirect_uri=row.redirect_uri,
        scopes=tuple(json.loads(row.scopes)),
        auth_time=row.auth_time,
        expires_at=row.expires_at,
        code_challenge=row.code_challenge,
        nonce=row.nonce,
    )


def provider_values(provider: IdentityProviderRecord) -> dict[str, object]:
    return {
        "pool_id": provider.pool_id,
        "name": provider.name,
        "type": provider.type,
        "details": dump(dict(provider.details)),
        "secret": provider.sealed_secret,
        "attribute_mapping": dump(dict(provider.attribute_mapping)),
        "identifiers": dump(list(provider.identifiers)),
        "created": provider.created,
        "updated": provider.updated,
    }


def provider_of(row: Row[Any]) -> IdentityProviderRecord:
    return IdentityProviderRecord(
        pool_id=row.pool_id,
        name=row.name,
        type=row.type,
        details=json.loads(row.details),
        attribute_mapping=json.loads(row.attribute_mapping),
        identifiers=tuple(json.loads(row.identifiers)),
        created=row.created,
        updated=row.updated,
        sealed_secret=row.secret,
    )
