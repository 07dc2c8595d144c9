"""A REST API handler written with aws-lambda-powertools, exactly as it would run on AWS."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

app = APIGatewayRestResolver()


@app.get("/items/<item_id>")
def get_item(item_id: str) -> dict[str, object]:
    event = app.current_event
    return {
        "id": item_id,
        "q": event.get_query_string_value("q"),
        "header": event.headers.get("X-Test"),
        "path": event.path,
        "resource": event.resource,
        "stage": event.request_context.stage,
        "sourceIp": event.request_context.identity.source_ip,
    }


@app.post("/items")
def create_item() -> Response[dict[str, object]]:
    return Response(201, "application/json", {"created": app.current_event.json_body})


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    return app.resolve(event, context)
