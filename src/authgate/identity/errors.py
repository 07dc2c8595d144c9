"""The errors of the cognito-idp API: each knows its `__type` and carries the message to show.

Clients (botocore, the Amplify libraries, pycognito) match on `__type`, so the class names the
exception exactly as AWS's service model does; messages are AWS's where they are known
(userpool-protocol.md §1.4). Every one is HTTP 400 except InternalErrorException (500), which
boto3 retries. `reason`, when given, is for logs only.

CognitoError
├── NotAuthorized            NotAuthorizedException (wrong password, bad token, disabled, ...)
├── UserNotFound             UserNotFoundException
├── UsernameExists           UsernameExistsException
├── AliasExists              AliasExistsException
├── UserNotConfirmed         UserNotConfirmedException
├── PasswordResetRequired    PasswordResetRequiredException
├── CodeMismatch             CodeMismatchException
├── ExpiredCode              ExpiredCodeException
├── TooManyFailedAttempts    TooManyFailedAttemptsException
├── InvalidPassword          InvalidPasswordException
├── InvalidParameter         InvalidParameterException
├── ResourceNotFound         ResourceNotFoundException
├── GroupExists              GroupExistsException
├── DuplicateProvider        DuplicateProviderException
├── LimitExceeded            LimitExceededException
├── SoftwareTokenMfaNotFound SoftwareTokenMFANotFoundException
├── EnableSoftwareTokenMfa   EnableSoftwareTokenMFAException
├── InvalidUserPoolConfiguration, UnsupportedTokenType, UnsupportedOperation, Unauthorized,
│   ScopeDoesNotExist, ConcurrentModification
└── InternalError            InternalErrorException (500)
"""

from __future__ import annotations

from typing import ClassVar

from authgate.errors import AuthgateError

INCORRECT_CREDENTIALS = "Incorrect username or password."
USER_DOES_NOT_EXIST = "User does not exist."
USERNAME_CLIENT_NOT_FOUND = "Username/client id combination not found."
INVALID_CODE = "Invalid verification code provided, please try again."
EXPIRED_CODE = "Invalid code provided, please request a code again."


class CognitoError(AuthgateError):
    type: ClassVar[str] = "InternalErrorException"
    status: ClassVar[int] = 400

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or message


class NotAuthorized(CognitoError):
    type = "NotAuthorizedException"


class UserNotFound(CognitoError):
    type = "UserNotFoundException"


class UsernameExists(CognitoError):
    type = "UsernameExistsException"


class AliasExists(CognitoError):
    type = "AliasExistsException"


class UserNotConfirmed(CognitoError):
    type = "UserNotConfirmedException"


class PasswordResetRequired(CognitoError):
    type = "PasswordResetRequiredException"


class CodeMismatch(CognitoError):
    type = "CodeMismatchException"


class ExpiredCode(CognitoError):
    type = "ExpiredCodeException"


class TooManyFailedAttempts(CognitoError):
    type = "TooManyFailedAttemptsException"


class InvalidPassword(CognitoError):
    type = "InvalidPasswordException"


class InvalidParameter(CognitoError):
    type = "InvalidParameterException"


class ResourceNotFound(CognitoError):
    type = "ResourceNotFoundException"


class GroupExists(CognitoError):
    type = "GroupExistsException"


class DuplicateProvider(CognitoError):
    type = "DuplicateProviderException"


class LimitExceeded(CognitoError):
    type = "LimitExceededException"


class SoftwareTokenMfaNotFound(CognitoError):
    type = "SoftwareTokenMFANotFoundException"


class EnableSoftwareTokenMfa(CognitoError):
    type = "EnableSoftwareTokenMFAException"


class InvalidUserPoolConfiguration(CognitoError):
    type = "InvalidUserPoolConfigurationException"


class UnsupportedTokenType(CognitoError):
    type = "UnsupportedTokenTypeException"


class UnsupportedOperation(CognitoError):
    type = "UnsupportedOperationException"


class Unauthorized(CognitoError):
    type = "UnauthorizedException"


class ScopeDoesNotExist(CognitoError):
    type = "ScopeDoesNotExistException"


class ConcurrentModification(CognitoError):
    type = "ConcurrentModificationException"


class InternalError(CognitoError):
    type = "InternalErrorException"
    status = 500


def pool_not_found(pool_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"User pool {pool_id} does not exist.")


def client_not_found(client_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"User pool client {client_id} does not exist.")
