"""The management plane: AWS-compatible APIs, each call SigV4-verified and IAM-authorized.

Requests reach it by the service named in their signature's credential scope. The same
authenticator as the data plane's AWS_IAM methods proves who is calling; the caller's own
identity policies decide each action, exactly as IAM decides for AWS's APIs.
"""

from __future__ import annotations

import ipaddress
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import orjson

from authgate.admin import iam as iam_operations
from authgate.admin.apigateway import UsageServices, handle_apigateway
from authgate.admin.apigateway import owns as owns_usage_path
from authgate.admin.cognito_idp import Refused, handle_cognito
from authgate.admin.context import AdminContext, OperationTable
from authgate.admin.invoke_simulation import InvokeQuestion, SimulationError, simulate_invoke
from authgate.admin.query_api import handle_query
from authgate.admin.simulate import caller_for_arn, simulate_operation
from authgate.authorizers.base import Principal
from authgate.authorizers.sigv4 import SigV4Authenticator, iam_principal
from authgate.clock import Clock
from authgate.gateway.decisions import DecisionLog
from authgate.gateway.routing import Router
from authgate.http1.message import Request, Response
from authgate.iam import errors as iam_errors
from authgate.iam import sigv4
from authgate.iam.model import Caller
from authgate.iam.service import IamService
from authgate.iam.sts import StsService
from authgate.identity.provider import UserPoolServices
from authgate.policy import ContextKeys, RequestContext, evaluate_policies
from authgate.usage import errors as usage_errors

QUERY_SERVICES = frozenset({"iam", "sts"})
AUTHGATE_PREFIX = "/_authgate/"
"""authgate's own management endpoints (an extension; signed for service `apigateway`)."""


def _iam_error(error: sigv4.SigV4Error) -> iam_errors.IamError:
    """The IAM/STS error AWS's query APIs answer for a signature failure."""
    if isinstance(error, sigv4.ExpiredToken):
        return iam_errors.ExpiredToken()
    if isinstance(error, sigv4.UnrecognizedClient):
        return iam_errors.InvalidClientTokenId()
    if isinstance(error, sigv4.IncompleteSignature):
        return iam_errors.IncompleteSignature(error.message)
    if isinstance(error, sigv4.MissingAuthenticationToken):
        return iam_errors.MissingAuthenticationToken(error.message)
    return iam_errors.SignatureDoesNotMatch(error.message)


@dataclass(slots=True)
class _Call:
    """The principal found while authenticating one call, for authorizing its action."""

    principal: Principal | None = None
    source_ip: str = ""


class ManagementPlane:
    def __init__(
        self,
        authenticator: SigV4Authenticator,
        iam: IamService,
        sts: StsService,
        decisions: DecisionLog,
        clock: Clock,
        *,
        account_id: str,
        region: str,
        routes: Callable[[], Router] | None = None,
        endpoints: Mapping[str, str] | None = None,
        usage: UsageServices | None = None,
        user_pools: UserPoolServices | None = None,
    ) -> None:
        """`routes`: the data plane's live routes, for simulations; `endpoints`: the VPC id of
        each VPC-endpoint listener, by endpoint id."""
        self._authenticator = authenticator
        self._iam = iam
        self._sts = sts
        self._decisions = decisions
        self._clock = clock
        self._account = account_id
        self._region = region
        self._routes = routes
        self._endpoints: Mapping[str, str] = endpoints or {}
        self._usage = usage
        self._user_pools = user_pools
        self._iam_operations: OperationTable = {
            **iam_operations.OPERATIONS,
            "SimulatePrincipalPolicy": simulate_operation,
        }

    async def __call__(self, request: Request, service: str) -> Response:
        if service in QUERY_SERVICES:
            return await self._query(request, service)
        if service == "apigateway" and request.path.startswith(AUTHGATE_PREFIX):
            return await self._authgate(request)
        if service == "apigateway" and self._usage is not None and owns_usage_path(request.path):
            return await self._apigateway(request, self._usage)
        return _json_error(400, "UnknownOperationException", f"no management API for {service}")

    async def _query(self, request: Request, service: str) -> Response:
        call = _Call(source_ip=request.client[0])

        async def context(request: Request, body: bytes, request_id: str) -> AdminContext:
            try:
                principal = await self._authenticator.authenticate(request, service, body)
            except sigv4.SigV4Error as error:
                raise _iam_error(error) from None
            call.principal = principal
            resolved = await self._iam.resolve(str(principal.identity.get("accessKey")))
            if resolved is None:  # deleted between the two reads: fail closed
                raise iam_errors.InvalidClientTokenId()
            return AdminContext(
                resolved.caller, request_id, self._account, self._iam, self._sts, resolved
            )

        async def authorize(caller: object, action: str, resource: str) -> bool:
            return self.allowed(call.principal, action, resource, call.source_ip)

        table = self._iam_operations if service == "iam" else None
        return await handle_query(context, request, service, authorize=authorize, operations=table)

    async def _apigateway(self, request: Request, usage: UsageServices) -> Response:
        """API keys and usage plans (`/apikeys`, `/usageplans`), as boto3 `apigateway` sends."""
        call = _Call(source_ip=request.client[0])

        async def authenticate(request: Request, body: bytes) -> Caller:
            try:
                principal = await self._authenticator.authenticate(request, "apigateway", body)
            except sigv4.SigV4Error as error:
                raise usage_errors.Forbidden(error.message, error.error_type) from None
            call.principal = principal
            return await caller_for_arn(self._iam, principal.subject)

        async def authorize(caller: Caller, action: str, resource: str) -> bool:
            return self.allowed(call.principal, action, resource, call.source_ip)

        return await handle_apigateway(
            request,
            authenticate=authenticate,
            authorize=authorize,
            services=usage,
            region=self._region,
        )

    async def cognito_idp(self, request: Request) -> Response:
        """The cognito-idp API: signed operations are verified and authorized here, as every
        other management call is (service `cognito-idp`, action `cognito-idp:<Operation>`)."""
        body = await request.body.read()
        if self._user_pools is None:
            return _json_error(400, "UnknownOperationException", "no user pools here")

        async def check(action: str, resource: str) -> None:
            try:
                principal = await self._authenticator.authenticate(request, "cognito-idp", body)
            except sigv4.SigV4Error as error:
                raise Refused(error.error_type, error.message) from None
            if not self.allowed(principal, action, resource, request.client[0]):
                raise Refused(
                    "AccessDeniedException",
                    f"User: {principal.subject} is not authorized to perform: {action} "
                    f"on resource: {resource}",
                )

        return await handle_cognito(request, body, self._user_pools, check)

    def allowed(
        self, principal: Principal | None, action: str, resource: str, source_ip: str
    ) -> bool:
        """The caller's identity policies (and any session policy) must allow the action."""
        if principal is None:
            return False
        now = self._clock.now()
        keys = ContextKeys.of_strings(
            {
                "aws:SourceIp": source_ip,
                "aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                "aws:EpochTime": str(int(now)),
                "aws:SecureTransport": "false",
            }
        )
        request = RequestContext(
            action, resource, principal.policy_principal, keys | principal.context_keys
        )
        if not evaluate_policies(request, principal.policies).allowed:
            return False
        session = principal.session_policy
        return session is None or evaluate_policies(request, (session,)).allowed

    async def _authgate(self, request: Request) -> Response:
        """authgate's own endpoints, authorized as `apigateway:VERB` on
        `arn:aws:apigateway:REGION::/authgate/...`:

        - `GET /_authgate/requests/{id}`: the decision trail of a recent request;
        - `POST /_authgate/simulate`: what the data plane would answer a request.
        """
        body = await request.body.read()
        try:
            principal = await self._authenticator.authenticate(request, "apigateway", body)
        except sigv4.SigV4Error as error:
            return _json_error(403, error.error_type, error.message)
        path = request.path[len(AUTHGATE_PREFIX) :]
        parts = path.split("/")
        trail = request.method == "GET" and len(parts) == 2 and parts[0] == "requests"
        simulate = request.method == "POST" and path == "simulate"
        if not (trail or simulate):
            return _json_error(404, "NotFoundException", "Invalid resource path")
        resource = f"arn:aws:apigateway:{self._region}::/authgate/{path}"
        action = f"apigateway:{request.method}"
        if not self.allowed(principal, action, resource, request.client[0]):
            return _json_error(
                403,
                "AccessDeniedException",
                f"User: {principal.subject} is not authorized to perform: {action} "
                f"on resource: {resource}",
            )
        if simulate:
            return await self._simulate(request, body)
        return self._request_trail(parts[1])

    def _request_trail(self, request_id: str) -> Response:
        record = self._decisions.find(request_id)
        if record is None:
            return _json_error(
                404, "NotFoundException", "No recent request has that id (kept: the last 10000)"
            )
        return Response(200, [("content-type", "application/json")], orjson.dumps(record))

    async def _simulate(self, request: Request, body: bytes) -> Response:
        if self._routes is None:
            return _json_error(404, "NotFoundException", "No data plane to simulate")
        try:
            question, principal_arn = self._question(request, body)
            principal = None
            if principal_arn != "anonymous":
                caller = await caller_for_arn(self._iam, principal_arn)
                principal = iam_principal(caller, await self._iam.identity_policies(caller))
            record = await simulate_invoke(self._routes(), question, principal)
        except iam_errors.NoSuchEntity as error:
            return _json_error(404, "NotFoundException", error.message)
        except (iam_errors.InvalidInput, SimulationError) as error:
            return _json_error(400, "BadRequestException", str(error))
        return Response(200, [("content-type", "application/json")], orjson.dumps(record))

    def _question(self, request: Request, body: bytes) -> tuple[InvokeQuestion, str]:
        """The simulate request's JSON body; InvalidInput names what is wrong."""
        try:
            fields = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise iam_errors.InvalidInput("the body must be a JSON object") from None
        if not isinstance(fields, dict):
            raise iam_errors.InvalidInput("the body must be a JSON object")
        required = ("principal", "api", "stage", "method", "path")
        missing = [name for name in required if not isinstance(fields.get(name), str)]
        wrong = [name for name in ("sourceIp", "vpce") if not isinstance(fields.get(name, ""), str)]
        if missing or wrong:
            raise iam_errors.InvalidInput(f"missing or not a string: {', '.join(missing + wrong)}")
        source_ip = fields.get("sourceIp") or request.client[0]
        try:
            ipaddress.ip_address(source_ip)
        except ValueError:
            raise iam_errors.InvalidInput(f"sourceIp is not an IP address: {source_ip}") from None
        endpoint = None
        vpce = fields.get("vpce")
        if vpce:
            vpc = self._endpoints.get(vpce)
            if vpc is None:
                known = ", ".join(sorted(self._endpoints)) or "none"
                raise iam_errors.InvalidInput(
                    f"no VPC-endpoint listener has the id {vpce} (known: {known})"
                )
            endpoint = (vpc, vpce)
        question = InvokeQuestion(
            api_id=fields["api"],
            stage=fields["stage"],
            method=fields["method"].upper(),
            path=fields["path"],
            source_ip=source_ip,
            endpoint=endpoint,
            received_at=self._clock.now(),
        )
        return question, fields["principal"]


def _json_error(status: int, error_type: str, message: str) -> Response:
    headers = [
        ("content-type", "application/json"),
        ("x-amzn-ErrorType", error_type),
        ("x-amzn-RequestId", str(uuid.uuid4())),
    ]
    return Response(status, headers, orjson.dumps({"message": message}))
