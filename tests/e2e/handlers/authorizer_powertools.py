"""Lambda authorizers written with aws-lambda-powertools, exactly as they would run on AWS."""

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerEventV2,
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
    APIGatewayAuthorizerResponseV2,
    APIGatewayAuthorizerTokenEvent,
    HttpVerb,
)

TENANT_CONTEXT = {"tenant": "acme", "level": 3, "admin": True}


@event_source(data_class=APIGatewayAuthorizerTokenEvent)
def token_handler(event: APIGatewayAuthorizerTokenEvent, context: object) -> dict[str, object]:
    """`Bearer allow` may call anything, `Bearer reader` only GET /pets/..., others nothing."""
    arn = event.parsed_arn
    token = event.authorization_token
    policy = APIGatewayAuthorizerResponse(
        principal_id=f"user-{token.rsplit(' ', 1)[-1]}",
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context=TENANT_CONTEXT,
        usage_identifier_key="planKeyValue0123456789abcdef" if token == "Bearer metered" else None,
    )
    if token in ("Bearer allow", "Bearer metered"):
        policy.allow_all_routes()
    elif token == "Bearer reader":
        policy.allow_route(HttpVerb.GET.value, "/pets/*")
    else:
        policy.deny_all_routes()
    return policy.asdict()


@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def request_handler(event: APIGatewayAuthorizerRequestEvent, context: object) -> dict[str, object]:
    """Allows the caller whose `X-Tenant` header and `key` query value agree."""
    tenant = event.headers.get("X-Tenant", "")
    key = event.query_string_parameters.get("key", "")
    policy = APIGatewayAuthorizerResponse.from_route_arn(
        event.method_arn,
        principal_id=f"tenant-{tenant}",
        context={"tenant": tenant, "path": event.path, "resource": event.resource},
    )
    if tenant and key == f"{tenant}-key":
        policy.allow_all_routes()
    else:
        policy.deny_all_routes()
    return policy.asdict()


@event_source(data_class=APIGatewayAuthorizerEventV2)
def simple_handler(event: APIGatewayAuthorizerEventV2, context: object) -> dict[str, object]:
    """HTTP API simple response: authorized when the first identity source says `open`."""
    token = event.identity_source[0] if event.identity_source else ""
    response = APIGatewayAuthorizerResponseV2(
        authorize=token == "open",
        context={"route": event.route_key, "source": event.identity_source, "n": 7},
    )
    return response.asdict()
