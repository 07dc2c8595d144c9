"""The API Gateway management errors: a type (the `x-amzn-ErrorType`), a status and a message.

Constructors hold AWS's wording where it is known (moto and localstack's AWS-validated
snapshots); where it is not, the message says plainly what is wrong.
"""

from __future__ import annotations

from typing import ClassVar

from authgate.errors import AuthgateError


class ApiGatewayError(AuthgateError):
    """An error the `apigateway` REST-JSON API answers as `{"message": ...}`."""

    code: ClassVar[str] = "InternalServerErrorException"
    status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def error_type(self) -> str:
        """The `x-amzn-ErrorType` header, from which botocore names the exception."""
        return self.code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class BadRequest(ApiGatewayError):
    code = "BadRequestException"
    status = 400


class Unauthorized(ApiGatewayError):
    code = "UnauthorizedException"
    status = 401


class NotFound(ApiGatewayError):
    code = "NotFoundException"
    status = 404

    @classmethod
    def api_key(cls) -> NotFound:
        return cls("Invalid API Key identifier specified")

    @classmethod
    def usage_plan(cls) -> NotFound:
        return cls("Invalid Usage Plan ID specified")

    @classmethod
    def plan_stage(cls, plan_id: str, api_id: str, stage: str) -> NotFound:
        return cls(
            f"Invalid API Stage {{api: {api_id}, stage: {stage}}} specified for usageplan {plan_id}"
        )


class Conflict(ApiGatewayError):
    code = "ConflictException"
    status = 409

    @classmethod
    def key_value(cls) -> Conflict:
        return cls("API Key already exists")

    @classmethod
    def stage_taken(cls, plan_id: str, key_id: str, api_id: str, stage: str) -> Conflict:
        return cls(
            f"Usage Plan {plan_id} cannot be added because API Key {key_id} cannot reference "
            f"multiple Usage Plans with the same API Stage: {api_id}:{stage}"
        )


class TooLarge(ApiGatewayError):
    code = "RequestEntityTooLargeException"
    status = 413


class LimitExceeded(ApiGatewayError):
    code = "LimitExceededException"
    status = 429


class AccessDenied(ApiGatewayError):
    """What API Gateway answers when IAM refuses a management call."""

    code = "AccessDeniedException"
    status = 403

    @classmethod
    def not_authorized(cls, caller_arn: str, action: str, resource: str) -> AccessDenied:
        return cls(
            f"User: {caller_arn} is not authorized to perform: {action} on resource: {resource}"
        )


class Forbidden(ApiGatewayError):
    """Authentication failures (a bad or unknown signature); the type is the signer's."""

    code = "UnrecognizedClientException"
    status = 403

    def __init__(self, message: str, error_type: str = "UnrecognizedClientException") -> None:
        super().__init__(message)
        self._type = error_type

    @property
    def error_type(self) -> str:
        return self._type
