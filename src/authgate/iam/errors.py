"""IAM and STS errors, each with the code, HTTP status, fault side and message AWS answers.

Constructors (`NoSuchEntity.user("alice")`) hold AWS's wording so that services and the
management API never spell a message twice.
"""

from __future__ import annotations

from typing import ClassVar

from authgate.errors import AuthgateError


class IamError(AuthgateError):
    """An error the management API returns as `<ErrorResponse><Error>…`."""

    code: ClassVar[str] = "InternalFailure"
    status: ClassVar[int] = 500
    sender: ClassVar[bool] = False
    """True: the caller's fault (`<Type>Sender</Type>`); False: ours (`Receiver`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def fault(self) -> str:
        """The `<Type>` element."""
        return "Sender" if self.sender else "Receiver"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ServiceFailure(IamError):
    code = "ServiceFailure"
    status = 500


class NoSuchEntity(IamError):
    code = "NoSuchEntity"
    status = 404
    sender = True

    @classmethod
    def user(cls, name: str) -> NoSuchEntity:
        return cls(f"The user with name {name} cannot be found.")

    @classmethod
    def group(cls, name: str) -> NoSuchEntity:
        return cls(f"The group with name {name} cannot be found.")

    @classmethod
    def role(cls, name: str) -> NoSuchEntity:
        return cls(f"The role with name {name} cannot be found.")

    @classmethod
    def policy(cls, arn: str) -> NoSuchEntity:
        return cls(f"Policy {arn} does not exist or is not attachable.")

    @classmethod
    def attachment(cls, arn: str) -> NoSuchEntity:
        return cls(f"Policy {arn} was not found.")

    @classmethod
    def inline_policy(cls, kind: str, name: str) -> NoSuchEntity:
        return cls(f"The {kind} policy with name {name} cannot be found.")

    @classmethod
    def access_key(cls, key_id: str) -> NoSuchEntity:
        return cls(f"The Access Key with id {key_id} cannot be found.")


class EntityAlreadyExists(IamError):
    code = "EntityAlreadyExists"
    status = 409
    sender = True

    @classmethod
    def named(cls, kind: str, name: str) -> EntityAlreadyExists:
        """`kind` as AWS capitalises it: User, Group, Role."""
        return cls(f"{kind} with name {name} already exists.")

    @classmethod
    def policy(cls, name: str) -> EntityAlreadyExists:
        return cls(f"A policy called {name} already exists. Duplicate names are not allowed.")


class LimitExceeded(IamError):
    code = "LimitExceeded"
    status = 409
    sender = True

    @classmethod
    def quota(cls, quota: str, limit: int) -> LimitExceeded:
        return cls(f"Cannot exceed quota for {quota}: {limit}")


class DeleteConflict(IamError):
    code = "DeleteConflict"
    status = 409
    sender = True

    @classmethod
    def must(cls, what: str) -> DeleteConflict:
        """`what`: e.g. "delete access keys" → "Cannot delete entity, must delete access keys
        first." """
        return cls(f"Cannot delete entity, must {what} first.")


class ConcurrentModification(IamError):
    code = "ConcurrentModification"
    status = 409
    sender = True
    DEFAULT = (
        "The request was rejected because multiple requests to change this object were "
        "submitted simultaneously. Wait a few minutes and submit your request again."
    )

    def __init__(self, message: str = DEFAULT) -> None:
        super().__init__(message)


class MalformedPolicyDocument(IamError):
    code = "MalformedPolicyDocument"
    status = 400
    sender = True


class ValidationError(IamError):
    code = "ValidationError"
    status = 400
    sender = True

    @classmethod
    def constraint(cls, value: object, field: str, rule: str) -> ValidationError:
        """AWS's one-field wording: `1 validation error detected: Value 'x' at 'userName'
        failed to satisfy constraint: Member must …`."""
        return cls(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
            f"constraint: Member must {rule}"
        )


class InvalidInput(IamError):
    code = "InvalidInput"
    status = 400
    sender = True


class AccessDenied(IamError):
    code = "AccessDenied"
    status = 403
    sender = True

    @classmethod
    def not_authorized(cls, caller_arn: str, action: str, resource: str) -> AccessDenied:
        return cls(
            f"User: {caller_arn} is not authorized to perform: {action} on resource: {resource}"
        )


class ExpiredToken(IamError):
    """STS and every SigV4 service: temporary credentials past their expiry."""

    code = "ExpiredToken"
    status = 403
    sender = True
    DEFAULT = "The security token included in the request is expired"

    def __init__(self, message: str = DEFAULT) -> None:
        super().__init__(message)


class InvalidClientTokenId(IamError):
    """An unknown access key id, or a session token that does not belong to it."""

    code = "InvalidClientTokenId"
    status = 403
    sender = True
    DEFAULT = "The security token included in the request is invalid."

    def __init__(self, message: str = DEFAULT) -> None:
        super().__init__(message)


class SignatureDoesNotMatch(IamError):
    """The signature is wrong, stale or for another scope (AWS's query APIs say so)."""

    code = "SignatureDoesNotMatch"
    status = 403
    sender = True


class IncompleteSignature(IamError):
    code = "IncompleteSignature"
    status = 400
    sender = True


class MissingAuthenticationToken(IamError):
    code = "MissingAuthenticationToken"
    status = 403
    sender = True
