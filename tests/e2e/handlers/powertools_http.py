"""An HTTP API (payload 2.0) handler written with aws-lambda-powertools."""

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

app = APIGatewayHttpResolver()


@app.get("/pets/<pet_id>")
def get_pet(pet_id: str) -> dict[str, object]:
    event = app.current_event
    return {
        "id": pet_id,
        "routeKey": event.route_key,
        "rawPath": event.raw_path,
        "cookies": event.cookies,
        "q": event.get_query_string_value("q"),
        "method": event.request_context.http.method,
    }


def handler(event: dict[str, object], context: object) -> dict[str, object]:
    return app.resolve(event, context)
