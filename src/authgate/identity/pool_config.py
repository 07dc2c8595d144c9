"""Pool and app-client settings: checked and defaulted once when written, read as typed views.

A pool's settings are the members of `CreateUserPool` (minus `PoolName`), stored with Cognito's
defaults filled in, so DescribeUserPool shows what is in force. Settings authgate cannot honour
(Lambda triggers, SMS or email MFA, refresh-token rotation, custom auth flows) are refused with
InvalidParameterException naming them, never stored and silently ignored.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from authgate.identity.errors import InvalidParameter
from authgate.identity.oauth_client import check_oauth_config
from authgate.identity.passwords import PasswordPolicy
from authgate.identity.tokens import Lifetimes, lifetimes

USERNAME_ATTRIBUTES: Final = frozenset({"email", "phone_number"})
ALIAS_ATTRIBUTES: Final = frozenset({"email", "phone_number", "preferred_username"})
MFA_SETTINGS: Final = ("OFF", "ON", "OPTIONAL")
SOFTWARE_TOKEN_MFA: Final = "SOFTWARE_TOKEN_MFA"  # noqa: S105 - a factor name

POOL_IMMUTABLE: Final = ("UsernameAttributes", "AliasAttributes", "Schema", "UsernameConfiguration")
"""CreateUserPool members UpdateUserPool cannot change (it has no such members)."""

ALLOW_PASSWORD: Final = "ALLOW_USER_PASSWORD_AUTH"  # noqa: S105 - a flow name
ALLOW_SRP: Final = "ALLOW_USER_SRP_AUTH"
ALLOW_REFRESH: Final = "ALLOW_REFRESH_TOKEN_AUTH"
ALLOW_ADMIN_PASSWORD: Final = "ALLOW_ADMIN_USER_PASSWORD_AUTH"  # noqa: S105 - a flow name
ALLOW_CUSTOM: Final = "ALLOW_CUSTOM_AUTH"
ALLOW_USER_AUTH: Final = "ALLOW_USER_AUTH"
DEFAULT_AUTH_FLOWS: Final = (ALLOW_REFRESH, ALLOW_SRP, ALLOW_CUSTOM)
_MODERN_FLOWS: Final = frozenset(
    {ALLOW_PASSWORD, ALLOW_SRP, ALLOW_REFRESH, ALLOW_ADMIN_PASSWORD, ALLOW_CUSTOM, ALLOW_USER_AUTH}
)
_LEGACY_FLOWS: Final = {
    "ADMIN_NO_SRP_AUTH": ALLOW_ADMIN_PASSWORD,
    "USER_PASSWORD_AUTH": ALLOW_PASSWORD,
    "CUSTOM_AUTH_FLOW_ONLY": ALLOW_CUSTOM,
}
FLOW_PERMISSIONS: Final = {
    "USER_PASSWORD_AUTH": ALLOW_PASSWORD,
    "USER_SRP_AUTH": ALLOW_SRP,
    "REFRESH_TOKEN_AUTH": ALLOW_REFRESH,
    "REFRESH_TOKEN": ALLOW_REFRESH,
    "ADMIN_USER_PASSWORD_AUTH": ALLOW_ADMIN_PASSWORD,
    "ADMIN_NO_SRP_AUTH": ALLOW_ADMIN_PASSWORD,
    "CUSTOM_AUTH": ALLOW_CUSTOM,
    "USER_AUTH": ALLOW_USER_AUTH,
}
"""Which ExplicitAuthFlows entry an AuthFlow needs (userpool-auth-flows.md §3.1)."""

_CUSTOM_NAME = re.compile(r"[\w.-]{1,20}")


@dataclass(frozen=True, slots=True)
class SchemaAttribute:
    """A custom attribute (`custom:<name>`, or `dev:<name>` when developer-only)."""

    name: str
    data_type: str
    mutable: bool
    min_length: int | None = None
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None


@dataclass(frozen=True, slots=True)
class PoolSettings:
    password_policy: PasswordPolicy
    username_attributes: frozenset[str]
    alias_attributes: frozenset[str]
    auto_verified: frozenset[str]
    case_sensitive: bool
    mfa: str
    software_token_mfa: bool
    admin_create_only: bool
    custom: Mapping[str, SchemaAttribute]
    required: frozenset[str]
    """Standard attributes every user must have (Schema entries with `Required`)."""
    deletion_protection: bool
    email_subject: str
    email_message: str
    invite_subject: str
    invite_message: str

    @property
    def totp_usable(self) -> bool:
        return self.mfa != "OFF" and self.software_token_mfa

    def fold(self, value: str) -> str:
        """A username or alias as the pool compares it."""
        return value if self.case_sensitive else value.lower()


@dataclass(frozen=True, slots=True)
class ClientSettings:
    auth_flows: frozenset[str]
    """ExplicitAuthFlows as `ALLOW_*` names (legacy values translated)."""
    prevent_user_existence_errors: bool
    lifetimes: Lifetimes
    auth_session_minutes: int
    token_revocation: bool
    read_attributes: frozenset[str] | None
    """None: the client may read every attribute."""
    write_attributes: frozenset[str] | None

    def allows(self, flow: str) -> bool:
        needed = FLOW_PERMISSIONS.get(flow)
        return needed is not None and needed in self.auth_flows


# -- reading request members ---------------------------------------------------------------------


def _bool(body: Mapping[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise InvalidParameter(f"{key} must be a boolean")
    return value


def _int(body: Mapping[str, Any], key: str, default: int | None, low: int, high: int) -> int | None:
    value = body.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidParameter(f"{key} must be an integer from {low} to {high}")
    return value


def _names(body: Mapping[str, Any], key: str, allowed: frozenset[str] | None = None) -> list[str]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidParameter(f"{key} must be a list of strings")
    if allowed is not None:
        for item in value:
            if item not in allowed:
                raise InvalidParameter(f"{key} may hold only {', '.join(sorted(allowed))}: {item}")
    return list(dict.fromkeys(value))


def _object(body: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key, {})
    if not isinstance(value, dict):
        raise InvalidParameter(f"{key} must be an object")
    return value


def _text(body: Mapping[str, Any], key: str, default: str) -> str:
    value = body.get(key, default)
    if not isinstance(value, str):
        raise InvalidParameter(f"{key} must be a string")
    return value


# -- pools ---------------------------------------------------------------------------------------


def pool_config(
    request: Mapping[str, Any], existing: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The settings to store for CreateUserPool (`existing` None) or UpdateUserPool.

    UpdateUserPool resets what it omits to the defaults, as AWS does, except the members it
    cannot change, which are kept from `existing`.
    """
    config = {k: v for k, v in request.items() if k not in ("PoolName", "UserPoolId")}
    if existing is not None:
        for key in POOL_IMMUTABLE:
            config.pop(key, None)
            if key in existing:
                config[key] = existing[key]
    if _object(config, "LambdaConfig"):
        raise InvalidParameter("LambdaConfig: authgate runs no user-pool Lambda triggers")
    policies = _object(config, "Policies")
    password = _password_policy(_object(policies, "PasswordPolicy"))
    config["Policies"] = {**policies, "PasswordPolicy": password}
    usernames = _names(config, "UsernameAttributes", USERNAME_ATTRIBUTES)
    alias = _names(config, "AliasAttributes", ALIAS_ATTRIBUTES)
    if usernames and alias:
        raise InvalidParameter(
            "A user pool cannot have both UsernameAttributes and AliasAttributes"
        )
    _names(config, "AutoVerifiedAttributes", USERNAME_ATTRIBUTES)
    mfa = _text(config, "MfaConfiguration", "OFF")
    if mfa not in MFA_SETTINGS:
        raise InvalidParameter("MfaConfiguration must be OFF, ON or OPTIONAL")
    config["MfaConfiguration"] = mfa
    totp = _object(config, "SoftwareTokenMfaConfiguration")
    config["SoftwareTokenMfaConfiguration"] = {"Enabled": _bool(totp, "Enabled", mfa != "OFF")}
    admin = _object(config, "AdminCreateUserConfig")
    config["AdminCreateUserConfig"] = {
        **admin,
        "AllowAdminCreateUserOnly": _bool(admin, "AllowAdminCreateUserOnly", False),
        "UnusedAccountValidityDays": password["TemporaryPasswordValidityDays"],
    }
    _schema(config.get("Schema", []))
    username_config = _object(config, "UsernameConfiguration")
    if username_config:
        _bool(username_config, "CaseSensitive", True)
    protection = _text(config, "DeletionProtection", "INACTIVE")
    if protection not in ("ACTIVE", "INACTIVE"):
        raise InvalidParameter("DeletionProtection must be ACTIVE or INACTIVE")
    config["DeletionProtection"] = protection
    template = _object(config, "VerificationMessageTemplate")
    config["VerificationMessageTemplate"] = {
        "DefaultEmailOption": "CONFIRM_WITH_CODE",
        **template,
    }
    return config


def _password_policy(raw: Mapping[str, Any]) -> dict[str, Any]:
    policy = {
        "MinimumLength": _int(raw, "MinimumLength", 8, 6, 99),
        "RequireUppercase": _bool(raw, "RequireUppercase", True),
        "RequireLowercase": _bool(raw, "RequireLowercase", True),
        "RequireNumbers": _bool(raw, "RequireNumbers", True),
        "RequireSymbols": _bool(raw, "RequireSymbols", True),
        "TemporaryPasswordValidityDays": _int(raw, "TemporaryPasswordValidityDays", 7, 0, 365) or 7,
    }
    if "PasswordHistorySize" in raw:
        raise InvalidParameter("PasswordHistorySize: authgate keeps no password history")
    return policy


def _schema(raw: object) -> dict[str, SchemaAttribute]:
    """Custom attributes by their full name; standard entries are read by `required_standard`."""
    if not isinstance(raw, list):
        raise InvalidParameter("Schema must be a list")
    custom: dict[str, SchemaAttribute] = {}
    for entry in raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("Name"), str):
            raise InvalidParameter("every Schema entry needs a Name")
        name = entry["Name"]
        if name in STANDARD_ATTRIBUTES:
            continue
        if not _CUSTOM_NAME.fullmatch(name):
            raise InvalidParameter(f"custom attribute names have 1-20 characters: {name}")
        data_type = _text(entry, "AttributeDataType", "String")
        if data_type not in ("String", "Number", "DateTime", "Boolean"):
            raise InvalidParameter(
                f"AttributeDataType of {name} must be String, Number, DateTime or Boolean"
            )
        if _bool(entry, "Required", False):
            raise InvalidParameter(f"custom attribute {name} cannot be required")
        prefix = "dev:" if _bool(entry, "DeveloperOnlyAttribute", False) else "custom:"
        strings = _object(entry, "StringAttributeConstraints")
        numbers = _object(entry, "NumberAttributeConstraints")
        custom[prefix + name] = SchemaAttribute(
            prefix + name,
            data_type,
            _bool(entry, "Mutable", True),
            _opt_int(strings.get("MinLength")),
            _opt_int(strings.get("MaxLength")),
            _opt_int(numbers.get("MinValue")),
            _opt_int(numbers.get("MaxValue")),
        )
    if len(custom) > 50:
        raise InvalidParameter("a user pool has at most 50 custom attributes")
    return custom


def _opt_int(value: object) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        raise InvalidParameter(f"not an integer: {value}") from None


def pool_settings(config: Mapping[str, Any]) -> PoolSettings:
    """The typed view of stored pool settings."""
    password = config["Policies"]["PasswordPolicy"]
    schema = config.get("Schema", [])
    required = frozenset(
        e["Name"] for e in schema if e.get("Name") in STANDARD_ATTRIBUTES and e.get("Required")
    )
    template = config.get("VerificationMessageTemplate", {})
    invite = config.get("AdminCreateUserConfig", {}).get("InviteMessageTemplate", {})
    return PoolSettings(
        password_policy=PasswordPolicy(
            minimum_length=password["MinimumLength"],
            require_uppercase=password["RequireUppercase"],
            require_lowercase=password["RequireLowercase"],
            require_numbers=password["RequireNumbers"],
            require_symbols=password["RequireSymbols"],
            temporary_password_validity_days=password["TemporaryPasswordValidityDays"],
        ),
        username_attributes=frozenset(config.get("UsernameAttributes", [])),
        alias_attributes=frozenset(config.get("AliasAttributes", [])),
        auto_verified=frozenset(config.get("AutoVerifiedAttributes", [])),
        case_sensitive=config.get("UsernameConfiguration", {}).get("CaseSensitive", True),
        mfa=config.get("MfaConfiguration", "OFF"),
        software_token_mfa=config.get("SoftwareTokenMfaConfiguration", {}).get("Enabled", False),
        admin_create_only=config["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"],
        custom=_schema(schema),
        required=required,
        deletion_protection=config.get("DeletionProtection") == "ACTIVE",
        email_subject=template.get("EmailSubject")
        or config.get("EmailVerificationSubject")
        or "Your verification code",
        email_message=template.get("EmailMessage")
        or config.get("EmailVerificationMessage")
        or "Your verification code is {####}. ",
        invite_subject=invite.get("EmailSubject") or "Your temporary password",
        invite_message=invite.get("EmailMessage")
        or "Your username is {username} and temporary password is {####}. ",
    )


def mfa_config(config: Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    """The pool settings after SetUserPoolMfaConfig."""
    for unsupported in ("SmsMfaConfiguration", "EmailMfaConfiguration", "WebAuthnConfiguration"):
        if request.get(unsupported):
            raise InvalidParameter(f"{unsupported}: authgate offers software-token (TOTP) MFA only")
    updated = dict(config)
    if "SoftwareTokenMfaConfiguration" in request:
        totp = _object(request, "SoftwareTokenMfaConfiguration")
        updated["SoftwareTokenMfaConfiguration"] = {"Enabled": _bool(totp, "Enabled", False)}
    mfa = _text(request, "MfaConfiguration", updated.get("MfaConfiguration", "OFF"))
    if mfa not in MFA_SETTINGS:
        raise InvalidParameter("MfaConfiguration must be OFF, ON or OPTIONAL")
    if mfa != "OFF" and not updated["SoftwareTokenMfaConfiguration"]["Enabled"]:
        raise InvalidParameter(
            "At least one MFA method must be enabled when MfaConfiguration is ON or OPTIONAL"
        )
    updated["MfaConfiguration"] = mfa
    return updated


# -- app clients ---------------------------------------------------------------------------------

_CLIENT_NAMES: Final = ("ClientName", "UserPoolId", "ClientId", "GenerateSecret", "ClientSecret")


def client_config(request: Mapping[str, Any]) -> dict[str, Any]:
    """The settings to store for CreateUserPoolClient or UpdateUserPoolClient (which, as on
    AWS, resets what it omits to the defaults)."""
    config = {k: v for k, v in request.items() if k not in _CLIENT_NAMES}
    flows = _names(config, "ExplicitAuthFlows")
    legacy = [f for f in flows if f in _LEGACY_FLOWS]
    modern = [f for f in flows if f in _MODERN_FLOWS]
    unknown = [f for f in flows if f not in _LEGACY_FLOWS and f not in _MODERN_FLOWS]
    if unknown:
        raise InvalidParameter(f"ExplicitAuthFlows: unknown value {unknown[0]}")
    if legacy and modern:
        raise InvalidParameter("ExplicitAuthFlows cannot mix legacy values with ALLOW_* values")
    config["ExplicitAuthFlows"] = (
        flows if "ExplicitAuthFlows" in request else list(DEFAULT_AUTH_FLOWS)
    )
    units = _object(config, "TokenValidityUnits")
    for key in units:
        if key not in ("AccessToken", "IdToken", "RefreshToken"):
            raise InvalidParameter(f"TokenValidityUnits: unknown member {key}")
    try:
        lifetimes(
            id_token=_int(config, "IdTokenValidity", None, 1, 86400),
            access_token=_int(config, "AccessTokenValidity", None, 1, 86400),
            refresh_token=_int(config, "RefreshTokenValidity", None, 0, 315360000),
            units=units,
        )
    except ValueError as exc:
        raise InvalidParameter(str(exc)) from None
    config.setdefault("RefreshTokenValidity", 30)
    config["AuthSessionValidity"] = _int(config, "AuthSessionValidity", 3, 3, 15)
    config["EnableTokenRevocation"] = _bool(config, "EnableTokenRevocation", True)
    config["AllowedOAuthFlowsUserPoolClient"] = _bool(
        config, "AllowedOAuthFlowsUserPoolClient", False
    )
    config["EnablePropagateAdditionalUserContextData"] = _bool(
        config, "EnablePropagateAdditionalUserContextData", False
    )
    prevent = _text(config, "PreventUserExistenceErrors", "LEGACY")
    if prevent not in ("LEGACY", "ENABLED"):
        raise InvalidParameter("PreventUserExistenceErrors must be LEGACY or ENABLED")
    config["PreventUserExistenceErrors"] = prevent
    _names(config, "ReadAttributes")
    _names(config, "WriteAttributes")
    _names(config, "AllowedOAuthFlows", frozenset({"code", "implicit", "client_credentials"}))
    _names(config, "AllowedOAuthScopes")
    _names(config, "CallbackURLs")
    _names(config, "LogoutURLs")
    _names(config, "SupportedIdentityProviders")
    check_oauth_config(config)
    rotation = _object(config, "RefreshTokenRotation")
    if rotation.get("Feature") == "ENABLED":
        raise InvalidParameter("RefreshTokenRotation: authgate does not rotate refresh tokens")
    return config


def client_settings(config: Mapping[str, Any]) -> ClientSettings:
    flows = config.get("ExplicitAuthFlows", list(DEFAULT_AUTH_FLOWS))
    allowed = {_LEGACY_FLOWS.get(f, f) for f in flows}
    if any(f in _LEGACY_FLOWS for f in flows):
        allowed |= {ALLOW_SRP, ALLOW_REFRESH}  # legacy settings never turned these off
    units = config.get("TokenValidityUnits", {})
    read = config.get("ReadAttributes")
    write = config.get("WriteAttributes")
    return ClientSettings(
        auth_flows=frozenset(allowed),
        prevent_user_existence_errors=config.get("PreventUserExistenceErrors") == "ENABLED",
        lifetimes=lifetimes(
            id_token=config.get("IdTokenValidity"),
            access_token=config.get("AccessTokenValidity"),
            refresh_token=config.get("RefreshTokenValidity"),
            units=units,
        ),
        auth_session_minutes=config.get("AuthSessionValidity", 3),
        token_revocation=config.get("EnableTokenRevocation", True),
        read_attributes=frozenset(read) if read else None,
        write_attributes=frozenset(write) if write else None,
    )


# -- the standard schema -------------------------------------------------------------------------

STANDARD_ATTRIBUTES: Final = {
    "sub": ("String", False),
    "name": ("String", True),
    "given_name": ("String", True),
    "family_name": ("String", True),
    "middle_name": ("String", True),
    "nickname": ("String", True),
    "preferred_username": ("String", True),
    "profile": ("String", True),
    "picture": ("String", True),
    "website": ("String", True),
    "email": ("String", True),
    "email_verified": ("Boolean", True),
    "gender": ("String", True),
    "birthdate": ("String", True),
    "zoneinfo": ("String", True),
    "locale": ("String", True),
    "phone_number": ("String", True),
    "phone_number_verified": ("Boolean", True),
    "address": ("String", True),
    "updated_at": ("Number", True),
    "identities": ("String", True),
}
"""Standard attributes: (data type, mutable), as Cognito's schema lists them."""
