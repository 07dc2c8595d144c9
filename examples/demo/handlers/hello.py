"""The demo's hello handler: plain AWS Lambda code, unchanged."""

import json


def handler(event, context):
    params = event.get("queryStringParameters") or {}
    greeting = (event.get("stageVariables") or {}).get("greeting", "Hello")
    body = {
        "message": f"{greeting}, {params.get('name', 'world')}!",
        "stage": event["requestContext"]["stage"],
        "function": context.function_name,
    }
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
