"""The demo's hello handler: plain AWS Lambda code, unchanged."""

import json


def handler(event, context):
    params = event.get("queryStringParameters") or {}
    name = params.get("name", "world")
    greeting = (event.get("stageVariables") or {}).get("greeting", "Hello")
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(
            {
                "message": f"{greeting}, {name}!",
                "path": event["path"],
                "requestId": event["requestContext"]["requestId"],
                "function": context.function_name,
            }
        ),
    }
