"""Answers with what the route's authorizer told API Gateway about the caller."""

import json


def handler(event, context):
    authorizer = event["requestContext"].get("authorizer") or {}
    return {"statusCode": 200, "body": json.dumps(authorizer)}
