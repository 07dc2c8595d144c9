"""The tables, one schema for SQLite and PostgreSQL.

Names are unique through a lower-cased `name_key` column (IAM names are case-insensitive);
managed policies are also found by ARN.
References use ON DELETE RESTRICT so the database itself refuses to orphan a key, policy or
membership even if two writers race; only temporary credentials go with their role or user.
Each user owns at most N access keys through a unique (user, slot) pair.

API keys are found by `value_digest` (a keyed HMAC of the value, unique); the value itself is
kept sealed. `usage_key_stages` holds one row per (key, API, stage) that a key is metered on,
derived from plan memberships and plan stages; its primary key is how the database itself
refuses a key in two plans for the same API stage. Memberships go with their plan or key
(ON DELETE CASCADE), and those rows with their membership.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from authgate.iam.model import PrincipalKind

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 32
NAME = 128
PATH = 512
ARN = 2048


def _entity(name: str, *extra: Column[object], arn_unique: bool = False) -> Table:
    return Table(
        name,
        metadata,
        Column("id", String(ID), primary_key=True),
        Column("name", String(NAME), nullable=False),
        Column("name_key", String(NAME), nullable=False, unique=True),
        Column("path", String(PATH), nullable=False),
        Column("arn", String(ARN), nullable=False, unique=arn_unique),
        Column("created", Float, nullable=False),
        *extra,
    )


users = _entity("iam_users", Column("tags", Text, nullable=False, default="[]"))
groups = _entity("iam_groups")
roles = _entity(
    "iam_roles",
    Column("trust_policy", Text, nullable=False),
    Column("max_session_duration", Integer, nullable=False),
    Column("description", Text, nullable=False, default=""),
)
managed_policies = _entity(
    "iam_managed_policies",
    Column("document", Text, nullable=False),
    Column("default_version_id", String(16), nullable=False),
    Column("description", Text, nullable=False, default=""),
    arn_unique=True,
)

group_members = Table(
    "iam_group_members",
    metadata,
    Column("group_id", String(ID), ForeignKey(groups.c.id, ondelete="RESTRICT"), nullable=False),
    Column("user_id", String(ID), ForeignKey(users.c.id, ondelete="RESTRICT"), nullable=False),
    PrimaryKeyConstraint("group_id", "user_id"),
    Index(None, "user_id"),
)

OWNERS: dict[PrincipalKind, Table] = {
    PrincipalKind.USER: users,
    PrincipalKind.GROUP: groups,
    PrincipalKind.ROLE: roles,
}


def _inline(kind: PrincipalKind) -> Table:
    owner = OWNERS[kind]
    return Table(
        f"iam_{kind.value}_policies",
        metadata,
        Column("owner_id", String(ID), ForeignKey(owner.c.id, ondelete="RESTRICT"), nullable=False),
        Column("name", String(NAME), nullable=False),
        Column("document", Text, nullable=False),
        PrimaryKeyConstraint("owner_id", "name"),
    )


def _attachments(kind: PrincipalKind) -> Table:
    owner = OWNERS[kind]
    return Table(
        f"iam_{kind.value}_attachments",
        metadata,
        Column("owner_id", String(ID), ForeignKey(owner.c.id, ondelete="RESTRICT"), nullable=False),
        Column(
            "policy_id",
            String(ID),
            ForeignKey(managed_policies.c.id, ondelete="RESTRICT"),
            nullable=False,
        ),
        PrimaryKeyConstraint("owner_id", "policy_id"),
        Index(None, "policy_id"),
    )


inline_policies = {kind: _inline(kind) for kind in PrincipalKind}
attachments = {kind: _attachments(kind) for kind in PrincipalKind}

access_keys = Table(
    "iam_access_keys",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("user_id", String(ID), ForeignKey(users.c.id, ondelete="RESTRICT"), nullable=False),
    Column("slot", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created", Float, nullable=False),
    Column("secret", LargeBinary, nullable=False),
    UniqueConstraint("user_id", "slot"),
)

temporary_credentials = Table(
    "iam_temporary_credentials",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("user_id", String(ID), ForeignKey(users.c.id, ondelete="CASCADE"), nullable=True),
    Column("role_id", String(ID), ForeignKey(roles.c.id, ondelete="CASCADE"), nullable=True),
    Column("session_name", String(NAME), nullable=False),
    Column("secret", LargeBinary, nullable=False),
    Column("token_sha256", String(64), nullable=False),
    Column("created", Float, nullable=False),
    Column("expiration", Float, nullable=False),
    Column("session_policy", Text, nullable=True),
    Index(None, "expiration"),
    Index(None, "user_id"),
    Index(None, "role_id"),
)

# -- API keys and usage plans ---------------------------------------------------------------------

KEY_NAME = 1024
STAGE = 128

api_keys = Table(
    "usage_api_keys",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(KEY_NAME), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("enabled", Boolean, nullable=False),
    Column("customer_id", Text, nullable=False, default=""),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("value_digest", String(64), nullable=False, unique=True),
    Column("tags", Text, nullable=False, default="[]"),
    Index(None, "name", "id"),
)

usage_plans = Table(
    "usage_plans",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("throttle_rate", Float, nullable=True),
    Column("throttle_burst", Integer, nullable=True),
    Column("quota_limit", Integer, nullable=True),
    Column("quota_period", String(8), nullable=True),
    Column("quota_offset", Integer, nullable=True),
    Column("quota_set_at", Float, nullable=True),
    Column("api_stages", Text, nullable=False, default="[]"),
    Column("tags", Text, nullable=False, default="[]"),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("version", Integer, nullable=False, default=0),
)

usage_plan_keys = Table(
    "usage_plan_keys",
    metadata,
    Column("plan_id", String(ID), ForeignKey(usage_plans.c.id, ondelete="CASCADE"), nullable=False),
    Column("key_id", String(ID), ForeignKey(api_keys.c.id, ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("plan_id", "key_id"),
    Index(None, "key_id"),
)

usage_key_stages = Table(
    "usage_key_stages",
    metadata,
    Column("key_id", String(ID), nullable=False),
    Column("api_id", String(STAGE), nullable=False),
    Column("stage", String(STAGE), nullable=False),
    Column("plan_id", String(ID), nullable=False),
    PrimaryKeyConstraint("key_id", "api_id", "stage"),
    ForeignKeyConstraint(
        ["plan_id", "key_id"],
        [usage_plan_keys.c.plan_id, usage_plan_keys.c.key_id],
        ondelete="CASCADE",
    ),
    Index(None, "plan_id"),
)

# -- Metering snapshots (memory counters) ---------------------------------------------------------
# The memory counter store writes its quota counts and daily usage here every second and at
# shutdown, and reads them back at start; no foreign keys, as counts may outlive their key.

WINDOW = 16

quota_counts = Table(
    "meter_quota_counts",
    metadata,
    Column("key_id", String(ID), nullable=False),
    Column("plan_id", String(ID), nullable=False),
    Column("period_id", String(WINDOW), nullable=False),
    Column("used", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),
    PrimaryKeyConstraint("key_id", "plan_id", "period_id"),
    Index(None, "expires_at"),
)

daily_usage = Table(
    "meter_daily_usage",
    metadata,
    Column("plan_id", String(ID), nullable=False),
    Column("day", String(10), nullable=False),
    Column("key_id", String(ID), nullable=False),
    Column("used", Integer, nullable=False),
    PrimaryKeyConstraint("plan_id", "day", "key_id"),
    Index(None, "day"),
)

# -- REST APIs imported through the management API ------------------------------------------------
# An API keeps its source document (JSON text) and the settings UpdateRestApi changes; a
# deployment keeps the snapshot it deployed; a stage points at one of its API's deployments
# (ON DELETE RESTRICT: the database refuses to delete a deployment a stage still serves).
# APIs from authgate.yaml are not stored here.

rest_apis = Table(
    "definition_rest_apis",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("document", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("policy", Text, nullable=True),
    Column("api_key_source", String(16), nullable=False),
)

rest_api_deployments = Table(
    "definition_deployments",
    metadata,
    Column("api_id", String(ID), ForeignKey(rest_apis.c.id, ondelete="CASCADE"), nullable=False),
    Column("id", String(ID), nullable=False),
    Column("document", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("created", Float, nullable=False),
    PrimaryKeyConstraint("api_id", "id"),
)

rest_api_stages = Table(
    "definition_stages",
    metadata,
    Column("api_id", String(ID), nullable=False),
    Column("name", String(STAGE), nullable=False),
    Column("deployment_id", String(ID), nullable=False),
    Column("variables", Text, nullable=False, default="{}"),
    Column("description", Text, nullable=False, default=""),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    PrimaryKeyConstraint("api_id", "name"),
    ForeignKeyConstraint(
        ["api_id", "deployment_id"],
        [rest_api_deployments.c.api_id, rest_api_deployments.c.id],
        ondelete="RESTRICT",
    ),
)

# -- User pools -----------------------------------------------------------------------------------
# Pool and client settings are JSON text (the cognito-idp members). Users are keyed by pool and
# `username_key` (the username folded as the pool compares it); `sub` is unique everywhere and
# aliases (email, phone, preferred username) are unique per pool through their own table.
# Everything in a pool goes with it (ON DELETE CASCADE), memberships with their group or user.
# Secrets are sealed (LargeBinary); codes and refresh tokens are stored as keyed digests.

POOL_ID = 64
USERNAME = 128
ALIAS = 2048

userpools = Table(
    "userpool_pools",
    metadata,
    Column("id", String(POOL_ID), primary_key=True),
    Column("name", String(NAME), nullable=False),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("config", Text, nullable=False),
)


def _pool_ref() -> Column[str]:
    return Column(
        "pool_id", String(POOL_ID), ForeignKey(userpools.c.id, ondelete="CASCADE"), nullable=False
    )


userpool_clients = Table(
    "userpool_clients",
    metadata,
    Column("id", String(NAME), primary_key=True),
    _pool_ref(),
    Column("name", String(NAME), nullable=False),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("config", Text, nullable=False),
    Column("secret", LargeBinary, nullable=True),
    Index(None, "pool_id", "id"),
)

userpool_resource_servers = Table(
    "userpool_resource_servers",
    metadata,
    _pool_ref(),
    Column("identifier", String(256), nullable=False),
    Column("name", String(NAME), nullable=False),
    Column("scopes", Text, nullable=False),
    PrimaryKeyConstraint("pool_id", "identifier"),
)

userpool_keys = Table(
    "userpool_signing_keys",
    metadata,
    Column("kid", String(NAME), primary_key=True),
    _pool_ref(),
    Column("use", String(8), nullable=False),
    Column("created", Float, nullable=False),
    Column("retired", Float, nullable=True),
    Column("private_key", LargeBinary, nullable=False),
    Index(None, "pool_id"),
)

userpool_groups = Table(
    "userpool_groups",
    metadata,
    _pool_ref(),
    Column("name", String(NAME), nullable=False),
    Column("description", Text, nullable=True),
    Column("role_arn", String(ARN), nullable=True),
    Column("precedence", Integer, nullable=True),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    PrimaryKeyConstraint("pool_id", "name"),
)

userpool_users = Table(
    "userpool_users",
    metadata,
    _pool_ref(),
    Column("username_key", String(USERNAME), nullable=False),
    Column("username", String(USERNAME), nullable=False),
    Column("sub", String(36), nullable=False, unique=True),
    Column("status", String(32), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("attributes", Text, nullable=False),
    Column("password_hash", Text, nullable=True),
    Column("srp", LargeBinary, nullable=True),
    Column("password_set_at", Float, nullable=False),
    Column("totp", LargeBinary, nullable=True),
    Column("totp_verified", Boolean, nullable=False),
    Column("totp_last_step", Integer, nullable=True),
    Column("mfa_enabled", Text, nullable=False),
    Column("preferred_mfa", String(32), nullable=True),
    Column("failed_attempts", Integer, nullable=False),
    Column("last_failure", Float, nullable=False),
    Column("locked_until", Float, nullable=False),
    Column("tokens_valid_after", Float, nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("pool_id", "username_key"),
    UniqueConstraint("pool_id", "username"),
)

userpool_aliases = Table(
    "userpool_aliases",
    metadata,
    Column("pool_id", String(POOL_ID), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("value_key", String(ALIAS), nullable=False),
    Column("username", String(USERNAME), nullable=False),
    PrimaryKeyConstraint("pool_id", "kind", "value_key"),
    ForeignKeyConstraint(
        ["pool_id", "username"],
        [userpool_users.c.pool_id, userpool_users.c.username],
        ondelete="CASCADE",
    ),
    Index(None, "pool_id", "username"),
)

userpool_members = Table(
    "userpool_members",
    metadata,
    Column("pool_id", String(POOL_ID), nullable=False),
    Column("group_name", String(NAME), nullable=False),
    Column("username", String(USERNAME), nullable=False),
    PrimaryKeyConstraint("pool_id", "group_name", "username"),
    ForeignKeyConstraint(
        ["pool_id", "group_name"],
        [userpool_groups.c.pool_id, userpool_groups.c.name],
        ondelete="CASCADE",
    ),
    ForeignKeyConstraint(
        ["pool_id", "username"],
        [userpool_users.c.pool_id, userpool_users.c.username],
        ondelete="CASCADE",
    ),
    Index(None, "pool_id", "username"),
)

userpool_codes = Table(
    "userpool_codes",
    metadata,
    Column("pool_id", String(POOL_ID), nullable=False),
    Column("username", String(USERNAME), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False),
    PrimaryKeyConstraint("pool_id", "username", "purpose"),
    ForeignKeyConstraint(
        ["pool_id", "username"],
        [userpool_users.c.pool_id, userpool_users.c.username],
        ondelete="CASCADE",
    ),
    Index(None, "expires_at"),
)

userpool_sessions = Table(
    "userpool_sessions",
    metadata,
    Column("origin_jti", String(36), primary_key=True),
    Column("pool_id", String(POOL_ID), nullable=False),
    Column("username", String(USERNAME), nullable=False),
    Column("sub", String(36), nullable=False),
    Column("client_id", String(NAME), nullable=False),
    Column("created", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("auth_time", BigInteger, nullable=False),  # epoch seconds: past 2038 too
    Column("refresh_digest", String(64), nullable=True, unique=True),
    Column("revoked_at", Float, nullable=True),
    ForeignKeyConstraint(
        ["pool_id", "username"],
        [userpool_users.c.pool_id, userpool_users.c.username],
        ondelete="CASCADE",
    ),
    Index(None, "pool_id", "username"),
    Index(None, "expires_at"),
)

userpool_spent = Table(
    "userpool_spent",
    metadata,
    Column("id", String(NAME), primary_key=True),
    Column("expires_at", Float, nullable=False),
    Index(None, "expires_at"),
)

# -- OAuth and federation --------------------------------------------------------------------------
# Tables of their own, so a database made before them gains them at the next start. Scopes of an
# OAuth session go with their session; codes and identity providers with their pool.

userpool_session_scopes = Table(
    "userpool_session_scopes",
    metadata,
    Column(
        "origin_jti",
        String(36),
        ForeignKey(userpool_sessions.c.origin_jti, ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("scopes", Text, nullable=False),
)

userpool_auth_codes = Table(
    "userpool_auth_codes",
    metadata,
    Column("digest", String(64), primary_key=True),
    _pool_ref(),
    Column("client_id", String(NAME), nullable=False),
    Column("username", String(USERNAME), nullable=False),
    Column("sub", String(36), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("code_challenge", String(128), nullable=True),
    Column("nonce", Text, nullable=True),
    Column("auth_time", BigInteger, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index(None, "expires_at"),
)

userpool_identity_providers = Table(
    "userpool_identity_providers",
    metadata,
    _pool_ref(),
    Column("name", String(NAME), nullable=False),
    Column("type", String(32), nullable=False),
    Column("details", Text, nullable=False),
    Column("secret", LargeBinary, nullable=True),
    Column("attribute_mapping", Text, nullable=False),
    Column("identifiers", Text, nullable=False),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    PrimaryKeyConstraint("pool_id", "name"),
)
