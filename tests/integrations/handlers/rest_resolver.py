"""A REST API function written with aws-lambda-powertools, as it would be deployed to Lambda."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

app = APIGatewayRestResolver()
logger = Logger(service="items")


@app.get("/items/<item_id>")
def get_item(item_id: str) -> dict[str, Any]:
    event = app.current_event
    return {
        "id": item_id,
        "q": event.get_query_string_value("q"),
        "tags": event.get_multi_value_query_string_values("tag"),
        "key": event.headers.get("x-api-key"),
        "path": event.path,
        "resource": event.resource,
        "stage": event.request_context.stage,
        "sourceIp": event.request_context.identity.source_ip,
        "proxy": event.path_parameters.get("proxy"),
        "env": event.stage_variables.get("env"),
    }


@app.post("/items")
def create_item() -> Response[dict[str, Any]]:
    return Response(201, "application/json", {"created": app.current_event.json_body})


@app.delete("/items/<item_id>")
def delete_item(item_id: str) -> Response[str]:
    return Response(204, "text/plain", "")


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
