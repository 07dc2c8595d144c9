"""An IAM-protected handler: API Gateway tells it who signed the request."""

import json


def handler(event, context):
    identity = event["requestContext"]["identity"]
    body = {"caller": identity["userArn"], "accessKey": identity["accessKey"]}
    return {"statusCode": 200, "body": json.dumps(body)}
