"""An HTTP API (payload 2.0) function written with aws-lambda-powertools."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.shared.cookies import Cookie

app = APIGatewayHttpResolver()
logger = Logger(service="orders")


@app.get("/orders/<order_id>")
def get_order(order_id: str) -> dict[str, Any]:
    event = app.current_event
    return {
        "id": order_id,
        "q": event.get_query_string_value("q"),
        "agent": event.headers.get("user-agent"),
        "cookies": event.cookies,
        "rawPath": event.raw_path,
        "method": event.request_context.http.method,
        "routeKey": event.route_key,
    }


@app.post("/orders")
def create_order() -> Response[dict[str, Any]]:
    cookie = Cookie(name="session", value="abc", path="/")
    return Response(
        201, "application/json", {"echo": app.current_event.json_body}, cookies=[cookie]
    )


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)


async def async_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
